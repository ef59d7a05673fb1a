"""Plain events in, plain replies out: the seam between the platforms and the product.

Adapters in ``bot/`` translate a Telegram or VK update into an :class:`Event` and render
the :class:`Reply` objects they get back. Nothing here knows any messenger's types.
Text in a :class:`Reply` is a small HTML subset (``<b>``, ``<i>``, ``<a href>``, ``<code>``)
with all user input escaped; adapters that cannot render HTML strip it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

BOT_ADDED = "sys:bot_added"
"""``Event.payload`` (with no ``callback_id``) when someone added the bot to a group chat."""


class Platform(StrEnum):
    TELEGRAM = "telegram"
    VK = "vk"
    CONSOLE = "console"


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    VOICE = "voice"
    AUDIO = "audio"
    STICKER = "sticker"
    DOCUMENT = "document"
    ANIMATION = "animation"
    VIDEO_NOTE = "video_note"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on a platform: ``telegram:-1001234`` or ``vk:2000000001``."""

    platform: Platform
    chat_id: str

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.chat_id}"

    @classmethod
    def parse(cls, value: str) -> ChatRef:
        platform, sep, chat_id = value.partition(":")
        if not sep or not chat_id:
            raise ValueError(f"expected 'platform:chat_id', got {value!r}")
        try:
            return cls(Platform(platform), chat_id)
        except ValueError:
            known = ", ".join(p.value for p in Platform)
            raise ValueError(f"unknown platform {platform!r} in {value!r} (known: {known})") from None


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person is (platform, external id), never a bare integer."""

    platform: Platform
    external_id: str

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str
    owner_id: str | None = None
    """External id of the person the contact belongs to, when the platform says."""


@dataclass(frozen=True, slots=True)
class Media:
    """A piece of media as the platform knows it.

    ``ref`` is what the platform itself can resend (a Telegram ``file_id``, a VK attachment
    string); ``url`` is where its bytes can be fetched when it must cross platforms.
    """

    kind: MediaKind
    platform: Platform
    ref: str
    unique_id: str | None = None
    url: str | None = None
    name: str | None = None
    """The file's name where the platform gives one (a document's), for uploads elsewhere."""


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a person did: a message, a button press, an edit."""

    chat: ChatRef
    chat_kind: ChatKind
    sender: PersonRef | None
    text: str | None = None
    payload: str | None = None
    """Button payload (callback data) when the event is a button press."""
    callback_id: str | None = None
    message_id: str | None = None
    reply_to_message_id: str | None = None
    reply_to_bot: bool | None = None
    """Whether the message replied to is a bot's (ours, in practice); None: not known."""
    reply_to_payloads: tuple[str, ...] = ()
    """The button payloads of the message replied to when it is ours, as we sent them (a
    card's buttons name its appeal): what a reply to a message whose link was never
    recorded still tells."""
    location: Location | None = None
    contact: Contact | None = None
    media: tuple[Media, ...] = ()
    media_group_id: str | None = None
    sender_name: str | None = None
    edited: bool = False
    update_id: str | None = None
    forwarded: bool = False
    """Forwarded from elsewhere: someone else's words, never a command to us."""
    for_other_bot: bool = False
    """A command naming another bot (``/report@other_bot``): not ours to answer."""

    @property
    def platform(self) -> Platform:
        return self.chat.platform

    @property
    def command(self) -> tuple[str, str] | None:
        """``("start", "args")`` for ``/start args`` or ``/start@our_bot args``; None for
        anything else, a forwarded text and a command for another bot included."""
        if not self.text or not self.text.startswith("/") or self.payload is not None:
            return None
        if self.forwarded or self.for_other_bot:
            return None
        head, _, rest = self.text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        if not name or not name.replace("_", "").isalnum():
            return None
        return name, rest.strip()


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a chat on one platform can show, declared by its adapter (``bot/*``).

    The core asks these questions instead of asking which platform it talks to. The
    defaults are a cautious baseline that every adapter can show: a platform that has not
    declared its own gets no request buttons and the tightest keyboard limits we know.
    """

    contact_button: bool = False
    """A button that shares the person's own phone number."""
    location_button: bool = False
    """A button that shares the person's location."""
    label_max: int = 40
    """Characters in a button label."""
    message_max: int = 4096
    """Characters in one message, as the adapter counts them."""
    payload_max: int = 64
    """Bytes in a button payload."""
    inline_buttons_max: int = 10
    """Inline buttons under one message, all rows together."""
    inline_rows_max: int = 6
    inline_row_max: int = 5
    """Inline buttons in one row."""
    files_by_reference: bool = False
    """Any file the bot received here can be downloaded by its reference alone, so it can
    travel to another platform even without a link."""
    resend_stickers: bool = False
    """A sticker received here can be sent again, by its reference, to a chat of the same platform."""


class ButtonRequest(StrEnum):
    LOCATION = "location"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Button:
    """A button. With ``payload`` it is an inline/callback button; with ``request`` it asks
    the client for the location or the person's own contact; with ``url`` it opens a link.
    A button with none of these is a plain keyboard button that sends its text."""

    text: str
    payload: str | None = None
    request: ButtonRequest | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show a person or a chat."""

    text: str = ""
    buttons: Keyboard = ()
    """Inline buttons under the message."""
    keyboard: Keyboard = ()
    """A reply keyboard (location/contact requests, plain choices) shown instead of the typing area."""
    remove_keyboard: bool = False
    photos: tuple[Media, ...] = ()
    """Sent before the text: one photo, or an album of up to ten."""
    files: tuple[Media, ...] = ()
    """Any other media (documents, video, voice, audio, animations, video notes, stickers),
    each sent as its own message after the photos and before the text; a lone file carries
    the text as its caption where it fits."""
    location: Location | None = None
    """Sent after the text as a map pin."""
    reply_to: str | None = None
    force_reply: bool = False
    """Ask the client to open a reply to this message (staff prompts)."""
    edit_message_id: str | None = None
    """Edit this earlier message (text and inline buttons) instead of sending a new one."""
    delete_message_ids: tuple[str, ...] = ()
    """Delete these earlier messages of the bot's in this chat instead of sending anything
    (a pin and photos whose resident withdrew their data). Platforms allow it for a while
    only: Telegram 48 hours, VK 24 hours; past that the delivery fails for a person to act."""
    erase_after_send: bool = False
    """Once delivered, the outbox keeps neither this message nor whom it went to (the
    confirmation of /forget: the last thing the bot says to a person it must forget)."""


@dataclass(slots=True)
class Response:
    """What the core answers to one event."""

    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None
    """Short notice for a button press (Telegram's answerCallbackQuery text)."""
    alert: bool = False


_reply_adapter: TypeAdapter[Reply] = TypeAdapter(Reply)


def reply_to_json(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = _reply_adapter.dump_python(reply, mode="json", exclude_defaults=True)
    return data


def reply_from_json(data: dict[str, Any]) -> Reply:
    return _reply_adapter.validate_python(data)


_response_adapter: TypeAdapter[Response] = TypeAdapter(Response)


def response_to_json(response: Response) -> dict[str, Any]:
    data: dict[str, Any] = _response_adapter.dump_python(response, mode="json", exclude_defaults=True)
    return data


def response_from_json(data: dict[str, Any]) -> Response:
    return _response_adapter.validate_python(data)
