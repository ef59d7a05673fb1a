"""The VK :class:`~bot.transport.Transport`: a Reply as one or more ``messages.send`` calls.

Photos go with the (first part of the) text as attachments: VK media are resent by their
attachment string, anything else is fetched through the :class:`~bot.media.MediaRegistry`
and uploaded. ``random_id`` is a stable hash of the idempotency key (one per message the
reply produces), so a retried delivery is deduplicated by VK itself. In conversations the
returned ids are ``conversation_message_id`` values, the ids staff replies refer to.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from typing import Any

from bot.media import MediaFetcher, MediaRegistry, MediaUnavailable
from bot.transport import PermanentFailure, RetryLater, TransientFailure
from bot.vk.api import VkApi, VkApiError, VkNetworkError
from bot.vk.events import is_conversation, unpack_callback
from bot.vk.render import (
    Unrenderable,
    attachment_groups,
    empty_keyboard,
    html_to_text,
    keyboards,
    split_text,
)
from handlers.events import Media, MediaKind, Platform, Reply
from handlers.texts import Texts

BLOCKED = frozenset({7, 901, 902})
BAD_REQUEST = frozenset({100, 911, 914})
FORBIDDEN = frozenset({15, 917, 945, 946})
TRANSIENT = frozenset({1, 5, 10})
SNACKBAR_MAX = 90
CANNOT_DELETE = 924
"""messages.delete: "Can't delete this message for everybody" (past 24 hours, or not ours)."""


_RESENDABLE = re.compile(r"(photo|video|audio|audio_message|doc)-?\d+_\d+(_\w+)?")
"""VK media resent by their attachment string (dev.vk.com, messages.send: ``attachment`` is
``<type><owner_id>_<media_id>[_<access_key>]``, types photo, video, audio, doc, ...)."""
_DEFAULT_NAMES = {
    MediaKind.VIDEO: "video.mp4",
    MediaKind.ANIMATION: "animation.mp4",
    MediaKind.AUDIO: "audio.mp3",
    MediaKind.VIDEO_NOTE: "video_note.mp4",
}


def random_id(key: str) -> int:
    """A stable, non-zero 31-bit number for ``key``."""
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF
    return value or 1


class VkTransport:
    platform = Platform.VK

    def __init__(
        self,
        api: VkApi,
        *,
        media: MediaRegistry | None = None,
        texts: Texts | None = None,
        too_many_pause: float = 1.0,
        flood_pause: float = 30.0,
    ) -> None:
        self.api = api
        self.media = media or MediaRegistry()
        self.texts = texts or Texts()
        self.too_many_pause = too_many_pause
        self.flood_pause = flood_pause

    # -- the Transport protocol ---------------------------------------------------------

    async def deliver(self, chat_id: str, reply: Reply, *, idempotency_key: str | None = None) -> list[str]:
        peer_id = int(chat_id)
        key = idempotency_key or f"rnd:{secrets.token_hex(8)}"
        if reply.delete_message_ids:
            await self._delete(peer_id, reply.delete_message_ids)
            return []
        if reply.edit_message_id is not None:
            await self._edit(peer_id, reply)
            return [reply.edit_message_id]
        try:
            inline = keyboards(reply.buttons, inline=True)
            normal = keyboards(reply.keyboard, inline=False)
        except Unrenderable as exc:
            raise PermanentFailure("bad_request", str(exc)) from exc
        text = html_to_text(reply.text)
        parts = split_text(text) if text else []
        messages: list[dict[str, Any]] = [{"message": part} for part in parts] or [{}]
        groups = attachment_groups(reply.photos + reply.files)
        if groups:
            # At most ten attachments a message: earlier groups go alone, the last with the text.
            # All are had (resent or uploaded) before anything is sent.
            uploaded = [[await self._attachment(peer_id, media) for media in group] for group in groups]
            messages[0]["attachment"] = uploaded[-1]
            messages[:0] = [{"attachment": group} for group in uploaded[:-1]]
        if inline:
            messages[-1]["keyboard"] = inline[0].to_json()
            more = self.texts("vk-more-options")
            messages.extend({"message": more, "keyboard": page.to_json()} for page in inline[1:])
        if normal:
            first, rest = normal[0], normal[1:]
            if "keyboard" in messages[-1] or "message" not in messages[-1]:
                messages.append({"message": self.texts("vk-keyboard-hint"), "keyboard": first.to_json()})
            else:
                messages[-1]["keyboard"] = first.to_json()
            more = self.texts("vk-more-options")
            messages.extend({"message": more, "keyboard": page.to_json()} for page in rest)
        elif reply.remove_keyboard:
            # One keyboard per message: the empty one goes on the first part without one.
            bare = next((m for m in messages if "keyboard" not in m and "message" in m), None)
            if bare is not None:
                bare["keyboard"] = empty_keyboard()
            else:
                messages.insert(
                    0, {"message": self.texts("vk-keyboard-closed"), "keyboard": empty_keyboard()}
                )
        if reply.location is not None:
            # VK shows a map under a message: the pin goes with the text it follows.
            messages[-1].update(lat=reply.location.latitude, long=reply.location.longitude)
        if messages == [{}]:
            return []
        ids: list[str] = []
        for index, params in enumerate(messages):
            if reply.reply_to is not None and index == 0:
                params.update(self._reply_params(peer_id, reply.reply_to))
            ids.append(await self._send(peer_id, random_id(f"{key}#{index}"), params))
        return ids

    async def answer_callback(self, callback_id: str, text: str | None, *, alert: bool = False) -> None:
        event_id, user_id, peer_id = unpack_callback(callback_id)
        data = None
        if text:
            plain = html_to_text(text)
            if len(plain) > SNACKBAR_MAX:
                plain = plain[: SNACKBAR_MAX - 1] + "…"
            data = {"type": "show_snackbar", "text": plain}
        await self._call(
            "messages.sendMessageEventAnswer",
            str(peer_id),
            event_id=event_id,
            user_id=user_id,
            peer_id=peer_id,
            event_data=data,
        )

    # -- pieces -------------------------------------------------------------------------

    async def _send(self, peer_id: int, rid: int, params: dict[str, Any]) -> str:
        if is_conversation(peer_id):
            result = await self._call(
                "messages.send", str(peer_id), peer_ids=peer_id, random_id=rid, **params
            )
            if not isinstance(result, list) or not result:
                raise TransientFailure(f"unexpected messages.send answer: {result!r}")
            entry = result[0]
            if "error" in entry:
                raise self._map(VkApiError(int(entry["error"].get("code", 0)), "", "messages.send"))
            return str(entry["conversation_message_id"])
        result = await self._call("messages.send", str(peer_id), peer_id=peer_id, random_id=rid, **params)
        return str(result)

    async def _edit(self, peer_id: int, reply: Reply) -> None:
        text = html_to_text(reply.text)
        try:
            inline = keyboards(reply.buttons, inline=True)
        except Unrenderable as exc:
            raise PermanentFailure("bad_request", str(exc)) from exc
        if len(inline) > 1:
            raise PermanentFailure("bad_request", "an edit can show one keyboard, these buttons need more")
        id_param = "conversation_message_id" if is_conversation(peer_id) else "message_id"
        params: dict[str, Any] = {"peer_id": peer_id, id_param: reply.edit_message_id, "message": text[:4096]}
        params["keyboard"] = inline[0].to_json() if inline else json.dumps({"inline": True, "buttons": []})
        await self._call("messages.edit", str(peer_id), **params)

    async def _delete(self, peer_id: int, message_ids: Sequence[str]) -> None:
        """``messages.delete`` with ``delete_for_all`` (dev.vk.com/ru/method/messages.delete:
        for the recipients too, within 24 hours of sending; in conversations by ``cmids``).
        VK answers per message; one refused (error 924: too old) or not found fails the row
        for a person to act on."""
        ids = ",".join(message_ids)
        if is_conversation(peer_id):
            result = await self._call(
                "messages.delete", str(peer_id), peer_id=peer_id, cmids=ids, delete_for_all=1
            )
        else:
            result = await self._call(
                "messages.delete", str(peer_id), peer_id=peer_id, message_ids=ids, delete_for_all=1
            )
        if not isinstance(result, list):
            raise TransientFailure(f"unexpected messages.delete answer: {result!r}")
        refused = [item for item in result if isinstance(item, dict) and "error" in item]
        too_old = [item for item in refused if int(item["error"].get("code", 0)) == CANNOT_DELETE]
        if len(too_old) < len(refused):
            raise self._map(VkApiError(int(refused[0]["error"].get("code", 0)), "", "messages.delete"))
        if too_old:
            which = ", ".join(
                str(item.get("conversation_message_id") or item.get("message_id")) for item in too_old
            )
            raise PermanentFailure("too_old", f"messages {which} can't be deleted for everybody")

    def _reply_params(self, peer_id: int, reply_to: str) -> dict[str, Any]:
        if is_conversation(peer_id):
            forward = {"peer_id": peer_id, "conversation_message_ids": [int(reply_to)], "is_reply": True}
            return {"forward": forward}
        return {"reply_to": reply_to}

    async def _attachment(self, peer_id: int, media: Media) -> str:
        """The attachment string: VK's own media resent as they are, anything else uploaded
        (photos as photos, voice as a voice message, every other file as a document)."""
        if media.platform is Platform.VK and _RESENDABLE.fullmatch(media.ref):
            # A voice message is a document to messages.send, which knows no audio_message type.
            return (
                "doc" + media.ref.removeprefix("audio_message")
                if media.ref.startswith("audio_message")
                else media.ref
            )
        if media.kind is MediaKind.STICKER or media.kind is MediaKind.OTHER:
            raise PermanentFailure(
                "bad_request", f"cannot send {media.kind.value} from {media.platform.value}"
            )
        try:
            data = await self.media.fetch(media)
        except MediaUnavailable as exc:
            raise PermanentFailure("bad_request", str(exc)) from exc
        except VkNetworkError as exc:
            raise TransientFailure(str(exc)) from exc
        if media.kind is MediaKind.PHOTO:
            return await self.upload_photo(peer_id, data)
        if media.kind is MediaKind.VOICE:
            return await self.upload_doc(peer_id, data, "voice.ogg", kind="audio_message")
        return await self.upload_doc(peer_id, data, media.name or _DEFAULT_NAMES.get(media.kind, "file"))

    async def upload_doc(self, peer_id: int, data: bytes, name: str, *, kind: str = "doc") -> str:
        """docs.getMessagesUploadServer → POST ``file`` → docs.save → ``doc{owner}_{id}``, a
        document or (``kind="audio_message"``) a voice message; messages.send's attachment
        types have no other name for either (dev.vk.com, messages.send)."""
        server = await self._call("docs.getMessagesUploadServer", str(peer_id), peer_id=peer_id, type=kind)
        try:
            uploaded = await self.api.upload(server["upload_url"], "file", name, data)
        except VkNetworkError as exc:
            raise TransientFailure(str(exc)) from exc
        if not uploaded.get("file"):
            raise PermanentFailure("bad_request", f"the upload server took no file: {uploaded.get('error')}")
        saved = await self._call("docs.save", str(peer_id), file=uploaded["file"], title=name)
        obj = saved.get(saved.get("type")) if isinstance(saved, dict) else None
        if not isinstance(obj, dict) or "id" not in obj or "owner_id" not in obj:
            raise TransientFailure(f"unexpected docs.save answer: {saved!r}")
        ref = f"doc{obj['owner_id']}_{obj['id']}"
        return f"{ref}_{obj['access_key']}" if obj.get("access_key") else ref

    async def upload_photo(self, peer_id: int, data: bytes) -> str:
        server = await self._call("photos.getMessagesUploadServer", str(peer_id), peer_id=peer_id)
        try:
            uploaded = await self.api.upload(server["upload_url"], "photo", "photo.jpg", data)
        except VkNetworkError as exc:
            raise TransientFailure(str(exc)) from exc
        if not uploaded.get("photo") or uploaded.get("photo") == "[]":
            raise PermanentFailure("bad_request", "the upload server took no photo")
        saved = await self._call(
            "photos.saveMessagesPhoto",
            str(peer_id),
            photo=uploaded["photo"],
            server=uploaded["server"],
            hash=uploaded["hash"],
        )
        photo = saved[0]
        ref = f"photo{photo['owner_id']}_{photo['id']}"
        return f"{ref}_{photo['access_key']}" if photo.get("access_key") else ref

    async def _call(self, method: str, chat_key: str, **params: Any) -> Any:
        try:
            return await self.api.call(method, chat_key=chat_key, **params)
        except VkApiError as exc:
            raise self._map(exc, chat_key) from exc
        except VkNetworkError as exc:
            raise TransientFailure(str(exc)) from exc

    def _map(self, exc: VkApiError, chat_key: str | None = None) -> Exception:
        code = exc.code
        if code == 6:
            if self.api.limiter is not None:
                self.api.limiter.hold_off(self.too_many_pause)
            return RetryLater(self.too_many_pause, str(exc))
        if code == 9:
            if self.api.limiter is not None and chat_key is not None:
                self.api.limiter.hold_off(self.flood_pause, chat_key)
            return RetryLater(self.flood_pause, str(exc))
        if code in BLOCKED:
            return PermanentFailure("blocked", str(exc))
        if code in FORBIDDEN:
            return PermanentFailure("forbidden", str(exc))
        if code in BAD_REQUEST:
            return PermanentFailure("bad_request", str(exc))
        if code in TRANSIENT:
            return TransientFailure(str(exc))
        return PermanentFailure("bad_request", str(exc))


def vk_media_fetcher(api: VkApi) -> MediaFetcher:
    """The VK fetcher for :class:`~bot.media.MediaRegistry`: downloads ``media.url``."""

    async def fetch(media: Media) -> bytes:
        if not media.url:
            raise MediaUnavailable(f"VK media {media.ref} has no url")
        try:
            return await api.download(media.url)
        except VkNetworkError as exc:
            raise TransientFailure(f"downloading VK media failed: {exc}") from exc

    return fetch
