"""The golden transcript: every screen of the residents' dialogue, rendered into
``tests/golden/dialogue.txt`` and compared on every run, so a change to any text, button
or step shows up in review as a diff of that file.

To accept a change on purpose, regenerate the file and commit it with the change:

    UPDATE_GOLDEN=1 .venv/bin/pytest -q -p no:cacheprovider tests/test_golden.py
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from handlers.core import Core
from handlers.dialogue import FLOW
from handlers.dialogue.step import Nav
from handlers.events import Platform, Response
from tests.support.chat import ResidentChat

GOLDEN = Path(__file__).parent / "golden" / "dialogue.txt"
DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"
CAPTION = "Разбита дорога у дома 5 по Кривоколенному переулку, лужа во всю ширину"
QUESTION_MAX = 300
"""A question is one short message: at most this many characters, the step number included."""


class Transcript:
    """A resident's chat that writes down what they do and every screen they get."""

    def __init__(self, chat: ResidentChat) -> None:
        self.chat = chat
        self.lines: list[str] = []
        self.questions: list[str] = []

    def section(self, title: str) -> None:
        self.lines += ["", f"## {title}", ""]

    def _render(self, response: Response) -> None:
        if response.toast:
            self.lines.append(f"  ! {response.toast}")
        for reply in response.replies:
            first, *rest = reply.text.split("\n")
            self.lines.append(f"< {first}")
            self.lines += [f"  {line}" for line in rest]
            for row in reply.buttons:
                self.lines.append("  " + " ".join(f"[{b.text}]" for b in row))
            for row in reply.keyboard:
                self.lines.append("  " + " ".join(f"{{{b.text}}}" for b in row))
            if reply.remove_keyboard:
                self.lines.append("  (the reply keyboard is removed)")
            if re.match(r"<b>Шаг \d+ из \d+\.</b> ", reply.text):
                self.questions.append(reply.text)

    async def send(self, text: str) -> None:
        self.lines.append(f"> {text}")
        self._render(await self.chat.send(text))

    async def click(self, label: str) -> None:
        self.lines.append(f"> [{label}]")
        self._render(await self.chat.click(label))

    async def send_photo(self, unique: str, caption: str | None = None) -> None:
        self.lines.append(f"> (photo{f': {caption}' if caption else ''})")
        self._render(await self.chat.send_photo(unique, caption=caption))

    async def share_location(self, latitude: float, longitude: float) -> None:
        self.lines.append(f"> (location {latitude}, {longitude})")
        self._render(await self.chat.share_location(latitude, longitude))

    async def send_sticker(self) -> None:
        self.lines.append("> (sticker)")
        self._render(await self.chat.send_sticker())


async def _guided(t: Transcript) -> None:
    t.section("Step by step: consent, every question, the errors, the review, acceptance")
    await t.send("/start")
    await t.click("Не согласен")
    await t.click("Согласен")
    await t.send_sticker()
    await t.click("Дороги")
    await t.click("Тамбов")
    await t.send("Яма")
    await t.send(DESCRIPTION)
    await t.send("ул")
    await t.send("ул. Советская, 12")
    await t.send_photo("p1")
    await t.click("Готово")
    await t.send("123")
    await t.send("8 (4752) 72-00-00")
    await t.click("Изменить")
    await t.click("Назад")
    await t.click("Отправить")
    await t.send("/help")
    await t.send("/unknown")


async def _free_text(t: Transcript) -> None:
    t.section("Free-text first: a photo with a caption before consent")
    await t.send_photo("f1", caption=CAPTION)
    await t.click("Согласен")
    await t.click("Другая тема")
    await t.send("Машины объезжают по тротуару")
    await t.click("Дороги")
    await t.click("Тамбов")
    await t.click("Пропустить")
    await t.click("Пропустить")
    await t.send("И фонарь рядом не горит")
    await t.click("Отменить")
    t.section("Free-text first from the menu: a location; then a text, its topic suggested and confirmed")
    await t.share_location(52.7212, 41.4522)
    await t.click("Дороги")
    await t.click("Мичуринск")
    await t.send(DESCRIPTION)
    await t.click("Пропустить")
    await t.click("Пропустить")
    await t.click("Отменить")
    await t.send(CAPTION)
    await t.click("Да, верно")
    await t.send("/cancel")


async def _transcript(core: Core) -> Transcript:
    t = Transcript(ResidentChat(core, Platform.TELEGRAM, "3001", name="Алиса"))
    await _guided(t)
    t.chat = ResidentChat(core, Platform.TELEGRAM, "3002", name="Борис")
    await _free_text(t)
    return t


@pytest.fixture
def core(ctx):  # type: ignore[no-untyped-def]
    return Core(ctx)


async def test_every_screen_of_the_dialogue_is_the_golden_one(core: Core) -> None:
    t = await _transcript(core)
    text = "# Every screen of the residents' dialogue (tests/test_golden.py; regenerate with\n"
    text += "# UPDATE_GOLDEN=1 .venv/bin/pytest -q -p no:cacheprovider tests/test_golden.py)\n"
    text += "\n".join(t.lines) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8") if GOLDEN.exists() else ""
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True), "golden", "now", n=1
            )
        )
        pytest.fail(
            f"the dialogue's screens changed (regenerate with UPDATE_GOLDEN=1 if on purpose):\n{diff}"
        )


async def test_each_question_is_one_short_message_saying_what_to_send_and_how_to_skip(core: Core) -> None:
    t = await _transcript(core)
    assert len(t.questions) >= 6
    for question in t.questions:
        assert len(question) <= QUESTION_MAX, f"{len(question)} characters: {question!r}"
        assert "\n" not in question, f"one paragraph: {question!r}"
    for step in FLOW:
        marker = _MARKERS.get(step.name)
        if marker is None:
            continue
        mine = [q for q in t.questions if marker in q]
        assert mine, f"the transcript never shows the {step.name} step's question"
        if Nav.SKIP in step.nav:
            for question in mine:
                assert "ропустить" in question, (
                    f"{step.name} can be skipped but does not say how: {question!r}"
                )


_MARKERS = {
    "topic": "тем",
    "municipality": "муниципалитет",
    "description": "Опишите проблему",
    "place": "Где это находится",
    "photos": "фотографии",
    "phone": "номер телефона",
}
