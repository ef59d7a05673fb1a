"""What residents and staff do on VK, as the core sees it."""

from __future__ import annotations

from bot.vk.events import encode_payload, translate, unpack_callback
from bot.vk.render import html_to_text
from handlers.events import ChatKind, ChatRef, Location, MediaKind, PersonRef, Platform
from tests.fake_vk import FakeVk

RESIDENT = 501
AGENCY_CHAT = 2_000_000_001


async def test_a_resident_writes_in_a_private_chat() -> None:
    async with FakeVk() as vk:
        await vk.user_writes(RESIDENT, "Яма на дороге у дома 5")
        event = translate(vk.updates[-1])

    assert event is not None
    assert event.chat == ChatRef(Platform.VK, "501")
    assert event.chat_kind is ChatKind.PRIVATE
    assert event.sender == PersonRef(Platform.VK, "501")
    assert event.text == "Яма на дороге у дома 5"
    assert event.payload is None
    assert event.message_id == "1"
    assert event.update_id == vk.updates[-1]["event_id"]


async def test_start_button_and_the_word_start_become_slash_start() -> None:
    async with FakeVk() as vk:
        await vk.user_writes(RESIDENT, "Начать", payload='{"command":"start"}')
        await vk.user_writes(RESIDENT, "начать")
        pressed, typed = (translate(u) for u in vk.updates)

    assert pressed is not None and typed is not None
    assert pressed.command == ("start", "")
    assert typed.command == ("start", "")


async def test_a_text_button_with_our_payload() -> None:
    async with FakeVk() as vk:
        await vk.user_writes(RESIDENT, "Дороги", payload=encode_payload("cat:roads"))
        event = translate(vk.updates[-1])
    assert event is not None
    assert (event.text, event.payload) == ("Дороги", "cat:roads")


async def test_a_callback_button_press_carries_what_is_needed_to_answer_it() -> None:
    async with FakeVk() as vk:
        vk.bot_said(
            RESIDENT,
            "Выберите категорию",
            keyboard={
                "inline": True,
                "buttons": [
                    [{"action": {"type": "callback", "label": "ЖКХ", "payload": '{"p":"cat:housing"}'}}]
                ],
            },
        )
        await vk.user_presses(RESIDENT, "ЖКХ")
        event = translate(vk.updates[-1])

    assert event is not None
    assert event.payload == "cat:housing"
    assert event.sender == PersonRef(Platform.VK, "501")
    assert event.callback_id is not None
    event_id, user_id, peer_id = unpack_callback(event.callback_id)
    assert (user_id, peer_id) == (RESIDENT, RESIDENT)
    assert event_id in vk.pending_events


async def test_a_photo_arrives_at_its_largest_size() -> None:
    async with FakeVk() as vk:
        await vk.user_sends_photo(RESIDENT, b"pothole", text="вот")
        event = translate(vk.updates[-1])
        photo = next(iter(vk.photos.values()))

    assert event is not None and len(event.media) == 1
    media = event.media[0]
    assert media.kind is MediaKind.PHOTO
    assert media.platform is Platform.VK
    assert media.ref == f"photo{RESIDENT}_{photo.id}_{photo.access_key}"
    assert media.url is not None and media.url.endswith("?size=y")
    assert event.text == "вот"


async def test_location_and_other_attachments() -> None:
    async with FakeVk() as vk:
        await vk.user_sends_geo(RESIDENT, 52.72, 41.45)
        for kind in ("audio_message", "video", "sticker", "doc", "audio"):
            await vk.user_sends_attachment(RESIDENT, kind)
        events = [translate(u) for u in vk.updates]

    assert events[0] is not None and events[0].location == Location(52.72, 41.45)
    kinds = [e.media[0].kind for e in events[1:] if e is not None]
    assert kinds == [MediaKind.VOICE, MediaKind.VIDEO, MediaKind.STICKER, MediaKind.DOCUMENT, MediaKind.AUDIO]


async def test_staff_reply_in_a_conversation_refers_to_the_conversation_message_id() -> None:
    async with FakeVk() as vk:
        card = vk.bot_said(AGENCY_CHAT, "Обращение № 2026-000001")
        await vk.user_writes(AGENCY_CHAT, "коллеги, беру", from_id=42)
        await vk.staff_replies(AGENCY_CHAT, 42, card, "Яму засыплем до пятницы")
        chatter, answer = (translate(u) for u in vk.updates)

    assert chatter is not None and answer is not None
    assert answer.chat == ChatRef(Platform.VK, str(AGENCY_CHAT))
    assert answer.chat_kind is ChatKind.GROUP
    assert answer.sender == PersonRef(Platform.VK, "42")
    assert answer.reply_to_message_id == str(card.conversation_message_id)
    assert answer.message_id == "3"
    assert chatter.reply_to_message_id is None
    assert chatter.text == "коллеги, беру", "«начать» is only a command in private chats"


async def test_edits_and_what_the_core_does_not_need() -> None:
    edit = {
        "type": "message_edit",
        "event_id": "e1",
        "object": {
            "peer_id": RESIDENT,
            "from_id": RESIDENT,
            "id": 7,
            "text": "Яма у дома 7",
            "attachments": [],
        },
    }
    outgoing = {
        "type": "message_new",
        "event_id": "e2",
        "object": {"message": {"peer_id": RESIDENT, "from_id": -123456, "id": 8, "out": 1, "text": "эхо"}},
    }
    typing = {"type": "message_typing_state", "event_id": "e3", "object": {"from_id": RESIDENT}}

    edited = translate(edit)
    assert edited is not None and edited.edited and edited.text == "Яма у дома 7"
    assert translate(outgoing) is None
    assert translate(typing) is None


def test_html_becomes_plain_text() -> None:
    text = (
        "<b>Обращение № 2026-000001</b>\n<i>Категория:</i> Дороги\n"
        'Подробнее: <a href="https://gosuslugi.ru/pos?a=1&amp;b=2">на портале</a>\n'
        "Текст жителя: &lt;script&gt; &amp; «кавычки»\n<code>42</code>"
    )
    assert html_to_text(text) == (
        "Обращение № 2026-000001\nКатегория: Дороги\n"
        "Подробнее: на портале (https://gosuslugi.ru/pos?a=1&b=2)\n"
        "Текст жителя: <script> & «кавычки»\n42"
    )
