"""Conversation-style tests on Telegram: the REAL app against the fake Bot API server.

Fixtures (available to every test module through ``tests/conftest.py``):

* ``tg`` — the fake Telegram (:class:`Telegram`), with people and chats::

      alice = tg.user(1001, "Алиса")
      await alice.send("/start")
      msg = await alice.expect_message(contains="согласие")
      await alice.click("Согласен")             # an inline button, or a reply-keyboard one
      group = tg.group(-1001000000001)
      card = await group.expect_message(contains="№")
      await group.reply(card, "Отремонтируем до пятницы", from_user=tg.user(5001, "Инспектор"))
      await group.click(card, "Взять в работу", by=tg.user(5001, "Инспектор"))

  ``tg.server`` is the :class:`tests.fake_telegram.FakeTelegram` itself (recorded calls,
  ``fail_next``, ``storm``, ``enforce_limits``).

* ``telegram_bot`` — the app from ``bot/app.py`` running in-process against ``tg``, on the
  test's database (a fresh SQLite file, or ``TEST_DATABASE_URL``), with the conftest's
  ``FrozenClock`` (``telegram_bot.clock``). Every Telegram chat of the catalogue exists in
  ``tg`` (agency and admin chats as supergroups, digest channels as channels). Options via a
  marker: ``@pytest.mark.telegram_bot(clock="system", jobs=True, catalogue=<Catalogue>, real_limits=True)``
  (``jobs`` runs the scheduler: digests, deadline checks; off by default. ``real_limits``
  paces sends like Telegram wants; by default the limiter does not pace, for speed).
  ``webhook=True`` runs Telegram in webhook mode: the fake POSTs updates to the app's
  server on a free local port, with the secret ``WEBHOOK_SECRET``.
  ``await telegram_bot.restart()`` stops the app and starts it again on the same database;
  ``await telegram_bot.settled()`` waits until every update fed so far is handled and its
  replies sent;
  ``await telegram_bot.delivered()`` also until the outbox has nothing pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from bot.app import DEFAULT_JOBS, App, open_app
from bot.config import Settings, TelegramSettings
from bot.ratelimit import TELEGRAM_LIMITS, Limits
from handlers.catalogue import Catalogue
from handlers.clock import Clock, FrozenClock, SystemClock
from handlers.events import Platform
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.fake_telegram import BOT_ID, FakeChat, FakeTelegram, FakeUser, find_inline_button, inline_labels

DEFAULT_TIMEOUT = 5.0
WEBHOOK_SECRET = "test-secret_0123456789"
FAST_LIMITS = Limits(per_second=1000)
"""Pacing off, so dialogue tests run fast; ``real_limits=True`` uses Telegram's."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "telegram_bot(clock, jobs, catalogue, real_limits, webhook): options of the telegram_bot fixture",
    )


# -- what a person sees -------------------------------------------------------------------


