"""The residents' guided dialogue as one table of states.

Every event is one unit of work: the resident row is loaded (and locked on PostgreSQL)
with its dialogue, the step for the current state handles the event, and the new state
and draft are written back in the same transaction. The draft lives in ``Dialogue.data``,
so a restart or another worker continues where the resident was.

Payloads are short ASCII (Telegram allows 64 bytes of callback data):

``consent:yes|no``, ``t:<category>``, ``m:<municipality>``, ``mp:<page>``,
``nav:back|cancel|skip|done|new|resume``, ``draft:continue|restart``,
``rv:send|edit|cancel``, ``ed:<field>``, ``my:<page>``, ``ap:<appeal id>``,
``fg:yes|no``; ``add:<appeal id>`` belongs to :class:`handlers.followup.FollowUp`.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import typed_choices
from handlers.context import Context
from handlers.deadlines import submitted_terms
from handlers.dialogue.my_appeals import MyAppeals
from handlers.dialogue.validation import (
    ADDRESS_MAX,
    ADDRESS_MIN,
    clean_text,
    has_words,
    normalise_phone,
    valid_coordinates,
)
from handlers.events import Button, ButtonRequest, Event, Keyboard, MediaKind, Platform, Reply, Response
from handlers.followup import FollowUp
from handlers.forwarding import forward_new_appeal
from handlers.texts import Safe
from storage import appeals as appeal_store
from storage import residents as resident_store
from storage.models import AppealStatus, Dialogue, Resident

log = structlog.get_logger(__name__)


class State(StrEnum):
    IDLE = "idle"
    CONSENT = "consent"
    RESUME = "resume"
    TOPIC = "topic"
    MUNICIPALITY = "municipality"
    DESCRIPTION = "description"
    PLACE = "place"
    PHOTOS = "photos"
    PHONE = "phone"
    REVIEW = "review"
    EDIT = "edit"
    FORGET = "forget"


StepHandler = Callable[["ResidentDialogue", "Turn", str | None], Awaitable[None]]
Asker = Callable[["ResidentDialogue", "Turn"], Reply]


@dataclass(frozen=True, slots=True)
class Step:
    """One state: what handles its input, how its question looks, where «Назад» leads,
    where finishing it leads, and which navigation buttons it shows."""

    handle: StepHandler
    ask: Asker
    back: State | None = None
    next: State | None = None
    nav: frozenset[str] = frozenset()


DRAFT_STATES = frozenset(
    {
        State.TOPIC,
        State.MUNICIPALITY,
        State.DESCRIPTION,
        State.PLACE,
        State.PHOTOS,
        State.PHONE,
        State.REVIEW,
        State.EDIT,
    }
)
EDITABLE = {
    "topic": State.TOPIC,
    "municipality": State.MUNICIPALITY,
    "description": State.DESCRIPTION,
    "place": State.PLACE,
    "photos": State.PHOTOS,
    "phone": State.PHONE,
}
MUNICIPALITIES_PER_PAGE = 8
DRAFT_KEYS = ("category", "municipality", "description", "address", "lat", "photos", "phone")


@dataclass(slots=True)
class Turn:
    """One event being handled: where the resident is, and what we answer."""

    session: AsyncSession
    event: Event
    resident: Resident
    dialogue: Dialogue
    state: State
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None
    forgotten: bool = False

    def say(self, reply: Reply) -> None:
        self.replies.append(reply)


def _rows(buttons: Sequence[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


STEP_BOUND = frozenset({"nav:back", "nav:cancel", "nav:skip", "nav:done"})
"""Navigation that means something different at every step: its buttons carry the step."""


def _stamp(reply: Reply, state: State) -> Reply:
    """Bind a reply's step navigation buttons to the step they are shown at
    (``nav:skip@photos``), so a press meant for one step never acts on the next."""
    if not reply.buttons:
        return reply
    rows = tuple(
        tuple(replace(b, payload=f"{b.payload}@{state.value}") if b.payload in STEP_BOUND else b for b in row)
        for row in reply.buttons
    )
    return replace(reply, buttons=rows)


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


class ResidentDialogue:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.t = ctx.texts
        self.followup = FollowUp(ctx)
        self.my = MyAppeals(ctx)
        self._nav_labels = {
            self.t("resident-btn-back"): "nav:back",
            self.t("resident-btn-cancel"): "nav:cancel",
            self.t("resident-btn-skip"): "nav:skip",
            self.t("resident-btn-done"): "nav:done",
        }
        self._location_label = self.t("resident-btn-location")
        self._contact_label = self.t("resident-btn-share-phone")

    # -- the entry point -------------------------------------------------------------------

    async def handle(self, event: Event) -> Response:
        if event.sender is None:
            return Response()
        if event.edited:  # the draft keeps what was sent; say so rather than ignore the edit
            return Response(replies=[Reply(self.t("guard-edited"))])
        async with self.ctx.db.transaction() as session:
            resident, dialogue = await resident_store.get_or_create(session, event.sender)
            if dialogue.typed_choices is not None:
                # The last screen went out as plain text: a number typed now is its button.
                event = typed_choices.resolve(event, dialogue.typed_choices)
                dialogue.typed_choices = None
            if resident.blocked_at is not None:
                return Response(replies=[Reply(self.t("resident-blocked"))])
            payload = event.payload
            if (payload is not None and payload.startswith(FollowUp.PAYLOAD_PREFIXES)) or (
                dialogue.state in FollowUp.STATES
            ):
                response = await self.followup.handle(session, event, resident, dialogue)
                if response is not None:
                    return response
            try:
                state = State(dialogue.state)
            except ValueError:
                state = State.IDLE
            original = dialogue.data or {}
            turn = Turn(session, event, resident, dialogue, state, copy.deepcopy(original))
            await self._dispatch(turn)
            self._close_keyboard(turn, state)
            if not turn.forgotten and (turn.state.value != dialogue.state or turn.data != original):
                dialogue.state = turn.state.value
                dialogue.data = turn.data
            return Response(replies=[_stamp(r, turn.state) for r in turn.replies], toast=turn.toast)

    async def _dispatch(self, turn: Turn) -> None:
        event = turn.event
        command = event.command
        if command is not None:
            await self._command(turn, command[0])
            return
        if turn.resident.consent_at is None and turn.state is not State.FORGET:
            await self._consent(turn, event.payload)
            return
        if event.sender_name and turn.resident.name != event.sender_name[:128]:
            turn.resident.name = event.sender_name[:128]
        payload = event.payload
        if payload is not None and payload.startswith("nav:") and "@" in payload:
            payload, _, step = payload.partition("@")
            if step != turn.state.value:
                # «Пропустить» pressed twice: the second press belongs to the step before.
                self._stale(turn)
                return
        if payload is None and event.text and not event.media:
            payload = self._label_payload(turn)
        if payload is not None:
            if await self._global_payload(turn, payload):
                return
            action = payload.removeprefix("nav:") if payload.startswith("nav:") else None
            if action is not None and action not in TABLE[turn.state].nav:
                self._stale(turn)
                return
            if action == "back":
                await self._back(turn)
                return
            if action == "cancel":
                self._cancel(turn)
                return
        await TABLE[turn.state].handle(self, turn, payload)

    def _close_keyboard(self, turn: Turn, started_in: State) -> None:
        """Leaving a step that showed a reply keyboard: take the keyboard away."""
        if turn.state is started_in or not self._has_keyboard(started_in, turn.event.platform):
            return
        if any(r.keyboard or r.remove_keyboard for r in turn.replies):
            return
        for n, reply in enumerate(turn.replies):
            if not reply.buttons:
                turn.replies[n] = replace(reply, remove_keyboard=True)
                return
        turn.replies.insert(0, Reply(self.t("resident-ok"), remove_keyboard=True))

    @staticmethod
    def _has_keyboard(state: State, platform: Platform) -> bool:
        return state is State.PLACE or (state is State.PHONE and platform is Platform.TELEGRAM)

    def _label_payload(self, turn: Turn) -> str | None:
        """Reply-keyboard buttons arrive as their label: map it to the button's meaning.

        Only at a step that shows a reply keyboard: elsewhere the buttons carry payloads,
        and a label typed there is text (say, a «Пропустить» pressed twice on the previous
        step's keyboard must not skip this step too)."""
        if not self._has_keyboard(turn.state, turn.event.platform):
            return None
        payload = self._nav_labels.get((turn.event.text or "").strip())
        if payload is None or payload.removeprefix("nav:") not in TABLE[turn.state].nav:
            return None
        return payload

    # -- commands ----------------------------------------------------------------------------

    async def _command(self, turn: Turn, name: str) -> None:
        consented = turn.resident.consent_at is not None
        if name == "help":
            turn.say(Reply(self.t("resident-help")))
            if turn.state in DRAFT_STATES or turn.state is State.CONSENT:
                self._ask(turn)
        elif name == "forget":
            if turn.state is not State.FORGET:
                turn.data["forget_from"] = turn.state.value
            turn.state = State.FORGET
            self._ask(turn)
        elif name == "start" and not consented:
            turn.say(Reply(self.t("resident-greeting")))
            turn.state = State.CONSENT
            self._ask(turn)
        elif not consented:
            await self._consent(turn, None)
        elif name == "start":
            turn.say(Reply(self.t("resident-greeting")))
            await self._begin(turn)
        elif name == "new":
            await self._begin(turn)
        elif name == "my":
            await self._my_list(turn, 0, edit=False)
        elif name == "cancel":
            if turn.state in DRAFT_STATES or turn.state is State.RESUME:
                self._cancel(turn)
            else:
                turn.say(self._idle_menu(self.t("resident-nothing-to-cancel")))
        else:
            turn.say(Reply(self.t("resident-unknown-command")))
            if turn.state in DRAFT_STATES:
                self._ask(turn)

    # -- consent -----------------------------------------------------------------------------

    async def _consent(self, turn: Turn, payload: str | None) -> None:
        if turn.state is State.CONSENT and payload == "consent:yes":
            now = self.ctx.clock.now()
            turn.resident.consent_at = now
            if turn.event.sender_name:
                turn.resident.name = turn.event.sender_name[:128]
            turn.say(Reply(self.t("resident-consent-thanks")))
            turn.data = {}
            await self._begin(turn)
            return
        if turn.state is State.CONSENT and payload == "consent:no":
            turn.say(
                Reply(
                    self.t("resident-consent-refused"),
                    buttons=((Button(self.t("resident-btn-agree"), "consent:yes"),),),
                )
            )
            return
        if payload is not None:
            turn.toast = self.t("resident-stale")
        elif turn.state is State.CONSENT:
            turn.say(Reply(self.t("resident-consent-needed")))
        else:
            turn.say(Reply(self.t("resident-greeting")))
        turn.state = State.CONSENT
        turn.data = {}
        self._ask(turn)

    def _ask_consent(self, turn: Turn) -> Reply:
        return Reply(
            self.t("resident-consent"),
            buttons=(
                (
                    Button(self.t("resident-btn-agree"), "consent:yes"),
                    Button(self.t("resident-btn-disagree"), "consent:no"),
                ),
            ),
        )

    async def _on_consent(self, turn: Turn, payload: str | None) -> None:
        # Reached only when consent is already given: an old consent message.
        turn.state = State.IDLE
        await self._on_idle(turn, payload)

    # -- starting, resuming, cancelling ----------------------------------------------------

    def _has_draft(self, turn: Turn) -> bool:
        return turn.state in DRAFT_STATES and any(turn.data.get(k) for k in DRAFT_KEYS)

    async def _begin(self, turn: Turn) -> None:
        """/new, /start, «Подать обращение»: offer the abandoned draft, or start afresh."""
        if turn.state is State.RESUME:
            self._ask(turn)
            return
        if self._has_draft(turn):
            turn.data["resume"] = turn.state.value
            turn.state = State.RESUME
            self._ask(turn)
            return
        await self._start_new(turn)

    async def _start_new(self, turn: Turn) -> None:
        refusal = await self._rate_limited(turn)
        if refusal is not None:
            turn.state = State.IDLE
            turn.data = {}
            turn.say(self._idle_menu(refusal))
            return
        turn.data = {}
        turn.state = State.TOPIC
        self._ask(turn)

    async def _rate_limited(self, turn: Turn) -> str | None:
        limits = self.ctx.catalogue.limits
        now = self.ctx.clock.now()
        last_hour, last_day = await appeal_store.count_recent(
            turn.session,
            turn.resident.id,
            hour_since=now - timedelta(hours=1),
            day_since=now - timedelta(days=1),
        )
        if last_hour >= limits.appeals_per_hour:
            return self.t("resident-rate-hour", limit=limits.appeals_per_hour)
        if last_day >= limits.appeals_per_day:
            return self.t("resident-rate-day", limit=limits.appeals_per_day)
        return None

    def _ask_resume(self, turn: Turn) -> Reply:
        return Reply(
            self.t("resident-resume"),
            buttons=(
                (
                    Button(self.t("resident-btn-continue"), "draft:continue"),
                    Button(self.t("resident-btn-restart"), "draft:restart"),
                ),
            ),
        )

    async def _on_resume(self, turn: Turn, payload: str | None) -> None:
        if payload == "draft:continue":
            turn.state = self._state(turn.data.pop("resume", None), State.TOPIC)
            self._ask(turn)
        elif payload == "draft:restart":
            await self._start_new(turn)
        elif payload is not None:
            self._stale(turn)
        else:
            turn.say(Reply(self.t("resident-accepts-buttons")))
            self._ask(turn)

    def _cancel(self, turn: Turn) -> None:
        turn.state = State.IDLE
        turn.data = {}
        turn.say(self._idle_menu(self.t("resident-cancelled")))

    async def _back(self, turn: Turn) -> None:
        if turn.data.pop("editing", False):
            turn.state = State.REVIEW
            self._ask(turn)
            return
        target = TABLE[turn.state].back
        if target is State.MUNICIPALITY and self._single_municipality() is not None:
            target = State.TOPIC
        if target is None or target is State.IDLE:
            self._cancel(turn)
            return
        turn.state = target
        self._ask(turn)

    def _advance(self, turn: Turn) -> None:
        """Finish the current step: the next one, or the review when changing a field."""
        target = State.REVIEW if turn.data.get("editing") else TABLE[turn.state].next
        if target is State.MUNICIPALITY:
            only = self._single_municipality()
            if only is not None:
                turn.data["municipality"] = only
                target = State.DESCRIPTION
        if target is None:  # pragma: no cover - every step with input has a next
            target = State.IDLE
        if target is State.REVIEW:
            turn.data.pop("editing", None)
        turn.state = target
        self._ask(turn)

    def _single_municipality(self) -> str | None:
        municipalities = self.ctx.catalogue.municipalities
        return municipalities[0].id if len(municipalities) == 1 else None

    # -- questions ---------------------------------------------------------------------------

    def _ask(self, turn: Turn) -> None:
        turn.say(TABLE[turn.state].ask(self, turn))

    def _stale(self, turn: Turn) -> None:
        turn.toast = self.t("resident-stale")
        if turn.state in DRAFT_STATES or turn.state in (State.RESUME, State.FORGET):
            self._ask(turn)
        else:
            turn.say(self._idle_menu(self.t("resident-idle")))

    def _nav_row(self) -> tuple[Button, ...]:
        return (
            Button(self.t("resident-btn-back"), "nav:back"),
            Button(self.t("resident-btn-cancel"), "nav:cancel"),
        )

    def _nav_keys(self) -> tuple[Button, ...]:
        return (Button(self.t("resident-btn-back")), Button(self.t("resident-btn-cancel")))

    def _idle_menu(self, text: str) -> Reply:
        return Reply(
            text,
            buttons=(
                (
                    Button(self.t("resident-btn-new"), "nav:new"),
                    Button(self.t("resident-btn-my"), "my:0"),
                ),
            ),
        )

    def _ask_idle(self, turn: Turn) -> Reply:
        return self._idle_menu(self.t("resident-idle"))

    async def _on_idle(self, turn: Turn, payload: str | None) -> None:
        if payload is not None:
            self._stale(turn)
        elif turn.event.text:
            turn.say(self._idle_menu(self.t("resident-idle")))
        else:
            turn.say(self._idle_menu(self.t("resident-accepts-idle")))

    def _not_accepted(self, turn: Turn, payload: str | None, key: str, **args: Any) -> None:
        if payload is not None:
            self._stale(turn)
            return
        turn.say(Reply(self.t(key, **args)))
        self._ask(turn)

    # -- topic -------------------------------------------------------------------------------

    def _ask_topic(self, turn: Turn) -> Reply:
        buttons = [Button(c.title, f"t:{c.id}") for c in self.ctx.catalogue.categories]
        return Reply(self.t("resident-ask-topic"), buttons=(*_rows(buttons, 2), self._nav_row()))

    async def _on_topic(self, turn: Turn, payload: str | None) -> None:
        if payload is not None and payload.startswith("t:"):
            category = self.ctx.catalogue.category(payload[2:])
            if category is not None:
                turn.data["category"] = category.id
                self._advance(turn)
                return
        self._not_accepted(turn, payload, "resident-accepts-topic")

    # -- municipality ------------------------------------------------------------------------

    def _municipality_pages(self) -> int:
        count = len(self.ctx.catalogue.municipalities)
        return max(1, -(-count // MUNICIPALITIES_PER_PAGE))

    def _ask_municipality(self, turn: Turn) -> Reply:
        municipalities = self.ctx.catalogue.municipalities
        pages = self._municipality_pages()
        page = min(max(int(turn.data.get("mpage", 0)), 0), pages - 1)
        chunk = municipalities[page * MUNICIPALITIES_PER_PAGE : (page + 1) * MUNICIPALITIES_PER_PAGE]
        rows = _rows([Button(m.name, f"m:{m.id}") for m in chunk], 2)
        paging: list[Button] = []
        if page > 0:
            paging.append(Button(self.t("resident-btn-prev"), f"mp:{page - 1}"))
        if page < pages - 1:
            paging.append(Button(self.t("resident-btn-more"), f"mp:{page + 1}"))
        if paging:
            rows.append(tuple(paging))
            text = self.t("resident-ask-municipality-page", page=page + 1, pages=pages)
        else:
            text = self.t("resident-ask-municipality")
        return Reply(text, buttons=(*rows, self._nav_row()))

    async def _on_municipality(self, turn: Turn, payload: str | None) -> None:
        if payload is not None and payload.startswith("m:"):
            municipality = self.ctx.catalogue.municipality(payload[2:])
            if municipality is not None:
                turn.data["municipality"] = municipality.id
                turn.data.pop("mpage", None)
                self._advance(turn)
                return
        if payload is not None and payload.startswith("mp:"):
            page = _int(payload[3:])
            if page is not None and page < self._municipality_pages():
                turn.data["mpage"] = page
                reply = self._ask_municipality(turn)
                turn.say(replace(reply, edit_message_id=turn.event.message_id))
                return
        self._not_accepted(turn, payload, "resident-accepts-municipality")

    # -- description -------------------------------------------------------------------------

    def _ask_description(self, turn: Turn) -> Reply:
        limits = self.ctx.catalogue.limits
        return Reply(
            self.t("resident-ask-description", min=limits.description_min, max=limits.description_max),
            buttons=(self._nav_row(),),
        )

    async def _on_description(self, turn: Turn, payload: str | None) -> None:
        event = turn.event
        if payload is not None or event.media or event.location or event.contact or event.text is None:
            self._not_accepted(turn, payload, "resident-accepts-description")
            return
        text = clean_text(event.text)
        limits = self.ctx.catalogue.limits
        if not text:
            turn.say(Reply(self.t("resident-description-empty")))
        elif not has_words(text):
            turn.say(Reply(self.t("guard-description-no-words")))
        elif len(text) < limits.description_min:
            turn.say(
                Reply(self.t("resident-description-too-short", length=len(text), min=limits.description_min))
            )
        elif len(text) > limits.description_max:
            turn.say(
                Reply(self.t("resident-description-too-long", length=len(text), max=limits.description_max))
            )
        else:
            turn.data["description"] = text
            self._advance(turn)
            return
        self._ask(turn)

    # -- place -------------------------------------------------------------------------------

    def _ask_place(self, turn: Turn) -> Reply:
        return Reply(
            self.t("resident-ask-place"),
            keyboard=(
                (Button(self._location_label, request=ButtonRequest.LOCATION),),
                (Button(self.t("resident-btn-skip")),),
                self._nav_keys(),
            ),
        )

    async def _on_place(self, turn: Turn, payload: str | None) -> None:
        event = turn.event
        data = turn.data
        if payload == "nav:skip":
            for key in ("address", "lat", "lon"):
                data.pop(key, None)
            turn.say(Reply(self.t("resident-place-skipped"), remove_keyboard=True))
            self._advance(turn)
            return
        if payload is None and event.location is not None and not event.media:
            point, bounds = event.location, self.ctx.catalogue.region.bounds
            if not valid_coordinates(point.latitude, point.longitude):
                turn.say(Reply(self.t("guard-location-invalid")))
                self._ask(turn)
                return
            if bounds is not None and not bounds.contains(point.latitude, point.longitude):
                turn.say(Reply(self.t("guard-location-outside", region=self.ctx.catalogue.region.name)))
                self._ask(turn)
                return
            data.pop("address", None)
            data["lat"], data["lon"] = event.location.latitude, event.location.longitude
            turn.say(Reply(self.t("resident-place-saved"), remove_keyboard=True))
            self._advance(turn)
            return
        text = clean_text(event.text or "")
        if payload is not None or event.media or event.contact or not text or text == self._location_label:
            self._not_accepted(turn, payload, "resident-accepts-place")
            return
        if text == data.get("description"):
            # The description sent again (the answer to it was slow): not an address.
            turn.say(Reply(self.t("resident-place-repeated-description")))
        elif len(text) < ADDRESS_MIN:
            turn.say(Reply(self.t("resident-address-too-short")))
        elif len(text) > ADDRESS_MAX:
            turn.say(Reply(self.t("resident-address-too-long")))
        else:
            data.pop("lat", None)
            data.pop("lon", None)
            data["address"] = text
            turn.say(Reply(self.t("resident-place-saved"), remove_keyboard=True))
            self._advance(turn)
            return
        self._ask(turn)

    # -- photos ------------------------------------------------------------------------------

    def _photo_buttons(self, turn: Turn) -> Keyboard:
        if turn.data.get("photos"):
            first = Button(self.t("resident-btn-done"), "nav:done")
        else:
            first = Button(self.t("resident-btn-skip"), "nav:skip")
        return ((first,), self._nav_row())

    def _ask_photos(self, turn: Turn) -> Reply:
        limit = self.ctx.catalogue.limits.photos_per_appeal
        return Reply(self.t("resident-ask-photos", limit=limit), buttons=self._photo_buttons(turn))

    async def _on_photos(self, turn: Turn, payload: str | None) -> None:
        event = turn.event
        if payload in ("nav:done", "nav:skip"):
            self._advance(turn)
            return
        if payload is None and event.text and not event.media:
            # Words typed here ("готово", "нет фото", more details) are not kept: say so
            # and point at the button that moves on.
            has_photos = "yes" if turn.data.get("photos") else "no"
            self._not_accepted(turn, payload, "resident-photos-text-ignored", has_photos=has_photos)
            return
        if payload is not None or not event.media or any(m.kind is not MediaKind.PHOTO for m in event.media):
            self._not_accepted(turn, payload, "resident-accepts-photos")
            return
        limit = self.ctx.catalogue.limits.photos_per_appeal
        photos: list[dict[str, Any]] = list(turn.data.get("photos", []))
        known = {p.get("unique_id") or p["ref"] for p in photos}
        added = duplicate = refused = 0
        for media in event.media:
            key = media.unique_id or media.ref
            if key in known:
                duplicate += 1
            elif len(photos) >= limit:
                refused += 1
            else:
                known.add(key)
                photos.append(
                    {
                        "platform": media.platform.value,
                        "ref": media.ref,
                        "unique_id": media.unique_id,
                        "url": media.url,
                    }
                )
                added += 1
        turn.data["photos"] = photos
        if refused:
            turn.say(Reply(self.t("resident-photo-limit", limit=limit), buttons=self._photo_buttons(turn)))
        elif added:
            turn.say(
                Reply(
                    self.t("resident-photo-received", count=len(photos), limit=limit),
                    buttons=self._photo_buttons(turn),
                )
            )
        elif duplicate:
            turn.say(Reply(self.t("resident-photo-duplicate"), buttons=self._photo_buttons(turn)))

    # -- phone -------------------------------------------------------------------------------

    def _ask_phone(self, turn: Turn) -> Reply:
        if turn.event.platform is Platform.TELEGRAM:
            return Reply(
                self.t("resident-ask-phone-button"),
                keyboard=(
                    (Button(self._contact_label, request=ButtonRequest.CONTACT),),
                    (Button(self.t("resident-btn-skip")),),
                    self._nav_keys(),
                ),
            )
        return Reply(
            self.t("resident-ask-phone-typed"),
            buttons=((Button(self.t("resident-btn-skip"), "nav:skip"),), self._nav_row()),
        )

    async def _on_phone(self, turn: Turn, payload: str | None) -> None:
        event = turn.event
        if payload == "nav:skip":
            turn.data.pop("phone", None)
            turn.say(Reply(self.t("resident-phone-skipped"), remove_keyboard=True))
            self._advance(turn)
            return
        phone: str | None
        if payload is None and event.contact is not None:
            sender = event.sender
            if sender is None or event.contact.owner_id != sender.external_id:
                turn.say(Reply(self.t("resident-phone-foreign")))
                self._ask(turn)
                return
            phone = normalise_phone(event.contact.phone) or event.contact.phone.strip()[:32]
        elif payload is None and event.text and not event.media and not event.location:
            phone = normalise_phone(event.text)
            if phone is None:
                turn.say(Reply(self.t("resident-phone-invalid")))
                self._ask(turn)
                return
        else:
            self._not_accepted(turn, payload, "resident-accepts-phone")
            return
        turn.data["phone"] = phone
        turn.say(Reply(self.t("resident-phone-saved"), remove_keyboard=True))
        self._advance(turn)

    # -- review, changes, submission -------------------------------------------------------

    def _summary(self, data: dict[str, Any]) -> str:
        catalogue = self.ctx.catalogue
        category = catalogue.category(str(data.get("category")))
        municipality = catalogue.municipality(str(data.get("municipality")))
        lines = [
            self.t("resident-review-topic", topic=category.title if category else "—"),
            self.t("resident-review-municipality", municipality=municipality.name if municipality else "—"),
            self.t("resident-review-description", description=str(data.get("description", ""))),
        ]
        if data.get("address"):
            lines.append(self.t("resident-review-address", address=str(data["address"])))
        elif data.get("lat") is not None:
            lines.append(
                self.t(
                    "resident-review-location", latitude=f"{data['lat']:.5f}", longitude=f"{data['lon']:.5f}"
                )
            )
        else:
            lines.append(self.t("resident-review-no-place"))
        lines.append(self.t("resident-review-photos", count=len(data.get("photos", []))))
        if data.get("phone"):
            lines.append(self.t("resident-review-phone", phone=str(data["phone"])))
        else:
            lines.append(self.t("resident-review-no-phone"))
        return "\n".join(lines)

    def _ask_review(self, turn: Turn) -> Reply:
        return Reply(
            self.t("resident-review", summary=Safe(self._summary(turn.data))),
            buttons=(
                (Button(self.t("resident-btn-send"), "rv:send"),),
                (
                    Button(self.t("resident-btn-edit"), "rv:edit"),
                    Button(self.t("resident-btn-abort"), "rv:cancel"),
                ),
                (Button(self.t("resident-btn-back"), "nav:back"),),
            ),
        )

    def _draft_complete(self, data: dict[str, Any]) -> bool:
        return bool(
            self.ctx.catalogue.category(str(data.get("category")))
            and self.ctx.catalogue.municipality(str(data.get("municipality")))
            and data.get("description")
        )

    async def _on_review(self, turn: Turn, payload: str | None) -> None:
        if payload == "rv:send":
            await self._submit(turn)
        elif payload == "rv:edit":
            turn.state = State.EDIT
            self._ask(turn)
        elif payload == "rv:cancel":
            self._cancel(turn)
        else:
            self._not_accepted(turn, payload, "resident-accepts-review")

    def _ask_edit(self, turn: Turn) -> Reply:
        fields = [Button(self.t(f"resident-edit-{name}"), f"ed:{name}") for name in EDITABLE]
        return Reply(
            self.t("resident-ask-edit"),
            buttons=(*_rows(fields, 2), self._nav_row()),
        )

    async def _on_edit(self, turn: Turn, payload: str | None) -> None:
        target = EDITABLE.get(payload[3:]) if payload is not None and payload.startswith("ed:") else None
        if target is None:
            self._not_accepted(turn, payload, "resident-accepts-buttons")
            return
        turn.data["editing"] = True
        turn.state = target
        if target is State.PHOTOS and turn.data.pop("photos", None):
            turn.say(Reply(self.t("resident-edit-photos-cleared")))
        self._ask(turn)

    async def _submit(self, turn: Turn) -> None:
        data = turn.data
        if not self._draft_complete(data):  # a draft from an older catalogue
            await self._start_new(turn)
            return
        refusal = await self._rate_limited(turn)
        if refusal is not None:
            turn.say(Reply(f"{refusal}\n{self.t('resident-rate-kept')}"))
            self._ask(turn)
            return
        now = self.ctx.clock.now()
        photos = tuple(
            appeal_store.PhotoRef(p["platform"], p["ref"], p.get("unique_id"), p.get("url"))
            for p in data.get("photos", [])
        )
        phone = data.get("phone")
        appeal = await appeal_store.create_appeal(
            turn.session,
            turn.resident,
            appeal_store.NewAppeal(
                platform=turn.event.platform.value,
                category_id=str(data["category"]),
                municipality_id=str(data["municipality"]),
                description=str(data["description"]),
                address=data.get("address"),
                latitude=data.get("lat"),
                longitude=data.get("lon"),
                phone=phone,
                photos=photos,
            ),
            now=now,
        )
        if phone:
            turn.resident.phone = phone
        await forward_new_appeal(self.ctx, turn.session, appeal)
        log.info(
            "appeal.submitted", appeal=appeal.number, category=appeal.category_id, agency=appeal.agency_id
        )
        turn.state = State.IDLE
        turn.data = {}
        if appeal.status == AppealStatus.MODERATION.value:
            # The centre reads it first: the agency's terms start when it is passed on.
            said = self.t("resident-submitted-moderation", number=appeal.number)
        else:
            said = self.t("resident-submitted", number=appeal.number, **submitted_terms(self.ctx, appeal))
        turn.say(self._idle_menu(said))

    # -- /my ---------------------------------------------------------------------------------

    async def _global_payload(self, turn: Turn, payload: str) -> bool:
        """Buttons that work in any state; True when handled."""
        if payload == "nav:new":
            await self._begin(turn)
        elif payload == "nav:resume":
            if turn.state in DRAFT_STATES or turn.state is State.RESUME:
                self._ask(turn)
            else:
                turn.say(self._idle_menu(self.t("resident-idle")))
        elif payload.startswith("my:"):
            page = _int(payload[3:])
            if page is None:
                self._stale(turn)
            else:
                await self._my_list(turn, page, edit=True)
        elif payload.startswith("ap:"):
            appeal_id = _int(payload[3:])
            details = None
            if appeal_id is not None:
                details = await self.my.details(
                    turn.session, turn.resident.id, appeal_id, in_draft=turn.state in DRAFT_STATES
                )
            if details is None:
                self._stale(turn)
            else:
                turn.say(details)
        else:
            return False
        return True

    async def _my_list(self, turn: Turn, page: int, *, edit: bool) -> None:
        edit_id = turn.event.message_id if edit and turn.event.payload else None
        in_draft = turn.state in DRAFT_STATES
        turn.say(await self.my.page(turn.session, turn.resident.id, page, in_draft=in_draft, edit_id=edit_id))

    # -- /forget -----------------------------------------------------------------------------

    def _ask_forget(self, turn: Turn) -> Reply:
        return Reply(
            self.t("resident-forget-confirm"),
            buttons=(
                (
                    Button(self.t("resident-btn-forget-yes"), "fg:yes"),
                    Button(self.t("resident-btn-forget-no"), "fg:no"),
                ),
            ),
        )

    async def _on_forget(self, turn: Turn, payload: str | None) -> None:
        if payload == "fg:yes":
            await appeal_store.forget_resident(
                turn.session,
                turn.resident,
                turn.dialogue,
                tombstone=f"forgotten:{uuid.uuid4().hex}",
                now=self.ctx.clock.now(),
            )
            turn.forgotten = True
            turn.say(Reply(self.t("resident-forget-done"), remove_keyboard=True))
        elif payload == "fg:no":
            turn.state = self._state(turn.data.pop("forget_from", None), State.IDLE)
            turn.say(Reply(self.t("resident-forget-kept")))
            if (
                (turn.state is State.CONSENT and turn.resident.consent_at is None)
                or turn.state in DRAFT_STATES
                or turn.state is State.RESUME
            ):
                self._ask(turn)
            else:
                turn.state = State.IDLE
                turn.say(self._idle_menu(self.t("resident-idle")))
        else:
            self._not_accepted(turn, payload, "resident-accepts-buttons")

    @staticmethod
    def _state(value: Any, default: State) -> State:
        try:
            return State(value)
        except ValueError:
            return default


_NAV = frozenset({"back", "cancel"})
D = ResidentDialogue

TABLE: dict[State, Step] = {
    State.IDLE: Step(D._on_idle, D._ask_idle),
    State.CONSENT: Step(D._on_consent, D._ask_consent),
    State.RESUME: Step(D._on_resume, D._ask_resume),
    State.TOPIC: Step(D._on_topic, D._ask_topic, back=State.IDLE, next=State.MUNICIPALITY, nav=_NAV),
    State.MUNICIPALITY: Step(
        D._on_municipality, D._ask_municipality, back=State.TOPIC, next=State.DESCRIPTION, nav=_NAV
    ),
    State.DESCRIPTION: Step(
        D._on_description, D._ask_description, back=State.MUNICIPALITY, next=State.PLACE, nav=_NAV
    ),
    State.PLACE: Step(
        D._on_place, D._ask_place, back=State.DESCRIPTION, next=State.PHOTOS, nav=_NAV | {"skip"}
    ),
    State.PHOTOS: Step(
        D._on_photos, D._ask_photos, back=State.PLACE, next=State.PHONE, nav=_NAV | {"skip", "done"}
    ),
    State.PHONE: Step(D._on_phone, D._ask_phone, back=State.PHOTOS, next=State.REVIEW, nav=_NAV | {"skip"}),
    State.REVIEW: Step(D._on_review, D._ask_review, back=State.PHONE, nav=_NAV),
    State.EDIT: Step(D._on_edit, D._ask_edit, back=State.REVIEW, nav=_NAV),
    State.FORGET: Step(D._on_forget, D._ask_forget),
}
"""The one transition table: state → step handler, question, «Назад» and «дальше» targets."""
