"""Every VK event in ``tests/corpus/vk`` reaches the real bot in three places: a resident's
private chat in the middle of the dialogue, an agency's conversation, and a conversation the
catalogue does not know (VK has no channels; that conversation was told once that it is not
connected). Whatever it is, no traceback is logged; the resident gets a polite answer and
keeps their place; conversations hear nothing unless the bot is addressed; and the next
ordinary message is handled as usual.

One bot (and one fake VK) serves the whole module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App, open_app
from bot.config import Settings, VkSettings
from bot.vk.runner import VkRunner
from handlers.catalogue import EXAMPLE_PATH, load_catalogue
from handlers.clock import FrozenClock
from storage.migrate import upgrade
from storage.models import Dialogue, OutboxMessage, OutboxStatus, Resident
from tests.conftest import PG_URL, _reset_postgres
from tests.fake_vk import GROUP_ID, TOKEN, FakeVk, Message
from tests.support.corpus import load, names, place_vk

pytestmark = pytest.mark.asyncio(loop_scope="module")

PETR = 501
OFFICER = 42
AGENCY = 2_000_000_001
STRANGER = 2_000_000_002
PLACES = ("private", "agency", "stranger")
WHO_AND_WHERE = {"private": (PETR, PETR), "agency": (OFFICER, AGENCY), "stranger": (OFFICER, STRANGER)}
SHAPES = names("vk")
FAILURE = "что-то пошло не так"

SILENT = frozenset(
    {
        "from_community",
        "group_join",
        "group_leave",
        "like_add",
        "message_allow",
        "message_deny",
        "message_reaction",
        "message_read",
        "message_reply",
        "message_typing_state",
        "photo_new",
        "pinned",
        "title_changed",
        "unknown_type",
        "user_block",
        "user_invited",
        "user_kicked",
        "wall_post_new",
        "wall_reply_new",
    }
)
"""Nobody says anything to the bot in a chat: service notices, our own messages, events
of the community (wall, likes, members)."""
EDITS = frozenset({"message_edit"})
ADDRESSED_IN_AGENCY = {
    "bot_invited": "Команды бота",
    "conversation_mention": "Открытых обращений нет",
    "forwarded_command_text": "Команды бота",
    "start_button": "Команды бота",
}
"""What the agency's conversation hears, for the events that speak to the bot there."""


@dataclass
class World:
    vk: FakeVk
    app: App
    runner: VkRunner
    clock: FrozenClock
    seen: dict[int, int]

    def unread(self, peer: int) -> list[Message]:
        return self.vk.bot_messages(peer)[self.seen.get(peer, 0) :]

    def read_all(self) -> None:
        for peer in (PETR, AGENCY, STRANGER, OFFICER):
            self.seen[peer] = len(self.vk.bot_messages(peer))

    async def settle(self) -> None:
        await self.vk.wait_until(self.vk.caught_up, within=5)
        await asyncio.wait_for(self.runner.idle(), 5)
        db = self.app.ctx.db

        async def drained() -> None:
            while True:
                async with db.read() as session:
                    pending = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.PENDING.value)
                    )
                if not pending:
                    return
                await asyncio.sleep(0.02)

        await asyncio.wait_for(drained(), 5)

    async def expect(self, peer: int, contains: str) -> None:
        def arrived() -> bool:
            return any(contains in m.text for m in self.unread(peer))

        try:
            await self.vk.wait_until(arrived, within=5)
        except TimeoutError:
            unread = [m.text for m in self.unread(peer)]
            raise AssertionError(f"{peer} never heard {contains!r}: {unread}") from None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    if PG_URL:
        await _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('corpus-vk')) / 'appeals.db'}"
    await upgrade(url)
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    path = Path(tmp_path_factory.mktemp("catalogue")) / "catalogue.toml"
    path.write_text(
        text.replace('chats = ["telegram:-1001000000001"]', f'chats = ["vk:{AGENCY}"]'), encoding="utf-8"
    )
    catalogue = load_catalogue(path)
    clock = FrozenClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    async with FakeVk() as vk, AsyncExitStack() as stack:
        settings = Settings(
            database_url=url,
            log_format="console",
            data_dir=Path(tmp_path_factory.mktemp("data")),
            vk=VkSettings(group_token=SecretStr(TOKEN), group_id=GROUP_ID, api_base=vk.base, poll_wait=1),
        )
        app = await stack.enter_async_context(
            open_app(settings, clock=clock, catalogue=catalogue, setup_logging=False, jobs=None)
        )
        await vk.wait_until(vk.polling)
        runner = next(channel for channel in app.channels if isinstance(channel, VkRunner))
        w = World(vk, app, runner, clock, {})
        await vk.user_writes(PETR, "Начать", payload='{"command":"start"}')
        await w.expect(PETR, "152-ФЗ")
        await vk.user_presses(PETR, "Согласен")
        await w.expect(PETR, "Шаг 1")
        await vk.user_writes(STRANGER, "/help", from_id=OFFICER)
        await w.expect(STRANGER, "не подключён")
        await w.settle()
        yield w


