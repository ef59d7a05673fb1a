"""A strict fake Telegram Bot API server the real bot talks to in tests.

It listens on 127.0.0.1 (a free port) and answers ``/bot<token>/<method>`` and
``/file/bot<token>/<path>`` the way api.telegram.org does: form data in (urlencoded, or
multipart with ``attach://`` files, JSON-encoded fields such as ``reply_markup``), and
``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": ..., "description": ...}``
out. It is strict where Telegram is: HTML must use Telegram's tags, nested and closed, with
``&`` escaped; every documented limit (text 1..4096 characters after entity parsing, a
caption at most 1024, ``callback_data`` 1..64 bytes, an album 2..10 items, a toast 200
characters, downloads up to 20 MB, photo uploads up to 10 MB, commands and placeholders)
is kept, each with its source beside it (the constants below); unknown chats, blocked
users and groups the bot was removed from fail as they do for real. Telegram publishes no
limit on the number of buttons, so none is enforced here.

It also plays the other side: people and chats (:meth:`FakeTelegram.user`,
:meth:`FakeTelegram.group`), and what they do (``send_message``, ``press_button``, ...), each
becoming an update the bot receives through ``getUpdates``. Every API call is recorded
(:attr:`FakeTelegram.calls`) and each chat keeps its history, so tests assert on what a
person sees. Faults: :meth:`FakeTelegram.fail_next`, :meth:`FakeTelegram.storm`, and an
optional enforcer of Telegram's sending limits (:meth:`FakeTelegram.enforce_limits`).

Webhook mode: once the bot calls ``setWebhook``, updates are POSTed to its URL as JSON with
the ``X-Telegram-Bot-Api-Secret-Token`` header, like Telegram does: concurrently across
chats, one at a time within a chat, an update redelivered (same ``update_id``) until it is
answered 200. :meth:`FakeTelegram.balance` spreads deliveries round-robin over several URLs
(a test's load balancer); :meth:`FakeTelegram.redeliver_next` delivers updates twice;
:attr:`FakeTelegram.webhook_posts` records every delivery attempt.

The conversation-style client and the pytest fixtures live in ``tests/support/telegram.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import aiohttp
from aiohttp import web

from bot.telegram.render import telegram_length

BOT_ID = 777000111
BOT_USERNAME = "appeals_test_bot"

SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendMediaGroup",
        "sendLocation",
        "sendDocument",
        "sendVideo",
        "sendVoice",
        "sendAudio",
        "sendAnimation",
        "sendVideoNote",
        "sendSticker",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
"""Methods that put something in a chat (counted by the limits enforcer, hit by storms)."""

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "media",
        "commands",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
        "scope",
    }
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_FILE_EXTRA: dict[str, dict[str, Any]] = {
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    "voice": {"duration": 3},
    "video": {"duration": 3, "width": 640, "height": 480},
    "video_note": {"duration": 3, "length": 240},
    "audio": {"duration": 3},
    "animation": {"duration": 3, "width": 320, "height": 240},
    "document": {"file_name": "file.pdf"},
}
"""The fields the Bot API's objects require besides the file ids (Bot API, "Available types")."""
_FILE_FIELDS = frozenset(
    {"photo", "document", "video", "voice", "audio", "animation", "video_note", "sticker"}
)

# Telegram's documented limits (core.telegram.org/bots/api), each where it is enforced:
TEXT_LIMIT = 4096
"""sendMessage, editMessageText: "text ... 1-4096 characters after entities parsing"."""
CAPTION_LIMIT = 1024
"""sendPhoto, InputMediaPhoto: "caption ... 0-1024 characters after entities parsing"."""
DELETE_WINDOW = 48 * 3600
"""deleteMessage (core.telegram.org/bots/api#deletemessage): "A message can only be deleted
if it was sent less than 48 hours ago"; "Bots can delete outgoing messages in private chats,
groups, and supergroups"; "Bots can delete incoming messages in private chats" (others'
messages in groups only as an administrator, which the fake bot never is)."""
ALBUM_MIN, ALBUM_MAX = 2, 10
"""sendMediaGroup: "media ... must include 2-10 items"."""
CALLBACK_DATA_BYTES = 64
"""InlineKeyboardButton: "callback_data ... 1-64 bytes"."""
TOAST_LIMIT = 200
"""answerCallbackQuery: "text ... 0-200 characters"."""
DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""getFile: "bots can download files of up to 20MB in size"."""
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
"""sendPhoto: "The photo must be at most 10 MB in size"."""
PLACEHOLDER_LIMIT = 64
"""ReplyKeyboardMarkup, ForceReply: "input_field_placeholder ... 1-64 characters"."""
COMMAND_LIMIT, COMMAND_DESCRIPTION_LIMIT = 32, 256
"""BotCommand: "command ... 1-32 characters. Can contain only lowercase English letters,
digits and underscores"; "description ... 1-256 characters"."""
_COMMAND = re.compile(rf"[a-z0-9_]{{1,{COMMAND_LIMIT}}}")

# -- Telegram's HTML -----------------------------------------------------------------

