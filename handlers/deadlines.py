"""Deadline reminders and escalation, each exactly once per appeal and deadline.

The scheduler calls :func:`check_deadlines` every minute. For an open appeal nobody has
responded to yet, its agency's chats get a reminder at the half-way point between
``passed_at`` and ``deadline_at`` and another at the deadline; once the deadline has passed
the admin chats get an escalation. The ``reminded_half_at`` / ``reminded_due_at`` /
``escalated_at`` columns, set in the transaction that writes the outbox rows, make each
happen once; a late run that finds an appeal already overdue skips the half-way reminder.
"""

from __future__ import annotations

from datetime import timedelta

from handlers import card
from handlers.context import Context
from handlers.desk_ops import SYSTEM, post_to_thread, queue, record
from handlers.events import Reply
from storage import desk as q


async def check_deadlines(ctx: Context) -> None:
    catalogue, texts = ctx.catalogue, ctx.texts
    now = ctx.clock.now()
    longest = max(
        [catalogue.region.first_response_hours]
        + [c.first_response_hours for c in catalogue.categories if c.first_response_hours is not None]
    )
    # Half-way comes at most half the longest window before the deadline.
    horizon = now + timedelta(hours=longest / 2)
    async with ctx.db.transaction() as session:
        for appeal in await q.awaiting_first_response(session, horizon):
            deadline = appeal.deadline_at
            assert deadline is not None  # the query asks for one
            start = appeal.passed_at or appeal.created_at
            half = start + (deadline - start) / 2
            due_text = card.local_time(catalogue, deadline)
            if now >= deadline:
                if appeal.reminded_due_at is None:
                    appeal.reminded_due_at = now
                    if appeal.reminded_half_at is None:
                        appeal.reminded_half_at = now
                    reply = Reply(texts("desk-remind-due", number=appeal.number, deadline=due_text))
                    await post_to_thread(ctx, session, appeal, reply, purpose="reminder")
                    await record(ctx, session, appeal, "reminder_due", SYSTEM)
                appeal.escalated_at = now
                escalation = texts(
                    "desk-escalation",
                    number=appeal.number,
                    topic=card.topic(catalogue, appeal),
                    agency=card.agency_name(catalogue, texts, appeal.agency_id),
                    deadline=due_text,
                )
                buttons = card.card_buttons(texts, appeal)
                for chat in catalogue.admin.chats:
                    await queue(
                        ctx,
                        session,
                        chat,
                        Reply(escalation, buttons=buttons),
                        purpose="escalation",
                        appeal_id=appeal.id,
                        link_role="thread",
                        dedupe_key=f"escalation:{appeal.id}:{deadline.isoformat()}:{chat}",
                    )
                await record(ctx, session, appeal, "escalated", SYSTEM)
            elif now >= half and appeal.reminded_half_at is None:
                appeal.reminded_half_at = now
                reply = Reply(texts("desk-remind-half", number=appeal.number, deadline=due_text))
                await post_to_thread(ctx, session, appeal, reply, purpose="reminder")
                await record(ctx, session, appeal, "reminder_half", SYSTEM)
