"""Telegram ``Update`` → :class:`handlers.events.Event`, and nothing else."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from handlers.events import (
    BOT_ADDED,
    ChatKind,
    ChatRef,
    Contact,
    Event,
    Location,
    Media,
    MediaKind,
    PersonRef,
    Platform,
)

_CHAT_KINDS = {
    "private": ChatKind.PRIVATE,
    "group": ChatKind.GROUP,
    "supergroup": ChatKind.GROUP,
    "channel": ChatKind.CHANNEL,
}

_OTHER_MEDIA: tuple[tuple[str, MediaKind], ...] = (
    ("animation", MediaKind.ANIMATION),  # before document: an animation carries both
    ("sticker", MediaKind.STICKER),
    ("voice", MediaKind.VOICE),
    ("video", MediaKind.VIDEO),
    ("video_note", MediaKind.VIDEO_NOTE),
    ("audio", MediaKind.AUDIO),
    ("document", MediaKind.DOCUMENT),
)


_SAID = frozenset(
    {
        ContentType.TEXT,
        ContentType.ANIMATION,
        ContentType.AUDIO,
        ContentType.DOCUMENT,
        ContentType.LIVE_PHOTO,
        ContentType.PAID_MEDIA,
        ContentType.PHOTO,
        ContentType.STICKER,
        ContentType.STORY,
        ContentType.VIDEO,
        ContentType.VIDEO_NOTE,
        ContentType.VOICE,
        ContentType.CHECKLIST,
        ContentType.CONTACT,
        ContentType.DICE,
        ContentType.GAME,
        ContentType.POLL,
        ContentType.VENUE,
        ContentType.LOCATION,
        ContentType.WEB_APP_DATA,
    }
)
"""What a person says or sends. Every other message is a service notice (someone joined or
left, a pin, a topic, a payment, a migration, ...), which nobody addressed to the bot."""


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, str(chat.id))


def chat_kind(chat: Chat) -> ChatKind:
    return _CHAT_KINDS.get(chat.type, ChatKind.CHANNEL)


def person(user: User | None) -> PersonRef | None:
    return None if user is None else PersonRef(Platform.TELEGRAM, str(user.id))


def person_key(update: Update) -> str | None:
    """Whose update this is (``telegram:<user id>``), for the inbox."""
    for part in (update.message, update.edited_message, update.callback_query, update.my_chat_member):
        user = getattr(part, "from_user", None)
        if user is not None:
            return str(person(user))
    return None


def to_event(update: Update, bot_username: str | None = None) -> Event | None:
    """The event an update stands for, or None when the core has nothing to do with it.

    ``bot_username`` is ours (from getMe): a command naming another bot
    (``/report@other_bot``) is then not ours. Unknown, every command is taken as ours."""
    update_id = str(update.update_id)
    if update.message is not None:
        return _message_event(update.message, update_id, edited=False, bot_username=bot_username)
    if update.edited_message is not None:
        return _message_event(update.edited_message, update_id, edited=True, bot_username=bot_username)
    if update.channel_post is not None:
        return _message_event(update.channel_post, update_id, edited=False, bot_username=bot_username)
    if update.callback_query is not None:
        return _callback_event(update.callback_query, update_id)
    if update.my_chat_member is not None:
        return _membership_event(update.my_chat_member, update_id)
    return None


def _name(user: User | None) -> str | None:
    if user is None:
        return None
    return user.full_name or user.username or None


def _media(message: Message) -> tuple[Media, ...]:
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return (Media(MediaKind.PHOTO, Platform.TELEGRAM, largest.file_id, largest.file_unique_id),)
    for attribute, kind in _OTHER_MEDIA:
        item = getattr(message, attribute, None)
        if item is not None:
            name = getattr(item, "file_name", None)
            return (Media(kind, Platform.TELEGRAM, item.file_id, item.file_unique_id, name=name),)
    return ()


def _addressee(text: str | None) -> str | None:
    """The bot a command names (``other_bot`` in ``/report@other_bot args``), if any."""
    if not text or not text.startswith("/"):
        return None
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    _, at, name = head.partition("@")
    return name.lower() if at and name else None


def _message_event(
    message: Message, update_id: str, *, edited: bool, bot_username: str | None = None
) -> Event | None:
    if message.content_type not in _SAID:
        return None
    contact = None
    if message.contact is not None:
        owner = message.contact.user_id
        contact = Contact(phone=message.contact.phone_number, owner_id=str(owner) if owner else None)
    location = None
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
    reply_to = message.reply_to_message
    text = message.text if message.text is not None else message.caption
    addressee = _addressee(text)
    return Event(
        chat=chat_ref(message.chat),
        chat_kind=chat_kind(message.chat),
        sender=person(message.from_user),
        text=text,
        message_id=str(message.message_id),
        reply_to_message_id=str(reply_to.message_id) if reply_to is not None else None,
        reply_to_bot=(
            reply_to.from_user.is_bot if reply_to is not None and reply_to.from_user is not None else None
        ),
        reply_to_payloads=_our_payloads(reply_to, bot_username),
        location=location,
        contact=contact,
        media=_media(message),
        media_group_id=message.media_group_id,
        sender_name=_name(message.from_user),
        edited=edited,
        update_id=update_id,
        forwarded=message.forward_origin is not None,
        for_other_bot=(
            addressee is not None and bot_username is not None and addressee != bot_username.lower()
        ),
    )


def _our_payloads(message: Message | None, bot_username: str | None) -> tuple[str, ...]:
    """The callback data of ``message``'s buttons, when the message is ours (sent by the bot
    named ``bot_username``): only the bot that sent a message can put buttons on it."""
    if message is None or bot_username is None:
        return ()
    author = message.from_user
    if author is None or not author.is_bot or (author.username or "").lower() != bot_username.lower():
        return ()
    markup = message.reply_markup
    if not isinstance(markup, InlineKeyboardMarkup):
        return ()
    return tuple(
        button.callback_data for row in markup.inline_keyboard for button in row if button.callback_data
    )


def _callback_event(query: CallbackQuery, update_id: str) -> Event:
    message = query.message
    if message is not None:
        chat, kind, message_id = chat_ref(message.chat), chat_kind(message.chat), str(message.message_id)
    else:  # a button under an inline-mode message: answer the person privately
        chat, kind, message_id = ChatRef(Platform.TELEGRAM, str(query.from_user.id)), ChatKind.PRIVATE, None
    return Event(
        chat=chat,
        chat_kind=kind,
        sender=person(query.from_user),
        payload=query.data or "",
        callback_id=query.id,
        message_id=message_id,
        sender_name=_name(query.from_user),
        update_id=update_id,
    )


def _membership_event(change: ChatMemberUpdated, update_id: str) -> Event | None:
    joined = change.new_chat_member.status in {"member", "administrator", "creator"}
    was_out = change.old_chat_member.status in {"left", "kicked"}
    if not (joined and was_out) or chat_kind(change.chat) is not ChatKind.GROUP:
        return None
    return Event(
        chat=chat_ref(change.chat),
        chat_kind=ChatKind.GROUP,
        sender=person(change.from_user),
        payload=BOT_ADDED,
        sender_name=_name(change.from_user),
        update_id=update_id,
    )
