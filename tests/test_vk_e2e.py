"""The whole thing on VK, through the real app against the fake VK (and the fake Telegram
where an agency works there): a VK resident files an appeal, an agency answers it; a VK
conversation serves as an agency chat for a Telegram resident."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import App, open_app
from bot.config import Settings, TelegramSettings, VkSettings
from bot.vk.runner import VkRunner
from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from handlers.clock import FrozenClock
from storage.db import Database
from storage.models import Appeal, Attachment, Resident
from tests.fake_vk import GROUP_ID, TOKEN, FakeVk
from tests.support.telegram import FAST_LIMITS, Telegram
from tests.support.vk import VkChat

PETR = 501
"""A VK resident; a Telegram user with the very same id also exists below."""
AGENCY_CONVERSATION = 2_000_000_001
OFFICER = 42
DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"
ROADS_TAMBOV_TG = -1001000000001


@asynccontextmanager
async def running_app(
    database_url: str,
    catalogue: Catalogue,
    clock: FrozenClock,
    vk: FakeVk,
    tg: Telegram | None = None,
) -> AsyncIterator[App]:
    settings = Settings(
        database_url=database_url,
        log_format="console",
        vk=VkSettings(group_token=SecretStr(TOKEN), group_id=GROUP_ID, api_base=vk.base, poll_wait=1),
    )
    if tg is not None:
        settings.telegram = TelegramSettings(
            bot_token=SecretStr(tg.server.token), api_base=tg.server.base_url, poll_timeout=1
        )
        tg.add_catalogue_chats(catalogue)
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(
            open_app(
                settings,
                clock=clock,
                catalogue=catalogue,
                setup_logging=False,
                jobs=None,
                telegram_limits=FAST_LIMITS,  # Telegram's pacing is not what these tests are about
            )
        )
        await vk.wait_until(vk.polling)
        yield app


async def file_roads_appeal(petr: VkChat, vk: FakeVk) -> None:
    """Petr goes through the whole dialogue on VK: start, consent, topic, place, photo,
    typed phone, review, send."""
    await vk.user_writes(PETR, "Начать", payload='{"command":"start"}')
    await petr.expect("152-ФЗ")
    await petr.press("Согласен")
    await petr.expect("Согласие получено")
    topics = await petr.expect("Выберите тему")
    # The shipped catalogue's nine topics and «Назад», «Отмена» are more than one inline
    # keyboard holds on VK (10 buttons): the dialogue pages them, and every one is there.
    first = topics.labels()
    assert {"Дороги", "ЖКХ", "Ещё ▶", "Назад", "Отмена"} <= set(first) and "Другое" not in first
    await petr.press("Ещё ▶")
    await vk.wait_until(lambda: "Другое" in topics.labels())
    assert {c.title for c in load_catalogue(EXAMPLE_PATH).categories} <= set(first) | set(topics.labels())
    await petr.press("◀")
    await vk.wait_until(lambda: "Дороги" in topics.labels())
    await petr.press("Дороги")
    await petr.expect("Выберите муниципалитет")
    await petr.press("Тамбов")
    await petr.expect("Опишите проблему")
    await petr.write(DESCRIPTION)
    place = await petr.expect("Где это находится")
    assert place.keyboard is not None and place.keyboard["inline"] is False
    assert "location" in [b["action"]["type"] for b in place.buttons()]
    await vk.user_sends_geo(PETR, 52.72, 41.45)
    placed = await petr.expect("Место записано")
    assert placed.keyboard == {"one_time": True, "buttons": []}, "the location keyboard is taken away"
    await petr.expect("пришлите их")
    await vk.user_sends_photo(PETR, b"the pothole, photographed")
    await petr.expect("Фото получено: 1 из 5")
    await petr.press("Готово")
    phone = await petr.expect("номер телефона, мобильный или городской")
    assert "Поделиться номером" not in phone.labels(), "VK has no contact button"
    await petr.write("+7 999 000-11-22")
    review = await petr.expect("Проверьте обращение")
    assert "Тема: Дороги" in review.text
    assert "Муниципалитет: Тамбов" in review.text
    assert "Фото: 1" in review.text
    assert "Телефон: +7 999 000-11-22" in review.text
    assert "<b>" not in review.text and "&lt;" not in review.text
    await petr.press("Отправить")
    accepted = await petr.expect("принято")
    assert "до 26.11.2026, 10:00, а ответит по существу до 24.12.2026, 18:00" in accepted.text


async def only_appeal(db: Database) -> tuple[Appeal, list[Attachment]]:
    async with db.read() as session:
        [appeal] = (await session.scalars(select(Appeal))).all()
        attachments = list((await session.scalars(select(Attachment))).all())
    return appeal, attachments


async def test_a_vk_resident_files_an_appeal_through_the_whole_dialogue(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database
) -> None:
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk):
        vk.add_user(PETR, "Пётр", "Иванов")
        petr = VkChat(vk, PETR)
        await file_roads_appeal(petr, vk)

        appeal, attachments = await only_appeal(db)
        assert (appeal.platform, appeal.category_id, appeal.municipality_id) == ("vk", "roads", "tambov")
        assert (appeal.latitude, appeal.longitude, appeal.phone) == (52.72, 41.45, "+79990001122")
        assert appeal.description == DESCRIPTION
        [photo] = attachments
        assert (photo.kind, photo.platform) == ("photo", "vk")
        assert vk.photo_bytes(photo.ref) == b"the pothole, photographed"
        assert f"№ {appeal.number}" in vk.bot_messages(PETR)[-1].text
        assert all(answer["peer_id"] == PETR for answer in vk.event_answers)
        assert not vk.pending_events, "every button press was answered"
        async with db.read() as session:
            resident = (await session.scalars(select(Resident))).one()
        assert (resident.platform, resident.external_id, resident.name) == ("vk", "501", "Пётр Иванов")


async def test_a_vk_resident_files_is_answered_and_rates_with_the_shipped_catalogue(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    """The shipped example catalogue as it is (nine topics: more than one VK inline keyboard
    holds): a VK resident files an appeal, the agency answers from its Telegram group, the
    resident rates the answer."""
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk, tg):
        petr = VkChat(vk, PETR)
        await file_roads_appeal(petr, vk)
        appeal, _ = await only_appeal(db)

        group = tg.group(ROADS_TAMBOV_TG)
        photos = await group.expect_message(f"Фотографии к обращению № {appeal.number}")
        assert photos.has_photo
        file_id = photos.photos[-1]["file_id"]
        assert tg.server.files[file_id][1] == b"the pothole, photographed", "the VK photo crossed over"
        card = await group.expect_message(f"Обращение № {appeal.number}", has_button="Взять в работу")
        officer = tg.user(7001, "Инспектор")
        await group.reply(card, "Яму заделаем до пятницы", from_user=officer)

        answer = await petr.expect(f"Ответ по обращению № {appeal.number}")
        assert "Яму заделаем до пятницы" in answer.text
        assert "<b>" not in answer.text
        feedback = await petr.expect("решена?")
        assert feedback.labels() == ["Да", "Нет", "1", "2", "3", "4", "5"]
        await petr.press("5")
        await petr.expect("Спасибо за оценку 5")
        rated, _ = await only_appeal(db)
        assert rated.rating == 5
        await asyncio.sleep(0.5)
        after_filing = [m.text for m in vk.bot_messages(PETR)]
        after_filing = after_filing[next(i for i, t in enumerate(after_filing) if "принято" in t) + 1 :]
        assert [t.split("\n")[0] for t in after_filing] == [
            f"Ответ по обращению № {appeal.number} (Управление дорожного хозяйства г. Тамбова):",
            f"Проблема по обращению № {appeal.number} решена?",
            "Спасибо за оценку 5!",
        ], "the answer, the question and the thanks, and nothing else"
        assert [m.text for m in group.messages if "Ответ по обращению" in m.text and "доставлен" in m.text]

        # The same number on Telegram is another person: Telegram user 501 starts afresh.
        namesake = tg.user(PETR, "Тёзка")
        await namesake.send("/start")
        await namesake.expect_message("152-ФЗ")
        async with db.read() as session:
            residents = (await session.scalars(select(Resident).order_by(Resident.id))).all()
        assert [(r.platform, r.external_id, r.consent_at is not None) for r in residents] == [
            ("vk", "501", True),
            ("telegram", "501", False),
        ]


@pytest.fixture
def vk_agency_catalogue(tmp_path: Path) -> Catalogue:
    """The example region, with the Tambov roads agency working in a VK conversation."""
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    assert text.count('chats = ["telegram:-1001000000001"]') == 1
    path = tmp_path / "catalogue.toml"
    path.write_text(
        text.replace('chats = ["telegram:-1001000000001"]', f'chats = ["vk:{AGENCY_CONVERSATION}"]'),
        encoding="utf-8",
    )
    return load_catalogue(path)


async def test_a_telegram_resident_is_answered_from_a_vk_conversation(
    database_url: str, vk_agency_catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    async with FakeVk() as vk, running_app(database_url, vk_agency_catalogue, clock, vk, tg):
        vk.add_user(OFFICER, "Ольга", "Смирнова")
        anna = tg.user(1001, "Анна")
        await anna.send("/start")
        await anna.expect_message("152-ФЗ")
        await anna.click("Согласен")
        await anna.expect_message("Выберите тему")
        await anna.click("Дороги")
        await anna.expect_message("Выберите муниципалитет")
        await anna.click("Тамбов")
        await anna.expect_message("Опишите проблему")
        await anna.send(DESCRIPTION)
        await anna.expect_message("Где это находится")
        await anna.send("ул. Советская, 12")
        await anna.expect_message("пришлите их")
        await anna.send_photo()
        await anna.expect_message("Фото получено")
        await anna.click("Готово")
        await anna.expect_message("номер")
        await anna.click("Пропустить")
        await anna.expect_message("Проверьте обращение")
        await anna.click("Отправить")
        await anna.expect_message("принято")
        appeal, [tg_photo] = await only_appeal(db)

        agency = VkChat(vk, AGENCY_CONVERSATION, from_id=OFFICER)
        photos = await agency.expect(f"Фотографии к обращению № {appeal.number}")
        assert len(photos.attachments) == 1
        assert vk.photo_bytes(photos.attachments[0]) == tg.server.files[tg_photo.ref][1], (
            "Telegram's photo crossed"
        )
        card = await agency.expect(f"Обращение № {appeal.number}")
        assert "Взять в работу" in card.labels()
        assert "Адрес: ул. Советская, 12" in card.text
        assert "<b>" not in card.text

        await agency.press("Взять в работу")
        await agency.expect_edit(card, "в работе")
        assert not vk.pending_events, "the button press was answered"
        await anna.expect_message("взято в работу")

        await vk.staff_replies(AGENCY_CONVERSATION, OFFICER, card, "Бригада выедет в четверг")
        answer = await anna.expect_message(f"Ответ по обращению № {appeal.number}")
        assert "Бригада выедет в четверг" in answer.text
        await agency.expect_edit(card, "дан ответ")

        # A photo answered from VK reaches the Telegram resident as a photo, bytes and all.
        patched = b"the patched road"
        await vk.staff_replies(AGENCY_CONVERSATION, OFFICER, card, "Вот так теперь", photo=patched)
        notice = await anna.expect_message("Вот так теперь")
        assert notice.has_photo, "the staff photo crossed to Telegram"
        assert tg.server.files[notice.photos[-1]["file_id"]][1] == patched
        assert f"№ {appeal.number}" in notice.text
        async with db.read() as session:
            sources = sorted((await session.scalars(select(Attachment.source))).all())
        assert sources == ["resident", "staff"], "the staff photo is kept with the appeal"


async def test_added_to_a_vk_conversation_the_bot_says_the_peer_id_for_the_catalogue(
    database_url: str, vk_agency_catalogue: Catalogue, clock: FrozenClock
) -> None:
    stranger_chat = 2_000_000_077
    async with FakeVk() as vk, running_app(database_url, vk_agency_catalogue, clock, vk) as app:
        await vk.bot_added_to(stranger_chat, by=OFFICER)
        intro = await VkChat(vk, stranger_chat).expect("не подключён")
        assert f"vk:{stranger_chat}" in intro.text, "the id to put in the catalogue"
        assert "<code>" not in intro.text

        await vk.bot_added_to(AGENCY_CONVERSATION, by=OFFICER)
        await VkChat(vk, AGENCY_CONVERSATION).expect("Команды бота обращений")

        # Someone else joining a conversation is not the bot joining it, and a chat the
        # catalogue does not know is told so once: no second notice, a command or not.
        await vk.user_writes(
            stranger_chat, "", from_id=OFFICER, action={"type": "chat_invite_user", "member_id": 77}
        )
        await vk.user_writes(stranger_chat, "/help", from_id=OFFICER)
        await vk.wait_until(vk.caught_up)
        await next(c for c in app.channels if isinstance(c, VkRunner)).idle()
        assert len(vk.bot_messages(stranger_chat)) == 1
        assert len(vk.bot_messages(AGENCY_CONVERSATION)) == 1
