"""Forwarding a new appeal to the agency that serves it.

Contract: the dialogue calls ``forward_new_appeal`` in the transaction that stores a new
appeal (its attachments added to the session); it routes the appeal and writes its card to
the outbox. No agency serves the topic there: the admin chats get it, never nobody. With
``[moderation]`` enabled, the appeal goes to the admin chats first
(:mod:`handlers.moderation`), which pass it on through :func:`pass_on`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.deadlines import start_answer_clock, start_first_clock
from handlers.desk_ops import SYSTEM, Actor, post_cards, record
from handlers.workflow import AppealStatus
from storage.models import Appeal


async def forward_new_appeal(ctx: Context, session: AsyncSession, appeal: Appeal) -> None:
    now = ctx.clock.now()
    created: datetime | None = appeal.created_at  # unset until the row is flushed
    if created is None:
        appeal.created_at = now
    stored_id: int | None = appeal.id
    if stored_id is None:
        session.add(appeal)
        await session.flush()
    route = ctx.catalogue.route(appeal.category_id, appeal.municipality_id)
    appeal.agency_id = route.agency.id if route.agency is not None else None
    if ctx.catalogue.moderation.enabled:
        from handlers.moderation import hold  # the moderation desk imports this module

        await hold(ctx, session, appeal)
        return
    await pass_on(ctx, session, appeal, SYSTEM)


async def pass_on(ctx: Context, session: AsyncSession, appeal: Appeal, actor: Actor) -> None:
    """Hand the appeal to ``appeal.agency_id`` (the admin chats when None): its clocks
    start now, its card goes to the agency's chats."""
    now = ctx.clock.now()
    appeal.passed_at = now
    start_first_clock(ctx, appeal, now)
    start_answer_clock(ctx, appeal, now)
    kind = "passed" if appeal.agency_id is not None else "unrouted"
    await record(ctx, session, appeal, kind, actor, to_status=AppealStatus.PASSED.value)
    await post_cards(ctx, session, appeal)
