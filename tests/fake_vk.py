"""A strict fake of the VK API that the real bot talks to over HTTP.

It serves ``/method/<name>`` (form or query parameters, ``access_token``, ``v``), the Bots
Long Poll endpoint, a photo upload endpoint and the photos it holds. It checks what VK
checks (message length, keyboard limits, required parameters), answers in VK's shapes
(``{"response": ...}`` or ``{"error": {"error_code", "error_msg", "request_params"}}``), and
keeps every peer's messages so tests can assert on what a person sees.

People are simulated through methods: ``user_writes``, ``user_presses``, ``user_sends_photo``,
``user_sends_geo``, ``user_sends_attachment``, ``staff_replies`` (in a conversation, peer id
2000000000 + chat id). Faults are injected per method (``fail_next``) and an optional
20-requests-a-second enforcer answers error 6 like VK does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

CHAT_OFFSET = 2_000_000_000
GROUP_ID = 123456
TOKEN = "vk-test-token"
MAX_TEXT = 4096
"""messages.send (dev.vk.com/ru/method/messages.send): longer texts are error 914."""
MAX_ATTACHMENTS = 10
"""messages.send: ``attachment``, at most 10 objects (more: error 100, an invalid parameter)."""
INLINE_ROWS, INLINE_BUTTONS = 6, 10
NORMAL_ROWS, NORMAL_BUTTONS = 10, 40
ROW_WIDTH = 5
MAX_LABEL = 40
MAX_PAYLOAD = 255
WIDE_BUTTONS = ("location", "vkpay", "open_app", "open_link")
"""The keyboard limits of dev.vk.com, "Клавиатура для ботов"; see ``_check_keyboard``."""
PHOTO_SIZES = (("s", 75, 56), ("m", 130, 97), ("x", 604, 453), ("y", 807, 605))

ERRORS = {
    1: "Unknown error occurred",
    5: "User authorization failed: invalid access_token",
    6: "Too many requests per second",
    7: "Permission to perform this action is denied",
    9: "Flood control",
    10: "Internal server error",
    100: "One of the parameters specified was missing or invalid",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    911: "Keyboard format is invalid",
    914: "Message is too long",
    924: "Can't delete this message for everybody",
}
DELETE_FOR_ALL_WINDOW = 24 * 3600
"""messages.delete (dev.vk.com/ru/method/messages.delete): ``delete_for_all`` "1 — если
сообщение нужно удалить для получателей (если с момента отправки сообщения прошло не более
24 часов)"; a community deletes its own messages for all. Its answer is a list of
``{peer_id, message_id, conversation_message_id, response | error}`` (VK's API schema,
``messages_delete_full_response``, as vkbottle-types 5.199 generates it)."""


class VkError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        super().__init__(ERRORS.get(code, "Error") + (f": {detail}" if detail else ""))


@dataclass
class Fault:
    error_code: int | None = None
    http_status: int | None = None
    drop: bool = False
    """Close the connection without an answer."""
    after: bool = False
    """Do the work first, then fail (the answer is lost, the message was sent)."""


@dataclass
class Message:
    """One message in a peer's history, as a person sees it."""

    id: int
    conversation_message_id: int
    peer_id: int
    from_id: int
    text: str
    keyboard: dict[str, Any] | None = None
    attachments: list[str] = field(default_factory=list)
    reply_to: int | None = None
    """The conversation_message_id (in conversations) or id this message answers."""
    geo: tuple[float, float] | None = None
    edited: bool = False
    random_id: int = 0
    date: float = field(default_factory=time.time)
    deleted: bool = False
    """Deleted for everybody: nobody in the conversation sees it any more."""

    @property
    def from_bot(self) -> bool:
        return self.from_id == -GROUP_ID

    def buttons(self) -> list[dict[str, Any]]:
        if not self.keyboard:
            return []
        return [b for row in self.keyboard.get("buttons", []) for b in row]

    def labels(self) -> list[str]:
        return [b["action"].get("label", b["action"]["type"]) for b in self.buttons()]


@dataclass(frozen=True)
class CallbackPost:
    """One Callback API delivery attempt and how the bot answered it."""

    event_id: str
    target: str
    status: int
    body: str


def _event_peer(event: dict[str, Any]) -> int:
    obj = event.get("object") or {}
    message = obj.get("message") if event.get("type") == "message_new" else obj
    return int((message or {}).get("peer_id") or 0)


@dataclass
class Photo:
    owner_id: int
    id: int
    access_key: str
    data: bytes


@dataclass
class Doc:
    """A document or voice message VK keeps (docs.save; or one a person attached)."""

    owner_id: int
    id: int
    access_key: str
    data: bytes
    title: str
    type: str = "doc"


