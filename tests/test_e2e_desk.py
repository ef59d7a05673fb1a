"""The agency desk end to end on Telegram: the real app, the fake Bot API server, a real
database. A resident files an appeal; staff act on it in their group; the resident hears."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select

from storage.models import Appeal, AppealEvent, Attachment, MessageLink
from tests.support.steps import step
from tests.support.telegram import BotMessage, Group, Person, Telegram, TelegramBot

ADMINS = -1001000000000
TAMBOV_ROADS = -1001000000001
REGION_ROADS = -1001000000002
HOUSING = -1001000000003

CARD_BUTTONS = [
    ["Взять в работу", "Ответить"],
    ["Перенаправить", "Отклонить"],
    ["Решено"],
    ["Назначить", "Заметка"],
]
TAKEN_BUTTONS = [["Ответить"], ["Перенаправить", "Отклонить"], ["Решено"], ["Назначить", "Заметка"]]


@dataclass
class Filed:
    """An appeal as the resident filed it and its card as the agency sees it."""

    number: str
    appeal_id: int
    resident: Person
    group: Group
    card: BotMessage


class Cast(NamedTuple):
    """Who acts in a desk scene: the resident, an inspector of the agency, the centre's duty
    officer, and the admin chat the officer works in."""

    resident: Person
    inspector: Person
    officer: Person
    admins: Group


def cast(tg: Telegram) -> Cast:
    return Cast(
        tg.user(1001, "Алиса"), tg.user(5001, "Инспектор"), tg.user(7001, "Дежурный ЦУР"), tg.group(ADMINS)
    )


async def file_appeal(
    tg: Telegram,
    resident: Person,
    description: str = "Большая яма на дороге у дома номер пять",
    *,
    topic: str = "Дороги",
    town: str = "Тамбов",
    location: tuple[float, float] | None = None,
    address: str | None = None,
    photos: int = 0,
    agency: int = TAMBOV_ROADS,
    phone: str | None = None,
    again: bool = False,
) -> Filed:
    """The whole resident dialogue, then the card in ``agency``'s group. The place is the
    ``address`` typed, the ``location`` shared, or skipped; the phone is ``phone`` typed, or
    else the resident's own contact shared with the button. ``again``: the resident gave
    consent with an earlier appeal and starts this one with /new."""
    if again:
        await resident.send("/new")
    else:
        await resident.send("/start")
        await resident.expect_message(contains="согласие")
        await resident.click("Согласен")
    await resident.expect_message(contains=step("topic"))
    await resident.click(topic)
    await resident.expect_message(contains=step("municipality"))
    await resident.click(town)
    await resident.expect_message(contains=step("description"))
    await resident.send(description)
    await resident.expect_message(contains=step("place"))
    if address is not None:
        await resident.send(address)
    elif location is None:
        await resident.click("Пропустить")
    else:
        await resident.click("📍 Отправить геолокацию", location=location)
    await resident.expect_message(contains=step("photos"))
    if photos == 0:
        await resident.click("Пропустить")
    else:
        if photos == 1:
            await resident.send_photo()
        else:
            await resident.send_album(photos)
        await resident.expect_message(contains=f"Фото получено: {photos} из")
        await resident.click("Готово")
    await resident.expect_message(contains=step("phone"))
    if phone is None:
        await resident.click("Поделиться номером")
    else:
        await resident.send(phone)
        await resident.expect_message(contains="Телефон записан")
    await resident.expect_message(contains="Проверьте обращение")
    await resident.click("Отправить")
    done = await resident.expect_message(contains="принято")
    number = done.text.split("№ ", 1)[1].split()[0]
    group = resident.tg.group(agency)
    card = await group.expect_message(contains=f"Обращение № {number}", has_button="Взять в работу")
    return Filed(number, int(number.split("-")[1]), resident, group, card)


async def stored(bot: TelegramBot, appeal_id: int) -> Appeal:
    assert bot.app is not None
    async with bot.app.ctx.db.read() as session:
        appeal = await session.get(Appeal, appeal_id)
    assert appeal is not None
    return appeal


async def history(bot: TelegramBot, appeal_id: int) -> list[str]:
    assert bot.app is not None
    async with bot.app.ctx.db.read() as session:
        rows = await session.scalars(
            select(AppealEvent).where(AppealEvent.appeal_id == appeal_id).order_by(AppealEvent.id)
        )
        return [row.kind for row in rows]


# -- the card -------------------------------------------------------------------------------


async def test_the_card_reaches_the_agency_the_catalogue_routes_to_with_photos_and_pin(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")

    filed = await file_appeal(
        tg, alice, location=(52.72, 41.45), photos=3, town="Мичуринск", agency=REGION_ROADS
    )

    group = filed.group
    album = [m for m in group.messages if m.media_group_id is not None]
    assert len(album) == 3 and len({m.media_group_id for m in album}) == 1, group.messages
    assert all(m.message_id < filed.card.message_id for m in album), "photos come before the card"
    card = filed.card
    assert card.buttons == CARD_BUTTONS
    assert f"Обращение № {filed.number}" in card.text
    assert "Тема: Дороги" in card.text and "Муниципалитет: Мичуринск" in card.text
    assert "Ведомство: Министерство транспорта и дорожного хозяйства области" in card.text
    assert "Статус: передано в ведомство" in card.text
    assert "Большая яма на дороге у дома номер пять" in card.text
    assert "Телефон: +7 900 000-10-01" in card.text
    assert 'href="https://yandex.ru/maps/?pt=41.450000,52.720000' in card.html
    await group.expect_message(contains=f"Место по обращению № {filed.number}")
    pin = await group.expect_message()
    assert pin.location == (52.72, 41.45) and pin.message_id > card.message_id
    # Nobody else sees it: not the city's road department, not the admins.
    await telegram_bot.settled()
    assert tg.group(TAMBOV_ROADS).messages == []
    assert tg.group(ADMINS).messages == []


async def test_a_typed_landline_with_an_extension_reaches_the_card_formatted_and_is_stored_in_e164(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")

    filed = await file_appeal(tg, alice, phone="8 (4752) 72-00-00 доб. 15")

    review = [m for m in alice.messages if "Проверьте обращение" in m.text]
    assert len(review) == 1 and "Телефон: +7 475 272-00-00 ext. 15" in review[0].text
    assert not [m for m in alice.messages if "Не удалось распознать номер" in m.text]
    assert "Телефон: +7 475 272-00-00 ext. 15" in filed.card.text
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert appeal.phone == "+74752720000;ext=15"
    await telegram_bot.settled()
    filed.group.assert_nothing_new()  # the card, and nothing after it (no photos, no place)
    assert tg.group(TAMBOV_ROADS) is filed.group
    assert tg.group(REGION_ROADS).messages == [] and tg.group(ADMINS).messages == []


# -- answering --------------------------------------------------------------------------------


async def test_a_reply_to_the_card_reaches_the_resident_and_the_group_hears_it_was_delivered(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)

    answer = await filed.group.reply(filed.card, "Отремонтируем до пятницы <честно>", from_user=inspector)

    notice = await alice.expect_message(contains="Ответ по обращению")
    assert f"Ответ по обращению № {filed.number}" in notice.text
    assert "Управление дорожного хозяйства г. Тамбова" in notice.text
    assert "Отремонтируем до пятницы <честно>" in notice.text
    asked = await alice.expect_message(contains="Проблема по обращению")
    assert asked.buttons[0] == ["Да", "Нет"] and asked.buttons[1] == ["1", "2", "3", "4", "5"]
    report = await filed.group.expect_message(contains="доставлен")
    assert report.text == f"✅ Ответ по обращению № {filed.number} доставлен жителю."
    assert report.reply_to_message_id == answer["message_id"]
    await filed.group.expect_edit(filed.card, "Статус: дан ответ")
    assert (await stored(telegram_bot, filed.appeal_id)).status == "answered"


async def test_a_reply_to_a_thread_message_and_a_photo_reply_reach_the_resident(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice, location=(52.72, 41.45), photos=2)
    pin = await filed.group.expect_message(contains="Место по обращению")

    await filed.group.reply(pin, "Выехали на место", from_user=inspector)
    await alice.expect_message(contains="Выехали на место")

    [photo] = await filed.group.reply_photo(filed.card, from_user=inspector, caption="Вот так теперь")
    notice = await alice.expect_message(contains="Вот так теперь")
    assert notice.has_photo, "the staff photo reaches the resident"
    assert f"№ {filed.number}" in notice.text
    await filed.group.expect_message(contains="доставлен")
    # The staff photo is kept with the appeal, apart from the resident's.
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        sources = sorted((await session.scalars(select(Attachment.source))).all())
    assert sources == ["resident", "resident", "staff"]
    assert photo["message_id"] > filed.card.message_id


# -- the buttons --------------------------------------------------------------------------------


async def test_take_then_solve_tell_the_resident_and_edit_the_card(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)

    await filed.group.click(filed.card, "Взять в работу", by=inspector)

    taken = await alice.expect_message(contains="взято в работу")
    assert taken.text == (
        f"Ваше обращение № {filed.number} взято в работу: Управление дорожного хозяйства г. Тамбова."
    )
    await filed.group.expect_edit(filed.card, "Статус: в работе")
    assert filed.card.buttons == [
        ["Ответить"],
        ["Перенаправить", "Отклонить"],
        ["Решено"],
        ["Назначить", "Заметка"],
    ]

    await filed.group.click(filed.card, "Решено", by=inspector)
    prompt = await filed.group.expect_message(contains="Решение по обращению")
    await telegram_bot.settled()
    alice.assert_nothing_new()
    assert (await stored(telegram_bot, filed.appeal_id)).status == "in_progress"
    await filed.group.reply(prompt, "Яму заделали асфальтом 1 декабря", from_user=inspector)

    solved = await alice.expect_message(contains="решено")
    assert solved.text == (
        f"Обращение № {filed.number} решено (Управление дорожного хозяйства г. Тамбова):\n"
        "Яму заделали асфальтом 1 декабря"
    )
    await alice.expect_message(contains="Проблема по обращению")
    await filed.group.expect_message(contains="отмечено как решённое (Инспектор)")
    await filed.group.expect_edit(filed.card, "Статус: решено")
    assert filed.card.buttons == []
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert appeal.status == "solved" and appeal.first_response_at is not None
    assert await history(telegram_bot, filed.appeal_id) == ["created", "passed", "taken", "solved"]


async def test_reject_asks_for_a_reason_and_without_one_nothing_changes(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    group = filed.group

    await group.click(filed.card, "Отклонить", by=inspector)
    choose = await group.expect_message(contains="Причина отказа")
    assert choose.buttons == [
        ["Вне компетенции ведомства"],
        ["Недостаточно сведений"],
        ["Повторное обращение"],
        ["Оскорбительные выражения"],
    ]
    await group.click(choose, "Вне компетенции ведомства", by=inspector)
    prompt = await group.expect_message(contains="Объясните жителю")
    assert prompt.forces_reply and prompt.reply_to_message_id == choose.message_id

    await group.reply(prompt, "   ", from_user=inspector)
    await group.expect_message(contains="Без объяснения обращение не отклоняется")
    await group.send("Дорога федеральная", from_user=inspector)  # not a reply: ignored
    await telegram_bot.settled()
    assert (await stored(telegram_bot, filed.appeal_id)).status == "passed"
    assert "отклонено" not in " ".join(m.text for m in alice.unread())

    await group.reply(prompt, "Дорога федеральная, обратитесь в Росавтодор", from_user=inspector)

    rejected = await alice.expect_message(contains="отклонено")
    assert rejected.text.startswith(
        f"Ваше обращение № {filed.number} отклонено.\n"
        "Причина: Вне компетенции ведомства. Дорога федеральная, обратитесь в Росавтодор\n"
    )
    assert rejected.buttons == [["Оспорить отказ"], ["1", "2", "3", "4", "5"]]
    await group.expect_message(contains=f"Обращение № {filed.number} отклонено (Инспектор)")
    await group.expect_message(contains="доставлен")
    await group.expect_edit(filed.card, "Статус: отклонено")
    assert filed.card.buttons == []
    assert (await stored(telegram_bot, filed.appeal_id)).status == "rejected"


async def test_redirect_moves_the_card_to_the_chosen_agency(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    clerk = tg.user(5003, "Диспетчер ЖКХ")
    filed = await file_appeal(tg, alice, location=(52.72, 41.45), photos=2)
    group = filed.group

    await group.click(filed.card, "Перенаправить", by=inspector)
    choose = await group.expect_message(contains="Куда перенаправить")
    assert "Управление дорожного хозяйства г. Тамбова" not in [
        label for row in choose.buttons for label in row
    ]
    await group.click(choose, "Управление ЖКХ и государственная жилищная инспекция", by=inspector)

    housing = tg.group(HOUSING)
    new_card = await housing.expect_message(
        contains=f"Обращение № {filed.number}", has_button="Взять в работу"
    )
    assert "Ведомство: Управление ЖКХ и государственная жилищная инспекция" in new_card.text
    assert len([m for m in housing.messages if m.has_photo]) == 2, "the photos travel with it"
    await tg.server.wait_for(lambda: any(m.location == (52.72, 41.45) for m in housing.messages))
    await group.expect_edit(filed.card, "Перенаправлено в Управление ЖКХ")
    assert filed.card.buttons == []
    await group.expect_edit(choose, "перенаправлено в Управление ЖКХ")
    moved = await alice.expect_message(contains="передано в другое ведомство")
    assert "Управление ЖКХ и государственная жилищная инспекция" in moved.text

    # The new agency answers; the old one no longer can.
    await housing.reply(new_card, "Разберёмся", from_user=clerk)
    await alice.expect_message(contains="Разберёмся")
    await group.reply(filed.card, "Мы тоже ответим", from_user=inspector)
    refusal = await group.expect_message(contains="не относится к вашему ведомству")
    assert refusal.text == "Это обращение не относится к вашему ведомству."
    await telegram_bot.settled()
    assert "Мы тоже ответим" not in " ".join(m.text for m in alice.messages)
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.agency_id, appeal.status) == ("housing", "answered")


# -- the resident follows up -------------------------------------------------------------------


async def test_no_with_a_comment_reopens_it_in_front_of_the_same_agency(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    await filed.group.reply(filed.card, "Яму засыпали", from_user=inspector)
    await alice.expect_message(contains="Яму засыпали")
    asked = await alice.expect_message(contains="Проблема по обращению")

    await alice.click("Нет", message=asked)
    await alice.expect_message(contains="Расскажите, что не так")
    await alice.send("Засыпали песком, после дождя яма снова")

    await alice.expect_message(contains="возвращено в ведомство")
    notice = await filed.group.expect_message(contains="возвращено жителем на доработку")
    assert "Комментарий жителя: Засыпали песком, после дождя яма снова" in notice.text
    await filed.group.expect_edit(filed.card, "Статус: передано в ведомство")
    assert "возвращено жителем на доработку: 1" in filed.card.text
    assert filed.card.buttons == CARD_BUTTONS

    await filed.group.reply(notice, "Заасфальтируем", from_user=inspector)
    await alice.expect_message(contains="Заасфальтируем")
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.status, appeal.reopen_count, appeal.agency_id) == ("answered", 1, "tambov-roads")


async def test_yes_and_a_rating_close_the_appeal(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    await filed.group.reply(filed.card, "Яму заделали", from_user=inspector)
    await alice.expect_message(contains="Яму заделали")
    asked = await alice.expect_message(contains="Проблема по обращению")
    await filed.group.click(filed.card, "Решено", by=inspector)  # the answer sent is the solution
    await alice.expect_message(contains="проблема решена (ответ выше)")

    await alice.click("Да", message=asked)
    await alice.expect_message(contains=f"Обращение № {filed.number} закрыто")
    rate = await alice.expect_message(contains="Оцените")
    await alice.click("4", message=rate)

    await alice.expect_message(contains="Спасибо за оценку 4!")
    await filed.group.expect_edit(filed.card, "Статус: закрыто")
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert (appeal.status, appeal.rating) == ("closed", 4)
    await alice.click("1", message=rate)
    await alice.expect_toast("Вы уже оценили")
    assert (await stored(telegram_bot, filed.appeal_id)).rating == 4


async def test_details_added_from_my_appeals_reach_the_agency_thread(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)

    await alice.send("/my")
    listing = await alice.expect_message(contains="Ваши обращения")
    await alice.click(listing.buttons[0][0], message=listing)
    await alice.expect_message(contains=f"Обращение № {filed.number}", has_button="Дополнить")
    await alice.click("Дополнить")
    await alice.expect_message(contains="Напишите, что добавить")
    await alice.send_album(2, caption="Яма стала больше, провалилась машина")

    await alice.expect_message(contains="передано в ведомство")
    details = await filed.group.expect_message(contains="Житель дополнил обращение")
    assert "Яма стала больше, провалилась машина" in details.text
    assert details.has_photo
    await tg.server.wait_for(lambda: len([m for m in filed.group.messages if m.has_photo]) == 2)

    await filed.group.reply(details, "Спасибо, учтём", from_user=inspector)
    await alice.expect_message(contains="Спасибо, учтём")
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        roles = (
            await session.scalars(select(MessageLink.role).where(MessageLink.chat_id == str(TAMBOV_ROADS)))
        ).all()
    assert "thread" in roles


async def test_appeal_command_shows_the_card_and_its_history(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    await filed.group.click(filed.card, "Взять в работу", by=inspector)
    await filed.group.expect_edit(filed.card, "Статус: в работе")

    await filed.group.send(f"/appeal {filed.number}", from_user=inspector)

    shown = await filed.group.expect_message(contains="История")
    history_lines = shown.text.split("История:\n", 1)[1].splitlines()
    assert history_lines == [
        "24.11.2026, 12:00 · обращение подано жителем",
        "24.11.2026, 12:00 · передано в ведомство Управление дорожного хозяйства г. Тамбова",
        "24.11.2026, 12:00 · взято в работу · Инспектор",
    ]
    assert shown.buttons == [
        ["Ответить"],
        ["Перенаправить", "Отклонить"],
        ["Решено"],
        ["Назначить", "Заметка"],
    ]


async def test_a_reply_to_a_card_whose_record_was_lost_still_reaches_the_resident(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    """The process died between Telegram's answer and the record of the card's message id
    (so the card was sent again): staff reply to the copy the bot never recorded."""
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    await telegram_bot.settled()
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.transaction() as session:
        link = await session.scalar(
            select(MessageLink).where(
                MessageLink.chat_id == str(TAMBOV_ROADS), MessageLink.message_id == str(filed.card.message_id)
            )
        )
        assert link is not None and link.role == "card"
        await session.delete(link)

    await filed.group.reply(filed.card, "Уже выехали", from_user=inspector)

    notice = await alice.expect_message(contains="Ответ по обращению")
    assert f"№ {filed.number}" in notice.text and "Уже выехали" in notice.text
    await filed.group.expect_message(contains="доставлен")
    assert not [m for m in filed.group.messages if "не относится" in m.text]
    assert (await stored(telegram_bot, filed.appeal_id)).status == "answered"


async def test_a_reply_that_overtakes_the_record_of_the_card_still_reaches_the_resident(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    # The card shows in the group at once; the bot learns its message id a second later.
    tg.server.delay_next("sendMessage", 1.0, chat_id=TAMBOV_ROADS)
    filed = await file_appeal(tg, alice)

    await filed.group.reply(filed.card, "Уже выехали", from_user=inspector)

    await alice.expect_message(contains="Уже выехали", timeout=10)
    await filed.group.expect_message(contains="доставлен", timeout=10)
    assert not [m for m in filed.group.messages if "не относится" in m.text]