async def _state(w: World) -> str:
    async with w.app.ctx.db.read() as session:
        resident = (await session.scalars(select(Resident).where(Resident.external_id == str(PETR)))).one()
        dialogue = await session.get(Dialogue, resident.id)
    assert dialogue is not None
    return dialogue.state


def _expected(shape: str, place: str) -> dict[int, str]:
    """Which chats hear something (peer id → what their last message says)."""
    if place == "stranger":
        return {}
    if place == "agency":
        return {AGENCY: ADDRESSED_IN_AGENCY[shape]} if shape in ADDRESSED_IN_AGENCY else {}
    if shape in SILENT or shape == "bot_invited":  # in a private chat: nobody said anything
        return {}
    if shape in EDITS:
        return {PETR: "не видит исправлений"}
    return {PETR: "Шаг 1"}


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_real_event(shape: str, world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    caplog.set_level(logging.INFO)
    await _first_question_afresh(w)
    for place in PLACES:
        await _replay(w, shape, place, caplog)

    # The resident is where they were, and the next ordinary message is handled as usual.
    await w.vk.user_writes(PETR, "/help")
    await w.expect(PETR, "Шаг 1")
    await w.settle()
    assert {peer: [m.text for m in w.unread(peer)] for peer in (AGENCY, STRANGER, OFFICER)} == {
        AGENCY: [],
        STRANGER: [],
        OFFICER: [],
    }
    assert await _state(w) == "topic"


async def _first_question_afresh(w: World) -> None:
    """Each shape meets the resident at the first question with nothing written yet: what an
    earlier shape carried as text joined the draft (nothing a resident types is lost), and
    with a draft begun, /start offers to resume it instead of asking the question."""
    await w.vk.user_writes(PETR, "/cancel")
    await w.settle()
    await w.vk.user_writes(PETR, "/new")
    await w.expect(PETR, "Шаг 1")
    await w.settle()
    w.read_all()


async def _replay(w: World, shape: str, place: str, caplog: pytest.LogCaptureFixture) -> None:
    w.clock.advance(timedelta(minutes=2))  # the flood guard counts a minute
    w.read_all()
    person, peer = WHO_AND_WHERE[place]
    event = place_vk(load("vk", shape), group_id=GROUP_ID, person=person, peer=peer)
    await w.vk.feed(event)
    await w.settle()

    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not tracebacks, f"{place}: logged {tracebacks}"
    if event["type"] == "message_event":
        assert event["object"]["event_id"] not in w.vk.pending_events, f"{place}: the press was answered"
    heard = {peer: w.unread(peer) for peer in (PETR, AGENCY, STRANGER, OFFICER) if w.unread(peer)}
    texts = {peer: [m.text for m in messages] for peer, messages in heard.items()}
    assert not any(FAILURE in text for messages in texts.values() for text in messages), f"{place}: {texts}"
    expected = _expected(shape, place)
    assert set(heard) == set(expected), f"{place}: {texts}"
    for chat, contains in expected.items():
        assert any(contains in text for text in texts[chat]), f"{place}: {texts[chat]}"
    assert await _state(w) == "topic", place
    w.read_all()