_ALLOWED_TAGS = {
    "b": (),
    "strong": (),
    "i": (),
    "em": (),
    "u": (),
    "ins": (),
    "s": (),
    "strike": (),
    "del": (),
    "span": ("class",),
    "tg-spoiler": (),
    "a": ("href",),
    "code": ("class",),
    "pre": (),
    "blockquote": ("expandable",),
    "tg-emoji": ("emoji-id",),
}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


class EntityError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's own wording."""


def parse_html(text: str) -> str:
    """Validate Telegram-flavoured HTML and return the plain text a person sees."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise EntityError(f"Unsupported start tag at byte offset {len(text[:i].encode())}")
            closing, name, attrs, _self_closing = match.groups()
            name = name.lower()
            if name not in _ALLOWED_TAGS:
                raise EntityError(f'Unsupported start tag "{name}" at byte offset {len(text[:i].encode())}')
            if closing:
                if not stack or stack[-1] != name:
                    raise EntityError(
                        f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
                        if stack
                        else f"Unmatched end tag at byte offset {len(text[:i].encode())}"
                    )
                stack.pop()
            else:
                if name == "a" and not any(a.group(1).lower() == "href" for a in _ATTR.finditer(attrs)):
                    raise EntityError('Can\'t find "href" attribute of the "a" tag')
                stack.append(name)
            i = match.end()
            continue
        if char == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                raise EntityError(
                    f'Character entity expected at byte offset {len(text[:i].encode())}; use "&amp;"'
                )
            out.append(unescape(match.group(0)))
            i = match.end()
            continue
        if char == ">":
            out.append(char)  # Telegram tolerates a bare '>'
            i += 1
            continue
        out.append(char)
        i += 1
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


# -- the people, chats and messages ----------------------------------------------------


@dataclass
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    blocked_bot: bool = False
    """The person blocked the bot: sending to their private chat answers 403."""

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = "ru"
        return data


@dataclass
class FakeChat:
    id: int
    type: str
    """``private``, ``group``, ``supergroup`` or ``channel``."""
    title: str | None = None
    user: FakeUser | None = None
    bot_removed: bool = False
    """The bot was kicked from this group: sending answers 403."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Every message in the chat, the bot's and people's, in Bot API shape (edits applied)."""

    def as_api(self) -> dict[str, Any]:
        if self.type == "private" and self.user is not None:
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title or f"Chat {self.id}"}

    def message(self, message_id: int) -> dict[str, Any] | None:
        for message in self.history:
            if message["message_id"] == message_id and not message.get("_deleted"):
                return message
        return None

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.history if m.get("from", {}).get("id") == BOT_ID]


