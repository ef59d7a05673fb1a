"""The two clocks: reminders at half-way and at the deadline, escalation when overdue, each
exactly once; working hours by the production calendar; «Взять в работу» stops only the
first clock; an answer stops the answer clock; reopening starts a new one; the admin chat
extends it once with a reason the resident receives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.core import Core
from handlers.deadlines import check_deadlines
from handlers.events import ChatRef, Platform
from storage.models import Appeal
from tests.support.desk import (
    ADMIN,
    HOUSING,
    RESIDENT,
    RESIDENT_CHAT,
    ROADS_TAMBOV,
    FakeOutbox,
    appeal,
    file_appeal,
    history,
    press,
    resident_acts,
    say,
    the_card,
    to,
)

MSK = ZoneInfo("Europe/Moscow")


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK).astimezone(UTC)


async def test_reminders_at_half_way_and_deadline_then_escalation_each_once(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    # Tuesday 24 November 2026, 12:00 in Moscow; housing: 8 working hours, 09:00-18:00.
    appeal_id = await file_appeal(ctx, category="housing", description="Нет отопления в квартире")
    await outbox.deliver()
    number = (await appeal(ctx, appeal_id)).number

    clock.advance(timedelta(hours=3, minutes=59))
    await check_deadlines(ctx)
    assert await outbox.deliver() == []

    clock.advance(timedelta(minutes=1))  # 16:00: 4 of 8 working hours
    await check_deadlines(ctx)
    await check_deadlines(ctx)
    [half] = await outbox.deliver()
    assert half.chat == HOUSING
    assert half.text == (
        f"⏳ По обращению № {number} прошла половина срока первого ответа. Срок: 25.11.2026, 11:00."
    )

    clock.set(msk(2026, 11, 25, 10, 59))  # the night does not count
    await check_deadlines(ctx)
    assert await outbox.deliver() == []

    clock.advance(timedelta(minutes=1))  # the deadline
    await check_deadlines(ctx)
    await check_deadlines(ctx)
    sent = await outbox.deliver()
    [due] = to(HOUSING, sent)
    assert due.text.startswith(f"⚠️ Срок первого ответа по обращению № {number} истёк (25.11.2026, 11:00)")
    [escalation] = to(ADMIN, sent)
    assert escalation.text == (
        f"⚠️ Просрочено обращение № {number} (ЖКХ, Управление ЖКХ и государственная жилищная инспекция): "
        "срок первого ответа истёк 25.11.2026, 11:00."
    )
    assert f"d:redir:{appeal_id}" in escalation.payloads
    assert f"d:extend:{appeal_id}" not in escalation.payloads, "only the answer's term is extended"

    clock.advance(timedelta(days=3))
    await check_deadlines(ctx)
    assert await outbox.deliver() == []
    kinds = [e.kind for e in await history(ctx, appeal_id)]
    assert kinds == ["passed", "reminder_half", "reminder_due", "escalated"]
    [overdue] = (await Core(ctx).handle(say(ADMIN, "/overdue"))).replies
    assert f"№ {number} · ЖКХ · первый ответ просрочен на 3 дня" in overdue.text


async def test_filed_on_friday_evening_it_is_due_on_monday_not_saturday(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    clock.set(msk(2026, 11, 27, 18, 0))
    appeal_id = await file_appeal(ctx, category="housing", description="Нет горячей воды в доме")
    card = the_card(await outbox.deliver(), HOUSING)
    assert "Срок первого ответа: 30.11.2026, 17:00" in card.text
    assert "Срок ответа: 11.12.2026, 18:00" in card.text  # ten working days

    clock.set(msk(2026, 11, 29, 23, 59))  # the whole weekend: silence
    await check_deadlines(ctx)
    assert await outbox.deliver() == []
    clock.set(msk(2026, 11, 30, 13, 0))
    await check_deadlines(ctx)
    [half] = await outbox.deliver()
    assert "прошла половина срока первого ответа" in half.text
    clock.set(msk(2026, 11, 30, 17, 0))
    await check_deadlines(ctx)
    assert [d.chat for d in await outbox.deliver()] == [HOUSING, ADMIN]
    assert [e.kind for e in await history(ctx, appeal_id)][-1] == "escalated"


async def test_the_new_year_holidays_do_not_count(ctx: Context, clock: FrozenClock) -> None:
    outbox = FakeOutbox(ctx)
    clock.set(msk(2026, 12, 30, 15, 0))
    appeal_id = await file_appeal(ctx)  # roads: 16 working hours
    card = the_card(await outbox.deliver(), ROADS_TAMBOV)
    # 3 hours on 30 December; 31 December (transferred) and 1-10 January are days off.
    assert "Срок первого ответа: 12.01.2027, 13:00" in card.text
    assert "Срок ответа: 29.01.2027, 18:00" in card.text  # 30 calendar days, to 29 January
    clock.set(msk(2027, 1, 10, 23, 0))
    await check_deadlines(ctx)
    assert await outbox.deliver() == []
    assert [e.kind for e in await history(ctx, appeal_id)] == ["passed"]


async def test_urgent_topics_count_calendar_hours(ctx: Context, clock: FrozenClock) -> None:
    outbox = FakeOutbox(ctx)
    clock.set(msk(2026, 11, 28, 23, 0))  # Saturday night
    await file_appeal(ctx, category="health", description="Не работает скорая помощь в посёлке")
    card = the_card(await outbox.deliver(), ChatRef(Platform.TELEGRAM, "-1001000000004"))
    assert "Срок первого ответа: 29.11.2026, 03:00" in card.text


async def test_take_stops_only_the_first_clock_and_the_answer_clock_runs_on(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)  # roads; answer by 24.12.2026, 18:00
    number = (await appeal(ctx, appeal_id)).number
    card = the_card(await outbox.deliver(), ROADS_TAMBOV)
    clock.advance(timedelta(hours=1))
    await Core(ctx).handle(press(ROADS_TAMBOV, f"d:take:{appeal_id}", message_id=card.message_ids[0]))
    await outbox.deliver()

    clock.set(msk(2026, 12, 9, 14, 59))
    await check_deadlines(ctx)
    assert await outbox.deliver() == [], "no first-response reminder after «Взять в работу»"

    clock.set(msk(2026, 12, 9, 15, 0))  # half of the working time to 24 December
    await check_deadlines(ctx)
    [half] = await outbox.deliver()
    assert half.chat == ROADS_TAMBOV
    assert half.text == f"⏳ По обращению № {number} прошла половина срока ответа. Срок: 24.12.2026, 18:00."

    clock.set(msk(2026, 12, 24, 18, 0))
    await check_deadlines(ctx)
    await check_deadlines(ctx)
    sent = await outbox.deliver()
    [due] = to(ROADS_TAMBOV, sent)
    assert due.text == (
        f"⚠️ Срок ответа по обращению № {number} истёк (24.12.2026, 18:00). Ответьте жителю по существу."
    )
    [escalation] = to(ADMIN, sent)
    assert escalation.text == (
        f"⚠️ Просрочен ответ по обращению № {number} (Дороги, Управление дорожного хозяйства г. Тамбова): "
        "срок истёк 24.12.2026, 18:00."
    )
    assert escalation.labels[-1] == "Продлить срок ответа"
    clock.advance(timedelta(hours=1))
    [overdue] = (await Core(ctx).handle(say(ADMIN, "/overdue"))).replies
    assert f"№ {number} · Дороги · ответ просрочен на 1 час" in overdue.text
    assert "первый ответ" not in overdue.text
    kinds = [e.kind for e in await history(ctx, appeal_id)]
    assert kinds == ["passed", "taken", "answer_reminder_half", "answer_reminder_due", "answer_escalated"]


async def test_the_admin_chat_extends_the_answer_once_and_the_resident_learns_why(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    core = Core(ctx)
    appeal_id = await file_appeal(ctx)
    number = (await appeal(ctx, appeal_id)).number
    card = the_card(await outbox.deliver(), ROADS_TAMBOV)

    refused = await core.handle(press(ROADS_TAMBOV, f"d:extend:{appeal_id}", message_id=card.message_ids[0]))
    assert refused.toast == "Эта команда доступна только в чате администраторов."
    assert await outbox.deliver() == []

    clock.set(msk(2026, 12, 24, 18, 0))
    await check_deadlines(ctx)  # nobody even took it: both clocks escalate
    first, escalation = to(ADMIN, await outbox.deliver())
    assert "срок первого ответа истёк" in first.text and "Продлить срок ответа" not in first.labels
    assert "Просрочен ответ" in escalation.text
    pressed = await core.handle(press(ADMIN, f"d:extend:{appeal_id}", message_id=escalation.message_ids[0]))
    assert pressed.toast == "Напишите ответом на сообщение бота"
    [prompt] = await outbox.deliver()
    assert prompt.chat == ADMIN and "Причина продления срока ответа" in prompt.text

    empty = await core.handle(say(ADMIN, "  ", reply_to=prompt.message_ids[0]))
    assert empty.replies[0].text == "Без причины срок не продлевается: напишите причину текстом."
    assert await outbox.deliver() == []

    done = await core.handle(
        say(ADMIN, "Нужна экспертиза дорожного покрытия", reply_to=prompt.message_ids[0])
    )
    # 30 days from 24 December 2026 is 23 January 2027, a Saturday: the term ends on Monday.
    assert done.replies[0].text == (
        f"Срок ответа по обращению № {number} продлён до 25.01.2027, 18:00. Житель получил причину."
    )
    sent = await outbox.deliver()
    [notice] = to(RESIDENT_CHAT, sent)
    assert notice.text == (
        f"Срок ответа по вашему обращению № {number} продлён до 25.01.2027, 18:00. "
        "Причина: Нужна экспертиза дорожного покрытия"
    )
    [staff] = [d for d in to(ROADS_TAMBOV, sent) if d.purpose == "extension"]
    assert "продлён до 25.01.2027, 18:00" in staff.text
    [edit] = [d for d in to(ROADS_TAMBOV, sent) if d.purpose == "card_edit"]
    assert "Срок ответа (продлён): 25.01.2027, 18:00" in edit.text
    assert {d.chat for d in sent} == {RESIDENT_CHAT, ROADS_TAMBOV, ADMIN}
    [report] = to(ADMIN, sent)
    assert report.text == f"✅ Житель получил причину продления срока по обращению № {number}."

    again = await core.handle(press(ADMIN, f"d:extend:{appeal_id}", message_id=escalation.message_ids[0]))
    assert again.toast == f"Срок ответа по обращению № {number} уже продлевали: продлить можно один раз."
    assert await outbox.deliver() == []

    # The reminders of the extended term come again, once each.
    clock.set(msk(2027, 1, 25, 18, 0))
    await check_deadlines(ctx)
    await check_deadlines(ctx)
    sent = await outbox.deliver()
    assert [d.chat for d in sent] == [ROADS_TAMBOV, ADMIN]
    assert "истёк (25.01.2027, 18:00)" in sent[0].text
    assert "Продлить срок ответа" not in sent[1].labels


async def test_an_answer_stops_the_answer_clock_and_reopening_starts_a_new_one(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    core = Core(ctx)
    appeal_id = await file_appeal(ctx)
    card = the_card(await outbox.deliver(), ROADS_TAMBOV)
    clock.set(msk(2026, 11, 25, 10, 0))
    await core.handle(say(ROADS_TAMBOV, "Яму засыплем на этой неделе", reply_to=card.message_ids[0]))
    sent = await outbox.deliver()
    [ask] = [d for d in sent if d.purpose == "feedback"]

    clock.set(msk(2027, 1, 30, 12, 0))  # long after both terms: nothing is late
    await check_deadlines(ctx)
    assert await outbox.deliver() == []

    clock.set(msk(2027, 2, 1, 10, 0))  # Monday
    await resident_acts(ctx, press(RESIDENT_CHAT, f"fb:{appeal_id}:no", sender=RESIDENT))
    await resident_acts(ctx, say(RESIDENT_CHAT, "Яма на месте", sender=RESIDENT))
    await outbox.deliver()
    stored = await appeal(ctx, appeal_id)
    assert stored.status == "passed" and stored.answered_at is None
    assert stored.answer_due_at == msk(2027, 3, 3, 18, 0), "a new term of 30 days"
    clock.set(msk(2027, 3, 3, 18, 0))
    await check_deadlines(ctx)
    assert [d.chat for d in await outbox.deliver()] == [ROADS_TAMBOV, ADMIN]
    assert ask.appeal_id == appeal_id


async def test_a_late_run_sends_only_the_deadline_reminder_and_escalation(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)
    await outbox.deliver()

    clock.set(msk(2026, 11, 26, 11, 0))  # the bot was down past the whole first-response term
    await check_deadlines(ctx)

    sent = await outbox.deliver()
    assert [d.chat for d in sent] == [ROADS_TAMBOV, ADMIN]
    assert "истёк" in sent[0].text
    kinds = [e.kind for e in await history(ctx, appeal_id)]
    assert kinds == ["passed", "reminder_due", "escalated"]


async def test_appeals_from_before_the_answer_clock_get_one_from_when_they_were_passed(
    ctx: Context, clock: FrozenClock
) -> None:
    outbox = FakeOutbox(ctx)
    waiting = await file_appeal(ctx)
    answered = await file_appeal(ctx, description="Не горит фонарь у дома номер семь")
    [card] = [d for d in await outbox.deliver() if d.purpose == "card" and d.appeal_id == answered]
    await Core(ctx).handle(say(ROADS_TAMBOV, "Фонарь заменят завтра", reply_to=card.message_ids[-1]))
    await outbox.deliver()
    async with ctx.db.transaction() as session:  # as the migration leaves them
        for appeal_id in (waiting, answered):
            row = await session.get(Appeal, appeal_id)
            assert row is not None
            row.answer_started_at = row.answer_half_at = row.answer_due_at = row.answered_at = None
            row.deadline_half_at = None

    clock.set(msk(2026, 12, 9, 15, 0))
    await check_deadlines(ctx)

    restored = await appeal(ctx, waiting)
    assert restored.answer_due_at == msk(2026, 12, 24, 18, 0), "30 days from when it was passed on"
    assert restored.deadline_half_at is not None
    untouched = await appeal(ctx, answered)
    assert untouched.status == "answered" and untouched.answer_due_at is None
    sent = await outbox.deliver()
    assert [d.text.split(" прошла")[0] for d in sent if "половина срока ответа" in d.text] == [
        f"⏳ По обращению № {restored.number}"
    ]
