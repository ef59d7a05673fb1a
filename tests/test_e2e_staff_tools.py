"""Staff tools end to end on Telegram: internal notes stay in the history and never reach
the resident; /find looks through the chat's own appeals by number, phone and words; the
redirect list starts with the agencies serving the appeal's topic and municipality."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from storage.models import ChatMember
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, CARD_BUTTONS, HOUSING, TAMBOV_ROADS, file_appeal, history, stored

NIGHT_ROADS = """
[[agencies]]
id = "night-roads"
name = "Аварийная служба дорог Тамбова"
chats = ["telegram:-1001000000009"]
categories = ["roads"]
municipalities = ["tambov"]

[[templates]]
id = "scheduled"
title = "Ремонт запланирован"
text = "Ремонт по обращению № {number} ({address}) включён в план на этот месяц."

[[templates]]
id = "heating"
title = "Отопление дадут"
text = "Отопление дадут в течение суток."
categories = ["housing"]
"""


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The example region and, listed last, a second agency serving roads in Tambov."""
    path = tmp_path_factory.mktemp("tools") / "catalogue.toml"
    path.write_text(EXAMPLE_PATH.read_text(encoding="utf-8") + NIGHT_ROADS, encoding="utf-8")
    return load_catalogue(path)


async def test_a_reply_starting_with_an_exclamation_mark_is_a_note_the_resident_never_sees(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    alice.read_all()

    note = await filed.group.reply(filed.card, "! Звонил жителю, не дозвонился", from_user=inspector)

    saved = await filed.group.expect_message(contains="Заметка")
    assert saved.reply_to_message_id == note["message_id"]
    await filed.group.reply(filed.card, "!", from_user=inspector)
    await filed.group.expect_message(contains="Пустая заметка")
    await telegram_bot.delivered()
    assert alice.unread() == [], "a note never reaches the resident"
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.status, appeal.first_response_at) == ("passed", None), "a note is no response"
    assert (await history(telegram_bot, filed.appeal_id))[-1] == "note"

    await filed.group.send(f"/appeal {filed.number}", from_user=inspector)
    shown = await filed.group.expect_message(contains="История")
    assert "заметка сотрудника · Инспектор: Звонил жителю, не дозвонился" in shown.text


