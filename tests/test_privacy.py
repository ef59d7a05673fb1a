"""Personal data end to end: after /forget, and after the retention job for a person who
never consented, the person is nowhere in the database (every table and column, found by
introspection). The agency chats see the card without the phone and the place, and are
told. /mydata shows what is kept. The real app against the fake Telegram (and once VK)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from handlers import privacy
from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from storage.db import Database
from storage.models import Appeal, AppealEvent, Resident
from tests.fake_vk import FakeVk
from tests.support.schema import number_pattern, phone_pattern, search, tables, words_pattern
from tests.support.telegram import Telegram, TelegramBot
from tests.support.vk import VkChat
from tests.test_e2e_desk import ADMINS, file_appeal
from tests.test_vk_e2e import AGENCY_CONVERSATION, DESCRIPTION, OFFICER, running_app, vk_agency_catalogue

__all__ = ["vk_agency_catalogue"]  # a fixture, shared with the VK end-to-end tests

ALICE_ID = 731594268
ALICE_NAME = "Евлампия Светлоярова"
ALICE_PHONE = "+79161234567"
ALICE_PLACE = (52.7311, 41.4423)
ALICE_ADDRESS = "ул. Проломная, д. 15"


def needles_for(
    person_id: int,
    name: str,
    phone: str,
    place: tuple[float, float],
    address: str,
    extra: tuple[str, ...] = (),
) -> dict[str, re.Pattern[str]]:
    found = {
        "platform id": number_pattern(str(person_id)),
        "name": words_pattern(name.split()[0]),
        "surname": words_pattern(name.split()[-1]),
        "phone": phone_pattern(phone),
        "address": words_pattern(address.split(",")[0].removeprefix("ул. ")),
        "latitude": number_pattern(f"{place[0]}"),
        "longitude": number_pattern(f"{place[1]}"),
    }
    for n, value in enumerate(extra):
        found[f"file id {n}"] = words_pattern(value)
    return found


def test_the_phone_pattern_finds_every_way_of_writing_a_number() -> None:
    pattern = phone_pattern(ALICE_PHONE)
    for written in ("+79161234567", "89161234567", "9161234567", "+7 (916) 123-45-67", "8-916-123 45 67"):
        assert pattern.search(f"звоните {written} вечером"), written
    assert not pattern.search("19161234567") and not pattern.search("91612345678")


async def test_forget_after_a_full_life_leaves_the_person_nowhere(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    assert telegram_bot.app is not None
    db = telegram_bot.app.ctx.db
    alice = tg.user(ALICE_ID, ALICE_NAME, phone=ALICE_PHONE)
    inspector = tg.user(5001, "Инспектор")

    # A life: an appeal with phone, geolocation and a photo; an answer; a rating; reopened;
    # details added; another appeal (typed address, phone) taken in work; /mydata asked.
    filed = await file_appeal(tg, alice, location=ALICE_PLACE, photos=1)
    group = filed.group
    await group.reply(filed.card, "Заделаем яму до пятницы", from_user=inspector)
    await alice.expect_message(contains="Ответ по обращению")
    await alice.expect_message(contains="Проблема по обращению")
    await alice.click("4")
    await alice.expect_message(contains="Спасибо за оценку 4")
    await alice.click("Нет")
    await alice.expect_message(contains="Расскажите, что не так")
    await alice.send("Яму засыпали песком, после дождя она снова открылась")
    await alice.expect_message(contains="возвращено в ведомство")
    await alice.send("/my")
    listing = await alice.expect_message(contains="Ваши обращения")
    [label] = [b for row in listing.buttons for b in row if b.startswith(f"№ {filed.number}")]
    await alice.click(label)
    await alice.expect_message(contains=f"Обращение № {filed.number}")
    await alice.click("Дополнить")
    await alice.expect_message(contains="Напишите, что добавить")
    details = await alice.send_photo(caption="Вот как яма выглядит сегодня")
    await alice.expect_message(contains="Дополнение к обращению")
    lamp = "Не горит фонарь во дворе, вечером темно"
    second = await file_appeal(tg, alice, lamp, address=ALICE_ADDRESS, phone="8 (916) 123-45-67", again=True)
    await group.click(second.card, "Взять в работу", by=inspector)
    await alice.expect_message(contains="взято в работу")
    await alice.send("/mydata")
    mine = await alice.expect_message(contains="Какие ваши данные мы храним")
    assert ALICE_NAME in mine.text and ALICE_ADDRESS in mine.text and "+7 916 123-45-67" in mine.text
    await telegram_bot.delivered()

    photo_ids = [p["file_id"] for p in details["photo"]] + [p["file_unique_id"] for p in details["photo"]]
    needles = needles_for(ALICE_ID, ALICE_NAME, ALICE_PHONE, ALICE_PLACE, ALICE_ADDRESS, tuple(photo_ids))
    schema = await tables(db)
    assert {"residents", "appeals", "appeal_events", "inbox", "outbox", "attachments", "followers"} <= set(
        schema
    )
    before = {f.needle for f in await search(db, needles)}
    assert before == set(needles), "the search must see the person before /forget"
    async with db.read() as session:
        events_before = await session.scalar(select(func.count()).select_from(AppealEvent))

    # What of her the agency chat shows besides the cards: the photo, the map pin, her
    # reopening comment and her details (with their photo).
    personal = [m for m in group.messages if _carries_her(m.text, m.has_photo or m.location is not None)]
    others = [m for m in group.messages if m not in personal]
    assert len(personal) == 5, personal
    group.read_all()
    await alice.send("/forget")
    await alice.expect_message(contains="Удалить ваши персональные данные?")
    await alice.click("Да, удалить")
    await alice.expect_message(contains="ваши персональные данные удалены")

    # The agency chat: both cards redrawn without phone and place, and told why.
    await group.expect_edit(filed.card, "отозвал согласие")
    await group.expect_edit(second.card, "отозвал согласие")
    for card in (filed.card, second.card):
        assert "Телефон" not in card.text and "Адрес" not in card.text and "Место" not in card.text
        assert "916" not in card.text and "yandex" not in card.html
    for number in (filed.number, second.number):
        notice = await group.expect_message(contains=f"подавший обращение № {number}, отозвал согласие")
        assert notice.buttons == []
    await telegram_bot.delivered()
    assert [m.text for m in group.unread()] == [], "nothing else reaches the agency"
    # Her photos, pin and words are deleted from the chat (the bot's own messages, within
    # Telegram's 48 hours); nothing else is.
    assert all(m.deleted for m in personal), [m for m in personal if not m.deleted]
    assert [m for m in others if m.deleted] == []
    assert sorted(tg.server.deleted) == sorted((group.chat_id, m.message_id) for m in personal)

    leftovers = await search(db, needles)
    assert leftovers == [], "\n".join(map(str, leftovers))
    async with db.read() as session:
        appeals = (await session.scalars(select(Appeal).order_by(Appeal.id))).all()
        events_after = await session.scalar(select(func.count()).select_from(AppealEvent))
        [resident] = (await session.scalars(select(Resident))).all()
    assert [a.number for a in appeals] == [filed.number, second.number], "the appeals stay, anonymous"
    assert [(a.rating, a.reopen_count) for a in appeals] == [(4, 1), (None, 0)]
    assert events_after == events_before + 0, "the history keeps every event, without who"
    assert resident.consent_at is None and resident.forgotten_at is not None

    # Writing again, she is a stranger: asked for consent, her old appeals are not hers.
    await alice.send("/my")
    await alice.expect_message(contains="согласие")


def _carries_her(text: str, media: bool) -> bool:
    """A photo, a pin, or the resident's own words (the first line says whose they are)."""
    first = text.split("\n", 1)[0]
    return (
        media
        or first.startswith(("Фотографии к обращению", "Место по обращению", "Житель дополнил"))
        or ("возвращено жителем на доработку" in first)
    )


