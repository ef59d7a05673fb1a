"""Moving around the dialogue: back, cancel, mistakes, changes from the review, restarts."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, parse_catalogue
from handlers.context import Context
from handlers.core import Core
from handlers.events import ChatKind, Event, Platform
from storage.db import Database
from storage.models import Appeal, Attachment, Dialogue
from tests.support import ResidentChat

DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"

QUESTIONS = {
    "topic": "Выберите тему",
    "municipality": "Выберите муниципалитет",
    "description": "Опишите проблему",
    "place": "Где это находится",
    "photos": "Если есть фотографии",
    "phone": "Оставьте номер телефона",
    "review": "Проверьте обращение",
}
ORDER = list(QUESTIONS)


@pytest.fixture
def core(ctx: Context) -> Core:
    return Core(ctx)


@pytest.fixture
async def alice(core: Core) -> ResidentChat:
    chat = ResidentChat(core, Platform.TELEGRAM, "1001", name="Алиса")
    await chat.send("/start")
    await chat.click("Согласен")
    return chat


async def go_to(chat: ResidentChat, step: str) -> None:
    """From the topic question, answer each step until ``step`` is asked."""
    answers = {
        "topic": lambda: chat.click("Дороги"),
        "municipality": lambda: chat.click("Тамбов"),
        "description": lambda: chat.send(DESCRIPTION),
        "place": lambda: chat.send("ул. Советская, 12"),
        "photos": lambda: chat.send_photo("p1"),
        "phone": lambda: chat.send("+7 900 123-45-67"),
    }
    for current in ORDER[: ORDER.index(step)]:
        await answers[current]()
        if current == "photos":
            await chat.click("Готово")
    assert QUESTIONS[step] in chat.last_text


async def appeals_in(db: Database) -> list[Appeal]:
    async with db.read() as session:
        return list((await session.scalars(select(Appeal).order_by(Appeal.id))).all())


@pytest.mark.parametrize("step", ORDER[1:])
async def test_back_returns_to_the_previous_question(alice: ResidentChat, step: str) -> None:
    await go_to(alice, step)
    await alice.click("Назад")
    assert QUESTIONS[ORDER[ORDER.index(step) - 1]] in alice.last_text


async def test_back_from_the_topic_leaves_the_dialogue(alice: ResidentChat) -> None:
    await alice.click("Назад")
    assert "Заполнение обращения отменено" in alice.last_text
    assert alice.buttons == ["Подать обращение", "Мои обращения"]


@pytest.mark.parametrize("step", ORDER[:-1])
async def test_cancel_from_every_step(alice: ResidentChat, db: Database, step: str) -> None:
    await go_to(alice, step)
    await alice.click("Отмена")
    assert "Заполнение обращения отменено" in alice.last_text
    assert alice.keyboard == ()  # a reply keyboard shown by the step is taken away
    await alice.send("/new")
    assert QUESTIONS["topic"] in alice.last_text  # nothing left to continue
    assert await appeals_in(db) == []


async def test_cancel_from_the_review(alice: ResidentChat, db: Database) -> None:
    await go_to(alice, "review")
    await alice.click("Отменить")
    assert "Заполнение обращения отменено" in alice.last_text
    assert await appeals_in(db) == []


async def test_typed_back_and_cancel_on_a_reply_keyboard_step(alice: ResidentChat) -> None:
    await go_to(alice, "place")
    assert alice.buttons[-3:] == ["Пропустить", "Назад", "Отмена"]
    await alice.click("Назад")  # a keyboard button: arrives as its label text
    assert QUESTIONS["description"] in alice.last_text
    assert alice.keyboard == ()


async def test_description_mistakes_get_an_explanation_and_the_same_question(alice: ResidentChat) -> None:
    await go_to(alice, "description")
    await alice.send("Яма")
    assert "Описание слишком короткое: 3 символа, а нужно не меньше 10." in alice.last_text
    assert QUESTIONS["description"] in alice.last_text
    await alice.send("   ")
    assert "сообщение пустое" in alice.last_text
    await alice.send("   короткое   ")
    assert "слишком короткое: 8" in alice.last_text
    await alice.send("я" * 4001)
    assert "Описание слишком длинное: 4\u00a0001 символов при допустимых 4\u00a0000" in alice.last_text
    assert QUESTIONS["description"] in alice.last_text
    await alice.share_location(52.7, 41.4)
    assert "нужно описание текстом" in alice.last_text
    await alice.send("я" * 4000)
    assert QUESTIONS["place"] in alice.last_text


async def test_address_mistakes(alice: ResidentChat) -> None:
    await go_to(alice, "place")
    await alice.send("12")
    assert "Адрес слишком короткий" in alice.last_text
    assert QUESTIONS["place"] in alice.last_text
    await alice.send("д" * 301)
    assert "Адрес слишком длинный" in alice.last_text
    await alice.send("📍 Отправить геолокацию")  # the request button's label, typed
    assert "геолокация или адрес" in alice.last_text
    await alice.send("д" * 300)
    assert QUESTIONS["photos"] in alice.last_text


async def test_photo_limit_duplicates_and_albums(alice: ResidentChat, db: Database) -> None:
    await go_to(alice, "photos")
    assert alice.buttons[0] == "Пропустить"
    await alice.send_photo("same")
    assert alice.buttons[0] == "Готово"
    await alice.send_photo("same")
    assert "Это фото уже добавлено" in alice.last_text
    answers = await alice.send_album(6)
    received = [r.replies[0].text for r in answers]
    assert received[:4] == [f"Фото получено: {n} из 5." for n in (2, 3, 4, 5)]
    assert all("не больше 5 фото" in text for text in received[4:])
    await alice.click("Готово")
    await alice.click("Пропустить")
    assert "Фото: 5" in alice.last_text
    await alice.click("Отправить")
    [appeal] = await appeals_in(db)
    async with db.read() as session:
        refs = (
            await session.scalars(
                select(Attachment.unique_id).where(Attachment.appeal_id == appeal.id).order_by(Attachment.id)
            )
        ).all()
    assert refs == ["same", "album-1", "album-2", "album-3", "album-4"]


async def test_phone_mistakes_and_foreign_contacts(alice: ResidentChat) -> None:
    await go_to(alice, "phone")
    for wrong in (
        "12345",
        "8 (4752) 72-00",
        "телефон",
        "+1 900 123 45 67",
        "+7 495 123-45-67 доб. " + "1" * 20,
    ):
        await alice.send(wrong)
        assert "Не удалось распознать номер" in alice.last_text, wrong
        assert "«Пропустить»" in alice.last_text, "the refusal says how to skip"
        assert QUESTIONS["phone"] in alice.last_text
    await alice.share_contact("+79990001122", own=False)
    assert "своим собственным номером" in alice.last_text
    await alice.share_contact("79990001122", own=True)  # as Telegram sends it: no plus
    assert "Телефон: +7 999 000-11-22" in alice.last_text
    await alice.click("Отправить")
    async with alice.core.ctx.db.read() as session:
        assert (await session.scalars(select(Appeal.phone))).one() == "+79990001122"


@pytest.mark.parametrize(
    ("field", "change", "expected"),
    [
        ("Тему", lambda c: c.click("ЖКХ"), "Тема: ЖКХ"),
        ("Муниципалитет", lambda c: c.click("Котовск"), "Муниципалитет: Котовск"),
        ("Описание", lambda c: c.send("Новое описание проблемы, подробнее"), "Описание: Новое описание"),
        ("Место", lambda c: c.share_location(52.5, 41.5), "геолокация (52.50000, 41.50000)"),
        ("Фото", lambda c: c.send_photo("new"), "Фото: 1"),
        ("Телефон", lambda c: c.send("89001112233"), "Телефон: +7 900 111-22-33"),
    ],
)
async def test_change_each_field_from_the_review(
    alice: ResidentChat, db: Database, field: str, change: Any, expected: str
) -> None:
    await go_to(alice, "review")
    await alice.click("Изменить")
    assert "Что хотите изменить?" in alice.last_text
    await alice.click(field)
    await change(alice)
    if field == "Фото":
        await alice.click("Готово")
    assert QUESTIONS["review"] in alice.last_text
    assert expected in alice.last_text
    assert "Тема: Дороги" in alice.last_text or field == "Тему"
    await alice.click("Отправить")
    assert len(await appeals_in(db)) == 1


async def test_back_while_changing_a_field_returns_to_the_review_unchanged(alice: ResidentChat) -> None:
    await go_to(alice, "review")
    await alice.click("Изменить")
    await alice.click("Описание")
    await alice.click("Назад")
    assert QUESTIONS["review"] in alice.last_text
    assert DESCRIPTION in alice.last_text


async def test_a_new_process_continues_at_the_same_step(ctx: Context, alice: ResidentChat) -> None:
    await go_to(alice, "place")
    restarted = ResidentChat(Core(ctx), Platform.TELEGRAM, "1001", name="Алиса")
    await restarted.send("ул. Ленина, 1")
    assert QUESTIONS["photos"] in restarted.last_text
    await restarted.click("Пропустить")
    await restarted.click("Пропустить")
    assert "Адрес: ул. Ленина, 1" in restarted.last_text
    assert DESCRIPTION in restarted.last_text


async def test_abandoned_draft_can_be_continued(alice: ResidentChat) -> None:
    await go_to(alice, "place")
    await alice.send("/new")
    assert "незаконченное обращение" in alice.last_text
    await alice.click("Продолжить")
    assert QUESTIONS["place"] in alice.last_text
    await alice.send("ул. Ленина, 1")
    await alice.click("Пропустить")
    await alice.click("Пропустить")
    assert DESCRIPTION in alice.last_text


async def test_abandoned_draft_can_be_started_over(alice: ResidentChat) -> None:
    await go_to(alice, "photos")
    await alice.send("/start")
    assert "незаконченное обращение" in alice.last_text
    await alice.click("Начать заново")
    assert QUESTIONS["topic"] in alice.last_text
    await go_to(alice, "review")
    assert "Фото: 1" in alice.last_text  # only the photo sent in the new draft


async def test_commands_mid_step_keep_the_draft(alice: ResidentChat) -> None:
    await go_to(alice, "description")
    await alice.send("/my")
    assert "нет обращений" in alice.last_text
    await alice.send("/help")
    assert "/forget" in alice.last_text
    assert QUESTIONS["description"] in alice.last_text
    await alice.send("/unknown")
    assert "Такой команды нет" in alice.last_text
    await alice.send(DESCRIPTION)
    assert QUESTIONS["place"] in alice.last_text


async def test_cancel_command(alice: ResidentChat) -> None:
    await go_to(alice, "description")
    await alice.send("/cancel")
    assert "Заполнение обращения отменено" in alice.last_text
    await alice.send("/cancel")
    assert "нечего отменять" in alice.last_text


async def test_stale_and_forged_buttons_change_nothing(alice: ResidentChat) -> None:
    topics = alice.last
    await go_to(alice, "description")
    await alice.click("ЖКХ", on=topics)  # a button from an old message
    assert alice.toast is not None and alice.toast.startswith("Эта кнопка устарела")
    assert QUESTIONS["description"] in alice.last_text
    for forged in ("t:nope", "m:atlantis", "mp:99", "nav:skip", "rv:send", "zz", "ap:x", "my:-1", "ap:999"):
        await alice.press(forged)
        assert alice.toast is not None and alice.toast.startswith("Эта кнопка устарела"), forged
        assert QUESTIONS["description"] in alice.last_text, forged
    await alice.send(DESCRIPTION)
    await alice.click("Пропустить")
    await alice.click("Пропустить")
    await alice.click("Пропустить")
    assert "Тема: Дороги" in alice.last_text
    assert "Муниципалитет: Тамбов" in alice.last_text


async def test_unknown_state_is_treated_as_idle(alice: ResidentChat, db: Database) -> None:
    async with db.transaction() as session:
        dialogue = (await session.scalars(select(Dialogue))).one()
        dialogue.state = "some_state_from_the_future"
    await alice.send("привет")
    assert alice.buttons == ["Подать обращение", "Мои обращения"]


async def test_every_payload_fits_telegram_callback_data(alice: ResidentChat, core: Core) -> None:
    await go_to(alice, "review")
    await alice.click("Изменить")
    await alice.click("Отмена")
    await alice.send("/my")
    await alice.send("/forget")
    await alice.click("Нет, оставить")
    payloads = alice.all_payloads()
    assert len(set(payloads)) > 20
    for payload in payloads:
        assert payload.isascii() and 0 < len(payload.encode()) <= 64, payload


def _catalogue_with(ctx: Context, municipalities: list[dict[str, Any]]) -> Context:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["municipalities"] = municipalities
    for agency in raw["agencies"]:
        agency["municipalities"] = ["*"]
    return Context(
        db=ctx.db,
        catalogue=parse_catalogue(raw),
        texts=ctx.texts,
        clock=ctx.clock,
        capabilities=ctx.capabilities,
    )


async def test_a_number_without_a_country_code_belongs_to_the_catalogues_phone_region(ctx: Context) -> None:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["region"]["phone_region"] = "BY"
    chat = ResidentChat(Core(replace(ctx, catalogue=parse_catalogue(raw))), Platform.TELEGRAM, "8")
    await chat.send("/start")
    await chat.click("Согласен")
    await go_to(chat, "phone")
    await chat.send("8 017 123-45-67")  # Minsk, dialled from within Belarus
    assert "Телефон: +375 17 123-45-67" in chat.last_text


async def test_long_municipality_lists_are_paged_two_a_row(ctx: Context) -> None:
    many = [{"id": f"m{n:02d}", "name": f"Посёлок {n}", "population": 1000} for n in range(1, 20)]
    chat = ResidentChat(Core(_catalogue_with(ctx, many)), Platform.TELEGRAM, "7")
    await chat.send("/start")
    await chat.click("Согласен")
    await chat.click("Дороги")
    assert "страница 1 из 3" in chat.last_text
    rows = chat.replies[-1].buttons
    assert [len(row) for row in rows] == [2, 2, 2, 2, 1, 2]
    assert chat.buttons[8] == "Ещё ▶"
    await chat.click("Ещё ▶")
    assert "страница 2 из 3" in chat.last_text
    assert chat.buttons[:2] == ["Посёлок 9", "Посёлок 10"]
    await chat.click("Ещё ▶")
    assert chat.buttons[:3] == ["Посёлок 17", "Посёлок 18", "Посёлок 19"]
    assert "Ещё ▶" not in chat.buttons
    await chat.click("◀")
    await chat.click("Посёлок 12")
    await chat.send(DESCRIPTION)
    await chat.click("Пропустить")
    await chat.click("Пропустить")
    await chat.click("Пропустить")
    assert "Муниципалитет: Посёлок 12" in chat.last_text


async def test_a_single_municipality_is_not_asked(ctx: Context, db: Database) -> None:
    only = [{"id": "city", "name": "Город", "population": 5000}]
    chat = ResidentChat(Core(_catalogue_with(ctx, only)), Platform.TELEGRAM, "8")
    await chat.send("/start")
    await chat.click("Согласен")
    await chat.click("Дороги")
    assert QUESTIONS["description"] in chat.last_text
    await chat.click("Назад")
    assert QUESTIONS["topic"] in chat.last_text
    await chat.click("ЖКХ")
    await chat.send(DESCRIPTION)
    await chat.click("Пропустить")
    await chat.click("Пропустить")
    await chat.click("Пропустить")
    assert "Муниципалитет: Город" in chat.last_text
    await chat.click("Отправить")
    [appeal] = await appeals_in(db)
    assert appeal.municipality_id == "city"


async def test_back_and_cancel_from_the_change_menu_and_the_draft_question(alice: ResidentChat) -> None:
    await go_to(alice, "review")
    await alice.click("Изменить")
    await alice.click("Назад")
    assert QUESTIONS["review"] in alice.last_text
    await alice.click("Изменить")
    await alice.click("Отмена")
    assert "Заполнение обращения отменено" in alice.last_text
    await alice.send("/new")
    await go_to(alice, "description")
    await alice.send("/new")
    assert "незаконченное обращение" in alice.last_text
    await alice.send("/cancel")
    assert "Заполнение обращения отменено" in alice.last_text


async def test_edited_messages_are_left_alone(alice: ResidentChat, core: Core) -> None:
    await go_to(alice, "description")
    edited = Event(alice.chat, ChatKind.PRIVATE, alice.person, text=DESCRIPTION, edited=True)
    [notice] = (await core.handle(edited)).replies
    assert "не видит исправлений" in notice.text
    await alice.send("/help")
    assert QUESTIONS["description"] in alice.last_text


async def test_a_skip_pressed_twice_on_the_place_keyboard_skips_only_the_place(
    alice: ResidentChat, db: Database
) -> None:
    """«Пропустить» on the reply keyboard arrives as plain text. Pressed twice (the bot was
    slow to answer), the second one reaches the photos step, whose own «Пропустить» is an
    inline button: there the typed word is just text and skips nothing."""
    await go_to(alice, "place")
    await alice.send("Пропустить")
    assert QUESTIONS["photos"] in alice.last_text
    await alice.send("Пропустить")
    assert QUESTIONS["phone"] not in alice.last_text
    async with db.read() as session:
        assert (await session.scalars(select(Dialogue.state))).one() == "photos"
    await alice.click("Пропустить")
    assert QUESTIONS["phone"] in alice.last_text


async def test_an_inline_skip_pressed_twice_skips_only_its_own_step(
    alice: ResidentChat, db: Database
) -> None:
    """The photos step's «Пропустить» is an inline button; pressed twice (the first answer
    was slow), the second press reaches the phone step and must not skip it as well."""
    await go_to(alice, "photos")
    photos_question = alice.last
    await alice.click("Пропустить", on=photos_question)
    assert QUESTIONS["phone"] in alice.last_text
    await alice.click("Пропустить", on=photos_question)
    assert alice.last.toast is not None and "устарела" in alice.last.toast
    async with db.read() as session:
        assert (await session.scalars(select(Dialogue.state))).one() == "phone"


async def test_the_description_sent_twice_is_not_taken_for_the_address(
    alice: ResidentChat, db: Database
) -> None:
    """A slow answer makes people send the same text again: at the place step, a copy of
    the description is a repeat, not an address."""
    await go_to(alice, "description")
    await alice.send(DESCRIPTION)
    await alice.send(DESCRIPTION)
    assert "Описание мы уже получили" in alice.last_text
    assert QUESTIONS["place"] in alice.last_text
    async with db.read() as session:
        dialogue = (await session.scalars(select(Dialogue))).one()
    assert dialogue.state == "place"
    assert "address" not in dialogue.data


async def test_back_from_changing_the_photos_keeps_them(alice: ResidentChat, db: Database) -> None:
    await go_to(alice, "photos")
    await alice.send_photo("p1")
    await alice.send_photo("p2")
    await alice.click("Готово")
    await alice.send("+7 900 123-45-67")
    assert "Фото: 2" in alice.last_text
    await alice.click("Изменить")
    await alice.click("Фото")
    assert "Сейчас прикреплены 2 фотографии. Пришлите новые — они заменят прежние" in alice.last_text
    await alice.click("Назад")
    assert QUESTIONS["review"] in alice.last_text and "Фото: 2" in alice.last_text

    # Changing them for real: the first new photo replaces the old ones.
    await alice.click("Изменить")
    await alice.click("Фото")
    await alice.send_photo("new")
    await alice.click("Готово")
    assert "Фото: 1" in alice.last_text
    await alice.click("Отправить")
    (appeal,) = await appeals_in(db)
    async with db.read() as session:
        photos = (await session.scalars(select(Attachment).where(Attachment.appeal_id == appeal.id))).all()
    assert [p.unique_id for p in photos] == ["new"]


async def test_back_at_the_first_step_keeps_a_described_draft(alice: ResidentChat, db: Database) -> None:
    await go_to(alice, "place")
    for step in ("description", "municipality", "topic"):
        await alice.click("Назад")
        assert QUESTIONS[step] in alice.last_text
    await alice.click("Назад")
    assert "Это первый шаг: назад идти некуда. Черновик сохранён" in alice.last_text
    assert QUESTIONS["topic"] in alice.last_text
    await alice.click("Дороги")
    await alice.click("Тамбов")
    assert QUESTIONS["description"] in alice.last_text
    await alice.click("Отмена")
    assert await appeals_in(db) == []


async def test_short_and_wordless_descriptions_are_named_plainly(alice: ResidentChat) -> None:
    await go_to(alice, "description")
    await alice.send("Яма")
    assert "Описание слишком короткое: 3 символа, а нужно не меньше 10." in alice.last_text
    await alice.send("!!!!!!!!!!!!")
    assert "знаки и смайлики без слов" in alice.last_text
    assert "одни смайлики" not in alice.last_text
