"""Replies as a VK resident or an agency conversation sees them."""

from __future__ import annotations

import base64

import pytest

from bot.media import MediaRegistry, MediaUnavailable
from bot.transport import PermanentFailure, RetryLater, TransientFailure
from bot.vk.events import translate
from bot.vk.transport import vk_media_fetcher
from handlers.events import Button, ButtonRequest, Location, Media, MediaKind, Platform, Reply
from tests.fake_vk import FakeVk
from tests.support.vk import vk_api, vk_transport

RESIDENT = 501
AGENCY_CHAT = 2_000_000_001


async def test_inline_buttons_are_callback_buttons_with_our_payload() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        reply = Reply(
            text="<b>Выберите категорию</b>",
            buttons=(
                (Button("Дороги", payload="cat:roads"), Button("ЖКХ", payload="cat:housing")),
                (Button("Благоустройство дворов, парков, скверов и набережных", payload="cat:improvement"),),
                (Button("Портал «Госуслуги»", url="https://gosuslugi.ru/pos"),),
            ),
        )
        ids = await transport.deliver(str(RESIDENT), reply)
        await transport.api.close()

        message = vk.last_bot_message(RESIDENT)
        assert ids == [str(message.id)]
        assert message.text == "Выберите категорию"
        assert message.keyboard is not None and message.keyboard["inline"] is True
        assert message.labels() == [
            "Дороги",
            "ЖКХ",
            "Благоустройство дворов, парков, скверов…",
            "Портал «Госуслуги»",
        ]
        assert all(len(label) <= 40 for label in message.labels())
        await vk.user_presses(RESIDENT, "ЖКХ")
        assert vk.updates[-1]["object"]["payload"] == {"p": "cat:housing"}


async def test_ten_choices_share_rows_to_fit_one_inline_keyboard() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        districts = [f"Район {n}" for n in range(1, 11)]
        await transport.deliver(
            str(RESIDENT),
            Reply(
                text="Где это?",
                buttons=tuple((Button(d, payload=f"mun:{n}"),) for n, d in enumerate(districts)),
            ),
        )
        await transport.api.close()

    [message] = vk.bot_messages(RESIDENT)
    assert message.keyboard is not None
    assert len(message.keyboard["buttons"]) <= 6
    assert message.labels() == districts


async def test_an_eleventh_inline_button_goes_on_under_a_second_message() -> None:
    """VK's inline keyboard holds at most 10 buttons (the topic question of the example
    catalogue has 9 topics, «Назад» and «Отмена»): the rest follows, never error 911."""
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        topics = [Button(f"Тема {n}", payload=f"t:{n}") for n in range(9)]
        rows = [tuple(topics[i : i + 2]) for i in range(0, 9, 2)]
        nav = (Button("Назад", payload="nav:back"), Button("Отмена", payload="nav:cancel"))
        ids = await transport.deliver(str(RESIDENT), Reply(text="Выберите тему", buttons=(*rows, nav)))
        await transport.api.close()

    first, more = vk.bot_messages(RESIDENT)
    assert len(ids) == 2
    assert (first.text, more.text) == ("Выберите тему", "Ещё варианты:")
    assert first.labels() + more.labels() == [b.text for b in topics] + ["Назад", "Отмена"]
    for message in (first, more):
        assert message.keyboard is not None
        assert len(message.buttons()) <= 10 and len(message.keyboard["buttons"]) <= 6


async def test_a_payload_vk_would_refuse_is_a_bad_request_before_anything_is_sent() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        reply = Reply(text="Выберите", buttons=((Button("Длинная", payload="x" * 250),),))
        with pytest.raises(PermanentFailure) as failure:
            await transport.deliver(str(RESIDENT), reply)
        await transport.api.close()

    assert failure.value.reason == "bad_request"
    assert vk.method_calls("messages.send") == []


async def test_wide_buttons_stand_alone_and_long_rows_are_cut() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        row = tuple(Button(f"{n}", payload=f"n:{n}") for n in range(7))
        link = Button("Госуслуги", url="https://gosuslugi.ru")
        await transport.deliver(str(RESIDENT), Reply(text="Оцените", buttons=((row[0], link, *row[1:]),)))
        await transport.api.close()

    message = vk.last_bot_message(RESIDENT)
    assert message.keyboard is not None
    assert [[b["action"].get("label") for b in r] for r in message.keyboard["buttons"]] == [
        ["0"],
        ["Госуслуги"],
        ["1", "2", "3", "4", "5"],
        ["6"],
    ]


async def test_more_than_ten_photos_go_in_several_messages() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        for n in range(12):
            await vk.user_sends_photo(RESIDENT, f"photo {n}".encode())
        photos = [f"photo{p.owner_id}_{p.id}_{p.access_key}" for p in vk.photos.values()]
        media = tuple(Media(MediaKind.PHOTO, Platform.VK, ref) for ref in photos)
        await transport.deliver(str(RESIDENT), Reply(text="Фото к обращению", photos=media))
        await transport.api.close()

    album, last = vk.bot_messages(RESIDENT)
    assert (album.text, len(album.attachments)) == ("", 10)
    assert (last.text, len(last.attachments)) == ("Фото к обращению", 2)
    assert album.attachments + last.attachments == photos


