"""Erasing a person: what /forget does to the database (152-ФЗ ст. 21: a withdrawn consent
means the data is destroyed).

Everything that names the person goes: the resident's name, phone and consent; their
dialogue and draft; the phone, address and coordinates of their appeals; every photo
(and its file id) of those appeals; who they were in the appeals' history (the events
stay, without an actor); the raw updates they sent and the answers stored with them; the
messages queued or sent to their private chat. Their appeals stay as anonymous records,
so the statistics still count them, and the residents who follow them still hear about
them; the appeals they follow themselves are left (the follow rows deleted).

Messages about their appeals in agency chats (cards, photos, pins, their comments) are
left to :mod:`handlers.privacy`, which knows how a card looks without the person.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, and_, case, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import followers as follower_store
from storage.models import (
    Appeal,
    AppealEvent,
    Attachment,
    Dialogue,
    InboxUpdate,
    MessageLink,
    OutboxMessage,
    OutboxStatus,
    Resident,
)

ERASED: dict[str, object] = {}
"""What an erased payload becomes (the column cannot be NULL)."""
WAITING = (OutboxStatus.PENDING.value, OutboxStatus.HELD.value)
"""Outbox rows not sent yet: due, or held for the centre's approval."""
DONE = (OutboxStatus.SENT.value, OutboxStatus.FAILED.value)
WITHDRAWN = "withdrawn: the resident erased their data"
"""``last_error`` of a message that will never be sent because its person is forgotten."""


def person_key(resident: Resident) -> str:
    """The inbox's key for a person's updates (``telegram:<id>``, ``vk:<id>``)."""
    return f"{resident.platform}:{resident.external_id}"


async def erase_person(
    session: AsyncSession,
    resident: Resident,
    dialogue: Dialogue | None,
    *,
    tombstone: str,
    now: datetime,
    current_update: str | None = None,
) -> list[Appeal]:
    """Erase ``resident`` in the caller's transaction; return their appeals, anonymised.

    ``current_update`` is the update key of the update being handled (the «Да, удалить»
    itself): it is erased with the rest although it is not marked handled yet. Later
    updates of the same person are not touched: they come from someone the bot no
    longer knows. The resident row keeps its id (the appeals point to it) but no longer
    names anyone: the external id becomes ``tombstone``."""
    platform, external_id, key = resident.platform, resident.external_id, person_key(resident)
    appeals = list(
        (
            await session.scalars(select(Appeal).where(Appeal.resident_id == resident.id).order_by(Appeal.id))
        ).all()
    )
    ids = [appeal.id for appeal in appeals]

    await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.platform == platform,
            InboxUpdate.person_key == key,
            or_(InboxUpdate.status != "pending", InboxUpdate.update_key == (current_update or "")),
        )
        .values(payload=ERASED, response=None, person_key=tombstone)
        .execution_options(synchronize_session=False)
    )
    pending = OutboxMessage.status.in_(WAITING)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.platform == platform, OutboxMessage.chat_id == external_id)
        .values(
            payload=ERASED,
            erased_at=now,
            chat_id=tombstone,
            message_ids=None,
            claimed_until=None,
            status=case((pending, OutboxStatus.FAILED.value), else_=OutboxMessage.status),
            last_error=case((pending, WITHDRAWN), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(MessageLink).where(
            or_(
                and_(MessageLink.platform == platform, MessageLink.chat_id == external_id),
                and_(MessageLink.appeal_id.in_(ids), MessageLink.role == "resident"),
            )
        )
    )
    if ids:
        mentions = await _mentions(session, resident, appeals)
        await _erase_appeals(session, ids, now=now)
        await _erase_mentions(session, mentions, now=now)
    # Following someone else's appeal is theirs to drop; their own appeals keep their
    # followers, who still hear about them (anonymously: nothing of the author is left).
    await follower_store.forget(session, resident.id)
    if dialogue is not None:
        await session.delete(dialogue)
    resident.name = None
    resident.phone = None
    resident.external_id = tombstone
    resident.forgotten_at = now
    resident.consent_at = None
    for appeal in appeals:
        appeal.phone = appeal.address = appeal.address_key = appeal.latitude = appeal.longitude = None
        appeal.updated_at = now
    await session.flush()
    return appeals


async def _mentions(session: AsyncSession, resident: Resident, appeals: Sequence[Appeal]) -> set[str]:
    """How the person's data looks inside stored JSON (``json.dumps`` escapes, HTML escapes):
    their id, name, phones, addresses, coordinates and the file ids of their photos."""
    values: set[str] = {resident.external_id}
    values.update(v for v in (resident.name, resident.phone) if v)
    for appeal in appeals:
        values.update(v for v in (appeal.phone, appeal.address) if v)
        values.update(repr(v) for v in (appeal.latitude, appeal.longitude) if v is not None)
    refs = await session.execute(
        select(Attachment.ref, Attachment.unique_id).where(Attachment.appeal_id.in_([a.id for a in appeals]))
    )
    values.update(v for row in refs.all() for v in row if v)
    forms: set[str] = set()
    for value in values:
        for form in (value, html.escape(value)):
            forms.add(json.dumps(form)[1:-1])
            forms.add(form)
    return {form for form in forms if len(form) >= 5}


async def _erase_mentions(session: AsyncSession, mentions: set[str], *, now: datetime) -> None:
    """Handled updates and sent messages of other chats that quote the person: a staff reply
    carries the card it replies to, a button press the card it was under, a staff /appeal
    the appeal's answer. Their payloads have done their work; they are erased. (All such
    rows: retention keeps the table to a few days.)"""
    if not mentions:
        return
    ordered = sorted(mentions)
    payload, response = cast(InboxUpdate.payload, Text), cast(InboxUpdate.response, Text)
    await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.status != "pending",
            or_(
                *(payload.contains(m, autoescape=True) for m in ordered),
                *(response.contains(m, autoescape=True) for m in ordered),
            ),
        )
        .values(payload=ERASED, response=None)
        .execution_options(synchronize_session=False)
    )
    sent = cast(OutboxMessage.payload, Text)
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(DONE),
            or_(*(sent.contains(m, autoescape=True) for m in ordered)),
        )
        .values(payload=ERASED, erased_at=now)
        .execution_options(synchronize_session=False)
    )


