"""Reminders at half-way and at the deadline, escalation when overdue: each exactly once."""

from __future__ import annotations

from datetime import timedelta

from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.core import Core
from handlers.deadlines import check_deadlines
from tests.support.desk import (
    ADMIN,
    HOUSING,
    ROADS_TAMBOV,
    FakeOutbox,
    appeal,
    file_appeal,
    history,
    press,
    say,
    the_card,
    to,
)


async def test_reminders_at_half_way_and_deadline_then_escalation_each_once(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, category="housing", description="Нет отопления в квартире")
    await outbox.deliver()
    number = (await appeal(ctx, appeal_id)).number

    clock.advance(timedelta(hours=11, minutes=59))
    await check_deadlines(ctx)
    assert await outbox.deliver() == []

    clock.advance(timedelta(minutes=1))  # 12 of 24 hours
    await check_deadlines(ctx)
    await check_deadlines(ctx)
    [half] = await outbox.deliver()
    assert half.chat == HOUSING
    assert half.text == (
        f"⏳ По обращению № {number} прошла половина срока первого ответа. Срок: 25.11.2026 12:00."
    )

    clock.advance(timedelta(hours=11, minutes=59))
    await check_deadlines(ctx)
    assert await outbox.deliver() == []

    clock.advance(timedelta(minutes=1))  # the deadline
    await check_deadlines(ctx)
    await check_deadlines(ctx)
    sent = await outbox.deliver()
    [due] = to(HOUSING, sent)
    assert due.text.startswith(f"⚠️ Срок первого ответа по обращению № {number} истёк (25.11.2026 12:00)")
    [escalation] = to(ADMIN, sent)
    assert escalation.text == (
        f"⚠️ Просрочено обращение № {number} (ЖКХ, Управление ЖКХ и государственная жилищная инспекция): "
        "срок первого ответа истёк 25.11.2026 12:00."
    )
    assert f"d:redir:{appeal_id}" in escalation.payloads

    clock.advance(timedelta(days=3))
    await check_deadlines(ctx)
    assert await outbox.deliver() == []
    kinds = [e.kind for e in await history(ctx, appeal_id)]
    assert kinds == ["passed", "reminder_half", "reminder_due", "escalated"]
    [overdue] = (await Core(ctx).handle(say(ADMIN, "/overdue"))).replies
    assert f"№ {number} · ЖКХ · просрочено на 3 дн" in overdue.text


async def test_an_answered_appeal_gets_no_reminders(ctx: Context, clock: FrozenClock) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)
    card = the_card(await outbox.deliver(), ROADS_TAMBOV)
    clock.advance(timedelta(hours=1))
    await Core(ctx).handle(press(ROADS_TAMBOV, f"d:take:{appeal_id}", message_id=card.message_ids[0]))
    await outbox.deliver()

    clock.advance(timedelta(days=5))
    await check_deadlines(ctx)

    assert await outbox.deliver() == []


async def test_a_late_run_sends_only_the_deadline_reminder_and_escalation(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)
    await outbox.deliver()

    clock.advance(timedelta(hours=50))  # the bot was down past the whole 48-hour window
    await check_deadlines(ctx)

    sent = await outbox.deliver()
    assert [d.chat for d in sent] == [ROADS_TAMBOV, ADMIN]
    assert "истёк" in sent[0].text
    kinds = [e.kind for e in await history(ctx, appeal_id)]
    assert kinds == ["passed", "reminder_due", "escalated"]
