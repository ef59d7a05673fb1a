"""The runtime's promises on each real road: Telegram polling, Telegram webhook, VK long
poll, against the fake servers. Updates are acknowledged only after they are stored; an
answer committed but not delivered is delivered after a restart, once; an outage of
sendMessage (30 seconds or a whole day, with or without a restart in the middle) loses no
message and sends none twice; a poison update is given up with an apology; one unreadable
update in a batch of ten fails alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

import bot.runtime
from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from handlers.events import Event, Response
from handlers.texts import Texts
from storage import kv
from storage.db import Database
from storage.models import InboxUpdate, OutboxMessage
from tests.fake_vk import GROUP_ID, FakeVk
from tests.support.steps import step
from tests.support.telegram import Person, Telegram, TelegramBot
from tests.support.vk import running_vk_bot
from tests.test_vk_polling import ANNA, echo_core, shown

ADMINS = -1001000000000


@contextlib.asynccontextmanager
async def store_held(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[asyncio.Event, asyncio.Event]]:
    """Storing updates waits until the second event is set; the first says it began."""
    entered, release = asyncio.Event(), asyncio.Event()
    real = bot.runtime.store_many

    async def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(bot.runtime, "store_many", held)
    try:
        yield entered, release
    finally:
        release.set()


async def inbox_rows(db: Database, platform: str) -> list[tuple[str, int]]:
    async with db.read() as session:
        rows = await session.scalars(
            select(InboxUpdate).where(InboxUpdate.platform == platform).order_by(InboxUpdate.id)
        )
        return [(row.status, row.attempts) for row in rows]


# -- acknowledged only after it is stored -------------------------------------------------------


async def test_polling_asks_for_the_next_batch_only_after_storing_this_one(
    tg: Telegram, telegram_bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = tg.user(1001, "Алиса")
    async with store_held(monkeypatch) as (entered, release):
        update_id = tg.server.feed({"message": _text_message(alice, "/start")})
        await asyncio.wait_for(entered.wait(), 5)
        polls = len(tg.server.calls_of("getUpdates"))
        await asyncio.sleep(0.3)  # time enough for a wrong order to show
        assert len(tg.server.calls_of("getUpdates")) == polls, "no getUpdates (no acknowledgement) yet"
        assert [u["update_id"] for u in tg.server.pending_updates] == [update_id]
        release.set()
        await alice.expect_message(contains="согласие")
    await telegram_bot.settled()
    assert tg.server.pending_updates == []


@pytest.mark.telegram_bot(webhook=True)
async def test_the_webhook_answers_200_only_after_storing_the_update(
    tg: Telegram, telegram_bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = tg.user(1001, "Алиса")
    async with store_held(monkeypatch) as (entered, release):
        update_id = tg.server.feed({"message": _text_message(alice, "/start")})
        await asyncio.wait_for(entered.wait(), 5)
        await asyncio.sleep(0.3)
        assert [p.status for p in tg.server.webhook_posts if p.update_id == update_id] == []
        release.set()
        await alice.expect_message(contains="согласие")
    assert [p.status for p in tg.server.webhook_posts if p.update_id == update_id] == [200]


async def test_the_vk_long_poll_asks_again_only_after_storing_the_batch(
    db: Database,
    catalogue: Catalogue,
    texts: Texts,
    clock: FrozenClock,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as vk_bot:
        async with db.read() as session:
            ts_before = await kv.get_value(session, f"vk:{GROUP_ID}:longpoll_ts")
        async with store_held(monkeypatch) as (entered, release):
            await vk.user_writes(ANNA, "яма")
            await asyncio.wait_for(entered.wait(), 5)
            await asyncio.sleep(0.3)
            assert not vk.caught_up(), "no long poll with the next ts (no acknowledgement) yet"
            async with db.read() as session:
                assert await kv.get_value(session, f"vk:{GROUP_ID}:longpoll_ts") == ts_before
            release.set()
            await vk_bot.settle()
        assert shown(vk, ANNA) == ["Вы написали: яма"]


# -- answers are durable -----------------------------------------------------------------------------


async def test_an_answer_committed_but_not_sent_is_sent_after_a_restart_once(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    app = telegram_bot.app
    assert app is not None and app.sender is not None and app.sender_task is not None
    app.sender.stop()  # the answers are committed, nobody sends them
    await app.sender_task
    alice = tg.user(1001, "Алиса")
    await alice.send("/start")
    await asyncio.wait_for(_until_handled(telegram_bot, 1), 5)
    assert alice.messages == []

    await telegram_bot.restart()
    await alice.expect_message(contains="согласие")
    await telegram_bot.settled()
    alice.assert_nothing_new()
    texts = [m.text for m in alice.messages]
    assert len(texts) == len(set(texts)) == len(tg.server.calls_of("sendMessage")), "each answer once"


STEPS: list[tuple[Callable[[Person], Awaitable[Any]], str]] = [
    (lambda p: p.send("/start"), "согласие"),
    (lambda p: p.click("Согласен"), step("topic")),
    (lambda p: p.click("Дороги"), step("municipality")),
    (lambda p: p.click("Тамбов"), step("description")),
    (lambda p: p.send("Провал асфальта у дома 5 по улице Советской"), step("place")),
    (lambda p: p.click("Пропустить"), step("photos")),
    (lambda p: p.click("Пропустить"), step("phone")),
    (lambda p: p.click("Пропустить"), "Проверьте обращение"),
    (lambda p: p.click("Отправить"), "принято"),
]


@pytest.mark.slow
async def test_an_outage_of_send_message_at_any_step_loses_nothing_and_repeats_nothing(
    tg: Telegram, telegram_bot: TelegramBot, clock: FrozenClock
) -> None:
    """At every step of the dialogue sendMessage fails (HTTP 500) for 30 seconds or for a
    whole day, the bot restarted in the middle of every third; the clock is the app's."""
    alice = tg.user(1001, "Алиса")
    for index, (act, expected) in enumerate(STEPS):
        outage = timedelta(seconds=30) if index % 2 == 0 else timedelta(days=1)
        tg.server.fail_next(1_000_000, "sendMessage", kind="500")
        sent_before = _delivered_to(tg, alice.id)
        await act(alice)
        await telegram_bot.settled()
        await _until_tried(telegram_bot)
        if index % 3 == 1:
            await telegram_bot.restart()
        end = clock.now() + outage
        while clock.now() < end:  # the outage goes on: every retry fails
            clock.advance(min(timedelta(minutes=30), end - clock.now()))
            await _sender_looked(telegram_bot)
        assert _delivered_to(tg, alice.id) == sent_before, f"step {index}: nothing got through"
        tg.server.calm()
        clock.advance(timedelta(minutes=6))  # past any backoff (at most 5 minutes, +20 %)
        await _sender_looked(telegram_bot)
        await alice.expect_message(contains=expected)
        await telegram_bot.settled()
        new = [m.text for m in alice.unread()]
        assert len(new) == len(set(new)), f"step {index}: sent twice: {new}"
        alice.read_all()
    async with telegram_bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {"sent"}


