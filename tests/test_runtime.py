"""The runtime's promises, with a platform of plain dicts: order per person and per group
chat (on SQLite and, with two workers, on PostgreSQL), poison updates given up after N
starts (failing or killing the process), unreadable updates skipped alone, replies written
to the outbox in the core's own transaction."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.runtime import PURPOSE_REPLY, Identity, Runtime
from handlers.context import Context
from handlers.delivery import PURPOSE_ALERT
from handlers.events import ChatKind, ChatRef, Event, PersonRef, Platform, Reply, Response, reply_from_json
from storage.models import InboxUpdate, OutboxMessage


class DictAdapter:
    """Raw updates are ``{"id": 1, "person": "7", "text": "..."}`` (``"group"``: a group chat's;
    ``"reply": True``: a reply to the bot's message; ``"bad": True``: unreadable)."""

    platform = Platform.VK

    def identify(self, raw: dict[str, Any]) -> Identity:
        queue = f"vk:chat:{raw['group']}" if raw.get("group") else f"vk:{raw['person']}"
        return Identity(key=str(raw["id"]), queue=queue, kind="message_new")

    def to_event(self, raw: dict[str, Any]) -> Event | None:
        if raw.get("bad"):
            raise ValueError("a shape this adapter does not know")
        group = raw.get("group")
        return Event(
            chat=ChatRef(Platform.VK, str(group or raw["person"])),
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            sender=PersonRef(Platform.VK, str(raw["person"])),
            text=raw["text"],
            message_id=str(raw["id"]),
            reply_to_message_id="1" if raw.get("reply") else None,
            reply_to_bot=True if raw.get("reply") else None,
            update_id=str(raw["id"]),
        )

    async def prepare(self, event: Event) -> Event:
        return event


@dataclass
class WatchingCore:
    """Answers every text; records overlaps of one chat's events and the order they came in.
    ``boom`` raises; ``hang`` never returns (the process "dies" there)."""

    pause: float = 0.0
    active: set[str] = field(default_factory=set)
    overlaps: list[str] = field(default_factory=list)
    seen: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    calls: list[str] = field(default_factory=list)
    called: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, event: Event) -> Response:
        chat = str(event.chat)
        text = str(event.text)
        self.calls.append(text)
        self.called.set()
        if chat in self.active:
            self.overlaps.append(f"{chat}: {text}")
        self.active.add(chat)
        try:
            if text == "hang":
                await asyncio.Event().wait()
            await asyncio.sleep(self.pause)
            if text == "boom":
                raise RuntimeError("a bug in the core")
            self.seen[chat].append(text)
            return Response(replies=[Reply(text=f"принято: {text}")])
        finally:
            self.active.discard(chat)


def runtime(ctx: Context, core: WatchingCore, **kwargs: Any) -> Runtime:
    kwargs.setdefault("retry_base", 0.01)
    kwargs.setdefault("sweep_interval", 3600.0)
    return Runtime(DictAdapter(), core, ctx, **kwargs)


