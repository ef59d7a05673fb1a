"""Nothing kept longer than needed: the retention rules and the purge that applies them.

* Handled incoming updates are deleted after ``handled`` (default 7 days), failed ones
  after ``failed`` (30 days): the platforms redeliver an update for a day at most, so
  the row has done its work (deduplication, a crash's resend) long before.
* Messages sent from the outbox lose their payload after ``handled``, failed ones after
  ``failed``; the row stays (its dedupe key keeps an escalation or a report from being
  queued twice).
* Raw updates of a person who never consented are not kept once handled, and the person
  themselves (their resident row: platform and id) goes too. The one exception: while
  they are at the consent question and have not refused, what they sent is held for
  ``consent_hold`` (24 hours) at most, so that a first message can become their appeal.
  Messages sent to such a person's private chat lose payload and address once sent.

:func:`purge` works in batches of short transactions, so the bot is never held up for
long (SQLite has one writer); the scheduler runs it every few minutes and ``appeals purge``
runs it by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnElement

from storage.db import Database
from storage.models import Appeal, Dialogue, InboxUpdate, OutboxMessage, OutboxStatus, Resident

ERASED_CHAT = "erased"
"""The chat id left on a message to a person who is no longer known."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    handled: timedelta = timedelta(days=7)
    failed: timedelta = timedelta(days=30)
    consent_hold: timedelta = timedelta(hours=24)


@dataclass(slots=True)
class PurgeReport:
    inbox_deleted: int = 0
    inbox_erased: int = 0
    outbox_erased: int = 0
    residents_deleted: int = 0
    holds_dropped: int = 0
    batches: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"inbox rows deleted: {self.inbox_deleted}, inbox rows of people without consent erased: "
            f"{self.inbox_erased}, outbox payloads erased: {self.outbox_erased}, people without consent "
            f"forgotten: {self.residents_deleted}, held first messages dropped: {self.holds_dropped} "
            f"({self.batches} batches)"
        )


@dataclass(frozen=True, slots=True)
class _Person:
    consented: bool
    held: bool


async def purge(
    db: Database,
    policy: RetentionPolicy,
    *,
    now: datetime,
    keep_chats: Collection[tuple[str, str]] = (),
    batch: int = 500,
) -> PurgeReport:
    """Apply ``policy`` as of ``now``. ``keep_chats`` are (platform, chat id) of the chats
    the catalogue names (agency, admin, digest): never taken for a person's chat."""
    report = PurgeReport()
    handled_before, failed_before = now - policy.handled, now - policy.failed
    hold_since = now - policy.consent_hold
    for status, before in (("handled", handled_before), ("failed", failed_before)):
        while ids := await _ids(
            db,
            select(InboxUpdate.id)
            .where(InboxUpdate.status == status, InboxUpdate.handled_at < before)
            .order_by(InboxUpdate.id),
            batch,
        ):
            async with db.transaction() as session:
                await session.execute(delete(InboxUpdate).where(InboxUpdate.id.in_(ids)))
            report.inbox_deleted += len(ids)
            report.batches += 1
            await asyncio.sleep(0)

    for status, column, before in (
        (OutboxStatus.SENT.value, OutboxMessage.sent_at, handled_before),
        (OutboxStatus.FAILED.value, OutboxMessage.created_at, failed_before),
    ):
        while ids := await _ids(
            db,
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == status,
                OutboxMessage.erased_at.is_(None),
                column < before,
            )
            .order_by(OutboxMessage.id),
            batch,
        ):
            async with db.transaction() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(payload={}, erased_at=now)
                    .execution_options(synchronize_session=False)
                )
            report.outbox_erased += len(ids)
            report.batches += 1
            await asyncio.sleep(0)

    await _stale_holds(db, report, hold_since=hold_since, batch=batch)
    await _unconsented_inbox(db, report, now=now, hold_since=hold_since, batch=batch)
    await _unconsented_outbox(db, report, now=now, hold_since=hold_since, keep=set(keep_chats), batch=batch)
    await _unconsented_residents(db, report, hold_since=hold_since, batch=batch)
    return report


async def drop_held(session: AsyncSession, platform: str, external_id: str, *, keep: str | None) -> None:
    """«Не согласен»: what the person sent while the consent question waited goes now, in
    the caller's transaction. Their handled updates lose payload, answer and key; ``keep``
    (the update being handled, the answer itself) and later ones still pending are theirs
    to be handled. The dialogue's draft is the caller's to drop."""
    await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.person_key == f"{platform}:{external_id}",
            InboxUpdate.status != "pending",
            InboxUpdate.update_key != (keep or ""),
        )
        .values(payload={}, response=None, person_key=None)
        .execution_options(synchronize_session=False)
    )


