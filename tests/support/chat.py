"""A resident's chat with the bot, for tests: send, click by label, read what came back.

Everything goes through :meth:`handlers.core.Core.handle`, as an adapter would: the
client keeps the reply keyboard shown until the bot removes it, and clicking a label that
is not on screen fails loudly instead of sending something the person could not send.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from handlers.core import Core
from handlers.events import (
    Button,
    ButtonRequest,
    Capabilities,
    ChatKind,
    ChatRef,
    Contact,
    Event,
    Keyboard,
    Location,
    Media,
    MediaKind,
    PersonRef,
    Platform,
    Reply,
    Response,
)

_update_ids = itertools.count(1)


class ButtonNotShown(AssertionError):
    pass


def assert_fits(reply: Reply, caps: Capabilities) -> None:
    """The core keeps every inline keyboard within what the adapter declared it can show."""
    rows = reply.buttons
    where = f"under {reply.text[:60]!r}"
    assert len(rows) <= caps.inline_rows_max, f"{len(rows)} rows {where}"
    assert sum(len(row) for row in rows) <= caps.inline_buttons_max, f"{sum(map(len, rows))} buttons {where}"
    for row in rows:
        assert len(row) <= caps.inline_row_max, f"{len(row)} buttons in a row {where}"
        for button in row:
            assert len(button.text) <= caps.label_max, f"label {button.text!r} {where}"
            assert len((button.payload or "").encode()) <= caps.payload_max, f"payload {button.payload!r}"


def _buttons(keyboard: Keyboard) -> Iterator[Button]:
    for row in keyboard:
        yield from row


class ResidentChat:
    def __init__(self, core: Core, platform: Platform, person_id: str, *, name: str | None = None) -> None:
        self.core = core
        self.platform = platform
        self.person = PersonRef(platform, person_id)
        self.chat = ChatRef(platform, person_id)
        self.name = name
        self.responses: list[Response] = []
        self.keyboard: Keyboard = ()
        """The reply keyboard on screen now (it stays until the bot removes it)."""
        self._message_ids = itertools.count(1)

    # -- what the person sees ----------------------------------------------------------------

    @property
    def last(self) -> Response:
        assert self.responses, "nothing has been sent yet"
        return self.responses[-1]

    @property
    def replies(self) -> list[Reply]:
        return self.last.replies

    @property
    def last_text(self) -> str:
        return "\n".join(reply.text for reply in self.last.replies)

    @property
    def toast(self) -> str | None:
        return self.last.toast

    @property
    def buttons(self) -> list[str]:
        """Labels on screen: the last answer's inline buttons, then the reply keyboard."""
        return [b.text for b in self._visible()]

    def payloads(self, response: Response | None = None) -> list[str]:
        response = response or self.last
        return [b.payload for r in response.replies for b in _buttons(r.buttons) if b.payload]

    def all_payloads(self) -> list[str]:
        return [p for response in self.responses for p in self.payloads(response)]

    def _visible(self, response: Response | None = None) -> list[Button]:
        response = response or self.last
        inline = [b for reply in response.replies for b in _buttons(reply.buttons)]
        return inline + list(_buttons(self.keyboard))

    # -- what the person does ----------------------------------------------------------------

    async def _send(self, **fields: object) -> Response:
        event = Event(
            chat=self.chat,
            chat_kind=ChatKind.PRIVATE,
            sender=self.person,
            sender_name=self.name,
            message_id=str(next(self._message_ids)),
            update_id=str(next(_update_ids)),
            **fields,  # type: ignore[arg-type]
        )
        response = await self.core.handle(event)
        for reply in response.replies:
            assert_fits(reply, self.core.ctx.caps(self.platform))
        self.responses.append(response)
        for reply in response.replies:
            if reply.remove_keyboard:
                self.keyboard = ()
            if reply.keyboard:
                self.keyboard = reply.keyboard
        return response

    async def send(self, text: str) -> Response:
        return await self._send(text=text)

    async def press(self, payload: str) -> Response:
        """Send a button payload as is (a forged or long-gone button)."""
        return await self._send(payload=payload, callback_id=f"cb{next(_update_ids)}")

    async def click(self, label: str, *, on: Response | None = None) -> Response:
        """Press the button labelled ``label`` on the last answer (or on an older one)."""
        for button in self._visible(on):
            if button.text != label:
                continue
            if button.request is ButtonRequest.LOCATION:
                raise ButtonNotShown(f"{label!r} asks for a location: use share_location()")
            if button.request is ButtonRequest.CONTACT:
                raise ButtonNotShown(f"{label!r} asks for a contact: use share_contact()")
            if button.payload is not None:
                return await self.press(button.payload)
            return await self.send(button.text)
        raise ButtonNotShown(f"no button {label!r} on screen; shown: {[b.text for b in self._visible(on)]}")

    async def share_location(self, latitude: float, longitude: float) -> Response:
        return await self._send(location=Location(latitude, longitude))

    async def share_contact(self, phone: str, *, own: bool = True) -> Response:
        owner = self.person.external_id if own else "someone-else"
        return await self._send(contact=Contact(phone=phone, owner_id=owner))

    def photo(self, unique: str) -> Media:
        return Media(MediaKind.PHOTO, self.platform, ref=f"file-{unique}", unique_id=unique, url=None)

    async def send_photo(self, unique: str = "p1", *, caption: str | None = None) -> Response:
        return await self._send(media=(self.photo(unique),), text=caption)

    async def send_album(self, count: int, *, prefix: str = "album") -> list[Response]:
        """An album arrives as one event per photo, all with one media group id."""
        group = f"group-{prefix}"
        return [
            await self._send(media=(self.photo(f"{prefix}-{n}"),), media_group_id=group)
            for n in range(1, count + 1)
        ]

    async def send_media(self, kind: MediaKind) -> Response:
        media = Media(kind, self.platform, ref=f"{kind.value}-1", unique_id=kind.value)
        return await self._send(media=(media,))

    async def send_sticker(self) -> Response:
        return await self.send_media(MediaKind.STICKER)
