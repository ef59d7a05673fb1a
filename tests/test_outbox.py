"""Outbox claims: each chat's head only, leases that expire, scheduled messages that wait,
and on PostgreSQL two claimers that never take the same row."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest

from handlers.clock import FrozenClock
from handlers.events import ChatRef, Reply
from handlers.outbox import send_later
from storage import outbox
from storage.db import Database

ROADS = ChatRef.parse("telegram:-1001000000001")
HOUSING = ChatRef.parse("telegram:-1001000000003")
LEASE = timedelta(seconds=60)


async def queue(db: Database, chat: ChatRef, text: str, **kwargs: object) -> int:
    async with db.transaction() as session:
        row = await send_later(session, chat, Reply(text=text), purpose="card", **kwargs)  # type: ignore[arg-type]
    return row.id


async def claim(db: Database, clock: FrozenClock, limit: int = 10) -> list[str]:
    async with db.transaction() as session:
        rows = await outbox.claim_due(
            session, now=clock.now(), lease=LEASE, limit=limit, platforms=["telegram"]
        )
    return [row.payload["text"] for row in rows]


async def test_only_the_head_of_each_chat_is_claimed_and_the_next_follows_it(
    db: Database, clock: FrozenClock
) -> None:
    first = await queue(db, ROADS, "дороги 1")
    await queue(db, ROADS, "дороги 2")
    await queue(db, HOUSING, "ЖКХ 1")

    assert await claim(db, clock) == ["дороги 1", "ЖКХ 1"]
    assert await claim(db, clock) == [], "heads in flight hold their chats"

    async with db.transaction() as session:
        await outbox.mark_sent(session, first, now=clock.now(), message_ids=["11"])
    assert await claim(db, clock) == ["дороги 2"]


async def test_a_head_waiting_for_a_retry_holds_back_only_its_chat(db: Database, clock: FrozenClock) -> None:
    first = await queue(db, ROADS, "дороги 1")
    await queue(db, ROADS, "дороги 2")
    assert await claim(db, clock) == ["дороги 1"]
    async with db.transaction() as session:
        await outbox.reschedule(
            session, first, at=clock.now() + timedelta(seconds=30), error="rate limited", counts=False
        )
    await queue(db, HOUSING, "ЖКХ 1")

    assert await claim(db, clock) == ["ЖКХ 1"]
    clock.advance(timedelta(seconds=30))
    assert await claim(db, clock) == ["дороги 1"]


async def test_a_message_scheduled_for_later_waits_without_blocking_its_chat(
    db: Database, clock: FrozenClock
) -> None:
    await queue(db, ROADS, "напоминание", not_before=clock.now() + timedelta(hours=1))
    await queue(db, ROADS, "ответ")

    assert await claim(db, clock) == ["ответ"]
    clock.advance(timedelta(hours=1))
    assert await claim(db, clock) == ["напоминание"]


async def test_a_lease_of_a_process_that_died_expires(db: Database, clock: FrozenClock) -> None:
    await queue(db, ROADS, "карточка")
    assert await claim(db, clock) == ["карточка"]

    clock.advance(LEASE - timedelta(seconds=1))
    assert await claim(db, clock) == []
    clock.advance(timedelta(seconds=1))
    assert await claim(db, clock) == ["карточка"]


async def test_marks_apply_once(db: Database, clock: FrozenClock) -> None:
    row_id = await queue(db, ROADS, "карточка")
    await claim(db, clock)
    async with db.transaction() as session:
        assert await outbox.mark_sent(session, row_id, now=clock.now(), message_ids=["5"]) is not None
    async with db.transaction() as session:
        assert await outbox.mark_sent(session, row_id, now=clock.now(), message_ids=["6"]) is None
        assert await outbox.mark_failed(session, row_id, error="late", now=clock.now()) is None
    async with db.read() as session:
        row = await outbox.get(session, row_id)
    assert row is not None and (row.status, row.message_ids) == ("sent", ["5"])


async def test_claims_are_limited_and_platforms_filtered(db: Database, clock: FrozenClock) -> None:
    for n in range(5):
        await queue(db, ChatRef.parse(f"telegram:{n}"), f"личное {n}")
    await queue(db, ChatRef.parse("vk:2000000001"), "вк")

    assert await claim(db, clock, limit=3) == ["личное 0", "личное 1", "личное 2"]
    assert await claim(db, clock, limit=10) == ["личное 3", "личное 4"]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="SKIP LOCKED is PostgreSQL's; SQLite serialises writers"
)
async def test_two_claimers_on_postgres_skip_each_others_rows(db: Database, clock: FrozenClock) -> None:
    """Inside one open transaction the first claimer's rows are locked; the second takes
    other chats' heads without waiting."""
    for n in range(6):
        await queue(db, ChatRef.parse(f"telegram:{n}"), f"личное {n}")
    first_has_claimed = asyncio.Event()
    second_done = asyncio.Event()
    taken: dict[str, list[str]] = {}

    async def first() -> None:
        async with db.transaction() as session:
            rows = await outbox.claim_due(
                session, now=clock.now(), lease=LEASE, limit=3, platforms=["telegram"]
            )
            taken["first"] = [row.payload["text"] for row in rows]
            first_has_claimed.set()
            await second_done.wait()

    async def second() -> None:
        await first_has_claimed.wait()
        taken["second"] = await claim(db, clock, limit=10)
        second_done.set()

    async with asyncio.timeout(10):
        await asyncio.gather(first(), second())
    assert taken["first"] == ["личное 0", "личное 1", "личное 2"]
    assert taken["second"] == ["личное 3", "личное 4", "личное 5"]


async def test_a_long_backlog_drains_in_order_while_other_chats_keep_going(
    db: Database, clock: FrozenClock
) -> None:
    """A chat's waiting messages are put aside by the claim (not walked again at every
    claim) and the one ahead brings the next back as it finishes, sent or failed."""
    ids = [await queue(db, ROADS, f"дороги {n}") for n in range(40)]
    await queue(db, HOUSING, "ЖКХ 1")
    assert await claim(db, clock, limit=1) == ["дороги 0"]
    assert await claim(db, clock, limit=5) == ["ЖКХ 1"], "the backlog behind a head is not claimed"

    order = []
    for n, row_id in enumerate(ids):
        if n:
            claimed = await claim(db, clock)
            assert claimed == [f"дороги {n}"], f"after {n} finished"
            order += claimed
        if n == 20:
            await queue(db, ChatRef.parse("telegram:42"), "ответ жителю")
            assert await claim(db, clock) == ["ответ жителю"], "a new chat is served amid the backlog"
        async with db.transaction() as session:
            if n % 7 == 3:
                assert await outbox.mark_failed(session, row_id, error="bad_request", now=clock.now())
            else:
                assert await outbox.mark_sent(session, row_id, now=clock.now(), message_ids=[str(n)])
    assert order == [f"дороги {n}" for n in range(1, 40)]
    assert await claim(db, clock) == []


async def test_a_message_queued_behind_a_scheduled_one_is_not_held_once_the_head_is_sent(
    db: Database, clock: FrozenClock
) -> None:
    head = await queue(db, ROADS, "карточка")
    await queue(db, ROADS, "напоминание", not_before=clock.now() + timedelta(hours=1))
    await queue(db, ROADS, "ответ")
    assert await claim(db, clock) == ["карточка"]
    assert await claim(db, clock) == []
    async with db.transaction() as session:
        await outbox.mark_sent(session, head, now=clock.now(), message_ids=["1"])
    assert await claim(db, clock) == ["ответ"]
    clock.advance(timedelta(hours=1))
    assert await claim(db, clock) == ["напоминание"]
