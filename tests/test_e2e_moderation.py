"""Moderation by the centre, end to end on Telegram: with ``[moderation]`` on, a new appeal
reaches the admin chat first; moderators pass it on (to the routed agency, another one,
or under another topic) or turn it away with a catalogue reason; the resident hears
which, and why; reminders come at half of the moderation time and at its end; the digest
counts received, passed on and turned away apart."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from handlers.clock import FrozenClock
from handlers.moderation import check_moderation
from tests.support.telegram import BotMessage, Group, Person, Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, HOUSING, REGION_ROADS, TAMBOV_ROADS, history, stored
from tests.test_e2e_desk_failures import _file_without_card


def card_time(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y, %H:%M")


MODERATION = """
[moderation]
enabled = true
hours = 2

[[moderation.reasons]]
id = "spam"
title = "Спам, реклама"

[[moderation.reasons]]
id = "competence"
title = "Не в компетенции органов власти"
text = "вопрос не относится к компетенции органов власти"
"""


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The example region with moderation on (overrides the conftest's catalogue)."""
    path = tmp_path_factory.mktemp("moderation") / "catalogue.toml"
    path.write_text(EXAMPLE_PATH.read_text(encoding="utf-8") + MODERATION, encoding="utf-8")
    return load_catalogue(path)


async def _filed(
    tg: Telegram, user_id: int = 1001, text: str = "Яма на дороге у дома пять"
) -> tuple[Person, str, BotMessage]:
    """A resident files; returns them, the number and the moderation card in the admin chat."""
    number = await _file_without_card(tg, f"Житель {user_id}", user_id, text)
    resident = tg.user(user_id, f"Житель {user_id}")
    moderation = await tg.group(ADMINS).expect_message(
        contains=f"Обращение № {number}", has_button="Отклонить"
    )
    return resident, number, moderation


def _nothing_in_agency_groups(tg: Telegram) -> None:
    for chat in (TAMBOV_ROADS, REGION_ROADS, HOUSING):
        assert tg.group(chat).messages == [], chat


