"""End to end through the real Telegram transport: 200 cards in flight against the fake Bot
API server while it answers with random 429s, 500s, nginx 502 pages and dropped connections.
Every card reaches its agency chat exactly once, in order, and is linked to its appeal."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.ratelimit import Limits, RateLimiter
from bot.sender import OutboxSender
from bot.telegram.transport import TelegramTransport, make_bot
from handlers.card import card_reply
from handlers.clock import SystemClock
from handlers.context import Context
from handlers.events import Button, ChatRef, Platform, Reply
from handlers.outbox import send_later
from storage.models import Appeal, MessageLink
from tests.fake_telegram import BOT_ID, FakeTelegram

GROUPS = [-1002000000000 - n for n in range(10)]
FAST = Limits(per_second=200, chat_interval=0.0)
"""The storm is about faults, not pace: the limits enforcer is off here (see bench/)."""


@pytest.mark.slow
async def test_storm_through_telegram_delivers_every_card_exactly_once(ctx: Context) -> None:
    ctx.clock = SystemClock()
    server = FakeTelegram(f"{BOT_ID}:TEST-token")
    await server.start()
    for chat_id in GROUPS:
        server.group(chat_id, f"Ведомство {chat_id}")
    expected: dict[int, list[int]] = {chat_id: [] for chat_id in GROUPS}
    for n in range(200):
        chat_id = GROUPS[n % len(GROUPS)]
        async with ctx.db.transaction() as session:
            appeal = Appeal(
                platform="telegram",
                category_id="roads",
                municipality_id="tambov",
                agency_id="tambov-roads",
                description=f"Яма на дороге, дом {n}",
                status="passed",
                created_at=ctx.clock.now(),
            )
            session.add(appeal)
            await session.flush()
            await send_later(
                session,
                ChatRef(Platform.TELEGRAM, str(chat_id)),
                card_reply(ctx.catalogue, ctx.texts, appeal),
                purpose="card",
                appeal_id=appeal.id,
                link_role="card",
            )
        expected[chat_id].append(n)

    server.storm(p429=0.1, p500=0.08, p502html=0.04, pdrop=0.04, retry_after=1, seed=7)
    bot = make_bot(server.token, server.base_url)
    http = aiohttp.ClientSession()
    transport = TelegramTransport(bot, RateLimiter(FAST), http)
    sender = OutboxSender(
        ctx.db, {Platform.TELEGRAM: transport}, ctx, concurrency=16, backoff_base=0.05, rng=random.Random(1)
    )
    task = asyncio.create_task(sender.run())
    try:
        delivered = lambda: sum(len(server.chats[c].bot_messages()) for c in GROUPS)  # noqa: E731
        await server.wait_for(lambda: delivered() >= 200, timeout=60)
        sender.stop()
        await asyncio.wait_for(task, 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bot.session.close()
        await http.close()
        await server.stop()

    for chat_id in GROUPS:
        texts = [m["text"] for m in server.chats[chat_id].bot_messages()]
        numbers = [int(match.group(1)) for text in texts if (match := re.search(r"дом (\d+)", text))]
        assert numbers == expected[chat_id], chat_id
        assert all(
            m.get("reply_markup", {}).get("inline_keyboard") for m in server.chats[chat_id].bot_messages()
        )
    statuses = Counter(call.status for call in server.calls if call.method == "sendMessage")
    assert statuses[200] == 200, "no card was sent twice"
    assert statuses[429] == sender.stats.rate_limited > 0
    assert statuses[500] + statuses[502] + statuses[0] == sender.stats.transient > 0
    async with ctx.db.read() as session:
        links = await session.scalar(select(func.count(func.distinct(MessageLink.appeal_id))))
    assert links == 200


async def test_pacing_counts_messages_and_not_callback_answers() -> None:
    """Telegram's limits are about messages (Bots FAQ, "My bot is hitting limits": about 30
    messages a second overall, one a second in a chat): a button press is answered at once
    even while every message slot of the next second is taken; the message after it waits."""
    waits: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(
        Limits(per_second=1, chat_interval=0.0), clock=lambda: now[0], sleep=sleep, margin=0.0
    )
    async with FakeTelegram(f"{BOT_ID}:TEST-token") as server:
        alice = server.user(1001, "Алиса")
        bot = make_bot(server.token, server.base_url)
        http = aiohttp.ClientSession()
        transport = TelegramTransport(bot, limiter, http)
        try:
            [first] = await transport.deliver(
                "1001", Reply(text="Согласны?", buttons=((Button("Да", "yes"),),))
            )
            assert waits == []
            query = server.press_button(alice, 1001, int(first), "Да")
            await transport.answer_callback(query, "Принято")
            assert server.callback_answers[query]["text"] == "Принято"
            assert waits == [], "the callback answer did not wait for a message slot"
            await transport.deliver("1001", Reply(text="Выберите тему"))
            assert waits == [1.0], "the next message waited for its slot"
        finally:
            await bot.session.close()
            await http.close()
