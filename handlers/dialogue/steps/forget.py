"""/forget: confirm, then erase what we know about the person (152-ФЗ)."""

from __future__ import annotations

import uuid

from handlers import privacy
from handlers.dialogue.step import Step, Turn
from handlers.events import Button, Reply


class Forget(Step):
    name = "forget"
    exits = (("[*]", "«Да, удалить»"), ("idle", "«Нет, оставить» (back where it was asked)"))

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        return Reply(
            t("resident-forget-confirm"),
            buttons=(
                (
                    Button(t("resident-btn-forget-yes"), "fg:yes"),
                    Button(t("resident-btn-forget-no"), "fg:no"),
                ),
            ),
        )

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if (action, arg) == ("fg", "yes"):
            await privacy.forget(
                turn.ctx,
                turn.session,
                turn.resident,
                turn.dialogue,
                tombstone=f"forgotten:{uuid.uuid4().hex}",
                current_update=turn.event.update_id,
            )
            turn.forgotten = True
            turn.say(Reply(turn.t("resident-forget-done"), remove_keyboard=True, erase_after_send=True))
        elif (action, arg) == ("fg", "no"):
            engine = turn.engine
            back = turn.memory.forget_from
            turn.memory.forget_from = None
            turn.go(back if back in engine.steps and back != self.name else "idle")
            turn.say(Reply(turn.t("resident-forget-kept")))
            step = engine.step(turn)
            if (turn.state == "consent" and turn.resident.consent_at is None) or step.in_draft:
                turn.ask()
            else:
                turn.go("idle")
                turn.say(engine.idle_menu(turn))
        else:
            return False
        return True
