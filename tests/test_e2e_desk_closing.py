"""Honest closing on Telegram: a rejection comes with a listed reason and an explanation; the
resident contests it once, the admin chat upholds it or sends it back; every closed appeal
is rated, a rejected one too. /my shows the agency's answers in full, nothing internal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.clock import FrozenClock
from handlers.deadlines import check_deadlines
from tests.support.telegram import BotMessage, Group, Person, Telegram, TelegramBot
from tests.test_e2e_desk import HOUSING, Filed, cast, file_appeal, history, stored


async def _reject(group: Group, filed: Filed, by: Person, reason: str, text: str) -> None:
    await group.click(filed.card, "Отклонить", by=by)
    choose = await group.expect_message(contains="Причина отказа")
    await group.click(choose, reason, by=by)
    prompt = await group.expect_message(contains="Объясните жителю")
    await group.reply(prompt, text, from_user=by)
    await group.expect_message(contains="отклонено")
    await group.expect_message(contains="доставлен")
    await group.expect_edit(filed.card, "Статус: отклонено")


async def _contesting(
    tg: Telegram, alice: Person, inspector: Person, reason: str, text: str
) -> tuple[Filed, BotMessage]:
    """An appeal rejected for ``reason`` with ``text``; the resident pressed «Оспорить отказ»
    and is asked why they disagree."""
    filed = await file_appeal(tg, alice)
    await _reject(filed.group, filed, inspector, reason, text)
    rejected = await alice.expect_message(contains="отклонено")
    await alice.click("Оспорить отказ", message=rejected)
    await alice.expect_message(contains="почему вы не согласны")
    return filed, rejected


async def test_a_contested_rejection_sent_back_gets_a_new_card_and_answer_term(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice, inspector, admin, admins = cast(tg)
    filed, rejected = await _contesting(
        tg, alice, inspector, "Вне компетенции ведомства", "Это двор, а не дорога"
    )
    await alice.send("Это проезжая часть улицы, двор ни при чём")
    await alice.expect_message(contains="возражение по обращению")
    contest = await admins.expect_message(contains="оспаривает отказ")
    assert contest.text == (
        f"Житель оспаривает отказ по обращению № {filed.number} (Дороги, Управление дорожного хозяйства "
        "г. Тамбова).\nПричина отказа: Вне компетенции ведомства\n"
        "Возражение жителя: Это проезжая часть улицы, двор ни при чём"
    )
    assert contest.buttons == [["Оставить отказ", "Вернуть в ведомство"]]
    await filed.group.expect_edit(filed.card, "Статус: отказ оспорен жителем")
    assert (await stored(telegram_bot, filed.appeal_id)).status == "contested"

    # Once only: the old button says so and nothing reaches the admins.
    await alice.click("Оспорить отказ", message=rejected)
    await alice.expect_toast("Сейчас это действие недоступно")
    # Staff of the agency cannot decide on it.
    query = await filed.group.press_forged(filed.card, f"d:return:{filed.appeal_id}", by=inspector)
    await tg.expect_toast(query, "Эта команда доступна только в чате администраторов.")

    await admins.click(contest, "Вернуть в ведомство", by=admin)
    choose = await admins.expect_message(contains="В какое ведомство вернуть")
    assert choose.buttons[0] == ["Управление дорожного хозяйства г. Тамбова"]  # the one that rejected it
    await admins.click(choose, "Управление ЖКХ и государственная жилищная инспекция", by=admin)
    await admins.expect_edit(choose, "возвращено в Управление ЖКХ")

    housing = tg.group(HOUSING)
    card = await housing.expect_message(contains=f"Обращение № {filed.number}", has_button="Ответить")
    assert "Срок ответа: 24.12.2026, 18:00" in card.text
    told = await alice.expect_message(contains="возвращено в ведомство")
    assert told.text == (
        f"После вашего возражения обращение № {filed.number} возвращено в ведомство: "
        "Управление ЖКХ и государственная жилищная инспекция. Ответ — до 24.12.2026, 18:00."
    )
    await filed.group.expect_edit(filed.card, "Отказ оспорен, обращение возвращено")
    await telegram_bot.settled()
    for chat in (alice, admins, filed.group, housing):
        chat.assert_nothing_new()
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.status, appeal.agency_id, appeal.answered_at) == ("passed", "housing", None)

    # Rejected again: the contest is spent, only the rating is offered.
    await housing.click(card, "Отклонить", by=inspector)
    reasons = await housing.expect_message(contains="Причина отказа")
    await housing.click(reasons, "Повторное обращение", by=inspector)
    prompt = await housing.expect_message(contains="Объясните жителю")
    await housing.reply(prompt, "Уже отвечали по обращению 2026-000007", from_user=inspector)
    again = await alice.expect_message(contains="отклонено")
    assert "оспорить" not in again.text
    assert again.buttons == [["1", "2", "3", "4", "5"]]
    await alice.click("Оспорить отказ", message=rejected)  # the first rejection's old button
    await alice.expect_toast(f"Отказ по обращению № {filed.number} уже оспаривался")
    await telegram_bot.settled()
    admins.assert_nothing_new()
    assert await history(telegram_bot, filed.appeal_id) == [
        "created",
        "passed",
        "rejected",
        "contested",
        "returned",
        "rejected",
    ]


async def test_an_upheld_rejection_is_rated_like_any_closed_appeal(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice, inspector, admin, admins = cast(tg)
    filed, _ = await _contesting(tg, alice, inspector, "Недостаточно сведений", "Не указан дом")
    await alice.send("   ")
    await alice.expect_message(contains="Напишите комментарий текстом")
    admins.assert_nothing_new()
    await alice.send("Адрес был в описании")
    contest = await admins.expect_message(contains="оспаривает отказ")

    await admins.click(contest, "Оставить отказ", by=admin)
    await admins.expect_edit(contest, "оставлен в силе (Дежурный ЦУР)")
    upheld = await alice.expect_message(contains="оставили отказ в силе")
    assert upheld.buttons == [["1", "2", "3", "4", "5"]]
    await filed.group.expect_edit(filed.card, "Статус: отклонено")

    await alice.click("2", message=upheld)
    await alice.expect_message(contains="Спасибо за оценку 2!")
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.status, appeal.rating) == ("rejected", 2)
    assert contest.buttons == [], "the decision is taken: the buttons are gone"
    query = await admins.press_forged(contest, f"d:return:{filed.appeal_id}", by=admin)  # replayed
    await tg.expect_toast(query, "сейчас в статусе «отклонено»")
    await telegram_bot.settled()
    for chat in (alice, admins, filed.group):
        chat.assert_nothing_new()


async def test_my_shows_the_agency_s_answer_in_full_and_status_changes_in_plain_words(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    clock = telegram_bot.clock
    assert isinstance(clock, FrozenClock) and telegram_bot.app is not None
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)  # Tuesday 24 November, 12:00 in Moscow
    clock.advance(timedelta(hours=1))
    await filed.group.click(filed.card, "Взять в работу", by=inspector)
    await alice.expect_message(contains="взято в работу")
    clock.set(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))  # past half of the answer's term
    await telegram_bot.delivered()  # on PostgreSQL the check skips an appeal being written
    await check_deadlines(telegram_bot.app.ctx)
    telegram_bot.app.notify()
    await filed.group.expect_message(contains="половина срока ответа")

    answer = (
        "Добрый день! Участок улицы Советской включён в план ямочного ремонта.\n"
        "Подрядчик выйдет 12 декабря, работы займут два дня. " + "Подробности в приложении. " * 20
    )
    clock.advance(timedelta(minutes=30))
    await filed.group.reply(filed.card, answer, from_user=inspector)
    await alice.expect_message(contains="включён в план")
    await alice.expect_message(contains="Проблема по обращению")

    await alice.send("/my")
    listing = await alice.expect_message(contains="Ваши обращения")
    await alice.click(listing.buttons[0][0], message=listing)
    details = await alice.expect_message(contains=f"Обращение № {filed.number}")
    assert "Статус: дан ответ" in details.text
    history_lines = details.text.split("История\n", 1)[1]
    assert history_lines == (
        "24.11.2026, 12:00 — вы подали обращение\n"
        "24.11.2026, 12:00 — передано в ведомство: Управление дорожного хозяйства г. Тамбова\n"
        "24.11.2026, 13:00 — ведомство взяло обращение в работу\n"
        "09.12.2026, 15:30 — ответ ведомства (Управление дорожного хозяйства г. Тамбова):\n" + answer.strip()
    )
    assert "напомина" not in details.text and "просроч" not in details.text
    await telegram_bot.settled()
    alice.assert_nothing_new()
