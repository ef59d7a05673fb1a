"""Between appeals: the idle menu, and what to do with a draft left half-way."""

from __future__ import annotations

from handlers.dialogue import intake
from handlers.dialogue.draft import Draft
from handlers.dialogue.step import Input, Step, Turn
from handlers.events import Button, Reply


class Idle(Step):
    name = "idle"
    exits = (
        ("topic", "/new, «Подать обращение» (rate limits checked)"),
        ("topic", "a text, photos or a location: the appeal starts with it, the steps it answers are passed"),
        ("resume", "/new with a draft left"),
        ("forget", "/forget (at any step)"),
        ("reopen_comment", "«Нет» under the agency's answer (at any step)"),
        ("contest_comment", "«Оспорить» under a rejection (at any step)"),
        ("add_details", "«Дополнить» in /my (at any step)"),
    )
    accepts = Input.TEXT | Input.MEDIA | Input.LOCATION | Input.CONTACT

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        return Reply(
            t("resident-idle"),
            buttons=((Button(t("resident-btn-new"), "go:new"), Button(t("resident-btn-my"), "my:0")),),
        )

    async def on_input(self, turn: Turn) -> bool:
        if not turn.draft.is_empty():
            # A draft is left: what was sent joins it, and the resident decides about it.
            if intake.take(turn, turn.draft):
                turn.say(Reply(turn.t("resident-kept", kept=intake.kept_summary(turn, turn.draft))))
                await turn.engine.begin(turn)
                return True
        else:
            draft = Draft()
            if intake.take(turn, draft):
                await turn.engine.start_with(turn, draft, album=turn.event.media_group_id)
                return True
        key = "resident-idle" if turn.event.text and not turn.event.media else "resident-accepts-idle"
        turn.say(turn.engine.idle_menu(turn, turn.t(key)))
        return True


class Resume(Step):
    """/new with a draft left: go on with it, or start again."""

    name = "resume"
    exits = (("topic", "«Продолжить» (to the step it was at), «Начать заново»"),)
    in_draft = True

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        return Reply(
            t("resident-resume"),
            buttons=(
                (
                    Button(t("resident-btn-continue"), "draft:continue"),
                    Button(t("resident-btn-restart"), "draft:restart"),
                ),
            ),
        )

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if action != "draft":
            return False
        if arg == "continue":
            engine = turn.engine
            target = turn.memory.resume
            turn.memory.resume = None
            if target in engine.steps and engine.steps[target].in_draft and target != self.name:
                turn.go(target)
                turn.ask()
            else:
                engine.enter(turn, 0)
            return True
        if arg == "restart":
            await turn.engine.start_new(turn)
            return True
        return False
