"""Consent to personal-data processing (152-ФЗ): nothing else happens before it."""

from __future__ import annotations

from handlers.dialogue import intake
from handlers.dialogue.draft import Draft, Memory
from handlers.dialogue.step import Input, Step, Turn, split
from handlers.events import Button, Reply
from storage import retention


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
    question again. A text, photos or a location are held in the draft while the question
    waits (a day at most), to start the appeal once they agree."""
    t = turn.t
    action, arg, screen = split(turn.event.payload) if turn.event.payload is not None else ("", "", None)
    answer = arg if turn.state == Consent.name and screen == Consent.name and action == "consent" else None
    if answer == "yes":
        turn.resident.consent_at = turn.ctx.clock.now()
        if turn.event.sender_name:
            turn.resident.name = turn.event.sender_name[:128]
        turn.say(Reply(t("resident-consent-thanks")))
        held, album = _held(turn), turn.memory.album
        turn.memory = Memory()
        if held.is_empty():
            await turn.engine.begin(turn)
        else:
            await turn.engine.start_with(turn, held, album=album)
        return
    if answer == "no":
        # What they sent before goes now, everywhere: the draft, and the raw updates.
        turn.memory = Memory(consent_refused=True)
        await retention.drop_held(
            turn.session, turn.resident.platform, turn.resident.external_id, keep=turn.event.update_id
        )
        turn.say(
            Reply(t("resident-consent-refused"), buttons=((Button(t("resident-btn-agree"), "consent:yes"),),))
        )
        return
    event, memory = turn.event, turn.memory
    if event.payload is not None and event.command is None:
        turn.toast = t("resident-stale")
        turn.go(Consent.name)
        turn.ask()
        return
    if turn.state != Consent.name or _expired(turn):
        memory = turn.memory = Memory(consent_refused=memory.consent_refused and turn.state == Consent.name)
    album_goes_on = bool(event.media_group_id and event.media_group_id == memory.album)
    # After «Не согласен» nothing more is held: only «Согласен» (or /start) asks again.
    kept = event.command is None and not memory.consent_refused and bool(intake.take(turn, memory.draft))
    if kept:
        memory.held_at = memory.held_at or turn.ctx.clock.now()
        memory.album = event.media_group_id or memory.album
    if album_goes_on:
        turn.go(Consent.name)
        return  # the rest of an album already answered: the question is on the screen
    if turn.state == Consent.name and event.command is None:
        turn.say(Reply(t("resident-consent-held" if kept else "resident-consent-needed")))
    else:
        greeting = t("resident-greeting")
        turn.say(Reply(f"{greeting}\n\n{t('resident-consent-held')}" if kept else greeting))
    turn.go(Consent.name)
    turn.ask()


def _expired(turn: Turn) -> bool:
    held_at = turn.memory.held_at
    return held_at is not None and turn.ctx.clock.now() - held_at >= turn.ctx.retention.consent_hold


def _held(turn: Turn) -> Draft:
    """What was held for the appeal, unless the hold is over."""
    return Draft() if _expired(turn) else turn.memory.draft