@dataclass(frozen=True)
class Call:
    """One API call the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    """``time.monotonic()`` when the call arrived."""
    chat_id: int | None
    status: int = 200
    description: str | None = None


@dataclass
class Fault:
    kind: str
    method: str | None
    retry_after: int


@dataclass
class Storm:
    p429: float = 0.0
    p500: float = 0.0
    p502html: float = 0.0
    pdrop: float = 0.0
    retry_after: int = 1
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class LimitStats:
    calls: int = 0
    """Sending calls seen while the enforcer was on."""
    rate_limited: int = 0
    """429 answers the enforcer sent."""


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class _Dropped(Exception):
    """Close the connection without an answer."""


_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
    "c0f01f0005000201e2b7b9a20000000049454e44ae426082"
)


class FakeTelegram:
    """The fake server. ``async with FakeTelegram() as tg:`` or ``await tg.start()``/``stop()``."""

    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        """file_id → (file_unique_id, bytes)."""
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.deleted: list[tuple[int, int]] = []
        """(chat id, message id) of every message deleted, in order."""
        """callback_query id → the answerCallbackQuery params (toast text, show_alert)."""
        self.commands: list[dict[str, Any]] = []
        self.refuse: Callable[[str, dict[str, Any]], str | None] | None = None
        """A rule Telegram might add one day: (method, params) → the description of a
        400 Bad Request to refuse the call with (None: accept)."""
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_allowed: list[str] | None = None
        self.webhook_posts: list[WebhookPost] = []
        """Every webhook delivery attempt, in the order they were answered."""
        self.webhook_retry_delay = 0.05
        self.webhook_max_connections = 40
        self._targets: list[str] = []
        self._next_target = 0
        self._redeliver = 0
        self._in_flight: set[int] = set()
        self._delivered: set[int] = set()
        self._delivery_wake = asyncio.Event()
        self._deliverer: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self.limit_stats = LimitStats()
        self._updates: list[dict[str, Any]] = []
        self._confirmed = 0
        """Updates with ids up to this were confirmed by an offset and are gone."""
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._media_groups = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._unrequested: set[int] = set()
        self._faults: deque[Fault] = deque()
        self._delays: list[tuple[str, int | None, float]] = []
        self._storm: Storm | None = None
        self._limits_on = False
        self._limit_tolerance = 0.05
        self._sent_at: dict[int, deque[float]] = {}
        self._sent_all: deque[float] = deque()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port: int | None = None
        self._closing = False
        self._background: set[asyncio.Task[None]] = set()
        self.on_call: list[Callable[[Call], None]] = []
        """Callbacks run for every recorded call (handy for custom assertions)."""

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the fake Telegram server is not started")
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        await self._stop_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- people and chats ---------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Житель", **kwargs: Any) -> FakeUser:
        """A person with a private chat with the bot (created once, then returned)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = FakeUser(user_id, first_name, **kwargs)
            self.chats[user_id] = FakeChat(user_id, "private", user=user)
        return user

    def group(self, chat_id: int, title: str | None = None, *, type: str = "supergroup") -> FakeChat:
        """A group chat the bot is a member of (negative id; ``type`` group or supergroup)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = FakeChat(chat_id, type, title=title or f"Группа {chat_id}")
        return chat

    def channel(self, chat_id: int, title: str | None = None) -> FakeChat:
        return self.group(chat_id, title or f"Канал {chat_id}", type="channel")

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        self.users[user_id].blocked_bot = blocked

    def remove_bot(self, chat_id: int, removed: bool = True) -> None:
        self.chats[chat_id].bot_removed = removed

    # -- what people do: each becomes an update -----------------------------------------

    def _new_message(self, chat: FakeChat, sender: FakeUser, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat.id),
            "date": int(time.time()),
            "chat": chat.as_api(),
            "from": sender.as_api(),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        chat.history.append(message)
        return message

    def _chat_for(self, sender: FakeUser, chat_id: int | None) -> FakeChat:
        return self.chats[sender.id if chat_id is None else chat_id]

    def send_message(
        self,
        sender: FakeUser,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        forwarded_from: FakeUser | None = None,
    ) -> dict[str, Any]:
        """``sender`` writes ``text`` (a command when it starts with ``/``) in their private
        chat, or in ``chat_id``; ``reply_to`` is the id of a message in that chat;
        ``forwarded_from``: the text is someone else's message, forwarded (its entities kept)."""
        chat = self._chat_for(sender, chat_id)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            content["reply_to_message"] = self._replied(chat, reply_to)
        if forwarded_from is not None:
            origin = {"type": "user", "date": int(time.time()) - 3600, "sender_user": forwarded_from.as_api()}
            content["forward_origin"] = origin
        message = self._new_message(chat, sender, **content)
        self._push({"message": message})
        return message

    def _replied(self, chat: FakeChat, message_id: int) -> dict[str, Any]:
        original = chat.message(message_id)
        if original is None:
            raise AssertionError(f"no message {message_id} in chat {chat.id} to reply to")
        return {k: v for k, v in original.items() if k != "reply_to_message"}

    def edit_message(
        self, sender: FakeUser, message_id: int, text: str, *, chat_id: int | None = None
    ) -> None:
        chat = self._chat_for(sender, chat_id)
        message = chat.message(message_id)
        if message is None or message.get("from", {}).get("id") != sender.id:
            raise AssertionError(f"{sender.first_name} has no message {message_id} to edit")
        message["text"] = text
        message["edit_date"] = int(time.time())
        self._push({"edited_message": dict(message)})

    def send_location(
        self, sender: FakeUser, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        chat = self._chat_for(sender, chat_id)
        message = self._new_message(chat, sender, location={"latitude": latitude, "longitude": longitude})
        self._push({"message": message})
        return message

    def send_contact(
        self,
        sender: FakeUser,
        phone: str,
        *,
        owner: int | None = None,
        first_name: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Share a contact: ``owner`` is whose it is (the sender's own by default; another
        user id for someone else's; 0 for a contact that is no Telegram user)."""
        chat = self._chat_for(sender, chat_id)
        owner_id = sender.id if owner is None else owner
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name or sender.first_name}
        if owner_id:
            contact["user_id"] = owner_id
        message = self._new_message(chat, sender, contact=contact)
        self._push({"message": message})
        return message

    def _photo_sizes(self, data: bytes | None = None) -> list[dict[str, Any]]:
        sizes = []
        for width in (90, 320, 1280):
            file_id, unique = self._store_file(data or _PNG, prefix="photo")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": width,
                    "height": width * 3 // 4,
                    "file_size": len(data or _PNG),
                }
            )
        return sizes

    def send_photos(
        self,
        sender: FakeUser,
        count: int = 1,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> list[dict[str, Any]]:
        """One photo, or an album of ``count`` (2..10) sharing a ``media_group_id``; the
        caption goes on the first, as Telegram clients do."""
        if not 1 <= count <= 10:
            raise ValueError("an album holds 1..10 photos")
        chat = self._chat_for(sender, chat_id)
        group_id = f"mg{next(self._media_groups)}" if count > 1 else None
        messages = []
        for index in range(count):
            content: dict[str, Any] = {"photo": self._photo_sizes(), "media_group_id": group_id}
            if index == 0 and caption:
                content["caption"] = caption
            if index == 0 and reply_to is not None:
                content["reply_to_message"] = self._replied(chat, reply_to)
            message = self._new_message(chat, sender, **content)
            self._push({"message": message})
            messages.append(message)
        return messages

    def send_media(
        self,
        sender: FakeUser,
        kind: str,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        """A sticker, voice, video, video_note, audio, animation or document."""
        chat = self._chat_for(sender, chat_id)
        file_id, unique = self._store_file(data or b"\x00media:" + kind.encode(), prefix=kind)
        base: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique}
        extra = _FILE_EXTRA
        if kind not in extra:
            raise ValueError(f"unknown media kind {kind!r}")
        content: dict[str, Any] = {kind: base | extra[kind]}
        if reply_to is not None:
            content["reply_to_message"] = self._replied(chat, reply_to)
        message = self._new_message(chat, sender, caption=caption, **content)
        self._push({"message": message})
        return message

    def press_button(self, sender: FakeUser, chat_id: int, message_id: int, text: str) -> str:
        """Press the inline button labelled ``text`` under the bot's message; refuses when
        the message has no such button. Returns the callback query id."""
        chat = self.chats[chat_id]
        message = chat.message(message_id)
        if message is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        button = find_inline_button(message, text)
        if button is None:
            labels = inline_labels(message)
            raise AssertionError(f"message {message_id} has no button {text!r}; it has {labels}")
        if "callback_data" not in button:
            raise AssertionError(f"button {text!r} is a link ({button.get('url')}), not a callback")
        query_id = f"cb{next(self._callback_ids)}"
        self._open_callbacks.add(query_id)
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender.as_api(),
                    "message": message,
                    "chat_instance": f"ci{chat_id}",
                    "data": button["callback_data"],
                }
            }
        )
        return query_id

    def press_forged(self, sender: FakeUser, chat_id: int, message_id: int, data: str) -> str:
        """A callback query with ``data`` that no button under the message need carry: what
        a modified client can send, or a press replayed against another message. The message
        must exist in ``chat_id``. Returns the callback query id."""
        message = self.chats[chat_id].message(message_id)
        if message is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        query_id = f"cb{next(self._callback_ids)}"
        self._open_callbacks.add(query_id)
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender.as_api(),
                    "message": message,
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    def add_bot_to_group(self, by: FakeUser, chat: FakeChat) -> None:
        """A ``my_chat_member`` update: ``by`` added the bot to ``chat``."""
        chat.bot_removed = False
        self._push(
            {
                "my_chat_member": {
                    "chat": chat.as_api(),
                    "from": by.as_api(),
                    "date": int(time.time()),
                    "old_chat_member": {"status": "left", "user": self.bot_user()},
                    "new_chat_member": {"status": "member", "user": self.bot_user()},
                }
            }
        )

    def feed(self, update: dict[str, Any], *, unrequested: bool = False) -> int:
        """Queue a raw update (an ``update_id`` is assigned) and return its id. A callback
        query in it can be answered once, like one a person made.

        ``unrequested``: deliver it even when its kind is not in the bot's
        ``allowed_updates``. Telegram does that for updates created before the call that
        set the list: "this parameter doesn't affect updates created before the call to
        getUpdates, so unwanted updates may be received for a short period of time"
        (https://core.telegram.org/bots/api#getupdates)."""
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            self._open_callbacks.add(query["id"])
        update_id = self._push(dict(update))
        if unrequested:
            self._unrequested.add(update_id)
        return update_id

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = copy.deepcopy(update)  # what was sent then, not what later edits make of it
        update["update_id"] = update_id
        self._updates.append(update)
        self._schedule_notify()
        self._delivery_wake.set()
        return update_id

    def drop_pending(self) -> None:
        """Forget every update not yet confirmed, as Telegram does after 24 hours
        ("incoming updates are stored on the server until the bot receives them ... but
        they will not be kept longer than 24 hours", https://core.telegram.org/bots/api#getting-updates)."""
        if self._updates:
            self._confirmed = max(self._confirmed, self._updates[-1]["update_id"])
        self._updates = []
        self._schedule_notify()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot's offset."""
        return [u for u in self._updates if u["update_id"] > self._confirmed]

    # -- faults -------------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, method: str | None = None, kind: str = "429", retry_after: int = 1
    ) -> None:
        """The next ``n`` calls (of ``method``, or of any method but getUpdates) fail.

        ``kind``: ``"429"`` (Too Many Requests with ``retry_after``), ``"500"`` (JSON error),
        ``"502html"`` (an nginx page, not JSON), ``"drop"`` (connection closed before the call
        is processed) or ``"drop_after"`` (processed — the message IS delivered — then the
        connection is closed, so the bot cannot know)."""
        if kind not in {"429", "500", "502html", "drop", "drop_after"}:
            raise ValueError(f"unknown fault kind {kind!r}")
        for _ in range(n):
            self._faults.append(Fault(kind, method, retry_after))

    def delay_next(self, method: str, seconds: float, *, chat_id: int | None = None) -> None:
        """The next call of ``method`` (to ``chat_id``, if given) takes effect at once — the
        message is visible in the chat — but is answered only ``seconds`` later (a slow
        network or a busy bot: its record of the message comes late)."""
        self._delays.append((method, chat_id, seconds))

    def storm(
        self,
        *,
        p429: float = 0.0,
        p500: float = 0.0,
        p502html: float = 0.0,
        pdrop: float = 0.0,
        retry_after: int = 1,
        seed: int | None = 0,
    ) -> None:
        """Random faults on sending methods until :meth:`calm`."""
        self._storm = Storm(p429, p500, p502html, pdrop, retry_after, random.Random(seed))

    def calm(self) -> None:
        self._storm = None
        self._faults.clear()

    def enforce_limits(self, on: bool = True, *, tolerance: float = 0.05) -> None:
        """Answer 429 like Telegram when the bot sends too fast: 20 a minute in one group,
        about one a second in one private chat (bursts of 5 tolerated), 30 a second overall.
        ``tolerance`` (seconds) absorbs network jitter at window edges."""
        self._limits_on = on
        self._limit_tolerance = tolerance

    # -- what the bot did ----------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Обращения", "username": BOT_USERNAME}

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy (re-checked whenever anything changes)."""

        async def _wait() -> Any:
            async with self._changed:
                while True:
                    result = predicate()
                    if result:
                        return result
                    await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)

    async def wait_confirmed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed (by its offset) every update queued so far."""
        last = self._updates[-1]["update_id"] if self._updates else 0
        await self.wait_for(lambda: self._confirmed >= last, timeout)

    # -- internals -------------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _store_file(self, data: bytes, prefix: str = "file") -> tuple[str, str]:
        number = next(self._file_ids)
        file_id = f"{prefix}-{number}-AgACAgIAAxkBAAI"
        unique = f"uq{prefix}{number}"
        self.files[file_id] = (unique, data)
        return file_id, unique

    def _schedule_notify(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._notify())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        file_id = request.match_info["path"].split("/", 1)[-1]
        stored = self.files.get(file_id)
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored[1], content_type="application/octet-stream")

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params, uploads = await _read_params(request)
        chat_id = params.get("chat_id")
        call_chat = chat_id if isinstance(chat_id, int) else None
        fault = self._take_fault(method)
        status, description = 200, None
        try:
            if fault is not None and fault.kind == "drop":
                raise _Dropped
            if fault is not None and fault.kind != "drop_after":
                raise _fault_error(fault)
            if self._limits_on and method in SENDING_METHODS and call_chat is not None:
                self._check_limits(call_chat)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            refusal = self.refuse(method, params) if self.refuse is not None else None
            if refusal is not None:
                raise ApiError(400, refusal)
            result = await handler(params, uploads)
            for delay in self._delays:
                if delay[0] == method and delay[1] in (None, call_chat):
                    self._delays.remove(delay)
                    await self._notify()  # people see the message now
                    await asyncio.sleep(delay[2])
                    break
            if fault is not None and fault.kind == "drop_after":
                raise _Dropped
            return web.json_response({"ok": True, "result": result})
        except _Dropped:
            status, description = 0, "dropped"
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        except ApiError as error:
            status, description = error.code, error.description
            if error.code == 502 and error.description == "html":
                return web.Response(
                    status=502,
                    text="<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                    content_type="text/html",
                )
            body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.code)
        finally:
            call = Call(method, params, time.monotonic(), call_chat, status, description)
            self.calls.append(call)
            for callback in self.on_call:
                callback(call)
            if method != "getUpdates":
                await self._notify()

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method or (fault.method is None and method != "getUpdates"):
                self._faults.remove(fault)
                return fault
        storm = self._storm
        if storm is None or method not in SENDING_METHODS:
            return None
        roll = storm.rng.random()
        for kind, p in (
            ("429", storm.p429),
            ("500", storm.p500),
            ("502html", storm.p502html),
            ("drop", storm.pdrop),
        ):
            if roll < p:
                return Fault(kind, method, storm.retry_after)
            roll -= p
        return None

    def _check_limits(self, chat_id: int) -> None:
        now = time.monotonic()
        slack = self._limit_tolerance
        self.limit_stats.calls += 1
        sent = self._sent_at.setdefault(chat_id, deque())
        window = 60.0 if chat_id < 0 else 5.0
        allowed = 20 if chat_id < 0 else 5 + 4  # private: 1/s sustained, burst tolerated
        while sent and sent[0] <= now - window + slack:
            sent.popleft()
        while self._sent_all and self._sent_all[0] <= now - 1.0 + slack:
            self._sent_all.popleft()
        retry: float | None = None
        if len(sent) >= allowed:
            retry = sent[0] + window - now
        elif len(self._sent_all) >= 30:
            retry = self._sent_all[0] + 1.0 - now
        if retry is not None:
            self.limit_stats.rate_limited += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {math.ceil(retry)}",
                retry_after=max(1, math.ceil(retry)),
            )
        sent.append(now)
        self._sent_all.append(now)

    def _target(self, params: dict[str, Any]) -> FakeChat:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            raise ApiError(400, "Bad Request: chat not found")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.type == "private" and chat.user is not None and chat.user.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.bot_removed:
            kind = "group chat" if chat.type == "group" else f"{chat.type} chat"
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        return chat

    def _bot_message(self, chat: FakeChat, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat.id),
            "date": int(time.time()),
            "chat": chat.as_api(),
        }
        if chat.type != "channel":
            message["from"] = self.bot_user()
        else:
            message["sender_chat"] = chat.as_api()
            message["from"] = self.bot_user()
        message.update({k: v for k, v in content.items() if v is not None})
        markup = params.get("reply_markup")
        if markup is not None:
            _check_markup(markup)
            message["_reply_markup"] = markup
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
        reply_to = _reply_to(params)
        if reply_to is not None:
            original = chat.message(reply_to)
            if original is None:
                raise ApiError(400, "Bad Request: message to be replied not found")
            message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        chat.history.append(message)
        return message

    # -- the methods -----------------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return self.bot_user() | {"can_join_groups": True, "can_read_all_group_messages": False}

    async def _m_deleteWebhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        self.webhook_url = None
        await self._stop_delivery()
        if params.get("drop_pending_updates"):
            self._confirmed = self._updates[-1]["update_id"] if self._updates else 0
        return True

    async def _m_setWebhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            raise ApiError(400, "Bad Request: bad webhook: an HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = None if secret is None else str(secret)
        allowed = params.get("allowed_updates")
        self.webhook_allowed = list(allowed) if allowed else None
        if params.get("drop_pending_updates"):
            self._confirmed = self._updates[-1]["update_id"] if self._updates else 0
        if self._deliverer is None:
            self._deliverer = asyncio.create_task(self._deliver_loop(), name="fake-telegram-webhook")
        self._delivery_wake.set()
        return True

    # -- webhook delivery ----------------------------------------------------------------

    def balance(self, targets: list[str]) -> None:
        """Deliver webhook updates round-robin to ``targets`` instead of the URL the bot set
        (the load balancer in front of several workers)."""
        self._targets = list(targets)
        self._next_target = 0

    def redeliver_next(self, n: int = 1) -> None:
        """The next ``n`` updates are delivered again after they were answered 200 (as when
        Telegram did not get the answer)."""
        self._redeliver += n

    def _target_url(self) -> str:
        if self._targets:
            url = self._targets[self._next_target % len(self._targets)]
            self._next_target += 1
            return url
        assert self.webhook_url is not None
        return self.webhook_url

    def _allowed(self, update: dict[str, Any]) -> bool:
        return not self.webhook_allowed or any(k in update for k in self.webhook_allowed)

    async def _deliver_loop(self) -> None:
        self._http = aiohttp.ClientSession()
        try:
            while self.webhook_url and not self._closing:
                self._delivery_wake.clear()
                busy_chats: set[int] = set()
                for update in self._updates:
                    uid = update["update_id"]
                    if uid <= self._confirmed or uid in self._delivered:
                        continue
                    if not self._allowed(update):
                        self._delivered.add(uid)
                        continue
                    chat = _update_chat(update)
                    if chat in busy_chats:
                        continue
                    busy_chats.add(chat)
                    if uid in self._in_flight or len(self._in_flight) >= self.webhook_max_connections:
                        continue
                    self._in_flight.add(uid)
                    task = asyncio.create_task(self._deliver(update))
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
                self._advance_confirmed()
                await self._delivery_wake.wait()
        finally:
            await self._http.close()
            self._http = None

    async def _deliver(self, update: dict[str, Any]) -> None:
        uid = update["update_id"]
        headers = {}
        if self.webhook_secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        times = 1
        while self._http is not None and self.webhook_url and not self._closing:
            target = self._target_url()
            try:
                async with self._http.post(target, json=update, headers=headers) as response:
                    status = response.status
            except (aiohttp.ClientError, OSError):
                status = 0
            self.webhook_posts.append(WebhookPost(uid, target, status))
            if status == 200:
                if self._redeliver > 0 and times == 1:
                    self._redeliver -= 1
                    times += 1
                    continue
                self._delivered.add(uid)
                break
            await asyncio.sleep(self.webhook_retry_delay)
        self._in_flight.discard(uid)
        self._delivery_wake.set()
        await self._notify()

    def _advance_confirmed(self) -> None:
        before = self._confirmed
        for update in self._updates:
            uid = update["update_id"]
            if uid <= self._confirmed:
                continue
            if uid not in self._delivered:
                break
            self._confirmed = uid
        if self._confirmed != before:
            self._schedule_notify()

    async def _stop_delivery(self) -> None:
        task, self._deliverer = self._deliverer, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _m_setMyCommands(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name, description = str(command.get("command", "")), str(command.get("description", ""))
            if not _COMMAND.fullmatch(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= COMMAND_DESCRIPTION_LIMIT:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(commands)
        return True

    async def _m_getUpdates(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._confirmed = max(self._confirmed, offset - 1)
            self._updates = [u for u in self._updates if u["update_id"] > self._confirmed]
            await self._notify()
        limit = params.get("limit") or 100
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")

        def ready() -> list[dict[str, Any]]:
            batch = [u for u in self._updates if u["update_id"] > self._confirmed]
            if allowed:
                batch = [
                    u for u in batch if u["update_id"] in self._unrequested or any(k in u for k in allowed)
                ]
            return batch[: int(limit)]

        batch = ready()
        if not batch and timeout > 0 and not self._closing:
            try:
                batch = await self.wait_for(lambda: ready() or self._closing, timeout)
            except TimeoutError:
                batch = []
            if batch is True:
                batch = []
        return batch

    def _text(self, params: dict[str, Any], key: str, *, limit: int, required: bool) -> tuple[str, str]:
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        if params.get("parse_mode") == "HTML":
            try:
                plain = parse_html(raw)
            except EntityError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        else:
            plain = raw
        stripped = plain.strip()
        if required and not stripped:
            raise ApiError(400, "Bad Request: message text is empty")
        if telegram_length(plain) > limit:
            what = "message is too long" if key == "text" else "message caption is too long"
            raise ApiError(400, f"Bad Request: {what}")
        return raw, plain

    async def _m_sendMessage(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat = self._target(params)
        raw, plain = self._text(params, "text", limit=TEXT_LIMIT, required=True)
        return _public(self._bot_message(chat, params, text=plain, _html=raw))

    def _photo(self, value: Any, uploads: dict[str, bytes]) -> list[dict[str, Any]]:
        if not isinstance(value, str) or not value:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if value.startswith("attach://"):
            data = uploads.get(value.removeprefix("attach://"))
            if data is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            if len(data) > PHOTO_UPLOAD_LIMIT:
                raise ApiError(400, "Bad Request: photo is too big")
            return self._photo_sizes(data)
        if value.startswith(("http://", "https://")):
            return [{"file_id": value, "file_unique_id": "url", "width": 800, "height": 600, "_url": value}]
        if value not in self.files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        unique, _data = self.files[value]
        return [{"file_id": value, "file_unique_id": unique, "width": 1280, "height": 960}]

    async def _m_sendPhoto(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat = self._target(params)
        raw, plain = self._text(params, "caption", limit=CAPTION_LIMIT, required=False)
        photo = self._photo(params.get("photo"), uploads)
        message = self._bot_message(chat, params, photo=photo, caption=plain or None, _html=raw or None)
        return _public(message)

    async def _m_sendMediaGroup(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat = self._target(params)
        media = params.get("media")
        if not isinstance(media, list) or not ALBUM_MIN <= len(media) <= ALBUM_MAX:
            raise ApiError(400, "Bad Request: wrong number of media files")
        group_id = f"bmg{next(self._media_groups)}"
        results = []
        for item in media:
            if item.get("type") != "photo":
                raise ApiError(400, "Bad Request: unsupported media type in this test server")
            raw, plain = self._text(item, "caption", limit=CAPTION_LIMIT, required=False)
            photo = self._photo(item.get("media"), uploads)
            message = self._bot_message(
                chat,
                {"reply_parameters": params.get("reply_parameters")} if not results else {},
                photo=photo,
                caption=plain or None,
                _html=raw or None,
                media_group_id=group_id,
            )
            results.append(_public(message))
        return results

    async def _m_sendLocation(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat = self._target(params)
        lat, lon = params.get("latitude"), params.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            raise ApiError(400, "Bad Request: wrong latitude or longitude")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ApiError(400, "Bad Request: wrong latitude or longitude")
        return _public(self._bot_message(chat, params, location={"latitude": lat, "longitude": lon}))

    def _sent_file(self, kind: str, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        """The file sent as ``kind``: an upload (``attach://``) is stored, a ``file_id`` must be
        one Telegram knows (Bot API, "Sending files": by file_id, by URL, or multipart)."""
        value = params.get(kind)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if value.startswith("attach://"):
            data = uploads.get(value.removeprefix("attach://"))
            if data is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            file_id, unique = self._store_file(data, prefix=kind)
            return {"file_id": file_id, "file_unique_id": unique} | _FILE_EXTRA[kind]
        if value not in self.files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return {"file_id": value, "file_unique_id": self.files[value][0]} | _FILE_EXTRA[kind]

    async def _send_file(self, kind: str, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat = self._target(params)
        captioned = kind not in ("video_note", "sticker")  # sendVideoNote, sendSticker: no caption
        if not captioned and params.get("caption") is not None:
            raise ApiError(400, f"Bad Request: {kind} can't have a caption")
        raw, plain = self._text(params, "caption", limit=1024, required=False)
        item = self._sent_file(kind, params, uploads)
        message = self._bot_message(chat, params, caption=plain or None, _html=raw or None, **{kind: item})
        return _public(message)

    async def _m_sendDocument(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("document", params, uploads)

    async def _m_sendVideo(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("video", params, uploads)

    async def _m_sendVoice(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("voice", params, uploads)

    async def _m_sendAudio(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("audio", params, uploads)

    async def _m_sendAnimation(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("animation", params, uploads)

    async def _m_sendVideoNote(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("video_note", params, uploads)

    async def _m_sendSticker(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        return await self._send_file("sticker", params, uploads)

    def _editable(self, params: dict[str, Any]) -> tuple[FakeChat, dict[str, Any]]:
        chat = self._target(params)
        message = (
            chat.message(params.get("message_id")) if isinstance(params.get("message_id"), int) else None
        )
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != BOT_ID:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    async def _m_editMessageText(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        _chat, message = self._editable(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        raw, plain = self._text(params, "text", limit=TEXT_LIMIT, required=True)
        markup = params.get("reply_markup")
        if markup is not None:
            _check_markup(markup)
            if "inline_keyboard" not in markup:
                raise ApiError(400, "Bad Request: inline keyboard expected")
        if raw == message.get("_html") and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        message["text"], message["_html"] = plain, raw
        message["edit_date"] = int(time.time())
        message["_edits"] = message.get("_edits", 0) + 1
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return _public(message)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        _chat, message = self._editable(params)
        markup = params.get("reply_markup")
        if markup is not None:
            _check_markup(markup)
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        message["_edits"] = message.get("_edits", 0) + 1
        return _public(message)

    async def _m_answerCallbackQuery(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._open_callbacks:
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if isinstance(text, str) and len(text) > TOAST_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    async def _m_sendChatAction(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        self._target(params)
        return True

    async def _m_deleteMessage(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat = self._target(params)
        message_id = params.get("message_id")
        message = chat.message(message_id) if isinstance(message_id, int) else None
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        own = message.get("from", {}).get("id") == BOT_ID
        if time.time() - message["date"] >= DELETE_WINDOW or not (own or chat.type == "private"):
            raise ApiError(400, "Bad Request: message can't be deleted")
        message["_deleted"] = True
        self.deleted.append((chat.id, int(message_id)))
        return True

    def age_messages(self, chat_id: int, seconds: float) -> None:
        """Make every message in the chat ``seconds`` older (time passing for the limits)."""
        for message in self.chats[chat_id].history:
            message["date"] = int(message["date"] - seconds)

    async def _m_getFile(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        unique, data = self.files[file_id]
        if len(data) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": len(data),
            "file_path": f"photos/{file_id}",
        }


# -- helpers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookPost:
    """One webhook delivery attempt: which update, to which URL, answered how (0: no answer)."""

    update_id: int
    url: str
    status: int


def _update_chat(update: dict[str, Any]) -> int:
    """The chat an update belongs to (Telegram delivers one chat's updates one at a time)."""
    for key in ("message", "edited_message", "channel_post", "my_chat_member"):
        part = update.get(key)
        if isinstance(part, dict) and "chat" in part:
            return int(part["chat"]["id"])
    query = update.get("callback_query")
    if isinstance(query, dict):
        if isinstance(query.get("message"), dict):
            return int(query["message"]["chat"]["id"])
        return int(query["from"]["id"])
    return 0


def _fault_error(fault: Fault) -> ApiError:
    if fault.kind == "429":
        return ApiError(
            429, f"Too Many Requests: retry after {fault.retry_after}", retry_after=fault.retry_after
        )
    if fault.kind == "500":
        return ApiError(500, "Internal Server Error")
    return ApiError(502, "html")


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = {}
    uploads: dict[str, bytes] = {}
    if request.method == "GET":
        form: Iterable[tuple[str, Any]] = request.query.items()
    elif request.content_type == "application/json":
        body = await request.json()
        for key, value in body.items():
            params[key] = value
        return params, uploads
    else:
        form = (await request.post()).items()
    for key, value in form:
        if isinstance(value, web.FileField):
            uploads[key] = value.file.read()
            continue
        params[key] = _decode(key, value)
    return params, uploads


def _decode(key: str, value: str) -> Any:
    """Undo aiogram's encoding: strings travel as they are, everything else as JSON."""
    if key in _JSON_FIELDS:
        return json.loads(value)
    if value in ("true", "false"):
        return value == "true"
    if key in {"text", "caption", "callback_data", "file_id", "callback_query_id", "url"} | _FILE_FIELDS:
        return value
    if _NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


def _reply_to(params: dict[str, Any]) -> int | None:
    parameters = params.get("reply_parameters")
    if isinstance(parameters, dict) and isinstance(parameters.get("message_id"), int):
        return int(parameters["message_id"])
    value = params.get("reply_to_message_id")
    return value if isinstance(value, int) else None


def _check_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_BYTES:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if data is None and not url:
                    raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
                if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                    # InlineKeyboardButton: "url: HTTP or tg:// URL to be opened".
                    raise ApiError(400, "Bad Request: inline keyboard button URL is invalid")
    elif "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: keyboard button text is empty")
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not 1 <= len(str(placeholder)) <= PLACEHOLDER_LIMIT:
        raise ApiError(400, "Bad Request: input field placeholder is too long")


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """The message as the API returns it (our bookkeeping keys start with ``_``)."""
    return {k: v for k, v in message.items() if not k.startswith("_")}


def find_inline_button(message: dict[str, Any], text: str) -> dict[str, Any] | None:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == text:
                return dict(button)
    return None


def inline_labels(message: dict[str, Any]) -> list[list[str]]:
    return [
        [b["text"] for b in row] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
    ]
