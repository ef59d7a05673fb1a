"""Every Telegram update in ``tests/corpus/telegram`` reaches the real bot in three places:
a resident's private chat in the middle of the dialogue, an agency's group chat and the
digest channel. Whatever it is, no traceback is logged; the resident gets a polite answer
and keeps their place in the dialogue; group chats and channels hear nothing unless the bot
is addressed; and the next ordinary update is handled as usual.

One bot (and one fake Telegram) serves the whole module: the shapes are replayed one after
another, as they would arrive in a real bot's life.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, load_catalogue
from handlers.clock import FrozenClock
from storage.migrate import upgrade
from storage.models import Dialogue, Resident
from tests.conftest import PG_URL, _reset_postgres
from tests.fake_telegram import BOT_ID, FakeTelegram
from tests.support.corpus import TelegramPlace, load, names, place_telegram
from tests.support.telegram import Group, Person, Telegram, TelegramBot

pytestmark = pytest.mark.asyncio(loop_scope="module")

CATALOGUE = load_catalogue(EXAMPLE_PATH)
AGENCY = -1001000000001
"""Roads of Tambov in the example catalogue."""
ADMIN = -1001000000000
DIGEST = -1001000000099
SHAPES = names("telegram")
PLACES = ("private", "agency", "channel")


@dataclass
class World:
    tg: Telegram
    bot: TelegramBot
    clock: FrozenClock
    alice: Person
    staff: Person
    agency: Group
    admin: Group
    channel: Group
    broken: bool = False
    """A shape stopped the bot's polling (a known failure): start it again before the next."""

    def views(self) -> list[Person | Group]:
        return [self.alice, self.staff, self.agency, self.admin, self.channel]

    def place(self, name: str) -> TelegramPlace:
        bot = self.tg.server.bot_user()
        if name == "private":
            return TelegramPlace(self.alice.chat.as_api(), self.alice.user.as_api(), bot)
        chat = self.agency if name == "agency" else self.channel
        return TelegramPlace(chat.chat.as_api(), self.staff.user.as_api(), bot)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    if PG_URL:
        await _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('corpus')) / 'appeals.db'}"
    await upgrade(url)
    server = FakeTelegram(f"{BOT_ID}:TEST-token")
    await server.start()
    tg = Telegram(server)
    tg.add_catalogue_chats(CATALOGUE)
    clock = FrozenClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    bot = TelegramBot(tg, url, CATALOGUE, clock)
    await bot.start()
    w = World(
        tg=tg,
        bot=bot,
        clock=clock,
        alice=tg.user(1001, "Алиса"),
        staff=tg.user(5001, "Инспектор"),
        agency=tg.group(AGENCY),
        admin=tg.group(ADMIN),
        channel=tg.channel(DIGEST),
    )
    await w.alice.send("/start")
    await w.alice.expect_message(contains="согласие")
    await w.alice.click("Согласен")
    await w.alice.expect_message(contains="Шаг 1")
    await bot.settled()
    try:
        yield w
    finally:
        await bot.stop()
        await server.stop()


async def _first_question_afresh(w: World) -> None:
    """Each shape meets the resident at the first question with nothing written yet: what an
    earlier shape carried as text joined the draft (nothing a resident types is lost), and
    with a draft begun, /start offers to resume it instead of asking the question."""
    await w.alice.send("/cancel")
    await w.alice.expect_message()
    await w.alice.send("/new")
    await w.alice.expect_message(contains="Шаг 1")
    await w.bot.delivered()
    for view in w.views():
        view.read_all()


async def _state(w: World) -> str:
    assert w.bot.app is not None
    async with w.bot.app.ctx.db.read() as session:
        resident = (await session.scalars(select(Resident).where(Resident.external_id == "1001"))).one()
        dialogue = await session.get(Dialogue, resident.id)
    assert dialogue is not None
    return dialogue.state


