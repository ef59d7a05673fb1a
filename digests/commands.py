"""/digest and /stats in the admin chat (routed here by the desk).

/digest previews this week so far; /stats shows the same figures for any period. Neither
posts anything to the channel.
"""

from __future__ import annotations

from digests.chart import chart_media
from digests.periods import MAX_DAYS, PeriodError, parse_period, week_so_far
from digests.posting import Digest, build_digest
from handlers.context import Context
from handlers.events import Reply


async def digest_preview(ctx: Context) -> list[Reply]:
    """This week from Monday 00:00 to now, against the same days of last week."""
    period = week_so_far(ctx.clock.now(), ctx.catalogue.zone)
    return [_reply(ctx, await build_digest(ctx, period, preview=True))]


async def stats_for(ctx: Context, args: str) -> list[Reply]:
    """``""`` (this week so far), ``2026-W47`` or ``2026-11-01 2026-11-15`` (both days
    included); anything else gets the usage text."""
    try:
        period = parse_period(args, ctx.clock.now(), ctx.catalogue.zone)
    except PeriodError:
        return [Reply(text=ctx.texts("digest-stats-usage", max_days=MAX_DAYS))]
    return [_reply(ctx, await build_digest(ctx, period, preview=period.end > ctx.clock.now()))]


def _reply(ctx: Context, digest: Digest) -> Reply:
    # The chart travels as a data: url, which every transport uploads as a file; the
    # platform named is the admin chat's.
    platform = ctx.catalogue.admin.chats[0].platform
    return Reply(text=digest.text, photos=(chart_media(digest.png, platform, digest.figures.period.key),))


class DigestReports:
    """The desk's reports port (``handlers.context.Reports``), filled by the digest."""

    async def preview(self, ctx: Context) -> list[Reply]:
        return await digest_preview(ctx)

    async def stats(self, ctx: Context, args: str) -> list[Reply]:
        return await stats_for(ctx, args)
