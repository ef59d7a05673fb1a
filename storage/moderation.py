"""Queries of the centre's desk: moderation cards, appeals waiting for moderators, answers
waiting for approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, AppealEvent, MessageLink, OutboxMessage, OutboxStatus


async def links(session: AsyncSession, appeal_id: int, role: str) -> Sequence[MessageLink]:
    """The appeal's messages of one role in every chat, oldest first."""
    stmt = (
        select(MessageLink)
        .where(MessageLink.appeal_id == appeal_id, MessageLink.role == role)
        .order_by(MessageLink.id)
    )
    return (await session.scalars(stmt)).all()


async def awaiting_moderation(session: AsyncSession, before: datetime, status: str) -> Sequence[Appeal]:
    """Appeals in ``status`` (the core's moderation status) whose deadline falls before
    ``before`` and that were not yet reminded at the deadline. Locked, skipping rows another
    worker holds, on PostgreSQL."""
    stmt = (
        select(Appeal)
        .where(
            Appeal.status == status,
            Appeal.deadline_at.is_not(None),
            Appeal.deadline_at < before,
            Appeal.reminded_due_at.is_(None),
        )
        .order_by(Appeal.deadline_at, Appeal.id)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(stmt)).all()


async def held_answer(session: AsyncSession, appeal_id: int) -> OutboxMessage | None:
    """The appeal's answer waiting for approval (one at a time: the appeal is in review)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.appeal_id == appeal_id, OutboxMessage.status == OutboxStatus.HELD.value)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def last_event(session: AsyncSession, appeal_id: int, kinds: tuple[str, ...]) -> AppealEvent | None:
    stmt = (
        select(AppealEvent)
        .where(AppealEvent.appeal_id == appeal_id, AppealEvent.kind.in_(kinds))
        .order_by(AppealEvent.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def recent_appeals(
    session: AsyncSession, agency_id: str | None, *, limit: int = 5000
) -> Sequence[Appeal]:
    """The newest appeals of one agency (``None``: of every agency), newest first: what
    ``/find`` looks through (the matching is done by the caller, where Cyrillic case folds)."""
    stmt = select(Appeal).order_by(Appeal.created_at.desc(), Appeal.id.desc()).limit(limit)
    if agency_id is not None:
        stmt = stmt.where(Appeal.agency_id == agency_id)
    return (await session.scalars(stmt)).all()


REVIEW_STARTS = ("answer_review", "solution_review")
REVIEW_ENDS = ("answer_approved", "answer_returned")


async def review_seconds(session: AsyncSession, start: datetime, end: datetime) -> list[float]:
    """How long each answer sent for review in ``[start, end)`` waited for the centre's
    decision (answers still waiting are left out)."""
    stmt = (
        select(AppealEvent.appeal_id, AppealEvent.kind, AppealEvent.at)
        .where(AppealEvent.kind.in_(REVIEW_STARTS + REVIEW_ENDS), AppealEvent.at >= start)
        .order_by(AppealEvent.appeal_id, AppealEvent.id)
    )
    waits: list[float] = []
    opened: dict[int, datetime] = {}
    for appeal_id, kind, at in (await session.execute(stmt)).all():
        if kind in REVIEW_STARTS:
            if at < end:
                opened[appeal_id] = at
        elif appeal_id in opened:
            waits.append((at - opened.pop(appeal_id)).total_seconds())
    return waits
