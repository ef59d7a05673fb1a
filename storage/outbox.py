"""Outbox queries: what must be delivered, written in the transaction that causes it.

The sender drains the table with :func:`claim_due`: it leases the *head* of each chat's
queue (its lowest pending id that is due or already being tried), so one chat gets one
message at a time in id order, and a chat whose head waits for a retry holds back only
itself. A message scheduled for later (``not_before``) that was never tried does not
block its chat until it is due.

The claim costs the same with thousands of messages queued in one chat as with none: it
walks pending rows by ``visible_at`` and checks each with an index seek for an earlier
message of its chat (``ix_outbox_chat_status``); a row found behind one is parked
(``visible_at`` moved ahead) and brought back by :func:`unpark_chat` when the row ahead
stops being pending, so a chat's backlog is not walked again at every claim.

On PostgreSQL the claim locks rows ``FOR UPDATE SKIP LOCKED``: several processes can drain
one database and never claim the same row. On SQLite writers are serialised, so the claim
(a select and an update in one transaction) is atomic by itself. A lease
(``claimed_until``) outlives a process that died holding it: once it expires the row is
claimed again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, exists, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import BindParameter, ColumnElement, Select, Update

from storage.models import OutboxMessage, OutboxStatus

PENDING = OutboxStatus.PENDING.value
DUE_AT_ONCE = datetime(1970, 1, 1, tzinfo=UTC)
"""``next_attempt_at`` of a message to send as soon as possible: due on any clock (the
sender's may be a test's frozen one), and first in line."""


async def enqueue(
    session: AsyncSession,
    *,
    platform: str,
    chat_id: str,
    payload: dict[str, Any],
    purpose: str,
    appeal_id: int | None = None,
    link_role: str | None = None,
    report_to: tuple[str, str, str | None] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox (flushed, not committed: the caller's unit of work commits)."""
    row = OutboxMessage(
        platform=platform,
        chat_id=chat_id,
        payload=payload,
        purpose=purpose,
        appeal_id=appeal_id,
        link_role=link_role,
        dedupe_key=dedupe_key,
    )
    if report_to is not None:
        row.report_platform, row.report_chat_id, row.report_reply_to = report_to
    row.next_attempt_at = DUE_AT_ONCE if not_before is None else not_before
    row.visible_at = row.next_attempt_at
    session.add(row)
    await session.flush()
    return row


def _is_pending(row: type[OutboxMessage]) -> ColumnElement[bool]:
    """``status = 'pending'`` written out, not a bound parameter: only then may SQLite and
    PostgreSQL (whose prepared statements plan for any value) use the partial indexes."""
    return row.status == literal_column(f"'{PENDING}'")


async def drop_untried(session: AsyncSession, appeal_id: int, *, key_prefix: str, now: datetime) -> None:
    """Delete the appeal's messages whose dedupe key starts with ``key_prefix`` and that
    nobody has tried to send yet (a later message supersedes them); their chats' parked
    messages are brought back."""
    dropped = (
        await session.execute(
            delete(OutboxMessage)
            .where(
                OutboxMessage.appeal_id == appeal_id,
                OutboxMessage.dedupe_key.startswith(key_prefix, autoescape=True),
                OutboxMessage.status == PENDING,
                OutboxMessage.attempts == 0,
                OutboxMessage.claimed_until.is_(None),
            )
            .returning(OutboxMessage.platform, OutboxMessage.chat_id)
        )
    ).all()
    for platform, chat_id in sorted(set(dropped)):
        await unpark_chat(session, platform, chat_id, now=now)


async def has_key(session: AsyncSession, dedupe_key: str) -> bool:
    """Whether a message with this dedupe key was ever queued."""
    found = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    return found is not None


async def with_key(session: AsyncSession, dedupe_key: str) -> OutboxMessage | None:
    """The message with this dedupe key, locked, if there is one."""
    return await session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key).with_for_update()
    )


def untried(row: OutboxMessage) -> bool:
    """Nobody has tried to send ``row`` yet: it may still be changed."""
    return row.status == PENDING and row.attempts == 0 and row.claimed_until is None


def _blocks_chat(row: type[OutboxMessage], now: BindParameter[datetime]) -> ColumnElement[bool]:
    """A pending row holds its chat once it is due or has been tried (it waits for a retry)."""
    return and_(
        _is_pending(row),
        or_(row.next_attempt_at <= now, row.last_error.is_not(None)),
    )


