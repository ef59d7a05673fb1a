"""A rejection the resident contests: once, with a comment, before the admin chat.

The resident's comment (the dialogue's ``contest_comment`` step, payload
``ct:<appeal id>``) moves the appeal to ``contested`` and puts it in front of the admin
chats with two buttons: «Оставить отказ» (``d:uphold:<id>``) and «Вернуть в ведомство»
(``d:return:<id>[:<agency id>]``). Upheld, it is rejected again and the resident is told
so (and asked to rate it, when not yet); sent back, the chosen agency gets a new card and
a new answer clock.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.context import Context
from handlers.deadlines import start_answer_clock
from handlers.desk_ops import (
    Actor,
    feedback_buttons,
    post_cards,
    queue,
    record,
    refresh_cards,
    tell_resident,
)
from handlers.events import Button, Capabilities, Reply, Response
from handlers.followers import tell_followers
from handlers.paging import shorten
from handlers.workflow import Action, AppealStatus
from storage.models import Appeal


def contest_button(ctx: Context, appeal: Appeal) -> tuple[Button, ...]:
    """The resident's «Оспорить отказ» row, while the one contest is still unused."""
    if appeal.contested_at is not None:
        return ()
    return (Button(ctx.texts("followup-button-contest"), payload=f"ct:{appeal.id}"),)


def after_rejection_buttons(ctx: Context, appeal: Appeal) -> tuple[tuple[Button, ...], ...]:
    rows = [row for row in (contest_button(ctx, appeal),) if row]
    rows.extend(feedback_buttons(ctx, appeal, ask_solved=False))
    return tuple(rows)


async def submit(ctx: Context, session: AsyncSession, appeal: Appeal, actor: Actor, comment: str) -> None:
    """The resident contests the rejection: the admin chats decide."""
    texts, catalogue = ctx.texts, ctx.catalogue
    appeal.contested_at = ctx.clock.now()
    await record(
        ctx, session, appeal, "contested", actor, to_status=AppealStatus.CONTESTED.value, text=comment
    )
    reason = catalogue.reject_reason(appeal.rejection_reason or "")
    text = texts(
        "desk-contest",
        number=appeal.number,
        topic=card.topic(catalogue, appeal),
        agency=card.agency_name(catalogue, texts, appeal.agency_id),
        reason=reason.title if reason else "—",
        comment=comment,
    )
    buttons = (
        (
            Button(texts("desk-button-uphold"), payload=card.payload(Action.UPHOLD, appeal.id)),
            Button(texts("desk-button-return"), payload=card.payload(Action.RETURN, appeal.id)),
        ),
    )
    for chat in catalogue.admin.chats:
        await queue(
            ctx,
            session,
            chat,
            Reply(text, buttons=buttons),
            purpose="contest",
            appeal_id=appeal.id,
            link_role="thread",
        )
    await refresh_cards(ctx, session, appeal)


async def uphold(
    ctx: Context, session: AsyncSession, appeal: Appeal, actor: Actor, message_id: str | None
) -> Response:
    texts = ctx.texts
    await record(ctx, session, appeal, "upheld", actor, to_status=AppealStatus.REJECTED.value)
    notice = texts("desk-notice-upheld", number=appeal.number)
    buttons = feedback_buttons(ctx, appeal, ask_solved=False)
    if buttons:
        notice += "\n" + texts("followup-ask-rate", number=appeal.number)
    await tell_resident(ctx, session, appeal, Reply(notice, buttons=buttons), purpose="notice")
    await refresh_cards(ctx, session, appeal)
    done = texts("desk-done-uphold", number=appeal.number, actor=actor.label)
    return Response([Reply(done, edit_message_id=message_id)], toast=texts("desk-toast-done"))


def return_choices(ctx: Context, appeal: Appeal, caps: Capabilities) -> Response:
    """Which agency gets the appeal back: the one that rejected it first."""
    agencies = sorted(ctx.catalogue.agencies, key=lambda a: a.id != appeal.agency_id)
    rows = tuple(
        (Button(shorten(agency.name, caps), payload=card.payload(Action.RETURN, appeal.id, agency.id)),)
        for agency in agencies
    )
    return Response([Reply(ctx.texts("desk-return-choose", number=appeal.number), buttons=rows)])


async def send_back(
    ctx: Context,
    session: AsyncSession,
    appeal: Appeal,
    actor: Actor,
    agency_id: str,
    message_id: str | None,
) -> Response:
    texts = ctx.texts
    target = ctx.catalogue.agency(agency_id)
    if target is None:
        return Response(toast=texts("desk-refuse-bad-button"))
    now = ctx.clock.now()
    await record(
        ctx, session, appeal, "returned", actor, to_status=AppealStatus.PASSED.value, agency_id=target.id
    )
    await refresh_cards(ctx, session, appeal, final=texts("desk-card-returned", agency=target.name))
    appeal.agency_id = target.id
    appeal.passed_at = now
    appeal.rejection_reason = None
    start_answer_clock(ctx, appeal, now)
    await post_cards(ctx, session, appeal)
    due = card.local_time(ctx.catalogue, appeal.answer_due_at or now)
    await tell_resident(
        ctx,
        session,
        appeal,
        Reply(texts("desk-notice-returned", number=appeal.number, agency=target.name, deadline=due)),
    )
    await tell_followers(ctx, session, appeal, "follower-notice-returned", agency=target.name, deadline=due)
    done = texts("desk-done-return", number=appeal.number, agency=target.name)
    return Response([Reply(done, edit_message_id=message_id)], toast=texts("desk-toast-done"))