class FakeVk:
    """``async with FakeVk() as vk:`` starts it on 127.0.0.1 at a free port (``vk.base``)."""

    def __init__(self, *, enforce_rate: bool = False, rate: int = 20) -> None:
        self.enforce_rate = enforce_rate
        self.rate = rate
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.rate_limited = 0
        self.history: dict[int, list[Message]] = {}
        self.users: dict[int, tuple[str, str]] = {}
        self.photos: dict[str, Photo] = {}
        self.docs: dict[str, Doc] = {}
        self._doc_ids = itertools.count(650000000)
        self.uploads: dict[str, tuple[int, bytes]] = {}
        self.event_answers: list[dict[str, Any]] = []
        self.forbidden: set[int] = set()
        self.pending_events: dict[str, tuple[int, int]] = {}
        self.refuse_send: Callable[[dict[str, str]], int | None] | None = None
        """A rule VK might add one day: ``messages.send`` parameters → an error code to
        refuse them with (None: accept)."""
        self._faults: dict[str, deque[Fault]] = {}
        self._events: list[dict[str, Any]] = []
        self._first_ts = 1
        self._key = secrets.token_hex(8)
        self._poll_failures: deque[int] = deque()
        self._new_event = asyncio.Condition()
        self._ids = itertools.count(1)
        self._cmids: dict[int, itertools.count[int]] = {}
        self._random_ids: dict[tuple[int, int], Any] = {}
        self._photo_ids = itertools.count(457239000)
        self._recent: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.polls = 0
        self._waiting_ts: int | None = None
        self._closing = False
        self.callback_posts: list[CallbackPost] = []
        """Every Callback API delivery attempt, in the order they were answered."""
        self.callback_retry_delay = 0.05
        self.callback_tries = 5
        self._callback_targets: list[str] = []
        self._next_target = 0
        self._callback_secret: str | None = None
        self._callback_from = 0
        self._callback_done: set[int] = set()
        self._callback_busy: set[int] = set()
        self._redeliver = 0
        self._callback_wake = asyncio.Event()
        self._callback_task: asyncio.Task[None] | None = None
        self._callback_sends: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> FakeVk:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/method/{name}", self._method)
        app.router.add_get("/longpoll/{group}", self._long_poll)
        app.router.add_post("/upload/{token}", self._upload)
        app.router.add_get("/photos/{name}", self._photo_file)
        app.router.add_get("/docs/{name}", self._doc_file)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._new_event:
            self._closing = True
            self._new_event.notify_all()
        await self.stop_callbacks()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests inspect --------------------------------------------------------------

    def messages(self, peer_id: int) -> list[Message]:
        return list(self.history.get(peer_id, []))

    def bot_messages(self, peer_id: int) -> list[Message]:
        return [m for m in self.history.get(peer_id, []) if m.from_bot]

    def last_bot_message(self, peer_id: int) -> Message:
        sent = self.bot_messages(peer_id)
        assert sent, f"the bot has sent nothing to {peer_id}"
        return sent[-1]

    def method_calls(self, name: str) -> list[dict[str, str]]:
        return [params for method, params in self.calls if method == name]

    async def wait_for_bot_messages(self, peer_id: int, count: int, within: float = 10.0) -> list[Message]:
        """Wait until ``peer_id`` has seen at least ``count`` bot messages in all."""
        async with asyncio.timeout(within):
            async with self._new_event:
                await self._new_event.wait_for(lambda: len(self.bot_messages(peer_id)) >= count)
        return self.bot_messages(peer_id)

    async def wait_until(self, predicate: Any, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            async with self._new_event:
                await self._new_event.wait_for(predicate)

    @property
    def updates(self) -> list[dict[str, Any]]:
        """Every long-poll event so far, as VK would deliver it."""
        return list(self._events)

    def polling(self) -> bool:
        """A long-poll request is waiting for events."""
        return self._waiting_ts is not None

    def caught_up(self) -> bool:
        """A long poll is waiting for the next event: everything before it was received."""
        return self._waiting_ts == len(self._events) + 1

    # -- fault injection ---------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int | None = None,
        http_status: int | None = None,
        drop: bool = False,
        after: bool = False,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self._faults.setdefault(method, deque()).append(
                Fault(error_code=error_code, http_status=http_status, drop=drop, after=after)
            )

    def forbid_messages(self, user_id: int, forbidden: bool = True) -> None:
        """The person no longer allows the community to message them: sends get 901."""
        if forbidden:
            self.forbidden.add(user_id)
        else:
            self.forbidden.discard(user_id)

    def fail_poll(self, failed: int) -> None:
        """The next long-poll request answers ``{"failed": N}`` (1, 2 or 3)."""
        self._poll_failures.append(failed)

    def forget_history(self) -> None:
        """VK drops old events: a poll for an earlier ts then answers ``failed: 1``."""
        self._first_ts = len(self._events) + 1

    # -- Callback API --------------------------------------------------------------------
    # dev.vk.com, "Callback API" (/ru/api/callback/getting-started): confirming a server
    # POSTs {"type": "confirmation", "group_id": ...} and expects the community's string;
    # every event is POSTed as JSON with the "secret" key set in the settings, and the
    # server must answer HTTP 200 with the body "ok", or VK sends the event again.

    async def confirm(self, url: str) -> tuple[int, str]:
        """What the community's «Подтвердить» button gets from ``url`` (status, body)."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"type": "confirmation", "group_id": GROUP_ID}) as response,
        ):
            return response.status, await response.text()

    def start_callbacks(self, targets: list[str], *, secret: str | None) -> None:
        """Deliver events from now on by POSTing them to ``targets`` (round-robin, a load
        balancer in front of several workers) instead of through the long poll: one at a
        time within a peer, peers in parallel, each sent again until answered "ok" (at most
        ``callback_tries`` times, ``X-Retry-Counter`` counting the retries)."""
        self._callback_targets = list(targets)
        self._callback_secret = secret
        self._callback_from = len(self._events)
        if self._callback_task is None:
            self._callback_task = asyncio.create_task(self._callback_loop(), name="fake-vk-callback")
        self._callback_wake.set()

    def redeliver_next(self, n: int = 1) -> None:
        """The next ``n`` events are sent again after they were answered "ok" (as when VK did
        not get the answer in time)."""
        self._redeliver += n

    def callbacks_done(self) -> bool:
        """Every event since ``start_callbacks`` was answered "ok" (or given up)."""
        return all(i in self._callback_done for i in range(self._callback_from, len(self._events)))

    async def stop_callbacks(self) -> None:
        task, self._callback_task = self._callback_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, *self._callback_sends, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _callback_loop(self) -> None:
        self._http = aiohttp.ClientSession()
        while True:
            self._callback_wake.clear()
            busy_peers: set[int] = set()
            for index in range(self._callback_from, len(self._events)):
                if index in self._callback_done:
                    continue
                peer = _event_peer(self._events[index])
                if peer in busy_peers:
                    continue
                busy_peers.add(peer)
                if index in self._callback_busy:
                    continue
                self._callback_busy.add(index)
                task = asyncio.create_task(self._send_callback(index))
                self._callback_sends.add(task)
                task.add_done_callback(self._callback_sends.discard)
            await self._callback_wake.wait()

    async def _send_callback(self, index: int) -> None:
        event = dict(self._events[index])
        if self._callback_secret is not None:
            event["secret"] = self._callback_secret
        sent = 0
        while sent < self.callback_tries and self._http is not None:
            target = self._callback_targets[self._next_target % len(self._callback_targets)]
            self._next_target += 1
            headers = {"X-Retry-Counter": str(sent)} if sent else {}
            try:
                async with self._http.post(target, json=event, headers=headers) as response:
                    status, body = response.status, await response.text()
            except (aiohttp.ClientError, OSError):
                status, body = 0, ""
            sent += 1
            self.callback_posts.append(CallbackPost(event["event_id"], target, status, body))
            if status == 200 and body == "ok":
                if self._redeliver > 0 and sent == 1:
                    self._redeliver -= 1
                    continue
                break
            await asyncio.sleep(self.callback_retry_delay)
        self._callback_done.add(index)
        self._callback_busy.discard(index)
        self._callback_wake.set()
        await self._changed()

    # -- people ------------------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str, last_name: str = "") -> None:
        self.users[user_id] = (first_name, last_name)

    async def user_writes(
        self,
        peer_id: int,
        text: str = "",
        *,
        from_id: int | None = None,
        payload: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        geo: tuple[float, float] | None = None,
        reply_to: Message | None = None,
        action: dict[str, Any] | None = None,
    ) -> Message:
        from_id = from_id if from_id is not None else peer_id
        if peer_id > CHAT_OFFSET and from_id == peer_id:
            raise ValueError("in a conversation say who writes: from_id=")
        message = self._store(peer_id, from_id, text, geo=geo)
        obj: dict[str, Any] = {
            "date": int(time.time()),
            "from_id": from_id,
            "id": message.id if peer_id < CHAT_OFFSET else 0,
            "out": 0,
            "version": 10000000 + message.id,
            "attachments": attachments or [],
            "conversation_message_id": message.conversation_message_id,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": peer_id,
            "random_id": 0,
            "text": text,
        }
        if payload is not None:
            obj["payload"] = payload
        if action is not None:
            obj["action"] = action
        if geo is not None:
            obj["geo"] = {"type": "point", "coordinates": {"latitude": geo[0], "longitude": geo[1]}}
        if reply_to is not None:
            message.reply_to = reply_to.conversation_message_id if peer_id > CHAT_OFFSET else reply_to.id
            obj["reply_message"] = {
                "date": int(time.time()),
                "from_id": reply_to.from_id,
                "text": reply_to.text,
                "attachments": [],
                "conversation_message_id": reply_to.conversation_message_id,
                "peer_id": peer_id,
                "id": reply_to.id if peer_id < CHAT_OFFSET else 0,
                "fwd_messages": [],
            }
        client_info = {
            "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
            "keyboard": True,
            "inline_keyboard": True,
            "carousel": True,
            "lang_id": 0,
        }
        await self._push("message_new", {"message": obj, "client_info": client_info})
        return message

    async def bot_added_to(self, peer_id: int, *, by: int) -> Message:
        """Someone adds the community to a conversation: VK writes a service message
        (``action.type`` ``chat_invite_user``, the community as the member, negative)."""
        action = {"type": "chat_invite_user", "member_id": -GROUP_ID}
        return await self.user_writes(peer_id, "", from_id=by, action=action)

    async def feed(self, event: dict[str, Any]) -> None:
        """Deliver a raw long-poll event exactly as given (a captured one, say). A button
        press in it can be answered once, like one a person made."""
        obj = event.get("object") or {}
        if event.get("type") == "message_event" and isinstance(obj.get("event_id"), str):
            self.pending_events[obj["event_id"]] = (int(obj["user_id"]), int(obj["peer_id"]))
        async with self._new_event:
            self._events.append(dict(event))
            self._new_event.notify_all()

    def bot_said(self, peer_id: int, text: str, *, keyboard: dict[str, Any] | None = None) -> Message:
        """A message the bot sent earlier (set the scene without running the bot)."""
        return self._store(peer_id, -GROUP_ID, text, keyboard=keyboard)

    async def staff_replies(
        self,
        peer_id: int,
        from_id: int,
        to: Message,
        text: str,
        *,
        photo: bytes | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Message:
        attachments = list(attachments or [])
        if photo is not None:
            attachments.append(
                {"type": "photo", "photo": self._photo_object(self._keep_photo(from_id, photo))}
            )
        return await self.user_writes(peer_id, text, from_id=from_id, reply_to=to, attachments=attachments)

    def doc_attachment(self, owner_id: int, data: bytes, title: str) -> dict[str, Any]:
        """A document as it arrives in a message (``url`` where its bytes are)."""
        return {"type": "doc", "doc": self._doc_object(self._keep_doc(owner_id, data, title))}

    def video_attachment(self, owner_id: int) -> dict[str, Any]:
        """A video as it arrives in a message: VK gives a community no file to download."""
        return {
            "type": "video",
            "video": {"id": 456239017, "owner_id": owner_id, "title": "video", "access_key": "k"},
        }

    def doc_bytes(self, attachment: str) -> tuple[Doc, bytes]:
        """The document behind ``doc{owner}_{id}[_{key}]`` (checks the access key)."""
        parts = attachment.removeprefix("doc").split("_")
        doc = self.docs[f"{parts[0]}_{parts[1]}"]
        assert len(parts) < 3 or parts[2] == doc.access_key, "wrong access key"
        return doc, doc.data

    async def user_presses(self, peer_id: int, label: str, *, from_id: int | None = None) -> Message | None:
        """Press a button by its label on the latest bot message that has it (inline
        keyboards) or on the current keyboard. Callback buttons send a message_event."""
        from_id = from_id if from_id is not None else peer_id
        current_keyboard_seen = False
        for message in reversed(self.bot_messages(peer_id)):
            if message.keyboard is not None and not message.keyboard.get("inline"):
                if current_keyboard_seen:
                    continue  # replaced by a later keyboard (or taken away): not on screen
                current_keyboard_seen = True
            for button in message.buttons():
                action = button["action"]
                if action.get("label") != label and not (
                    action["type"] == "location" and label == "location"
                ):
                    continue
                if action["type"] == "callback":
                    event_id = secrets.token_hex(6)
                    self.pending_events[event_id] = (from_id, peer_id)
                    await self._push(
                        "message_event",
                        {
                            "user_id": from_id,
                            "peer_id": peer_id,
                            "event_id": event_id,
                            "payload": json.loads(action["payload"]) if action.get("payload") else {},
                            "conversation_message_id": message.conversation_message_id,
                        },
                    )
                    return None
                if action["type"] == "text":
                    return await self.user_writes(
                        peer_id, action["label"], from_id=from_id, payload=action.get("payload")
                    )
                raise AssertionError(f"button {label!r} is {action['type']!r}: use another method")
        raise AssertionError(f"no button {label!r} for {peer_id}; the bot showed {self._all_labels(peer_id)}")

    def _all_labels(self, peer_id: int) -> list[str]:
        return [
            label
            for m in self.bot_messages(peer_id)
            if m.keyboard and m.keyboard.get("inline")
            for label in m.labels()
        ]

    async def user_sends_geo(self, peer_id: int, latitude: float, longitude: float) -> Message:
        return await self.user_writes(peer_id, "", geo=(latitude, longitude))

    async def user_sends_photo(
        self, peer_id: int, data: bytes = b"\x89PNG fake photo", *, text: str = "", from_id: int | None = None
    ) -> Message:
        owner = from_id if from_id is not None else peer_id
        photo = self._keep_photo(owner, data)
        return await self.user_writes(
            peer_id,
            text,
            from_id=from_id,
            attachments=[{"type": "photo", "photo": self._photo_object(photo)}],
        )

    async def user_sends_attachment(self, peer_id: int, kind: str, *, text: str = "") -> Message:
        objects: dict[str, dict[str, Any]] = {
            "audio_message": {"id": 1, "owner_id": peer_id, "duration": 3, "link_ogg": "", "access_key": "k"},
            "video": {"id": 2, "owner_id": peer_id, "title": "video", "access_key": "k"},
            "sticker": {"product_id": 1, "sticker_id": 9},
            "doc": {
                "id": 3,
                "owner_id": peer_id,
                "title": "scan.pdf",
                "url": f"{self.base}/doc",
                "ext": "pdf",
            },
            "audio": {"id": 4, "owner_id": peer_id, "artist": "a", "title": "t"},
        }
        return await self.user_writes(peer_id, text, attachments=[{"type": kind, kind: objects[kind]}])

    # -- internals: storage -------------------------------------------------------------

    def _store(
        self,
        peer_id: int,
        from_id: int,
        text: str,
        *,
        keyboard: dict[str, Any] | None = None,
        attachments: list[str] | None = None,
        reply_to: int | None = None,
        geo: tuple[float, float] | None = None,
        random_id: int = 0,
    ) -> Message:
        cmids = self._cmids.setdefault(peer_id, itertools.count(1))
        message = Message(
            id=next(self._ids),
            conversation_message_id=next(cmids),
            peer_id=peer_id,
            from_id=from_id,
            text=text,
            keyboard=keyboard,
            attachments=attachments or [],
            reply_to=reply_to,
            geo=geo,
            random_id=random_id,
        )
        self.history.setdefault(peer_id, []).append(message)
        return message

    def _keep_photo(self, owner_id: int, data: bytes) -> Photo:
        photo = Photo(owner_id=owner_id, id=next(self._photo_ids), access_key=secrets.token_hex(5), data=data)
        self.photos[f"{owner_id}_{photo.id}"] = photo
        return photo

    def _keep_doc(self, owner_id: int, data: bytes, title: str, type_: str = "doc") -> Doc:
        doc = Doc(owner_id, next(self._doc_ids), secrets.token_hex(5), data, title, type_)
        self.docs[f"{owner_id}_{doc.id}"] = doc
        return doc

    def _doc_object(self, doc: Doc) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": doc.id,
            "owner_id": doc.owner_id,
            "access_key": doc.access_key,
            "title": doc.title,
            "size": len(doc.data),
            "ext": doc.title.rsplit(".", 1)[-1] if "." in doc.title else "",
            "url": f"{self.base}/docs/{doc.owner_id}_{doc.id}",
        }
        if doc.type == "audio_message":
            obj = {k: obj[k] for k in ("id", "owner_id", "access_key")} | {
                "duration": 3,
                "link_ogg": obj["url"],
            }
        return obj

    def _photo_object(self, photo: Photo) -> dict[str, Any]:
        name = f"{photo.owner_id}_{photo.id}"
        return {
            "id": photo.id,
            "owner_id": photo.owner_id,
            "access_key": photo.access_key,
            "album_id": -3,
            "date": int(time.time()),
            "sizes": [
                {"type": t, "width": w, "height": h, "url": f"{self.base}/photos/{name}.jpg?size={t}"}
                for t, w, h in PHOTO_SIZES
            ],
        }

    def photo_bytes(self, attachment: str) -> bytes:
        """The bytes behind ``photo{owner}_{id}_{key}`` (checks the access key)."""
        owner_id, photo_id, key = attachment.removeprefix("photo").rsplit("_", 2)
        photo = self.photos[f"{owner_id}_{photo_id}"]
        assert photo.access_key == key, "wrong access key"
        return photo.data

    async def _push(self, kind: str, obj: dict[str, Any]) -> None:
        async with self._new_event:
            self._events.append(
                {
                    "group_id": GROUP_ID,
                    "type": kind,
                    "event_id": secrets.token_hex(20),
                    "v": "5.199",
                    "object": obj,
                }
            )
            self._new_event.notify_all()
        self._callback_wake.set()

    async def _changed(self) -> None:
        async with self._new_event:
            self._new_event.notify_all()

    # -- HTTP: methods ------------------------------------------------------------------

    async def _method(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        self.calls.append((name, params))
        request_params = [{"key": "method", "value": name}] + [
            {"key": k, "value": v} for k, v in params.items() if k not in ("access_token",)
        ]
        fault = self._faults.get(name, deque()).popleft() if self._faults.get(name) else None
        try:
            if params.get("access_token") != TOKEN:
                raise VkError(5)
            if not params.get("v"):
                raise VkError(100, "v is undefined")
            if self.enforce_rate and self._over_rate():
                self.rate_limited += 1
                raise VkError(6)
            if fault is not None and not fault.after:
                return self._fault_response(request, fault, request_params)
            handler = getattr(self, "_m_" + name.replace(".", "_"), None)
            if handler is None:
                raise VkError(100, f"unknown method {name}")
            result = await handler(params)
        except VkError as error:
            return web.json_response(
                {
                    "error": {
                        "error_code": error.code,
                        "error_msg": str(error),
                        "request_params": request_params,
                    }
                }
            )
        if fault is not None:
            return self._fault_response(request, fault, request_params)
        return web.json_response({"response": result})

    def _fault_response(
        self, request: web.Request, fault: Fault, request_params: list[Any]
    ) -> web.StreamResponse:
        if fault.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=200)
        if fault.http_status is not None:
            return web.Response(status=fault.http_status, text="<html>502 Bad Gateway</html>")
        code = fault.error_code or 1
        return web.json_response(
            {
                "error": {
                    "error_code": code,
                    "error_msg": ERRORS.get(code, "Error"),
                    "request_params": request_params,
                }
            }
        )

    def _over_rate(self) -> bool:
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate:
            return True
        self._recent.append(now)
        return False

    @staticmethod
    def _need(params: dict[str, str], name: str) -> str:
        value = params.get(name)
        if value is None or value == "":
            raise VkError(100, f"{name} is undefined")
        return value

    async def _m_groups_getById(self, params: dict[str, str]) -> Any:
        return {"groups": [{"id": GROUP_ID, "name": "Решаем вместе", "screen_name": "club", "type": "group"}]}

    async def _m_groups_getLongPollServer(self, params: dict[str, str]) -> Any:
        if int(self._need(params, "group_id")) != GROUP_ID:
            raise VkError(100, "group_id is invalid")
        return {
            "key": self._key,
            "server": f"{self.base}/longpoll/{GROUP_ID}",
            "ts": str(len(self._events) + 1),
        }

    async def _m_users_get(self, params: dict[str, str]) -> Any:
        ids = [int(x) for x in self._need(params, "user_ids").split(",")]
        result = []
        for user_id in ids:
            first, last = self.users.get(user_id, (f"User{user_id}", ""))
            result.append({"id": user_id, "first_name": first, "last_name": last, "can_access_closed": True})
        return result

    async def _m_messages_send(self, params: dict[str, str]) -> Any:
        if "peer_id" in params or "user_id" in params:
            peers = [int(params.get("peer_id") or params["user_id"])]
            many = False
        elif "peer_ids" in params:
            peers = [int(x) for x in params["peer_ids"].split(",")]
            many = True
        else:
            raise VkError(100, "peer_id is undefined")
        if "random_id" not in params:
            raise VkError(100, "random_id is a required parameter")
        random_id = int(params["random_id"])
        text = params.get("message", "")
        attachments = [a for a in params.get("attachment", "").split(",") if a]
        lat, long = params.get("lat"), params.get("long")
        if not text and not attachments and lat is None:
            raise VkError(100, "message is empty or invalid")
        if len(text) > MAX_TEXT:
            raise VkError(914)
        if len(attachments) > MAX_ATTACHMENTS:
            raise VkError(100, f"attachment: at most {MAX_ATTACHMENTS}")
        keyboard = self._check_keyboard(params["keyboard"]) if "keyboard" in params else None
        if self.refuse_send is not None and (code := self.refuse_send(params)) is not None:
            raise VkError(code)
        for attachment in attachments:
            try:
                if attachment.startswith("photo"):
                    self.photo_bytes(attachment)
                elif attachment.startswith("doc"):
                    self.doc_bytes(attachment)
                elif not re.fullmatch(r"(video|audio)-?\d+_\d+(_\w+)?", attachment):
                    # messages.send: attachment is <type><owner_id>_<media_id>[_<access_key>],
                    # type one of photo, video, audio, doc, wall, market, poll, question.
                    raise ValueError(attachment)
            except (KeyError, AssertionError, ValueError, IndexError):
                raise VkError(100, f"attachment {attachment} is invalid") from None
        reply_to = int(params["reply_to"]) if "reply_to" in params else None
        if "forward" in params:
            forward = json.loads(params["forward"])
            if forward.get("is_reply"):
                reply_to = int(forward["conversation_message_ids"][0])
        results = []
        for peer in peers:
            if peer in self.forbidden:
                if not many:
                    raise VkError(901)
                results.append({"peer_id": peer, "error": {"code": 901, "description": ERRORS[901]}})
                continue
            if random_id and (peer, random_id) in self._random_ids:
                results.append(self._random_ids[(peer, random_id)])
                continue
            message = self._store(
                peer,
                -GROUP_ID,
                text,
                keyboard=keyboard,
                attachments=attachments,
                reply_to=reply_to,
                geo=(float(lat), float(long)) if lat is not None and long is not None else None,
                random_id=random_id,
            )
            entry = {
                "peer_id": peer,
                "message_id": message.id,
                "conversation_message_id": message.conversation_message_id,
            }
            if random_id:
                self._random_ids[(peer, random_id)] = entry
            results.append(entry)
        await self._changed()
        if many:
            return results
        return results[0]["message_id"]

    async def _m_messages_edit(self, params: dict[str, str]) -> Any:
        peer = int(self._need(params, "peer_id"))
        text = params.get("message", "")
        if len(text) > MAX_TEXT:
            raise VkError(914)
        keyboard = self._check_keyboard(params["keyboard"]) if "keyboard" in params else None
        for message in self.history.get(peer, []):
            if not message.from_bot:
                continue
            if ("message_id" in params and message.id == int(params["message_id"])) or (
                "conversation_message_id" in params
                and message.conversation_message_id == int(params["conversation_message_id"])
            ):
                message.text = text
                message.keyboard = keyboard
                message.edited = True
                await self._changed()
                return 1
        raise VkError(100, "message_id is invalid")

    async def _m_messages_delete(self, params: dict[str, str]) -> Any:
        peer = int(self._need(params, "peer_id"))
        if "cmids" in params:
            key, wanted = "conversation_message_id", [int(x) for x in params["cmids"].split(",")]
        else:
            key, wanted = "id", [int(x) for x in self._need(params, "message_ids").split(",")]
        for_all = params.get("delete_for_all") == "1"
        results: list[dict[str, Any]] = []
        for number in wanted:
            found = next(
                (m for m in self.history.get(peer, []) if getattr(m, key) == number and not m.deleted), None
            )
            entry: dict[str, Any] = {"peer_id": peer, key if key != "id" else "message_id": number}
            if found is None:
                entry["error"] = {"code": 100, "description": "message not found"}
            elif for_all and (not found.from_bot or time.time() - found.date >= DELETE_FOR_ALL_WINDOW):
                entry["error"] = {"code": 924, "description": ERRORS[924]}
            else:
                found.deleted = for_all  # without delete_for_all only the community stops seeing it
                entry["response"] = 1
            results.append(entry)
        await self._changed()
        return results

    def age_messages(self, peer_id: int, seconds: float) -> None:
        """Make every message in the conversation ``seconds`` older (time passing for the limits)."""
        for message in self.history.get(peer_id, []):
            message.date -= seconds

    async def _m_messages_sendMessageEventAnswer(self, params: dict[str, str]) -> Any:
        event_id = self._need(params, "event_id")
        user_id = int(self._need(params, "user_id"))
        peer_id = int(self._need(params, "peer_id"))
        if self.pending_events.get(event_id) != (user_id, peer_id):
            raise VkError(100, "event_id is invalid")
        del self.pending_events[event_id]
        data = json.loads(params["event_data"]) if "event_data" in params else None
        if data is not None and data.get("type") == "show_snackbar" and len(data.get("text", "")) > 90:
            raise VkError(100, "event_data text is too long")
        self.event_answers.append({"user_id": user_id, "peer_id": peer_id, "event_data": data})
        await self._changed()
        return 1

    async def _m_photos_getMessagesUploadServer(self, params: dict[str, str]) -> Any:
        token = secrets.token_hex(8)
        self.uploads[token] = (int(params.get("peer_id", "0")), b"")
        return {"upload_url": f"{self.base}/upload/{token}", "album_id": -3, "group_id": GROUP_ID}

    async def _m_photos_saveMessagesPhoto(self, params: dict[str, str]) -> Any:
        server, hash_ = self._need(params, "server"), self._need(params, "hash")
        blob = json.loads(self._need(params, "photo"))
        token = blob.get("token")
        if token not in self.uploads or hash_ != f"h{token}" or server != "1":
            raise VkError(100, "photo is invalid")
        _, data = self.uploads.pop(token)
        if not data:
            raise VkError(100, "photo is empty")
        photo = self._keep_photo(-GROUP_ID, data)
        return [self._photo_object(photo)]

    async def _m_docs_getMessagesUploadServer(self, params: dict[str, str]) -> Any:
        # dev.vk.com, docs.getMessagesUploadServer: type is doc (default), audio_message or graffiti.
        kind = params.get("type", "doc")
        if kind not in ("doc", "audio_message", "graffiti"):
            raise VkError(100, "type is invalid")
        token = secrets.token_hex(8)
        self.uploads[token] = (int(self._need(params, "peer_id")), kind.encode())
        return {"upload_url": f"{self.base}/upload/{token}"}

    async def _m_docs_save(self, params: dict[str, str]) -> Any:
        blob = json.loads(self._need(params, "file"))
        token = blob.get("token")
        if token not in self.uploads or not blob.get("data"):
            raise VkError(100, "file is invalid")
        kind, data = blob["kind"], self.uploads.pop(token)[1]
        doc = self._keep_doc(-GROUP_ID, data, params.get("title") or blob.get("name") or "file", kind)
        return {"type": kind, kind: self._doc_object(doc)}

    def _check_keyboard(self, raw: str) -> dict[str, Any]:
        """Refuse what VK refuses, with error 911 ("Keyboard format is invalid").

        dev.vk.com, "Клавиатура для ботов" (/ru/api/bots/development/keyboard): a standard
        keyboard is at most 5 × 10 with at most 40 buttons, an inline one at most 5 × 6
        with at most 10 buttons; a label up to 40 characters; a payload up to 255
        characters (counted here in bytes, the stricter reading) and JSON; location,
        vkpay, open_app and open_link buttons take a whole row; ``one_time`` is for
        standard keyboards only."""
        try:
            keyboard = json.loads(raw)
            rows = keyboard["buttons"]
        except (ValueError, KeyError, TypeError):
            raise VkError(911, "keyboard is not JSON") from None
        inline = bool(keyboard.get("inline"))
        if inline and "one_time" in keyboard:
            raise VkError(911, "one_time is not allowed on an inline keyboard")
        max_rows, max_buttons = (INLINE_ROWS, INLINE_BUTTONS) if inline else (NORMAL_ROWS, NORMAL_BUTTONS)
        if len(rows) > max_rows:
            raise VkError(911, f"more than {max_rows} rows")
        count = 0
        for row in rows:
            if not row or len(row) > ROW_WIDTH:
                raise VkError(911, f"a row holds 1 to {ROW_WIDTH} buttons")
            for button in row:
                count += 1
                action = button.get("action") or {}
                kind = action.get("type")
                if kind not in ("text", "callback", *WIDE_BUTTONS):
                    raise VkError(911, f"unknown button type {kind!r}")
                if kind in ("text", "callback", "open_link"):
                    label = action.get("label")
                    if not isinstance(label, str) or not 1 <= len(label) <= MAX_LABEL:
                        raise VkError(911, f"label is 1 to {MAX_LABEL} characters")
                if kind == "open_link" and not action.get("link"):
                    raise VkError(911, "open_link needs a link")
                if kind in WIDE_BUTTONS and len(row) > 1:
                    raise VkError(911, f"a {kind} button takes a whole row")
                if kind == "location" and inline:
                    raise VkError(911, "location buttons are not allowed inline here")
                payload = action.get("payload")
                if payload is not None:
                    if len(payload.encode()) > MAX_PAYLOAD:
                        raise VkError(911, f"payload is longer than {MAX_PAYLOAD} bytes")
                    try:
                        json.loads(payload)
                    except ValueError:
                        raise VkError(911, "payload is not JSON") from None
        if count > max_buttons:
            raise VkError(911, f"more than {max_buttons} buttons")
        return dict(keyboard)

    # -- HTTP: long poll, uploads, files -----------------------------------------------

    async def _long_poll(self, request: web.Request) -> web.StreamResponse:
        self.polls += 1
        query = request.query
        if query.get("act") != "a_check":
            return web.json_response({"failed": 4, "error": "act"})
        if self._poll_failures:
            failed = self._poll_failures.popleft()
            if failed == 1:
                return web.json_response({"failed": 1, "ts": str(self._first_ts)})
            if failed == 2:
                self._key = secrets.token_hex(8)
            if failed == 3:
                self._key = secrets.token_hex(8)
                self._first_ts = len(self._events) + 1
            return web.json_response({"failed": failed})
        if query.get("key") != self._key:
            return web.json_response({"failed": 2})
        try:
            ts = int(query.get("ts", ""))
        except ValueError:
            return web.json_response({"failed": 3})
        if ts < self._first_ts:
            return web.json_response({"failed": 1, "ts": str(self._first_ts)})
        wait = min(float(query.get("wait", "25")), 90.0)
        if len(self._events) < ts:
            try:
                async with asyncio.timeout(wait), self._new_event:
                    self._waiting_ts = ts
                    self._new_event.notify_all()
                    await self._new_event.wait_for(lambda: len(self._events) >= ts or self._closing)
            except TimeoutError:
                pass
            finally:
                self._waiting_ts = None
        updates = self._events[ts - 1 :]
        return web.json_response({"ts": str(len(self._events) + 1), "updates": updates})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if token not in self.uploads:
            return web.json_response({"error": "upload url is invalid"})
        form = await request.post()
        file_ = form.get("file")
        if file_ is not None and not isinstance(file_, str):
            # A document upload (docs.getMessagesUploadServer): the answer's ``file`` goes to docs.save.
            kind = self.uploads[token][1].decode()
            data = file_.file.read()
            self.uploads[token] = (self.uploads[token][0], data)
            blob = {"token": token, "kind": kind, "name": file_.filename, "data": bool(data)}
            return web.json_response({"file": json.dumps(blob)})
        field_ = form.get("photo")
        if field_ is None or isinstance(field_, str):
            return web.json_response({"server": 1, "photo": "[]", "hash": ""})
        data = field_.file.read()
        self.uploads[token] = (self.uploads[token][0], data)
        return web.json_response({"server": 1, "photo": json.dumps({"token": token}), "hash": f"h{token}"})

    async def _doc_file(self, request: web.Request) -> web.StreamResponse:
        doc = self.docs.get(request.match_info["name"])
        if doc is None:
            return web.Response(status=404)
        return web.Response(body=doc.data, content_type="application/octet-stream")

    async def _photo_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"].removesuffix(".jpg")
        photo = self.photos.get(name)
        if photo is None:
            return web.Response(status=404)
        return web.Response(body=photo.data, content_type="image/jpeg")
