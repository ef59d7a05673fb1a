"""Step: a phone number the agency may call; may be skipped.

Mobile or landline, with an extension or without, in the ways people write them; a
number without a country code belongs to the catalogue's ``phone_region``. Stored in
E.164 (see handlers.phones).

A chat that can share the person's own contact gets a button for it on a reply
keyboard; a number can always be typed.
"""

from __future__ import annotations

from handlers.dialogue.step import BACK_AND_CANCEL, Input, Nav, Step, Turn
from handlers.events import Button, ButtonRequest, Reply
from handlers.phones import contact_phone, parse_phone


class Phone(Step):
    name = "phone"
    accepts = Input.TEXT | Input.CONTACT
    refusal = "resident-accepts-phone"
    nav = BACK_AND_CANCEL | {Nav.SKIP}
    numbered = in_draft = True

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        if turn.caps.contact_button:
            return Reply(
                t("resident-ask-phone-button"),
                keyboard=(
                    (Button(t("resident-btn-share-phone"), request=ButtonRequest.CONTACT),),
                    (Button(t("resident-btn-skip")),),
                    turn.nav_keys(),
                ),
            )
        return Reply(
            t("resident-ask-phone-typed"),
            buttons=((Button(t("resident-btn-skip"), "nav:skip"),), turn.nav_row()),
        )

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if (action, arg) != ("nav", Nav.SKIP):
            return False
        turn.draft.phone = None
        turn.say(Reply(turn.t("resident-phone-skipped")))
        turn.advance()
        return True

    async def on_input(self, turn: Turn) -> bool:
        event = turn.event
        if event.contact is not None:
            if event.sender is None or event.contact.owner_id != event.sender.external_id:
                turn.refuse("resident-phone-foreign")
                return True
            phone = contact_phone(event.contact.phone)
        else:
            found = parse_phone(event.text or "", turn.ctx.catalogue.region.phone_region)
            if found is None:
                turn.refuse("resident-phone-invalid")
                return True
            phone = found
        turn.draft.phone = phone
        turn.say(Reply(turn.t("resident-phone-saved")))
        turn.advance()
        return True
