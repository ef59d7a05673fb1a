"""The dialogue engine's promises: keyboards that fit the chat, stale presses refused in one
place, step numbers from the list of steps, and drafts saved before the upgrade still
going on where they were."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, parse_catalogue
from handlers.context import Context
from handlers.core import Core
from handlers.dialogue import FLOW
from handlers.dialogue.draft import Memory
from handlers.events import Platform
from handlers.workflow import AppealStatus
from storage.appeals import NewAppeal, create_appeal
from storage.db import Database
from storage.models import Appeal, Dialogue, Resident
from tests.support import ResidentChat
from tests.support.steps import step

DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"


@pytest.fixture
def core(ctx: Context) -> Core:
    return Core(ctx)


async def consented(core: Core, platform: Platform, person: str) -> ResidentChat:
    chat = ResidentChat(core, platform, person, name="Алиса")
    await chat.send("/start")
    await chat.click("Согласен")
    assert "Выберите тему" in chat.last_text
    return chat


# -- keyboards that fit ------------------------------------------------------------------------


async def test_a_vk_resident_pages_through_every_topic_within_vks_keyboard(core: Core, ctx: Context) -> None:
    """VK shows at most 10 inline buttons in 6 rows; the example catalogue has 9 topics.
    (ResidentChat checks every keyboard against the declared limits as it arrives.)"""
    titles = [c.title for c in ctx.catalogue.categories]
    assert len(titles) + 2 > ctx.caps(Platform.VK).inline_buttons_max  # the point of the test
    chat = await consented(core, Platform.VK, "501")
    first = [b for b in chat.buttons if b in titles]
    assert "Ещё ▶" in chat.buttons and "◀" not in chat.buttons
    assert chat.buttons[-2:] == ["Назад", "Отмена"]
    await chat.click("Ещё ▶")
    assert step("topic") in chat.last_text
    assert chat.replies[-1].edit_message_id is not None  # the same message, redrawn
    second = [b for b in chat.buttons if b in titles]
    assert "◀" in chat.buttons and "Ещё ▶" not in chat.buttons
    assert first + second == titles
    await chat.click(second[-1])
    assert step("municipality") in chat.last_text
    await chat.click("Назад")
    assert step("topic") in chat.last_text and "Ещё ▶" in chat.buttons  # back on the first page


async def test_a_telegram_resident_sees_every_topic_at_once(core: Core, ctx: Context) -> None:
    chat = await consented(core, Platform.TELEGRAM, "502")
    assert chat.buttons == [c.title for c in ctx.catalogue.categories] + ["Назад", "Отмена"]


async def test_a_vk_residents_appeal_list_is_paged_to_fit(core: Core, ctx: Context, db: Database) -> None:
    chat = await consented(core, Platform.VK, "503")
    async with db.transaction() as session:
        [resident] = (await session.scalars(select(Resident))).all()
        for n in range(9):
            new = NewAppeal("vk", "roads", "tambov", f"{DESCRIPTION}, дом {n}", None, None, None, None)
            await create_appeal(session, resident, new, status=AppealStatus.NEW, now=ctx.clock.now())
    await chat.send("/my")
    first = [b for b in chat.buttons if b.startswith("№")]
    assert 0 < len(first) < 9 and "Ещё ▶" in chat.buttons
    seen = list(first)
    while "Ещё ▶" in chat.buttons:
        await chat.click("Ещё ▶")
        seen += [b for b in chat.buttons if b.startswith("№")]
    assert len(set(seen)) == 9


# -- stale presses -----------------------------------------------------------------------------


async def test_a_press_on_an_earlier_steps_message_changes_nothing(core: Core, db: Database) -> None:
    chat = await consented(core, Platform.TELEGRAM, "504")
    topics = chat.last
    await chat.click("Дороги")
    await chat.click("Тамбов")
    before = await dialogue_row(db)
    for press in (
        lambda: chat.click("ЖКХ", on=topics),  # a stamped button of the topic step
        lambda: chat.press("t:housing"),  # a button from before buttons were stamped
        lambda: chat.press("nav:skip@description"),  # a forged skip at a step with none
        lambda: chat.press("m:tambov@description"),  # a municipality at the wrong step
        lambda: chat.press("pg:1@topic"),
    ):
        await press()
        assert chat.toast == "Эта кнопка устарела. Вот актуальный вопрос."
        assert [step("description") in r.text for r in chat.replies] == [True]
        assert await dialogue_row(db) == before


async def dialogue_row(db: Database) -> tuple[str, dict[str, Any]]:
    async with db.read() as session:
        [row] = (await session.scalars(select(Dialogue))).all()
        return row.state, dict(row.data)


# -- step numbers --------------------------------------------------------------------------------


async def test_step_numbers_count_only_the_steps_this_resident_is_asked(ctx: Context) -> None:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["municipalities"] = raw["municipalities"][:1]
    for agency in raw["agencies"]:
        agency["municipalities"] = ["*"]
    one_town = Context(ctx.db, parse_catalogue(raw), ctx.texts, ctx.clock, ctx.capabilities)
    chat = await consented(Core(one_town), Platform.TELEGRAM, "505")
    numbered = [s.name for s in FLOW if s.numbered]
    assert step("topic", skipped=("municipality",)) == f"Шаг 1 из {len(numbered) - 1}."
    assert step("topic", skipped=("municipality",)) in chat.last_text
    await chat.click("Дороги")
    assert step("description", skipped=("municipality",)) in chat.last_text
    await chat.click("Назад")
    assert step("topic", skipped=("municipality",)) in chat.last_text


# -- drafts written before the upgrade -------------------------------------------------------


OLD_DRAFT = {
    "category": "roads",
    "municipality": "tambov",
    "description": DESCRIPTION,
    "lat": 52.72,
    "lon": 41.45,
    "photos": [{"platform": "telegram", "ref": "file-a", "unique_id": "a", "url": None}],
    "mpage": 0,
}


async def test_a_resident_mid_dialogue_before_the_upgrade_goes_on(core: Core, db: Database) -> None:
    chat = await consented(core, Platform.TELEGRAM, "506")
    async with db.transaction() as session:  # what the dialogue before version 2 wrote
        [row] = (await session.scalars(select(Dialogue))).all()
        row.state, row.data = "photos", dict(OLD_DRAFT)
    await chat.send_photo("a")
    assert chat.last_text == "Это фото уже добавлено."
    await chat.send_photo("b")
    assert "Фото получено: 2 из 5" in chat.last_text
    await chat.click("Готово")
    assert step("phone") in chat.last_text
    await chat.click("Пропустить")
    assert "Место: геолокация (52.72000, 41.45000)" in chat.last_text
    assert DESCRIPTION in chat.last_text and "Фото: 2" in chat.last_text
    await chat.click("Отправить")
    async with db.read() as session:
        [appeal] = (await session.scalars(select(Appeal))).all()
    assert (appeal.category_id, appeal.latitude, appeal.description) == ("roads", 52.72, DESCRIPTION)


async def test_an_old_follow_up_state_and_its_appeal_id_are_kept(core: Core, db: Database) -> None:
    chat = await consented(core, Platform.TELEGRAM, "507")
    async with db.transaction() as session:
        [row] = (await session.scalars(select(Dialogue))).all()
        row.state, row.data = "add_details", {"followup_appeal_id": 77, "category": "roads"}
        [resident] = (await session.scalars(select(Resident))).all()
    memory = Memory.load({"followup_appeal_id": 77, "category": "roads"})
    assert (memory.appeal_id, memory.draft.category) == (77, "roads")
    # Appeal 77 is nobody's: the follow-up is left, and the words join the draft that
    # was left («Продолжить» or «Начать заново» is asked).
    await chat.send("Ещё подробности")
    state, data = await dialogue_row(db)
    assert state == "resume" and data["draft"]["description"] == "Ещё подробности"
    assert resident.id is not None


@pytest.mark.parametrize(
    "junk", [{"photos": "not a list"}, {"v": 2, "draft": {"point": 5}}, {"lat": "x", "lon": 1}]
)
def test_an_unreadable_memory_is_an_empty_one(junk: dict[str, Any]) -> None:
    assert Memory.load(junk) == Memory()