def _held_since(dialogue: Dialogue) -> datetime | None:
    value = (dialogue.data or {}).get("held_at")
    if not isinstance(value, str):
        return None
    try:
        held = datetime.fromisoformat(value)
    except ValueError:
        return None
    return held if held.tzinfo is not None else held.replace(tzinfo=UTC)


async def _stale_holds(db: Database, report: PurgeReport, *, hold_since: datetime, batch: int) -> None:
    """A draft held at the consent question for longer than the hold is dropped (the person
    may have written again since: each thing they sent is held the hold at most)."""
    last = 0
    while True:
        async with db.read() as session:
            dialogues = list(
                (
                    await session.scalars(
                        select(Dialogue)
                        .where(Dialogue.resident_id > last, Dialogue.state == "consent")
                        .order_by(Dialogue.resident_id)
                        .limit(batch)
                    )
                ).all()
            )
        if not dialogues:
            return
        last = int(dialogues[-1].resident_id)
        stale = [d.resident_id for d in dialogues if (since := _held_since(d)) and since < hold_since]
        if stale:
            async with db.transaction() as session:
                for dialogue_id in stale:
                    dialogue = await session.get(Dialogue, dialogue_id, with_for_update=True)
                    if dialogue is None or dialogue.state != "consent":
                        continue
                    held = _held_since(dialogue)
                    if held is not None and held < hold_since:
                        dialogue.data = {}
                        report.holds_dropped += 1
            report.batches += 1
        await asyncio.sleep(0)


async def _ids(db: Database, query: Any, batch: int) -> list[int]:
    async with db.read() as session:
        return [int(i) for i in (await session.scalars(query.limit(batch))).all()]


def _waits_for_consent(dialogue: Dialogue | None) -> bool:
    """At the consent question, and not refused (their updates may be held)."""
    return (
        dialogue is not None
        and dialogue.state == "consent"
        and not (dialogue.data or {}).get("consent_refused")
    )


async def _people(
    session: AsyncSession, pairs: Sequence[tuple[str, str]], hold_since: datetime
) -> dict[tuple[str, str], _Person]:
    """Who these (platform, external id) are: consented or not, and whether their updates
    are held (at the consent question, not refused; each update for the hold at most)."""
    if not pairs:
        return {}
    rows = await session.execute(
        select(Resident, Dialogue)
        .outerjoin(Dialogue, Dialogue.resident_id == Resident.id)
        .where(tuple_(Resident.platform, Resident.external_id).in_(list(pairs)))
    )
    people: dict[tuple[str, str], _Person] = {}
    for resident, dialogue in rows.all():
        held = _waits_for_consent(dialogue)
        people[(resident.platform, resident.external_id)] = _Person(resident.consent_at is not None, held)
    return people


def _split_key(key: str) -> tuple[str, str] | None:
    platform, sep, external_id = key.partition(":")
    return (platform, external_id) if sep and external_id else None


async def _unconsented_inbox(
    db: Database, report: PurgeReport, *, now: datetime, hold_since: datetime, batch: int
) -> None:
    """Handled updates of anyone but a consenting resident lose payload, answer and key."""
    last = ""
    while True:
        async with db.read() as session:
            keys = list(
                (
                    await session.scalars(
                        select(InboxUpdate.person_key)
                        .where(
                            InboxUpdate.status != "pending",
                            InboxUpdate.person_key.is_not(None),
                            InboxUpdate.person_key > last,
                        )
                        .group_by(InboxUpdate.person_key)
                        .order_by(InboxUpdate.person_key)
                        .limit(batch)
                    )
                ).all()
            )
            if not keys:
                return
            last = str(keys[-1])
            pairs = {str(key): _split_key(str(key)) for key in keys}
            people = await _people(session, [p for p in pairs.values() if p is not None], hold_since)
        erase_all: list[str] = []
        erase_old: list[str] = []
        for key, pair in pairs.items():
            person = people.get(pair) if pair is not None else None
            if person is None or not person.consented:
                (erase_old if person is not None and person.held else erase_all).append(key)
        conditions: list[ColumnElement[bool]] = []
        if erase_all:
            conditions.append(InboxUpdate.person_key.in_(erase_all))
        if erase_old:
            conditions.append(
                and_(InboxUpdate.person_key.in_(erase_old), InboxUpdate.received_at < hold_since)
            )
        if conditions:
            async with db.transaction() as session:
                result = await session.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.status != "pending", or_(*conditions))
                    .values(payload={}, response=None, person_key=None)
                    .execution_options(synchronize_session=False)
                )
            report.inbox_erased += int(getattr(result, "rowcount", 0) or 0)
            report.batches += 1
        await asyncio.sleep(0)


