"""Deadlines on Telegram with a clock the test moves: reminders in the agency group at half
time and at the deadline, the escalation and /overdue in the admin chat, each once."""

from __future__ import annotations

from datetime import timedelta

from handlers.clock import FrozenClock
from handlers.deadlines import check_deadlines
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, HOUSING, file_appeal, history


async def _check(bot: TelegramBot) -> None:
    assert bot.app is not None
    await check_deadlines(bot.app.ctx)
    bot.app.notify()
    await bot.delivered()


async def test_reminders_escalation_and_overdue(tg: Telegram, telegram_bot: TelegramBot) -> None:
    clock = telegram_bot.clock
    assert isinstance(clock, FrozenClock)
    alice = tg.user(1001, "Алиса")
    admin = tg.user(7001, "Дежурный ЦУР")
    filed = await file_appeal(tg, alice)  # roads: 48 hours for the first answer
    admins = tg.group(ADMINS)
    group = filed.group

    clock.advance(timedelta(hours=23))
    await _check(telegram_bot)
    group.assert_nothing_new()

    clock.advance(timedelta(hours=2))
    await _check(telegram_bot)
    half = await group.expect_message(contains="прошла половина срока")
    assert half.text == (
        f"⏳ По обращению № {filed.number} прошла половина срока первого ответа. Срок: 26.11.2026 12:00."
    )
    await _check(telegram_bot)
    group.assert_nothing_new()
    admins.assert_nothing_new()

    await admins.send("/overdue", from_user=admin)
    await admins.expect_message(contains="Просроченных обращений нет")

    clock.advance(timedelta(hours=24))
    await _check(telegram_bot)
    due = await group.expect_message(contains="истёк")
    assert f"Срок первого ответа по обращению № {filed.number} истёк (26.11.2026 12:00)" in due.text
    escalation = await admins.expect_message(contains="Просрочено обращение")
    assert escalation.text == (
        f"⚠️ Просрочено обращение № {filed.number} (Дороги, Управление дорожного хозяйства г. Тамбова): "
        "срок первого ответа истёк 26.11.2026 12:00."
    )
    assert escalation.buttons[0] == ["Взять в работу", "Ответить"]
    clock.advance(timedelta(minutes=5))
    await _check(telegram_bot)
    group.assert_nothing_new()
    admins.assert_nothing_new()

    await admins.send("/overdue", from_user=admin)
    overdue = await admins.expect_message(contains="Просроченные обращения: 1")
    assert "Управление дорожного хозяйства г. Тамбова" in overdue.text
    assert f"№ {filed.number} · Дороги · просрочено на 1 ч" in overdue.text

    # The staff of the agency reply to the reminder: the resident hears, and it is no longer overdue.
    inspector = tg.user(5001, "Инспектор")
    await group.reply(due, "Простите за задержку, выезжаем", from_user=inspector)
    await alice.expect_message(contains="Простите за задержку")
    await telegram_bot.delivered()
    await admins.send("/overdue", from_user=admin)
    await admins.expect_message(contains="Просроченных обращений нет")
    assert await history(telegram_bot, filed.appeal_id) == [
        "created",
        "passed",
        "reminder_half",
        "reminder_due",
        "escalated",
        "answer",
    ]


async def test_the_admins_redirect_an_escalated_appeal_from_the_escalation(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    clock = telegram_bot.clock
    assert isinstance(clock, FrozenClock)
    alice = tg.user(1001, "Алиса")
    admin = tg.user(7001, "Дежурный ЦУР")
    filed = await file_appeal(tg, alice)
    admins = tg.group(ADMINS)

    clock.advance(timedelta(hours=49))  # a late first check: no half-way reminder any more
    await _check(telegram_bot)
    await filed.group.expect_message(contains="истёк")
    filed.group.assert_nothing_new()
    escalation = await admins.expect_message(contains="Просрочено обращение")

    await admins.click(escalation, "Перенаправить", by=admin)
    choose = await admins.expect_message(contains="Куда перенаправить")
    await admins.click(choose, "Управление ЖКХ и государственная жилищн…", by=admin)

    housing = tg.group(HOUSING)
    card = await housing.expect_message(contains=f"Обращение № {filed.number}", has_button="Взять в работу")
    assert "Срок первого ответа: 28.11.2026 13:00" in card.text, "the new agency gets its own full time"
    await filed.group.expect_edit(filed.card, "Перенаправлено в Управление ЖКХ")
    await alice.expect_message(contains="передано в другое ведомство")
    await telegram_bot.delivered()
    await admins.send("/overdue", from_user=admin)
    await admins.expect_message(contains="Просроченных обращений нет")
