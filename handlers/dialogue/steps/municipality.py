"""Step: the municipality the problem is in; skipped when the region has only one."""

from __future__ import annotations

from handlers.dialogue import intake
from handlers.dialogue.step import BACK_AND_CANCEL, Input, Step, Turn
from handlers.events import Button, Reply

PAGE_SIZE = 8
"""At most this many municipalities a page, however many buttons the chat could show."""


class Municipality(Step):
    name = "municipality"
    skip_when = "skipped when the region has one municipality"
    accepts = Input.TEXT
    refusal = "resident-accepts-municipality"
    nav = BACK_AND_CANCEL
    numbered = in_draft = True

    def skip_if(self, turn: Turn) -> bool:
        return len(turn.ctx.catalogue.municipalities) == 1

    def when_skipped(self, turn: Turn) -> None:
        turn.draft.municipality = turn.ctx.catalogue.municipalities[0].id

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        choices = [Button(m.name, f"m:{m.id}") for m in turn.ctx.catalogue.municipalities]
        page = turn.choice_page(choices, page_size=PAGE_SIZE)
        if page.count > 1:
            text = t("resident-ask-municipality-page", page=page.number + 1, pages=page.count)
        else:
            text = t("resident-ask-municipality")
        return Reply(text, buttons=page.rows)

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        municipality = turn.ctx.catalogue.municipality(arg) if action == "m" else None
        if municipality is None:
            return False
        turn.draft.municipality = municipality.id
        turn.advance()
        return True

    async def on_input(self, turn: Turn) -> bool:
        """A name typed instead of pressed is taken; other words join the description."""
        typed = (turn.event.text or "").strip().casefold()
        chosen = next((m for m in turn.ctx.catalogue.municipalities if m.name.casefold() == typed), None)
        if chosen is not None:
            turn.draft.municipality = chosen.id
            turn.advance()
        elif intake.keep_typed(turn):
            turn.ask()
        else:
            turn.refuse(self.refusal)
        return True
