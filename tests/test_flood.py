"""Flood and spam: one polite answer over the per-minute limit, then silence; /block and
/unblock from the admin chat, end to end on Telegram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.core import Core
from handlers.events import PersonRef, Platform
from handlers.flood import FloodGuard, Verdict
from tests.support.chat import ResidentChat
from tests.support.steps import step
from tests.support.telegram import Person, Telegram, TelegramBot

FLOOD_NOTICE = "слишком часто"
ADMIN_CHAT = -1001000000000
ROADS_AGENCY = -1001000000001


@pytest.fixture
def core(ctx: Context) -> Core:
    return Core(ctx)


async def test_a_flood_gets_one_answer_then_silence_until_the_minute_passes(
    core: Core, clock: FrozenClock
) -> None:
    limit = core.ctx.catalogue.limits.messages_per_minute
    alice = ResidentChat(core, Platform.TELEGRAM, "1001", name="Алиса")
    await alice.send("/start")
    await alice.click("Согласен")
    for _ in range(limit - 2):
        response = await alice.send("/help")
        assert "Что умеет бот" in response.replies[0].text
    over = await alice.send("/help")
    assert [r.text for r in over.replies] == [core.ctx.texts("guard-flood")]
    for _ in range(30):
        assert (await alice.send("Спам спам спам")).replies == []
    clock.advance(timedelta(seconds=30))
    assert (await alice.send("/help")).replies == [], "still within the minute"
    clock.advance(timedelta(seconds=31))
    back = await alice.send("/help")
    assert "Что умеет бот" in back.replies[0].text


async def test_one_residents_flood_does_not_silence_another(core: Core) -> None:
    limit = core.ctx.catalogue.limits.messages_per_minute
    alice = ResidentChat(core, Platform.TELEGRAM, "1001")
    bob = ResidentChat(core, Platform.TELEGRAM, "1002")
    for _ in range(limit + 5):
        await alice.send("/help")
    assert (await alice.send("/help")).replies == []
    assert "Что умеет бот" in (await bob.send("/help")).replies[0].text


def test_the_guard_forgets_idle_people_and_stays_bounded() -> None:
    guard = FloodGuard(max_people=100)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for n in range(1000):
        guard.check(PersonRef(Platform.TELEGRAM, str(n)), start, limit=3)
    assert len(guard) <= 101
    later = start + timedelta(minutes=2)
    assert guard.check(PersonRef(Platform.VK, "1"), later, limit=3) is Verdict.ALLOW
    assert len(guard) == 1, "everyone idle for a minute is forgotten"


def test_the_verdicts_at_the_edge_of_the_limit() -> None:
    guard = FloodGuard()
    alice = PersonRef(Platform.TELEGRAM, "1")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    verdicts = [guard.check(alice, start + timedelta(seconds=n), limit=3) for n in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert guard.check(alice, start + timedelta(seconds=60), limit=3) is Verdict.ALLOW
    assert guard.check(alice, start + timedelta(seconds=60.5), limit=3) is Verdict.WARN


async def _file_appeal(alice: Person, description: str) -> str:
    await alice.expect_message(contains=step("topic"))
    await alice.click("Дороги")
    await alice.expect_message(contains=step("municipality"))
    await alice.click("Тамбов")
    await alice.expect_message(contains=step("description"))
    await alice.send(description)
    await alice.expect_message(contains=step("place"))
    await alice.click("Пропустить")
    await alice.expect_message(contains=step("photos"))
    await alice.click("Пропустить")
    await alice.expect_message(contains=step("phone"))
    await alice.click("Пропустить")
    await alice.expect_message(contains="Проверьте обращение")
    await alice.click("Отправить")
    done = await alice.expect_message(contains="принято")
    return done.text.split("№ ", 1)[1].split()[0].rstrip(".,")


async def test_block_and_unblock_from_the_admin_chat(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    admin = tg.group(ADMIN_CHAT)
    duty = tg.user(5001, "Дежурный")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await alice.click("Согласен")
    number = await _file_appeal(alice, "Реклама казино на каждом столбе улицы")
    await tg.group(ROADS_AGENCY).expect_message(contains=number)

    await admin.send(f"/block {number}", from_user=duty)
    await admin.expect_message(contains="заблокирован")
    await alice.send("/new")
    await alice.expect_message(contains="Приём обращений от вас приостановлен")
    await telegram_bot.settled()
    alice.assert_nothing_new()

    await admin.send(f"/unblock {number}", from_user=duty)
    await admin.expect_message(contains="разблокирован")
    await alice.send("/new")
    await alice.expect_message(contains=step("topic"))