async def test_find_by_number_phone_and_words_within_the_chats_own_appeals(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    bob = tg.user(1002, "Борис")
    inspector = tg.user(5001, "Инспектор")
    clerk = tg.user(5003, "Диспетчер ЖКХ")
    first = await file_appeal(tg, alice, "Большая ЯМА у школы на Советской")
    second = await file_appeal(tg, bob, "Не горит фонарь у остановки Лесная")
    group = first.group

    async def find(query: str) -> str:
        await group.send(f"/find {query}", from_user=inspector)
        return (await group.expect_message(contains="обращен")).text

    assert f"№ {first.number}" in await find("яма советской")
    assert f"№ {second.number}" not in await find("яма советской")
    found = await find("фонарь")
    assert f"№ {second.number}" in found and f"№ {first.number}" not in found
    assert f"№ {first.number}" in await find("+7 900 000-10-01")
    assert f"№ {second.number}" in await find(second.number)
    assert "не найдено" in await find("водопровод")

    housing = tg.group(HOUSING)
    await housing.send("/find яма", from_user=clerk)
    assert "не найдено" in (await housing.expect_message(contains="обращен")).text, "not their appeal"
    await housing.send(f"/find {first.number}", from_user=clerk)
    assert "не найдено" in (await housing.expect_message(contains="обращен")).text

    admins = tg.group(ADMINS)
    await admins.send("/find фонарь", from_user=tg.user(7001, "Дежурный ЦУР"))
    assert f"№ {second.number}" in (await admins.expect_message(contains="обращен")).text


async def test_the_redirect_list_starts_with_the_agencies_serving_the_topic_there(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)

    await filed.group.click(filed.card, "Перенаправить", by=inspector)

    choose = await filed.group.expect_message(contains="Куда перенаправить")
    labels = [row[0] for row in choose.buttons]
    assert labels[:2] == [
        "Министерство транспорта и дорожного хозяйства области",
        "Аварийная служба дорог Тамбова",
    ], labels
    assert len(labels) == 7 and "Управление ЖКХ и государственная жилищная инспекция" in labels


async def test_a_template_picked_under_answer_reaches_the_resident_filled_in(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    from tests.test_vk_e2e_media import _file_on_telegram

    anna = tg.user(1001, "Анна")
    inspector = tg.user(5001, "Инспектор")
    await _file_on_telegram(anna)
    group = tg.group(TAMBOV_ROADS)
    card = await group.expect_message(contains="Обращение №", has_button="Ответить")
    number = card.text.split("№ ", 1)[1].split()[0]
    anna.read_all()

    await group.click(card, "Ответить", by=inspector)
    offer = await group.expect_message(contains="готовый ответ")
    assert offer.buttons == [["Ремонт запланирован"]], "only the templates for the topic"
    query = await group.click(offer, "Ремонт запланирован", by=inspector)

    await tg.expect_toast(query, "по шаблону")
    answer = await anna.expect_message(contains="включён в план")
    assert f"Ремонт по обращению № {number} (ул. Советская, 12) включён в план на этот месяц." in answer.text
    await group.expect_message(contains="доставлен")
    await group.expect_edit(card, "Статус: дан ответ")

    query = await group.press_forged(offer, f"t:{number.split('-')[1]}:heating-x", by=inspector)
    await tg.expect_toast(query, "больше не действует")
    housing = tg.group(HOUSING)
    await housing.send("/help", from_user=tg.user(5003, "Диспетчер ЖКХ"))
    bait = await housing.expect_message(contains="Команды")
    query = await housing.press_forged(
        bait, f"t:{number.split('-')[1]}:scheduled", by=tg.user(5003, "Диспетчер ЖКХ")
    )
    await tg.expect_toast(query, "не относится к вашему ведомству")
    await telegram_bot.delivered()
    assert len([m for m in anna.messages if "включён в план" in m.text]) == 1


async def test_assign_a_person_of_the_chat_the_card_shows_who_and_open_mine_lists_it(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    foreman = tg.user(5002, "Мастер")
    clerk = tg.user(5003, "Диспетчер ЖКХ")
    filed = await file_appeal(tg, alice)
    alice.read_all()
    group = filed.group
    await group.send("/open", from_user=foreman)  # the foreman has been seen in this chat
    await group.expect_message(contains="Открытые обращения")

    await group.click(filed.card, "Назначить", by=inspector)
    choose = await group.expect_message(contains=f"Кому назначить обращение № {filed.number}")
    assert choose.buttons == [["Инспектор"], ["Мастер"]], "the one pressing first, then who was seen"
    query = await group.click(choose, "Мастер", by=inspector)

    assert (await tg.expect_toast(query))["text"] == "Назначено"
    await group.expect_edit(choose, f"Обращение № {filed.number} назначено: Мастер (назначил(а) Инспектор)")
    await group.expect_edit(filed.card, "Исполнитель: Мастер")
    assert filed.card.buttons == CARD_BUTTONS, "assigning moves nothing"
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.assignee_id, appeal.assignee_name, appeal.status) == ("5002", "Мастер", "passed")
    assert appeal.first_response_at is None, "assigning is no response to the resident"
    assert (await history(telegram_bot, filed.appeal_id))[-1] == "assigned"

    await group.send("/open mine", from_user=foreman)
    mine = await group.expect_message(contains="Назначены вам")
    assert f"№ {filed.number}" in mine.text
    await group.send("/open mine", from_user=inspector)
    await group.expect_message(contains="назначенных вам, нет")
    await group.send(f"/appeal {filed.number}", from_user=inspector)
    shown = await group.expect_message(contains="История")
    assert "Исполнитель: Мастер" in shown.text and "назначено · Инспектор: Мастер" in shown.text

    # Another agency's chat can neither open the list nor assign one of its own people.
    housing = tg.group(HOUSING)
    await housing.send("/open", from_user=clerk)
    await housing.expect_message(contains="обращен")
    forged = await housing.press_forged(filed.card, f"d:assign:{filed.appeal_id}", by=clerk)
    assert "не относится к вашему ведомству" in (await tg.expect_toast(forged))["text"]
    async with telegram_bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        clerk_id = await session.scalar(select(ChatMember.id).where(ChatMember.external_id == "5003"))
    foreign = await group.press_forged(filed.card, f"d:assign:{filed.appeal_id}:{clerk_id}", by=inspector)
    assert (await tg.expect_toast(foreign))["text"] == "Эта кнопка больше не действует."
    assert (await stored(telegram_bot, filed.appeal_id)).assignee_id == "5002", "not someone of another chat"

    await group.click(filed.card, "Назначить", by=foreman)
    again = await group.expect_message(contains="Кому назначить")
    assert again.buttons == [["Инспектор"], ["Снять назначение"]], "the assignee is not offered again"
    await group.click(again, "Снять назначение", by=foreman)
    await group.expect_edit(again, f"Назначение по обращению № {filed.number} снято (Мастер)")
    await group.expect_edit(filed.card, "Статус")
    await telegram_bot.delivered()
    assert "Исполнитель" not in filed.card.text
    await group.send("/open mine", from_user=foreman)
    await group.expect_message(contains="назначенных вам, нет")
    await telegram_bot.delivered()
    assert alice.unread() == [], "the resident hears nothing of who inside the agency has it"


async def test_the_note_button_asks_for_a_note_that_stays_in_the_history(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    alice.read_all()

    await filed.group.click(filed.card, "Заметка", by=inspector)
    prompt = await filed.group.expect_message(contains=f"Заметка к обращению № {filed.number}")
    assert prompt.forces_reply
    await filed.group.reply(prompt, "Выезд бригады в четверг", from_user=inspector)

    await filed.group.expect_message(contains="сохранена в истории")
    await telegram_bot.delivered()
    assert alice.unread() == [], "a note never reaches the resident"
    assert (await stored(telegram_bot, filed.appeal_id)).status == "passed"
    assert (await history(telegram_bot, filed.appeal_id))[-1] == "note"
    await filed.group.send(f"/appeal {filed.number}", from_user=inspector)
    shown = await filed.group.expect_message(contains="История")
    assert "заметка сотрудника · Инспектор: Выезд бригады в четверг" in shown.text
