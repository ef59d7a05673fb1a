"""Commands work at every step and keep the draft: /start, /new, /my, /cancel, /help, /mydata,
/forget."""

from __future__ import annotations

from handlers import privacy
from handlers.dialogue.step import Turn
from handlers.dialogue.steps import consent
from handlers.events import Reply


async def handle(turn: Turn, name: str) -> None:
    engine, t = turn.engine, turn.t
    step = engine.step(turn)
    if step.leave_on_command:
        turn.go("idle")
        step = engine.step(turn)
    consented = turn.resident.consent_at is not None
    if name == "help":
        turn.say(Reply(t("resident-help")))
        if step.in_draft or turn.state == "consent":
            turn.ask()
    elif name == "mydata":
        draft = turn.draft
        draft_open = bool(draft.description or draft.address or draft.point or draft.phone or draft.photos)
        for reply in await privacy.my_data(turn.ctx, turn.session, turn.resident, draft_open=draft_open):
            turn.say(reply)
        if step.in_draft:
            turn.ask()
    elif name == "forget":
        if turn.state != "forget":
            turn.memory.forget_from = turn.state
        turn.go("forget")
        turn.ask()
    elif name == "start" and not consented:
        turn.memory.consent_refused = False  # asked afresh: a first message may be held again
        turn.say(Reply(t("resident-greeting")))
        turn.go("consent")
        turn.ask()
    elif not consented:
        await consent.gate(turn)
    elif name == "start":
        turn.say(Reply(t("resident-greeting")))
        await engine.begin(turn)
    elif name == "new":
        await engine.begin(turn)
    elif name == "my":
        turn.say(await engine.my.page(turn, 0, in_draft=step.in_draft, edit_id=None))
    elif name == "cancel":
        if step.in_draft:
            engine.cancel(turn)
        else:
            turn.say(engine.idle_menu(turn, t("resident-nothing-to-cancel")))
    else:
        turn.say(Reply(t("resident-unknown-command")))
        if step.in_draft:
            turn.ask()
