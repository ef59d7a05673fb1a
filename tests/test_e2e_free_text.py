"""Free-text first, end to end: residents who just write, send a photo with a caption, an
album or a location, without /start or a button. Their message starts the appeal; before
consent it is held only until they answer, and a day at most (searched for in every table
of the database afterwards)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers import privacy
from handlers.clock import FrozenClock
from storage.db import Database
from storage.models import Appeal, Attachment
from tests.fake_vk import FakeVk
from tests.support.schema import number_pattern, search, words_pattern
from tests.support.steps import step
from tests.support.telegram import Person, Telegram, TelegramBot
from tests.support.vk import VkChat
from tests.test_vk_e2e import running_app

ROADS_AGENCY = -1001000000001
CAPTION = "Разбита дорога у дома 5 по Кривоколенному переулку, лужа во всю ширину"


def _app(telegram_bot: TelegramBot):  # type: ignore[no-untyped-def]
    assert telegram_bot.app is not None
    return telegram_bot.app


async def _consented_and_idle(person: Person) -> None:
    await person.send("/start")
    await person.expect_message(contains="согласие")
    await person.click("Согласен")
    await person.expect_message(contains=step("topic"))
    await person.send("/cancel")
    await person.expect_message(contains="отменено")
    person.read_all()


async def test_a_photo_with_a_caption_before_consent_becomes_the_appeal(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    dasha = tg.user(2101, "Дарья")
    await dasha.send_photo(caption=CAPTION)
    greeting = await dasha.expect_message(contains="Здравствуйте")
    assert "сохранили" in greeting.text and "в течение суток" in greeting.text
    await dasha.expect_message(contains="152-ФЗ")
    await telegram_bot.settled()
    assert dasha.unread() == []

    await dasha.click("Согласен")
    await dasha.expect_message(contains="Согласие получено")
    kept = await dasha.expect_message(contains="Из вашего сообщения взяли")
    assert "описание, фото (1)" in kept.text
    passed = ("description", "photos")
    await dasha.expect_message(contains=step("topic", skipped=passed))
    await dasha.click("Да, верно")  # «Дороги», suggested by the caption
    await dasha.expect_message(contains=step("municipality", skipped=passed))
    await dasha.click("Тамбов")
    await dasha.expect_message(contains=step("place", skipped=passed))
    await dasha.click("Пропустить")
    await dasha.expect_message(contains=step("phone", skipped=passed))
    await dasha.click("Пропустить")
    review = await dasha.expect_message(contains="Проверьте обращение")
    assert f"Описание: {CAPTION}" in review.text and "Фото: 1" in review.text
    await dasha.click("Отправить")
    await dasha.expect_message(contains="принято")

    card = await tg.group(ROADS_AGENCY).expect_message(contains=CAPTION)
    assert card.text
    async with _app(telegram_bot).ctx.db.read() as session:
        appeal = (await session.scalars(select(Appeal))).one()
        photos = (await session.scalars(select(Attachment))).all()
    assert appeal.description == CAPTION and len(photos) == 1


async def test_an_album_sent_from_the_menu_joins_one_draft_quietly(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    egor = tg.user(2102, "Егор")
    await _consented_and_idle(egor)
    await egor.send_album(3, caption=CAPTION)
    kept = await egor.expect_message(contains="Из вашего сообщения взяли")
    assert "описание, фото (1)" in kept.text
    await egor.expect_message(contains=step("topic", skipped=("description", "photos")))
    await telegram_bot.settled()
    assert egor.unread() == [], "the album's other photos are taken without a word each"
    await egor.click("Дороги")
    await egor.expect_message(contains="муниципалитет")
    await egor.click("Тамбов")
    await egor.expect_message(contains="Где это находится")
    await egor.click("Пропустить")
    await egor.expect_message(contains=step("phone", skipped=("description", "photos")))
    await egor.click("Пропустить")
    review = await egor.expect_message(contains="Проверьте обращение")
    assert "Фото: 3" in review.text and CAPTION in review.text


async def test_a_location_sent_first_is_the_place_and_the_rest_is_asked(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    zoya = tg.user(2103, "Зоя")
    await _consented_and_idle(zoya)
    await zoya.share_location(52.7212, 41.4522)
    kept = await zoya.expect_message(contains="Из вашего сообщения взяли")
    assert "место" in kept.text and "описание" not in kept.text
    await zoya.expect_message(contains=step("topic", skipped=("place",)))
    await zoya.click("Дороги")
    await zoya.expect_message(contains="муниципалитет")
    await zoya.click("Тамбов")
    await zoya.expect_message(contains=step("description", skipped=("place",)))
    await zoya.send(CAPTION)
    await zoya.expect_message(contains=step("photos", skipped=("place",)))
    await zoya.click("Пропустить")
    await zoya.expect_message(contains="телефон")
    await zoya.click("Пропустить")
    review = await zoya.expect_message(contains="Проверьте обращение")
    assert "52.72120" in review.text and CAPTION in review.text


async def test_a_greeting_is_not_an_appeal(tg: Telegram, telegram_bot: TelegramBot) -> None:
    ivan = tg.user(2104, "Иван")
    await _consented_and_idle(ivan)
    await ivan.send("Привет")
    await ivan.expect_message(contains="Чем можем помочь")
    await telegram_bot.settled()
    assert ivan.unread() == []


async def test_disagreeing_drops_what_was_held_from_every_table(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    app = _app(telegram_bot)
    kira = tg.user(2105, "Кира")
    await kira.send(CAPTION)
    await kira.expect_message(contains="152-ФЗ")
    await kira.share_location(52.7311, 41.4423)
    await kira.expect_message(contains="сохранили")
    await kira.send_photo()
    await kira.expect_message(contains="сохранили")
    await telegram_bot.settled()
    needles = {
        "text": words_pattern("Кривоколенному"),
        "latitude": number_pattern("52.7311"),
        "longitude": number_pattern("41.4423"),
    }
    before = {f.needle for f in await search(app.ctx.db, needles)}
    assert before == set(needles), "held while the question waits"

    await kira.click("Не согласен")
    await kira.expect_message(contains="Без согласия")
    await telegram_bot.settled()
    leftovers = await search(app.ctx.db, needles)
    assert leftovers == [], "\n".join(map(str, leftovers))

    # Agreeing later starts from nothing: what was dropped is not brought back.
    await kira.click("Согласен")
    await kira.expect_message(contains="Согласие получено")
    await kira.expect_message(contains=step("topic"))
    await telegram_bot.settled()
    assert all("Из вашего сообщения" not in m.text for m in kira.messages)


async def test_silence_drops_what_was_held_after_a_day_even_if_they_wrote_again(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    app = _app(telegram_bot)
    clock: FrozenClock = telegram_bot.clock  # type: ignore[assignment]
    lev = tg.user(2106, "Лев")
    await lev.send("Не горит фонарь на Ольховой улице уже неделю")
    await lev.expect_message(contains="152-ФЗ")
    clock.advance(timedelta(hours=20))
    await lev.send("И на Берёзовой тоже темно по вечерам")
    await lev.expect_message(contains="сохранили")
    await telegram_bot.settled()
    first, second = {"first": words_pattern("Ольховой")}, {"second": words_pattern("Берёзовой")}

    clock.advance(timedelta(hours=5))  # a day and an hour after the first message
    await privacy.purge(app.ctx)
    leftovers = await search(app.ctx.db, first)
    assert leftovers == [], "\n".join(map(str, leftovers))

    clock.advance(timedelta(hours=20))  # a day and an hour after the second
    await privacy.purge(app.ctx)
    leftovers = await search(app.ctx.db, second)
    assert leftovers == [], "\n".join(map(str, leftovers))

    await lev.click("Согласен")  # too late: nothing is left to start with
    await telegram_bot.settled()
    assert all("Из вашего сообщения" not in m.text for m in lev.messages)


async def test_on_vk_a_first_message_becomes_the_description(
    database_url: str, clock: FrozenClock, db: Database
) -> None:
    from handlers.catalogue import EXAMPLE_PATH, load_catalogue

    async with FakeVk() as vk, running_app(database_url, load_catalogue(EXAMPLE_PATH), clock, vk):
        vk.add_user(602513750, "Марфа", "Посадская")
        marfa = VkChat(vk, 602513750)
        await vk.user_writes(602513750, CAPTION)
        await marfa.expect("152-ФЗ")
        await marfa.press("Согласен")
        kept = await marfa.expect("Из вашего сообщения взяли")
        assert "описание" in kept.text
        await marfa.expect(step("topic", skipped=("description",)))


# -- the topic its words suggest, and nothing typed is lost ---------------------------------------


async def test_the_topic_the_words_suggest_is_offered_first_with_the_full_list_a_tap_away(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    nina = tg.user(2107, "Нина")
    await _consented_and_idle(nina)
    await nina.send(CAPTION)
    await nina.expect_message(contains="Из вашего сообщения взяли: описание")
    suggested = await nina.expect_message(contains="Похоже, тема обращения — «Дороги»")
    assert suggested.buttons == [["Да, верно"], ["Другая тема"], ["Назад", "Отмена"]]
    await nina.click("Другая тема")
    full = await nina.expect_message(contains="Выберите тему обращения")
    assert ["Дороги", "ЖКХ"] in full.buttons
    await nina.click("ЖКХ")
    await nina.expect_message(contains=step("municipality", skipped=("description",)))

    oleg = tg.user(2108, "Олег")
    await _consented_and_idle(oleg)
    await oleg.send("Во дворе переполнены мусорные контейнеры, не вывозят неделю")
    await oleg.expect_message(contains="«Экология и отходы»")
    await oleg.click("Да, верно")
    await oleg.expect_message(contains=step("municipality", skipped=("description",)))
    await oleg.click("Тамбов")
    await oleg.expect_message(contains="Где это находится")
    await oleg.click("Пропустить")
    await oleg.expect_message(contains="фотографии")
    await oleg.click("Пропустить")
    await oleg.expect_message(contains="телефон")
    await oleg.click("Пропустить")
    review = await oleg.expect_message(contains="Проверьте обращение")
    assert "Тема: Экология и отходы" in review.text


async def test_words_typed_where_a_button_was_expected_join_the_description(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    pavel = tg.user(2109, "Павел")
    await pavel.send("/start")
    await pavel.expect_message(contains="152-ФЗ")
    await pavel.click("Согласен")
    await pavel.expect_message(contains=step("topic"))
    pavel.read_all()
    await pavel.send("Во дворе дома 3 переполнены мусорные контейнеры")
    kept = await pavel.expect_message(contains="Записали это как описание проблемы")
    assert "при проверке" in kept.text
    await pavel.expect_message(contains="«Экология и отходы»")
    await telegram_bot.settled()
    assert pavel.unread() == []
    await pavel.click("Да, верно")
    await pavel.expect_message(contains="муниципалитет")
    await pavel.send("тамбов")  # a button's label typed: the button it is
    await pavel.expect_message(contains="Где это находится")
    await pavel.click("Пропустить")
    await pavel.expect_message(contains="фотографии")
    await pavel.send("Там ещё и крысы бегают")
    await pavel.expect_message(contains="Добавили это к описанию проблемы")
    await pavel.expect_message(contains="фотографии")
    await pavel.click("Пропустить")
    await pavel.expect_message(contains="телефон")
    await pavel.click("Пропустить")
    await pavel.expect_message(contains="Проверьте обращение")
    await pavel.send("И запах ужасный")
    await pavel.expect_message(contains="Добавили это к описанию проблемы")
    review = await pavel.expect_message(contains="Проверьте обращение")
    assert (
        "Описание: Во дворе дома 3 переполнены мусорные контейнеры\nТам ещё и крысы бегают\nИ запах ужасный"
        in review.text
    )
    await pavel.click("Отправить")
    await pavel.expect_message(contains="принято")
    async with _app(telegram_bot).ctx.db.read() as session:
        appeal = (await session.scalars(select(Appeal))).one()
    assert appeal.description.endswith("И запах ужасный") and appeal.municipality_id == "tambov"


async def test_a_photo_with_a_caption_at_the_description_step_is_both(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    rita = tg.user(2110, "Рита")
    await rita.send("/start")
    await rita.expect_message(contains="152-ФЗ")
    await rita.click("Согласен")
    await rita.expect_message(contains=step("topic"))
    await rita.click("Дороги")
    await rita.expect_message(contains="муниципалитет")
    await rita.click("Тамбов")
    await rita.expect_message(contains=step("description"))
    await rita.send_photo(caption=CAPTION)
    await rita.expect_message(contains=step("place", skipped=("photos",)))
    await rita.click("Пропустить")
    await rita.expect_message(contains="телефон")
    await rita.click("Пропустить")
    review = await rita.expect_message(contains="Проверьте обращение")
    assert CAPTION in review.text and "Фото: 1" in review.text
