"""Rendering a :class:`Reply` into Bot API calls, within Telegram's limits.

Every call that puts something in a chat (a message, an album, an edit) waits on the shared
rate limiter first: Telegram's limits (Bots FAQ, "My bot is hitting limits") are about
messages, one a second in a chat, 20 a minute in a group, about 30 a second overall.
``answerCallbackQuery``, ``getFile`` and file downloads are not messages and are not paced
(a button press would otherwise wait for a message slot before its spinner stops).
Telegram's errors become the
transport errors of :mod:`bot.transport`, so the outbox sender and the update runner treat
Telegram and VK alike. A reply of several messages that fails half way is retried whole:
Telegram has no idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from io import BytesIO
from typing import Any, TypeVar

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaLivePhoto,
    InputMediaPhoto,
    InputMediaVideo,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from bot.config import ConfigurationError
from bot.media import MediaRegistry, MediaUnavailable, decode_data_url
from bot.ratelimit import RateLimiter
from bot.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, plain_length, split_html
from bot.transport import PermanentFailure, RetryLater, TransientFailure
from handlers.events import Button, ButtonRequest, Keyboard, Media, MediaKind, Platform, Reply

log = logging.getLogger(__name__)

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
PhotoSource = str | BufferedInputFile
AlbumItem = InputMediaAudio | InputMediaDocument | InputMediaLivePhoto | InputMediaPhoto | InputMediaVideo

_CAPTIONED = frozenset(
    {MediaKind.DOCUMENT, MediaKind.VIDEO, MediaKind.ANIMATION, MediaKind.VOICE, MediaKind.AUDIO}
)
"""Files the Bot API sends with a caption (sendVideoNote and sendSticker take none)."""
_DEFAULT_NAMES = {
    MediaKind.PHOTO: "photo.jpg",
    MediaKind.VIDEO: "video.mp4",
    MediaKind.ANIMATION: "animation.mp4",
    MediaKind.VOICE: "voice.ogg",
    MediaKind.AUDIO: "audio.mp3",
    MediaKind.VIDEO_NOTE: "video_note.mp4",
    MediaKind.STICKER: "sticker.webp",
}
"""Upload names for files that come without one (what the platform itself would name them)."""

_NOT_EDITABLE = (
    "message to edit not found",
    "there is no text in the message to edit",
    "message can't be edited",
)


def make_bot(token: str, api_base: str) -> Bot:
    """A Bot whose every request, file downloads included, goes to ``api_base``."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    session.middleware(_hold_response_type)
    return Bot(token, session=session)


async def check_token(bot: Bot, *, retry_cap: float = 30.0) -> str:
    """Ask Telegram who we are before anything starts; returns the bot's username.

    A token Telegram refuses (401, or 404 for one it cannot even route) stops the start with
    a :class:`ConfigurationError`: retrying it every 30 s forever would only hide it. An
    unreachable or failing Telegram is retried with capped backoff, as polling does."""
    failures = 0
    while True:
        try:
            me = await bot.get_me()
        except (TelegramUnauthorizedError, TelegramNotFound) as error:
            raise ConfigurationError(
                f"TELEGRAM_BOT_TOKEN was refused by Telegram ({error.message}): copy the token "
                "again from @BotFather (/mybots → API Token); a revoked one must be replaced"
            ) from None
        except TelegramRetryAfter as error:
            await asyncio.sleep(error.retry_after)
        except (TelegramAPIError, ClientDecodeError) as error:
            failures += 1
            delay = min(retry_cap, 0.5 * 2 ** min(failures, 6))
            log.warning("getMe failed at start (%s); retrying in %.1fs", type(error).__name__, delay)
            await asyncio.sleep(delay)
        else:
            return me.username or str(me.id)


# aiogram parses every answer with ``Response[method.__returning__]``, and pydantic caches
# generic classes weakly: under load the class was collected and built again (a schema
# build, ~1 ms) for most API calls, 8 % of the bot's CPU. Holding each one keeps it cached.
_RESPONSE_TYPES: dict[Any, type[Response[Any]]] = {}


async def _hold_response_type(
    make_request: NextRequestMiddlewareType[T], bot: Bot, method: TelegramMethod[T]
) -> Response[T]:
    returning = method.__returning__
    if returning not in _RESPONSE_TYPES:
        _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
    return await make_request(bot, method)


