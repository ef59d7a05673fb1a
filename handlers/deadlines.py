"""The two clocks of an appeal, their reminders and escalations, each exactly once.

- **First response** (``deadline_at``): the agency says it has the appeal, or answers.
  ``first_response_hours`` per category, in working hours of the production calendar and
  the region's working day, or around the clock for a ``calendar_hours`` category. Any
  staff action stops it (``first_response_at``).
- **The answer** (``answer_due_at``): 59-ФЗ ст. 12, ``answer_days`` (30 by default)
  calendar or working days, ending when the last day's working hours end. Only an answer
  stops it (a reply to the resident, «Решено» with its text, a reasoned rejection). It
  starts again when the appeal is redirected, reopened by the resident or sent back after
  a contested rejection. The admin chat may extend it once, by ``answer_extension_days``,
  with a reason the resident receives.

The scheduler calls :func:`check_deadlines` every minute. For each running clock the
agency's chats get a reminder at half-way and another at the deadline; past the deadline
the admin chats get an escalation. The ``*reminded_half_at`` / ``*reminded_due_at`` /
``*escalated_at`` columns, set in the transaction that writes the outbox rows, make each
happen once; a late run that finds a clock already overdue skips its half-way reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.context import Context
from handlers.desk_ops import SYSTEM, post_to_thread, queue, record
from handlers.events import Button, Reply
from handlers.workflow import OPEN_STATUSES, Action
from storage import desk as q
from storage.models import Appeal


@dataclass(frozen=True, slots=True)
class _Clock:
    """Where one clock keeps its moments on the appeal, and how it speaks."""

    key: str
    half: str
    due: str
    stopped: str
    reminded_half: str
    reminded_due: str
    escalated: str
    event_prefix: str
    text_prefix: str


FIRST = _Clock(
    key="first",
    half="deadline_half_at",
    due="deadline_at",
    stopped="first_response_at",
    reminded_half="reminded_half_at",
    reminded_due="reminded_due_at",
    escalated="escalated_at",
    event_prefix="",
    text_prefix="desk-",
)
ANSWER = _Clock(
    key="answer",
    half="answer_half_at",
    due="answer_due_at",
    stopped="answered_at",
    reminded_half="answer_reminded_half_at",
    reminded_due="answer_reminded_due_at",
    escalated="answer_escalated_at",
    event_prefix="answer_",
    text_prefix="desk-answer-",
)
CLOCKS = (FIRST, ANSWER)


def _moment(appeal: Appeal, column: str) -> datetime | None:
    value: datetime | None = getattr(appeal, column)
    return value


# -- starting and stopping ---------------------------------------------------------------


def start_first_clock(ctx: Context, appeal: Appeal, start: datetime) -> None:
    """A full first-response term from ``start`` (the appeal reached this agency)."""
    catalogue = ctx.catalogue
    calendar = catalogue.working_calendar
    hours = catalogue.first_response_hours(appeal.category_id)
    if catalogue.first_response_in_calendar_hours(appeal.category_id):
        appeal.deadline_at = start + timedelta(hours=hours)
        appeal.deadline_half_at = start + timedelta(hours=hours / 2)
    else:
        appeal.deadline_at = calendar.add_working_hours(start, hours)
        appeal.deadline_half_at = calendar.add_working_hours(start, hours / 2)
    appeal.reminded_half_at = appeal.reminded_due_at = appeal.escalated_at = None


def start_answer_clock(ctx: Context, appeal: Appeal, start: datetime) -> None:
    """A new answer term from ``start``; the previous answer no longer counts."""
    catalogue = ctx.catalogue
    calendar = catalogue.working_calendar
    days, kind = catalogue.answer_term(appeal.category_id)
    if kind == "working":
        due = calendar.add_working_days(start, days)
    else:
        due = calendar.add_calendar_days(start, days)
    appeal.answer_started_at = start
    appeal.answer_due_at = due
    appeal.answer_half_at = calendar.add_working_hours(start, _half_working_hours(ctx, start, due))
    appeal.answered_at = None
    appeal.answer_reminded_half_at = appeal.answer_reminded_due_at = None
    appeal.answer_escalated_at = appeal.answer_extended_at = None


def _half_working_hours(ctx: Context, start: datetime, end: datetime) -> float:
    between = ctx.catalogue.working_calendar.working_time_between(start, end)
    return between.total_seconds() / 3600 / 2


def stop_first_clock(ctx: Context, appeal: Appeal) -> None:
    if appeal.first_response_at is None:
        appeal.first_response_at = ctx.clock.now()


def stop_answer_clock(ctx: Context, appeal: Appeal) -> None:
    """An answer reached the resident (or a reasoned refusal): the answer clock stops; an
    answer is a response too."""
    stop_first_clock(ctx, appeal)
    if appeal.answered_at is None:
        appeal.answered_at = ctx.clock.now()


def extend_answer_clock(ctx: Context, appeal: Appeal) -> datetime:
    """Move the answer's deadline by the catalogue's extension; its reminders come again."""
    due = appeal.answer_due_at
    assert due is not None  # the desk offers the extension only on a running clock
    calendar = ctx.catalogue.working_calendar
    new_due = calendar.add_calendar_days(due, ctx.catalogue.region.answer_extension_days)
    appeal.answer_due_at = new_due
    appeal.answer_half_at = calendar.add_working_hours(due, _half_working_hours(ctx, due, new_due))
    appeal.answer_extended_at = ctx.clock.now()
    appeal.answer_reminded_half_at = appeal.answer_reminded_due_at = appeal.answer_escalated_at = None
    return new_due


def may_extend(appeal: Appeal) -> bool:
    running = appeal.answer_due_at is not None and appeal.answered_at is None
    return running and appeal.answer_extended_at is None


async def start_missing_clocks(ctx: Context, session: AsyncSession) -> None:
    """Appeals waiting for an agency from before the answer clock existed get one, from
    when they reached their agency."""
    for appeal in await q.waiting_without_answer_clock(session, OPEN_STATUSES):
        start_answer_clock(ctx, appeal, appeal.passed_at or appeal.created_at)
        if appeal.deadline_at is not None and appeal.deadline_half_at is None:
            start = appeal.passed_at or appeal.created_at
            appeal.deadline_half_at = start + (appeal.deadline_at - start) / 2


# -- the minute's check ------------------------------------------------------------------


async def check_deadlines(ctx: Context) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        await start_missing_clocks(ctx, session)
        for appeal in await q.clocks_to_check(session, now, OPEN_STATUSES):
            for clock in CLOCKS:
                await _check(ctx, session, appeal, clock, now)


async def _check(ctx: Context, session: AsyncSession, appeal: Appeal, clock: _Clock, now: datetime) -> None:
    texts, catalogue = ctx.texts, ctx.catalogue
    due, half = _moment(appeal, clock.due), _moment(appeal, clock.half)
    if due is None or _moment(appeal, clock.stopped) is not None or _moment(appeal, clock.escalated):
        return
    due_text = card.local_time(catalogue, due)
    if now >= due:
        if _moment(appeal, clock.reminded_due) is None:
            setattr(appeal, clock.reminded_due, now)
            if _moment(appeal, clock.reminded_half) is None:
                setattr(appeal, clock.reminded_half, now)
            reply = Reply(texts(f"{clock.text_prefix}remind-due", number=appeal.number, deadline=due_text))
            await post_to_thread(ctx, session, appeal, reply, purpose="reminder")
            await record(ctx, session, appeal, f"{clock.event_prefix}reminder_due", SYSTEM)
        setattr(appeal, clock.escalated, now)
        escalation = texts(
            f"{clock.text_prefix}escalation",
            number=appeal.number,
            topic=card.topic(catalogue, appeal),
            agency=card.agency_name(catalogue, texts, appeal.agency_id),
            deadline=due_text,
        )
        buttons = card.card_buttons(texts, appeal)
        if clock is ANSWER and may_extend(appeal):
            extend = Button(texts("desk-button-extend"), payload=card.payload(Action.EXTEND, appeal.id))
            buttons = (*buttons, (extend,))
        for chat in catalogue.admin.chats:
            await queue(
                ctx,
                session,
                chat,
                Reply(escalation, buttons=buttons),
                purpose="escalation",
                appeal_id=appeal.id,
                link_role="thread",
                dedupe_key=f"{clock.key}-escalation:{appeal.id}:{due.isoformat()}:{chat}",
            )
        await record(ctx, session, appeal, f"{clock.event_prefix}escalated", SYSTEM)
    elif half is not None and now >= half and _moment(appeal, clock.reminded_half) is None:
        setattr(appeal, clock.reminded_half, now)
        reply = Reply(texts(f"{clock.text_prefix}remind-half", number=appeal.number, deadline=due_text))
        await post_to_thread(ctx, session, appeal, reply, purpose="reminder")
        await record(ctx, session, appeal, f"{clock.event_prefix}reminder_half", SYSTEM)


def submitted_terms(ctx: Context, appeal: Appeal) -> dict[str, str]:
    """The two deadlines as the resident reads them when the appeal is accepted."""
    first, answer = appeal.deadline_at, appeal.answer_due_at
    assert first is not None and answer is not None  # forwarding started both clocks
    return {"first": card.local_time(ctx.catalogue, first), "answer": card.local_time(ctx.catalogue, answer)}
