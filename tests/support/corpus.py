"""The corpus of real updates (``tests/corpus/``) and how a test puts one in a place.

Each file is one Telegram update or one VK Bots Long Poll event as the platform sends it,
with a ``_source`` key naming where the shape comes from (keys starting with ``_`` are
ours and are dropped before the update is fed). Ids and names are anonymised to a few
placeholders, so the same shape can be replayed in any chat of a test:

* Telegram: the person who acts is user ``111111111``; the chat the update happens in is
  ``111111111`` (private), ``-1001111111111`` (supergroup), ``-111111111`` (basic group) or
  ``-1002222222222`` (channel); our bot is ``999999999``. Everyone and everything else
  (another person ``222222222``, another bot, a foreign channel) stays as it is.
* VK: the person is ``111111111``, the conversation is peer ``2000000001``, our community
  is ``999999`` (``-999999`` as a sender).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

TG_PERSON = 111111111
TG_BOT = 999999999
TG_CHATS = frozenset({111111111, -1001111111111, -111111111, -1002222222222})
VK_PERSON = 111111111
VK_CONVERSATION = 2_000_000_001
VK_COMMUNITY = 999999


def names(platform: str) -> list[str]:
    return sorted(path.stem for path in (CORPUS / platform).glob("*.json"))


def load(platform: str, name: str) -> dict[str, Any]:
    """The update as the platform sends it (our ``_`` keys dropped)."""
    data = json.loads((CORPUS / platform / f"{name}.json").read_text(encoding="utf-8"))
    if not data.get("_source"):
        raise AssertionError(f"{platform}/{name}.json does not say where it comes from (_source)")
    return {key: value for key, value in data.items() if not key.startswith("_")}


# -- Telegram ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramPlace:
    """Where a shape is replayed: the chat it happens in and who does it."""

    chat: dict[str, Any]
    person: dict[str, Any]
    bot: dict[str, Any]

    @property
    def is_channel(self) -> bool:
        return self.chat["type"] == "channel"


_MESSAGE_KINDS = {"message": "channel_post", "edited_message": "edited_channel_post"}
_POST_KINDS = {post: message for message, post in _MESSAGE_KINDS.items()}


def place_telegram(update: dict[str, Any], place: TelegramPlace) -> dict[str, Any]:
    """``update`` as it would arrive in ``place``.

    In a channel a message is a ``channel_post`` signed by the channel; elsewhere a post
    is a ``message`` from the person, and in a private chat every message is the person's.
    The update id is left to the fake server."""
    update = copy.deepcopy(update)
    update.pop("update_id", None)
    private = place.chat["type"] == "private"
    for kind in list(update):
        if place.is_channel and kind in _MESSAGE_KINDS:
            post = update.pop(kind)
            post.pop("from", None)
            post["sender_chat"] = dict(place.chat)
            update[_MESSAGE_KINDS[kind]] = post
        elif not place.is_channel and kind in _POST_KINDS:
            message = update.pop(kind)
            message.pop("sender_chat", None)
            message["from"] = dict(place.person)
            update[_POST_KINDS[kind]] = message
    for kind in ("message", "edited_message"):
        if private and kind in update:
            # In a private chat every message is the person's (a group's anonymous admin,
            # a linked channel or another bot cannot write there).
            update[kind]["from"] = dict(place.person)
            update[kind].pop("sender_chat", None)
            update[kind].pop("author_signature", None)
    result: dict[str, Any] = _rewrite(update, place)
    return result


def _rewrite(value: Any, place: TelegramPlace) -> Any:
    if isinstance(value, list):
        return [_rewrite(item, place) for item in value]
    if not isinstance(value, dict):
        return value
    identity = value.get("id")
    if "type" in value and identity in TG_CHATS and isinstance(value["type"], str):
        chat = dict(place.chat)
        if value["type"] == "group" and chat["type"] == "supergroup":
            chat["type"] = "group"  # a basic group stays one (migrations happen there)
        if value.get("is_forum") and chat["type"] == "supergroup":
            chat["is_forum"] = True
        return chat
    if "is_bot" in value and identity == TG_PERSON:
        return dict(place.person)
    if "is_bot" in value and identity == TG_BOT:
        return dict(place.bot)
    result = {}
    for key, item in value.items():
        if key in {"user_id", "user_chat_id"} and item == TG_PERSON:
            result[key] = place.person["id"]
        else:
            result[key] = _rewrite(item, place)
    return result


# -- VK ------------------------------------------------------------------------------------------


def place_vk(event: dict[str, Any], *, group_id: int, person: int, peer: int) -> dict[str, Any]:
    """``event`` as it would arrive from ``person`` in ``peer`` (their private chat, or a
    conversation), with a fresh ``event_id`` (VK gives every event its own)."""
    event = copy.deepcopy(event)
    event["event_id"] = secrets.token_hex(20)
    event["group_id"] = group_id
    result: dict[str, Any] = _rewrite_vk(event, group_id=group_id, person=person, peer=peer)
    return result


def _rewrite_vk(value: Any, *, group_id: int, person: int, peer: int) -> Any:
    if isinstance(value, list):
        return [_rewrite_vk(item, group_id=group_id, person=person, peer=peer) for item in value]
    if isinstance(value, str):  # a mention of the community: [club999999|@name]
        return value.replace(f"[club{VK_COMMUNITY}|", f"[club{group_id}|")
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        if isinstance(item, int) and not isinstance(item, bool):
            if item in (VK_PERSON, VK_CONVERSATION) and key in {"peer_id", "to_id"}:
                item = peer
            elif item == VK_PERSON:
                item = person
            elif item == -VK_COMMUNITY:
                item = -group_id
            elif item == VK_COMMUNITY and key == "group_id":
                item = group_id
        result[key] = _rewrite_vk(item, group_id=group_id, person=person, peer=peer)
    if "peer_id" in result and "conversation_message_id" in result and "id" in result:
        # a community sees a conversation's messages with id 0, a private chat's with their own
        result["id"] = 0 if peer > 2_000_000_000 else result["id"] or 4242
    return result
