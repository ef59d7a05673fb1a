"""Desk queries: appeals as the agencies see them, their links, history and deadlines.

The queries over appeals waiting for an agency take those statuses as ``waiting`` from the
caller (``handlers.workflow.OPEN_STATUSES``): which status means what is the core's to say.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appeal,
    AppealEvent,
    Attachment,
    ChatMember,
    MessageLink,
    OutboxMessage,
    OutboxStatus,
    Resident,
)


async def appeal_for_update(session: AsyncSession, appeal_id: int) -> Appeal | None:
    """The appeal, row-locked on PostgreSQL so two chats cannot move it at once."""
    stmt = select(Appeal).where(Appeal.id == appeal_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def resident(session: AsyncSession, resident_id: int | None) -> Resident | None:
    if resident_id is None:
        return None
    return await session.get(Resident, resident_id)


async def find_link(
    session: AsyncSession, platform: str, chat_id: str, message_id: str
) -> MessageLink | None:
    stmt = select(MessageLink).where(
        MessageLink.platform == platform,
        MessageLink.chat_id == chat_id,
        MessageLink.message_id == message_id,
    )
    return (await session.scalars(stmt)).one_or_none()


async def linking_in_flight(session: AsyncSession, platform: str, chat_id: str, *, now: datetime) -> bool:
    """Whether a message to this chat that will be linked to an appeal is being sent now:
    claimed by a sender, its message ids (and so its links) not yet recorded."""
    stmt = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.link_role.is_not(None),
            OutboxMessage.claimed_until > now,
        )
        .limit(1)
    )
    return (await session.scalar(stmt)) is not None


async def add_link(
    session: AsyncSession, *, platform: str, chat_id: str, message_id: str, appeal_id: int, role: str
) -> None:
    """Link a message to an appeal; a message already linked keeps its first link."""
    if await find_link(session, platform, chat_id, message_id) is None:
        session.add(
            MessageLink(
                platform=platform, chat_id=chat_id, message_id=message_id, appeal_id=appeal_id, role=role
            )
        )
        await session.flush()


async def card_links(session: AsyncSession, appeal_id: int) -> Sequence[MessageLink]:
    """The appeal's cards in every chat, oldest first."""
    stmt = (
        select(MessageLink)
        .where(MessageLink.appeal_id == appeal_id, MessageLink.role == "card")
        .order_by(MessageLink.id)
    )
    return (await session.scalars(stmt)).all()


async def resident_attachments(session: AsyncSession, appeal_id: int) -> Sequence[Attachment]:
    stmt = (
        select(Attachment)
        .where(Attachment.appeal_id == appeal_id, Attachment.source == "resident")
        .order_by(Attachment.id)
    )
    return (await session.scalars(stmt)).all()


async def add_event(
    session: AsyncSession,
    appeal: Appeal,
    *,
    kind: str,
    at: datetime,
    actor_kind: str,
    actor_platform: str | None = None,
    actor_id: str | None = None,
    actor_name: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    agency_id: str | None = None,
    text: str | None = None,
) -> AppealEvent:
    event = AppealEvent(
        appeal_id=appeal.id,
        at=at,
        kind=kind,
        actor_kind=actor_kind,
        actor_platform=actor_platform,
        actor_id=actor_id,
        actor_name=actor_name,
        from_status=from_status,
        to_status=to_status,
        agency_id=agency_id,
        text=text,
    )
    session.add(event)
    await session.flush()
    return event


async def history(session: AsyncSession, appeal_id: int) -> Sequence[AppealEvent]:
    stmt = (
        select(AppealEvent).where(AppealEvent.appeal_id == appeal_id).order_by(AppealEvent.at, AppealEvent.id)
    )
    return (await session.scalars(stmt)).all()


