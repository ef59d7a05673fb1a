"""The long poll loses nothing and handles nothing twice: failures, restarts, floods."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ratelimit import Limits, RateLimiter
from bot.vk.polling import ts_key
from bot.vk.transport import VkTransport
from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.events import Button, ChatKind, Event, Reply, Response
from handlers.texts import Texts
from storage import kv
from storage.db import Database
from storage.models import InboxUpdate, OutboxMessage
from tests.fake_vk import GROUP_ID, FakeVk
from tests.support.vk import running_vk_bot, vk_transport

ANNA = 501
BORIS = 502
AGENCY_CHAT = 2_000_000_001


@dataclass
class EchoCore:
    """Answers every message with what it heard; a test double for the core's entry point."""

    ctx: Context
    seen: list[Event] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def handle(self, event: Event) -> Response:
        if self.gate is not None:
            await self.gate.wait()
        self.seen.append(event)
        if event.text == "сломай":
            raise RuntimeError("a bug in the core")
        if event.payload is not None:
            return Response(toast=f"Выбрано: {event.payload}")
        if event.text == "меню":
            return Response(
                replies=[Reply(text="Что дальше?", buttons=((Button("Дороги", payload="cat:roads"),),))]
            )
        author = f"{event.sender_name}: " if event.chat_kind is ChatKind.GROUP else ""
        return Response(replies=[Reply(text=f"{author}Вы написали: {event.text}")])

    def texts_from(self, user: int) -> list[str | None]:
        return [e.text for e in self.seen if e.sender is not None and e.sender.external_id == str(user)]


def echo_core(db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock) -> EchoCore:
    return EchoCore(Context(db=db, catalogue=catalogue, texts=texts, clock=clock))


async def inbox_statuses(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(InboxUpdate.status).where(InboxUpdate.platform == "vk").order_by(InboxUpdate.id)
    )
    return list(rows.all())


def shown(vk: FakeVk, peer: int) -> list[str]:
    return [m.text for m in vk.bot_messages(peer)]