async def test_more_buttons_than_one_keyboard_holds_go_on_in_further_messages() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        options = [f"Вариант {n}" for n in range(45)]
        ids = await transport.deliver(
            str(RESIDENT), Reply(text="Выберите", buttons=tuple((Button(o, payload=o),) for o in options))
        )
        await transport.api.close()

    sent = vk.bot_messages(RESIDENT)
    assert len(ids) == len(sent) == 5, "ten buttons an inline keyboard"
    assert [m.text for m in sent] == ["Выберите"] + ["Ещё варианты:"] * 4
    assert [label for m in sent for label in m.labels()] == options


async def test_a_location_request_is_a_normal_keyboard_and_contact_buttons_are_dropped() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        await transport.deliver(
            str(RESIDENT),
            Reply(
                text="Отправьте место или напишите адрес",
                keyboard=(
                    (Button("📍 Отправить место", request=ButtonRequest.LOCATION), Button("Пропустить")),
                    (Button("Поделиться номером", request=ButtonRequest.CONTACT),),
                ),
            ),
        )
        await transport.deliver(str(RESIDENT), Reply(text="Спасибо!", remove_keyboard=True))
        await transport.api.close()

    asked, thanked = vk.bot_messages(RESIDENT)
    assert asked.keyboard is not None and asked.keyboard["inline"] is False
    assert [b["action"]["type"] for b in asked.buttons()] == ["location", "text"]
    assert asked.labels() == ["location", "Пропустить"]
    assert thanked.keyboard == {"one_time": True, "buttons": []}


async def test_a_long_text_is_split_and_markup_stripped() -> None:
    paragraph = "Очень подробное описание проблемы со всеми деталями. " * 20
    text = "<b>Ваше обращение</b>\n\n" + "\n\n".join([paragraph.strip()] * 9)
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        ids = await transport.deliver(
            str(RESIDENT), Reply(text=text, buttons=((Button("Готово", payload="done"),),))
        )
        await transport.api.close()

    sent = vk.bot_messages(RESIDENT)
    assert len(ids) == len(sent) == 3
    assert all(len(m.text) <= 4096 for m in sent)
    assert sent[0].text.startswith("Ваше обращение\n\n")
    assert " ".join(" ".join(m.text for m in sent).split()) == " ".join(
        ("Ваше обращение " + " ".join([paragraph.strip()] * 9)).split()
    )
    assert [m.keyboard is not None for m in sent] == [False, False, True], "buttons go under the last part"


async def test_a_retry_after_a_lost_answer_is_shown_once() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        vk.fail_next("messages.send", drop=True, after=True)
        reply = Reply(text="Обращение принято")
        with pytest.raises(TransientFailure):
            await transport.deliver(str(RESIDENT), reply, idempotency_key="appeal-1-accepted")
        ids = await transport.deliver(str(RESIDENT), reply, idempotency_key="appeal-1-accepted")
        again = await transport.deliver(str(RESIDENT), reply, idempotency_key="appeal-1-accepted")
        other = await transport.deliver(str(RESIDENT), reply, idempotency_key="appeal-2-accepted")
        await transport.api.close()

    assert [m.text for m in vk.bot_messages(RESIDENT)] == ["Обращение принято", "Обращение принято"]
    assert ids == again == [str(vk.bot_messages(RESIDENT)[0].id)]
    assert other != ids
    sends = vk.method_calls("messages.send")
    assert len({s["random_id"] for s in sends[:3]}) == 1
    assert sends[0]["random_id"] != "0"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"error_code": 6}, RetryLater),
        ({"error_code": 9}, RetryLater),
        ({"error_code": 901}, PermanentFailure),
        ({"error_code": 902}, PermanentFailure),
        ({"error_code": 7}, PermanentFailure),
        ({"error_code": 914}, PermanentFailure),
        ({"error_code": 10}, TransientFailure),
        ({"http_status": 502}, TransientFailure),
        ({"drop": True}, TransientFailure),
    ],
)
async def test_vk_errors_become_delivery_errors(fault: dict[str, object], expected: type[Exception]) -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk, too_many_pause=0.5, flood_pause=30.0)
        vk.fail_next("messages.send", **fault)  # type: ignore[arg-type]
        with pytest.raises(expected) as raised:
            await transport.deliver(str(RESIDENT), Reply(text="Ответ ведомства"))
        await transport.api.close()
    assert vk.bot_messages(RESIDENT) == []
    error = raised.value
    if isinstance(error, RetryLater):
        assert error.retry_after == (0.5 if fault["error_code"] == 6 else 30.0)
    if isinstance(error, PermanentFailure):
        assert error.reason == ("bad_request" if fault["error_code"] == 914 else "blocked")