async def test_an_appeal_waits_for_the_centre_and_passing_it_on_brings_the_card_to_the_agency(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    moderator = tg.user(7001, "Дежурный ЦУР")
    alice, number, card = await _filed(tg)
    admins = tg.group(ADMINS)

    assert "на проверке" in card.text
    assert card.buttons == [
        ["Передать: Управление дорожного хозяйства г. Тамбова"],
        ["Сменить тему", "Другое ведомство"],
        ["Отклонить"],
    ]
    await telegram_bot.delivered()
    _nothing_in_agency_groups(tg)
    appeal_id = int(number.split("-")[1])
    assert (await stored(telegram_bot, appeal_id)).status == "moderation"

    telegram_bot.clock.advance(timedelta(minutes=30))  # type: ignore[attr-defined]
    await admins.click(card, "Передать: Управление дорожного хозяйства г. Тамбова", by=moderator)

    agency = tg.group(TAMBOV_ROADS)
    agency_card = await agency.expect_message(contains=f"Обращение № {number}", has_button="Взять в работу")
    assert "Статус: передано в ведомство" in agency_card.text
    notice = await alice.expect_message(contains="проверено")
    assert notice.text.startswith(
        f"Ваше обращение № {number} проверено и передано в ведомство: "
        "Управление дорожного хозяйства г. Тамбова. Ведомство сообщит, что взяло его в работу, до "
    )
    await admins.expect_edit(card, "Передано в Управление дорожного хозяйства г. Тамбова (Дежурный ЦУР)")
    assert card.buttons == []
    appeal = await stored(telegram_bot, appeal_id)
    assert appeal.status == "passed" and appeal.agency_id == "tambov-roads"
    assert appeal.passed_at is not None and appeal.deadline_at is not None
    assert appeal.passed_at - appeal.created_at == timedelta(minutes=30)
    assert card_time(appeal.deadline_at) in notice.text, "the agency's time starts when passed on"
    assert await history(telegram_bot, appeal_id) == ["created", "moderation", "passed"]

    # Pressed again (a second moderator, a stale card): refused, nothing twice.
    query = await admins.press_forged(card, f"m:decline:{appeal_id}:spam", by=moderator)
    await tg.expect_toast(query, f"Обращение № {number} уже проверено")
    await telegram_bot.delivered()
    assert "не принято" not in " ".join(m.text for m in alice.unread())
    assert len([m for m in agency.messages if "Взять в работу" in str(m.buttons)]) == 1


async def test_turned_away_with_a_reason_the_resident_hears_why_and_no_agency_sees_it(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    moderator = tg.user(7001, "Дежурный ЦУР")
    alice, number, card = await _filed(tg)
    admins = tg.group(ADMINS)

    await admins.click(card, "Отклонить", by=moderator)
    reasons = await admins.expect_message(contains="Причина отказа")
    assert reasons.buttons == [["Спам, реклама"], ["Не в компетенции органов власти"]]
    await admins.click(reasons, "Не в компетенции органов власти", by=moderator)

    notice = await alice.expect_message(contains="не принято")
    assert notice.text == (
        f"Ваше обращение № {number} не принято к рассмотрению. "
        "Причина: вопрос не относится к компетенции органов власти."
    )
    await admins.expect_edit(card, "Отклонено")
    assert card.buttons == []
    await admins.expect_edit(reasons, "отклонено")
    await telegram_bot.delivered()
    _nothing_in_agency_groups(tg)
    appeal_id = int(number.split("-")[1])
    appeal = await stored(telegram_bot, appeal_id)
    assert (appeal.status, appeal.passed_at) == ("rejected", None)
    assert await history(telegram_bot, appeal_id) == ["created", "moderation", "declined"]
    alice.read_all()

    # The stale reasons cannot turn it away twice; the card's «Передать» cannot revive it.
    await admins.press_forged(reasons, f"m:decline:{appeal_id}:spam", by=moderator)
    await admins.press_forged(card, f"m:pass:{appeal_id}", by=moderator)
    await telegram_bot.delivered()
    alice.assert_nothing_new()
    _nothing_in_agency_groups(tg)


async def test_another_agency_lists_those_serving_the_topic_first_and_passes_it_there(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    moderator = tg.user(7001, "Дежурный ЦУР")
    alice, number, card = await _filed(tg)
    admins = tg.group(ADMINS)

    await admins.click(card, "Другое ведомство", by=moderator)
    choose = await admins.expect_message(contains="В какое ведомство")
    labels = [row[0] for row in choose.buttons]
    assert labels[0] == "Министерство транспорта и дорожного хозяйства области", (
        "the other roads agency first"
    )
    assert "Управление дорожного хозяйства г. Тамбова" not in " ".join(labels)
    assert len(labels) == 6
    await admins.click(choose, "Управление ЖКХ и государственная жилищная инспекция", by=moderator)

    housing = tg.group(HOUSING)
    await housing.expect_message(contains=f"Обращение № {number}", has_button="Взять в работу")
    await alice.expect_message(contains="Управление ЖКХ и государственная жилищная инспекция")
    await admins.expect_edit(choose, "передано в Управление ЖКХ")
    await telegram_bot.delivered()
    assert tg.group(TAMBOV_ROADS).messages == []
    assert (await stored(telegram_bot, int(number.split("-")[1]))).agency_id == "housing"


async def test_a_new_topic_routes_the_appeal_anew_and_passes_it(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    moderator = tg.user(7001, "Дежурный ЦУР")
    alice, number, card = await _filed(tg, text="Во дворе не вывозят мусор неделю")
    admins = tg.group(ADMINS)

    await admins.click(card, "Сменить тему", by=moderator)
    topics = await admins.expect_message(contains="Новая тема")
    assert "Дороги" not in [row[0] for row in topics.buttons]
    await admins.click(topics, "ЖКХ", by=moderator)

    new_card = await tg.group(HOUSING).expect_message(contains=f"Обращение № {number}")
    assert "Тема: ЖКХ" in new_card.text
    await alice.expect_message(contains="передано в ведомство: Управление ЖКХ")
    appeal_id = int(number.split("-")[1])
    appeal = await stored(telegram_bot, appeal_id)
    assert (appeal.category_id, appeal.agency_id, appeal.status) == ("housing", "housing", "passed")
    assert await history(telegram_bot, appeal_id) == ["created", "moderation", "topic_changed", "passed"]


async def test_only_the_admin_chat_moderates(tg: Telegram, telegram_bot: TelegramBot) -> None:
    inspector = tg.user(5001, "Инспектор")
    alice, number, _card = await _filed(tg)
    appeal_id = int(number.split("-")[1])
    roads = tg.group(TAMBOV_ROADS)
    bait = await roads.send("/help", from_user=inspector)
    help_message = await roads.expect_message(contains="Команды")
    assert bait

    query = await roads.press_forged(help_message, f"m:pass:{appeal_id}", by=inspector)
    await tg.expect_toast(query, "не относится к вашему ведомству")
    query = await roads.press_forged(help_message, f"d:take:{appeal_id}", by=inspector)
    await tg.expect_toast(query, "Нельзя")
    await telegram_bot.delivered()
    assert (await stored(telegram_bot, appeal_id)).status == "moderation"
    assert [m.text for m in roads.messages] == [help_message.text]
    assert "взято" not in " ".join(m.text for m in alice.unread())


async def test_moderators_are_reminded_at_half_time_and_at_the_end_once_each(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    clock = telegram_bot.clock
    assert isinstance(clock, FrozenClock) and telegram_bot.app is not None
    _alice, number, _card = await _filed(tg)
    admins = tg.group(ADMINS)

    async def check() -> None:
        assert telegram_bot.app is not None
        await check_moderation(telegram_bot.app.ctx)
        telegram_bot.app.notify()
        await telegram_bot.delivered()

    clock.advance(timedelta(minutes=50))
    await check()
    admins.assert_nothing_new()
    clock.advance(timedelta(minutes=15))
    await check()
    half = await admins.expect_message(contains="ждёт проверки")
    assert (
        half.text == f"⏳ Обращение № {number} ждёт проверки: прошла половина срока. Срок: 24.11.2026, 14:00."
    )
    assert "Отклонить" in half.buttons[-1]
    await check()
    admins.assert_nothing_new()
    clock.advance(timedelta(hours=1))
    await check()
    await admins.expect_message(contains=f"Срок проверки обращения № {number} истёк")
    clock.advance(timedelta(hours=5))
    await check()
    admins.assert_nothing_new()
    _nothing_in_agency_groups(tg)


async def test_the_digest_counts_received_passed_on_and_turned_away_apart(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    moderator = tg.user(7001, "Дежурный ЦУР")
    admins: Group = tg.group(ADMINS)
    _, _, first = await _filed(tg, 1001)
    _, _, second = await _filed(tg, 1002, "Реклама ремонта квартир недорого звоните")
    await admins.click(first, "Передать: Управление дорожного хозяйства г. Тамбова", by=moderator)
    await admins.click(second, "Отклонить", by=moderator)
    reasons = await admins.expect_message(contains="Причина отказа")
    await admins.click(reasons, "Спам, реклама", by=moderator)
    await admins.expect_edit(second, "Отклонено")
    await _filed(tg, 1003, "Третья яма у дома номер семь")

    telegram_bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    await admins.send("/digest", from_user=moderator)

    digest = await admins.expect_message(contains="Поступило")
    assert "Поступило обращений: 3" in digest.text
    assert "Передано в ведомства: 1" in digest.text
    assert "Отклонено при проверке: 1" in digest.text
