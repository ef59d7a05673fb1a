"""The centre checks an agency's answers before the resident gets them.

An agency with ``review_answers = true`` in the catalogue answers as usual; the answer is
written to the outbox *held* (exactly as it would be sent, with its delivery report to the
agency's chat) and the appeal waits in the ``review`` status, its clocks stopped at the
agency's answer. The admin chats get the answer with «Одобрить» (the held message is
released: the resident gets it and is asked for feedback) and «Вернуть на доработку»
(asks for a comment, which goes to the agency's thread; the answer is dropped, the appeal
goes back to the agency and its answer clock runs again). Only the admin chats decide.

Payloads are ``r:<op>:<appeal id>``; the comment prompt's link role is :data:`RETURN_ROLE`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.context import Context
from handlers.desk_ops import Actor, ask_feedback, post_to_thread, queue, record, refresh_cards
from handlers.events import Button, ChatRef, Event, Platform, Reply, Response, reply_from_json
from handlers.followers import tell_followers
from handlers.outbox import send_later
from handlers.workflow import AppealStatus
from storage import desk as q
from storage import moderation as mq
from storage.models import Appeal, OutboxStatus

PREFIX = "r"
RETURN_ROLE = "review_return"
CARD_ROLE = "review"
_APPROVE, _RETURN = "ok", "back"
_HELD_KINDS = ("answer_review", "solution_review")


def required(ctx: Context, chat: ChatRef, appeal: Appeal) -> bool:
    """Whether an answer from ``chat`` waits for the centre (never the admin chats' own)."""
    agency = ctx.catalogue.agency(appeal.agency_id)
    return agency is not None and agency.review_answers and not ctx.catalogue.is_admin_chat(chat)


async def hold(
    ctx: Context,
    session: AsyncSession,
    event: Event,
    appeal: Appeal,
    actor: Actor,
    *,
    resident: ChatRef,
    notice: Reply,
    text: str,
    solve: bool,
) -> Response:
    """Keep the answer for approval and put it before the admin chats."""
    texts = ctx.texts
    row = await send_later(
        session,
        resident,
        notice,
        purpose="answer",
        appeal_id=appeal.id,
        link_role="resident",  # a reply to it goes to the thread (handlers.dialogue.agency_reply)
        report_to=(event.chat, event.message_id),
        not_before=ctx.clock.now(),
    )
    row.status = OutboxStatus.HELD.value
    kind = "solution_review" if solve else "answer_review"
    await record(ctx, session, appeal, kind, actor, to_status=AppealStatus.REVIEW.value, text=text)
    agency = card.agency_name(ctx.catalogue, texts, appeal.agency_id)
    body = texts("review-card", number=appeal.number, agency=agency, actor=actor.label, text=text)
    buttons = (
        (
            Button(texts("review-button-approve"), payload=f"{PREFIX}:{_APPROVE}:{appeal.id}"),
            Button(texts("review-button-return"), payload=f"{PREFIX}:{_RETURN}:{appeal.id}"),
        ),
    )
    attached = Reply(
        texts("review-attachments", number=appeal.number), photos=notice.photos, files=notice.files
    )
    for chat in ctx.catalogue.admin.chats:
        if notice.photos or notice.files:
            # Apart from the card: the card is edited later, and a photo has no text to edit.
            await queue(ctx, session, chat, attached, purpose="card", appeal_id=appeal.id)
        review_card = Reply(body, buttons=buttons)
        await queue(ctx, session, chat, review_card, purpose="card", appeal_id=appeal.id, link_role=CARD_ROLE)
    await refresh_cards(ctx, session, appeal)
    said = texts("review-held", number=appeal.number)
    return Response([Reply(said, reply_to=event.message_id)])


class ReviewDesk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def button(self, event: Event) -> Response:
        texts = self.ctx.texts
        parts = (event.payload or "").split(":")
        if (
            len(parts) != 3
            or parts[1] not in (_APPROVE, _RETURN)
            or not parts[2].isdigit()
            or len(parts[2]) > 12
        ):
            return Response(toast=texts("desk-refuse-bad-button"))
        if not self.ctx.catalogue.is_admin_chat(event.chat):
            return Response(toast=texts("desk-refuse-not-yours"), alert=True)
        async with self.ctx.db.transaction() as session:
            appeal = await q.appeal_for_update(session, int(parts[2]))
            if appeal is None:
                return Response(toast=texts("desk-refuse-unknown-appeal"))
            if appeal.status != AppealStatus.REVIEW.value:
                status = texts(f"status-{appeal.status}")
                return Response(
                    toast=texts("review-refuse-done", number=appeal.number, status=status), alert=True
                )
            actor = Actor.of("staff", event)
            if parts[1] == _APPROVE:
                return await self._approve(session, event, appeal, actor)
            prompt = Reply(
                texts("review-prompt-return", number=appeal.number),
                force_reply=True,
                reply_to=event.message_id,
            )
            await queue(
                self.ctx,
                session,
                event.chat,
                prompt,
                purpose="prompt",
                appeal_id=appeal.id,
                link_role=RETURN_ROLE,
            )
            return Response(toast=texts("desk-toast-prompt"))

    async def _approve(self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor) -> Response:
        texts, now = self.ctx.texts, self.ctx.clock.now()
        row = await mq.held_answer(session, appeal.id)
        held = await mq.last_event(session, appeal.id, _HELD_KINDS)
        if row is None or held is None:
            return Response(toast=texts("review-refuse-nothing"), alert=True)
        row.status = OutboxStatus.PENDING.value
        row.next_attempt_at = now
        solve = held.kind == "solution_review"
        status = AppealStatus.SOLVED if solve else AppealStatus.ANSWERED
        await record(self.ctx, session, appeal, "answer_approved", actor, to_status=status.value)
        if solve:
            appeal.solved_at = now
        approved = reply_from_json(row.payload)
        await tell_followers(
            self.ctx,
            session,
            appeal,
            "follower-notice-solved-answer" if solve else "follower-notice-answer",
            purpose="answer",
            media=(*approved.photos, *approved.files),
            rate=True,
            agency=card.agency_name(self.ctx.catalogue, texts, appeal.agency_id),
            text=held.text or "",
        )
        await ask_feedback(self.ctx, session, appeal)
        await refresh_cards(self.ctx, session, appeal)
        await self._close(session, appeal, texts("review-card-approved", actor=actor.label))
        return Response(toast=texts("review-toast-approved"))

    async def returned(self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor) -> Response:
        """The comment (a reply to the prompt) sends the answer back to the agency."""
        texts = self.ctx.texts
        here = event.message_id
        if appeal.status != AppealStatus.REVIEW.value:
            status = texts(f"status-{appeal.status}")
            return Response(
                [Reply(texts("review-refuse-done", number=appeal.number, status=status), reply_to=here)]
            )
        comment = (event.text or "").strip()
        if not comment:
            return Response([Reply(texts("review-refuse-empty-comment"), reply_to=here)])
        row = await mq.held_answer(session, appeal.id)
        held = await mq.last_event(session, appeal.id, _HELD_KINDS)
        if row is not None:
            await session.delete(row)
        back_to = (held.from_status if held is not None else None) or AppealStatus.IN_PROGRESS.value
        await record(self.ctx, session, appeal, "answer_returned", actor, to_status=back_to, text=comment)
        appeal.answered_at = None  # the answer did not count: its clock runs on
        note = Reply(texts("review-returned-to-agency", number=appeal.number, comment=comment))
        await post_to_thread(self.ctx, session, appeal, note, purpose="review_return")
        await refresh_cards(self.ctx, session, appeal)
        await self._close(session, appeal, texts("review-card-returned", actor=actor.label, comment=comment))
        return Response([Reply(texts("review-done-returned", number=appeal.number), reply_to=here)])

    async def _close(self, session: AsyncSession, appeal: Appeal, final: str) -> None:
        """The review cards lose their buttons and say the outcome."""
        for link in await mq.links(session, appeal.id, CARD_ROLE):
            chat = ChatRef(Platform(link.platform), link.chat_id)
            await queue(
                self.ctx,
                session,
                chat,
                Reply(text=final, edit_message_id=link.message_id),
                purpose="card_edit",
                appeal_id=appeal.id,
            )