async def _erase_appeals(session: AsyncSession, ids: Sequence[int], *, now: datetime) -> None:
    await session.execute(delete(Attachment).where(Attachment.appeal_id.in_(ids)))
    await session.execute(
        update(AppealEvent)
        .where(AppealEvent.appeal_id.in_(ids), AppealEvent.actor_kind == "resident")
        .values(actor_platform=None, actor_id=None, actor_name=None, text=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.appeal_id.in_(ids), OutboxMessage.status.in_(DONE))
        .values(payload=ERASED, erased_at=now)
        .execution_options(synchronize_session=False)
    )


async def pending_about(session: AsyncSession, appeal_ids: Sequence[int]) -> list[OutboxMessage]:
    """Messages about these appeals still waiting to be sent or held (to agency and admin
    chats: the person's own chat is already erased), oldest first, locked."""
    if not appeal_ids:
        return []
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.appeal_id.in_(appeal_ids), OutboxMessage.status.in_(WAITING))
        .order_by(OutboxMessage.id)
        .with_for_update()
    )
    return list(rows.all())


def withdraw(row: OutboxMessage, *, now: datetime) -> None:
    """Never send ``row``: it carries what the person took back."""
    row.payload = dict(ERASED)
    row.erased_at = now
    row.status = OutboxStatus.FAILED.value
    row.last_error = WITHDRAWN
    row.claimed_until = None


async def links_of(session: AsyncSession, appeal_ids: Sequence[int]) -> list[MessageLink]:
    """Every message in a chat known to belong to these appeals, oldest first."""
    if not appeal_ids:
        return []
    rows = await session.scalars(
        select(MessageLink).where(MessageLink.appeal_id.in_(appeal_ids)).order_by(MessageLink.id)
    )
    return list(rows.all())