SERVICE = frozenset(
    {
        "auto_delete_timer",
        "channel_post_giveaway",
        "chat_shared",
        "empty_message",
        "forum_topic_closed",
        "forum_topic_created",
        "invoice",
        "left_chat_member",
        "migrate_from_chat_id",
        "migrate_to_chat_id",
        "new_chat_members",
        "new_chat_members_bot",
        "pinned_message",
        "successful_payment",
        "users_shared",
        "video_chat_started",
        "write_access_allowed",
    }
)
"""Service notices: nobody said anything to the bot, it says nothing back."""
NOT_MESSAGES = frozenset(
    {
        "chat_boost",
        "chat_join_request",
        "chat_member_joined",
        "chosen_inline_result",
        "inline_query",
        "message_reaction_chat",
        "message_reaction_count",
        "message_reaction_user",
        "my_chat_member_added",
        "my_chat_member_blocked",
        "my_chat_member_promoted",
        "my_chat_member_promoted_older_server",
        "poll",
        "poll_answer",
        "poll_from_older_server",
        "pre_checkout_query",
        "purchased_paid_media",
        "removed_chat_boost",
        "shipping_query",
        "unknown_update_kind",
    }
)
"""Updates that are no message in a chat (the bot's own membership is told apart below)."""
EDITS = frozenset({"edited_text", "edited_link_preview_off", "edited_channel_post"})
ADDRESSED_IN_GROUPS = {
    "command_start": "Команды бота",
    "command_start_deep_link": "Команды бота",
    "channel_post": "Команды бота",
    "my_chat_member_added": "Команды бота",
    "forum_topic_command": "Открытых обращений нет",
    "sender_chat_anonymous_admin": "Открытых обращений нет",
    "story_reply_command": "Неизвестная команда",
}
"""What an agency chat hears, for the shapes that speak to the bot there; all others: nothing."""
INLINE_BUTTON = "callback_inline_message"
"""A button under an inline-mode message belongs to no chat: the presser is answered privately."""
FAILURE = "что-то пошло не так"


UNREADABLE = frozenset({"my_chat_member_promoted_older_server", "poll_from_older_server"})
"""Shapes aiogram's model refuses (from another Bot API server's version): each is stored,
logged by its kind, marked failed and skipped alone; the next update is handled as usual."""


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_real_update(shape: str, world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    if w.broken:  # the last shape failed half-way: start again without it
        w.tg.server.drop_pending()
        await w.bot.restart()
        w.broken = False
        caplog.clear()
    caplog.set_level(logging.INFO)
    await _first_question_afresh(w)
    for place in PLACES:
        await _replay(w, shape, place, caplog)

    # The resident is where they were, and the next ordinary update is handled as usual.
    await w.alice.send("/help")
    await w.alice.expect_message(contains="Шаг 1")
    await w.bot.delivered()
    for view in w.views():
        view.assert_nothing_new()
    assert await _state(w) == "topic"


async def _replay(w: World, shape: str, place: str, caplog: pytest.LogCaptureFixture) -> None:
    w.clock.advance(timedelta(minutes=2))  # the flood guard counts a minute
    for view in w.views():
        view.read_all()
    update = place_telegram(load("telegram", shape), w.place(place))
    w.tg.server.feed(update, unrequested=True)
    w.broken = True
    await w.bot.settled()
    w.broken = False
    await w.bot.delivered()

    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    if shape in UNREADABLE:
        kind = next(key for key in update if key != "update_id")
        assert tracebacks == [f"telegram: a {kind} update cannot be read; skipped"], place
        caplog.clear()
    else:
        assert not tracebacks, f"{place}: logged {tracebacks}"
    query = update.get("callback_query")
    if query is not None:
        assert query["id"] in w.tg.server.callback_answers, f"{place}: the button press was answered"
    heard = {view.chat_id: view.unread() for view in w.views() if view.unread()}
    for messages in heard.values():
        assert not any(FAILURE in m.text for m in messages), f"{place}: {heard}"
    expected = {} if shape in UNREADABLE else _expected(shape, place)
    assert set(heard) == set(expected), f"{place}: {heard}"
    for chat, contains in expected.items():
        assert contains in heard[chat][-1].text, f"{place}: {heard[chat]}"
    assert await _state(w) == "topic", place
    for view in w.views():
        view.read_all()


def _expected(shape: str, place: str) -> dict[int, str]:
    """Which chats hear something (chat id → what their last message says)."""
    alice, staff, agency = 1001, 5001, AGENCY
    if shape == INLINE_BUTTON:
        return {alice if place == "private" else staff: "Шаг 1" if place == "private" else "согласие"}
    if place == "channel":
        return {}
    if place == "agency":
        return {agency: ADDRESSED_IN_GROUPS[shape]} if shape in ADDRESSED_IN_GROUPS else {}
    if shape in SERVICE or shape in NOT_MESSAGES:
        return {}
    if shape in EDITS:
        return {alice: "не видит исправлений"}
    return {alice: "Шаг 1"}
