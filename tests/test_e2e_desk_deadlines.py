"""Deadlines on Telegram with a clock the test moves: reminders in the agency group at half
time and at the deadline, the escalation and /overdue in the admin chat, each once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.clock import FrozenClock
from handlers.deadlines import check_deadlines
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, HOUSING, file_appeal, history, stored


async def _check(bot: TelegramBot) -> None:
    """One minute's check once the bot is idle: on PostgreSQL the check skips an appeal
    another transaction holds (the card's link being recorded), leaving it to the next
    minute, which a test that moves the clock would not reach."""
    assert bot.app is not None
    await bot.delivered()
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

    # Filed on Tuesday at 12:00 in Moscow: 16 working hours (09:00-18:00) end on Thursday at 10:00.
    clock.advance(timedelta(hours=22))
    await _check(telegram_bot)
    group.assert_nothing_new()

    clock.advance(timedelta(hours=1))
    await _check(telegram_bot)
    half = await group.expect_message(contains="прошла половина срока")
    assert half.text == (
        f"⏳ По обращению № {filed.number} прошла половина срока первого ответа. Срок: 26.11.2026, 10:00."
    )
    await _check(telegram_bot)
    group.assert_nothing_new()
    admins.assert_nothing_new()

    await admins.send("/overdue", from_user=admin)
    await admins.expect_message(contains="Просроченных обращений нет")

    clock.advance(timedelta(hours=24))
    await _check(telegram_bot)
    due = await group.expect_message(contains="истёк")
    assert f"Срок первого ответа по обращению № {filed.number} истёк (26.11.2026, 10:00)" in due.text
    escalation = await admins.expect_message(contains="Просрочено обращение")
    assert escalation.text == (
        f"⚠️ Просрочено обращение № {filed.number} (Дороги, Управление дорожного хозяйства г. Тамбова): "
        "срок первого ответа истёк 26.11.2026, 10:00."
    )
    assert escalation.buttons[0] == ["Взять в работу", "Ответить"]
    clock.advance(timedelta(minutes=5))
    await _check(telegram_bot)
    group.assert_nothing_new()
    admins.assert_nothing_new()

    await admins.send("/overdue", from_user=admin)
    overdue = await admins.expect_message(contains="Просроченные обращения: 1")
    assert "Управление дорожного хозяйства г. Тамбова" in overdue.text
    assert f"№ {filed.number} · Дороги · первый ответ просрочен на 1 час" in overdue.text

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

    clock.advance(timedelta(hours=49))  # Thursday 13:00, a late first check: no half-way reminder
    await _check(telegram_bot)
    await filed.group.expect_message(contains="истёк")
    filed.group.assert_nothing_new()
    escalation = await admins.expect_message(contains="Просрочено обращение")

    await admins.click(escalation, "Перенаправить", by=admin)
    choose = await admins.expect_message(contains="Куда перенаправить")
    await admins.click(choose, "Управление ЖКХ и государственная жилищная инспекция", by=admin)

    housing = tg.group(HOUSING)
    card = await housing.expect_message(contains=f"Обращение № {filed.number}", has_button="Взять в работу")
    # Roads' terms from Thursday 13:00: 16 working hours; 30 days end on Saturday, so Monday.
    assert "Срок первого ответа: 30.11.2026, 11:00" in card.text, "the new agency gets its own full time"
    assert "Срок ответа: 28.12.2026, 18:00" in card.text, "and its own term for the answer"
    await filed.group.expect_edit(filed.card, "Перенаправлено в Управление ЖКХ")
    await alice.expect_message(contains="передано в другое ведомство")
    await telegram_bot.delivered()
    await admins.send("/overdue", from_user=admin)
    await admins.expect_message(contains="Просроченных обращений нет")


async def test_the_answer_clock_runs_after_take_and_the_admins_extend_it_once(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    clock = telegram_bot.clock
    assert isinstance(clock, FrozenClock)
    alice = tg.user(1001, "Алиса")
    admin = tg.user(7001, "Дежурный ЦУР")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)  # Tuesday 24 November, 12:00 in Moscow
    admins, group = tg.group(ADMINS), filed.group
    assert "Срок ответа: 24.12.2026, 18:00" in filed.card.text

    await group.click(filed.card, "Взять в работу", by=inspector)
    await alice.expect_message(contains="взято в работу")
    await group.expect_edit(filed.card, "Статус: в работе")
    assert "Срок первого ответа" not in filed.card.text
    assert "Срок ответа: 24.12.2026, 18:00" in filed.card.text

    clock.set(datetime(2026, 12, 9, 11, 59, tzinfo=UTC))  # 14:59 in Moscow
    await _check(telegram_bot)
    group.assert_nothing_new()
    clock.advance(timedelta(minutes=1))
    await _check(telegram_bot)
    half = await group.expect_message(contains="половина срока ответа")
    assert (
        half.text
        == f"⏳ По обращению № {filed.number} прошла половина срока ответа. Срок: 24.12.2026, 18:00."
    )

    clock.set(datetime(2026, 12, 24, 15, 0, tzinfo=UTC))
    await _check(telegram_bot)
    await _check(telegram_bot)
    await group.expect_message(
        contains=f"Срок ответа по обращению № {filed.number} истёк (24.12.2026, 18:00)"
    )
    escalation = await admins.expect_message(contains="Просрочен ответ")
    assert escalation.buttons[-1] == ["Продлить срок ответа"]
    group.assert_nothing_new()
    admins.assert_nothing_new()
    alice.assert_nothing_new()

    await admins.click(escalation, "Продлить срок ответа", by=admin)
    prompt = await admins.expect_message(contains="Причина продления")
    await admins.reply(prompt, "Нужна экспертиза покрытия, подрядчик выйдет в январе", from_user=admin)
    told = await alice.expect_message(contains="продлён")
    assert told.text == (
        f"Срок ответа по вашему обращению № {filed.number} продлён до 25.01.2027, 18:00. "
        "Причина: Нужна экспертиза покрытия, подрядчик выйдет в январе"
    )
    await admins.expect_message(contains="продлён до 25.01.2027, 18:00. Житель получил причину")
    await admins.expect_message(contains="Житель получил причину продления срока")
    staff = await group.expect_message(contains="продлён до 25.01.2027, 18:00")
    assert "Причина: Нужна экспертиза покрытия" in staff.text
    await group.expect_edit(filed.card, "Срок ответа (продлён): 25.01.2027, 18:00")

    await admins.click(escalation, "Продлить срок ответа", by=admin)
    await telegram_bot.settled()
    assert (await stored(telegram_bot, filed.appeal_id)).answer_due_at == datetime(
        2027, 1, 25, 15, tzinfo=UTC
    )
    alice.assert_nothing_new()

    await group.reply(staff, "Экспертиза назначена на 20 января, результат пришлём", from_user=inspector)
    await alice.expect_message(contains="Экспертиза назначена")
    await group.expect_message(contains="доставлен жителю")
    clock.set(datetime(2027, 1, 25, 15, 0, tzinfo=UTC))
    await _check(telegram_bot)
    group.assert_nothing_new()
    admins.assert_nothing_new()
    assert await history(telegram_bot, filed.appeal_id) == [
        "created",
        "passed",
        "taken",
        "answer_reminder_half",
        "answer_reminder_due",
        "answer_escalated",
        "extended",
        "answer",
    ]
