"""VK's Callback API endpoint, driven by the fake VK as VK drives it: the confirmation,
the secret, "ok" only once the event is stored, and VK's retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.vk.callback import VkCallbackServer
from tests.fake_vk import GROUP_ID, FakeVk

SECRET = "s3cr3t-key"
CONFIRMATION = "a1b2c3d4"


class Store:
    """A receiver that keeps events (and can be made to fail, like a database that is down)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failures = 0

    async def __call__(self, events: Sequence[dict[str, Any]]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database is down")
        self.events.extend(events)


@asynccontextmanager
async def endpoint(store: Store) -> AsyncIterator[VkCallbackServer]:
    server = VkCallbackServer(store, group_id=GROUP_ID, confirmation_code=CONFIRMATION, secret=SECRET, port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_confirmation_is_answered_with_the_communitys_string_only() -> None:
    store = Store()
    async with FakeVk() as vk, endpoint(store) as server:
        assert await vk.confirm(server.url) == (200, CONFIRMATION)
        async with aiohttp.ClientSession() as http:
            other = {"type": "confirmation", "group_id": GROUP_ID + 1}
            async with http.post(server.url, json=other) as response:
                assert (response.status, await response.text()) == (403, "unknown community")
            async with http.get(server.url.replace("/vk/callback", "/healthz")) as response:
                assert response.status == 200
    assert store.events == []


async def test_events_are_ok_only_once_stored_and_retried_until_then() -> None:
    store = Store()
    store.failures = 2
    async with FakeVk() as vk, endpoint(store) as server:
        vk.start_callbacks([server.url], secret=SECRET)
        await vk.user_writes(501, "Здравствуйте")
        await vk.wait_until(vk.callbacks_done)

    assert [(p.status, p.body) for p in vk.callback_posts] == [(500, "not stored")] * 2 + [(200, "ok")]
    [event] = store.events
    assert event["type"] == "message_new" and event["object"]["message"]["text"] == "Здравствуйте"
    assert "secret" not in event, "the secret is not stored"


async def test_a_wrong_or_missing_secret_stores_nothing() -> None:
    store = Store()
    async with FakeVk() as vk, endpoint(store) as server:
        vk.callback_tries = 2
        vk.start_callbacks([server.url], secret="guessed")
        await vk.user_writes(501, "Здравствуйте")
        await vk.wait_until(vk.callbacks_done)
        vk.start_callbacks([server.url], secret=None)
        await vk.user_writes(501, "Ещё раз")
        await vk.wait_until(vk.callbacks_done)

    assert [(p.status, p.body) for p in vk.callback_posts] == [(403, "bad secret")] * 4
    assert store.events == [] and server.refused == 4