async def _unconsented_outbox(
    db: Database,
    report: PurgeReport,
    *,
    now: datetime,
    hold_since: datetime,
    keep: set[tuple[str, str]],
    batch: int,
) -> None:
    """Messages sent to a person who never consented (or is no longer known) lose their
    payload and the chat's id, which is the person's platform id."""
    last: tuple[str, str] = ("", "")
    while True:
        async with db.read() as session:
            chats = [
                (str(platform), str(chat_id))
                for platform, chat_id in (
                    await session.execute(
                        select(OutboxMessage.platform, OutboxMessage.chat_id)
                        .where(
                            OutboxMessage.status.in_((OutboxStatus.SENT.value, OutboxStatus.FAILED.value)),
                            OutboxMessage.chat_id != ERASED_CHAT,
                            tuple_(OutboxMessage.platform, OutboxMessage.chat_id) > last,
                        )
                        .group_by(OutboxMessage.platform, OutboxMessage.chat_id)
                        .order_by(OutboxMessage.platform, OutboxMessage.chat_id)
                        .limit(batch)
                    )
                ).all()
            ]
            if not chats:
                return
            last = chats[-1]
            candidates = [chat for chat in chats if chat not in keep and not chat[1].startswith("forgotten:")]
            people = await _people(session, candidates, hold_since)
        strangers = [chat for chat in candidates if not (people.get(chat) or _Person(False, False)).consented]
        if strangers:
            async with db.transaction() as session:
                result = await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.status.in_((OutboxStatus.SENT.value, OutboxStatus.FAILED.value)),
                        tuple_(OutboxMessage.platform, OutboxMessage.chat_id).in_(strangers),
                    )
                    .values(payload={}, chat_id=ERASED_CHAT, message_ids=None, erased_at=now)
                    .execution_options(synchronize_session=False)
                )
            report.outbox_erased += int(getattr(result, "rowcount", 0) or 0)
            report.batches += 1
        await asyncio.sleep(0)


async def _unconsented_residents(
    db: Database, report: PurgeReport, *, hold_since: datetime, batch: int
) -> None:
    """People who never consented, filed nothing and are not at the consent question (or
    sent nothing within the hold) are forgotten: their row names them."""
    last = 0
    while True:
        async with db.read() as session:
            rows = (
                await session.execute(
                    select(Resident, Dialogue)
                    .outerjoin(Dialogue, Dialogue.resident_id == Resident.id)
                    .where(
                        Resident.id > last,
                        Resident.consent_at.is_(None),
                        Resident.forgotten_at.is_(None),
                        Resident.blocked_at.is_(None),
                        ~exists().where(Appeal.resident_id == Resident.id),
                    )
                    .order_by(Resident.id)
                    .limit(batch)
                )
            ).all()
        if not rows:
            return
        last = int(rows[-1][0].id)
        waiting = {
            f"{r.platform}:{r.external_id}": r.id for r, dialogue in rows if _waits_for_consent(dialogue)
        }
        async with db.read() as session:
            recent = set(
                (
                    await session.scalars(
                        select(InboxUpdate.person_key)
                        .where(
                            InboxUpdate.person_key.in_(list(waiting)), InboxUpdate.received_at >= hold_since
                        )
                        .distinct()
                    )
                ).all()
            )
        held = {waiting[str(key)] for key in recent}
        gone = [resident.id for resident, _dialogue in rows if resident.id not in held]
        if gone:
            # The conditions again, in the statements: a person who consented meanwhile stays.
            still = (
                Resident.id.in_(gone),
                Resident.consent_at.is_(None),
                Resident.forgotten_at.is_(None),
                Resident.blocked_at.is_(None),
            )
            async with db.transaction() as session:
                await session.execute(
                    delete(Dialogue).where(Dialogue.resident_id.in_(select(Resident.id).where(*still)))
                )
                result = await session.execute(delete(Resident).where(*still))
            report.residents_deleted += int(getattr(result, "rowcount", 0) or 0)
            report.batches += 1
        await asyncio.sleep(0)
