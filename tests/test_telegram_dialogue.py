"""End to end on Telegram: the real app, the fake Bot API server, a real database."""

from __future__ import annotations

from sqlalchemy import select

from handlers.events import Platform
from storage import inbox
from storage.models import Appeal, Attachment, InboxUpdate
from tests.support.steps import step
from tests.support.telegram import Person, Telegram, TelegramBot

ROADS_AGENCY = -1001000000001


async def _consent(alice: Person) -> None:
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await alice.click("Согласен")
    await alice.expect_message(contains=step("topic"))


async def test_an_appeal_with_every_optional_step(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    await _consent(alice)
    await alice.click("Дороги")
    await alice.expect_message(contains=step("municipality"))
    await alice.click("Тамбов")
    await alice.expect_message(contains=step("description"))
    await alice.send("Большая яма на дороге у дома номер пять")
    place = await alice.expect_message(contains=step("place"))
    assert place.keyboard[0] == ["📍 Отправить геолокацию"]
    await alice.click("📍 Отправить геолокацию", location=(52.72, 41.45))
    await alice.expect_message(contains=step("photos"))
    await alice.send_album(2)
    await alice.expect_message(contains="Фото получено: 2 из 5")
    await alice.click("Готово")
    await alice.expect_message(contains=step("phone"))
    await alice.click("Поделиться номером")
    review = await alice.expect_message(contains="Проверьте обращение")
    assert "Тема: Дороги" in review.text and "Фото: 2" in review.text
    assert "Телефон: +7 900 000-10-01" in review.text
    await alice.click("Отправить")
    done = await alice.expect_message(contains="принято")
    assert "№ 2026-000001" in done.text

    agency = tg.group(ROADS_AGENCY)
    card = await agency.expect_message(contains="Большая яма на дороге")
    assert "2026-000001" in card.text
    assert any(m.has_photo for m in agency.messages), "the agency sees the photos"

    async with telegram_bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        appeal = (await session.scalars(select(Appeal))).one()
        photos = (await session.scalars(select(Attachment))).all()
    assert (appeal.latitude, appeal.longitude) == (52.72, 41.45)
    assert appeal.phone == "+79000001001" and len(photos) == 2


async def test_an_appeal_with_every_optional_step_skipped(tg: Telegram, telegram_bot: TelegramBot) -> None:
    bob = tg.user(1002, "Борис")
    await _consent(bob)
    await bob.click("ЖКХ")
    await bob.expect_message(contains=step("municipality"))
    await bob.click("Мичуринск")
    await bob.expect_message(contains=step("description"))
    await bob.send("Не работает освещение во дворе")
    await bob.expect_message(contains=step("place"))
    await bob.click("Пропустить")
    await bob.expect_message(contains=step("photos"))
    await bob.click("Пропустить")
    await bob.expect_message(contains=step("phone"))
    await bob.click("Пропустить")
    review = await bob.expect_message(contains="Проверьте обращение")
    assert "Место: не указано" in review.text and "Телефон: не указан" in review.text
    await bob.click("Отправить")
    await bob.expect_message(contains="принято")


async def test_validation_errors_and_a_foreign_contact(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    await _consent(alice)
    await alice.click("Дороги")
    await alice.expect_message(contains=step("municipality"))
    await alice.click("Тамбов")
    await alice.expect_message(contains=step("description"))
    await alice.send("Яма")
    await alice.expect_message(contains="Описание слишком короткое")
    await alice.send_media("sticker")
    await alice.expect_message(contains="нужно описание текстом")
    await alice.send("Яма на тротуаре возле школы")
    await alice.expect_message(contains=step("place"))
    await alice.click("Пропустить")
    await alice.expect_message(contains=step("photos"))
    await alice.send_media("voice")
    await alice.expect_message(contains="только фотографии")
    await alice.click("Пропустить")
    await alice.expect_message(contains=step("phone"))
    await alice.share_contact("+79007654321", owner=2002)
    await alice.expect_message(contains="чужие контакты мы не принимаем")
    await alice.send("12345")
    await alice.expect_message(contains="Не удалось распознать номер")
    await alice.send("8 900 123-45-67")
    await alice.expect_message(contains="Проверьте обращение")


async def test_a_restart_mid_dialogue_continues_where_the_resident_was(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    await _consent(alice)
    await alice.click("Дороги")
    await alice.expect_message(contains=step("municipality"))
    await telegram_bot.restart()
    await alice.click("Тамбов")
    await alice.expect_message(contains=step("description"))
    await telegram_bot.stop()
    await alice.send("Яма у остановки «Школа» уже месяц")  # arrives while the bot is down
    await telegram_bot.start()
    await alice.expect_message(contains=step("place"))


async def test_my_appeals_and_forget(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    await alice.send("/my")
    await alice.expect_message()
    await _consent(alice)
    await alice.send("/forget")
    await alice.expect_message(contains="Удалить ваши персональные данные?")
    await alice.click("Да, удалить")
    await alice.expect_message(contains="персональные данные удалены")


async def test_an_update_stored_but_not_handled_is_handled_after_restart_exactly_once(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await telegram_bot.settled()
    await telegram_bot.stop()

    # The bot died after storing /help but before handling it, and before acknowledging it:
    # the update is both pending in the inbox and redelivered by Telegram.
    message = await alice.send("/help")
    [update] = tg.server.pending_updates
    db = telegram_bot.settings.database_url
    assert db
    from storage.db import Database

    database = Database(db)
    try:
        async with database.transaction() as session:
            await inbox.store(
                session,
                Platform.TELEGRAM.value,
                [inbox.Incoming(str(update["update_id"]), "telegram:1001", update)],
            )
    finally:
        await database.dispose()
    before = len(alice.messages)
    await telegram_bot.start()
    await telegram_bot.settled()
    answers = [m for m in alice.messages[before:] if "Что умеет бот" in m.text]
    assert len(answers) == 1, f"handled exactly once, got {alice.messages[before:]}"
    assert message["text"] == "/help"
    async with telegram_bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        rows = (await session.scalars(select(InboxUpdate))).all()
    assert sorted(r.status for r in rows) == ["handled", "handled"]


async def test_a_handler_failure_gets_a_polite_answer(tg: Telegram, telegram_bot: TelegramBot) -> None:
    async def broken(_event: object) -> None:
        raise RuntimeError("boom")

    telegram_bot.app.core.dialogue.handle = broken  # type: ignore[union-attr,method-assign,assignment]
    alice = tg.user(1001, "Алиса")
    await alice.send("/start")
    await alice.expect_message(contains="что-то пошло не так")