async def test_photos_are_resent_by_reference_or_uploaded_from_bytes() -> None:
    telegram_photo = b"telegram photo bytes"
    fetched: list[str] = []

    async def telegram_fetcher(media: Media) -> bytes:
        fetched.append(media.ref)
        return telegram_photo

    registry = MediaRegistry()
    registry.register(Platform.TELEGRAM, telegram_fetcher)
    async with FakeVk() as vk:
        await vk.user_sends_photo(RESIDENT, b"resident photo")
        vk_photo = next(iter(vk.photos.values()))
        transport = vk_transport(vk, media=registry)
        await transport.deliver(
            str(AGENCY_CHAT),
            Reply(
                text="Фото к обращению",
                photos=(
                    Media(
                        MediaKind.PHOTO, Platform.VK, f"photo{RESIDENT}_{vk_photo.id}_{vk_photo.access_key}"
                    ),
                    Media(MediaKind.PHOTO, Platform.TELEGRAM, "AgACAgIAAxk", url=None),
                    Media(
                        MediaKind.PHOTO,
                        Platform.CONSOLE,
                        "inline",
                        url="data:image/png;base64," + base64.b64encode(b"console png").decode(),
                    ),
                ),
            ),
        )
        await transport.api.close()

        message = vk.last_bot_message(AGENCY_CHAT)
        assert message.text == "Фото к обращению"
        assert [vk.photo_bytes(a) for a in message.attachments] == [
            b"resident photo",
            telegram_photo,
            b"console png",
        ]
    assert fetched == ["AgACAgIAAxk"]


async def test_media_from_a_platform_nobody_registered_is_a_bad_request() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        with pytest.raises(PermanentFailure) as raised:
            await transport.deliver(
                str(RESIDENT), Reply(text="фото", photos=(Media(MediaKind.PHOTO, Platform.TELEGRAM, "AgAC"),))
            )
        await transport.api.close()
    assert raised.value.reason == "bad_request"
    assert vk.bot_messages(RESIDENT) == []


async def test_edits_replies_in_conversations_pins_and_toasts() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        staff = await vk.user_writes(AGENCY_CHAT, "что с обращением?", from_id=42)
        [card_id] = await transport.deliver(
            str(AGENCY_CHAT),
            Reply(text="Обращение № 2026-000001", buttons=((Button("Взять в работу", payload="take:1"),),)),
        )
        await transport.deliver(
            str(AGENCY_CHAT), Reply(text="Вот оно", reply_to=str(staff.conversation_message_id))
        )
        edited = await transport.deliver(
            str(AGENCY_CHAT), Reply(text="Обращение № 2026-000001 — в работе", edit_message_id=card_id)
        )
        await transport.deliver(
            str(RESIDENT),
            Reply(
                text="Место на карте",
                location=Location(52.7, 41.4),
                buttons=((Button("Верно", payload="ok"),),),
            ),
        )
        await transport.deliver(str(AGENCY_CHAT), Reply(location=Location(52.72, 41.45)))
        await vk.user_presses(RESIDENT, "Верно")
        press = translate(vk.updates[-1])
        assert press is not None and press.callback_id is not None
        await transport.answer_callback(press.callback_id, "Принято: <b>Дороги</b>")
        await transport.api.close()

    card, answer, bare_pin = vk.bot_messages(AGENCY_CHAT)
    assert (bare_pin.text, bare_pin.geo) == ("", (52.72, 41.45))
    assert card_id == str(card.conversation_message_id)
    assert edited == [card_id]
    assert (card.text, card.edited, card.buttons()) == ("Обращение № 2026-000001 — в работе", True, [])
    assert answer.reply_to == staff.conversation_message_id
    [pin] = vk.bot_messages(RESIDENT)
    assert (pin.text, pin.geo) == ("Место на карте", (52.7, 41.4))
    assert vk.event_answers == [
        {
            "user_id": RESIDENT,
            "peer_id": RESIDENT,
            "event_data": {"type": "show_snackbar", "text": "Принято: Дороги"},
        }
    ]


async def test_taking_the_keyboard_away_under_a_message_with_buttons() -> None:
    async with FakeVk() as vk:
        transport = vk_transport(vk)
        await transport.deliver(
            str(RESIDENT),
            Reply(
                text="Адрес записан. Что дальше?",
                buttons=((Button("Готово", payload="done"),),),
                remove_keyboard=True,
            ),
        )
        await transport.api.close()

    closed, question = vk.bot_messages(RESIDENT)
    assert (closed.text, closed.keyboard) == ("Клавиатура скрыта.", {"one_time": True, "buttons": []})
    assert question.labels() == ["Готово"]


async def test_vk_photos_are_fetched_for_other_platforms_and_gone_ones_say_so() -> None:
    async with FakeVk() as vk:
        await vk.user_sends_photo(RESIDENT, b"resident photo")
        api = vk_api(vk)
        fetch = vk_media_fetcher(api)
        [media] = [m for u in vk.updates if (e := translate(u)) is not None for m in e.media]
        data = await fetch(media)
        with pytest.raises(MediaUnavailable):
            await fetch(Media(MediaKind.PHOTO, Platform.VK, "photo1_2_3", url=f"{vk.base}/photos/1_2.jpg"))
        await api.close()
    assert data == b"resident photo"
