"""Posting the weekly digest exactly once per channel and period.

The guarantee lives in the database, not in the scheduler: a ``digest_posts`` row, unique
per channel and period start, is inserted in the same transaction that writes the digest
to the outbox. Whoever commits that row posts; everyone else (a second process, a restart,
the catch-up after downtime) finds it and does nothing. The outbox then delivers it with
retries, so a crash after the commit loses nothing either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from digests.chart import chart_media, render_chart
from digests.figures import DigestFigures, build_figures
from digests.periods import Period, due_period
from digests.render import render_digest
from handlers.context import Context
from handlers.events import ChatRef, Reply
from handlers.outbox import send_later
from storage import stats

log = structlog.get_logger(__name__)

PURPOSE = "digest"


@dataclass(frozen=True, slots=True)
class Digest:
    figures: DigestFigures
    text: str
    png: bytes

    def reply(self, chat: ChatRef) -> Reply:
        """The text as the chart's caption; transports send it as its own message when it
        exceeds the caption limit (Telegram's: ``bot.telegram.render.plain_length``)."""
        return Reply(text=self.text, photos=(chart_media(self.png, chat.platform, self.figures.period.key),))


async def build_digest(ctx: Context, period: Period, *, preview: bool = False) -> Digest:
    async with ctx.db.read() as session:
        figures = await build_figures(session, ctx.catalogue, period, ctx.clock.now())
    text = render_digest(ctx.texts, figures, preview=preview)
    png = await asyncio.to_thread(render_chart, ctx.texts, figures)
    return Digest(figures, text, png)


def dedupe_key(channel: ChatRef, period: Period) -> str:
    return f"digest:{channel}:{period.start.isoformat()}"


async def post_digest(
    ctx: Context, period: Period, channels: tuple[ChatRef, ...] | None = None
) -> list[ChatRef]:
    """Queue the digest of ``period`` for every channel that has not had it yet.

    Returns the channels it was queued for now (empty when all had it already).
    """
    return [channel for channel, _ in await queue_digest(ctx, period, channels)]


async def queue_digest(
    ctx: Context, period: Period, channels: tuple[ChatRef, ...] | None = None
) -> list[tuple[ChatRef, int]]:
    """:func:`post_digest`, returning each queued channel with its outbox row's id."""
    targets = ctx.catalogue.digest.channels if channels is None else channels
    async with ctx.db.read() as session:
        missing = [c for c in targets if not await stats.digest_claimed(session, str(c), period.start)]
    if not missing:
        return []
    digest = await build_digest(ctx, period)
    posted: list[tuple[ChatRef, int]] = []
    for channel in missing:
        async with ctx.db.transaction() as session:
            digest_id = await stats.claim_digest(
                session, str(channel), period.start, period.end, ctx.clock.now()
            )
            if digest_id is None:
                log.info("digest.already_claimed", channel=str(channel), period=period.key)
                continue
            message = await send_later(
                session,
                channel,
                digest.reply(channel),
                purpose=PURPOSE,
                dedupe_key=dedupe_key(channel, period),
            )
            await stats.attach_outbox(session, digest_id, message.id)
        log.info("digest.queued", channel=str(channel), period=period.key, outbox_id=message.id)
        posted.append((channel, message.id))
    return posted


async def queue_partial(ctx: Context, period: Period) -> list[tuple[ChatRef, int]]:
    """The figures of an unfinished ``period`` so far, for every channel, marked as such.

    No ``digest_posts`` row is claimed: the weekly post still follows when the week is over."""
    now = ctx.clock.now()
    digest = await build_digest(ctx, period.until(now), preview=True)
    queued: list[tuple[ChatRef, int]] = []
    for channel in ctx.catalogue.digest.channels:
        async with ctx.db.transaction() as session:
            message = await send_later(
                session,
                channel,
                digest.reply(channel),
                purpose=PURPOSE,
                dedupe_key=f"digest-partial:{channel}:{period.key}:{now.isoformat()}",
            )
        log.info("digest.partial_queued", channel=str(channel), period=period.key, outbox_id=message.id)
        queued.append((channel, message.id))
    return queued


async def post_due_digest(ctx: Context, notify: Callable[[], None] | None = None) -> list[ChatRef]:
    """Post the digest that was due most recently, if it has not been posted: what the
    weekly job runs, and what runs once at start to catch up after downtime."""
    settings = ctx.catalogue.digest
    if not settings.channels:
        return []
    period = due_period(
        ctx.clock.now(), ctx.catalogue.zone, settings.day_of_week, settings.hour, settings.minute
    )
    posted = await post_digest(ctx, period)
    if posted and notify is not None:
        notify()
    return posted
