"""Translation of updates into events, and rendering of replies into Bot API calls,
against the fake server through aiogram's real client."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiohttp import web

from bot.ratelimit import Limits, RateLimiter
from bot.telegram.render import TEXT_LIMIT, plain_length, split_html
from bot.telegram.translate import BOT_ADDED, to_event
from bot.telegram.transport import TelegramTransport, make_bot
from bot.transport import PermanentFailure, RetryLater, TransientFailure
from handlers.events import (
    Button,
    ButtonRequest,
    ChatKind,
    Contact,
    Event,
    Location,
    Media,
    MediaKind,
    Platform,
    Reply,
)
from tests.fake_telegram import BOT_ID, FakeTelegram, parse_html

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(f"{BOT_ID}:TEST") as fake:
        fake.user(1001, "Алиса")
        fake.group(-1001000000001, "Дорожное хозяйство")
        yield fake


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(server.token, server.base_url)
    yield client
    await client.session.close()


@pytest.fixture
async def transport(bot: Bot) -> AsyncIterator[TelegramTransport]:
    async with aiohttp.ClientSession() as http:
        # No pacing (these tests are about rendering), but a 429 still holds the chat off.
        yield TelegramTransport(bot, RateLimiter(Limits(per_second=1000)), http)


async def _events(bot: Bot) -> list[Event]:
    updates = await bot.get_updates(timeout=1)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return [e for e in (to_event(u) for u in updates) if e is not None]


# -- translation ------------------------------------------------------------------------------


async def test_a_residents_messages_become_events(server: FakeTelegram, bot: Bot) -> None:
    alice = server.users[1001]
    server.send_message(alice, "/start")
    server.send_location(alice, 52.72, 41.45)
    server.send_contact(alice, "+79001234567")
    server.send_contact(alice, "+79007654321", owner=2002, first_name="Сосед")
    server.send_photos(alice, 3, caption="Яма у дома")
    server.send_media(alice, "sticker")
    sent = server.send_message(alice, "Ул. Ленина, 5")
    server.edit_message(alice, sent["message_id"], "Ул. Ленина, 7")
    start, location, own, foreign, *album, sticker, text, edited = await _events(bot)

    assert start.command == ("start", "") and start.chat_kind is ChatKind.PRIVATE
    assert start.sender is not None and str(start.sender) == "telegram:1001"
    assert start.sender_name == "Алиса" and start.chat.chat_id == "1001"
    assert location.location == Location(52.72, 41.45)
    assert own.contact == Contact("+79001234567", owner_id="1001")
    assert foreign.contact == Contact("+79007654321", owner_id="2002")
    assert len(album) == 3 and len({e.media_group_id for e in album}) == 1
    assert album[0].text == "Яма у дома" and album[1].text is None
    photo = album[0].media[0]
    assert photo.kind is MediaKind.PHOTO and photo.platform is Platform.TELEGRAM
    assert photo.ref == server.chats[1001].history[4]["photo"][-1]["file_id"], "the largest size"
    assert photo.unique_id == server.chats[1001].history[4]["photo"][-1]["file_unique_id"]
    assert sticker.media[0].kind is MediaKind.STICKER
    assert text.text == "Ул. Ленина, 5" and not text.edited
    assert edited.text == "Ул. Ленина, 7" and edited.edited and edited.message_id == text.message_id


async def test_staff_replies_buttons_and_being_added(
    server: FakeTelegram, bot: Bot, transport: TelegramTransport
) -> None:
    inspector = server.user(5001, "Инспектор")
    [card_id] = await transport.deliver(
        "-1001000000001",
        Reply(text="Обращение № 1", buttons=((Button("Взять в работу", payload="take:1"),),)),
    )
    server.send_message(inspector, "Отремонтируем", chat_id=-1001000000001, reply_to=int(card_id))
    server.press_button(inspector, -1001000000001, int(card_id), "Взять в работу")
    server.add_bot_to_group(inspector, server.group(-1001000000002, "Новое ведомство"))
    reply, press, added = await _events(bot)

    assert reply.chat_kind is ChatKind.GROUP and reply.chat.chat_id == "-1001000000001"
    assert reply.reply_to_message_id == card_id and reply.text == "Отремонтируем"
    assert press.payload == "take:1" and press.callback_id and press.message_id == card_id
    assert press.chat.chat_id == "-1001000000001" and press.sender_name == "Инспектор"
    assert added.payload == BOT_ADDED and added.callback_id is None
    assert added.chat.chat_id == "-1001000000002"


# -- rendering ---------------------------------------------------------------------------------


async def test_text_with_inline_buttons_and_a_reply_to(
    server: FakeTelegram, transport: TelegramTransport
) -> None:
    alice = server.users[1001]
    asked = server.send_message(alice, "Что с моим обращением?")
    ids = await transport.deliver(
        "1001",
        Reply(
            text="<b>Ваше обращение</b> принято: «Яма &amp; лужа»",
            buttons=((Button("Мои обращения", payload="my"), Button("Сайт", url="https://gosuslugi.ru")),),
            reply_to=str(asked["message_id"]),
        ),
    )
    message = server.chats[1001].message(int(ids[0]))
    assert message is not None
    assert message["text"] == "Ваше обращение принято: «Яма & лужа»"
    assert message["reply_to_message"]["message_id"] == asked["message_id"]
    assert message["reply_markup"]["inline_keyboard"] == [
        [{"text": "Мои обращения", "callback_data": "my"}, {"text": "Сайт", "url": "https://gosuslugi.ru"}]
    ]


async def test_reply_keyboards_removal_and_force_reply(
    server: FakeTelegram, transport: TelegramTransport
) -> None:
    await transport.deliver(
        "1001",
        Reply(
            text="Отправьте геолокацию",
            keyboard=(
                (Button("📍 Отправить геолокацию", request=ButtonRequest.LOCATION),),
                (Button("Пропустить"),),
            ),
        ),
    )
    await transport.deliver("1001", Reply(text="Спасибо", remove_keyboard=True))
    await transport.deliver("-1001000000001", Reply(text="Напишите ответ", force_reply=True))
    [kb, removal] = [m["_reply_markup"] for m in server.chats[1001].bot_messages()]
    assert kb["keyboard"] == [
        [{"text": "📍 Отправить геолокацию", "request_location": True}],
        [{"text": "Пропустить"}],
    ]
    assert kb["resize_keyboard"] and kb["one_time_keyboard"]
    assert removal == {"remove_keyboard": True}
    assert server.chats[-1001000000001].bot_messages()[0]["_reply_markup"]["force_reply"] is True


async def test_edit_in_place_and_unchanged_edits_are_fine(
    server: FakeTelegram, transport: TelegramTransport
) -> None:
    [card] = await transport.deliver(
        "-1001000000001", Reply(text="№ 1 — новое", buttons=((Button("Взять", payload="take"),),))
    )
    edit = Reply(text="№ 1 — <i>в работе</i>", edit_message_id=card)
    assert await transport.deliver("-1001000000001", edit) == [card]
    assert await transport.deliver("-1001000000001", edit) == [card], "'not modified' is not an error"
    message = server.chats[-1001000000001].message(int(card))
    assert message is not None and message["text"] == "№ 1 — в работе" and "reply_markup" not in message
    [new] = await transport.deliver("-1001000000001", Reply(text="заново", edit_message_id="999"))
    assert new != card, "a message that cannot be edited is sent anew"


async def test_one_photo_with_caption_or_followed_by_long_text(
    server: FakeTelegram, transport: TelegramTransport
) -> None:
    alice = server.users[1001]
    [sent] = server.send_photos(alice, 1)
    photo = Media(MediaKind.PHOTO, Platform.TELEGRAM, sent["photo"][-1]["file_id"])
    short = await transport.deliver("1001", Reply(text="Фото <b>ямы</b>", photos=(photo,)))
    long = await transport.deliver("1001", Reply(text="Очень длинно. " * 100, photos=(photo,)))
    history = server.chats[1001]
    first = history.message(int(short[0]))
    assert len(short) == 1 and first is not None and first["caption"] == "Фото ямы"
    assert first["photo"][0]["file_id"] == photo.ref, "resent by file_id"
    assert len(long) == 2
    assert "caption" not in (history.message(int(long[0])) or {})
    assert (history.message(int(long[1])) or {})["text"].startswith("Очень длинно.")


async def test_album_text_and_location_in_order(server: FakeTelegram, transport: TelegramTransport) -> None:
    alice = server.users[1001]
    sent = server.send_photos(alice, 3)
    photos = tuple(Media(MediaKind.PHOTO, Platform.TELEGRAM, m["photo"][-1]["file_id"]) for m in sent)
    ids = await transport.deliver(
        "-1001000000001",
        Reply(
            text="Обращение № 7",
            photos=photos,
            location=Location(52.72, 41.45),
            buttons=((Button("Взять", payload="take:7"),),),
        ),
    )
    assert [c.method for c in server.calls] == ["sendMediaGroup", "sendMessage", "sendLocation"]
    messages = [server.chats[-1001000000001].message(int(i)) or {} for i in ids]
    assert len(messages) == 5
    assert len({m["media_group_id"] for m in messages[:3]}) == 1
    assert messages[3]["text"] == "Обращение № 7"
    assert messages[4]["location"] == {"latitude": 52.72, "longitude": 41.45}
    assert "reply_markup" in messages[4] and "reply_markup" not in messages[3], "buttons on the last message"


async def test_chart_and_foreign_photos_are_uploaded(
    server: FakeTelegram, transport: TelegramTransport
) -> None:
    async def vk_photo(_request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/photo.png", vk_photo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        chart = Media(
            MediaKind.PHOTO,
            Platform.TELEGRAM,
            "chart",
            url="data:image/png;base64," + base64.b64encode(PNG).decode(),
        )
        vk = Media(MediaKind.PHOTO, Platform.VK, "photo-1_2_abc", url=f"http://127.0.0.1:{port}/photo.png")
        ids = await transport.deliver("-1001000000001", Reply(text="Дайджест", photos=(chart, vk)))
    finally:
        await runner.cleanup()
    uploaded = [server.chats[-1001000000001].message(int(i)) or {} for i in ids[:2]]
    for message in uploaded:
        file_id = message["photo"][-1]["file_id"]
        assert server.files[file_id][1] == PNG, "the bytes arrived as an upload"
    fetched = await transport.fetch(
        Media(MediaKind.PHOTO, Platform.TELEGRAM, uploaded[0]["photo"][-1]["file_id"])
    )
    assert fetched == PNG


async def test_long_texts_are_split_without_breaking_markup(
    server: FakeTelegram, transport: TelegramTransport
) -> None:
    paragraph = "<b>Раздел</b>\n" + "строка отчёта &amp; цифры\n" * 60
    text = "\n".join([paragraph] * 8)
    assert plain_length(text) > 8000
    ids = await transport.deliver("1001", Reply(text=text, buttons=((Button("Ещё", payload="more"),),)))
    messages = [server.chats[1001].message(int(i)) or {} for i in ids]
    assert len(messages) >= 3
    assert all(len(m["text"]) <= 4096 for m in messages)
    assert all(not m["text"].startswith(("\n", " ")) for m in messages)
    assert "reply_markup" in messages[-1] and all("reply_markup" not in m for m in messages[:-1])
    for part in split_html("<i>" + "слово " * 2000 + "</i>"):
        parse_html(part)  # every part is valid Telegram HTML on its own


async def test_errors_become_transport_errors(server: FakeTelegram, transport: TelegramTransport) -> None:
    server.fail_next(1, kind="429", retry_after=3)
    with pytest.raises(RetryLater) as retry:
        await transport.deliver("1001", Reply(text="раз"))
    assert retry.value.retry_after == 3
    server.fail_next(1, kind="500")
    with pytest.raises(TransientFailure):
        await transport.deliver("-1001000000001", Reply(text="два"))
    server.fail_next(1, kind="502html")
    with pytest.raises(TransientFailure):
        await transport.deliver("-1001000000001", Reply(text="три"))
    server.fail_next(1, kind="drop")
    with pytest.raises(TransientFailure):
        await transport.deliver("-1001000000001", Reply(text="четыре"))
    with pytest.raises(PermanentFailure) as unknown:
        await transport.deliver("31337", Reply(text="кто здесь"))
    assert unknown.value.reason == "chat_not_found"
    with pytest.raises(PermanentFailure) as bad:
        await transport.deliver("-1001000000001", Reply(text="<b>сломано"))
    assert bad.value.reason == "bad_request"
    server.block_bot(1001)
    with pytest.raises(PermanentFailure) as blocked:
        await transport.deliver("1001", Reply(text="вы здесь?"))
    assert blocked.value.reason == "blocked"
    server.remove_bot(-1001000000001)
    with pytest.raises(PermanentFailure) as kicked:
        await transport.deliver("-1001000000001", Reply(text="карточка"))
    assert kicked.value.reason == "forbidden"


async def test_a_429_holds_that_chat_off(server: FakeTelegram, transport: TelegramTransport) -> None:
    server.fail_next(1, kind="429", retry_after=1)
    with pytest.raises(RetryLater):
        await transport.deliver("1001", Reply(text="раз"))
    await transport.deliver("1001", Reply(text="два"))
    first, second = server.calls_of("sendMessage")
    assert second.at - first.at >= 0.95, "the limiter waited out retry_after before the next call"


async def test_callback_answers_carry_the_toast(server: FakeTelegram, transport: TelegramTransport) -> None:
    alice = server.users[1001]
    [message_id] = await transport.deliver("1001", Reply(text="?", buttons=((Button("Да", payload="y"),),)))
    query = server.press_button(alice, 1001, int(message_id), "Да")
    await transport.answer_callback(query, "Готово", alert=True)
    assert server.callback_answers[query]["text"] == "Готово"
    assert server.callback_answers[query]["show_alert"] is True
    await transport.answer_callback(query, None)  # too late: logged, not raised


def test_a_split_counts_what_telegram_counts() -> None:
    """3,000 emoji are 6,000 UTF-16 units: more than one message, whatever the characters."""
    parts = split_html("😀" * 3000)
    assert len(parts) == 2 and all(plain_length(part) <= TEXT_LIMIT for part in parts)
    assert "".join(parts) == "😀" * 3000
