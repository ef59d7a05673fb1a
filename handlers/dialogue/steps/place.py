"""Step: where the problem is, as a shared location or a typed address; may be skipped.

A chat that can send a location gets a button for it on a reply keyboard; any other chat
is asked to type the address.
"""

from __future__ import annotations

from handlers.dialogue.step import BACK_AND_CANCEL, Input, Nav, Step, Turn
from handlers.dialogue.validation import ADDRESS_MAX, ADDRESS_MIN, clean_text, valid_coordinates
from handlers.events import Button, ButtonRequest, Reply


class Place(Step):
    name = "place"
    accepts = Input.TEXT | Input.LOCATION
    refusal = "resident-accepts-place"
    nav = BACK_AND_CANCEL | {Nav.SKIP}
    numbered = in_draft = True

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        if turn.caps.location_button:
            return Reply(
                t("resident-ask-place"),
                keyboard=(
                    (Button(t("resident-btn-location"), request=ButtonRequest.LOCATION),),
                    (Button(t("resident-btn-skip")),),
                    turn.nav_keys(),
                ),
            )
        return Reply(
            t("resident-ask-place-typed"),
            buttons=((Button(t("resident-btn-skip"), "nav:skip"),), turn.nav_row()),
        )

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if (action, arg) != ("nav", Nav.SKIP):
            return False
        turn.draft.clear_place()
        turn.say(Reply(turn.t("resident-place-skipped")))
        turn.advance()
        return True

    async def on_input(self, turn: Turn) -> bool:
        event, t = turn.event, turn.t
        if event.location is not None:
            point, region = event.location, turn.ctx.catalogue.region
            if not valid_coordinates(point.latitude, point.longitude):
                turn.refuse("guard-location-invalid")
            elif region.bounds is not None and not region.bounds.contains(point.latitude, point.longitude):
                turn.refuse("guard-location-outside", region=region.name)
            else:
                turn.draft.set_point(point.latitude, point.longitude)
                turn.say(Reply(t("resident-place-saved")))
                turn.advance()
            return True
        text = clean_text(event.text or "")
        if not text or text == t("resident-btn-location"):
            turn.refuse(self.refusal)
        elif text == turn.draft.description:
            # The description sent again (the answer to it was slow): not an address.
            turn.refuse("resident-place-repeated-description")
        elif len(text) < ADDRESS_MIN:
            turn.refuse("resident-address-too-short")
        elif len(text) > ADDRESS_MAX:
            turn.refuse("resident-address-too-long")
        else:
            turn.draft.set_address(text)
            turn.say(Reply(t("resident-place-saved")))
            turn.advance()
        return True