async def _sender_looked(telegram_bot: TelegramBot) -> None:
    assert telegram_bot.app is not None and telegram_bot.app.sender is not None
    telegram_bot.app.sender.notify()
    await telegram_bot.settled()


async def _until_tried(telegram_bot: TelegramBot) -> None:
    """Until the first pending message of every chat was tried (and failed)."""
    assert telegram_bot.app is not None
    db = telegram_bot.app.ctx.db
    earlier = aliased(OutboxMessage)
    untried_heads = select(OutboxMessage.id).where(
        OutboxMessage.status == "pending",
        OutboxMessage.last_error.is_(None),
        ~exists().where(
            earlier.platform == OutboxMessage.platform,
            earlier.chat_id == OutboxMessage.chat_id,
            earlier.id < OutboxMessage.id,
            earlier.status == "pending",
        ),
    )

    async def tried() -> None:
        while True:
            async with db.read() as session:
                if not (await session.scalars(untried_heads)).all():
                    return
            await asyncio.sleep(0.02)  # the sender commits without telling us

    await asyncio.wait_for(tried(), 5)


def _delivered_to(tg: Telegram, chat_id: int) -> int:
    return len([c for c in tg.server.calls_of("sendMessage") if c.chat_id == chat_id and c.status == 200])


async def _until_handled(telegram_bot: TelegramBot, count: int) -> None:
    assert telegram_bot.app is not None
    while (await inbox_rows(telegram_bot.app.ctx.db, "telegram")).count(("handled", 1)) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.02)  # the database tells nobody: look again