def _build_claim() -> tuple[Select[OutboxMessage], Select[int, str, str, bool], Update, Update]:
    now: BindParameter[datetime] = bindparam("now")
    earlier = aliased(OutboxMessage)
    behind = exists().where(
        earlier.platform == OutboxMessage.platform,
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.id < OutboxMessage.id,
        _blocks_chat(earlier, now),
    )
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now)
    # Rows named by id, locked and checked again: each still its chat's due head, not
    # leased (``SKIP LOCKED``: another claimer's rows are left to it).
    listed = (
        select(OutboxMessage)
        .where(
            OutboxMessage.id.in_(bindparam("ids", expanding=True)),
            _is_pending(OutboxMessage),
            OutboxMessage.next_attempt_at <= now,
            free,
            OutboxMessage.platform.in_(bindparam("platforms", expanding=True)),
            ~behind,
        )
        .order_by(OutboxMessage.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    # The claim walks ``ix_outbox_visible`` (pending rows by ``visible_at``), reading
    # without locks: a row found behind an earlier message of its chat is parked
    # (``visible_at`` moved past the walk), so each row of a chat's backlog is probed about
    # once, not at every claim; the heads it finds are then taken by ``listed``.
    window = (
        select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.chat_id, behind.label("behind"))
        .where(
            _is_pending(OutboxMessage),
            OutboxMessage.visible_at <= now,
            OutboxMessage.next_attempt_at <= now,
            free,
            OutboxMessage.platform.in_(bindparam("platforms", expanding=True)),
        )
        .order_by(OutboxMessage.visible_at, OutboxMessage.id)
        .limit(bindparam("window", type_=Integer))
    )
    lease = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
        .values(claimed_until=bindparam("until"))
        .execution_options(synchronize_session=False)
    )
    # Parked only while still behind (checked again: on PostgreSQL the row ahead may have
    # finished, and unparked this one, since the window was read).
    park = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), behind)
        .values(visible_at=bindparam("until"))
        .execution_options(synchronize_session=False)
    )
    return listed, window, lease, park


_CLAIM_LISTED, _CLAIM_WINDOW, _LEASE, _PARK = _build_claim()
"""Built once: the sender claims after every delivery, and building these statements (the
aliased subquery above all) cost 4 % of the bot's CPU under load."""

PARK_FOR = timedelta(minutes=5)
"""How long a row found behind an earlier message stays out of the claim's walk unless the
row ahead unparks it (:func:`unpark_chat`): a safety net only, every path that ends a
pending row unparks what it held back."""

_WINDOW = 32
"""Rows one claim reads at a time (at least its limit)."""

_WINDOW_ROUNDS = 4
"""Windows of parked rows one claim may walk past before it returns what it has."""


def _unpark_statement() -> Update:
    now: BindParameter[datetime] = bindparam("now")
    platform: BindParameter[str] = bindparam("u_platform")
    chat_id: BindParameter[str] = bindparam("u_chat_id")
    # Every pending row up to the chat's first one that holds the chat (later rows stay
    # behind it): not only the parked ones, so that on PostgreSQL a park being committed
    # concurrently is overwritten once its row lock is released.
    first_blocking = (
        select(func.min(OutboxMessage.id))
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == chat_id,
            _blocks_chat(OutboxMessage, now),
        )
        .scalar_subquery()
    )
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == chat_id,
            _is_pending(OutboxMessage),
            OutboxMessage.id <= first_blocking,
        )
        .values(visible_at=OutboxMessage.next_attempt_at)
        .execution_options(synchronize_session=False)
    )


_UNPARK = _unpark_statement()


