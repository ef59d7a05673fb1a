"""After the agency acted: solved or not, a rating, more details, contesting a rejection.

The buttons come with the agency's answer (``fb:<appeal>:yes|no``, ``rate:<appeal>:<1..5>``,
built by :func:`handlers.desk_ops.feedback_buttons`), with a rejection (``ct:<appeal>``,
:mod:`handlers.contest`) or with the resident's own appeal in /my (``add:<appeal>``). They
name their appeal and are checked against its owner and status, so they mean the same from
every screen. «Нет», «Оспорить» and «Дополнить» lead to the three steps below. A resident
who joined someone else's appeal may rate its answer (their own rating) and leave it
(``uf:<appeal>``, from /my); everything else on it stays the author's.
"""

from __future__ import annotations

from handlers import card, contest, followers
from handlers.deadlines import start_answer_clock
from handlers.desk_ops import Actor, feedback_buttons, post_to_thread, record, refresh_cards
from handlers.dialogue.step import Input, Step, Turn, split
from handlers.events import MediaKind, Reply
from handlers.workflow import ADDABLE, AWAITING_FEEDBACK, CONTESTABLE, RATEABLE, AppealStatus
from storage import desk as q
from storage import followers as follower_store
from storage.appeals import add_attachments
from storage.models import Appeal

ACTIONS = frozenset({"fb", "rate", "add", "ct", "uf"})


def _not_now(turn: Turn, appeal: Appeal) -> None:
    status = turn.t(f"status-{appeal.status}")
    turn.toast, turn.alert = turn.t("followup-not-now", number=appeal.number, status=status), True


def _enter(turn: Turn, step: str, appeal: Appeal) -> None:
    if turn.engine.step(turn).in_draft:
        turn.memory.resume = turn.state  # the draft waits; /new offers it again
    turn.memory.appeal_id, turn.memory.appeal_number, turn.memory.media_group = appeal.id, appeal.number, None
    turn.go(step)
    turn.ask()


async def on_button(turn: Turn, payload: str) -> None:
    t = turn.t
    action, arg, _ = split(payload)
    appeal_id, _, answer = arg.partition(":")
    appeal = None
    if appeal_id.isdigit() and len(appeal_id) <= 12:
        appeal = await q.appeal_for_update(turn.session, int(appeal_id))
    if appeal is None:
        turn.toast = t("followup-bad-button")
    elif action == "uf" and not answer:
        await _leave_follow(turn, appeal)
    elif appeal.resident_id != turn.resident.id:
        if action == "rate" and answer in ("1", "2", "3", "4", "5"):
            await _rate_as_follower(turn, appeal, int(answer))
        else:
            turn.toast, turn.alert = t("followup-not-yours"), True
    elif action == "fb" and answer in ("yes", "no"):
        if appeal.status not in AWAITING_FEEDBACK:
            _not_now(turn, appeal)
        elif answer == "yes":
            await _close(turn, appeal)
        else:
            _enter(turn, ReopenComment.name, appeal)
    elif action == "rate" and answer in ("1", "2", "3", "4", "5"):
        await _rate(turn, appeal, int(answer))
    elif action == "ct" and not answer:
        if appeal.status not in CONTESTABLE:
            _not_now(turn, appeal)
        elif appeal.contested_at is not None:
            turn.toast, turn.alert = t("followup-contested-once", number=appeal.number), True
        else:
            _enter(turn, ContestComment.name, appeal)
    elif action == "add" and not answer:
        if appeal.status not in ADDABLE:
            _not_now(turn, appeal)
        else:
            _enter(turn, AddDetails.name, appeal)
    else:
        turn.toast = t("followup-bad-button")


async def _close(turn: Turn, appeal: Appeal) -> None:
    ctx, t = turn.ctx, turn.t
    actor = Actor.of("resident", turn.event)
    await record(ctx, turn.session, appeal, "closed", actor, to_status=AppealStatus.CLOSED.value)
    appeal.closed_at = ctx.clock.now()
    await refresh_cards(ctx, turn.session, appeal)
    turn.say(Reply(t("followup-closed", number=appeal.number)))
    if appeal.rating is None:
        buttons = feedback_buttons(ctx, appeal, ask_solved=False)
        turn.say(Reply(t("followup-ask-rate", number=appeal.number), buttons=buttons))


async def _rate(turn: Turn, appeal: Appeal, rating: int) -> None:
    t = turn.t
    if appeal.status not in RATEABLE:
        turn.toast, turn.alert = t("followup-cannot-rate"), True
    elif appeal.rating is not None:
        turn.toast = t("followup-already-rated", number=appeal.number)
    else:
        appeal.rating = rating
        await record(
            turn.ctx, turn.session, appeal, "rating", Actor.of("resident", turn.event), text=str(rating)
        )
        turn.toast = t("followup-rated", rating=str(rating))
        turn.say(Reply(turn.toast))


async def _rate_as_follower(turn: Turn, appeal: Appeal, rating: int) -> None:
    """A resident who joined the appeal rates its answer: their own rating, once."""
    t = turn.t
    if not await follower_store.is_following(turn.session, appeal.id, turn.resident.id):
        turn.toast, turn.alert = t("followup-not-yours"), True
    elif appeal.status not in RATEABLE:
        turn.toast, turn.alert = t("followup-cannot-rate"), True
    elif not await follower_store.rate(turn.session, appeal.id, turn.resident.id, rating):
        turn.toast = t("followup-already-rated", number=appeal.number)
    else:
        turn.toast = t("follower-rated", rating=str(rating))
        turn.say(Reply(turn.toast))


