"""No resident left in silence: a screen the platform refuses for good arrives again as
plain text with numbered choices, typing a number acts like the button (after a restart
too, on VK and on Telegram, for dialogue answers and outbox messages alike), and the admin
chat hears once which screen failed and why."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from handlers import typed_choices
from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.events import Button, ButtonRequest, ChatKind, ChatRef, Event, PersonRef, Platform, Reply
from storage.db import Database
from storage.models import Appeal
from tests.fake_vk import FakeVk
from tests.support.telegram import Telegram
from tests.support.vk import VkChat
from tests.test_vk_e2e import DESCRIPTION, PETR, ROADS_TAMBOV_TG, file_roads_appeal, running_app

ADMIN_TG = -1001000000000


def refuses_topics(params: dict[str, str]) -> int | None:
    """VK refusing the topic keyboard (error 911), as it did before the renderer knew the
    10-button limit."""
    return 911 if "Дороги" in params.get("keyboard", "") else None


async def test_a_refused_vk_screen_arrives_as_numbered_text_and_a_typed_number_presses_the_button(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, tg: Telegram
) -> None:
    admin = tg.group(ADMIN_TG)
    async with FakeVk() as vk:
        vk.refuse_send = refuses_topics
        petr = VkChat(vk, PETR)
        async with running_app(database_url, catalogue, clock, vk, tg):
            await vk.user_writes(PETR, "Начать", payload='{"command":"start"}')
            await petr.expect("152-ФЗ")
            await petr.press("Согласен")
            await petr.expect("Согласие получено")
            plain = await petr.expect("Выберите тему")
            assert plain.keyboard is None, "no keyboard: nothing left to refuse"
            assert "отправьте номер" in plain.text
            assert "1 — Дороги" in plain.text and "7 — Ещё ▶" in plain.text  # the topics' first page
            assert "8 — Назад" in plain.text and "9 — Отмена" in plain.text

            alert = await admin.expect_message("Экран не показан жителю")
            assert "Выберите тему" in alert.text and "911" in alert.text and "vk" in alert.text

        # A restart between the plain screen and the typed number changes nothing.
        async with running_app(database_url, catalogue, clock, vk, tg):
            await petr.write("1")
            municipality = await petr.expect("Выберите муниципалитет")
            assert "Тамбов" in municipality.labels(), "the next screen has its buttons again"

            # Back to the topics: refused again, shown as text again, no second alert.
            await petr.press("Назад")
            again = await petr.expect("Выберите тему")
            assert "1 — Дороги" in again.text
            await petr.write("1")
            await petr.expect("Выберите муниципалитет")
            # The numbers are forgotten once used: a number typed now is not a topic.
            await petr.press("Тамбов")
            await petr.expect("Опишите проблему")
            await petr.write(DESCRIPTION)
            await petr.expect("Где это находится")

    alerts = [m for m in admin.messages if "Экран не показан" in m.text]
    assert len(alerts) == 1, "the admins hear once per screen and reason"


async def test_a_refused_rating_question_from_the_outbox_is_answered_by_number(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk, tg):
        petr = VkChat(vk, PETR)
        await file_roads_appeal(petr, vk)
        async with db.read() as session:
            number = (await session.scalars(select(Appeal))).one().number
        vk.refuse_send = lambda params: 911 if "Нет" in params.get("keyboard", "") else None

        group = tg.group(ROADS_TAMBOV_TG)
        card = await group.expect_message(f"Обращение № {number}", has_button="Взять в работу")
        await group.reply(card, "Яму заделаем до пятницы", from_user=tg.user(7001, "Инспектор"))

        await petr.expect(f"Ответ по обращению № {number}")
        question = await petr.expect("решена?")
        assert question.keyboard is None
        lines = [line for line in question.text.splitlines() if " — " in line]
        assert lines == ["1 — Да", "2 — Нет", "3 — 1", "4 — 2", "5 — 3", "6 — 4", "7 — 5"]
        await petr.write("7")
        await petr.expect("Спасибо за оценку 5")
        async with db.read() as session:
            assert (await session.scalars(select(Appeal.rating))).one() == 5
        await tg.group(ADMIN_TG).expect_message("Экран не показан жителю")


async def test_a_refused_telegram_screen_arrives_as_numbered_text(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, tg: Telegram
) -> None:
    def refuse(method: str, params: dict[str, Any]) -> str | None:
        markup = json.dumps(params.get("reply_markup") or {}, ensure_ascii=False)
        return "Bad Request: BUTTON_DATA_INVALID" if "Дороги" in markup else None

    tg.server.refuse = refuse
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk, tg):
        anna = tg.user(1001, "Анна")
        await anna.send("/start")
        await anna.expect_message("152-ФЗ")
        await anna.click("Согласен")
        plain = await anna.expect_message("Выберите тему")
        assert not plain.buttons and "1 — Дороги" in plain.text
        await anna.send("1")
        await anna.expect_message("Выберите муниципалитет", has_button="Тамбов")
        alert = await tg.group(ADMIN_TG).expect_message("Экран не показан жителю")
        assert "BUTTON_DATA_INVALID" in alert.text and "telegram" in alert.text


def test_plain_screen_numbers_the_choices_and_keeps_links_and_limits(ctx: Context) -> None:
    reply = Reply(
        "<b>Выберите</b> &amp; " + "слово " * 1500,
        buttons=((Button("Да", payload="fg:yes"), Button("Сайт", url="https://gosuslugi.ru")),),
        keyboard=((Button("📍 Место", request=ButtonRequest.LOCATION), Button("Пропустить")),),
    )
    screen = typed_choices.plain_screen(reply, ctx)
    assert all(len(part.text) <= typed_choices.PLAIN_LIMIT for part in screen.replies)
    assert len(screen.replies) == 3
    assert screen.replies[0].text.startswith("Выберите &amp; слово")
    assert "<b>" not in "".join(part.text for part in screen.replies)
    assert screen.replies[-1].text.endswith("1 — Да\n2 — Пропустить")
    assert "Сайт: https://gosuslugi.ru" in screen.replies[-1].text
    assert screen.choices == (typed_choices.Choice("Да", "fg:yes"), typed_choices.Choice("Пропустить"))
    assert all(not (r.buttons or r.keyboard) for r in screen.replies)


def test_only_a_bare_number_in_range_is_a_press() -> None:
    stored = typed_choices.choices_to_json(
        (typed_choices.Choice("Да", "fg:yes"), typed_choices.Choice("Пропустить"))
    )
    person = PersonRef(Platform.VK, "1")
    chat = ChatRef(Platform.VK, "1")

    def typed(text: str) -> Event:
        return Event(chat, ChatKind.PRIVATE, person, text=text, message_id="9")

    pressed = typed_choices.resolve(typed(" 1 "), stored)
    assert (pressed.payload, pressed.text, pressed.message_id) == ("fg:yes", None, None)
    assert typed_choices.resolve(typed("2"), stored).text == "Пропустить"
    for text in ("3", "0", "1 2", "один", "１", "12345"):
        assert typed_choices.resolve(typed(text), stored) == typed(text)
    assert typed_choices.resolve(typed("1"), None) == typed("1")
