"""Benchmark: drain queued cards to agency group chats against the fake Bot API server with
Telegram's sending limits enforced, and compare with the least time those limits allow.

    .venv/bin/python bench/outbox_drain.py --cards 1000 --chats 10   # about five minutes
    .venv/bin/python bench/outbox_drain.py --cards 100 --chats 10    # a quick look (~10 s)

Prints one line: elapsed seconds, the minimum Telegram's limits allow for that load, the ratio
elapsed/minimum, and how many 429s the bot received.

The minimum: in one group at most one message a second and 20 in any 60 seconds, overall at
most 30 a second. 100 cards to one group go as 20 in 19 s, then 20 more from second 60, ...:
the last at 4 * 60 + 19 = 259 s.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ratelimit import TELEGRAM_LIMITS, RateLimiter
from bot.sender import OutboxSender
from bot.telegram.transport import TelegramTransport, make_bot
from handlers.card import card_reply
from handlers.catalogue import EXAMPLE_PATH, load_catalogue
from handlers.clock import SystemClock
from handlers.context import Context
from handlers.events import ChatRef, Platform
from handlers.outbox import send_later
from handlers.texts import Texts
from handlers.workflow import AppealStatus
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Appeal
from tests.fake_telegram import BOT_ID, FakeTelegram


def minimum_seconds(
    per_chat: list[int],
    *,
    interval: float = 1.0,
    per_window: int = 20,
    window: float = 60.0,
    per_second: int = 30,
) -> float:
    """When the last message can go out at the earliest (the first goes at 0), every group
    sending as soon as its own and the global limits allow. Exact while the global limit
    does not bind (10 groups send at most 10 a second); when it does, the chats with the
    most left go first, which keeps the longest queues moving."""
    ready = [(0.0, -count, chat) for chat, count in enumerate(per_chat) if count]
    heapq.heapify(ready)
    sent: list[list[float]] = [[] for _ in per_chat]
    recent: deque[float] = deque()
    last = 0.0
    while ready:
        moment, left, chat = heapq.heappop(ready)
        while recent and recent[0] <= moment - 1.0:
            recent.popleft()
        if len(recent) >= per_second:
            heapq.heappush(ready, (recent[0] + 1.0, left, chat))
            continue
        recent.append(moment)
        times = sent[chat]
        times.append(moment)
        last = max(last, moment)
        if len(times) < per_chat[chat]:
            following = moment + interval
            if len(times) >= per_window:
                following = max(following, times[-per_window] + window)
            heapq.heappush(ready, (following, left + 1, chat))
    return last


async def bench(cards: int, chats: int, concurrency: int) -> str:
    groups = [-1003000000000 - n for n in range(chats)]
    catalogue = load_catalogue(EXAMPLE_PATH)
    texts = Texts()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        db = Database(url)
        ctx = Context(db=db, catalogue=catalogue, texts=texts, clock=SystemClock())
        for n in range(cards):
            async with db.transaction() as session:
                appeal = Appeal(
                    platform="telegram",
                    category_id="roads",
                    municipality_id="tambov",
                    agency_id="tambov-roads",
                    description=f"Яма на проезжей части у дома {n}, глубина около 20 см",
                    address=f"ул. Советская, {n}",
                    status=AppealStatus.PASSED.value,
                    created_at=ctx.clock.now(),
                )
                session.add(appeal)
                await session.flush()
                await send_later(
                    session,
                    ChatRef(Platform.TELEGRAM, str(groups[n % chats])),
                    card_reply(catalogue, texts, appeal),
                    purpose="card",
                    appeal_id=appeal.id,
                    link_role="card",
                )

        server = FakeTelegram(f"{BOT_ID}:BENCH-token")
        await server.start()
        for chat_id in groups:
            server.group(chat_id, f"Ведомство {chat_id}")
        server.enforce_limits(True)
        bot = make_bot(server.token, server.base_url)
        http = aiohttp.ClientSession()
        transport = TelegramTransport(bot, RateLimiter(TELEGRAM_LIMITS), http)
        sender = OutboxSender(db, {Platform.TELEGRAM: transport}, ctx, concurrency=concurrency)

        def delivered() -> int:
            return sum(len(server.chats[chat_id].bot_messages()) for chat_id in groups)

        started = time.monotonic()
        task = asyncio.create_task(sender.run())
        try:
            await server.wait_for(lambda: delivered() >= cards, timeout=3600)
            elapsed = time.monotonic() - started
            sender.stop()
            await asyncio.wait_for(task, 120)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await bot.session.close()
            await http.close()
            await server.stop()
            await db.dispose()

    per_chat = [cards // chats + (1 if n < cards % chats else 0) for n in range(chats)]
    minimum = minimum_seconds(per_chat)
    ratio = elapsed / minimum if minimum > 0 else float("inf")
    return (
        f"cards={cards} chats={chats} elapsed={elapsed:.1f}s minimum={minimum:.1f}s "
        f"ratio={ratio:.3f} 429s={sender.stats.rate_limited}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if args.cards < 1 or args.chats < 1:
        parser.error("--cards and --chats must be positive")
    print(asyncio.run(bench(args.cards, args.chats, args.concurrency)))


if __name__ == "__main__":
    main()