async def _leave_follow(turn: Turn, appeal: Appeal) -> None:
    """«Не следить» in /my: the resident no longer hears about an appeal they joined."""
    if await followers.leave(turn.ctx, turn.session, appeal, turn.resident):
        turn.say(Reply(turn.t("follower-left", number=appeal.number)))
    else:
        turn.toast = turn.t("follower-not-following")


class _FollowUp(Step):
    """A step about one of the resident's appeals, in the statuses ``open_in``."""

    accepts = Input.TEXT | Input.MEDIA | Input.LOCATION | Input.CONTACT
    leave_on_command = True
    question: str
    open_in: frozenset[str]

    def ask(self, turn: Turn) -> Reply:
        return Reply(turn.t(self.question, number=turn.memory.appeal_number or ""))

    def still_open(self, appeal: Appeal) -> bool:
        return appeal.status in self.open_in

    async def on_input(self, turn: Turn) -> bool:
        """The appeal while it is still the resident's (else the step is left and the event
        goes to the idle step) and still open to this step (else the step is left, saying so)."""
        appeal = None
        if turn.memory.appeal_id is not None:
            appeal = await q.appeal_for_update(turn.session, turn.memory.appeal_id)
        if appeal is None or appeal.resident_id != turn.resident.id:
            leave(turn)
            return False
        if not self.still_open(appeal):
            leave(turn)
            _not_now(turn, appeal)
            return True
        return await self.on_appeal(turn, appeal)

    async def on_appeal(self, turn: Turn, appeal: Appeal) -> bool:
        raise NotImplementedError


class _Comment(_FollowUp):
    """A follow-up that takes the resident's comment in words."""

    async def on_appeal(self, turn: Turn, appeal: Appeal) -> bool:
        comment = (turn.event.text or "").strip()
        if not comment:
            turn.say(Reply(turn.t("followup-comment-empty")))
            return True
        done = await self.on_comment(turn, appeal, comment)
        leave(turn)
        turn.say(Reply(done))
        return True

    async def on_comment(self, turn: Turn, appeal: Appeal, comment: str) -> str:
        """Act on ``comment``; what the resident is told then."""
        raise NotImplementedError


def leave(turn: Turn) -> None:
    turn.memory.appeal_id = turn.memory.appeal_number = turn.memory.media_group = None
    turn.go("idle")


class ReopenComment(_Comment):
    """«Нет, не решена»: why, in the resident's words; the appeal goes back to the agency."""

    name = "reopen_comment"
    exits = (("idle", "a comment (the appeal goes back to the agency)"),)
    question = "followup-ask-comment"
    open_in = AWAITING_FEEDBACK

    async def on_comment(self, turn: Turn, appeal: Appeal, comment: str) -> str:
        ctx = turn.ctx
        appeal.reopen_count += 1
        appeal.solved_at = None
        start_answer_clock(ctx, appeal, ctx.clock.now())
        actor = Actor.of("resident", turn.event)
        await record(
            ctx, turn.session, appeal, "reopened", actor, to_status=AppealStatus.PASSED.value, text=comment
        )
        notice = Reply(turn.t("desk-staff-reopened", number=appeal.number, comment=comment))
        await post_to_thread(ctx, turn.session, appeal, notice, purpose="reopen", role=card.WORDS_ROLE)
        await refresh_cards(ctx, turn.session, appeal)
        return turn.t("followup-reopened", number=appeal.number)


class ContestComment(_Comment):
    """«Оспорить» under a rejection: why, in the resident's words; the admin chats decide."""

    name = "contest_comment"
    question = "followup-ask-contest"
    exits = (("idle", "an objection (sent to the admin chats)"),)
    open_in = CONTESTABLE

    def still_open(self, appeal: Appeal) -> bool:
        return super().still_open(appeal) and appeal.contested_at is None  # once only

    async def on_comment(self, turn: Turn, appeal: Appeal, comment: str) -> str:
        await contest.submit(turn.ctx, turn.session, appeal, Actor.of("resident", turn.event), comment)
        return turn.t("followup-contest-sent", number=appeal.number)


class AddDetails(_FollowUp):
    """«Дополнить»: text and photos for an open appeal, posted to the agency's thread."""

    name = "add_details"
    exits = (("idle", "text or photos, posted to the agency's chat"),)
    question = "followup-ask-details"
    open_in = ADDABLE

    async def on_input(self, turn: Turn) -> bool:
        group = turn.memory.media_group
        if group is not None and turn.event.media_group_id != group:
            leave(turn)  # the album that carried the details is over: this event is the dialogue's
            return False
        return await super().on_input(turn)

    async def on_appeal(self, turn: Turn, appeal: Appeal) -> bool:
        event, memory, ctx, t = turn.event, turn.memory, turn.ctx, turn.t
        group = memory.media_group
        text = (event.text or "").strip()
        photos = tuple(m for m in event.media if m.kind is MediaKind.PHOTO)
        if not text and not photos:
            turn.say(Reply(t("followup-details-empty")))
            return True
        add_attachments(turn.session, appeal.id, photos, source="resident", now=ctx.clock.now())
        notice = Reply(t("desk-staff-details", number=appeal.number, text=text), photos=photos)
        await post_to_thread(ctx, turn.session, appeal, notice, purpose="details", role=card.WORDS_ROLE)
        await record(ctx, turn.session, appeal, "details", Actor.of("resident", event), text=text or None)
        if group is not None:
            return True
        if event.media_group_id is not None:
            memory.media_group = event.media_group_id  # more photos of the album follow as separate events
        else:
            leave(turn)
        turn.say(Reply(t("followup-details-sent", number=appeal.number)))
        return True
