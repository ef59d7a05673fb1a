"""Step: the topic of the appeal, from the catalogue's categories."""

from __future__ import annotations

from handlers.dialogue.step import BACK_AND_CANCEL, Step, Turn
from handlers.events import Button, Reply
from handlers.paging import paginate


class Topic(Step):
    name = "topic"
    refusal = "resident-accepts-topic"
    nav = BACK_AND_CANCEL
    numbered = in_draft = True

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        choices = [Button(c.title, f"t:{c.id}") for c in turn.ctx.catalogue.categories]
        page = paginate(
            choices,
            turn.caps,
            page=turn.memory.page,
            to_page=lambda n: f"pg:{n}",
            prev_label=t("resident-btn-prev"),
            more_label=t("resident-btn-more"),
            per_row=2,
            fixed=(turn.nav_row(),),
        )
        return Reply(t("resident-ask-topic"), buttons=page.rows)

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        category = turn.ctx.catalogue.category(arg) if action == "t" else None
        if category is None:
            return False
        turn.draft.category = category.id
        turn.advance()
        return True
