"""Step: the topic of the appeal, from the catalogue's categories.

With a description already in the draft (the appeal began with a message), the topic its
words suggest (``handlers.dialogue.topics``) is offered first: one tap confirms it,
«Другая тема» shows the full list. A topic's title typed instead of pressed is taken;
other words typed here join the description.
"""

from __future__ import annotations

from handlers.dialogue import intake
from handlers.dialogue.step import BACK_AND_CANCEL, Input, Step, Turn
from handlers.dialogue.topics import suggest
from handlers.events import Button, Reply


class Topic(Step):
    name = "topic"
    accepts = Input.TEXT
    refusal = "resident-accepts-topic"
    nav = BACK_AND_CANCEL
    numbered = in_draft = True

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        categories = turn.ctx.catalogue.categories
        # A topic already chosen (changing it, or back from a later step): the full list.
        offer = not turn.memory.all_topics and turn.draft.category is None
        best = suggest(categories, turn.draft.description) if offer else None
        if best is not None:
            return Reply(
                t("resident-ask-topic-suggested", topic=best.title),
                buttons=(
                    (Button(t("resident-btn-topic-yes"), f"t:{best.id}"),),
                    (Button(t("resident-btn-topic-other"), "tl:all"),),
                    turn.nav_row(),
                ),
            )
        page = turn.choice_page([Button(c.title, f"t:{c.id}") for c in categories])
        return Reply(t("resident-ask-topic"), buttons=page.rows)

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if (action, arg) == ("tl", "all"):
            turn.memory.all_topics = True
            turn.ask()
            return True
        category = turn.ctx.catalogue.category(arg) if action == "t" else None
        if category is None:
            return False
        turn.draft.category = category.id
        turn.advance()
        return True

    async def on_input(self, turn: Turn) -> bool:
        typed = (turn.event.text or "").strip().casefold()
        chosen = next((c for c in turn.ctx.catalogue.categories if c.title.casefold() == typed), None)
        if chosen is not None:
            turn.draft.category = chosen.id
            turn.advance()
            return True
        if not intake.keep_typed(turn):
            turn.refuse(self.refusal)
            return True
        turn.ask()
        return True