async def open_appeals(
    session: AsyncSession,
    agency_id: str | None,
    waiting: Collection[str],
    *,
    limit: int = 50,
    assignee: tuple[str, str] | None = None,
) -> Sequence[Appeal]:
    """Appeals waiting for this agency (``None``: for the admin chats), oldest first; with
    ``assignee`` (platform, external id) only those assigned to that person, wherever
    they wait."""
    if assignee is not None:
        where = and_(Appeal.assignee_platform == assignee[0], Appeal.assignee_id == assignee[1])
        if agency_id is not None:
            where = and_(where, Appeal.agency_id == agency_id)
    else:
        where = Appeal.agency_id.is_(None) if agency_id is None else Appeal.agency_id == agency_id
    stmt = (
        select(Appeal)
        .where(where, Appeal.status.in_(sorted(waiting)))
        .order_by(Appeal.created_at, Appeal.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


def _first_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Appeal.first_response_at.is_(None), Appeal.deadline_at < now)


def _answer_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Appeal.answered_at.is_(None), Appeal.answer_due_at < now)


async def overdue_appeals(session: AsyncSession, now: datetime, waiting: Collection[str]) -> Sequence[Appeal]:
    """Open appeals past a running clock's deadline (first response or answer), by agency."""
    stmt = (
        select(Appeal)
        .where(Appeal.status.in_(sorted(waiting)), or_(_first_overdue(now), _answer_overdue(now)))
        .order_by(Appeal.agency_id, Appeal.created_at, Appeal.id)
    )
    return (await session.scalars(stmt)).all()


async def clocks_to_check(session: AsyncSession, now: datetime, waiting: Collection[str]) -> Sequence[Appeal]:
    """Open appeals with a running clock at or past its half-way point and not yet
    escalated: the candidates for reminders. Locked, skipping rows another worker holds,
    on PostgreSQL."""
    first = and_(
        Appeal.first_response_at.is_(None),
        Appeal.escalated_at.is_(None),
        or_(Appeal.deadline_half_at <= now, Appeal.deadline_at <= now),
    )
    answer = and_(
        Appeal.answered_at.is_(None),
        Appeal.answer_escalated_at.is_(None),
        or_(Appeal.answer_half_at <= now, Appeal.answer_due_at <= now),
    )
    stmt = (
        select(Appeal)
        .where(Appeal.status.in_(sorted(waiting)), or_(first, answer))
        .order_by(Appeal.id)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(stmt)).all()


async def waiting_without_answer_clock(session: AsyncSession, waiting: Collection[str]) -> Sequence[Appeal]:
    """Open appeals stored before the answer clock existed (none once they have one)."""
    stmt = (
        select(Appeal)
        .where(
            Appeal.status.in_(sorted(waiting)), Appeal.answer_due_at.is_(None), Appeal.answered_at.is_(None)
        )
        .order_by(Appeal.id)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(stmt)).all()


async def remember_member(
    session: AsyncSession, *, platform: str, chat_id: str, external_id: str, name: str | None, now: datetime
) -> None:
    """Note that this person acts in this staff chat (whom «Назначить» offers)."""
    stmt = select(ChatMember).where(
        ChatMember.platform == platform, ChatMember.chat_id == chat_id, ChatMember.external_id == external_id
    )
    member = (await session.scalars(stmt)).one_or_none()
    if member is None:
        session.add(
            ChatMember(platform=platform, chat_id=chat_id, external_id=external_id, name=name, seen_at=now)
        )
        await session.flush()
    elif member.name != name or member.seen_at < now:
        member.name, member.seen_at = name or member.name, now


async def chat_members(session: AsyncSession, platform: str, chat_id: str) -> Sequence[ChatMember]:
    """The people seen acting in this chat, most recently seen first."""
    stmt = (
        select(ChatMember)
        .where(ChatMember.platform == platform, ChatMember.chat_id == chat_id)
        .order_by(ChatMember.seen_at.desc(), ChatMember.id.desc())
    )
    return (await session.scalars(stmt)).all()
