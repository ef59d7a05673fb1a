"""Consent to personal-data processing (152-ФЗ): nothing else happens before it."""

from __future__ import annotations

from handlers.dialogue.draft import Memory
from handlers.dialogue.step import Input, Step, Turn, split
from handlers.events import Button, Reply


class Consent(Step):
    name = "consent"
    entry = "/start or anything else, no consent yet"
    exits = (("consent", "«Не согласен» (told why, asked again)"), ("topic", "«Согласен»"))
    accepts = Input.TEXT | Input.MEDIA | Input.LOCATION | Input.CONTACT

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        return Reply(
            t("resident-consent"),
            buttons=(
                (
                    Button(t("resident-btn-agree"), "consent:yes"),
                    Button(t("resident-btn-disagree"), "consent:no"),
                ),
            ),
        )

    # Reached only when consent is already given (an old consent message): idle it is.

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        turn.go("idle")
        turn.engine.stale(turn)
        return True

    async def on_input(self, turn: Turn) -> bool:
        turn.go("idle")
        return False


async def gate(turn: Turn) -> None:
    """Everything a resident without consent sends: the answer to the question, or the
    question again."""
    t = turn.t
    action, arg, screen = split(turn.event.payload) if turn.event.payload is not None else ("", "", None)
    if turn.state == Consent.name and screen == Consent.name and action == "consent" and arg == "yes":
        turn.resident.consent_at = turn.ctx.clock.now()
        if turn.event.sender_name:
            turn.resident.name = turn.event.sender_name[:128]
        turn.say(Reply(t("resident-consent-thanks")))
        turn.memory = Memory()
        await turn.engine.begin(turn)
        return
    if turn.state == Consent.name and screen == Consent.name and action == "consent" and arg == "no":
        turn.memory.consent_refused = True  # what they sent before is not held (storage.retention)
        turn.say(
            Reply(t("resident-consent-refused"), buttons=((Button(t("resident-btn-agree"), "consent:yes"),),))
        )
        return
    if turn.event.payload is not None and turn.event.command is None:
        turn.toast = t("resident-stale")
    elif turn.state == Consent.name:
        turn.say(Reply(t("resident-consent-needed")))
    else:
        turn.say(Reply(t("resident-greeting")))
    turn.memory = Memory()
    turn.go(Consent.name)
    turn.ask()
