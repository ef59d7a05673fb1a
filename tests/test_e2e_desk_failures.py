"""When Telegram says no for good, the people who must act are told; a restart with a full
outbox delivers every card exactly once."""

from __future__ import annotations

from sqlalchemy import select

from handlers.events import PersonRef, Platform
from storage.models import AppealEvent
from tests.support import desk
from tests.support.steps import step
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, HOUSING, TAMBOV_ROADS, file_appeal, history, stored


async def _file_without_card(tg: Telegram, name: str, user_id: int, description: str) -> str:
    """The resident's dialogue up to «принято»; returns the appeal number."""
    resident = tg.user(user_id, name)
    await resident.send("/start")
    await resident.expect_message(contains="согласие")
    await resident.click("Согласен")
    await resident.expect_message(contains=step("topic"))
    await resident.click("Дороги")
    await resident.expect_message(contains=step("municipality"))
    await resident.click("Тамбов")
    await resident.expect_message(contains=step("description"))
    await resident.send(description)
    await resident.expect_message(contains=step("place"))
    await resident.click("Пропустить")
    await resident.expect_message(contains=step("photos"))
    await resident.click("Пропустить")
    await resident.expect_message(contains=step("phone"))
    await resident.click("Пропустить")
    await resident.expect_message(contains="Проверьте обращение")
    await resident.click("Отправить")
    done = await resident.expect_message(contains="принято")
    return done.text.split("№ ", 1)[1].split()[0]


async def test_a_group_that_removed_the_bot_alerts_the_admins_who_redirect_the_appeal(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    admin = tg.user(7001, "Дежурный ЦУР")
    roads, admins = tg.group(TAMBOV_ROADS), tg.group(ADMINS)
    roads.remove_bot()

    number = await _file_without_card(tg, "Алиса", 1001, "Провал асфальта на перекрёстке")

    alert = await admins.expect_message(contains="не доставлена")
    assert alert.text.startswith(f"⚠️ Карточка обращения № {number} не доставлена")
    assert "Управление дорожного хозяйства г. Тамбова (telegram:-1001000000001)" in alert.text
    assert "бота удалили из чата или запретили ему писать" in alert.text
    await telegram_bot.delivered()
    admins.assert_nothing_new()  # one alert, not one per message of the card
    assert roads.messages == []
    appeal_id = int(number.split("-")[1])
    appeal = await stored(telegram_bot, appeal_id)
    assert (appeal.status, appeal.agency_id) == ("passed", "tambov-roads"), "kept for re-routing"
    assert await history(telegram_bot, appeal_id) == ["created", "passed", "delivery_failed"]

    await admins.send(f"/appeal {number}", from_user=admin)
    shown = await admins.expect_message(contains="История")
    assert "карточка не доставлена" in shown.text
    await admins.click(shown, "Перенаправить", by=admin)
    choose = await admins.expect_message(contains="Куда перенаправить")
    await admins.click(choose, "Управление ЖКХ и государственная жилищная инспекция", by=admin)

    card = await tg.group(HOUSING).expect_message(contains=f"Обращение № {number}", has_button="Ответить")
    assert "Провал асфальта на перекрёстке" in card.text
    await alice.expect_message(contains="передано в другое ведомство")
    await telegram_bot.delivered()
    assert roads.messages == []


async def test_staff_are_told_when_the_resident_blocked_the_bot(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    alice.block_bot()
    heard = len(alice.messages)

    answer = await filed.group.reply(filed.card, "Яму заделали", from_user=inspector)

    report = await filed.group.expect_message(contains="не доставлен")
    assert report.text == f"⚠️ Житель заблокировал бота — ответ по обращению № {filed.number} не доставлен."
    assert report.reply_to_message_id == answer["message_id"]
    await telegram_bot.delivered()
    assert len(alice.messages) == heard
    assert "доставлен жителю" not in " ".join(m.text for m in filed.group.messages)
    # The answer is in the history all the same; the admins are not bothered.
    assert tg.group(ADMINS).messages == []
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        kinds = (await session.scalars(select(AppealEvent.kind).where(AppealEvent.kind == "answer"))).all()
    assert kinds == ["answer"]


async def test_a_restart_with_a_full_outbox_delivers_every_card_exactly_once(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    assert telegram_bot.app is not None and telegram_bot.app.sender is not None
    telegram_bot.app.sender.stop()  # the sender is gone: cards pile up in the outbox
    assert telegram_bot.app.sender_task is not None
    await telegram_bot.app.sender_task
    roads = tg.group(TAMBOV_ROADS)
    ctx = telegram_bot.app.ctx
    numbers = []
    for n in range(6):
        tg.user(1100 + n, f"Житель {n}")
        resident = PersonRef(Platform.TELEGRAM, str(1100 + n))
        appeal_id = await desk.file_appeal(
            ctx, description=f"Яма на улице Советской, дом {n}", resident=resident
        )
        numbers.append((await desk.appeal(ctx, appeal_id)).number)
    assert roads.messages == []

    await telegram_bot.restart()
    await tg.server.wait_for(lambda: len(roads.messages) >= 1)
    await telegram_bot.restart()  # again, with deliveries in flight
    await telegram_bot.delivered()

    cards = [m.text.split("\n", 1)[0] for m in roads.messages]
    assert cards == [f"Обращение № {number}" for number in numbers]
    assert all(m.buttons for m in roads.messages)
    inspector = tg.user(5001, "Инспектор")
    await roads.reply(roads.messages[-1], "Заделаем", from_user=inspector)
    resident = tg.user(1105)
    await resident.expect_message(contains="Заделаем")