async def unpark_chat(session: AsyncSession, platform: str, chat_id: str, *, now: datetime) -> None:
    """A message of this chat stopped being pending: let the claim see the chat's new head
    (an index seek on ``ix_outbox_chat_status``, whatever the chat's backlog)."""
    await session.execute(_UNPARK, {"u_platform": platform, "u_chat_id": chat_id, "now": now})


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    platforms: Collection[str],
) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages of ``platforms``, at most one per chat, each its
    chat's head (a chat whose head is leased or waits for a retry gives nothing).

    Walks the pending rows by ``visible_at`` (``ix_outbox_visible``) and checks each on
    ``ix_outbox_chat_status``; rows found behind an earlier message of their chat are
    parked until it finishes, so a chat's backlog of thousands costs what a few rows do
    (about the same claim time at 4,000 queued in one chat as at none)."""
    if limit <= 0 or not platforms:
        return []
    params: dict[str, Any] = {"now": now, "platforms": list(platforms), "window": max(limit, _WINDOW)}
    rows: list[OutboxMessage] = []
    for _ in range(_WINDOW_ROUNDS):
        window = (await session.execute(_CLAIM_WINDOW, params)).all()
        parked = [entry.id for entry in window if entry.behind]
        if parked:
            await session.execute(_PARK, {"ids": parked, "until": now + PARK_FOR, "now": now})
        taken = {(row.platform, row.chat_id) for row in rows}
        candidates: list[int] = []
        for entry in window:
            if not entry.behind and (entry.platform, entry.chat_id) not in taken:
                taken.add((entry.platform, entry.chat_id))
                candidates.append(entry.id)
        if candidates and len(rows) < limit:
            found = await session.scalars(
                _CLAIM_LISTED,
                {"now": now, "platforms": list(platforms), "limit": limit - len(rows), "ids": candidates},
            )
            rows.extend(found.all())
        if len(rows) >= limit or len(window) < params["window"] or not parked:
            break
    if rows:
        until = now + lease
        await session.execute(_LEASE, {"ids": [row.id for row in rows], "until": until})
        for row in rows:
            row.claimed_until = until
    return rows


async def claim_rows(
    session: AsyncSession,
    ids: Sequence[int],
    *,
    now: datetime,
    lease: timedelta,
    platforms: Collection[str],
) -> list[OutboxMessage]:
    """Lease these rows only, each when :func:`claim_due` would (its chat's due head, not
    leased): one command delivering what it queued, while no bot runs."""
    if not ids or not platforms:
        return []
    params = {"now": now, "platforms": list(platforms), "limit": len(ids), "ids": list(ids)}
    rows = list((await session.scalars(_CLAIM_LISTED, params)).all())
    if rows:
        until = now + lease
        await session.execute(_LEASE, {"ids": [row.id for row in rows], "until": until})
        for row in rows:
            row.claimed_until = until
    return rows


async def extend_leases(session: AsyncSession, ids: Sequence[int], *, until: datetime) -> None:
    """Keep rows whose delivery takes long (a rate limiter's wait) from being reclaimed."""
    if not ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == PENDING)
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, ids: Sequence[int]) -> None:
    """Give up leases on rows that were claimed but not tried (a sender shutting down)."""
    if not ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == PENDING)
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def release_all(session: AsyncSession) -> int:
    """Give up every lease: on SQLite, where one process owns the database, leases found at
    start were held by a process that is gone. Returns how many rows were released."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.claimed_until.is_not(None))
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _pending_for_update(session: AsyncSession, row_id: int) -> OutboxMessage | None:
    return await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def mark_sent(
    session: AsyncSession, row_id: int, *, now: datetime, message_ids: Sequence[str]
) -> OutboxMessage | None:
    """Record a delivery. None when the row is no longer pending (someone else finished it)."""
    row = await _pending_for_update(session, row_id)
    if row is None:
        return None
    row.status = OutboxStatus.SENT.value
    row.sent_at = now
    row.message_ids = list(message_ids)
    chat_id = row.chat_id
    if row.payload.get("erase_after_send"):
        row.payload = {}
        row.chat_id = f"forgotten:{row.id}"
        row.erased_at = now
    row.attempts += 1
    row.claimed_until = None
    row.last_error = None
    await session.flush()
    await unpark_chat(session, row.platform, chat_id, now=now)
    return row


async def reschedule(
    session: AsyncSession,
    row_id: int,
    *,
    at: datetime,
    error: str,
    counts: bool,
    failing_since: datetime | None = None,
) -> OutboxMessage | None:
    """Try again at ``at``. ``counts`` is False for rate limits (they never add up to giving
    up); ``failing_since`` starts the streak of transient failures when it has not begun."""
    row = await _pending_for_update(session, row_id)
    if row is None:
        return None
    row.next_attempt_at = at
    row.visible_at = at
    row.claimed_until = None
    row.last_error = error[:2000]
    if counts:
        row.attempts += 1
    if failing_since is not None and row.failing_since is None:
        row.failing_since = failing_since
    await session.flush()
    return row


async def mark_failed(
    session: AsyncSession, row_id: int, *, error: str, now: datetime
) -> OutboxMessage | None:
    """Give up on a message for good."""
    row = await _pending_for_update(session, row_id)
    if row is None:
        return None
    row.status = OutboxStatus.FAILED.value
    row.attempts += 1
    row.claimed_until = None
    row.last_error = error[:2000]
    await session.flush()
    await unpark_chat(session, row.platform, row.chat_id, now=now)
    return row


async def next_due_at(
    session: AsyncSession, *, platforms: Collection[str], after: datetime
) -> datetime | None:
    """When the earliest pending message due after ``after`` falls due (the sender's sleep)."""
    if not platforms:
        return None
    value: datetime | None = await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at > after,
            OutboxMessage.platform.in_(list(platforms)),
        )
    )
    return value


async def pending_platforms(session: AsyncSession) -> set[str]:
    """Platforms that have pending messages (to name those nobody can send)."""
    rows = await session.scalars(
        select(OutboxMessage.platform).where(OutboxMessage.status == PENDING).distinct()
    )
    return set(rows)


async def get(session: AsyncSession, row_id: int) -> OutboxMessage | None:
    return await session.get(OutboxMessage, row_id)
