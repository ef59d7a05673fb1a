"""A resident's personal data: /forget erases it everywhere, /mydata shows what is kept.

/forget (152-ФЗ ст. 21): :func:`storage.erasure.erase_person` clears the database; here
the agency chats that hold the person's appeals are brought in line, through the outbox:
cards already delivered are edited to show the appeal without its phone and place (bots
may edit their own messages), the photos, map pins and the person's own words already
posted are deleted (bots may delete their own messages for a while: Telegram 48 hours,
VK 24 hours; past that the admin chat is asked to delete them by hand), those still
waiting are never sent, and each chat is told that the resident withdrew their data.

/mydata (152-ФЗ ст. 14): what is stored about the person, grouped by appeal, and how long
each part is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import structlog
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.context import Context
from handlers.delivery import PURPOSE_DELETE
from handlers.desk_ops import queue, route_chats
from handlers.events import ChatRef, Platform, Reply, reply_from_json, reply_to_json
from handlers.phones import format_phone
from storage import appeals as appeals_store
from storage import erasure, outbox, retention
from storage.models import Appeal, Dialogue, OutboxMessage, OutboxStatus, Resident
from storage.retention import PurgeReport

log = structlog.get_logger(__name__)

RESIDENT_WORDS = frozenset({"details", "reopen"})
"""Outbox purposes that carry what the resident wrote (their details, their comment)."""
MESSAGE_LIMIT = 3500
"""/mydata is split into messages of at most this many characters (Telegram: 4096)."""


async def forget(
    ctx: Context,
    session: AsyncSession,
    resident: Resident,
    dialogue: Dialogue | None,
    *,
    tombstone: str,
    current_update: str | None,
) -> None:
    """Erase ``resident`` and tell the agency chats, in the caller's transaction."""
    appeals = await erasure.erase_person(
        session, resident, dialogue, tombstone=tombstone, now=ctx.clock.now(), current_update=current_update
    )
    if not appeals:
        return
    by_id = {appeal.id: appeal for appeal in appeals}
    told: dict[int, set[ChatRef]] = {appeal.id: set() for appeal in appeals}
    withdrawn: set[tuple[str, str]] = set()
    for row in await erasure.pending_about(session, list(by_id)):
        appeal = by_id[row.appeal_id] if row.appeal_id is not None else None
        if appeal is not None and _hide_from_pending(ctx, row, appeal):
            told[appeal.id].add(ChatRef(Platform(row.platform), row.chat_id))
            if row.status == OutboxStatus.FAILED.value:
                withdrawn.add((row.platform, row.chat_id))
    if withdrawn:
        await session.flush()
        for platform, chat_id in sorted(withdrawn):
            await outbox.unpark_chat(session, platform, chat_id, now=ctx.clock.now())
    doomed: dict[tuple[int, ChatRef], list[str]] = {}
    for link in await erasure.links_of(session, list(by_id)):
        appeal = by_id[link.appeal_id]
        chat = ChatRef(Platform(link.platform), link.chat_id)
        told[appeal.id].add(chat)
        if link.role in card.PERSONAL_ROLES:
            doomed.setdefault((appeal.id, chat), []).append(link.message_id)
        if link.role == "card":
            in_route = chat in route_chats(ctx, appeal)
            edit = Reply(
                text=_card_text(ctx, appeal),
                buttons=card.card_buttons(ctx.texts, appeal) if in_route else (),
                edit_message_id=link.message_id,
            )
            await queue(ctx, session, chat, edit, purpose="card_edit", appeal_id=appeal.id)
    for (appeal_id, chat), message_ids in doomed.items():
        deletion = Reply(delete_message_ids=tuple(message_ids))
        await queue(ctx, session, chat, deletion, purpose=PURPOSE_DELETE, appeal_id=appeal_id)
    for appeal in appeals:
        notice = Reply(ctx.texts("privacy-staff-withdrawn", number=appeal.number))
        for chat in sorted(told[appeal.id], key=str):
            await queue(ctx, session, chat, notice, purpose="withdrawn", appeal_id=appeal.id)


def _card_text(ctx: Context, appeal: Appeal) -> str:
    """The card of the anonymised appeal, saying why its phone and place are gone."""
    return card.card_text(ctx.catalogue, ctx.texts, appeal) + "\n\n" + ctx.texts("privacy-card-withdrawn")


def _hide_from_pending(ctx: Context, row: OutboxMessage, appeal: Appeal) -> bool:
    """Make a message about ``appeal`` that waits to be sent carry nothing of the person.

    A card goes out redrawn from the anonymised appeal; photos, map pins and the person's
    own words are never sent. True when the row was about the person (its chat is told)."""
    reply = reply_from_json(row.payload)
    if row.purpose in RESIDENT_WORDS or reply.photos or reply.location is not None:
        erasure.withdraw(row, now=ctx.clock.now())
        return True
    if row.purpose in {"card", "card_edit"} and (row.link_role in (None, "card")):
        row.payload = reply_to_json(replace(reply, text=_card_text(ctx, appeal)))
        return True
    return False


