"""A resident answers the agency by replying to its message in their private chat: the
words go to the appeal's thread in the agency chat as details, whatever step the resident
is at; the reply is routed by the message's id, not by its text."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AppealEvent
from tests.support.steps import step
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import file_appeal


async def test_a_reply_to_the_agencys_answer_reaches_the_appeals_thread(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    await filed.group.reply(filed.card, "Уточните, пожалуйста, номер дома", from_user=inspector)
    question = await alice.expect_message(contains="Уточните, пожалуйста, номер дома")
    await alice.expect_message(contains="Проблема по обращению")
    await telegram_bot.settled()
    alice.read_all()
    filed.group.read_all()

    # Half-way through a new appeal, she answers the agency's question by replying to it.
    await alice.send("/new")
    await alice.expect_message(contains=step("topic"))
    await alice.reply(question, "Дом 7, у второго подъезда")
    await alice.expect_message(contains=f"Дополнение к обращению № {filed.number} передано в ведомство")
    await alice.expect_message(contains=step("topic"))  # the new draft waits where it was
    details = await filed.group.expect_message(contains="Житель дополнил обращение")
    assert "Дом 7, у второго подъезда" in details.text and filed.number in details.text
    await telegram_bot.settled()
    await telegram_bot.delivered()
    assert alice.unread() == [] and filed.group.unread() == [], "nothing else was sent"
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        kinds = (
            await session.scalars(select(AppealEvent.kind).where(AppealEvent.appeal_id == filed.appeal_id))
        ).all()
    assert "details" in kinds

    # A reply to one of the bot's own questions is not for the agency: the dialogue takes it.
    topics = alice.messages[-1]
    await alice.reply(topics, "Во дворе переполнены мусорные контейнеры")
    await alice.expect_message(contains="Записали это как описание проблемы")
    await telegram_bot.settled()
    assert all("Житель дополнил" not in m.text for m in filed.group.unread())
