"""Delivering what one command queued (``appeals digest --post``), once.

With a bot running (its outbox sender beat in the last seconds, ``bot.sender``), the bot
sends it: we wait for its sender to confirm and say so. With none, we send it ourselves,
through the same outbox rows and leases a bot would use, so a bot starting meanwhile does
not send it again. Either way the channel and the message id are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TextIO

import aiohttp

from bot.config import Settings
from bot.media import MediaRegistry
from bot.ratelimit import TELEGRAM_LIMITS, VK_LIMITS, RateLimiter
from bot.sender import OutboxSender, sender_alive
from bot.transport import Transport
from handlers.context import Context
from handlers.events import ChatRef, Platform
from storage import outbox
from storage.models import OutboxMessage, OutboxStatus

TOKENS = {Platform.TELEGRAM: "TELEGRAM_BOT_TOKEN", Platform.VK: "VK_GROUP_TOKEN"}


async def deliver(
    settings: Settings,
    ctx: Context,
    queued: list[tuple[ChatRef, int]],
    stdout: TextIO,
    *,
    wait: float = 120.0,
    poll: float = 0.5,
) -> int:
    """Deliver the queued rows, or see them delivered; returns the exit status (0 all
    posted, 1 something was not)."""
    status = 0
    for platform in dict.fromkeys(channel.platform for channel, _ in queued):
        rows = [(channel, row_id) for channel, row_id in queued if channel.platform is platform]
        ids = [row_id for _, row_id in rows]
        if await sender_alive(ctx.db, platform.value, ctx.clock.now()):
            stdout.write(f"a bot is running: waiting for its sender to post to {platform.value} ...\n")
            stdout.flush()
            await _settled(ctx, ids, wait, poll)
            by = "by the running bot"
        else:
            async with open_transport(settings, ctx, platform) as transport:
                if transport is None:
                    for channel, row_id in rows:
                        token = TOKENS.get(platform, platform.value)
                        stdout.write(
                            f"{channel}: queued (outbox #{row_id}), not posted: no bot is running and "
                            f"{token} is not set here; the bot posts it when it starts\n"
                        )
                    status = 1
                    continue
                await OutboxSender(ctx.db, {platform: transport}, ctx).deliver_now(ids)
            by = "by this command"
        status = max(status, await _report(ctx, rows, by, stdout))
    return status


async def _settled(ctx: Context, ids: list[int], wait: float, poll: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        async with ctx.db.read() as session:
            rows = [await outbox.get(session, row_id) for row_id in ids]
        if all(row is None or row.status != OutboxStatus.PENDING.value for row in rows):
            return
        await asyncio.sleep(poll)


async def _report(ctx: Context, rows: list[tuple[ChatRef, int]], by: str, stdout: TextIO) -> int:
    status = 0
    async with ctx.db.read() as session:
        found: list[tuple[ChatRef, int, OutboxMessage | None]] = [
            (channel, row_id, await outbox.get(session, row_id)) for channel, row_id in rows
        ]
    for channel, row_id, row in found:
        if row is not None and row.status == OutboxStatus.SENT.value:
            ids = ", ".join(str(i) for i in row.message_ids or [])
            stdout.write(f"{channel}: posted {by}, message {ids}\n")
        elif row is not None and row.status == OutboxStatus.FAILED.value:
            stdout.write(f"{channel}: not posted: {row.last_error}\n")
            status = 1
        else:
            error = f" ({row.last_error})" if row is not None and row.last_error else ""
            stdout.write(
                f"{channel}: not posted yet{error}; outbox #{row_id} stays queued and the bot sends it\n"
            )
            status = 1
    return status


@contextlib.asynccontextmanager
async def open_transport(
    settings: Settings, ctx: Context, platform: Platform
) -> AsyncIterator[Transport | None]:
    """The platform's transport as ``appeals run`` builds it, without any channel (no
    polling: the running bot, if one starts, keeps its updates); None when not configured."""
    media = MediaRegistry()
    if platform is Platform.TELEGRAM and settings.telegram.bot_token is not None:
        from bot.telegram.transport import TelegramTransport, check_token, make_bot

        bot = make_bot(settings.telegram.bot_token.get_secret_value(), settings.telegram.api_base)
        try:
            await check_token(bot)
            async with aiohttp.ClientSession() as http:
                yield TelegramTransport(bot, RateLimiter(TELEGRAM_LIMITS), http, media=media)
        finally:
            await bot.session.close()
        return
    if platform is Platform.VK and settings.vk.group_token is not None:
        from bot.vk.api import VkApi
        from bot.vk.transport import VkTransport

        api = VkApi(
            settings.vk.group_token.get_secret_value(),
            api_base=settings.vk.api_base,
            version=settings.vk.api_version,
            limiter=RateLimiter(VK_LIMITS),
        )
        try:
            yield VkTransport(api, media=media, texts=ctx.texts)
        finally:
            await api.close()
        return
    yield None
