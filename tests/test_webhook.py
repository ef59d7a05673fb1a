"""Telegram in webhook mode: the real app behind its aiohttp server, the fake Telegram POSTing."""

from __future__ import annotations

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import ConfigurationError, open_app
from bot.config import Settings, TelegramSettings
from bot.telegram.webhook import TelegramWebhook
from handlers.catalogue import Catalogue
from storage import inbox
from storage.models import Appeal, InboxUpdate
from tests.support.steps import step
from tests.support.telegram import WEBHOOK_SECRET, Person, Telegram, TelegramBot

pytestmark = pytest.mark.telegram_bot(webhook=True)

ROADS_AGENCY = -1001000000001


def _webhook(bot: TelegramBot) -> TelegramWebhook:
    assert bot.app is not None and isinstance(bot.app.telegram, TelegramWebhook)
    return bot.app.telegram


async def _post(bot: TelegramBot, update: dict[str, object], secret: str | None) -> int:
    webhook = _webhook(bot)
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    url = f"http://127.0.0.1:{webhook.port}{webhook.path}"
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as response:
        return response.status


def _message_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "Мэллори"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Мэллори"},
            "from": user,
            "text": text,
        },
    }


async def _inbox_count(bot: TelegramBot) -> int:
    assert bot.app is not None
    async with bot.app.ctx.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)


async def test_the_bot_sets_its_webhook_with_the_secret(tg: Telegram, telegram_bot: TelegramBot) -> None:
    (call,) = tg.server.calls_of("setWebhook")
    assert call.params["url"] == telegram_bot.settings.telegram.webhook_url
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert "callback_query" in call.params["allowed_updates"]
    assert not call.params.get("drop_pending_updates")
    assert not tg.server.calls_of("getUpdates")


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    mallory = tg.user(6666, "Мэллори")
    assert await _post(telegram_bot, _message_update(900, mallory.id, "/start"), "not-the-secret") == 401
    assert await _post(telegram_bot, _message_update(901, mallory.id, "/start"), None) == 401
    assert await _post(telegram_bot, _message_update(902, mallory.id, "/start"), WEBHOOK_SECRET[:-1]) == 401
    await telegram_bot.settled()
    assert await _inbox_count(telegram_bot) == 0
    assert _webhook(telegram_bot).rejected == 3
    mallory.assert_nothing_new()

    assert await _post(telegram_bot, _message_update(903, mallory.id, "/start"), WEBHOOK_SECRET) == 200
    await telegram_bot.settled()
    await mallory.expect_message(contains="согласие")


async def test_the_health_endpoint_answers(telegram_bot: TelegramBot) -> None:
    health = f"http://127.0.0.1:{_webhook(telegram_bot).port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(health) as response:
        assert response.status == 200


async def test_a_redelivered_update_is_handled_once(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    tg.server.redeliver_next(1)
    await alice.send("/start")
    await telegram_bot.settled()
    posts = [p for p in tg.server.webhook_posts if p.status == 200]
    assert len(posts) == 2 and posts[0].update_id == posts[1].update_id, "Telegram delivered it twice"
    await alice.expect_message(contains="согласие")
    alice.assert_nothing_new()
    async with telegram_bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        rows = (await session.scalars(select(InboxUpdate))).all()
    assert [(row.update_key, row.status) for row in rows] == [(str(posts[0].update_id), inbox.HANDLED)]


async def test_a_failing_worker_gets_the_update_again_until_it_stores_it(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    webhook_url = telegram_bot.settings.telegram.webhook_url
    assert webhook_url is not None
    dead = "http://127.0.0.1:9/telegram/webhook"  # nothing listens on the discard port
    tg.server.balance([dead, webhook_url])
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    statuses = [(p.url, p.status) for p in tg.server.webhook_posts]
    assert statuses[:2] == [(dead, 0), (webhook_url, 200)]


async def test_the_whole_dialogue_through_the_webhook(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await alice.click("Согласен")
    await alice.expect_message(contains=step("topic"))
    await alice.click("Дороги")
    await alice.expect_message(contains=step("municipality"))
    await alice.click("Тамбов")
    await alice.expect_message(contains=step("description"))
    await alice.send("Большая яма на дороге у дома номер пять")
    await alice.expect_message(contains=step("place"))
    await alice.click("📍 Отправить геолокацию", location=(52.72, 41.45))
    await alice.expect_message(contains=step("photos"))
    await alice.send_album(2)
    await alice.expect_message(contains="Фото получено: 2 из 5")
    await alice.click("Готово")
    await alice.expect_message(contains=step("phone"))
    await alice.click("Поделиться номером")
    review = await alice.expect_message(contains="Проверьте обращение")
    assert "Фото: 2" in review.text and "Телефон: +7 900 000-10-01" in review.text
    await alice.click("Отправить")
    done = await alice.expect_message(contains="принято")
    assert "№ 2026-000001" in done.text

    agency = tg.group(ROADS_AGENCY)
    card = await agency.expect_message(contains="Большая яма на дороге")
    inspector = tg.user(5001, "Инспектор")
    await agency.reply(card, "Отремонтируем до пятницы", from_user=inspector)
    answer = await alice.expect_message(contains="Отремонтируем до пятницы")
    assert "2026-000001" in answer.text
    await telegram_bot.delivered()
    async with telegram_bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        appeal = (await session.scalars(select(Appeal))).one()
    assert (appeal.latitude, appeal.longitude) == (52.72, 41.45)
    assert not tg.server.calls_of("getUpdates")


async def test_updates_that_came_while_the_bot_was_down_are_handled_after_a_restart(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice: Person = tg.user(1001, "Алиса")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await telegram_bot.stop()
    await alice.click("Согласен")  # Telegram keeps retrying while nobody listens
    await telegram_bot.start()
    await alice.expect_message(contains=step("topic"))


@pytest.mark.parametrize(
    ("telegram", "problem"),
    [
        ({"webhook_url": None, "webhook_secret": SecretStr("abc")}, "TELEGRAM_WEBHOOK_URL"),
        ({"webhook_url": "https://bot.example/tg", "webhook_secret": None}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"webhook_url": "https://bot.example/tg", "webhook_secret": SecretStr("не так")}, "A-Z"),
    ],
)
async def test_webhook_mode_needs_a_url_and_a_proper_secret(
    database_url: str, catalogue: Catalogue, telegram: dict[str, object], problem: str
) -> None:
    settings = Settings(
        database_url=database_url,
        telegram=TelegramSettings(bot_token=SecretStr("123:abc"), mode="webhook", **telegram),  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigurationError, match=problem):
        async with open_app(settings, catalogue=catalogue, setup_logging=False, jobs=None):
            pass


@pytest.mark.telegram_bot(webhook=False)
async def test_polling_mode_deletes_the_webhook_without_dropping_updates(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    (call,) = tg.server.calls_of("deleteWebhook")
    assert not call.params.get("drop_pending_updates")
    assert tg.server.webhook_url is None