# -- /mydata -----------------------------------------------------------------------------------


async def my_data(
    ctx: Context, session: AsyncSession, resident: Resident, *, draft_open: bool
) -> list[Reply]:
    """Everything stored about ``resident``, readable, one appeal after another, and for how
    long each part is kept; split into messages that fit any platform."""
    t = ctx.texts
    blocks = [
        t(
            "privacy-mydata-person",
            platform=t(f"privacy-platform-{resident.platform}"),
            id=resident.external_id,
            name=resident.name or "—",
            phone=format_phone(resident.phone) if resident.phone else "—",
            consent=_when(ctx, resident.consent_at)
            if resident.consent_at
            else t("privacy-mydata-no-consent"),
        )
    ]
    if draft_open:
        blocks.append(t("privacy-mydata-draft"))
    appeals = await appeals_store.all_of_resident(session, resident.id)
    counts = await appeals_store.attachment_counts(session, [a.id for a in appeals])
    events = await appeals_store.event_counts(session, [a.id for a in appeals])
    if appeals:
        blocks.append(t("privacy-mydata-appeals", count=len(appeals)))
    else:
        blocks.append(t("privacy-mydata-no-appeals"))
    for appeal in appeals:
        blocks.append(_appeal_block(ctx, appeal, counts.get(appeal.id, {}), events.get(appeal.id, 0)))
    retention = ctx.retention
    blocks.append(
        t(
            "privacy-mydata-kept",
            days=retention.handled.days,
            failed_days=retention.failed.days,
        )
    )
    return [Reply(text) for text in _pack(blocks)]


def _appeal_block(ctx: Context, appeal: Appeal, photos: dict[str, int], events: int) -> str:
    t = ctx.texts
    municipality = ctx.catalogue.municipality(appeal.municipality_id)
    status_key = f"status-{appeal.status}"
    description = appeal.description
    if len(description) > 2000:
        description = description[:2000].rstrip() + "…"
    lines = [
        t(
            "privacy-mydata-appeal",
            number=appeal.number,
            date=_when(ctx, appeal.created_at),
            topic=card.topic(ctx.catalogue, appeal),
            municipality=municipality.name if municipality else appeal.municipality_id,
            status=t(status_key) if t.has(status_key) else appeal.status,
            description=description,
        )
    ]
    if appeal.address:
        lines.append(t("privacy-mydata-address", address=appeal.address))
    if appeal.latitude is not None and appeal.longitude is not None:
        lines.append(
            t("privacy-mydata-location", lat=f"{appeal.latitude:.6f}", lon=f"{appeal.longitude:.6f}")
        )
    if appeal.phone:
        lines.append(t("privacy-mydata-phone", phone=format_phone(appeal.phone)))
    lines.append(
        t(
            "privacy-mydata-photos",
            mine=photos.get("resident", 0),
            staff=photos.get("staff", 0),
            events=events,
        )
    )
    return "\n".join(lines)


def _pack(blocks: Sequence[str]) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit ``MESSAGE_LIMIT``."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if current and len(current) + 2 + len(block) > MESSAGE_LIMIT:
            messages.append(current)
            current = block
        else:
            current = f"{current}\n\n{block}" if current else block
    if current:
        messages.append(current)
    return messages


def _when(ctx: Context, moment: datetime) -> str:
    return card.local_time(ctx.catalogue, moment)


# -- retention -----------------------------------------------------------------------------------

RETENTION_JOB_ID = "retention"
RETENTION_EVERY_MINUTES = 10


async def purge(ctx: Context, *, batch: int = 500) -> PurgeReport:
    """Apply the retention rules now (``storage.retention``); the catalogue's chats are never
    taken for a person's."""
    catalogue = ctx.catalogue
    keep = {
        (chat.platform.value, chat.chat_id) for chat in (*catalogue.all_chats(), *catalogue.digest.channels)
    }
    return await retention.purge(ctx.db, ctx.retention, now=ctx.clock.now(), keep_chats=keep, batch=batch)


def register_retention_job(
    scheduler: BaseScheduler, ctx: Context, notify: Callable[[], None] | None = None
) -> None:
    """Purge every few minutes (batches of short transactions: the bot is never held up)."""

    async def run() -> None:
        try:
            report = await purge(ctx)
        except Exception:
            log.exception("retention.failed")
            return
        if report.batches:
            log.info("retention.purged", report=str(report))

    scheduler.add_job(
        run,
        "interval",
        minutes=RETENTION_EVERY_MINUTES,
        id=RETENTION_JOB_ID,
        name="retention",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