async def test_messages_are_answered_in_order_and_the_position_is_stored(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as bot:
        for n in range(1, 6):
            await vk.user_writes(ANNA, f"сообщение {n}")
        await vk.user_writes(BORIS, "привет")
        await bot.settle()

        assert shown(vk, ANNA) == [f"Вы написали: сообщение {n}" for n in range(1, 6)]
        assert shown(vk, BORIS) == ["Вы написали: привет"]
        async with db.read() as session:
            statuses = await inbox_statuses(session)
            position = await kv.get_value(session, ts_key(GROUP_ID))
        assert statuses == ["handled"] * 6
        assert position == str(len(vk.updates) + 1)


async def test_failed_1_2_3_lose_nothing_and_repeat_nothing(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as bot:
        await vk.user_writes(ANNA, "раз")
        await vk.user_writes(ANNA, "два")
        await bot.settle()

        vk.fail_poll(2)  # key expired: new key, same ts
        await vk.user_writes(ANNA, "три")
        await bot.settle()

        vk.fail_poll(1)  # history out of date: VK sends us back to the oldest event it keeps
        await vk.user_writes(ANNA, "четыре")
        await bot.settle()

        vk.fail_poll(3)  # key and ts lost: both anew
        await bot.settle()
        await vk.user_writes(ANNA, "пять")
        await bot.settle()

        assert core.texts_from(ANNA) == ["раз", "два", "три", "четыре", "пять"]
        assert shown(vk, ANNA) == [f"Вы написали: {t}" for t in ("раз", "два", "три", "четыре", "пять")]
        assert bot.runner.poller is not None
        assert bot.runner.poller.failures == {1: 1, 2: 1, 3: 1}
        assert len(vk.method_calls("groups.getLongPollServer")) == 3


async def test_a_restart_resumes_where_it_stopped(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    async with FakeVk() as vk:
        first = echo_core(db, catalogue, texts, clock)
        async with running_vk_bot(vk, first, db, tmp_path) as bot:
            await vk.user_writes(ANNA, "до остановки")
            await bot.settle()

        await vk.user_writes(ANNA, "пока бот лежал")
        await vk.user_writes(BORIS, "и я тоже")

        second = echo_core(db, catalogue, texts, clock)
        async with running_vk_bot(vk, second, db, tmp_path) as bot:
            await bot.settle()

        assert [e.text for e in first.seen] == ["до остановки"]
        assert sorted(str(e.text) for e in second.seen) == ["и я тоже", "пока бот лежал"]
        assert shown(vk, ANNA) == ["Вы написали: до остановки", "Вы написали: пока бот лежал"]
        assert shown(vk, BORIS) == ["Вы написали: и я тоже"]


async def test_an_event_stored_but_not_handled_is_handled_after_a_crash(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    async with FakeVk() as vk:
        stuck = echo_core(db, catalogue, texts, clock)
        stuck.gate = asyncio.Event()  # never opened: the process "dies" mid-handling
        async with running_vk_bot(vk, stuck, db, tmp_path) as bot:
            await vk.user_writes(ANNA, "яма на Советской")
            await vk.wait_until(vk.caught_up)
            async with db.read() as session:
                assert await inbox_statuses(session) == ["pending"]
            bot.runner.stop_grace = 0.0

        assert shown(vk, ANNA) == []
        healthy = echo_core(db, catalogue, texts, clock)
        async with running_vk_bot(vk, healthy, db, tmp_path) as bot:
            await bot.settle()
        assert [e.text for e in healthy.seen] == ["яма на Советской"]
        assert shown(vk, ANNA) == ["Вы написали: яма на Советской"]


class StalledTransport(VkTransport):
    """Sends nothing: the process "dies" after the core committed, before the answer left."""

    async def deliver(self, chat_id: str, reply: Reply, *, idempotency_key: str | None = None) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def _committed(db: Database) -> None:
    """Wait until the update's unit of work is committed: marked handled, its answer queued."""
    async with asyncio.timeout(10):
        while True:
            async with db.read() as session:
                if await inbox_statuses(session) == ["handled"]:
                    return
            await asyncio.sleep(0.02)


async def test_an_answer_committed_but_not_sent_is_sent_after_a_crash_without_handling_again(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    async with FakeVk() as vk:
        first = echo_core(db, catalogue, texts, clock)
        stalled = StalledTransport(vk_transport(vk).api)
        async with running_vk_bot(vk, first, db, tmp_path, transport=stalled) as bot:
            await vk.user_writes(ANNA, "яма на Советской")
            await vk.wait_until(lambda: len(first.seen) == 1)
            await _committed(db)  # the core seeing it is not yet its change made
            bot.runner.stop_grace = 0.0
        assert shown(vk, ANNA) == []

        second = echo_core(db, catalogue, texts, clock)
        async with running_vk_bot(vk, second, db, tmp_path) as bot:
            # On PostgreSQL a stopped worker's lease on the message is not taken from it at
            # start (another worker may still hold it): it is sent once the lease (15 s) ends.
            await bot.settle(outbox_timeout=30.0)
        assert second.seen == []  # the core's change is not made twice
        assert shown(vk, ANNA) == ["Вы написали: яма на Советской"]
        async with db.read() as session:
            assert await inbox_statuses(session) == ["handled"]


async def test_error_6_under_load_loses_and_repeats_nothing(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    residents = list(range(600, 640))
    async with FakeVk(enforce_rate=True) as vk:
        # A limiter set too generously, so VK itself has to say "too many requests"; on top
        # of that flood control, and answers lost after VK had already sent the message.
        transport = vk_transport(vk, limiter=RateLimiter(Limits(per_second=200)))
        vk.fail_next("messages.send", error_code=9, times=3)
        vk.fail_next("messages.send", drop=True, after=True, times=3)
        async with running_vk_bot(vk, core, db, tmp_path, transport=transport) as bot:
            for user in residents:
                await vk.user_writes(user, f"обращение от {user}")
            await bot.settle()

        assert vk.rate_limited > 0
        assert len(vk.method_calls("messages.send")) > len(residents) + 6
        for user in residents:
            assert shown(vk, user) == [f"Вы написали: обращение от {user}"]


async def test_the_shared_limiter_keeps_the_bot_under_20_requests_a_second(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    residents = list(range(700, 730))
    async with FakeVk(enforce_rate=True, rate=21) as vk, running_vk_bot(vk, core, db, tmp_path) as bot:
        for user in residents:
            await vk.user_writes(user, "здравствуйте")
        await bot.settle()

        assert vk.rate_limited == 0
        assert all(shown(vk, user) == ["Вы написали: здравствуйте"] for user in residents)


async def test_flood_control_and_a_blocked_resident(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as bot:
        vk.fail_next("messages.send", error_code=9, times=2)
        await vk.user_writes(ANNA, "первое")
        await bot.settle()
        vk.forbid_messages(BORIS)
        await vk.user_writes(BORIS, "я запретил сообщения")
        await vk.user_writes(ANNA, "второе")
        await bot.settle()

        assert shown(vk, ANNA) == ["Вы написали: первое", "Вы написали: второе"]
        assert shown(vk, BORIS) == []
        async with db.read() as session:
            assert set(await inbox_statuses(session)) == {"handled"}


async def test_button_presses_are_answered_and_names_looked_up_once(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as bot:
        vk.add_user(42, "Анна", "Петрова")
        vk.add_user(ANNA, "Анна", "Кузнецова")
        await vk.user_writes(ANNA, "меню")
        await bot.settle()
        await vk.user_presses(ANNA, "Дороги")
        await vk.user_writes(AGENCY_CHAT, "беру", from_id=42)
        await vk.user_writes(AGENCY_CHAT, "сделано", from_id=42)
        await bot.settle()

        assert vk.event_answers == [
            {
                "user_id": ANNA,
                "peer_id": ANNA,
                "event_data": {"type": "show_snackbar", "text": "Выбрано: cat:roads"},
            }
        ]
        assert shown(vk, AGENCY_CHAT) == [
            "Анна Петрова: Вы написали: беру",
            "Анна Петрова: Вы написали: сделано",
        ]
        assert sorted(c["user_ids"] for c in vk.method_calls("users.get")) == ["42", str(ANNA)], (
            "one look-up each"
        )
        assert {e.sender_name for e in core.seen if e.chat.chat_id == str(ANNA)} == {"Анна Кузнецова"}


async def test_an_event_the_core_cannot_handle_is_given_up_with_an_apology_and_the_rest_go_on(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk, running_vk_bot(vk, core, db, tmp_path) as bot:
        await vk.user_writes(ANNA, "сломай")
        await vk.user_writes(ANNA, "а это?")
        await bot.settle()

        assert shown(vk, ANNA) == [texts("app-error"), "Вы написали: а это?"]
        assert [e.text for e in core.seen] == ["сломай"] * 3 + ["а это?"], "three starts, then given up"
        async with db.read() as session:
            assert await inbox_statuses(session) == ["failed", "handled"]
            alerts = (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "alert"))
            ).all()
        assert [(a.platform, a.chat_id) for a in alerts] == [
            (c.platform.value, c.chat_id) for c in catalogue.admin.chats
        ]
        assert "message_new" in alerts[0].payload["text"] and "сломай" not in alerts[0].payload["text"]


async def test_the_bot_finds_its_group_and_rides_out_an_unavailable_api(
    db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock, tmp_path: object
) -> None:
    core = echo_core(db, catalogue, texts, clock)
    async with FakeVk() as vk:
        vk.fail_next("groups.getLongPollServer", error_code=10)
        vk.fail_next("groups.getLongPollServer", http_status=503)
        async with running_vk_bot(vk, core, db, tmp_path, group_id=None) as bot:
            await vk.user_writes(ANNA, "есть кто?")
            await bot.settle()

        assert shown(vk, ANNA) == ["Вы написали: есть кто?"]
        assert len(vk.method_calls("groups.getById")) == 1
        assert [c["group_id"] for c in vk.method_calls("groups.getLongPollServer")] == [str(GROUP_ID)] * 3
