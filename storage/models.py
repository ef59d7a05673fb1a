"""The schema. Every change here comes with an Alembic migration (``storage/migrations``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, also on SQLite (which drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Resident(Base):
    """A person on one platform. Personal data only after consent; wiped by /forget."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    forgotten_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dialogue(Base):
    """Where a resident is in the guided dialogue, and the draft so far."""

    __tablename__ = "dialogues"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    typed_choices: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(), default=None)
    """What each number means when a screen had to be sent as plain text with numbered
    choices (``handlers.typed_choices``); forgotten at the resident's next message."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Appeal(Base):
    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_created_at", "created_at"),
        Index("ix_appeals_agency_status", "agency_id", "status"),
        Index("ix_appeals_resident_created", "resident_id", "created_at"),
        Index("ix_appeals_status_deadline", "status", "deadline_at"),
        Index("ix_appeals_status_answer_due", "status", "answer_due_at"),
        Index("ix_appeals_nearby", "category_id", "status", "latitude", "longitude"),
        Index("ix_appeals_same_address", "category_id", "address_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[str] = mapped_column(String(32))
    municipality_id: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[str | None] = mapped_column(String(32))
    """None while only the admin chat has it (no agency serves it)."""
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    address_key: Mapped[str | None] = mapped_column(String(300))
    """The address normalised (``storage.nearby.address_key``), to find the same place typed
    another way; erased with the address."""
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    """An ``AppealStatus`` value of the core's workflow (``handlers.workflow``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    passed_at: Mapped[datetime | None]
    """When the appeal was handed to an agency (its card written to the outbox)."""
    deadline_at: Mapped[datetime | None]
    """The first response's deadline; the first clock stops at ``first_response_at``."""
    deadline_half_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reminded_half_at: Mapped[datetime | None]
    reminded_due_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    answer_started_at: Mapped[datetime | None]
    """The answer clock (59-ФЗ ст. 12): started when the appeal reaches an agency, again
    when it is redirected, reopened or sent back after a contest; stopped at ``answered_at``."""
    answer_half_at: Mapped[datetime | None]
    answer_due_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer_reminded_half_at: Mapped[datetime | None]
    answer_reminded_due_at: Mapped[datetime | None]
    answer_escalated_at: Mapped[datetime | None]
    answer_extended_at: Mapped[datetime | None]
    """Set when the admin chat extended the current answer clock (once per clock)."""
    rejection_reason: Mapped[str | None] = mapped_column(String(16))
    """The catalogue's reject reason id of the last rejection."""
    contested_at: Mapped[datetime | None]
    """When the resident contested the rejection (once per appeal)."""
    rating: Mapped[int | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    assignee_platform: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    """The person of the agency's chat the appeal is assigned to («Назначить»)."""
    assignee_name: Mapped[str | None] = mapped_column(String(128))
    assigned_at: Mapped[datetime | None]
    followers_count: Mapped[int] = mapped_column(default=0, server_default="0")
    """How many residents joined the appeal (``followers``), for its card and the digest."""

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="appeal", order_by="Attachment.id", lazy="raise"
    )

    @property
    def number(self) -> str:
        return appeal_number(self.id, self.created_at)


def appeal_number(appeal_id: int, created_at: datetime) -> str:
    """Human-readable and unique: ``2026-000123`` (the year it came, then its id)."""
    return f"{created_at.year}-{appeal_id:06d}"


def parse_appeal_number(text: str) -> int | None:
    """``№ 2026-000123``, ``2026-000123`` or ``123`` to the appeal id; None if not a number."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    value = int(match.group(1))
    return value if value > 0 else None


_NUMBER = re.compile(r"(?:№\s*)?(?:\d{4}-)?(\d{1,12})")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(512))
    unique_id: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="resident")
    """``resident`` (with the appeal or added later) or ``staff`` (sent with an answer)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    appeal: Mapped[Appeal] = relationship(back_populates="attachments", lazy="raise")


class AppealEvent(Base):
    """The appeal's history: who did what, when, from which status to which."""

    __tablename__ = "appeal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(16))
    """``resident``, ``staff`` or ``system``."""
    actor_platform: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(128))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    agency_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)


class Follower(Base):
    """A resident who reported the same problem as an appeal's author and joined it
    instead of filing another one: they hear what the author hears."""

    __tablename__ = "followers"
    __table_args__ = (
        UniqueConstraint("appeal_id", "resident_id"),
        Index("ix_followers_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    rating: Mapped[int | None]
    """The follower's own rating of the answer (the author's is ``appeals.rating``)."""


class MessageLink(Base):
    """Which appeal a message in a chat belongs to, so replies route by id, not by text."""

    __tablename__ = "message_links"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    """``card``, ``thread``, ``prompt_answer``, ``prompt_reject`` or ``resident``."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatMember(Base):
    """A person seen acting in a staff chat (a button, a command, a reply to the bot):
    whom «Назначить» offers. Bots cannot list a group's members, so the desk remembers them."""

    __tablename__ = "chat_members"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"
    """Written, not to be sent yet: an answer waiting for the centre's approval."""


def _due_time(context: Any) -> datetime:
    """``visible_at`` of a new outbox row: its ``next_attempt_at`` when one is given."""
    given = context.get_current_parameters().get("next_attempt_at")
    return given if isinstance(given, datetime) else utcnow()


class OutboxMessage(Base):
    """A message that must reach a chat. Written in the transaction that causes it,
    drained by the sender with rate limits and retries."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_visible", "status", "visible_at", "id"),
        Index("ix_outbox_chat", "platform", "chat_id", "id"),
        Index("ix_outbox_chat_status", "platform", "chat_id", "status", "id"),
        Index(
            "ix_outbox_unerased",
            "status",
            "created_at",
            postgresql_where=sql_text("erased_at IS NULL"),
            sqlite_where=sql_text("erased_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    """A serialised ``handlers.events.Reply``."""
    purpose: Mapped[str] = mapped_column(String(24))
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="SET NULL"), index=True)
    link_role: Mapped[str | None] = mapped_column(String(24))
    """When set, the sent messages' ids are linked to the appeal with this role."""
    report_platform: Mapped[str | None] = mapped_column(String(16))
    report_chat_id: Mapped[str | None] = mapped_column(String(64))
    report_reply_to: Mapped[str | None] = mapped_column(String(64))
    """Where to say whether this message was delivered (a staff answer's chat)."""
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    visible_at: Mapped[datetime] = mapped_column(default=_due_time)
    """When the sender's claim next looks at the row: its ``next_attempt_at``, or later while
    it waits behind an earlier message of its chat (parked, so a chat's backlog is not walked
    by every claim; the row ahead of it unparks it as it finishes)."""
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    message_ids: Mapped[list[Any] | None]
    failing_since: Mapped[datetime | None]
    """First transient failure of the current streak: the sender gives up 24 h after it."""
    erased_at: Mapped[datetime | None]
    """When the payload was erased (retention, or its person forgotten): ``storage.retention``."""


class DigestPost(Base):
    """A weekly digest claimed for one channel and period: the row makes it exactly once."""

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("channel", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(80))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))


class InboxUpdate(Base):
    """An incoming update, stored before it is acknowledged to the platform, so a crash
    mid-handling loses nothing and a redelivered update is handled once."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "update_key"),
        Index("ix_inbox_pending", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    person_key: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    """What the core answered, stored with the change it made: after a crash the answer is
    sent again instead of the update being handled twice."""


class KeyValue(Base):
    """Small durable facts (the VK long-poll position, the last Telegram update id)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
