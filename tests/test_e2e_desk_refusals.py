"""Every unauthorised or meaningless desk action on Telegram is answered briefly and changes
nothing: the database is the same before and after, and the resident hears nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.runtime import PURPOSE_REPLY
from storage.models import Appeal, AppealEvent, MessageLink, OutboxMessage
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, REGION_ROADS, TAMBOV_ROADS, file_appeal, stored

RANDOM_GROUP = -1009999999999


async def snapshot(bot: TelegramBot) -> dict[str, Any]:
    """What the desk's actions change: appeals, their history, links and queued messages."""
    assert bot.app is not None
    async with bot.app.ctx.db.read() as session:
        appeals = [
            (a.id, a.status, a.agency_id, a.rating, a.first_response_at, a.reopen_count)
            for a in await session.scalars(select(Appeal).order_by(Appeal.id))
        ]
        return {
            "appeals": appeals,
            "events": await session.scalar(select(func.count()).select_from(AppealEvent)),
            "links": await session.scalar(select(func.count()).select_from(MessageLink)),
            # Queued messages other than the answers to the chat that acted (those are what
            # the chats show, checked there).
            "outbox": await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose != PURPOSE_REPLY)
            ),
        }


async def test_a_card_s_buttons_pressed_in_another_agency_s_group_are_refused(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    stranger = tg.user(5002, "Сотрудник министерства")
    filed = await file_appeal(tg, alice)
    other = tg.group(REGION_ROADS)
    await other.send("/help", from_user=stranger)
    their_message = await other.expect_message(contains="Команды бота обращений")
    await telegram_bot.delivered()
    before = await snapshot(telegram_bot)
    heard = len(alice.messages)

    for data in filed.card.button_payloads.values():
        assert data is not None
        query = await other.press_forged(their_message, data, by=stranger)
        answer = await tg.expect_toast(query, "Это обращение не относится к вашему ведомству.")
        assert answer.get("show_alert") is True
    # A reply to the card's number from there finds nothing to answer.
    await other.reply(their_message, "Ответ не от того ведомства", from_user=stranger)
    await other.expect_message(contains="не относится ни к одному обращению")

    await telegram_bot.delivered()
    assert await snapshot(telegram_bot) == before
    assert len(alice.messages) == heard
    assert filed.card.edits == 0


async def test_forged_and_unknown_callback_data_are_refused(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    await telegram_bot.delivered()
    before = await snapshot(telegram_bot)
    group = filed.group

    forged = [
        "d:take:abc",
        "d:nuke:1",
        f"d:take:{filed.appeal_id}:housing",  # an agency only goes with a redirect
        f"d:redir:{filed.appeal_id}:nowhere",
        "d:take:99999999999999",
        "fb:1:yes",  # a resident's button, pressed in a staff group
        "x" * 64,
    ]
    for data in forged:
        query = await group.press_forged(filed.card, data, by=inspector)
        await tg.expect_toast(query, "Эта кнопка больше не действует.")
    query = await group.press_forged(filed.card, "d:take:424242", by=inspector)
    await tg.expect_toast(query, "Обращение не найдено.")
    query = await group.press_forged(filed.card, f"d:redir:{filed.appeal_id}:tambov-roads", by=inspector)
    await tg.expect_toast(query, "Обращение уже в этом ведомстве.")

    await telegram_bot.delivered()
    assert await snapshot(telegram_bot) == before
    assert filed.card.edits == 0


async def test_a_stale_button_is_refused_with_the_appeal_s_status(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    first = tg.user(5001, "Инспектор")
    second = tg.user(5004, "Второй инспектор")
    filed = await file_appeal(tg, alice)
    group = filed.group

    # Both press «Взять в работу» before the card changes on their screens.
    taken = await group.click(filed.card, "Взять в работу", by=first)
    late = await group.click(filed.card, "Взять в работу", by=second)

    await tg.expect_toast(taken, "Взято в работу")
    answer = await tg.expect_toast(late, f"Нельзя: обращение № {filed.number} сейчас в статусе «в работе».")
    assert answer.get("show_alert") is True
    await alice.expect_message(contains="взято в работу")
    await group.expect_edit(filed.card, "Статус: в работе")
    await telegram_bot.delivered()
    assert [m.text for m in alice.messages].count(alice.messages[-1].text) == 1, "told once"

    # A solved appeal's card has no buttons; an old press of «Отклонить» still arrives.
    await group.click(filed.card, "Решено", by=first)
    prompt = await group.expect_message(contains="Решение по обращению")
    await group.reply(prompt, "Заделали", from_user=first)
    await group.expect_message(contains="отмечено как решённое")
    await group.expect_edit(filed.card, "Статус: решено")
    await telegram_bot.delivered()
    before = await snapshot(telegram_bot)
    query = await group.press_forged(filed.card, f"d:reject:{filed.appeal_id}", by=second)
    await tg.expect_toast(query, "сейчас в статусе «решено»")
    await group.reply(filed.card, "Ещё один ответ", from_user=second)
    refusal = await group.expect_message(contains="Нельзя")
    assert refusal.text == f"Нельзя: обращение № {filed.number} сейчас в статусе «решено»."
    await telegram_bot.delivered()
    assert await snapshot(telegram_bot) == before


async def test_a_reply_to_a_message_that_is_no_appeal_is_refused(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    group = filed.group
    await group.send("/help", from_user=inspector)
    help_message = await group.expect_message(contains="Команды бота обращений")
    await telegram_bot.delivered()
    before = await snapshot(telegram_bot)
    heard = len(alice.messages)

    sent = await group.reply(help_message, "Яму заделали", from_user=inspector)

    refusal = await group.expect_message(contains="не относится ни к одному обращению")
    assert refusal.reply_to_message_id == sent["message_id"]
    await group.reply(filed.card, "   ", from_user=inspector)
    await group.expect_message(contains="Пустой ответ не отправлен")
    await telegram_bot.delivered()
    assert await snapshot(telegram_bot) == before
    assert len(alice.messages) == heard


async def test_staff_replying_to_each_other_are_left_alone(tg: Telegram, telegram_bot: TelegramBot) -> None:
    """With privacy mode off the bot sees every message in the group; a reply to a
    colleague is their conversation, not an answer to an appeal."""
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    chief = tg.user(5002, "Начальник")
    filed = await file_appeal(tg, alice)
    group = filed.group
    await telegram_bot.delivered()
    before = await snapshot(telegram_bot)
    heard, shown = len(alice.messages), len(group.messages)

    question = await group.send("Кто поедет на Советскую?", from_user=inspector)
    await group.reply(question, "Я поеду после обеда", from_user=chief)
    await telegram_bot.delivered()

    assert len(group.messages) == shown
    assert len(alice.messages) == heard
    assert await snapshot(telegram_bot) == before


async def test_an_unknown_group_is_told_to_ask_the_admin_and_nothing_else_happens(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    somebody = tg.user(6001, "Посторонний")
    filed = await file_appeal(tg, alice)
    random_group = tg.group(RANDOM_GROUP, "Случайная группа")
    await telegram_bot.delivered()
    before = await snapshot(telegram_bot)

    await random_group.add_bot(by=somebody)
    hello = await random_group.expect_message(contains="не подключён к боту обращений")
    assert str(RANDOM_GROUP) in hello.text

    # Told once: whatever follows, a command included, changes nothing and hears nothing.
    await random_group.send("Всем привет", from_user=somebody)
    await random_group.reply(hello, f"Ответ по обращению {filed.number}", from_user=somebody)
    await random_group.send("/open", from_user=somebody)
    query = await random_group.press_forged(hello, f"d:take:{filed.appeal_id}", by=somebody)
    await tg.expect_toast(query, "Эта кнопка больше не действует.")
    await random_group.send(f"/appeal {filed.number}", from_user=somebody)

    await telegram_bot.delivered()
    assert [m.message_id for m in random_group.messages] == [hello.message_id], random_group.messages
    assert await snapshot(telegram_bot) == before
    assert (await stored(telegram_bot, filed.appeal_id)).status == "passed"


async def test_the_bot_added_to_an_agency_group_explains_itself_and_agencies_cannot_use_admin_commands(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    inspector = tg.user(5001, "Инспектор")
    admin = tg.user(7001, "Дежурный ЦУР")
    group = tg.group(TAMBOV_ROADS)

    await group.add_bot(by=inspector)
    await group.expect_message(contains="Команды бота обращений")
    await group.send("/overdue", from_user=inspector)
    await group.expect_message(contains="только в чате администраторов")
    await group.send("/block 1", from_user=inspector)
    await group.expect_message(contains="только в чате администраторов")
    await tg.group(ADMINS).add_bot(by=admin)
    await tg.group(ADMINS).expect_message(contains="Команды чата администраторов")