async def test_a_person_who_never_consented_is_gone_after_the_retention_job(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    assert telegram_bot.app is not None
    app = telegram_bot.app
    bob = tg.user(864201357, "Аграфена Незгодова", phone="+79267654321")
    carol = tg.user(975310864, "Василиса Ожидающая")

    await bob.send("Яма у дома ул. Луговая, д. 7, звоните 8 (926) 765-43-21")
    await bob.expect_message(contains="согласие")
    await bob.share_location(52.6190, 41.3580)
    await bob.share_contact()
    await bob.expect_message(contains="ответьте на вопрос о согласии")
    await bob.click("Не согласен")
    await bob.expect_message(contains="Без согласия")
    # Carol's first message waits for her answer to the consent question.
    await carol.send("Здравствуйте, у нас во дворе Заречная улица не освещена")
    await carol.expect_message(contains="согласие")
    await telegram_bot.settled()

    bob_needles = needles_for(864201357, "Аграфена Незгодова", "+79267654321", (52.6190, 41.3580), "Луговая")
    carol_needles = {"platform id": number_pattern("975310864"), "words": words_pattern("Заречная")}
    # «Не согласен» dropped what Bob sent at once: only who he is waits for the job.
    left = {f.needle for f in await search(app.ctx.db, bob_needles)}
    assert left and left <= {"platform id", "name", "surname"}, left

    report = await privacy.purge(app.ctx, batch=2)  # small batches: the loop must go round

    assert report.batches >= 2
    leftovers = await search(app.ctx.db, bob_needles)
    assert leftovers == [], "\n".join(map(str, leftovers))
    held = {f.needle for f in await search(app.ctx.db, carol_needles)}
    assert held == set(carol_needles), "a first message is held while the consent question waits"

    telegram_bot.clock.advance(timedelta(hours=25))
    await privacy.purge(app.ctx)

    leftovers = await search(app.ctx.db, carol_needles)
    assert leftovers == [], "\n".join(map(str, leftovers))
    # Coming back, Carol is asked again, as anyone new.
    await carol.send("Я вернулась")
    await carol.expect_message(contains="согласие")


# -- VK -----------------------------------------------------------------------------------------

PETR_ID = 602513749


async def test_forget_on_vk_leaves_the_person_nowhere_and_the_vk_agency_card_is_redrawn(
    database_url: str, vk_agency_catalogue: Catalogue, clock: FrozenClock, db: Database
) -> None:
    async with FakeVk() as vk, running_app(database_url, vk_agency_catalogue, clock, vk):
        vk.add_user(PETR_ID, "Пантелеймон", "Вересаев")
        vk.add_user(OFFICER, "Ольга", "Смирнова")
        petr = VkChat(vk, PETR_ID)
        agency = VkChat(vk, AGENCY_CONVERSATION, from_id=OFFICER)
        await vk.user_writes(PETR_ID, "Начать", payload='{"command":"start"}')
        await petr.expect("152-ФЗ")
        await petr.press("Согласен")
        await petr.expect("Выберите тему")
        await petr.press("Дороги")
        await petr.expect("Выберите муниципалитет")
        await petr.press("Тамбов")
        await petr.expect("Опишите проблему")
        await petr.write(DESCRIPTION)
        await petr.expect("Где это находится")
        await vk.user_sends_geo(PETR_ID, *ALICE_PLACE)
        await petr.expect("пришлите их")
        await vk.user_sends_photo(PETR_ID, b"the pothole, photographed")
        await petr.expect("Фото получено: 1 из 5")
        await petr.press("Готово")
        await petr.expect("номер телефона, мобильный или городской")
        await petr.write("8 (916) 123-45-67")
        await petr.expect("Проверьте обращение")
        await petr.press("Отправить")
        await petr.expect("принято")
        card = await agency.expect("Обращение №")
        assert "Телефон: +7 916 123-45-67" in card.text
        await vk.staff_replies(AGENCY_CONVERSATION, OFFICER, card, "Яму заделаем до пятницы")
        await petr.expect("Ответ по обращению")
        await petr.expect("решена?")
        await petr.press("5")
        await petr.expect("Спасибо за оценку 5")
        await petr.write("/mydata")
        mine = await petr.expect("Какие ваши данные мы храним")
        assert "Пантелеймон Вересаев" in mine.text and "52.731100, 41.442300" in mine.text

        needles = needles_for(PETR_ID, "Пантелеймон Вересаев", ALICE_PHONE, ALICE_PLACE, "нет адреса у Петра")
        del needles["address"]
        assert {f.needle for f in await search(db, needles)} == set(needles)

        shown = vk.bot_messages(AGENCY_CONVERSATION)
        personal = [m for m in shown if m.geo is not None or m.attachments]
        assert [bool(m.geo) for m in personal] == [False, True], "the photo, then the pin"
        await petr.write("/forget")
        await petr.expect("Удалить ваши персональные данные?")
        await petr.press("Да, удалить")
        await petr.expect("ваши персональные данные удалены")
        await agency.expect_edit(card, "отозвал согласие")
        assert "Телефон" not in card.text and "Место" not in card.text
        await agency.expect("отозвал согласие на обработку персональных данных. Телефон")
        await vk.wait_until(lambda: not vk.pending_events)
        await vk.wait_until(lambda: all(m.deleted for m in personal))
        assert [m for m in shown if m.deleted and m not in personal] == []
        [delete] = vk.method_calls("messages.delete")
        assert delete["delete_for_all"] == "1" and delete["peer_id"] == str(AGENCY_CONVERSATION)

        leftovers = await search(db, needles)
        assert leftovers == [], "\n".join(map(str, leftovers))


async def test_photos_and_pin_older_than_telegram_allows_are_left_to_the_admins(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    """Telegram lets a bot delete its messages for 48 hours only: past that the pin and the
    photo stay, and the admin chat is asked, once, to delete them by hand."""
    alice = tg.user(ALICE_ID, ALICE_NAME, phone=ALICE_PHONE)
    filed = await file_appeal(tg, alice, location=ALICE_PLACE, photos=1)
    group = filed.group
    await telegram_bot.delivered()
    personal = [m for m in group.messages if _carries_her(m.text, m.has_photo or m.location is not None)]
    assert len(personal) == 3, personal
    tg.server.age_messages(group.chat_id, 48 * 3600)
    admins = tg.group(ADMINS)
    admins.read_all()

    await alice.send("/forget")
    await alice.expect_message(contains="Удалить ваши персональные данные?")
    await alice.click("Да, удалить")
    await alice.expect_message(contains="ваши персональные данные удалены")

    alert = await admins.expect_message(contains="не смог удалить")
    assert f"№ {filed.number}" in alert.text and "Удалите их вручную" in alert.text
    assert "48 часов" in alert.text
    await group.expect_edit(filed.card, "отозвал согласие")
    await telegram_bot.delivered()
    assert [m for m in personal if m.deleted] == [] and tg.server.deleted == []
    assert [m.text for m in admins.unread()] == [], "told once"
