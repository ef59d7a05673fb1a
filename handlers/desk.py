"""The agency desk: staff act on appeals in their group chats.

Only an agency's own chats act on its appeals; the admin chats act on any. Replies route
by the stored message links (``MessageLink``), never by parsing text; a reply to a copy of a
card whose link was never recorded (the process stopped right after sending it) routes by the
card's own buttons, which name its appeal. Staff identities come from the event's sender.
Everything the bot must deliver goes through the outbox in the transaction of the change.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card, contest, merge, moderation, review, staff_tools
from handlers.answer_media import stranded
from handlers.context import Context
from handlers.deadlines import (
    extend_answer_clock,
    may_extend,
    start_answer_clock,
    start_first_clock,
    stop_answer_clock,
    stop_first_clock,
)
from handlers.desk_ops import (
    Actor,
    ask_feedback,
    may_act,
    post_cards,
    post_to_thread,
    queue,
    record,
    refresh_cards,
    resident_chat,
    tell_resident,
)
from handlers.events import BOT_ADDED, Button, ChatRef, Event, MediaKind, Reply, Response
from handlers.followers import tell_followers
from handlers.paging import paginate
from handlers.texts import Safe
from handlers.workflow import ADMIN_ONLY, OPEN_STATUSES, Action, AppealStatus, allowed
from storage import desk as q
from storage import followers as follower_store
from storage.appeals import add_attachments
from storage.kv import get_value, set_value
from storage.models import Appeal, parse_appeal_number

_ANSWER_ROLES = frozenset({"card", "thread", "prompt_answer"}) | card.PERSONAL_ROLES
_PROMPT_ROLES = frozenset({"prompt_extend", "prompt_solve", staff_tools.NOTE_ROLE})
_COMMENTED = frozenset(
    {
        "answer",
        "solved",
        "rejected",
        "reopened",
        "details",
        "extended",
        "contested",
        "declined",
        "topic_changed",
        "answer_review",
        "solution_review",
        "answer_returned",
        "note",
        "assigned",
    }
)
"""History entries whose text /appeal shows."""
_WITH_EXTRA = frozenset({Action.REDIRECT, Action.REJECT, Action.RETURN, Action.ASSIGN})
_REJECT_ROLE = "reject:"
"""The link role of a rejection's prompt, followed by the chosen reason's id."""
LINK_WAIT_SECONDS = 10.0
"""How long a reply waits for the link of a message still being delivered."""
_PAGE = "~"
"""Marks a page number where an agency id would be (ids never hold it): ``d:redir:12:~1``."""


class Desk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def handle(self, event: Event) -> Response:
        catalogue = self.ctx.catalogue
        known = catalogue.is_admin_chat(event.chat) or catalogue.agency_of_chat(event.chat) is not None
        added = event.payload == BOT_ADDED and event.callback_id is None
        if not known:
            return await self._unknown_chat(event, added=added)
        if added:
            return self._say("desk-help-admin" if catalogue.is_admin_chat(event.chat) else "desk-help")
        if event.payload is not None or event.command is not None or event.reply_to_message_id is not None:
            await staff_tools.remember(self.ctx, event)
        if event.payload is not None:
            if event.payload.startswith(f"{moderation.PREFIX}:"):
                return await moderation.ModerationDesk(self.ctx).button(event)
            if event.payload.startswith(f"{review.PREFIX}:"):
                return await review.ReviewDesk(self.ctx).button(event)
            if event.payload.startswith(f"{staff_tools.TEMPLATE_PREFIX}:"):
                return await self._template(event)
            return await self._button(event)
        if event.command is not None:
            return await self._command(event, *event.command)
        if event.reply_to_message_id is not None and not event.edited and event.reply_to_bot is not False:
            # A reply to a colleague is their conversation, not an answer to an appeal.
            return await self._reply(event)
        return Response()

    async def _unknown_chat(self, event: Event, *, added: bool) -> Response:
        """A chat the catalogue does not know is told so once, when the bot is added or first
        addressed there (the operator needs its id); after that the bot keeps quiet in it,
        through restarts too."""
        if event.payload is not None and not added:
            return Response(toast=self.ctx.texts("desk-refuse-bad-button"))
        if event.command is None and not added:
            return Response()
        key = f"desk:unknown-chat-told:{event.chat}"
        async with self.ctx.db.transaction() as session:
            if await get_value(session, key) is not None:
                return Response()
            await set_value(session, key, "1", now=self.ctx.clock.now())
        return self._say("desk-unknown-chat", chat=str(event.chat))

    def _say(self, key: str, **args: object) -> Response:
        return Response([Reply(self.ctx.texts(key, **args))])

    def _refuse_status(self, appeal: Appeal) -> str:
        status = self.ctx.texts(f"status-{appeal.status}")
        return self.ctx.texts("desk-refuse-transition", number=appeal.number, status=status)

    # -- buttons -------------------------------------------------------------------------

    async def _button(self, event: Event) -> Response:
        texts = self.ctx.texts
        parsed = _parse_payload(event.payload or "")
        if parsed is None:
            return Response(toast=texts("desk-refuse-bad-button"))
        action, appeal_id, extra = parsed
        async with self.ctx.db.transaction() as session:
            appeal = await q.appeal_for_update(session, appeal_id)
            if appeal is None:
                return Response(toast=texts("desk-refuse-unknown-appeal"))
            if not may_act(self.ctx, event.chat, appeal):
                return Response(toast=texts("desk-refuse-not-yours"), alert=True)
            if action in ADMIN_ONLY and not self.ctx.catalogue.is_admin_chat(event.chat):
                return Response(toast=texts("desk-refuse-admin-only"), alert=True)
            if not allowed(action, appeal.status):
                return Response(toast=self._refuse_status(appeal), alert=True)
            actor = Actor.of("staff", event)
            if action is Action.EXTEND:
                if not may_extend(appeal):
                    return Response(toast=texts("desk-refuse-extended", number=appeal.number), alert=True)
                return await self._prompt(session, event, appeal, "prompt_extend", "desk-prompt-extend")
            if action is Action.TAKE:
                return await self._take(session, appeal, actor)
            if action is Action.SOLVE:
                if appeal.status == AppealStatus.ANSWERED.value:
                    return await self._solve(session, appeal, actor)  # the answer sent is the solution
                return await self._prompt(session, event, appeal, "prompt_solve", "desk-prompt-solve")
            if action is Action.ANSWER:
                await staff_tools.offer_templates(self.ctx, session, event, appeal)
                return await self._prompt(session, event, appeal, "prompt_answer", "desk-prompt-answer")
            if action is Action.REJECT:
                return await self._reject_pressed(session, event, appeal, extra)
            if action is Action.ASSIGN:
                if extra is None or extra.startswith(_PAGE):
                    return await staff_tools.assign_choices(self.ctx, session, event, appeal, extra)
                return await staff_tools.assign(self.ctx, session, event, appeal, actor, extra)
            if action is Action.NOTE:
                return await self._prompt(session, event, appeal, staff_tools.NOTE_ROLE, "note-prompt")
            if action is Action.UPHOLD:
                return await contest.uphold(self.ctx, session, appeal, actor, event.message_id)
            if action is Action.RETURN:
                if extra is None:
                    return contest.return_choices(self.ctx, appeal, self.ctx.caps(event.chat.platform))
                return await contest.send_back(self.ctx, session, appeal, actor, extra, event.message_id)
            if extra is None or extra.startswith(_PAGE):
                return self._redirect_choices(event, appeal, extra)
            return await self._redirect(session, event, appeal, actor, extra)

    async def _take(self, session: AsyncSession, appeal: Appeal, actor: Actor) -> Response:
        texts = self.ctx.texts
        await record(self.ctx, session, appeal, "taken", actor, to_status=AppealStatus.IN_PROGRESS.value)
        stop_first_clock(self.ctx, appeal)
        agency = card.agency_name(self.ctx.catalogue, texts, appeal.agency_id)
        await tell_resident(
            self.ctx, session, appeal, Reply(texts("desk-notice-taken", number=appeal.number, agency=agency))
        )
        await tell_followers(self.ctx, session, appeal, "follower-notice-taken", agency=agency)
        await refresh_cards(self.ctx, session, appeal)
        return Response(toast=texts("desk-toast-take"))

    async def _solve(self, session: AsyncSession, appeal: Appeal, actor: Actor) -> Response:
        """«Решено» after an answer: that answer is the solution; the resident, already
        asked about it, hears that the agency considers it solved."""
        texts = self.ctx.texts
        await record(self.ctx, session, appeal, "solved", actor, to_status=AppealStatus.SOLVED.value)
        appeal.solved_at = self.ctx.clock.now()
        stop_answer_clock(self.ctx, appeal)
        await tell_resident(
            self.ctx, session, appeal, Reply(texts("desk-notice-solved", number=appeal.number))
        )
        await tell_followers(self.ctx, session, appeal, "follower-notice-solved")
        await refresh_cards(self.ctx, session, appeal)
        return Response(toast=texts("desk-toast-solve"))

    async def _reject_pressed(
        self, session: AsyncSession, event: Event, appeal: Appeal, reason_id: str | None
    ) -> Response:
        """«Отклонить»: first a reason from the catalogue's list, then a free text."""
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        if reason_id is None:
            rows = tuple(
                (Button(reason.title, payload=card.payload(Action.REJECT, appeal.id, reason.id)),)
                for reason in catalogue.reject_reasons
            )
            return Response([Reply(texts("desk-reject-choose", number=appeal.number), buttons=rows)])
        reason = catalogue.reject_reason(reason_id)
        if reason is None:
            return Response(toast=texts("desk-refuse-bad-button"))
        return await self._prompt(
            session, event, appeal, f"{_REJECT_ROLE}{reason.id}", "desk-prompt-reject", reason=reason.title
        )

    async def _prompt(
        self, session: AsyncSession, event: Event, appeal: Appeal, role: str, key: str, **args: str
    ) -> Response:
        text = self.ctx.texts(key, number=appeal.number, **args)
        prompt = Reply(text, force_reply=True, reply_to=event.message_id)
        await queue(
            self.ctx, session, event.chat, prompt, purpose="prompt", appeal_id=appeal.id, link_role=role
        )
        return Response(toast=self.ctx.texts("desk-toast-prompt"))

    async def _template(self, event: Event) -> Response:
        """A template picked under «Ответить»: sent as the answer, filled in."""
        texts = self.ctx.texts
        parsed = staff_tools.parse_template(self.ctx, event.payload or "")
        if parsed is None:
            return Response(toast=texts("desk-refuse-bad-button"))
        appeal_id, template = parsed
        async with self.ctx.db.transaction() as session:
            appeal = await q.appeal_for_update(session, appeal_id)
            if appeal is None:
                return Response(toast=texts("desk-refuse-unknown-appeal"))
            if not may_act(self.ctx, event.chat, appeal):
                return Response(toast=texts("desk-refuse-not-yours"), alert=True)
            if not allowed(Action.ANSWER, appeal.status):
                return Response(toast=self._refuse_status(appeal), alert=True)
            filled = template.fill(appeal.number, appeal.address or texts("find-no-address"))
            answer = replace(event, text=filled, payload=None, callback_id=None, media=())
            response = await self._answer(session, answer, appeal, Actor.of("staff", event))
            response.toast = texts("template-toast-sent")
            return response

    def _redirect_choices(self, event: Event, appeal: Appeal, page_marker: str | None) -> Response:
        """The agencies to redirect to, a page at a time as the chat can show them; a page
        after the first redraws the same message."""
        texts = self.ctx.texts
        catalogue = self.ctx.catalogue
        serving = catalogue.serving(appeal.category_id, appeal.municipality_id)
        ordered = serving + [a for a in catalogue.agencies if a not in serving]  # who serves it first
        choices = [
            Button(agency.name, payload=card.payload(Action.REDIRECT, appeal.id, agency.id))
            for agency in ordered
            if agency.id != appeal.agency_id
        ]
        if not choices:
            return Response(toast=texts("desk-redirect-none"))
        number = page_marker[len(_PAGE) :] if page_marker else "0"
        page = paginate(
            choices,
            self.ctx.caps(event.chat.platform),
            page=int(number) if number.isdigit() and len(number) < 4 else 0,
            to_page=lambda n: card.payload(Action.REDIRECT, appeal.id, f"{_PAGE}{n}"),
            prev_label=texts("resident-btn-prev"),
            more_label=texts("resident-btn-more"),
        )
        edit = event.message_id if page_marker else None
        text = texts("desk-redirect-choose", number=appeal.number)
        return Response([Reply(text, buttons=page.rows, edit_message_id=edit)])

    async def _redirect(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, agency_id: str
    ) -> Response:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        target = catalogue.agency(agency_id)
        if target is None:
            return Response(toast=texts("desk-refuse-bad-button"))
        if target.id == appeal.agency_id:
            return Response(toast=texts("desk-refuse-same-agency"))
        now = self.ctx.clock.now()
        await record(
            self.ctx,
            session,
            appeal,
            "redirected",
            actor,
            to_status=AppealStatus.REDIRECTED.value,
            agency_id=target.id,
        )
        await refresh_cards(
            self.ctx, session, appeal, final=texts("desk-card-redirected", agency=target.name)
        )
        appeal.agency_id = target.id
        appeal.passed_at = now
        if appeal.first_response_at is None:
            # The new agency gets its own full time for the first response,
            start_first_clock(self.ctx, appeal, now)
        # and for the answer (59-ФЗ ст. 8: the body it was sent to answers in its own term).
        start_answer_clock(self.ctx, appeal, now)
        await record(self.ctx, session, appeal, "passed", actor, to_status=AppealStatus.PASSED.value)
        await post_cards(self.ctx, session, appeal)
        await tell_resident(
            self.ctx,
            session,
            appeal,
            Reply(texts("desk-notice-redirected", number=appeal.number, agency=target.name)),
        )
        await tell_followers(self.ctx, session, appeal, "follower-notice-redirected", agency=target.name)
        done = texts("desk-done-redirect", number=appeal.number, agency=target.name)
        return Response([Reply(done, edit_message_id=event.message_id)], toast=texts("desk-toast-redirect"))

    # -- replies -------------------------------------------------------------------------

    async def _reply(self, event: Event) -> Response:
        texts = self.ctx.texts
        refuse = Response([Reply(texts("desk-refuse-not-appeal"), reply_to=event.message_id)])
        on_card = _card_appeal(event.reply_to_payloads)
        if on_card is None:
            await self._await_link(event)
        async with self.ctx.db.transaction() as session:
            link = await q.find_link(
                session, event.chat.platform.value, event.chat.chat_id, event.reply_to_message_id or ""
            )
            if link is not None:
                role, appeal_id = link.role, link.appeal_id
            elif on_card is not None:
                # A copy of a card whose link was never recorded (the process stopped between
                # its sending and its record, and the card was sent again): the buttons we put
                # on it name its appeal.
                role, appeal_id = "card", on_card
            else:
                return refuse
            if not (
                role in _ANSWER_ROLES
                or role in _PROMPT_ROLES
                or role.startswith(_REJECT_ROLE)
                or role == review.RETURN_ROLE
            ):
                return refuse
            appeal = await q.appeal_for_update(session, appeal_id)
            if appeal is None:
                return refuse
            if not may_act(self.ctx, event.chat, appeal):
                return Response([Reply(texts("desk-refuse-not-yours"), reply_to=event.message_id)])
            actor = Actor.of("staff", event)
            if staff_tools.is_note(event) or role == staff_tools.NOTE_ROLE:
                return await staff_tools.note(self.ctx, session, event, appeal, actor)
            if role == review.RETURN_ROLE:
                return await review.ReviewDesk(self.ctx).returned(session, event, appeal, actor)
            if role.startswith(_REJECT_ROLE):
                return await self._reject(session, event, appeal, actor, role.removeprefix(_REJECT_ROLE))
            if role == "prompt_solve":
                return await self._answer(session, event, appeal, actor, solve=True)
            if role == "prompt_extend":
                return await self._extend(session, event, appeal, actor)
            return await self._answer(session, event, appeal, actor)

    async def _await_link(self, event: Event) -> None:
        """Wait (a while) for the link of the message replied to, when it may be on its way.

        A message is visible the moment the platform accepts it; the sender records its
        link a moment later. Staff quick to reply (or a busy database) can overtake that
        record: while a linked delivery to this chat is in flight, look again."""
        chat, replied = event.chat, event.reply_to_message_id or ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINK_WAIT_SECONDS
        while True:
            async with self.ctx.db.read() as session:
                if await q.find_link(session, chat.platform.value, chat.chat_id, replied) is not None:
                    return
                now = self.ctx.clock.now()
                if not await q.linking_in_flight(session, chat.platform.value, chat.chat_id, now=now):
                    return
            if loop.time() >= deadline:
                return
            await asyncio.sleep(0.05)  # the sender commits in another task or process

    async def _answer(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, *, solve: bool = False
    ) -> Response:
        """The staff's answer reaches the resident; with ``solve`` it is the solution too
        («Решено» asks for it)."""
        texts = self.ctx.texts
        here = event.message_id
        if not allowed(Action.SOLVE if solve else Action.ANSWER, appeal.status):
            return Response([Reply(self._refuse_status(appeal), reply_to=here)])
        text = (event.text or "").strip()
        if not text and not event.media:
            return Response([Reply(texts("desk-refuse-empty-answer"), reply_to=here)])
        resident = await q.resident(session, appeal.resident_id)
        chat = resident_chat(resident)
        if chat is None:
            if not await follower_store.residents_following(session, appeal.id):
                return Response([Reply(texts("desk-refuse-resident-gone"), reply_to=here)])
            # The author withdrew their data; the residents who joined the appeal still wait.
            return await self._answer_followers(session, event, appeal, actor, text=text, solve=solve)
        stuck = stranded(event.media, chat.platform, self.ctx.caps)
        if stuck:
            kinds = ", ".join(sorted({texts(f"media-kind-{m.kind.value}") for m in stuck}))
            return Response([Reply(texts("desk-refuse-media", kinds=kinds), reply_to=here)])
        photos = tuple(m for m in event.media if m.kind is MediaKind.PHOTO)
        files = tuple(m for m in event.media if m.kind is not MediaKind.PHOTO)
        agency = card.agency_name(self.ctx.catalogue, texts, appeal.agency_id)
        key = "desk-notice-solved-answer" if solve else "desk-notice-answer"
        notice = Reply(
            texts(key, number=appeal.number, agency=agency, text=text),
            photos=photos,
            files=files,
        )
        if review.required(self.ctx, event.chat, appeal):
            await self._keep(session, event, appeal)
            stop_answer_clock(self.ctx, appeal)  # the clocks count from the agency's answer
            return await review.hold(
                self.ctx, session, event, appeal, actor, resident=chat, notice=notice, text=text, solve=solve
            )
        await queue(
            self.ctx,
            session,
            chat,
            notice,
            purpose="answer",
            appeal_id=appeal.id,
            link_role="resident",  # a reply to it goes to the thread (handlers.dialogue.agency_reply)
            report_to=(event.chat, here),
        )
        await tell_followers(
            self.ctx,
            session,
            appeal,
            "follower-notice-solved-answer" if solve else "follower-notice-answer",
            purpose="answer",
            media=event.media,
            rate=True,
            agency=agency,
            text=text,
        )
        return await self._answered(session, event, appeal, actor, text=text, solve=solve, author=True)

    async def _answered(
        self,
        session: AsyncSession,
        event: Event,
        appeal: Appeal,
        actor: Actor,
        *,
        text: str,
        solve: bool,
        author: bool,
    ) -> Response:
        texts = self.ctx.texts
        await self._keep(session, event, appeal)
        kind, status = ("solved", AppealStatus.SOLVED) if solve else ("answer", AppealStatus.ANSWERED)
        await record(self.ctx, session, appeal, kind, actor, to_status=status.value, text=text)
        if solve:
            appeal.solved_at = self.ctx.clock.now()
        stop_answer_clock(self.ctx, appeal)
        if author:
            await ask_feedback(self.ctx, session, appeal)
        await refresh_cards(self.ctx, session, appeal)
        if solve:
            done = texts("desk-done-solve", number=appeal.number, actor=actor.label)
            return Response([Reply(done, reply_to=event.message_id)])
        return Response()

    async def _answer_followers(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, *, text: str, solve: bool
    ) -> Response:
        """The answer to an appeal whose author withdrew their data goes to its followers.
        It is not held for the centre's review (a held answer is the author's message)."""
        agency = card.agency_name(self.ctx.catalogue, self.ctx.texts, appeal.agency_id)
        await tell_followers(
            self.ctx,
            session,
            appeal,
            "follower-notice-solved-answer" if solve else "follower-notice-answer",
            purpose="answer",
            media=event.media,
            rate=True,
            agency=agency,
            text=text,
        )
        return await self._answered(session, event, appeal, actor, text=text, solve=solve, author=False)

    async def _reject(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, reason_id: str
    ) -> Response:
        """A reason from the catalogue's list and a free text; the resident may contest it
        once and is asked to rate it."""
        texts = self.ctx.texts
        here = event.message_id
        if not allowed(Action.REJECT, appeal.status):
            return Response([Reply(self._refuse_status(appeal), reply_to=here)])
        reason = self.ctx.catalogue.reject_reason(reason_id)
        explanation = (event.text or "").strip()
        if reason is None:
            return Response([Reply(texts("desk-refuse-bad-reason"), reply_to=here)])
        if not explanation:
            return Response([Reply(texts("desk-refuse-empty-reason"), reply_to=here)])
        await self._keep(session, event, appeal)
        text = texts("desk-rejection-text", reason=reason.title, text=explanation)
        await record(
            self.ctx, session, appeal, "rejected", actor, to_status=AppealStatus.REJECTED.value, text=text
        )
        appeal.rejection_reason = reason.id
        stop_answer_clock(self.ctx, appeal)
        notice = texts("desk-notice-rejected", number=appeal.number, reason=reason.title, text=explanation)
        if appeal.contested_at is None:
            notice += "\n\n" + texts("followup-may-contest")
        if appeal.rating is None:
            notice += "\n" + texts("followup-ask-rate", number=appeal.number)
        await tell_resident(
            self.ctx,
            session,
            appeal,
            Reply(notice, buttons=contest.after_rejection_buttons(self.ctx, appeal)),
            report_to=(event.chat, here),
        )
        await tell_followers(
            self.ctx,
            session,
            appeal,
            "follower-notice-rejected",
            rate=True,
            reason=reason.title,
            text=explanation,
        )
        await refresh_cards(self.ctx, session, appeal)
        done = texts("desk-done-reject", number=appeal.number, actor=actor.label)
        return Response([Reply(done, reply_to=here)])

    async def _extend(self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor) -> Response:
        """The admin chat extends the answer's term once; the resident learns why."""
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        here = event.message_id
        if not allowed(Action.EXTEND, appeal.status):
            return Response([Reply(self._refuse_status(appeal), reply_to=here)])
        if not may_extend(appeal):
            return Response([Reply(texts("desk-refuse-extended", number=appeal.number), reply_to=here)])
        reason = (event.text or "").strip()
        if not reason:
            return Response([Reply(texts("desk-refuse-empty-extension"), reply_to=here)])
        due = card.local_time(catalogue, extend_answer_clock(self.ctx, appeal))
        await record(self.ctx, session, appeal, "extended", actor, text=reason)
        await tell_resident(
            self.ctx,
            session,
            appeal,
            Reply(texts("desk-notice-extended", number=appeal.number, deadline=due, reason=reason)),
            purpose="extension",
            report_to=(event.chat, here),
        )
        await tell_followers(
            self.ctx,
            session,
            appeal,
            "follower-notice-extended",
            purpose="extension",
            deadline=due,
            reason=reason,
        )
        staff = Reply(texts("desk-staff-extended", number=appeal.number, deadline=due, reason=reason))
        await post_to_thread(self.ctx, session, appeal, staff, purpose="extension")
        await refresh_cards(self.ctx, session, appeal)
        return Response([Reply(texts("desk-done-extend", number=appeal.number, deadline=due), reply_to=here)])

    async def _keep(self, session: AsyncSession, event: Event, appeal: Appeal) -> None:
        """Link the staff message to the appeal and keep the photos it carried."""
        if event.message_id is not None:
            await q.add_link(
                session,
                platform=event.chat.platform.value,
                chat_id=event.chat.chat_id,
                message_id=event.message_id,
                appeal_id=appeal.id,
                role="thread",
            )
        add_attachments(session, appeal.id, event.media, source="staff", now=self.ctx.clock.now())

    # -- commands ------------------------------------------------------------------------

    async def _command(self, event: Event, name: str, args: str) -> Response:
        is_admin = self.ctx.catalogue.is_admin_chat(event.chat)
        if name in ("help", "start"):
            return self._say("desk-help-admin" if is_admin else "desk-help")
        if name == "open":
            if args.strip().casefold() in staff_tools.MINE:
                return await staff_tools.open_mine(self.ctx, event)
            return await self._open(event.chat)
        if name == "appeal":
            return await self._appeal(event.chat, args)
        if name == "find":
            return await staff_tools.find(self.ctx, event.chat, args)
        if name == "merge":
            return await merge.merge(self.ctx, event, args)
        if name in ("overdue", "block", "unblock", "digest", "stats"):
            if not is_admin:
                return self._say("desk-refuse-admin-only")
            if name == "overdue":
                return await self._overdue()
            if name in ("digest", "stats"):
                reports = self.ctx.reports
                if reports is None:
                    return self._say("desk-unknown-command")
                if name == "digest":
                    return Response(await reports.preview(self.ctx))
                return Response(await reports.stats(self.ctx, args))
            return await self._block(args, block=name == "block")
        return self._say("desk-unknown-command")

    async def _open(self, chat: ChatRef) -> Response:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        agency = catalogue.agency_of_chat(chat)
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as session:
            appeals = await q.open_appeals(session, agency.id if agency else None, OPEN_STATUSES)
        if not appeals:
            return self._say("desk-open-empty")
        lines = [texts("desk-open-title", count=str(len(appeals)))]
        for appeal in appeals:
            lines.append(
                texts(
                    "desk-open-line",
                    number=appeal.number,
                    topic=card.topic(catalogue, appeal),
                    status=texts(f"status-{appeal.status}"),
                    age=card.age(texts, now - appeal.created_at),
                )
            )
        return Response([Reply("\n".join(lines))])

    async def _appeal(self, chat: ChatRef, args: str) -> Response:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        appeal_id = parse_appeal_number(args) if args else None
        if appeal_id is None:
            return self._say("desk-appeal-usage")
        async with self.ctx.db.read() as session:
            appeal = await session.get(Appeal, appeal_id)
            if appeal is None:
                return self._say("desk-refuse-unknown-appeal")
            if not may_act(self.ctx, chat, appeal):
                return self._say("desk-refuse-not-yours")
            events = await q.history(session, appeal.id)
        lines = [card.card_text(catalogue, texts, appeal), "", texts("desk-history-title")]
        for item in events:
            key = f"desk-event-{item.kind}"
            what = texts(
                key if texts.has(key) else "desk-event-other",
                agency=card.agency_name(catalogue, texts, item.agency_id),
                rating=item.text or "",
                kind=item.kind,
            )
            who = texts("desk-history-who", name=item.actor_name) if item.actor_name else ""
            comment = ""
            if item.text and item.kind in _COMMENTED:
                comment = texts("desk-history-comment", text=item.text)
            lines.append(
                texts(
                    "desk-history-line",
                    at=card.local_time(catalogue, item.at),
                    what=Safe(what),
                    who=Safe(who),
                    comment=Safe(comment),
                )
            )
        return Response([Reply("\n".join(lines), buttons=card.card_buttons(texts, appeal))])

    async def _overdue(self) -> Response:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as session:
            appeals = await q.overdue_appeals(session, now, OPEN_STATUSES)
        if not appeals:
            return self._say("desk-overdue-empty")
        by_agency: dict[str | None, list[Appeal]] = defaultdict(list)
        for appeal in appeals:
            by_agency[appeal.agency_id].append(appeal)
        lines = [texts("desk-overdue-title", count=str(len(appeals)))]
        for agency_id, items in by_agency.items():
            lines.append("")
            lines.append(texts("desk-overdue-agency", agency=card.agency_name(catalogue, texts, agency_id)))
            for appeal in items:
                lines.extend(self._overdue_lines(appeal, now))
        return Response([Reply("\n".join(lines))])

    def _overdue_lines(self, appeal: Appeal, now: datetime) -> list[str]:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        late: list[tuple[str, datetime]] = []
        if appeal.first_response_at is None and appeal.deadline_at is not None and appeal.deadline_at < now:
            late.append(("desk-overdue-first", appeal.deadline_at))
        if appeal.answered_at is None and appeal.answer_due_at is not None and appeal.answer_due_at < now:
            late.append(("desk-overdue-answer", appeal.answer_due_at))
        return [
            texts(
                "desk-overdue-line",
                number=appeal.number,
                topic=card.topic(catalogue, appeal),
                what=texts(key),
                late=card.age(texts, now - due),
            )
            for key, due in late
        ]

    async def _block(self, args: str, *, block: bool) -> Response:
        appeal_id = parse_appeal_number(args) if args else None
        if appeal_id is None:
            return self._say("desk-block-usage" if block else "desk-unblock-usage")
        async with self.ctx.db.transaction() as session:
            appeal = await session.get(Appeal, appeal_id)
            if appeal is None:
                return self._say("desk-refuse-unknown-appeal")
            resident = await q.resident(session, appeal.resident_id)
            if resident is None:
                return self._say("desk-block-no-resident", number=appeal.number)
            resident.blocked_at = self.ctx.clock.now() if block else None
            return self._say("desk-blocked" if block else "desk-unblocked", number=appeal.number)


_CARD_ACTIONS = frozenset(action for row in card.BUTTON_ROWS for action in row)


def _card_appeal(payloads: tuple[str, ...]) -> int | None:
    """The appeal whose card carries exactly these buttons (each ``d:<action>:<id>`` of a
    card's action, one appeal): None for any other message (a reason or agency list)."""
    parsed = [_parse_payload(data) for data in payloads]
    cards = [p for p in parsed if p is not None and p[0] in _CARD_ACTIONS and p[2] is None]
    if not cards or len(cards) != len(parsed) or len({p[1] for p in cards}) != 1:
        return None
    return cards[0][1]


def _parse_payload(data: str) -> tuple[Action, int, str | None] | None:
    """``d:<action>:<appeal id>[:<agency or reason id>]``; anything else is forged or stale."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != "d":
        return None
    try:
        action = Action(parts[1])
    except ValueError:
        return None
    if not parts[2].isdigit() or len(parts[2]) > 12:
        return None
    extra = parts[3] if len(parts) == 4 else None
    if extra is not None and (action not in _WITH_EXTRA or not extra):
        return None
    return action, int(parts[2]), extra