@dataclass(frozen=True)
class BotMessage:
    """A message from the bot as a person sees it (live: edits show through)."""

    raw: dict[str, Any]

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.raw["chat"]["id"])

    @property
    def text(self) -> str:
        """The visible text (or caption), tags gone, entities decoded."""
        return str(self.raw.get("text") or self.raw.get("caption") or "")

    @property
    def html(self) -> str:
        return str(self.raw.get("_html") or "")

    @property
    def deleted(self) -> bool:
        """The bot deleted it: nobody in the chat sees it any more."""
        return bool(self.raw.get("_deleted"))

    @property
    def buttons(self) -> list[list[str]]:
        """Labels of the inline buttons under the message, row by row."""
        return inline_labels(self.raw)

    @property
    def button_payloads(self) -> dict[str, str | None]:
        return {
            b["text"]: b.get("callback_data")
            for row in (self.raw.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        }

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of the reply keyboard this message brought up (empty if none)."""
        markup = self.raw.get("_reply_markup") or {}
        return [[b["text"] for b in row] for row in markup.get("keyboard", [])]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.raw.get("_reply_markup") or {}).get("remove_keyboard"))

    @property
    def forces_reply(self) -> bool:
        return bool((self.raw.get("_reply_markup") or {}).get("force_reply"))

    @property
    def photos(self) -> list[dict[str, Any]]:
        return list(self.raw.get("photo") or [])

    @property
    def has_photo(self) -> bool:
        return bool(self.raw.get("photo"))

    @property
    def file(self) -> tuple[str, dict[str, Any]] | None:
        """``("document", {...})`` for a message carrying a file other than a photo."""
        for kind in ("document", "video", "voice", "audio", "animation", "video_note", "sticker"):
            if isinstance(self.raw.get(kind), dict):
                return kind, self.raw[kind]
        return None

    @property
    def media_group_id(self) -> str | None:
        return self.raw.get("media_group_id")

    @property
    def location(self) -> tuple[float, float] | None:
        location = self.raw.get("location")
        return None if location is None else (location["latitude"], location["longitude"])

    @property
    def reply_to_message_id(self) -> int | None:
        replied = self.raw.get("reply_to_message")
        return None if replied is None else int(replied["message_id"])

    @property
    def edits(self) -> int:
        return int(self.raw.get("_edits", 0))

    def __repr__(self) -> str:
        extra = []
        if self.buttons:
            extra.append(f"buttons={self.buttons}")
        if self.keyboard:
            extra.append(f"keyboard={self.keyboard}")
        if self.has_photo:
            extra.append("photo")
        if self.location:
            extra.append(f"location={self.location}")
        return f"<#{self.message_id} {self.text[:200]!r} {' '.join(extra)}>"


class _ChatView:
    """What one chat shows: the bot's messages, read in order by ``expect_message``."""

    def __init__(self, tg: Telegram, chat: FakeChat) -> None:
        self.tg = tg
        self.chat = chat
        self._seen = 0

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def messages(self) -> list[BotMessage]:
        """Every message the bot sent to this chat, oldest first."""
        return [BotMessage(m) for m in self.chat.bot_messages()]

    @property
    def last_message(self) -> BotMessage:
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {self.chat.id}")
        return messages[-1]

    def unread(self) -> list[BotMessage]:
        return self.messages[self._seen :]

    def read_all(self) -> None:
        """Count everything the bot sent here so far as seen (before asserting silence)."""
        self._seen = len(self.messages)

    async def expect_message(
        self,
        contains: str | None = None,
        *,
        has_button: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        """Wait for the bot's next message here (skipping earlier ones that do not match
        ``contains`` / ``has_button``) and return it; later calls look after it."""

        def find() -> tuple[int, BotMessage] | None:
            messages = self.messages
            for index in range(self._seen, len(messages)):
                message = messages[index]
                if contains is not None and contains not in message.text:
                    continue
                if has_button is not None and not any(has_button in row for row in message.buttons):
                    continue
                return index, message
            return None

        try:
            index, message = await self.tg.server.wait_for(find, timeout)
        except TimeoutError:
            wanted = " ".join(
                part
                for part in (f"containing {contains!r}" if contains else "", f"with button {has_button!r}")
                if part and (has_button or not part.startswith("with"))
            )
            raise AssertionError(
                f"no message {wanted or ''} in chat {self.chat.id} within {timeout}s; unread: {self.unread()}"
            ) from None
        self._seen = index + 1
        return message

    async def expect_edit(
        self,
        message: BotMessage,
        contains: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        """Wait until ``message`` (edited in place) shows ``contains``."""
        try:
            await self.tg.server.wait_for(lambda: contains in message.text, timeout)
        except TimeoutError:
            raise AssertionError(f"message {message} never came to contain {contains!r}") from None
        return message

    def assert_nothing_new(self) -> None:
        """After ``telegram_bot.settled()``: the bot sent nothing here since the last expect."""
        unread = self.unread()
        assert not unread, f"unexpected messages in chat {self.chat.id}: {unread}"

    def _find_button(self, label: str) -> BotMessage | None:
        for message in reversed(self.messages):
            if find_inline_button(message.raw, label) is not None:
                return message
        return None


class Person(_ChatView):
    """A person and their private chat with the bot."""

    def __init__(self, tg: Telegram, user: FakeUser, phone: str) -> None:
        super().__init__(tg, tg.server.chats[user.id])
        self.user = user
        self.phone = phone
        self._last_query: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.first_name

    async def send(self, text: str) -> dict[str, Any]:
        return self.tg.server.send_message(self.user, text)

    async def reply(self, message: BotMessage | dict[str, Any], text: str) -> dict[str, Any]:
        return self.tg.server.send_message(self.user, text, reply_to=_message_id(message))

    async def edit(self, message: dict[str, Any], text: str) -> None:
        self.tg.server.edit_message(self.user, int(message["message_id"]), text)

    async def click(
        self,
        label: str,
        *,
        message: BotMessage | None = None,
        location: tuple[float, float] | None = None,
    ) -> None:
        """Press the button labelled ``label``: an inline button (under ``message``, or the
        latest message that has one so labelled), else a button of the reply keyboard on
        screen (a contact request shares the person's own contact; a location request needs
        ``location``). Refuses when nothing on screen is so labelled. Like a person, it
        presses the newer of the two when both an older message's inline button and the
        reply keyboard offer the label."""
        target = message or self._find_button(label)
        keyboard = self.current_keyboard()
        keyboard_at = self._keyboard_message_id()
        offered = any(button.get("text") == label for row in keyboard for button in row)
        if target is not None and (
            message is not None or not offered or keyboard_at is None or target.message_id > keyboard_at
        ):
            self._last_query = self.tg.server.press_button(self.user, self.chat.id, target.message_id, label)
            return
        for row in keyboard:
            for button in row:
                if button.get("text") != label:
                    continue
                if button.get("request_contact"):
                    await self.share_contact()
                elif button.get("request_location"):
                    if location is None:
                        raise AssertionError(f"{label!r} asks for a location: pass location=(lat, lon)")
                    await self.share_location(*location)
                else:
                    await self.send(label)
                return
        visible = [m.buttons for m in self.messages if m.buttons][-3:]
        raise AssertionError(
            f"{self.name} sees no button {label!r}: inline {visible}, keyboard "
            f"{[[b.get('text') for b in row] for row in keyboard]}"
        )

    def _keyboard_message_id(self) -> int | None:
        """The message that put the current reply keyboard on screen."""
        for message in reversed(self.chat.bot_messages()):
            markup = message.get("_reply_markup") or {}
            if "keyboard" in markup:
                return int(message["message_id"])
            if markup.get("remove_keyboard"):
                return None
        return None

    def current_keyboard(self) -> list[list[dict[str, Any]]]:
        """The reply keyboard on screen (the latest the bot sent and did not remove)."""
        for message in reversed(self.chat.bot_messages()):
            markup = message.get("_reply_markup") or {}
            if "keyboard" in markup:
                return list(markup["keyboard"])
            if markup.get("remove_keyboard"):
                return []
        return []

    async def expect_toast(self, contains: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> str:  # noqa: ASYNC109
        """Wait for the answer to the last button press; return its toast text ('' if none)."""
        query = self._last_query
        if query is None:
            raise AssertionError("no button was pressed")
        try:
            answer = await self.tg.server.wait_for(
                lambda: self.tg.server.callback_answers.get(query), timeout
            )
        except TimeoutError:
            raise AssertionError("the button press was never answered") from None
        toast = str(answer.get("text") or "")
        if contains is not None:
            assert contains in toast, f"toast {toast!r} lacks {contains!r}"
        return toast

    async def share_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        return self.tg.server.send_location(self.user, latitude, longitude)

    async def share_contact(self, phone: str | None = None, *, owner: int | None = None) -> dict[str, Any]:
        """Share own contact (default), or someone else's with ``owner=<their user id>``."""
        return self.tg.server.send_contact(self.user, phone or self.phone, owner=owner)

    async def send_photo(self, caption: str | None = None) -> dict[str, Any]:
        return self.tg.server.send_photos(self.user, 1, caption=caption)[0]

    async def send_album(self, count: int, caption: str | None = None) -> list[dict[str, Any]]:
        return self.tg.server.send_photos(self.user, count, caption=caption)

    async def send_media(self, kind: str, caption: str | None = None) -> dict[str, Any]:
        """``sticker``, ``voice``, ``video``, ``video_note``, ``audio``, ``animation``, ``document``."""
        return self.tg.server.send_media(self.user, kind, caption=caption)

    def block_bot(self, blocked: bool = True) -> None:
        self.tg.server.block_bot(self.user.id, blocked)


class Group(_ChatView):
    """A group chat (agency staff, admins) or a channel."""

    async def send(self, text: str, *, from_user: Person) -> dict[str, Any]:
        return self.tg.server.send_message(from_user.user, text, chat_id=self.chat.id)

    async def reply(
        self, message: BotMessage | dict[str, Any], text: str, *, from_user: Person
    ) -> dict[str, Any]:
        return self.tg.server.send_message(
            from_user.user, text, chat_id=self.chat.id, reply_to=_message_id(message)
        )

    async def reply_photo(
        self,
        message: BotMessage | dict[str, Any],
        *,
        from_user: Person,
        caption: str | None = None,
        count: int = 1,
    ) -> list[dict[str, Any]]:
        return self.tg.server.send_photos(
            from_user.user, count, caption=caption, chat_id=self.chat.id, reply_to=_message_id(message)
        )

    async def reply_media(
        self,
        message: BotMessage | dict[str, Any],
        kind: str,
        *,
        from_user: Person,
        caption: str | None = None,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        """A reply with a ``document``, ``video``, ``voice``, ``audio``, ``animation``,
        ``video_note`` or ``sticker`` (``data``: its bytes)."""
        return self.tg.server.send_media(
            from_user.user,
            kind,
            caption=caption,
            chat_id=self.chat.id,
            reply_to=_message_id(message),
            data=data,
        )

    async def click(self, message: BotMessage, label: str, *, by: Person) -> str:
        """``by`` presses the inline button ``label`` under ``message``; returns the query id."""
        return self.tg.server.press_button(by.user, self.chat.id, message.message_id, label)

    async def press_forged(self, message: BotMessage, data: str, *, by: Person) -> str:
        """``by`` sends a button press with ``data`` under ``message``, whatever its buttons
        carry (a forged, replayed or foreign press); returns the query id."""
        return self.tg.server.press_forged(by.user, self.chat.id, message.message_id, data)

    async def add_bot(self, *, by: Person) -> None:
        self.tg.server.add_bot_to_group(by.user, self.chat)

    def remove_bot(self, removed: bool = True) -> None:
        self.tg.server.remove_bot(self.chat.id, removed)


def _message_id(message: BotMessage | dict[str, Any]) -> int:
    return message.message_id if isinstance(message, BotMessage) else int(message["message_id"])


class Telegram:
    """The fake Telegram world a test talks through (the ``tg`` fixture)."""

    def __init__(self, server: FakeTelegram) -> None:
        self.server = server
        self._people: dict[int, Person] = {}
        self._groups: dict[int, Group] = {}

    def user(self, user_id: int, name: str = "Житель", *, phone: str | None = None) -> Person:
        person = self._people.get(user_id)
        if person is None:
            user = self.server.user(user_id, name)
            person = self._people[user_id] = Person(self, user, phone or f"+7900{user_id:07d}"[-12:])
        return person

    def group(self, chat_id: int, title: str | None = None) -> Group:
        group = self._groups.get(chat_id)
        if group is None:
            group = self._groups[chat_id] = Group(self, self.server.group(chat_id, title))
        return group

    def channel(self, chat_id: int, title: str | None = None) -> Group:
        group = self._groups.get(chat_id)
        if group is None:
            group = self._groups[chat_id] = Group(self, self.server.channel(chat_id, title))
        return group

    @property
    def calls(self) -> list[Any]:
        return self.server.calls

    async def expect_toast(
        self,
        query_id: str,
        contains: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Wait for the answer to the button press ``query_id`` (from ``Group.click`` or
        ``Group.press_forged``); return its parameters (``text``, ``show_alert``)."""
        try:
            answer: dict[str, Any] = await self.server.wait_for(
                lambda: self.server.callback_answers.get(query_id), timeout
            )
        except TimeoutError:
            raise AssertionError(f"the button press {query_id} was never answered") from None
        if contains is not None:
            toast = str(answer.get("text") or "")
            assert contains in toast, f"toast {toast!r} lacks {contains!r}"
        return answer

    def add_catalogue_chats(self, catalogue: Catalogue) -> None:
        """Create every Telegram chat the catalogue names, so the bot can post there."""
        for agency in catalogue.agencies:
            for chat in agency.chats:
                if chat.platform is Platform.TELEGRAM:
                    self.group(int(chat.chat_id), agency.name[:60])
        for chat in catalogue.admin.chats:
            if chat.platform is Platform.TELEGRAM:
                self.group(int(chat.chat_id), "Администраторы")
        for chat in catalogue.digest.channels:
            if chat.platform is Platform.TELEGRAM:
                self.channel(int(chat.chat_id), "Дайджест")


# -- the running bot ------------------------------------------------------------------------


class TelegramBot:
    """The real app, in-process, talking to the fake server (the ``telegram_bot`` fixture)."""

    def __init__(
        self,
        tg: Telegram,
        database_url: str,
        catalogue: Catalogue,
        clock: Clock,
        *,
        jobs: bool = False,
        poll_timeout: int = 10,
        real_limits: bool = False,
        webhook: bool = False,
    ) -> None:
        self.tg = tg
        self.clock = clock
        self.catalogue = catalogue
        telegram = TelegramSettings(
            bot_token=SecretStr(tg.server.token), api_base=tg.server.base_url, poll_timeout=poll_timeout
        )
        if webhook:
            port = free_port()
            telegram = telegram.model_copy(
                update={
                    "mode": "webhook",
                    "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
                    "webhook_secret": SecretStr(WEBHOOK_SECRET),
                    "webhook_port": port,
                }
            )
        self.settings = Settings(database_url=database_url, log_format="console", telegram=telegram)
        self.jobs = jobs
        self.limits = TELEGRAM_LIMITS if real_limits else FAST_LIMITS
        self.app: App | None = None
        self._stack: contextlib.AsyncExitStack | None = None

    async def start(self) -> App:
        if self.app is not None:
            raise RuntimeError("the bot is already running")
        stack = contextlib.AsyncExitStack()
        opened = open_app(
            self.settings,
            clock=self.clock,
            catalogue=self.catalogue,
            setup_logging=False,
            jobs=DEFAULT_JOBS if self.jobs else None,
            telegram_limits=self.limits,
        )
        self.app = await stack.enter_async_context(opened)
        self._stack = stack
        return self.app

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack, self.app = self._stack, None, None
            await stack.aclose()

    async def restart(self) -> App:
        await self.stop()
        return await self.start()

    async def settled(self, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until every update fed so far is acknowledged and handled, and every message
        due now is sent (the replies included: they go through the outbox). Messages waiting
        for a retry later (by the app's clock) may still be pending."""
        if self.app is None or self.app.telegram is None:
            raise RuntimeError("the bot is not running")
        await self.tg.server.wait_confirmed(timeout)
        await asyncio.wait_for(self.app.telegram.settled(), timeout)
        await self._outbox_drained(timeout, due_only=True)

    async def delivered(self, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until every update fed so far is handled and the outbox holds nothing
        pending: every queued message sent (its links and reports recorded) or failed."""
        await self.settled(timeout)
        await self._outbox_drained(timeout, due_only=False)

    async def _outbox_drained(self, timeout: float, *, due_only: bool) -> None:  # noqa: ASYNC109
        if self.app is None:
            raise RuntimeError("the bot is not running")
        await outbox_drained(self.app.ctx.db, self.clock if due_only else None, timeout)


async def outbox_drained(
    db: Database,
    clock: Clock | None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    *,
    platforms: Collection[str] | None = None,
) -> None:
    """Wait until the outbox has no pending message (one the sender may send now by
    ``clock``, when given; to
    ``platforms``, when given: rows for a platform nobody sends to stay pending)."""

    async def drained() -> None:
        while True:
            query = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING.value)
            )
            if clock is not None:
                # Due, and not held back by an earlier message to its chat that waits for a
                # retry later (chats get their messages in order).
                earlier = aliased(OutboxMessage)
                query = query.where(
                    OutboxMessage.next_attempt_at <= clock.now(),
                    ~exists().where(
                        earlier.platform == OutboxMessage.platform,
                        earlier.chat_id == OutboxMessage.chat_id,
                        earlier.id < OutboxMessage.id,
                        earlier.status == OutboxStatus.PENDING.value,
                        earlier.next_attempt_at > clock.now(),
                    ),
                )
            if platforms is not None:
                query = query.where(OutboxMessage.platform.in_(list(platforms)))
            async with db.read() as session:
                pending = await session.scalar(query)
            if not pending:
                return
            await asyncio.sleep(0.02)  # the sender commits without telling us: look again

    try:
        await asyncio.wait_for(drained(), timeout)
    except TimeoutError:
        raise AssertionError(f"the outbox still has pending messages after {timeout}s") from None


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[Telegram]:
    server = FakeTelegram(f"{BOT_ID}:TEST-token")
    await server.start()
    try:
        yield Telegram(server)
    finally:
        await server.stop()


@pytest.fixture
async def telegram_bot(
    request: pytest.FixtureRequest,
    tg: Telegram,
    database_url: str,
    catalogue: Catalogue,
    clock: FrozenClock,
) -> AsyncIterator[TelegramBot]:
    marker = request.node.get_closest_marker("telegram_bot")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    chosen_catalogue: Catalogue = options.get("catalogue") or catalogue
    chosen_clock: Clock = SystemClock() if options.get("clock") == "system" else clock
    tg.add_catalogue_chats(chosen_catalogue)
    harness = TelegramBot(
        tg,
        database_url,
        chosen_catalogue,
        chosen_clock,
        jobs=bool(options.get("jobs")),
        real_limits=bool(options.get("real_limits")),
        webhook=bool(options.get("webhook")),
    )
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
