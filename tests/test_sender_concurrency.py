"""The sender under stress: restarts with a full outbox, two senders on one database, and a
storm of 200 cards through random rate limits, server errors and dropped connections."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable

from sqlalchemy import func, select

from bot.sender import OutboxSender
from bot.transport import DeliveryError, RetryLater, TransientFailure
from handlers.clock import FrozenClock, SystemClock
from handlers.context import Context
from handlers.events import ChatRef, Platform, Reply
from handlers.outbox import send_later
from storage.db import Database
from storage.models import Appeal, MessageLink, OutboxMessage
from tests.fake_transport import ScriptedTransport

AGENCY_CHATS = [ChatRef.parse(f"telegram:-100100000000{n}") for n in range(1, 8)]


async def queue_cards(ctx: Context, count: int, chats: list[ChatRef]) -> dict[str, list[str]]:
    """``count`` appeals, each with its card queued for one of ``chats``; returns each chat's
    expected card texts in order."""
    expected: dict[str, list[str]] = {chat.chat_id: [] for chat in chats}
    for n in range(count):
        chat = chats[n % len(chats)]
        async with ctx.db.transaction() as session:
            appeal = Appeal(
                platform="telegram",
                category_id="roads",
                municipality_id="tambov",
                description=f"Обращение {n}",
                status="passed",
                created_at=ctx.clock.now(),
            )
            session.add(appeal)
            await session.flush()
            text = f"Обращение № {appeal.number}"
            await send_later(
                session, chat, Reply(text=text), purpose="card", appeal_id=appeal.id, link_role="card"
            )
        expected[chat.chat_id].append(text)
    return expected


def assert_exactly_once_in_order(transport: ScriptedTransport, expected: dict[str, list[str]]) -> None:
    keys = Counter(sent.idempotency_key for sent in transport.sent)
    assert [key for key, times in keys.items() if times > 1] == []
    for chat_id, texts in expected.items():
        assert transport.texts(chat_id) == texts, chat_id
    assert transport.overlaps == []


def storm(rng: random.Random, rate: float) -> Callable[[str, Reply], DeliveryError | None]:
    def fault(chat_id: str, reply: Reply) -> DeliveryError | None:
        roll = rng.random()
        if roll >= rate:
            return None
        kind = rng.choice(("429", "5xx", "drop"))
        if kind == "429":
            return RetryLater(rng.uniform(0.01, 0.05), "429 Too Many Requests")
        if kind == "5xx":
            return TransientFailure("502 Bad Gateway")
        return TransientFailure("Server disconnected")

    return fault


def fast_sender(db: Database, transport: ScriptedTransport, ctx: Context, seed: int) -> OutboxSender:
    return OutboxSender(
        db,
        {Platform.TELEGRAM: transport},
        ctx,
        concurrency=8,
        poll_seconds=0.05,
        backoff_base=0.01,
        backoff_cap=0.05,
        rng=random.Random(seed),
    )


async def run_until_sent(senders: list[OutboxSender], transport: ScriptedTransport, count: int) -> None:
    tasks = [asyncio.create_task(sender.run()) for sender in senders]
    try:
        async with asyncio.timeout(60):
            await transport.wait_for_sent(count)
            for sender in senders:
                sender.stop()
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_new_sender_takes_over_a_full_outbox_after_a_crash(ctx: Context, clock: FrozenClock) -> None:
    expected = await queue_cards(ctx, 30, AGENCY_CHATS[:3])
    transport = ScriptedTransport()
    transport.gate = asyncio.Event()
    crashed = OutboxSender(ctx.db, {Platform.TELEGRAM: transport}, ctx, lease_seconds=60)
    task = asyncio.create_task(crashed.run())
    await transport.entered.wait()
    task.cancel()  # the process dies with three cards in flight
    await asyncio.gather(task, return_exceptions=True)
    transport.gate = None

    successor = OutboxSender(ctx.db, {Platform.TELEGRAM: transport}, ctx)
    assert await successor.drain_once() == 0, "the dead process's leases still hold"
    clock.advance(crashed.lease)
    assert await successor.drain_once() == 30

    assert_exactly_once_in_order(transport, expected)
    async with ctx.db.read() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
    assert pending == 0


async def test_two_senders_on_one_database_never_send_a_card_twice(database_url: str, ctx: Context) -> None:
    ctx.clock = SystemClock()
    expected = await queue_cards(ctx, 60, AGENCY_CHATS[:6])
    transport = ScriptedTransport()
    transport.faults = storm(random.Random(1), rate=0.2)
    other_db = Database(database_url)
    try:
        senders = [fast_sender(ctx.db, transport, ctx, 1), fast_sender(other_db, transport, ctx, 2)]
        await run_until_sent(senders, transport, 60)
    finally:
        await other_db.dispose()

    assert_exactly_once_in_order(transport, expected)
    assert all(sender.stats.sent > 0 for sender in senders), "both senders took part"


async def test_storm_of_200_cards_every_one_delivered_exactly_once(database_url: str, ctx: Context) -> None:
    ctx.clock = SystemClock()
    expected = await queue_cards(ctx, 200, AGENCY_CHATS)
    transport = ScriptedTransport()
    transport.faults = storm(random.Random(2026), rate=0.35)
    other_db = Database(database_url)
    try:
        senders = [fast_sender(ctx.db, transport, ctx, 3), fast_sender(other_db, transport, ctx, 4)]
        await run_until_sent(senders, transport, 200)
    finally:
        await other_db.dispose()

    assert_exactly_once_in_order(transport, expected)
    outcomes = Counter(outcome for _, _, outcome in transport.attempts)
    assert outcomes["RetryLater"] > 10 and outcomes["TransientFailure"] > 20
    assert sum(sender.stats.rate_limited for sender in senders) == outcomes["RetryLater"]
    async with ctx.db.read() as session:
        linked = await session.scalar(select(func.count(func.distinct(MessageLink.appeal_id))))
        links = await session.scalar(select(func.count()).select_from(MessageLink))
    assert linked == links == 200
