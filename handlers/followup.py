"""The resident's side after the agency acted: solved or not, a rating, more details.

Contract: the resident dialogue hands an event to ``FollowUp.handle`` when its payload
starts with one of ``PAYLOAD_PREFIXES`` or the resident's dialogue state is one of
``STATES``. It returns None when it has nothing to do with the event (then the dialogue
handles it; a command in one of these states also leaves the state for ``idle``).

Payloads: ``fb:<appeal id>:yes|no``, ``rate:<appeal id>:<1..5>``, ``add:<appeal id>``,
``ct:<appeal id>`` (contest a rejection, once; see :mod:`handlers.contest`).
The appeal being followed up is kept in ``Dialogue.data["followup_appeal_id"]``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import contest
from handlers.context import Context
from handlers.deadlines import start_answer_clock
from handlers.desk_ops import Actor, feedback_buttons, post_to_thread, record, refresh_cards
from handlers.events import Event, MediaKind, Reply, Response
from handlers.workflow import ADDABLE, AWAITING_FEEDBACK, CONTESTABLE, RATEABLE
from storage import desk as q
from storage.appeals import add_attachments
from storage.models import Appeal, AppealStatus, Dialogue, Resident

IDLE = "idle"
REOPEN_COMMENT = "reopen_comment"
CONTEST_COMMENT = "contest_comment"
ADD_DETAILS = "add_details"
_APPEAL_KEY = "followup_appeal_id"
_GROUP_KEY = "followup_media_group"


class FollowUp:
    PAYLOAD_PREFIXES: tuple[str, ...] = ("fb:", "rate:", "add:", "ct:")
    STATES: frozenset[str] = frozenset({REOPEN_COMMENT, ADD_DETAILS, CONTEST_COMMENT})

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def handle(
        self, session: AsyncSession, event: Event, resident: Resident, dialogue: Dialogue
    ) -> Response | None:
        if event.payload is not None:
            if not event.payload.startswith(self.PAYLOAD_PREFIXES):
                return None
            return await self._button(session, event, resident, dialogue)
        if dialogue.state not in self.STATES:
            return None
        if event.command is not None:
            _leave(dialogue)
            return None
        appeal = await self._own_appeal(session, resident, dialogue.data.get(_APPEAL_KEY))
        if appeal is None:
            _leave(dialogue)
            return None
        if dialogue.state == REOPEN_COMMENT:
            return await self._reopen(session, event, resident, dialogue, appeal)
        if dialogue.state == CONTEST_COMMENT:
            return await self._contest(session, event, dialogue, appeal)
        return await self._add_details(session, event, resident, dialogue, appeal)

    # -- buttons -------------------------------------------------------------------------

    async def _button(
        self, session: AsyncSession, event: Event, resident: Resident, dialogue: Dialogue
    ) -> Response:
        texts = self.ctx.texts
        parts = (event.payload or "").split(":")
        bad = Response(toast=texts("followup-bad-button"))
        if len(parts) < 2 or not parts[1].isdigit() or len(parts[1]) > 12:
            return bad
        appeal = await q.appeal_for_update(session, int(parts[1]))
        if appeal is None:
            return bad
        if appeal.resident_id != resident.id:
            return Response(toast=texts("followup-not-yours"), alert=True)
        kind, rest = parts[0], parts[2:]
        if kind == "fb" and rest in (["yes"], ["no"]):
            if appeal.status not in AWAITING_FEEDBACK:
                return self._not_now(appeal)
            if rest == ["yes"]:
                return await self._close(session, event, resident, appeal)
            _enter(dialogue, REOPEN_COMMENT, appeal)
            return Response([Reply(texts("followup-ask-comment", number=appeal.number))])
        if kind == "rate" and len(rest) == 1 and rest[0] in {"1", "2", "3", "4", "5"}:
            return await self._rate(session, event, resident, appeal, int(rest[0]))
        if kind == "ct" and not rest:
            if appeal.status not in CONTESTABLE:
                return self._not_now(appeal)
            if appeal.contested_at is not None:
                return Response(toast=texts("followup-contested-once", number=appeal.number), alert=True)
            _enter(dialogue, CONTEST_COMMENT, appeal)
            return Response([Reply(texts("followup-ask-contest", number=appeal.number))])
        if kind == "add" and not rest:
            if appeal.status not in ADDABLE:
                return self._not_now(appeal)
            _enter(dialogue, ADD_DETAILS, appeal)
            return Response([Reply(texts("followup-ask-details", number=appeal.number))])
        return bad

    def _not_now(self, appeal: Appeal) -> Response:
        status = self.ctx.texts(f"status-{appeal.status}")
        return Response(
            toast=self.ctx.texts("followup-not-now", number=appeal.number, status=status), alert=True
        )

    async def _close(
        self, session: AsyncSession, event: Event, resident: Resident, appeal: Appeal
    ) -> Response:
        texts = self.ctx.texts
        await record(
            self.ctx,
            session,
            appeal,
            "closed",
            Actor.of("resident", event),
            to_status=AppealStatus.CLOSED.value,
        )
        appeal.closed_at = self.ctx.clock.now()
        await refresh_cards(self.ctx, session, appeal)
        replies = [Reply(texts("followup-closed", number=appeal.number))]
        if appeal.rating is None:
            replies.append(
                Reply(
                    texts("followup-ask-rate", number=appeal.number),
                    buttons=feedback_buttons(self.ctx, appeal, ask_solved=False),
                )
            )
        return Response(replies)

    async def _rate(
        self, session: AsyncSession, event: Event, resident: Resident, appeal: Appeal, rating: int
    ) -> Response:
        texts = self.ctx.texts
        if appeal.status not in RATEABLE:
            return Response(toast=texts("followup-cannot-rate"), alert=True)
        if appeal.rating is not None:
            return Response(toast=texts("followup-already-rated", number=appeal.number))
        appeal.rating = rating
        await record(self.ctx, session, appeal, "rating", Actor.of("resident", event), text=str(rating))
        thanks = texts("followup-rated", rating=str(rating))
        return Response([Reply(thanks)], toast=thanks)

    # -- states --------------------------------------------------------------------------

    async def _own_appeal(self, session: AsyncSession, resident: Resident, appeal_id: Any) -> Appeal | None:
        if not isinstance(appeal_id, int):
            return None
        appeal = await q.appeal_for_update(session, appeal_id)
        if appeal is None or appeal.resident_id != resident.id:
            return None
        return appeal

    async def _reopen(
        self, session: AsyncSession, event: Event, resident: Resident, dialogue: Dialogue, appeal: Appeal
    ) -> Response:
        texts = self.ctx.texts
        if appeal.status not in AWAITING_FEEDBACK:
            _leave(dialogue)
            return self._not_now(appeal)
        comment = (event.text or "").strip()
        if not comment:
            return Response([Reply(texts("followup-comment-empty"))])
        appeal.reopen_count += 1
        appeal.solved_at = None
        start_answer_clock(self.ctx, appeal, self.ctx.clock.now())
        await record(
            self.ctx,
            session,
            appeal,
            "reopened",
            Actor.of("resident", event),
            to_status=AppealStatus.PASSED.value,
            text=comment,
        )
        notice = Reply(texts("desk-staff-reopened", number=appeal.number, comment=comment))
        await post_to_thread(self.ctx, session, appeal, notice, purpose="reopen")
        await refresh_cards(self.ctx, session, appeal)
        _leave(dialogue)
        return Response([Reply(texts("followup-reopened", number=appeal.number))])

    async def _contest(
        self, session: AsyncSession, event: Event, dialogue: Dialogue, appeal: Appeal
    ) -> Response:
        texts = self.ctx.texts
        if appeal.status not in CONTESTABLE or appeal.contested_at is not None:
            _leave(dialogue)
            return self._not_now(appeal)
        comment = (event.text or "").strip()
        if not comment:
            return Response([Reply(texts("followup-comment-empty"))])
        await contest.submit(self.ctx, session, appeal, Actor.of("resident", event), comment)
        _leave(dialogue)
        return Response([Reply(texts("followup-contest-sent", number=appeal.number))])

    async def _add_details(
        self, session: AsyncSession, event: Event, resident: Resident, dialogue: Dialogue, appeal: Appeal
    ) -> Response | None:
        texts = self.ctx.texts
        group = dialogue.data.get(_GROUP_KEY)
        if group is not None and event.media_group_id != group:
            # The album that carried the details is over: this event is the dialogue's.
            _leave(dialogue)
            return None
        if appeal.status not in ADDABLE:
            _leave(dialogue)
            return self._not_now(appeal)
        text = (event.text or "").strip()
        photos = tuple(m for m in event.media if m.kind is MediaKind.PHOTO)
        if not text and not photos:
            return Response([Reply(texts("followup-details-empty"))])
        add_attachments(session, appeal.id, photos, source="resident", now=self.ctx.clock.now())
        notice = Reply(texts("desk-staff-details", number=appeal.number, text=text), photos=photos)
        await post_to_thread(self.ctx, session, appeal, notice, purpose="details")
        await record(self.ctx, session, appeal, "details", Actor.of("resident", event), text=text or None)
        if group is not None:
            return Response()
        if event.media_group_id is not None:
            # More photos of the same album follow as separate events: they belong here too.
            dialogue.data = {**dialogue.data, _GROUP_KEY: event.media_group_id}
        else:
            _leave(dialogue)
        return Response([Reply(texts("followup-details-sent", number=appeal.number))])


def _enter(dialogue: Dialogue, state: str, appeal: Appeal) -> None:
    data = {k: v for k, v in dialogue.data.items() if k != _GROUP_KEY}
    dialogue.data = {**data, _APPEAL_KEY: appeal.id}
    dialogue.state = state


def _leave(dialogue: Dialogue) -> None:
    dialogue.data = {k: v for k, v in dialogue.data.items() if k not in (_APPEAL_KEY, _GROUP_KEY)}
    dialogue.state = IDLE
