"""A terminal REPL as a resident: the dialogue without any messenger.

Replies are printed as plain text (HTML tags stripped, entities unescaped) with their
buttons numbered: typing a number presses that button. ``/location LAT LON`` shares a
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
from pathlib import Path
from typing import TextIO

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
    Response,
)

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


class _Console:
    def __init__(self, core: Core, stdin: TextIO, stdout: TextIO, person_id: str) -> None:
        self.core = core
        self.t = core.ctx.texts
        self.stdin, self.stdout = stdin, stdout
        self.person = PersonRef(Platform.CONSOLE, person_id)
        self.chat = ChatRef(Platform.CONSOLE, person_id)
        self.inline: list[Button] = []
        self.keyboard: list[Button] = []
        self._ids = itertools.count(1)
        self.lines = _lines(stdin)
        self.stopped = asyncio.Event()

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def read(self) -> str | None:
        """The next line typed; None at the end of input (Ctrl-D) or after Ctrl-C."""
        if self.lines.interactive:
            self.stdout.write(PROMPT)
            self.stdout.flush()
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
            elif stripped.isdigit() and 1 <= int(stripped) <= len(self.shown):
                if not await self.press(self.shown[int(stripped) - 1]):
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
) -> None:
    """Talk to the resident dialogue in a terminal (or through any text stream)."""
    await _Console(core, stdin, stdout, person_id).run()
