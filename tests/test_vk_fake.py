"""The fake VK server is as strict as VK: if it let mistakes through, the adapter's tests
would prove nothing."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.fake_vk import GROUP_ID, TOKEN, FakeVk, Photo


async def call(vk: FakeVk, method: str, **params: Any) -> dict[str, Any]:
    form = {"access_token": TOKEN, "v": "5.199", **{k: str(v) for k, v in params.items()}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{vk.base}/method/{method}", data=form) as resp,
    ):
        body: dict[str, Any] = await resp.json()
        return body


def inline(rows: list[list[dict[str, Any]]]) -> str:
    return json.dumps({"inline": True, "buttons": rows})


def callback(label: str, payload: str = '{"p":"x"}') -> dict[str, Any]:
    return {"action": {"type": "callback", "label": label, "payload": payload}}


async def test_a_message_reaches_the_person_and_a_repeated_random_id_is_sent_once() -> None:
    async with FakeVk() as vk:
        first = await call(vk, "messages.send", peer_id=501, random_id=77, message="Здравствуйте")
        again = await call(vk, "messages.send", peer_id=501, random_id=77, message="Здравствуйте")
        other = await call(vk, "messages.send", peer_id=502, random_id=77, message="Здравствуйте")

        assert first == again == {"response": first["response"]}
        assert other["response"] != first["response"]
        assert [m.text for m in vk.bot_messages(501)] == ["Здравствуйте"]
        assert [m.text for m in vk.bot_messages(502)] == ["Здравствуйте"]


async def test_random_id_zero_is_never_deduplicated() -> None:
    async with FakeVk() as vk:
        await call(vk, "messages.send", peer_id=501, random_id=0, message="раз")
        await call(vk, "messages.send", peer_id=501, random_id=0, message="раз")
        assert [m.text for m in vk.bot_messages(501)] == ["раз", "раз"]


def standard(rows: list[list[dict[str, Any]]]) -> str:
    return json.dumps({"one_time": False, "buttons": rows})


def text_button(label: str = "a") -> dict[str, Any]:
    return {"action": {"type": "text", "label": label}}


def wide(kind: str) -> dict[str, Any]:
    action: dict[str, Any] = {"type": kind}
    if kind == "open_link":
        action.update(link="https://vk.com", label="Сайт")
    return {"action": action}


# Each documented VK limit, just within it and just beyond (dev.vk.com, "Клавиатура для ботов"
# and "messages.send"); beyond is refused with VK's own error code and shows nothing.
LIMITS: dict[str, tuple[dict[str, Any], dict[str, Any], int]] = {
    "text 4096 characters": ({"message": "я" * 4096}, {"message": "я" * 4097}, 914),
    "10 attachments": (
        {"attachment": ",".join(["photo-1_1_k"] * 10)},
        {"attachment": ",".join(["photo-1_1_k"] * 11)},
        100,
    ),
    "label 40 characters": (
        {"keyboard": inline([[callback("x" * 40)]])},
        {"keyboard": inline([[callback("x" * 41)]])},
        911,
    ),
    "label not empty": ({"keyboard": inline([[callback("x")]])}, {"keyboard": inline([[callback("")]])}, 911),
    "payload 255 bytes": (
        {"keyboard": inline([[callback("a", json.dumps({"p": "x" * 246}))]])},
        {"keyboard": inline([[callback("a", json.dumps({"p": "x" * 247}))]])},
        911,
    ),
    "inline 6 rows": (
        {"keyboard": inline([[callback("a")]] * 6)},
        {"keyboard": inline([[callback("a")]] * 7)},
        911,
    ),
    "inline 10 buttons": (
        {"keyboard": inline([[callback("a")] * 5] * 2)},
        {"keyboard": inline([[callback("a")] * 5] * 2 + [[callback("b")]])},
        911,
    ),
    "5 buttons a row": (
        {"keyboard": inline([[callback("a")] * 5])},
        {"keyboard": inline([[callback("a")] * 6])},
        911,
    ),
    "standard 10 rows": (
        {"keyboard": standard([[text_button()]] * 10)},
        {"keyboard": standard([[text_button()]] * 11)},
        911,
    ),
    "standard 40 buttons": (
        {"keyboard": standard([[text_button()] * 5] * 8)},
        {"keyboard": standard([[text_button()] * 5] * 8 + [[text_button()]])},
        911,
    ),
    "location takes a row": (
        {"keyboard": standard([[wide("location")], [text_button()]])},
        {"keyboard": standard([[wide("location"), text_button()]])},
        911,
    ),
    "link takes a row": (
        {"keyboard": inline([[wide("open_link")], [callback("a")]])},
        {"keyboard": inline([[wide("open_link"), callback("a")]])},
        911,
    ),
    "one_time only on standard": (
        {"keyboard": standard([[text_button()]])},
        {"keyboard": json.dumps({"inline": True, "one_time": False, "buttons": [[callback("a")]]})},
        911,
    ),
}


@pytest.mark.parametrize("limit", list(LIMITS))
async def test_vk_refuses_what_is_beyond_each_documented_limit(limit: str) -> None:
    within, beyond, code = LIMITS[limit]
    async with FakeVk() as vk:
        vk.photos["-1_1"] = Photo(-1, 1, "k", b"a photo")  # what the attachments above name
        accepted = await call(vk, "messages.send", peer_id=1, random_id=1, **{"message": "t", **within})
        refused = await call(vk, "messages.send", peer_id=1, random_id=2, **{"message": "t", **beyond})

    assert "response" in accepted, accepted
    assert refused["error"]["error_code"] == code, refused
    assert {"key": "method", "value": "messages.send"} in refused["error"]["request_params"]
    assert len(vk.bot_messages(1)) == 1, "only what is within the limit was shown"


async def test_vk_rejects_what_vk_rejects() -> None:
    async with FakeVk() as vk:
        too_long = await call(vk, "messages.send", peer_id=1, random_id=1, message="я" * 4097)
        no_random = await call(vk, "messages.send", peer_id=1, message="текст")
        bad_token = await call(vk, "users.get", user_ids=1, access_token="stolen")

    assert too_long["error"]["error_msg"] == "Message is too long"
    assert no_random["error"]["error_code"] == 100
    assert bad_token["error"]["error_code"] == 5
    assert vk.bot_messages(1) == []


async def test_conversations_answer_with_conversation_message_ids() -> None:
    async with FakeVk() as vk:
        peer = 2_000_000_001
        await vk.user_writes(peer, "коллеги, привет", from_id=42)
        answer = await call(vk, "messages.send", peer_ids=peer, random_id=9, message="Карточка")
    assert answer["response"] == [{"peer_id": peer, "message_id": 2, "conversation_message_id": 2}]


async def test_twenty_requests_a_second_then_error_6() -> None:
    async with FakeVk(enforce_rate=True) as vk:
        answers = [await call(vk, "users.get", user_ids=1) for _ in range(25)]
    codes = [a.get("error", {}).get("error_code") for a in answers]
    assert codes[:20] == [None] * 20
    assert codes[20:] == [6] * 5
    assert vk.rate_limited == 5


async def test_injected_faults_come_in_vk_shapes() -> None:
    async with FakeVk() as vk:
        vk.fail_next("messages.send", error_code=9)
        vk.fail_next("messages.send", http_status=502)
        flood = await call(vk, "messages.send", peer_id=1, random_id=1, message="a")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{vk.base}/method/messages.send", data={"access_token": TOKEN, "v": "5.199"}
            ) as resp,
        ):
            assert resp.status == 502
        vk.fail_next("users.get", drop=True)
        dropped = False
        try:
            await call(vk, "users.get", user_ids=1)
        except aiohttp.ClientError:
            dropped = True
    assert flood["error"] == {
        "error_code": 9,
        "error_msg": "Flood control",
        "request_params": flood["error"]["request_params"],
    }
    assert dropped


async def test_long_poll_delivers_events_and_simulates_failures() -> None:
    async with FakeVk() as vk, aiohttp.ClientSession() as session:
        server = (await call(vk, "groups.getLongPollServer", group_id=GROUP_ID))["response"]

        async def poll(key: str, ts: str) -> dict[str, Any]:
            params = {"act": "a_check", "key": key, "ts": ts, "wait": "0"}
            async with session.get(server["server"], params=params) as resp:
                body: dict[str, Any] = await resp.json()
                return body

        await vk.user_writes(501, "первое")
        first = await poll(server["key"], server["ts"])
        assert [u["object"]["message"]["text"] for u in first["updates"]] == ["первое"]
        assert (await poll(server["key"], first["ts"]))["updates"] == []

        vk.fail_poll(2)
        assert await poll(server["key"], first["ts"]) == {"failed": 2}
        assert await poll(server["key"], first["ts"]) == {"failed": 2}, "the old key stays expired"
        fresh = (await call(vk, "groups.getLongPollServer", group_id=GROUP_ID))["response"]
        await vk.user_writes(501, "второе")
        second = await poll(fresh["key"], first["ts"])
        assert [u["object"]["message"]["text"] for u in second["updates"]] == ["второе"]

        vk.forget_history()
        assert await poll(fresh["key"], first["ts"]) == {"failed": 1, "ts": second["ts"]}


async def test_only_buttons_on_screen_can_be_pressed() -> None:
    async with FakeVk() as vk:
        normal = {"one_time": False, "buttons": [[{"action": {"type": "text", "label": "Пропустить"}}]]}
        vk.bot_said(501, "Где это?", keyboard=normal)
        vk.bot_said(501, "Место записано", keyboard={"one_time": True, "buttons": []})
        with pytest.raises(AssertionError, match="no button 'Пропустить'"):
            await vk.user_presses(501, "Пропустить")
