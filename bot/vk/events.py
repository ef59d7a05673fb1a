"""VK Bots Long Poll events to plain :class:`handlers.events.Event`.

Private chats are keyed by the user's id; conversations (peer id above 2000000000) by the
peer id, and there messages are identified by ``conversation_message_id``, the only id a
community bot can act on. Our button payloads travel as JSON ``{"p": "<payload>"}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from handlers.events import (
    BOT_ADDED,
    ChatKind,
    ChatRef,
    Event,
    Location,
    Media,
    MediaKind,
    PersonRef,
    Platform,
)

CHAT_OFFSET = 2_000_000_000
START_TEXTS = frozenset({"начать", "start", "старт"})

_KINDS = {
    "video": MediaKind.VIDEO,
    "audio_message": MediaKind.VOICE,
    "audio": MediaKind.AUDIO,
    "sticker": MediaKind.STICKER,
    "doc": MediaKind.DOCUMENT,
    "graffiti": MediaKind.STICKER,
}


_MENTION = re.compile(r"^\[(club|public|id)(\d+)\|[^\]]*\][\s,:]*")
"""A mention at the start of a message, as VK writes it: ``[club123|@name], `` ."""


def is_conversation(peer_id: int) -> bool:
    return peer_id > CHAT_OFFSET


def encode_payload(payload: str) -> str:
    return json.dumps({"p": payload}, ensure_ascii=False, separators=(",", ":"))


def decode_payload(raw: Any) -> tuple[str | None, bool]:
    """Our payload from a button's payload, and whether it is VK's start command."""
    data = raw
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except ValueError:
            return None, False
    if not isinstance(data, dict):
        return None, False
    if data.get("command") == "start":
        return None, True
    value = data.get("p")
    return (value if isinstance(value, str) else None), False


def pack_callback(event_id: str, user_id: int, peer_id: int) -> str:
    return f"{event_id}:{user_id}:{peer_id}"


def unpack_callback(callback_id: str) -> tuple[str, int, int]:
    event_id, user_id, peer_id = callback_id.rsplit(":", 2)
    return event_id, int(user_id), int(peer_id)


def update_key(update: dict[str, Any]) -> str:
    """What identifies a long-poll event for deduplication."""
    event_id = update.get("event_id")
    if isinstance(event_id, str) and event_id:
        return event_id[:64]
    obj = update.get("object") or {}
    message = obj.get("message") or obj
    return f"{update.get('type')}:{message.get('peer_id')}:{message.get('conversation_message_id')}"[:64]


def person_key(update: dict[str, Any]) -> str | None:
    """The chat an event belongs to (events of one chat are handled in order)."""
    obj = update.get("object") or {}
    message = obj.get("message") if update.get("type") == "message_new" else obj
    if not isinstance(message, dict):
        return None
    peer_id = message.get("peer_id")
    return None if peer_id is None else f"vk:{peer_id}"


def translate(update: dict[str, Any]) -> Event | None:
    """One long-poll update as an :class:`Event`, or None for what the core does not need
    (our own outgoing messages, typing notices, unknown types)."""
    kind = update.get("type")
    obj = update.get("object") or {}
    update_id = update_key(update)
    if kind == "message_new":
        message = obj.get("message") or {}
        if _bot_invited(message, update.get("group_id")):
            return _bot_added(message, update_id)
        return _message(message, update_id, edited=False, group_id=update.get("group_id"))
    if kind == "message_edit":
        return _message(obj, update_id, edited=True, group_id=update.get("group_id"))
    if kind == "message_event":
        return _callback(obj, update_id)
    return None


def _bot_invited(message: dict[str, Any], group_id: Any) -> bool:
    """Our community was just added to a conversation (VK writes a service message with
    ``action.type == "chat_invite_user"`` and the community's id, negative, as the member)."""
    action = message.get("action")
    if not isinstance(action, dict) or action.get("type") != "chat_invite_user":
        return False
    member = action.get("member_id")
    return isinstance(member, int) and isinstance(group_id, int) and member == -group_id


def _bot_added(message: dict[str, Any], update_id: str) -> Event | None:
    peer_id = int(message.get("peer_id", 0))
    if not is_conversation(peer_id):
        return None
    from_id = int(message.get("from_id", 0))
    chat, chat_kind = _chat(peer_id)
    return Event(
        chat=chat,
        chat_kind=chat_kind,
        sender=PersonRef(Platform.VK, str(from_id)) if from_id > 0 else None,
        payload=BOT_ADDED,
        update_id=update_id,
    )


def _chat(peer_id: int) -> tuple[ChatRef, ChatKind]:
    chat_kind = ChatKind.GROUP if is_conversation(peer_id) else ChatKind.PRIVATE
    return ChatRef(Platform.VK, str(peer_id)), chat_kind


def _addressed(text: str | None, group_id: Any) -> str | None:
    """The text without a leading mention of our community, the way people address a bot
    in a conversation (``[club123|@appeals] /open``). A mention of anyone else stays, so
    what follows it is not taken as a command to us."""
    match = _MENTION.match(text or "")
    if match is None or match.group(1) == "id" or not isinstance(group_id, int):
        return text or None
    return (text or "")[match.end() :] or None if int(match.group(2)) == group_id else text


def _message(message: dict[str, Any], update_id: str, *, edited: bool, group_id: Any = None) -> Event | None:
    peer_id = int(message.get("peer_id", 0))
    from_id = int(message.get("from_id", 0))
    if not peer_id or from_id <= 0 or message.get("out"):
        return None
    if isinstance(message.get("action"), dict):
        return None  # a service notice (someone joined or left, a new title, a pin)
    chat, chat_kind = _chat(peer_id)
    conversation = is_conversation(peer_id)
    text = _addressed(message.get("text"), group_id)
    payload, start = decode_payload(message["payload"]) if message.get("payload") else (None, False)
    if start or (text is not None and text.strip().lower() in START_TEXTS and not conversation):
        text, payload = "/start", None
    message_id = message.get("conversation_message_id") if conversation else message.get("id")
    reply = message.get("reply_message")
    reply_to = None
    reply_to_bot: bool | None = None
    if isinstance(reply, dict):
        reply_to = reply.get("conversation_message_id") if conversation else reply.get("id")
        if isinstance(reply.get("from_id"), int):
            reply_to_bot = reply["from_id"] < 0  # communities write with negative ids
    geo = message.get("geo")
    location = None
    if isinstance(geo, dict) and isinstance(geo.get("coordinates"), dict):
        coords = geo["coordinates"]
        location = Location(float(coords["latitude"]), float(coords["longitude"]))
    return Event(
        chat=chat,
        chat_kind=chat_kind,
        sender=PersonRef(Platform.VK, str(from_id)),
        text=text,
        payload=payload,
        message_id=None if message_id in (None, 0) else str(message_id),
        reply_to_message_id=None if reply_to in (None, 0) else str(reply_to),
        reply_to_bot=reply_to_bot,
        location=location,
        media=tuple(m for a in message.get("attachments") or [] if (m := _media(a)) is not None),
        edited=edited,
        update_id=update_id,
    )


def _callback(obj: dict[str, Any], update_id: str) -> Event | None:
    peer_id = int(obj.get("peer_id", 0))
    user_id = int(obj.get("user_id", 0))
    event_id = obj.get("event_id")
    if not peer_id or user_id <= 0 or not isinstance(event_id, str):
        return None
    chat, chat_kind = _chat(peer_id)
    payload, start = decode_payload(obj.get("payload"))
    cmid = obj.get("conversation_message_id")
    return Event(
        chat=chat,
        chat_kind=chat_kind,
        sender=PersonRef(Platform.VK, str(user_id)),
        text="/start" if start else None,
        payload=payload,
        callback_id=pack_callback(event_id, user_id, peer_id),
        message_id=None if not cmid else str(cmid),
        update_id=update_id,
    )


def _media(attachment: dict[str, Any]) -> Media | None:
    kind = attachment.get("type")
    if not isinstance(kind, str):
        return None
    obj = attachment.get(kind)
    if not isinstance(obj, dict):
        return None
    if kind == "photo":
        sizes = [s for s in obj.get("sizes") or [] if isinstance(s, dict) and s.get("url")]
        largest = max(sizes, key=lambda s: int(s.get("width", 0)) * int(s.get("height", 0)), default=None)
        return Media(
            kind=MediaKind.PHOTO,
            platform=Platform.VK,
            ref=_attachment_ref("photo", obj),
            unique_id=f"{obj.get('owner_id')}_{obj.get('id')}",
            url=None if largest is None else str(largest["url"]),
        )
    if kind == "sticker":
        return Media(
            kind=MediaKind.STICKER,
            platform=Platform.VK,
            ref=f"sticker{obj.get('sticker_id')}",
            unique_id=str(obj.get("sticker_id")),
        )
    media_kind = _KINDS.get(kind, MediaKind.OTHER)
    if "id" not in obj or "owner_id" not in obj:
        return Media(kind=media_kind, platform=Platform.VK, ref=kind)
    url = obj.get("url") or obj.get("link_ogg") or obj.get("link_mp3")
    title = obj.get("title") if kind == "doc" else None
    return Media(
        kind=media_kind,
        platform=Platform.VK,
        ref=_attachment_ref(kind, obj),
        unique_id=f"{obj.get('owner_id')}_{obj.get('id')}",
        url=str(url) if url else None,
        name=str(title) if title else None,
    )


def _attachment_ref(kind: str, obj: dict[str, Any]) -> str:
    ref = f"{kind}{obj.get('owner_id')}_{obj.get('id')}"
    key = obj.get("access_key")
    return f"{ref}_{key}" if key else ref
