"""The fake Bot API server is as strict as Telegram, through aiogram's real client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
)

from bot.telegram.transport import make_bot
from tests.fake_telegram import BOT_ID, EntityError, FakeTelegram, parse_html


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(f"{BOT_ID}:TEST") as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(server.token, server.base_url)
    yield client
    await client.session.close()


def test_html_is_checked_like_telegram() -> None:
    assert parse_html("<b>Жирный</b> &amp; <a href='https://x.ru'>ссылка</a> &lt;3") == "Жирный & ссылка <3"
    with pytest.raises(EntityError, match='Unsupported start tag "div"'):
        parse_html("<div>нет</div>")
    with pytest.raises(EntityError, match="end tag"):
        parse_html("<b>не закрыт")
    with pytest.raises(EntityError, match="end tag"):
        parse_html("<b><i>крест</b></i>")
    with pytest.raises(EntityError, match="Character entity expected"):
        parse_html("Рога & копыта")


async def test_text_limits_and_markup(server: FakeTelegram, bot: Bot) -> None:
    server.user(1001, "Алиса")
    sent = await bot.send_message(1001, "а" * 4090 + "<b>жирн</b>", parse_mode="HTML")
    assert sent.text == "а" * 4090 + "жирн"
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1001, "а" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(1001, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1001, "A & B", parse_mode="HTML")
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="д" * 33)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1001, "кнопка", reply_markup=too_long)
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(1001, _photo_id(server), caption="п" * 1025)
    with pytest.raises(TelegramBadRequest, match="wrong number of media"):
        await bot.send_media_group(1001, [InputMediaPhoto(media=_photo_id(server))])


async def test_unknown_blocked_and_kicked_chats(server: FakeTelegram, bot: Bot) -> None:
    server.user(1001, "Алиса")
    server.group(-100500, "Ведомство")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(42, "кто здесь?")
    server.block_bot(1001)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1001, "привет")
    server.remove_bot(-100500)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await bot.send_message(-100500, "карточка")


async def test_updates_are_long_polled_and_confirmed_by_offset(server: FakeTelegram, bot: Bot) -> None:
    alice = server.user(1001, "Алиса")
    assert await bot.get_updates(timeout=0) == []
    first = server.send_message(alice, "/start")
    server.send_location(alice, 52.72, 41.45)
    updates = await bot.get_updates(timeout=1)
    assert [u.message.message_id for u in updates if u.message] == [
        first["message_id"],
        first["message_id"] + 1,
    ]
    again = await bot.get_updates(timeout=0)
    assert len(again) == 2, "not confirmed yet: delivered again"
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert server.pending_updates == []


async def test_button_press_needs_the_button_and_one_answer(server: FakeTelegram, bot: Bot) -> None:
    alice = server.user(1001, "Алиса")
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]])
    message = await bot.send_message(1001, "Согласны?", reply_markup=markup)
    with pytest.raises(AssertionError, match="no button 'Нет'"):
        server.press_button(alice, 1001, message.message_id, "Нет")
    query = server.press_button(alice, 1001, message.message_id, "Да")
    [update] = await bot.get_updates(timeout=1)
    assert update.callback_query is not None and update.callback_query.data == "yes"
    assert await bot.answer_callback_query(query, text="Принято")
    assert server.callback_answers[query]["text"] == "Принято"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query)


async def test_edits_must_change_something(server: FakeTelegram, bot: Bot) -> None:
    server.user(1001, "Алиса")
    message = await bot.send_message(1001, "Статус: новое")
    await bot.edit_message_text("Статус: в работе", chat_id=1001, message_id=message.message_id)
    assert server.chats[1001].message(message.message_id)["text"] == "Статус: в работе"  # type: ignore[index]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Статус: в работе", chat_id=1001, message_id=message.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("?", chat_id=1001, message_id=999)


async def test_injected_faults(server: FakeTelegram, bot: Bot) -> None:
    server.user(1001, "Алиса")
    server.fail_next(1, kind="429", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(1001, "раз")
    assert retry.value.retry_after == 7
    server.fail_next(1, method="sendMessage", kind="500")
    with pytest.raises(TelegramServerError):
        await bot.send_message(1001, "два")
    server.fail_next(1, kind="502html")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(1001, "три")
    server.fail_next(1, kind="drop")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1001, "четыре")
    server.fail_next(1, kind="drop_after")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1001, "пять")
    await bot.send_message(1001, "шесть")
    seen = [m["text"] for m in server.chats[1001].bot_messages()]
    assert seen == ["пять", "шесть"], "a dropped answer still delivered the message; a dropped call did not"


async def test_limits_enforcer_answers_429_in_a_busy_group(server: FakeTelegram, bot: Bot) -> None:
    server.group(-100500, "Ведомство")
    server.enforce_limits()
    for number in range(20):
        await bot.send_message(-100500, f"карточка {number}")
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(-100500, "двадцать первая")
    assert 50 <= retry.value.retry_after <= 60
    assert server.limit_stats.rate_limited == 1
    assert server.limit_stats.calls == 21


async def test_files_round_trip(server: FakeTelegram, bot: Bot) -> None:
    alice = server.user(1001, "Алиса")
    [message] = server.send_photos(alice, 1, caption="яма")
    largest = message["photo"][-1]
    file = await bot.get_file(largest["file_id"])
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read().startswith(b"\x89PNG")


def _photo_id(server: FakeTelegram) -> str:
    file_id, _unique = server._store_file(b"\x89PNG fake", prefix="photo")
    return file_id


def _markup(**button: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="кнопка", **button)]])


def _album(server: FakeTelegram, count: int) -> list[InputMediaPhoto]:
    return [InputMediaPhoto(media=_photo_id(server)) for _ in range(count)]


def _big_file(server: FakeTelegram, size: int) -> str:
    file_id, _unique = server._store_file(b"\0" * size, prefix="document")
    return file_id


Call = Callable[[FakeTelegram, Bot, bool], Awaitable[object]]
"""One documented limit: the call just within it (False) or just beyond it (True)."""

LIMITS: dict[str, tuple[Call, str]] = {
    "text 4096 characters after entities": (
        lambda s, b, beyond: b.send_message(1001, "<b>" + "а" * (4096 + beyond) + "</b>", parse_mode="HTML"),
        "message is too long",
    ),
    "caption 1024 characters": (
        lambda s, b, beyond: b.send_photo(1001, _photo_id(s), caption="п" * (1024 + beyond)),
        "caption is too long",
    ),
    "callback_data 64 bytes": (
        lambda s, b, beyond: b.send_message(
            1001, "т", reply_markup=_markup(callback_data="д" * 32 + "x" * beyond)
        ),
        "BUTTON_DATA_INVALID",
    ),
    "album of at most 10": (
        lambda s, b, beyond: b.send_media_group(1001, _album(s, 10 + beyond)),
        "wrong number of media",
    ),
    "album of at least 2": (
        lambda s, b, beyond: b.send_media_group(1001, _album(s, 2 - beyond)),
        "wrong number of media",
    ),
    "downloads up to 20 MB": (
        lambda s, b, beyond: b.get_file(_big_file(s, 20 * 1024 * 1024 + beyond)),
        "file is too big",
    ),
    "photo uploads up to 10 MB": (
        lambda s, b, beyond: b.send_photo(
            1001, BufferedInputFile(b"\0" * (10 * 1024 * 1024 + beyond), "p.jpg")
        ),
        "photo is too big",
    ),
    "link buttons open http(s) or tg:// only": (
        lambda s, b, beyond: b.send_message(
            1001, "т", reply_markup=_markup(url="ftp://x.ru" if beyond else "https://x.ru")
        ),
        "URL is invalid",
    ),
    "input field placeholder 64 characters": (
        lambda s, b, beyond: b.send_message(
            1001, "т", reply_markup=ForceReply(force_reply=True, input_field_placeholder="п" * (64 + beyond))
        ),
        "placeholder is too long",
    ),
    "command 1-32 lowercase letters, digits, _": (
        lambda s, b, beyond: b.set_my_commands(
            [BotCommand(command="Start" if beyond else "start_1", description="старт")]
        ),
        "BOT_COMMAND_INVALID",
    ),
    "command description 256 characters": (
        lambda s, b, beyond: b.set_my_commands(
            [BotCommand(command="start", description="о" * (256 + beyond))]
        ),
        "BOT_COMMAND_DESCRIPTION_INVALID",
    ),
}


@pytest.mark.parametrize("limit", list(LIMITS))
async def test_telegram_refuses_what_is_beyond_each_documented_limit(
    server: FakeTelegram, bot: Bot, limit: str
) -> None:
    call, error = LIMITS[limit]
    server.user(1001, "Алиса")
    await call(server, bot, False)
    shown = len(server.chats[1001].bot_messages())
    with pytest.raises(TelegramBadRequest, match=error):
        await call(server, bot, True)
    assert len(server.chats[1001].bot_messages()) == shown, "nothing beyond the limit is shown"


async def test_a_toast_of_at_most_200_characters(server: FakeTelegram, bot: Bot) -> None:
    alice = server.user(1001, "Алиса")
    sent = await bot.send_message(1001, "т", reply_markup=_markup(callback_data="x"))
    first = server.press_button(alice, 1001, sent.message_id, "кнопка")
    second = server.press_button(alice, 1001, sent.message_id, "кнопка")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(first, text="т" * 201)
    assert await bot.answer_callback_query(second, text="т" * 200)