# -- poison updates ----------------------------------------------------------------------------------


def _breaking(telegram_bot: TelegramBot, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    """The core raises on ``text`` (a bug); returns the texts it was started with."""
    assert telegram_bot.app is not None
    core = telegram_bot.app.core
    real = core.handle
    started: list[str] = []

    async def handle(event: Event) -> Response:
        started.append(str(event.text))
        if event.text == text:
            raise RuntimeError("a bug in the core")
        return await real(event)

    monkeypatch.setattr(core, "handle", handle)
    return started


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_poison_update_is_given_up_with_an_apology_and_one_alert(
    mode: str,
    tg: Telegram,
    database_url: str,
    catalogue: Catalogue,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tg.add_catalogue_chats(catalogue)
    harness = TelegramBot(tg, database_url, catalogue, clock, webhook=mode == "webhook")
    await harness.start()
    try:
        started = _breaking(harness, monkeypatch, "💥")
        alice, admins = tg.user(1001, "Алиса"), tg.group(ADMINS)
        await alice.send("💥")
        await alice.send("/start")
        await alice.expect_message(contains="что-то пошло не так")
        await alice.expect_message(contains="согласие")
        alert = await admins.expect_message(contains="не удалось обработать")
        await harness.settled()
        alice.assert_nothing_new()
        admins.assert_nothing_new()
        assert "message" in alert.text and "💥" not in alert.text
        assert started == ["💥", "💥", "💥", "/start"]
        assert await inbox_rows(harness.app.ctx.db, "telegram") == [("failed", 3), ("handled", 1)]  # type: ignore[union-attr]
    finally:
        await harness.stop()


# -- one unreadable update in a batch --------------------------------------------------------------


def _text_message(person: Person, text: str, **extra: Any) -> dict[str, Any]:
    user = person.user.as_api()
    return {
        "message_id": 1,
        "date": 1764000000,
        "chat": {"id": person.id, "type": "private", "first_name": person.name},
        "from": user,
        "text": text,
        **extra,
    }


async def test_one_unreadable_update_in_a_batch_of_ten_fails_alone(
    tg: Telegram, telegram_bot: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Ten updates reach the bot in one getUpdates answer; one of them aiogram's model
    refuses. The nine others are answered; the tenth is logged by its kind and failed. One
    of the nine carries ``link_preview_options`` (a person who turned previews off)."""
    people = [tg.user(2000 + n, f"Житель {n}") for n in range(10)]
    with caplog.at_level(logging.ERROR, logger="bot.runtime"):
        for n, person in enumerate(people):
            message = _text_message(person, "/start")
            if n == 3:
                message["chat"] = "not a chat"
            if n == 6:
                message["link_preview_options"] = {"is_disabled": True}
            tg.server.feed({"message": message})
        for n, person in enumerate(people):
            if n != 3:
                await person.expect_message(contains="согласие")
        await telegram_bot.settled()
    assert len([c for c in tg.server.calls_of("getUpdates") if c.status == 200]) >= 1
    assert people[3].messages == []
    assert [s for s, _a in await inbox_rows(telegram_bot.app.ctx.db, "telegram")].count("failed") == 1  # type: ignore[union-attr]
    [record] = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert "a message update" in record.getMessage()
    assert tg.server.pending_updates == []


async def test_one_unreadable_vk_event_in_a_batch_of_ten_fails_alone(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as vk_bot:
        events = []
        for n in range(10):
            message: dict[str, Any] = {"peer_id": 900 + n, "from_id": 900 + n, "text": f"№{n}", "id": n + 1}
            if n == 5:
                message["peer_id"] = "not a number"
            events.append({"type": "message_new", "event_id": f"e{n}", "object": {"message": message}})
        async with vk._new_event:  # one long-poll answer with all ten (raw, as VK would)
            vk._events.extend(events)
            vk._new_event.notify_all()
        await vk_bot.settle()
        for n in range(10):
            assert shown(vk, 900 + n) == ([] if n == 5 else [f"Вы написали: №{n}"])
    assert [s for s, _a in await inbox_rows(db, "vk")].count("failed") == 1
