"""Adding a step is a one-place change: a step that asks whether the problem is the same
as an appeal nearby, defined here and put into the list of steps, is asked, numbered,
skipped, left with «Назад» and drawn, with no other file touched."""

from __future__ import annotations

from handlers.context import Context
from handlers.core import Core
from handlers.dialogue import FLOW, Nav, ResidentDialogue, Step, Turn
from handlers.dialogue.diagram import mermaid
from handlers.dialogue.step import BACK_AND_CANCEL
from handlers.events import Button, Platform, Reply
from tests.support import ResidentChat

DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"
QUESTION = "Рядом уже есть обращение о яме. Это та же проблема?"


class Nearby(Step):
    """Asked only when the resident shared a location (a typed address is not compared)."""

    name = "nearby"
    nav = BACK_AND_CANCEL
    numbered = in_draft = True
    editable = False
    skip_when = "skipped without a shared location"

    def skip_if(self, turn: Turn) -> bool:
        return turn.draft.point is None

    def ask(self, turn: Turn) -> Reply:
        same = (Button("Да, та же", "same:yes"), Button("Нет, другая", "same:no"))
        return Reply(QUESTION, buttons=(same, turn.nav_row()))

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if (action, arg) == ("same", "no"):
            turn.advance()
        elif (action, arg) == ("same", "yes"):
            turn.engine.cancel(turn)
        else:
            return False
        return True


def with_nearby() -> tuple[Step, ...]:
    """The list of steps with this step in place of the real nearby step."""
    flow = tuple(s for s in FLOW if s.name != "nearby")
    at = [s.name for s in flow].index("place") + 1
    return (*flow[:at], Nearby(), *flow[at:])


async def test_a_step_added_to_the_list_is_asked_numbered_and_skipped(ctx: Context) -> None:
    core = Core(ctx)
    core.dialogue = ResidentDialogue(ctx, flow=with_nearby())
    chat = ResidentChat(core, Platform.TELEGRAM, "900")
    await chat.send("/start")
    await chat.click("Согласен")
    assert "Шаг 1 из 6." in chat.last_text  # no location yet: the new step is not counted
    await chat.click("Дороги")
    await chat.click("Тамбов")
    await chat.send(DESCRIPTION)
    await chat.share_location(52.72, 41.45)
    assert "Шаг 5 из 7." in chat.last_text and QUESTION in chat.last_text
    await chat.click("Назад")
    assert "Шаг 4 из 7." in chat.last_text
    await chat.share_location(52.72, 41.45)
    old_question = chat.last
    await chat.click("Нет, другая")
    assert "Шаг 6 из 7." in chat.last_text
    await chat.click("Да, та же", on=old_question)
    assert chat.toast is not None and "устарела" in chat.toast  # stale: refused like any other
    await chat.click("Назад")
    assert QUESTION in chat.last_text
    await chat.click("Назад")
    await chat.send("ул. Советская, 12")  # a typed address: the new step is skipped
    assert "Шаг 5 из 6." in chat.last_text and "фотографии" in chat.last_text
    await chat.click("Назад")
    assert "Шаг 4 из 6." in chat.last_text  # «Назад» skips it too
    assert Nav.BACK in Nearby.nav


def test_the_added_step_is_drawn_in_its_place() -> None:
    drawn = mermaid(with_nearby())
    assert "    place --> nearby: answered" in drawn
    assert "    place --> photos: answered, skipped without a shared location" in drawn
    assert "    photos --> nearby: «Назад»" in drawn
