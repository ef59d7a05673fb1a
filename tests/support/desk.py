"""Test helpers for the desk: file appeals without the dialogue, deliver the outbox the way
the sender would (fake message ids, message links), and build staff and resident events."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.sender import OutboxSender
from handlers.context import Context
from handlers.events import (
    ChatKind,
    ChatRef,
    Event,
    Location,
    Media,
    MediaKind,
    PersonRef,
    Platform,
    Reply,
    Response,
    reply_from_json,
)
from handlers.forwarding import forward_new_appeal
from handlers.workflow import AppealStatus
from storage.models import (
    Appeal,
    AppealEvent,
    Attachment,
    Dialogue,
    OutboxMessage,
    OutboxStatus,
    Resident,
)
from tests.fake_transport import ScriptedTransport

ROADS_TAMBOV = ChatRef(Platform.TELEGRAM, "-1001000000001")
ROADS_REGION = ChatRef(Platform.TELEGRAM, "-1001000000002")
HOUSING = ChatRef(Platform.TELEGRAM, "-1001000000003")
ECOLOGY = ChatRef(Platform.TELEGRAM, "-1001000000007")
ADMIN = ChatRef(Platform.TELEGRAM, "-1001000000000")
STRANGER_GROUP = ChatRef(Platform.TELEGRAM, "-1009999999999")
RESIDENT = PersonRef(Platform.TELEGRAM, "5001")
RESIDENT_CHAT = ChatRef(Platform.TELEGRAM, "5001")
OFFICER = PersonRef(Platform.TELEGRAM, "7001")


def photo(ref: str) -> Media:
    return Media(MediaKind.PHOTO, Platform.TELEGRAM, ref, unique_id=f"u-{ref}")


async def file_appeal(
    ctx: Context,
    *,
    category: str = "roads",
    municipality: str = "tambov",
    description: str = "Яма на дороге у дома 5 по улице Советской",
    address: str | None = "ул. Советская, 5",
    location: Location | None = None,
    phone: str | None = None,
    photos: tuple[Media, ...] = (),
    resident: PersonRef = RESIDENT,
) -> int:
    """Store an appeal as the dialogue would and forward it; returns its id."""
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        person = await session.scalar(
            select(Resident).where(
                Resident.platform == resident.platform.value, Resident.external_id == resident.external_id
            )
        )
        if person is None:
            person = Resident(
                platform=resident.platform.value, external_id=resident.external_id, consent_at=now
            )
            session.add(person)
            await session.flush()
        appeal = Appeal(
            resident_id=person.id,
            platform=resident.platform.value,
            category_id=category,
            municipality_id=municipality,
            description=description,
            address=address,
            latitude=location.latitude if location else None,
            longitude=location.longitude if location else None,
            phone=phone,
            status=AppealStatus.NEW,
            created_at=now,
        )
        session.add(appeal)
        await session.flush()
        for media in photos:
            session.add(
                Attachment(
                    appeal_id=appeal.id,
                    kind=media.kind.value,
                    platform=media.platform.value,
                    ref=media.ref,
                    unique_id=media.unique_id,
                    created_at=now,
                )
            )
        await session.flush()
        await forward_new_appeal(ctx, session, appeal)
        return appeal.id


async def appeal(ctx: Context, appeal_id: int) -> Appeal:
    async with ctx.db.read() as session:
        row = await session.get(Appeal, appeal_id)
        assert row is not None
        return row


async def history(ctx: Context, appeal_id: int) -> list[AppealEvent]:
    async with ctx.db.read() as session:
        rows = await session.scalars(
            select(AppealEvent).where(AppealEvent.appeal_id == appeal_id).order_by(AppealEvent.id)
        )
        return list(rows)


@dataclass(frozen=True)
class Delivered:
    chat: ChatRef
    reply: Reply
    message_ids: list[str]
    purpose: str
    appeal_id: int | None
    report_to: tuple[str, str, str | None] | None

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def payloads(self) -> list[str]:
        return [b.payload for row in self.reply.buttons for b in row if b.payload]

    @property
    def labels(self) -> list[str]:
        return [b.text for row in self.reply.buttons for b in row]


@dataclass
class FakeOutbox:
    """Drains the outbox with the real sender (``bot.sender.OutboxSender``, whose delivery
    effects link message ids to appeals and report answers) over a scripted transport, and
    returns what each chat received since the last drain."""

    ctx: Context
    transport: ScriptedTransport = field(default_factory=ScriptedTransport)
    log: list[Delivered] = field(default_factory=list)
    _seen: int = 0

    async def deliver(self) -> list[Delivered]:
        sender = OutboxSender(self.ctx.db, {Platform.TELEGRAM: self.transport}, self.ctx)
        await sender.drain_once()
        async with self.ctx.db.read() as session:
            rows = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENT.value, OutboxMessage.id > self._seen)
                    .order_by(OutboxMessage.id)
                )
            )
        batch: list[Delivered] = []
        for row in rows:
            self._seen = max(self._seen, row.id)
            report = None
            if row.report_platform and row.report_chat_id:
                report = (row.report_platform, row.report_chat_id, row.report_reply_to)
            batch.append(
                Delivered(
                    ChatRef(Platform(row.platform), row.chat_id),
                    reply_from_json(row.payload),
                    [str(i) for i in row.message_ids or []],
                    row.purpose,
                    row.appeal_id,
                    report,
                )
            )
        self.log.extend(batch)
        return batch


def to(chat: ChatRef, delivered: list[Delivered]) -> list[Delivered]:
    return [d for d in delivered if d.chat == chat]


def by_chat(delivered: list[Delivered]) -> dict[ChatRef, list[Delivered]]:
    grouped: dict[ChatRef, list[Delivered]] = defaultdict(list)
    for d in delivered:
        grouped[d.chat].append(d)
    return grouped


def the_card(delivered: list[Delivered], chat: ChatRef) -> Delivered:
    """The (new) card sent to ``chat``: the one with the staff buttons."""
    cards = [d for d in to(chat, delivered) if d.purpose == "card" and d.reply.buttons]
    assert len(cards) == 1, [d.text for d in to(chat, delivered)]
    return cards[0]


_update_ids = itertools.count(1)


def press(
    chat: ChatRef,
    payload: str,
    *,
    sender: PersonRef = OFFICER,
    name: str = "Иван Петров",
    message_id: str | None = None,
) -> Event:
    kind = ChatKind.PRIVATE if chat.chat_id == sender.external_id else ChatKind.GROUP
    return Event(
        chat=chat,
        chat_kind=kind,
        sender=sender,
        payload=payload,
        callback_id=f"cb{next(_update_ids)}",
        message_id=message_id,
        sender_name=name,
    )


def say(
    chat: ChatRef,
    text: str | None,
    *,
    reply_to: str | None = None,
    sender: PersonRef = OFFICER,
    name: str = "Иван Петров",
    media: tuple[Media, ...] = (),
    media_group_id: str | None = None,
) -> Event:
    kind = ChatKind.PRIVATE if chat.chat_id == sender.external_id else ChatKind.GROUP
    return Event(
        chat=chat,
        chat_kind=kind,
        sender=sender,
        text=text,
        message_id=f"m{next(_update_ids)}",
        reply_to_message_id=reply_to,
        sender_name=name,
        media=media,
        media_group_id=media_group_id,
    )


async def resident_dialogue(ctx: Context, person: PersonRef = RESIDENT) -> tuple[str, dict[str, object]]:
    async with ctx.db.read() as session:
        resident = await session.scalar(
            select(Resident).where(
                Resident.platform == person.platform.value, Resident.external_id == person.external_id
            )
        )
        assert resident is not None
        dialogue = await session.get(Dialogue, resident.id)
        return (dialogue.state, dict(dialogue.data)) if dialogue else ("idle", {})


async def resident_acts(ctx: Context, event: Event) -> Response:
    """The resident presses or writes in their private chat: through Core, so the
    dialogue hands follow-ups to its follow-up steps as it does in production."""
    from handlers.core import Core

    return await Core(ctx).handle(event)
