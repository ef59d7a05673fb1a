"""The guided dialogue, as a resident lives it: from /start to a filed appeal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.context import Context
from handlers.core import Core
from handlers.events import MediaKind, Platform
from handlers.workflow import OPEN_STATUSES
from storage.db import Database
from storage.models import Appeal, AppealEvent, Attachment, Dialogue, Resident
from tests.support import ButtonNotShown, ResidentChat
from tests.support.steps import step

DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"


@pytest.fixture
def core(ctx: Context) -> Core:
    return Core(ctx)


@pytest.fixture
def alice(core: Core) -> ResidentChat:
    return ResidentChat(core, Platform.TELEGRAM, "1001", name="Алиса")


async def consent(chat: ResidentChat) -> None:
    await chat.send("/start")
    assert "152-ФЗ" in chat.last_text
    await chat.click("Согласен")
    assert "Выберите тему" in chat.last_text


async def fill_until_review(chat: ResidentChat) -> None:
    await chat.click("Дороги")
    await chat.click("Тамбов")
    await chat.send(DESCRIPTION)
    await chat.click("Пропустить")
    await chat.click("Пропустить")
    if chat.platform is Platform.TELEGRAM:
        await chat.click("Пропустить")
    else:
        await chat.click("Пропустить")
    assert "Проверьте обращение" in chat.last_text


async def appeals_in(db: Database) -> list[Appeal]:
    async with db.read() as session:
        return list((await session.scalars(select(Appeal).order_by(Appeal.id))).all())


async def test_whole_dialogue_with_every_optional_step(alice: ResidentChat, db: Database) -> None:
    await alice.send("/start")
    assert "обращений жителей" in alice.last_text
    assert alice.buttons == ["Согласен", "Не согласен"]
    await alice.click("Согласен")
    assert "Спасибо! Согласие получено." in alice.last_text
    assert "Дороги" in alice.buttons and "ЖКХ" in alice.buttons

    await alice.click("ЖКХ")
    assert "муниципалитет" in alice.last_text
    await alice.click("Мичуринск")
    assert "Опишите проблему" in alice.last_text
    await alice.send("  Не работает освещение во дворе <b>дома</b> 7, темно и опасно  ")
    assert "Где это находится" in alice.last_text
    assert "📍 Отправить геолокацию" in alice.buttons
    await alice.share_location(52.72, 41.45)
    assert "Место записано" in alice.last_text
    assert alice.replies[0].remove_keyboard
    assert "пришлите их (не больше 5)" in alice.last_text
    await alice.send_photo("p1")
    assert "Фото получено: 1 из 5" in alice.last_text
    await alice.send_album(2)
    assert "Фото получено: 3 из 5" in alice.last_text
    await alice.click("Готово")
    assert "Поделиться номером" in alice.buttons
    await alice.share_contact("79991234567")
    assert "Телефон записан" in alice.last_text

    review = alice.last_text
    assert "Тема: ЖКХ" in review
    assert "Муниципалитет: Мичуринск" in review
    assert "&lt;b&gt;дома&lt;/b&gt;" in review
    assert "геолокация (52.72000, 41.45000)" in review
    assert "Фото: 3" in review
    assert "Телефон: +7 999 123-45-67" in review
    await alice.click("Отправить")

    [appeal] = await appeals_in(db)
    assert f"№ {appeal.number}" in alice.last_text
    # Housing: 8 working hours for the first response, ten working days for the answer.
    assert "взяло его в работу, до 25.11.2026, 11:00, а ответит по существу до 08.12.2026, 18:00" in (
        alice.last_text
    )
    assert appeal.status in OPEN_STATUSES  # new, or already passed on by forwarding
    assert appeal.platform == "telegram"
    assert (appeal.category_id, appeal.municipality_id) == ("housing", "michurinsk")
    assert appeal.description == "Не работает освещение во дворе <b>дома</b> 7, темно и опасно"
    assert (appeal.latitude, appeal.longitude, appeal.address) == (52.72, 41.45, None)
    assert appeal.phone == "+79991234567"
    async with db.read() as session:
        attachments = (await session.scalars(select(Attachment).order_by(Attachment.id))).all()
        events = (await session.scalars(select(AppealEvent))).all()
        resident = (await session.scalars(select(Resident))).one()
        dialogue = await session.get(Dialogue, resident.id)
    assert [(a.kind, a.platform, a.ref, a.unique_id) for a in attachments] == [
        ("photo", "telegram", "file-p1", "p1"),
        ("photo", "telegram", "file-album-1", "album-1"),
        ("photo", "telegram", "file-album-2", "album-2"),
    ]
    assert all(a.appeal_id == appeal.id for a in attachments)
    created = [(e.actor_kind, e.to_status, e.appeal_id) for e in events if e.kind == "created"]
    assert created == [("resident", "new", appeal.id)]
    assert (resident.name, resident.phone) == ("Алиса", "+79991234567")
    assert dialogue is not None and dialogue.state == "idle" and dialogue.data == {}


async def test_whole_dialogue_with_everything_skipped(alice: ResidentChat, db: Database) -> None:
    await consent(alice)
    await fill_until_review(alice)
    assert "Место: не указано" in alice.last_text
    assert "Фото: нет" in alice.last_text
    assert "Телефон: не указан" in alice.last_text
    await alice.click("Отправить")
    [appeal] = await appeals_in(db)
    assert "до 26.11.2026, 10:00, а ответит по существу до 24.12.2026, 18:00" in alice.last_text
    assert (appeal.address, appeal.latitude, appeal.phone) == (None, None, None)
    async with db.read() as session:
        assert (await session.scalars(select(Attachment))).all() == []
        resident = (await session.scalars(select(Resident))).one()
    assert resident.phone is None


async def test_typed_address_and_typed_phone(alice: ResidentChat, db: Database) -> None:
    await consent(alice)
    await alice.click("Дороги")
    await alice.click("Тамбов")
    await alice.send(DESCRIPTION)
    await alice.send("ул. Советская, 12")
    await alice.click("Пропустить")
    await alice.send("8 (912) 345-67-89")
    assert "Адрес: ул. Советская, 12" in alice.last_text
    assert "Телефон: +7 912 345-67-89" in alice.last_text
    await alice.click("Отправить")
    [appeal] = await appeals_in(db)
    assert (appeal.address, appeal.phone) == ("ул. Советская, 12", "+79123456789")


async def test_vk_has_no_contact_button_and_takes_a_typed_phone(core: Core, db: Database) -> None:
    bob = ResidentChat(core, Platform.VK, "501", name="Борис")
    await consent(bob)
    await bob.click("Дороги")
    await bob.click("Тамбов")
    await bob.send(DESCRIPTION)
    await bob.click("Пропустить")
    await bob.click("Пропустить")
    assert "Поделиться номером" not in bob.buttons
    assert "+7 900 123-45-67" in bob.last_text
    await bob.send("+7 999 000-11-22")
    await bob.click("Отправить")
    [appeal] = await appeals_in(db)
    assert (appeal.platform, appeal.phone) == ("vk", "+79990001122")


async def test_clicking_a_button_that_is_not_shown_fails_the_test(alice: ResidentChat) -> None:
    await alice.send("/start")
    with pytest.raises(ButtonNotShown):
        await alice.click("Дороги")
    await alice.click("Согласен")
    await alice.click("Дороги")
    await alice.click("Тамбов")
    await alice.send(DESCRIPTION)
    with pytest.raises(ButtonNotShown):
        await alice.click("📍 Отправить геолокацию")


async def test_words_at_the_photos_step_join_the_description_and_a_typed_label_is_its_button(
    alice: ResidentChat,
) -> None:
    await consent(alice)
    await alice.click("Дороги")
    await alice.click("Тамбов")
    await alice.send(DESCRIPTION)
    await alice.click("Пропустить")
    assert step("photos") in alice.last_text
    await alice.send("нет фото, темно уже")
    assert "Добавили это к описанию проблемы" in alice.last_text
    assert step("photos") in alice.last_text and "Пропустить" in alice.buttons
    await alice.send("🙈")  # nothing to keep: the way on is named
    assert "нажмите «Пропустить»" in alice.last_text
    await alice.send_photo("p1")
    await alice.send("готово")
    assert step("phone") in alice.last_text
    await alice.click("Пропустить")
    review = alice.last_text
    assert f"{DESCRIPTION}\nнет фото, темно уже" in review and "Фото: 1" in review
    assert "готово" not in review, "a button's label typed is the button, not words"


async def test_other_media_is_answered_with_what_the_step_accepts(alice: ResidentChat) -> None:
    await consent(alice)
    await alice.send_sticker()
    assert "выбрать тему" in alice.last_text
    assert "Выберите тему" in alice.last_text
    await alice.click("Дороги")
    await alice.click("Тамбов")
    await alice.send_media(MediaKind.VOICE)
    assert "нужно описание текстом" in alice.last_text
    await alice.send_photo("early")  # kept: the photos step will be passed
    assert "Фото сохранили, всего 1. Теперь опишите проблему текстом" in alice.last_text
    await alice.send(DESCRIPTION)
    await alice.send_media(MediaKind.VIDEO)
    assert "геолокация или адрес" in alice.last_text
    await alice.click("Пропустить")
    await alice.click("Назад")  # to the photos step, passed on the way
    for kind in (MediaKind.VIDEO, MediaKind.VOICE, MediaKind.DOCUMENT, MediaKind.STICKER):
        await alice.send_media(kind)
        assert "только фотографии" in alice.last_text
    await alice.click("Готово")
    await alice.send_media(MediaKind.AUDIO)
    assert "нужен номер телефона" in alice.last_text
