"""Staff files across platforms: a document answered from a VK conversation reaches a
Telegram resident, bytes and name; a Telegram group's document and voice message reach a
VK resident as VK documents; a VK video, which VK gives no file for, is refused in the
conversation and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from handlers.clock import FrozenClock
from storage.db import Database
from tests.fake_vk import FakeVk
from tests.support.telegram import Person, Telegram
from tests.support.vk import VkChat
from tests.test_vk_e2e import (
    AGENCY_CONVERSATION,
    DESCRIPTION,
    OFFICER,
    PETR,
    ROADS_TAMBOV_TG,
    file_roads_appeal,
    only_appeal,
    running_app,
)


@pytest.fixture
def vk_agency_catalogue(tmp_path: Path) -> Catalogue:
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    path = tmp_path / "catalogue.toml"
    path.write_text(
        text.replace('chats = ["telegram:-1001000000001"]', f'chats = ["vk:{AGENCY_CONVERSATION}"]'),
        encoding="utf-8",
    )
    return load_catalogue(path)


async def _file_on_telegram(anna: Person) -> None:
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
    await anna.click("Пропустить")
    await anna.expect_message("номер")
    await anna.click("Пропустить")
    await anna.expect_message("Проверьте обращение")
    await anna.click("Отправить")
    await anna.expect_message("принято")


async def test_a_document_from_a_vk_conversation_reaches_a_telegram_resident_and_a_video_is_refused(
    database_url: str, vk_agency_catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    async with FakeVk() as vk, running_app(database_url, vk_agency_catalogue, clock, vk, tg):
        vk.add_user(OFFICER, "Ольга", "Смирнова")
        anna = tg.user(1001, "Анна")
        await _file_on_telegram(anna)
        appeal, _ = await only_appeal(db)
        agency = VkChat(vk, AGENCY_CONVERSATION, from_id=OFFICER)
        card = await agency.expect(f"Обращение № {appeal.number}")
        anna.read_all()

        # A video: VK gives a community no file to fetch, so it cannot cross to Telegram.
        video = vk.video_attachment(OFFICER)
        await vk.staff_replies(AGENCY_CONVERSATION, OFFICER, card, "Видео ремонта", attachments=[video])
        refusal = await agency.expect("Ответ не отправлен")
        assert "видео" in refusal.text and refusal.reply_to is not None
        assert (await only_appeal(db))[0].status == "passed", "nothing changed"

        scan = b"%PDF-1.7 the repair act"
        doc = vk.doc_attachment(OFFICER, scan, "akt.pdf")
        await vk.staff_replies(AGENCY_CONVERSATION, OFFICER, card, "Акт работ во вложении", attachments=[doc])

        notice = await anna.expect_message("Акт работ во вложении")
        assert notice.file is not None and notice.file[0] == "document"
        assert tg.server.files[notice.file[1]["file_id"]][1] == scan, "the VK document's bytes crossed"
        assert f"№ {appeal.number}" in notice.text
        await agency.expect("доставлен")
        assert not [m for m in anna.messages if "Видео ремонта" in m.text]
        assert (await only_appeal(db))[0].status == "answered"


async def test_a_telegram_groups_document_and_voice_reach_a_vk_resident_as_vk_documents(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk, tg):
        petr = VkChat(vk, PETR)
        await file_roads_appeal(petr, vk)
        appeal, _ = await only_appeal(db)
        group = tg.group(ROADS_TAMBOV_TG)
        card = await group.expect_message(f"Обращение № {appeal.number}", has_button="Взять в работу")
        officer = tg.user(7001, "Инспектор")

        await group.reply_media(card, "document", from_user=officer, caption="Схема объезда", data=b"scheme")
        answer = await petr.expect("Схема объезда")
        [attachment] = answer.attachments
        doc, data = vk.doc_bytes(attachment)
        assert (doc.type, data) == ("doc", b"scheme"), "uploaded through docs.save"
        await group.expect_message(contains="доставлен")

        await group.reply_media(card, "voice", from_user=officer, data=b"OggS voice")
        voiced = await petr.expect(f"Ответ по обращению № {appeal.number}")
        [attachment] = voiced.attachments
        doc, data = vk.doc_bytes(attachment)
        assert (doc.type, data) == ("audio_message", b"OggS voice"), "a voice message stays one"
