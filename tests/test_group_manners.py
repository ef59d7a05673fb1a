"""Group manners: the bot answers what is addressed to it, and only once what is not its
business. A command naming another bot and a forwarded text that starts with ``/`` are not
commands for us; a chat the catalogue does not know is told so once, through restarts."""

from __future__ import annotations

from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from tests.fake_telegram import BOT_USERNAME
from tests.fake_vk import FakeVk
from tests.support.telegram import Telegram, TelegramBot
from tests.support.vk import VkChat
from tests.test_vk_e2e import running_app

AGENCY = -1001000000001
STRANGER_GROUP = -1009999999999
STRANGER_CONVERSATION = 2_000_000_077
OFFICER = 42


async def test_a_command_for_another_bot_is_not_ours(tg: Telegram, telegram_bot: TelegramBot) -> None:
    agency = tg.group(AGENCY)
    staff = tg.user(5001, "Инспектор")

    await agency.send("/open@other_example_bot", from_user=staff)
    await agency.send("/help@Other_Example_Bot", from_user=staff)
    await telegram_bot.settled()
    agency.assert_nothing_new()

    await agency.send(f"/open@{BOT_USERNAME.upper()}", from_user=staff)
    await agency.expect_message(contains="Открытых обращений нет")
    await agency.send("/open", from_user=staff)
    await agency.expect_message(contains="Открытых обращений нет")
    await telegram_bot.settled()
    agency.assert_nothing_new()


async def test_a_forwarded_command_is_not_a_command(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice, neighbour = tg.user(1001, "Алиса"), tg.user(1002, "Соседка")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await alice.click("Согласен")
    await alice.expect_message(contains="Шаг 1")

    tg.server.send_message(alice.user, "/my", forwarded_from=neighbour.user)
    await alice.expect_message(contains="кнопкой под сообщением")
    await alice.expect_message(contains="Шаг 1")
    await telegram_bot.settled()
    alice.assert_nothing_new()

    agency, staff = tg.group(AGENCY), tg.user(5001, "Инспектор")
    tg.server.send_message(staff.user, "/open", chat_id=AGENCY, forwarded_from=neighbour.user)
    await telegram_bot.settled()
    agency.assert_nothing_new()

    await alice.send("/my")  # typed, not forwarded: a command
    await alice.expect_message(contains="У вас пока нет обращений")


async def test_an_unknown_telegram_group_is_told_once(tg: Telegram, telegram_bot: TelegramBot) -> None:
    stranger, staff = tg.group(STRANGER_GROUP, "Случайная группа"), tg.user(5001, "Инспектор")
    await stranger.add_bot(by=staff)
    await stranger.expect_message(contains=f"telegram:{STRANGER_GROUP}")
    await stranger.send("/help", from_user=staff)
    await stranger.send("/open", from_user=staff)
    await telegram_bot.settled()
    stranger.assert_nothing_new()

    await telegram_bot.restart()
    await stranger.send("/help", from_user=staff)
    await stranger.add_bot(by=staff)
    await telegram_bot.settled()
    stranger.assert_nothing_new()


async def test_an_unknown_vk_conversation_is_told_once(
    database_url: str, catalogue: Catalogue, clock: FrozenClock
) -> None:
    async with FakeVk() as vk:
        conversation = VkChat(vk, STRANGER_CONVERSATION, from_id=OFFICER)
        async with running_app(database_url, catalogue, clock, vk):
            await conversation.write("/help")
            await conversation.expect(f"vk:{STRANGER_CONVERSATION}")
            await conversation.write("/open")
            await conversation.write("Всем привет")
            await vk.wait_until(vk.caught_up)
        assert len(vk.bot_messages(STRANGER_CONVERSATION)) == 1

        async with running_app(database_url, catalogue, clock, vk):
            await conversation.write("/help")
            await vk.wait_until(vk.caught_up)
        assert len(vk.bot_messages(STRANGER_CONVERSATION)) == 1, "told once, a restart or not"