def map_error(error: Exception) -> Exception:
    """The transport error for an aiogram error (the caller raises it ``from`` the original)."""
    if isinstance(error, TelegramRetryAfter):
        return RetryLater(float(error.retry_after), error.message)
    if isinstance(error, TelegramForbiddenError):
        text = error.message.lower()
        blocked = any(
            s in text for s in ("blocked", "deactivated", "can't initiate", "can't send messages to bots")
        )
        return PermanentFailure("blocked" if blocked else "forbidden", error.message)
    if isinstance(error, TelegramMigrateToChat):
        return PermanentFailure("chat_not_found", f"migrated to {error.migrate_to_chat_id}")
    if isinstance(error, TelegramBadRequest):
        if "chat not found" in error.message.lower():
            return PermanentFailure("chat_not_found", error.message)
        return PermanentFailure("bad_request", error.message)
    if isinstance(error, TelegramServerError | ClientDecodeError | TelegramNetworkError):
        return TransientFailure(str(error))
    if isinstance(error, TelegramAPIError):
        return TransientFailure(error.message)
    return TransientFailure(f"{type(error).__name__}: {error}")


class TelegramTransport:
    """The :class:`bot.transport.Transport` for one Telegram bot."""

    platform = Platform.TELEGRAM

    def __init__(
        self,
        bot: Bot,
        limiter: RateLimiter,
        http: aiohttp.ClientSession,
        *,
        media: MediaRegistry | None = None,
    ) -> None:
        self.bot = bot
        self.limiter = limiter
        self.http = http
        self.media = media

    # -- the Transport protocol ----------------------------------------------------------

    async def deliver(self, chat_id: str, reply: Reply, *, idempotency_key: str | None = None) -> list[str]:
        chat = int(chat_id)
        if reply.delete_message_ids:
            await self._delete(chat, reply.delete_message_ids)
            return []
        if reply.edit_message_id is not None:
            edited = await self._edit(chat, reply)
            if edited is not None:
                return edited
        ids: list[str] = []
        reply_to = int(reply.reply_to) if reply.reply_to else None
        markup = self._markup(reply)
        texts = split_html(reply.text, TEXT_LIMIT) if reply.text.strip() else []
        # Every file is fetched before anything is sent: one that cannot be had fails the
        # reply whole, not after half of it reached the chat.
        files = [(media, await self._file_source(media)) for media in reply.files]
        if reply.photos:
            sources = [await self._photo_source(media) for media in reply.photos]
            if len(sources) == 1:
                caption = texts[0] if len(texts) == 1 and plain_length(texts[0]) <= CAPTION_LIMIT else None
                if caption is not None:
                    texts = []
                with_markup = markup if caption is not None and reply.location is None else None
                message = await self._call(
                    chat,
                    lambda: self.bot.send_photo(
                        chat,
                        sources[0],
                        caption=caption,
                        parse_mode="HTML" if caption else None,
                        reply_markup=with_markup,
                        reply_parameters=_reply_parameters(reply_to),
                    ),
                )
                ids.append(str(message.message_id))
                if with_markup is not None:
                    markup = None
            else:
                for start in range(0, len(sources), 10):
                    chunk = sources[start : start + 10]
                    ids.extend(await self._album(chat, chunk, reply_to if start == 0 else None))
            reply_to = None
        for index, (media, source) in enumerate(files):
            caption = None
            lone = not reply.photos and len(files) == 1 and media.kind in _CAPTIONED
            if lone and len(texts) == 1 and plain_length(texts[0]) <= CAPTION_LIMIT:
                caption, texts = texts[0], []
            with_markup = markup if caption is not None and reply.location is None else None
            ids.append(
                await self._send_file(
                    chat, media.kind, source, caption, with_markup, reply_to if index == 0 else None
                )
            )
            if with_markup is not None:
                markup = None
        if files:
            reply_to = None
        for index, text in enumerate(texts):
            last = index == len(texts) - 1 and reply.location is None
            first_reply_to = reply_to if index == 0 else None
            ids.append(await self._send_text(chat, text, markup if last else None, first_reply_to))
            if last:
                markup = None
        if reply.location is not None:
            location = reply.location
            message = await self._call(
                chat,
                lambda: self.bot.send_location(
                    chat,
                    latitude=location.latitude,
                    longitude=location.longitude,
                    reply_markup=markup,
                    reply_parameters=_reply_parameters(reply_to) if not ids else None,
                ),
            )
            ids.append(str(message.message_id))
            markup = None
        if markup is not None:
            log.warning("a reply's buttons had no message to go with and were dropped")
        return ids

    async def _send_text(self, chat: int, text: str, markup: Markup | None, reply_to: int | None) -> str:
        message = await self._call(
            chat,
            lambda: self.bot.send_message(
                chat,
                text,
                parse_mode="HTML",
                reply_markup=markup,
                reply_parameters=_reply_parameters(reply_to),
                disable_web_page_preview=True,
            ),
        )
        return str(message.message_id)

    async def answer_callback(self, callback_id: str, text: str | None, *, alert: bool = False) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text or None, show_alert=alert or None)
        except TelegramBadRequest as error:
            if "query is too old" in error.message or "query id is invalid" in error.message.lower():
                log.info("callback query expired before it was answered")
                return
            raise map_error(error) from error
        except Exception as error:
            raise map_error(error) from error

    # -- media ------------------------------------------------------------------------------

    async def fetch(self, media: Media) -> bytes:
        """The bytes of a Telegram file (getFile, then a download through the bot's session)."""
        if media.url and media.url.startswith("data:"):
            return decode_data_url(media.url)
        if media.platform is not Platform.TELEGRAM:
            return await self._download(media)
        try:
            file = await self.bot.get_file(media.ref)
            if file.file_path is None:
                raise MediaUnavailable(f"Telegram has no path for file {media.ref}")
            buffer = BytesIO()
            await self.bot.download_file(file.file_path, buffer)
        except (TelegramAPIError, TelegramNetworkError, aiohttp.ClientError) as error:
            raise MediaUnavailable(f"cannot fetch Telegram file: {error}") from error
        return buffer.getvalue()

    async def _download(self, media: Media) -> bytes:
        if self.media is not None and self.media.knows(media.platform):
            return await self.media.fetch(media)
        if not media.url or not media.url.startswith(("http://", "https://")):
            raise MediaUnavailable(f"no way to fetch {media.platform.value} media {media.ref}")
        try:
            async with self.http.get(media.url, timeout=aiohttp.ClientTimeout(total=60)) as response:
                response.raise_for_status()
                return await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientFailure(f"downloading media failed: {error}") from error

    async def _photo_source(self, media: Media) -> PhotoSource:
        if media.platform is Platform.TELEGRAM and not (media.url or "").startswith("data:"):
            return media.ref
        try:
            if media.url and media.url.startswith("data:"):
                data = decode_data_url(media.url)
            else:
                data = await self._download(media)
        except MediaUnavailable as error:
            raise PermanentFailure("bad_request", str(error)) from error
        return BufferedInputFile(
            data, filename="photo.png" if (media.url or "").startswith("data:") else "photo.jpg"
        )

    async def _file_source(self, media: Media) -> PhotoSource:
        """A Telegram file is resent by its id; anything else is fetched and uploaded."""
        if media.platform is Platform.TELEGRAM and not (media.url or "").startswith("data:"):
            return media.ref
        try:
            data = await self.fetch(media)
        except MediaUnavailable as error:
            raise PermanentFailure("bad_request", str(error)) from error
        return BufferedInputFile(data, filename=media.name or _DEFAULT_NAMES.get(media.kind, "file"))

    async def _send_file(
        self,
        chat: int,
        kind: MediaKind,
        source: PhotoSource,
        caption: str | None,
        markup: Markup | None,
        reply_to: int | None,
    ) -> str:
        """One file with the Bot API method for its kind (a photo among files goes as one)."""
        common: dict[str, Any] = {"reply_markup": markup, "reply_parameters": _reply_parameters(reply_to)}
        if caption is not None:
            common.update(caption=caption, parse_mode="HTML")
        bot = self.bot
        calls: dict[MediaKind, Callable[[], Awaitable[Message]]] = {
            MediaKind.PHOTO: lambda: bot.send_photo(chat, source, **common),
            MediaKind.VIDEO: lambda: bot.send_video(chat, source, **common),
            MediaKind.ANIMATION: lambda: bot.send_animation(chat, source, **common),
            MediaKind.VOICE: lambda: bot.send_voice(chat, source, **common),
            MediaKind.AUDIO: lambda: bot.send_audio(chat, source, **common),
            MediaKind.VIDEO_NOTE: lambda: bot.send_video_note(chat, source, **common),
            MediaKind.STICKER: lambda: bot.send_sticker(chat, source, **common),
        }
        make = calls.get(kind, lambda: bot.send_document(chat, source, **common))
        message = await self._call(chat, make)
        return str(message.message_id)

    async def _album(self, chat: int, sources: Sequence[PhotoSource], reply_to: int | None) -> list[str]:
        if len(sources) == 1:
            message = await self._call(
                chat,
                lambda: self.bot.send_photo(chat, sources[0], reply_parameters=_reply_parameters(reply_to)),
            )
            return [str(message.message_id)]
        media: list[
            InputMediaAudio | InputMediaDocument | InputMediaLivePhoto | InputMediaPhoto | InputMediaVideo
        ]
        media = [InputMediaPhoto(media=source) for source in sources]
        messages: list[Message] = await self._call(
            chat, lambda: self.bot.send_media_group(chat, media, reply_parameters=_reply_parameters(reply_to))
        )
        return [str(m.message_id) for m in messages]

    # -- editing ----------------------------------------------------------------------------

    async def _edit(self, chat: int, reply: Reply) -> list[str] | None:
        """Edit in place; None when the message cannot be edited (then a new one is sent)."""
        assert reply.edit_message_id is not None
        message_id = int(reply.edit_message_id)
        markup = _inline(reply.buttons)
        text = split_html(reply.text, TEXT_LIMIT)[0] if reply.text.strip() else None
        try:
            if text is None:
                await self._call(
                    chat,
                    lambda: self.bot.edit_message_reply_markup(
                        chat_id=chat, message_id=message_id, reply_markup=markup
                    ),
                    raw=True,
                )
            else:
                await self._call(
                    chat,
                    lambda: self.bot.edit_message_text(
                        text,
                        chat_id=chat,
                        message_id=message_id,
                        parse_mode="HTML",
                        reply_markup=markup,
                        disable_web_page_preview=True,
                    ),
                    raw=True,
                )
        except TelegramBadRequest as error:
            message = error.message.lower()
            if "message is not modified" in message:
                return [str(message_id)]
            if any(reason in message for reason in _NOT_EDITABLE):
                log.info("message %s cannot be edited; sending a new one", message_id)
                return None
            raise map_error(error) from error
        except Exception as error:
            raise map_error(error) from error
        return [str(message_id)]

    # -- deleting ---------------------------------------------------------------------------

    async def _delete(self, chat: int, message_ids: Sequence[str]) -> None:
        """``deleteMessage`` for each message (core.telegram.org/bots/api#deletemessage: a
        bot deletes its own messages in groups, within 48 hours of sending). One already
        gone counts as deleted, so a retry is harmless; one the platform refuses (too old)
        fails the whole row once the others are deleted, for a person to act on."""
        refused: list[str] = []
        for message_id in message_ids:
            number = int(message_id)
            try:
                await self._call(chat, partial(self.bot.delete_message, chat, number), raw=True)
            except TelegramBadRequest as error:
                message = error.message.lower()
                if "message to delete not found" in message:
                    continue
                if "message can't be deleted" in message:
                    refused.append(message_id)
                    continue
                raise map_error(error) from error
            except (RetryLater, PermanentFailure, TransientFailure):
                raise
            except Exception as error:
                raise map_error(error) from error
        if refused:
            raise PermanentFailure("too_old", f"messages {', '.join(refused)} can't be deleted")

    # -- calls ------------------------------------------------------------------------------

    async def _call(self, chat: int, make: Callable[[], Awaitable[T]], *, raw: bool = False) -> T:
        """One API call after the limiter's turn; errors mapped unless ``raw``."""
        await self.limiter.wait(str(chat), group=chat < 0)
        try:
            return await make()
        except TelegramRetryAfter as error:
            self.limiter.hold_off(float(error.retry_after), str(chat))
            raise RetryLater(float(error.retry_after), error.message) from error
        except Exception as error:
            if raw:
                raise
            raise map_error(error) from error

    def _markup(self, reply: Reply) -> Markup | None:
        if reply.buttons:
            if reply.keyboard:
                log.warning("a reply has both inline buttons and a keyboard: the keyboard is dropped")
            return _inline(reply.buttons)
        if reply.keyboard:
            return ReplyKeyboardMarkup(
                keyboard=[[_keyboard_button(b) for b in row] for row in reply.keyboard],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
        if reply.force_reply:
            return ForceReply(force_reply=True, selective=True)
        if reply.remove_keyboard:
            return ReplyKeyboardRemove(remove_keyboard=True)
        return None


def _reply_parameters(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _inline(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for row in buttons:
        rows.append([_inline_button(b) for b in row])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _inline_button(button: Button) -> InlineKeyboardButton:
    if button.url:
        return InlineKeyboardButton(text=button.text, url=button.url)
    return InlineKeyboardButton(text=button.text, callback_data=button.payload or button.text)


def _keyboard_button(button: Button) -> KeyboardButton:
    return KeyboardButton(
        text=button.text,
        request_location=True if button.request is ButtonRequest.LOCATION else None,
        request_contact=True if button.request is ButtonRequest.CONTACT else None,
    )
