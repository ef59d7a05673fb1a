"""VK's Callback API endpoint, driven by the fake VK as VK drives it: the confirmation,
the secret, "ok" only once the event is stored, and VK's retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App, ConfigurationError, open_app
from bot.config import Settings, TelegramSettings, VkSettings
from bot.vk.callback import VkCallbackServer
from bot.vk.runner import VkRunner
from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from storage.db import Database
from storage.models import InboxUpdate
from tests.fake_vk import GROUP_ID, TOKEN, FakeVk
from tests.support.telegram import FAST_LIMITS, Telegram
from tests.support.vk import VkChat
from tests.test_vk_e2e import PETR, ROADS_TAMBOV_TG, file_roads_appeal, only_appeal

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


@asynccontextmanager
async def callback_app(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, vk: FakeVk, tg: Telegram
) -> AsyncIterator[App]:
    """The real app in callback mode (one worker), VK posting to it, agencies on Telegram."""
    settings = Settings(
        database_url=database_url,
        log_format="console",
        telegram=TelegramSettings(
            bot_token=SecretStr(tg.server.token), api_base=tg.server.base_url, poll_timeout=1
        ),
        vk=VkSettings(
            group_token=SecretStr(TOKEN),
            group_id=GROUP_ID,
            api_base=vk.base,
            mode="callback",
            callback_port=0,
            confirmation_code=SecretStr(CONFIRMATION),
            callback_secret=SecretStr(SECRET),
        ),
    )
    tg.add_catalogue_chats(catalogue)
    async with open_app(
        settings,
        clock=clock,
        catalogue=catalogue,
        setup_logging=False,
        jobs=None,
        telegram_limits=FAST_LIMITS,
    ) as app:
        yield app


def callback_url(app: App) -> str:
    [runner] = [c for c in app.channels if isinstance(c, VkRunner)]
    assert runner.callback is not None, "callback mode"
    return runner.callback.url


async def test_a_vk_resident_files_an_appeal_through_the_callback_api(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    async with FakeVk() as vk, callback_app(database_url, catalogue, clock, vk, tg) as app:
        url = callback_url(app)
        assert await vk.confirm(url) == (200, CONFIRMATION)
        vk.start_callbacks([url], secret=SECRET)
        vk.redeliver_next(3)  # VK missed three "ok"s and sends those events again
        vk.add_user(PETR, "Пётр", "Иванов")
        await file_roads_appeal(VkChat(vk, PETR), vk)
        assert vk.polls == 0, "no long poll in callback mode"

        appeal, _ = await only_appeal(db)
        assert (appeal.platform, appeal.category_id) == ("vk", "roads")
        card = await tg.group(ROADS_TAMBOV_TG).expect_message(f"Обращение № {appeal.number}")
        assert card is not None
        await vk.wait_until(vk.callbacks_done)
        async with db.read() as session:
            stored = await session.scalar(select(func.count()).select_from(InboxUpdate))
        sent = {p.event_id for p in vk.callback_posts}
        assert stored == len(sent) == len(vk.updates), "each event stored once, repeats too"
        assert len(vk.callback_posts) == len(sent) + 3
        texts = [m.text for m in vk.bot_messages(PETR)]
        assert len([t for t in texts if "Опишите проблему" in t]) == 1, "no step answered twice"


@pytest.mark.parametrize(
    ("missing", "problem"),
    [("confirmation_code", "VK_CONFIRMATION_CODE"), ("callback_secret", "VK_CALLBACK_SECRET")],
)
async def test_callback_mode_does_not_start_without_its_code_and_secret(
    database_url: str, catalogue: Catalogue, missing: str, problem: str
) -> None:
    vk = VkSettings(
        group_token=SecretStr(TOKEN),
        group_id=GROUP_ID,
        api_base="http://127.0.0.1:9",
        mode="callback",
        confirmation_code=SecretStr(CONFIRMATION),
        callback_secret=SecretStr(SECRET),
    )
    setattr(vk, missing, None)
    settings = Settings(database_url=database_url, log_format="console", vk=vk)
    with pytest.raises(ConfigurationError, match=problem):
        async with open_app(settings, catalogue=catalogue, setup_logging=False, jobs=None):
            pass
