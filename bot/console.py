"""A terminal REPL as a resident: the dialogue without any messenger.

Replies are printed as plain text (HTML tags stripped, entities unescaped) with their
buttons numbered: typing a number or a button's label presses that button. ``/location LAT LON`` shares a
location, ``/photo PATH`` sends a picture from disk, ``/quit``, end of input (Ctrl-D) or
Ctrl-C leaves. In a terminal a ``>`` prompt marks where to type. Input need not be a
terminal: a whole dialogue can be fed through a pipe or a StringIO.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import html
import io
import itertools
import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.sender import OutboxSender
from bot.transport import Transport
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
from handlers.workflow import Action
from storage import residents

CAPABILITIES = Capabilities(
    contact_button=False,  # a number is simply typed
    location_button=True,  # asks for "lat, lon" on the next line
    label_max=200,
    message_max=100_000,
    payload_max=255,
    inline_buttons_max=100,  # numbered one a line: any number fits, a hundred still reads
    inline_rows_max=100,
    inline_row_max=8,
)
"""A terminal shows anything; these keep the numbered list of buttons readable."""

PROMPT = "> "
_CARD = f"d:{Action.ANSWER.value}:"
"""A message with an «Ответить» button is an appeal's card: a staff text answers it."""
_STAFF = re.compile(r"[sс](?:(\d+)|\s+(.+))", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_COORDINATES = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*")


def plain(text: str) -> str:
    """Our small HTML subset as terminal text."""
    return html.unescape(_TAG.sub("", text))


def parse_location(text: str) -> Location | None:
    match = _COORDINATES.fullmatch(text)
    if match is None:
        return None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Location(latitude, longitude)


def load_photo(argument: str) -> Media | None:
    """A photo from disk: its absolute path as the ref, the SHA-1 of its bytes as its id."""
    if not argument:
        return None
    path = Path(argument).expanduser()
    if not path.is_file():
        return None
    digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()
    return Media(MediaKind.PHOTO, Platform.CONSOLE, ref=str(path.resolve()), unique_id=digest)


class _Lines:
    """Lines from a stream that is not a terminal (a pipe, a file, a StringIO)."""

    interactive = False

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    async def readline(self) -> str:
        if isinstance(self.stream, io.StringIO):
            return self.stream.readline()
        return await asyncio.to_thread(self.stream.readline)


class _TerminalLines:
    """Lines typed in a terminal, read when the loop sees them ready: no thread is left
    blocked in a read when the console ends (Ctrl-C), so the process exits at once."""

    interactive = True

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buffer = ""
        self.eof = False

    async def readline(self) -> str:
        loop = asyncio.get_running_loop()
        while "\n" not in self.buffer and not self.eof:
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_reader(self.fd, _resolve, ready)
            try:
                await ready
            finally:
                loop.remove_reader(self.fd)
            chunk = os.read(self.fd, 4096)
            self.eof = not chunk  # Ctrl-D on an empty line
            self.buffer += self.decoder.decode(chunk, final=self.eof)
        line, newline, self.buffer = self.buffer.partition("\n")
        return line + newline


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _lines(stream: TextIO) -> _Lines | _TerminalLines:
    try:
        if stream.isatty():
            return _TerminalLines(stream.fileno())
    except (AttributeError, ValueError, io.UnsupportedOperation):
        pass
    return _Lines(stream)


def _flat(keyboard: Keyboard) -> list[Button]:
    return [button for row in keyboard for button in row]


@dataclass(slots=True)
class _StaffButton:
    chat: ChatRef
    message_id: str
    button: Button


class _ConsoleTransport:
    """The outbox's way into the terminal: a resident's notices and the agency chats'
    cards and prompts are printed where the person types (``appeals console --staff``)."""

    def __init__(self, console: _Console, platform: Platform) -> None:
        self.console = console
        self.platform = platform

    async def deliver(self, chat_id: str, reply: Reply, *, idempotency_key: str | None = None) -> list[str]:
        if reply.delete_message_ids:
            return []  # the terminal cannot take back what it printed
        return [self.console.delivered(ChatRef(self.platform, chat_id), reply)]

    async def answer_callback(self, callback_id: str, text: str | None, *, alert: bool = False) -> None:
        return None


class _Console:
    def __init__(
        self, core: Core, stdin: TextIO, stdout: TextIO, person_id: str, staff: bool = False
    ) -> None:
        self.core = core
        self.t = core.ctx.texts
        self.stdin, self.stdout = stdin, stdout
        self.person = PersonRef(Platform.CONSOLE, person_id)
        self.chat = ChatRef(Platform.CONSOLE, person_id)
        self.inline: list[Button] = []
        self.keyboard: list[Button] = []
        # Message ids stay unique across restarts: the agency chats' links are stored.
        self._ids = itertools.count(time.time_ns() // 1000)
        self.lines = _lines(stdin)
        self.stopped = asyncio.Event()
        self.staff = staff
        self.staff_buttons: list[_StaffButton] = []
        self.staff_target: tuple[ChatRef, str] | None = None
        """The agency message a staff text answers: the latest prompt, else the latest card."""
        self.sender: OutboxSender | None = None
        self._at_prompt = False

    def say(self, text: str) -> None:
        if self._at_prompt:
            # Something arrived while the person was typing: on a line of its own.
            self.stdout.write("\n")
            self._at_prompt = False
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def delivered(self, chat: ChatRef, reply: Reply) -> str:
        """Print what the outbox sent to ``chat``; returns its message id."""
        message_id = reply.edit_message_id or str(next(self._ids))
        if chat == self.chat:
            self.show(Response([reply]))
        else:
            self._staff_message(chat, message_id, reply)
        if self.lines.interactive and not self._at_prompt:
            self.stdout.write(PROMPT)
            self.stdout.flush()
            self._at_prompt = True
        return message_id

    def _chat_name(self, chat: ChatRef) -> str:
        catalogue = self.core.ctx.catalogue
        agency = catalogue.agency_of_chat(chat)
        if agency is not None:
            return agency.name
        return self.t("console-admin-chat") if catalogue.is_admin_chat(chat) else str(chat)

    def _staff_message(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        key = "console-staff-edited" if reply.edit_message_id else "console-staff-chat"
        self.say(self.t(key, chat=self._chat_name(chat), id=message_id))
        if reply.photos:
            self.say(self.t("resident-console-photo", count=len(reply.photos)))
        if reply.text:
            self.say(plain(reply.text))
        buttons = _flat(reply.buttons)
        if buttons:
            self.staff_buttons = [_StaffButton(chat, message_id, b) for b in buttons]
            for number, button in enumerate(buttons, start=1):
                self.say(f"[s{number}] {plain(button.text)}")
        card = any((b.payload or "").startswith(_CARD) for b in buttons)
        if reply.force_reply or (card and not reply.edit_message_id):
            self.staff_target = (chat, message_id)
        self.say(self.t("console-resident-says"))

    async def read(self) -> str | None:
        """The next line typed; None at the end of input (Ctrl-D) or after Ctrl-C."""
        if self.lines.interactive and not self._at_prompt:
            self.stdout.write(PROMPT)
            self.stdout.flush()
            self._at_prompt = True
        try:
            return await self._read()
        finally:
            self._at_prompt = False

    async def _read(self) -> str | None:
        reading = asyncio.ensure_future(self.lines.readline())
        stopping = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reading, stopping):
                task.cancel()
        if not reading.done() or reading.cancelled():
            self.stdout.write("\n")
            return None
        line = reading.result()
        if line == "" and self.lines.interactive:
            self.stdout.write("\n")  # Ctrl-D leaves the cursor after the prompt
        return None if line == "" else line.rstrip("\r\n")

    @property
    def shown(self) -> list[Button]:
        return self.inline + self.keyboard

    async def send(self, **fields: object) -> None:
        n = next(self._ids)
        event = Event(
            chat=self.chat,
            chat_kind=ChatKind.PRIVATE,
            sender=self.person,
            sender_name=self.person.external_id,
            message_id=str(n),
            update_id=str(n),
            **fields,  # type: ignore[arg-type]
        )
        self.show(await self.core.handle(event))
        await self.drain()

    async def drain(self) -> None:
        """With the agency chats here, what the step queued is shown right after it."""
        if self.sender is not None:
            await self.sender.drain_once()

    async def send_as_staff(self, chat: ChatRef, **fields: object) -> None:
        n = str(next(self._ids))
        event = Event(
            chat=chat,
            chat_kind=ChatKind.GROUP,
            sender=PersonRef(chat.platform, "console-staff"),
            sender_name=self.t("console-staff-name"),
            message_id=n,
            update_id=n,
            **fields,  # type: ignore[arg-type]
        )
        response = await self.core.handle(event)
        if response.toast:
            self.say(f"({plain(response.toast)})")
        for reply in response.replies:
            self.delivered(chat, reply)
        await self.drain()

    async def staff_input(self, line: str) -> bool:
        """``s2`` presses the second staff button, ``s ТЕКСТ`` answers; False: not staff input."""
        match = _STAFF.fullmatch(line.strip())
        if match is None:
            return False
        number, text = match.group(1), match.group(2)
        if number:
            index = int(number) - 1
            if not 0 <= index < len(self.staff_buttons):
                self.say(self.t("console-staff-no-button", label=f"s{number}"))
                return True
            pressed = self.staff_buttons[index]
            await self.send_as_staff(
                pressed.chat,
                payload=pressed.button.payload,
                callback_id=f"console-{next(self._ids)}",
                reply_to_message_id=pressed.message_id,
            )
            return True
        if self.staff_target is None:
            self.say(self.t("console-staff-nothing-to-answer"))
            return True
        chat, message_id = self.staff_target
        await self.send_as_staff(chat, text=text, reply_to_message_id=message_id, reply_to_bot=True)
        return True

    def show(self, response: Response) -> None:
        if response.toast:
            self.say(f"({plain(response.toast)})")
        if response.replies:
            self.inline = []
        for reply in response.replies:
            if reply.remove_keyboard:
                self.keyboard = []
            if reply.keyboard:
                self.keyboard = _flat(reply.keyboard)
            if reply.photos:
                self.say(self.t("resident-console-photo", count=len(reply.photos)))
            if reply.text:
                self.say(plain(reply.text))
            if reply.location is not None:
                self.say(
                    self.t(
                        "resident-console-location",
                        latitude=str(reply.location.latitude),
                        longitude=str(reply.location.longitude),
                    )
                )
            self.inline.extend(_flat(reply.buttons))
        for number, button in enumerate(self.shown, start=1):
            self.say(f"[{number}] {plain(button.text)}")

    async def press(self, button: Button) -> bool:
        """Press a shown button; False when input ended while asking for its data."""
        if button.request is ButtonRequest.LOCATION:
            self.say(self.t("resident-console-ask-location"))
            line = await self.read()
            if line is None:
                return False
            location = parse_location(line)
            if location is None:
                # Back to the step's buttons: typing /quit or anything else works again.
                self.say(self.t("resident-console-bad-location"))
                for number, shown in enumerate(self.shown, start=1):
                    self.say(f"[{number}] {plain(shown.text)}")
                return True
            await self.send(location=location)
            return True
        if button.request is ButtonRequest.CONTACT:
            self.say(self.t("resident-console-ask-phone"))
            line = await self.read()
            if line is None:
                return False
            await self.send(contact=Contact(phone=line.strip(), owner_id=self.person.external_id))
            return True
        if button.payload is not None:
            await self.send(payload=button.payload, callback_id=f"console-{next(self._ids)}")
        else:
            await self.send(text=button.text)
        return True

    def _button(self, typed: str) -> Button | None:
        """The shown button typed by its number or its label."""
        if typed.isdigit():
            return self.shown[int(typed) - 1] if 1 <= int(typed) <= len(self.shown) else None
        wanted = typed.casefold()
        return next((b for b in self.shown if plain(b.text).strip().casefold() == wanted), None)

    async def _returning(self) -> bool:
        async with self.core.ctx.db.read() as session:
            return await residents.known(session, self.person)

    async def photo(self, argument: str) -> None:
        media = await asyncio.to_thread(load_photo, argument.strip())
        if media is None:
            self.say(self.t("resident-console-no-file", path=argument.strip()))
            return
        await self.send(media=(media,))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interrupt = self.lines.interactive and threading.current_thread() is threading.main_thread()
        if interrupt:
            # Ctrl-C ends the console like Ctrl-D: a goodbye, not a traceback.
            loop.add_signal_handler(signal.SIGINT, self.stopped.set)
        try:
            await self._talk()
        finally:
            if interrupt:
                loop.remove_signal_handler(signal.SIGINT)

    async def _talk(self) -> None:
        self.say(self.t("resident-console-hello"))
        if self.staff:
            self.say(self.t("console-staff-hello"))
            await self.drain()
        if await self._returning():
            # Back after a restart: the question the resident is at, not a blank prompt.
            self.say(self.t("console-resumed"))
            await self.send(text="/help")
        while True:
            line = await self.read()
            if line is None:
                break
            stripped = line.strip()
            if not stripped:
                continue
            head, _, rest = stripped.partition(" ")
            if head == "/quit":
                break
            if head == "/location":
                location = parse_location(rest)
                if location is None:
                    self.say(self.t("resident-console-bad-location"))
                else:
                    await self.send(location=location)
            elif head == "/photo":
                await self.photo(rest)
            elif self.staff and await self.staff_input(stripped):
                pass
            elif (button := self._button(stripped)) is not None:
                if not await self.press(button):
                    break
            else:
                await self.send(text=line)
        self.say(self.t("resident-console-bye"))


async def run_console(
    core: Core,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    person_id: str = "console",
    staff: bool = False,
) -> None:
    """Talk to the resident dialogue in a terminal (or through any text stream). With
    ``staff`` the agency chats are here too: the outbox is sent to this terminal, so the
    whole cycle (appeal, card, answer, rating) runs offline."""
    console = _Console(core, stdin, stdout, person_id, staff)
    if staff:
        transports: dict[Platform, Transport] = {
            platform: _ConsoleTransport(console, platform) for platform in Platform
        }
        console.sender = OutboxSender(core.ctx.db, transports, core.ctx)
    await console.run()
