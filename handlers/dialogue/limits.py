"""How many appeals a resident may start and send: rolling hour and day windows."""

from __future__ import annotations

from datetime import timedelta

from handlers.dialogue.step import Turn
from storage import appeals as appeal_store


async def rate_limited(turn: Turn) -> str | None:
    """The polite refusal when the resident is over a limit; None when they may go on."""
    limits = turn.ctx.catalogue.limits
    now = turn.ctx.clock.now()
    last_hour, last_day = await appeal_store.count_recent(
        turn.session,
        turn.resident.id,
        hour_since=now - timedelta(hours=1),
        day_since=now - timedelta(days=1),
    )
    if last_hour >= limits.appeals_per_hour:
        return turn.t("resident-rate-hour", limit=limits.appeals_per_hour)
    if last_day >= limits.appeals_per_day:
        return turn.t("resident-rate-day", limit=limits.appeals_per_day)
    return None