async def wait_handled(ctx: Context, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Until ``count`` rows are no longer pending."""

    async def done() -> None:
        while True:
            async with ctx.db.read() as session:
                finished = await session.scalar(
                    select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status != "pending")
                )
            if finished == count:
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(done(), timeout)


async def outbox(ctx: Context) -> list[tuple[str, str, str]]:
    async with ctx.db.read() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.purpose, row.chat_id, reply_from_json(row.payload).text) for row in rows]


async def statuses(ctx: Context) -> list[tuple[str, str, int]]:
    async with ctx.db.read() as session:
        rows = await session.scalars(select(InboxUpdate).order_by(InboxUpdate.id))
        return [(row.update_key, row.status, row.attempts) for row in rows]


async def test_one_chats_events_never_overlap_and_keep_their_order(ctx: Context) -> None:
    """On SQLite one process owns the database: one runtime. On PostgreSQL two workers share
    it, each receiving every other update (a load balancer): only the queue lock keeps
    them apart."""
    core = WatchingCore(pause=0.01)
    workers = [runtime(ctx, core) for _ in range(1 if ctx.db.is_sqlite else 2)]
    for worker in workers:
        await worker.start()
    try:
        sent: dict[str, list[str]] = defaultdict(list)
        for n in range(40):
            person, group = str(100 + n % 3), (-5 if n % 4 == 0 else None)
            raw = {"id": n, "person": person, "group": group, "text": f"шаг {n}"}
            sent[f"vk:{group or person}"].append(f"шаг {n}")
            await workers[n % len(workers)].receive([raw])
            if n % 5 == 0:
                await asyncio.sleep(0)  # some arrive while others are being handled
        await wait_handled(ctx, 40)
    finally:
        for worker in workers:
            await worker.stop()

    assert core.overlaps == []
    assert dict(core.seen) == dict(sent)
    replies = await outbox(ctx)
    for chat, texts in sent.items():
        chat_id = chat.removeprefix("vk:")
        assert [t for purpose, c, t in replies if c == chat_id and purpose == PURPOSE_REPLY] == [
            f"принято: {text}" for text in texts
        ]


async def test_an_update_that_keeps_failing_is_given_up_with_an_apology_and_one_alert(ctx: Context) -> None:
    core = WatchingCore()
    worker = runtime(ctx, core, max_starts=3)
    await worker.start()
    try:
        await worker.receive(
            [
                {"id": 1, "person": "7", "text": "boom"},
                {"id": 2, "person": "7", "text": "дальше"},
                {"id": 3, "person": "8", "group": -5, "text": "boom"},
                {"id": 4, "person": "8", "group": -5, "text": "boom", "reply": True},
            ]
        )
        await wait_handled(ctx, 4)
    finally:
        await worker.stop()

    assert core.calls.count("boom") == 9, "three starts each"
    assert core.seen["vk:7"] == ["дальше"]
    assert await statuses(ctx) == [
        ("1", "failed", 3),
        ("2", "handled", 1),
        ("3", "failed", 3),
        ("4", "failed", 3),
    ]
    replies = await outbox(ctx)
    apology = ctx.texts("app-error")
    # In the group only the message meant for the bot (a reply to it) hears that it failed.
    answers = [(c, t) for p, c, t in replies if p == PURPOSE_REPLY]
    assert [t for c, t in answers if c == "7"] == [apology, "принято: дальше"]
    assert [t for c, t in answers if c != "7"] == [ctx.texts("app-error-group")]
    async with ctx.db.read() as session:
        in_group = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == "-5"))
    assert in_group is not None and reply_from_json(in_group.payload).reply_to == "4"
    alerts = [(c, t) for p, c, t in replies if p == PURPOSE_ALERT]
    admin_chats = [chat.chat_id for chat in ctx.catalogue.admin.chats]
    assert [c for c, _t in alerts] == admin_chats * 3, "one alert per update given up, none in the group"
    assert all("message_new" in t and "boom" not in t for _c, t in alerts)


async def test_an_update_that_kills_the_process_is_given_up_after_n_starts(ctx: Context) -> None:
    """Each start is counted before it begins: a start the process never returns from counts."""
    for start in range(1, 4):
        core = WatchingCore()
        worker = runtime(ctx, core, max_starts=3)
        await worker.start()
        if start == 1:
            await worker.receive([{"id": 1, "person": "7", "text": "hang"}])
        await asyncio.wait_for(core.called.wait(), 5)
        assert core.calls == ["hang"]
        await worker.stop(grace=0)  # the process dies in the middle of it
        assert await statuses(ctx) == [("1", "pending", start)]

    core = WatchingCore()
    worker = runtime(ctx, core, max_starts=3)
    await worker.start()
    try:
        await worker.receive([{"id": 2, "person": "7", "text": "я здесь"}])
        await wait_handled(ctx, 2)
    finally:
        await worker.stop()
    assert core.calls == ["я здесь"], "not started a fourth time"
    assert await statuses(ctx) == [("1", "failed", 3), ("2", "handled", 1)]
    texts = [t for p, c, t in await outbox(ctx) if p == PURPOSE_REPLY]
    assert texts == [ctx.texts("app-error"), "принято: я здесь"]


async def test_an_unreadable_update_in_a_batch_of_ten_fails_alone(
    ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    core = WatchingCore()
    worker = runtime(ctx, core)
    await worker.start()
    batch = [{"id": n, "person": str(200 + n), "text": f"№{n}", "bad": n == 4} for n in range(10)]
    try:
        with caplog.at_level(logging.ERROR, logger="bot.runtime"):
            assert await worker.receive(batch) == 10
            await wait_handled(ctx, 10)
    finally:
        await worker.stop()

    assert sorted(core.calls) == sorted(f"№{n}" for n in range(10) if n != 4)
    assert [s for _k, s, _a in await statuses(ctx)] == ["handled"] * 4 + ["failed"] + ["handled"] * 5
    [record] = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert "message_new" in record.getMessage() and "№4" not in record.getMessage()


async def test_a_redelivered_update_is_stored_and_handled_once(ctx: Context) -> None:
    core = WatchingCore()
    worker = runtime(ctx, core)
    await worker.start()
    try:
        raw = {"id": 1, "person": "7", "text": "привет"}
        assert await worker.receive([raw, raw]) == 1
        await wait_handled(ctx, 1)
        assert await worker.receive([raw]) == 0
        await worker.settled()
    finally:
        await worker.stop()
    assert core.calls == ["привет"]
