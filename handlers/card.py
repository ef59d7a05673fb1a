"""An appeal as agency staff see it: the card text, its buttons, its photos and pin.

Callback payloads are ``d:<action>:<appeal id>`` (``d:redir:<appeal id>:<agency id>`` for
the chosen agency), all within Telegram's 64 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from babel import units

from handlers import dates
from handlers.catalogue import Catalogue
from handlers.events import Button, Keyboard, Location, Media, MediaKind, Platform, Reply
from handlers.phones import format_phone
from handlers.texts import Safe, Texts
from handlers.workflow import OPEN_STATUSES, Action, allowed
from storage.models import Appeal, Attachment

DESCRIPTION_LIMIT = 3000
"""Longer descriptions are cut on the card so it stays one message (Telegram: 4096)."""

BUTTON_ROWS: tuple[tuple[Action, ...], ...] = (
    (Action.TAKE, Action.ANSWER),
    (Action.REDIRECT, Action.REJECT),
    (Action.SOLVE,),
    (Action.ASSIGN, Action.NOTE),
)


def local_time(catalogue: Catalogue, moment: datetime) -> str:
    """The moment in the region's time zone and locale (Babel): «02.12.2026, 15:30»."""
    return dates.moment(moment, catalogue.zone, catalogue.region.locale)


def age(texts: Texts, delta: timedelta) -> str:
    """``30 минут``, ``5 часов``, ``3 дня``: one unit, in words declined by number (Babel's
    CLDR unit names, as the digest's durations)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        value, unit = minutes, "duration-minute"
    elif minutes < 48 * 60:
        value, unit = minutes // 60, "duration-hour"
    else:
        value, unit = minutes // (24 * 60), "duration-day"
    return units.format_unit(value, unit, length="long", locale=texts.locale)


def map_url(latitude: float, longitude: float) -> str:
    return f"https://yandex.ru/maps/?pt={longitude:.6f},{latitude:.6f}&z=17&l=map"


def payload(action: Action, appeal_id: int, extra: str | None = None) -> str:
    data = f"d:{action.value}:{appeal_id}"
    return f"{data}:{extra}" if extra else data


def topic(catalogue: Catalogue, appeal: Appeal) -> str:
    category = catalogue.category(appeal.category_id)
    return category.title if category else appeal.category_id


def agency_name(catalogue: Catalogue, texts: Texts, agency_id: str | None) -> str:
    agency = catalogue.agency(agency_id)
    return agency.name if agency else texts("desk-unrouted-agency")


def card_text(catalogue: Catalogue, texts: Texts, appeal: Appeal) -> str:
    municipality = catalogue.municipality(appeal.municipality_id)
    agency = catalogue.agency(appeal.agency_id)
    description = appeal.description
    if len(description) > DESCRIPTION_LIMIT:
        description = description[:DESCRIPTION_LIMIT].rstrip() + "…"
    lines = [
        texts("desk-card-title", number=appeal.number),
        texts("desk-card-topic", topic=topic(catalogue, appeal)),
        texts(
            "desk-card-municipality",
            municipality=municipality.name if municipality else appeal.municipality_id,
        ),
        texts("desk-card-received", received=local_time(catalogue, appeal.created_at)),
        texts("desk-card-agency", agency=agency.name) if agency else texts("desk-card-unrouted"),
        texts("desk-card-status", status=texts(f"status-{appeal.status}")),
    ]
    if appeal.assignee_name or appeal.assignee_id:
        lines.append(texts("desk-card-assignee", name=appeal.assignee_name or appeal.assignee_id or ""))
    if appeal.status in OPEN_STATUSES:
        if appeal.deadline_at is not None and appeal.first_response_at is None:
            lines.append(texts("desk-card-deadline", deadline=local_time(catalogue, appeal.deadline_at)))
        if appeal.answer_due_at is not None and appeal.answered_at is None:
            key = "desk-card-answer-extended" if appeal.answer_extended_at else "desk-card-answer-deadline"
            lines.append(texts(key, deadline=local_time(catalogue, appeal.answer_due_at)))
    if appeal.reopen_count:
        lines.append(texts("desk-card-reopened", count=str(appeal.reopen_count)))
    if appeal.followers_count:
        lines.append(texts("desk-card-followers", count=appeal.followers_count))
    lines.append("")
    lines.append(texts("desk-card-description", description=description))
    lines.append("")
    if appeal.address:
        lines.append(texts("desk-card-address", address=appeal.address))
    if appeal.latitude is not None and appeal.longitude is not None:
        link = texts("desk-card-map-link", url=map_url(appeal.latitude, appeal.longitude))
        lines.append(texts("desk-card-location", link=Safe(link)))
    if appeal.phone:
        lines.append(texts("desk-card-phone", phone=format_phone(appeal.phone)))
    return "\n".join(lines).rstrip()


def card_buttons(texts: Texts, appeal: Appeal) -> Keyboard:
    labels = {
        Action.TAKE: "desk-button-take",
        Action.ANSWER: "desk-button-answer",
        Action.REDIRECT: "desk-button-redirect",
        Action.REJECT: "desk-button-reject",
        Action.SOLVE: "desk-button-solve",
        Action.ASSIGN: "desk-button-assign",
        Action.NOTE: "desk-button-note",
    }
    rows: list[tuple[Button, ...]] = []
    for row in BUTTON_ROWS:
        buttons = tuple(
            Button(texts(labels[action]), payload=payload(action, appeal.id))
            for action in row
            if allowed(action, appeal.status)
        )
        if buttons:
            rows.append(buttons)
    return tuple(rows)


def card_reply(catalogue: Catalogue, texts: Texts, appeal: Appeal) -> Reply:
    return Reply(text=card_text(catalogue, texts, appeal), buttons=card_buttons(texts, appeal))


def media_of(attachments: Sequence[Attachment]) -> tuple[Media, ...]:
    return tuple(
        Media(
            kind=MediaKind(a.kind) if a.kind in MediaKind.__members__.values() else MediaKind.OTHER,
            platform=Platform(a.platform),
            ref=a.ref,
            unique_id=a.unique_id,
            url=a.url,
        )
        for a in attachments
    )


PHOTOS_ROLE = "photos"
PIN_ROLE = "pin"
WORDS_ROLE = "words"
"""Link roles of the messages in a staff chat that carry the resident's data besides the
card: the photos, the map pin, their own words (details, a reopening comment). /forget
deletes them from the chats."""
PERSONAL_ROLES = frozenset({PHOTOS_ROLE, PIN_ROLE, WORDS_ROLE})


def card_messages(
    catalogue: Catalogue, texts: Texts, appeal: Appeal, attachments: Sequence[Attachment]
) -> list[tuple[Reply, str]]:
    """What a chat receives for a new appeal, in order, each with its link role: the
    photos, the card itself (the message later edited), the map pin."""
    messages: list[tuple[Reply, str]] = []
    photos = tuple(m for m in media_of(attachments) if m.kind is MediaKind.PHOTO)[:10]
    if photos:
        messages.append(
            (Reply(text=texts("desk-card-photos", number=appeal.number), photos=photos), PHOTOS_ROLE)
        )
    messages.append((card_reply(catalogue, texts, appeal), "card"))
    if appeal.latitude is not None and appeal.longitude is not None:
        pin = Reply(
            text=texts("desk-card-location-pin", number=appeal.number),
            location=Location(appeal.latitude, appeal.longitude),
        )
        messages.append((pin, PIN_ROLE))
    return messages
