"""The weekly digest job on APScheduler, and the catch-up at start.

The scheduler only decides *when* to try; whether to post is decided by the database
(``digests.posting``), so two processes, a restart or a missed run never post twice.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from digests.posting import post_due_digest
from handlers.context import Context

log = structlog.get_logger(__name__)

WEEKLY_JOB_ID = "digest-weekly"
CATCH_UP_JOB_ID = "digest-catch-up"
MISFIRE_GRACE_S = 24 * 3600
"""A run delayed by a busy loop or a suspended host still counts (the catch-up at start
covers a process that was down)."""


def digest_trigger(ctx: Context) -> CronTrigger:
    settings = ctx.catalogue.digest
    return CronTrigger(
        day_of_week=settings.day_of_week,
        hour=settings.hour,
        minute=settings.minute,
        timezone=ctx.catalogue.zone,
    )


def register_digest_jobs(
    scheduler: BaseScheduler, ctx: Context, notify: Callable[[], None] | None = None
) -> None:
    """Add the weekly digest job and a one-off run right away that posts the last digest if
    the process was down when it was due."""

    async def run() -> None:
        try:
            await post_due_digest(ctx, notify)
        except Exception:
            log.exception("digest.failed")
            raise

    scheduler.add_job(
        run,
        digest_trigger(ctx),
        id=WEEKLY_JOB_ID,
        name="weekly digest",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_S,
    )
    # No trigger: run once as soon as the scheduler runs, however late it starts.
    scheduler.add_job(
        run, id=CATCH_UP_JOB_ID, name="digest catch-up", replace_existing=True, misfire_grace_time=None
    )
