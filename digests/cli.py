"""``appeals digest --week 2026-W47 [--out chart.png] [--post [--partial]]`` (wired by bot/cli.py).

Prints the digest's text and writes its chart to a file. ``--post`` posts a week that is
over, still exactly once per channel and week; a week not over yet is refused, unless
``--partial``, which posts the figures so far, marked as such, and never stands in for
the weekly post. Delivering what was queued is the caller's (``deliver``): the bot layer
hands it to a running bot's sender or sends it itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from digests.periods import PeriodError, parse_week
from digests.posting import build_digest, queue_digest, queue_partial
from digests.render import visible_text
from handlers.context import Context
from handlers.events import ChatRef

Deliver = Callable[[list[tuple[ChatRef, int]]], Awaitable[int]]
"""Deliver the queued outbox rows (channel, row id); returns the exit status."""


async def digest_cli(
    ctx: Context,
    week: str,
    out: Path | None,
    post: bool,
    stdout: TextIO,
    *,
    partial: bool = False,
    deliver: Deliver | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Exit status: 0 done, 2 a week that cannot be read or posted as asked."""
    stderr = stderr or stdout
    try:
        period = parse_week(week, ctx.catalogue.zone)
    except PeriodError as exc:
        stderr.write(f"error: {exc}\n")
        return 2
    now = ctx.clock.now()
    over = period.end <= now
    if partial and not post:
        stderr.write("error: --partial goes with --post\n")
        return 2
    if post and not over and not partial:
        ends = period.end.astimezone(ctx.catalogue.zone).strftime("%Y-%m-%d %H:%M")
        stderr.write(
            f"error: {period.key} is not over until {ends} ({ctx.catalogue.region.timezone}): the bot posts "
            "it by itself then; add --partial to post the figures so far (the weekly post still follows)\n"
        )
        return 2
    if partial and over:
        stderr.write(f"error: {period.key} is over: post it without --partial\n")
        return 2
    shown = period if over else period.until(now)
    digest = await build_digest(ctx, shown, preview=not over)
    stdout.write(visible_text(digest.text) + "\n")
    path = out if out is not None else Path(f"digest-{period.key}.png")
    try:
        path.write_bytes(digest.png)
    except OSError as exc:
        stderr.write(f"error: cannot write the chart to {path}: {exc.strerror or exc}; pass --out FILE\n")
        return 2
    stdout.write(f"\nchart: {path}\n")
    if not post:
        return 0
    channels = ctx.catalogue.digest.channels
    if not channels:
        stdout.write("no digest channels in the catalogue: nothing posted\n")
        return 0
    queued = await (queue_partial(ctx, period) if partial else queue_digest(ctx, period))
    fresh = {channel for channel, _ in queued}
    for channel in channels:
        if channel not in fresh:
            stdout.write(f"{channel}: already posted before, not again\n")
    if not queued:
        return 0
    if deliver is None:
        for channel, row_id in queued:
            stdout.write(f"{channel}: queued for posting (outbox #{row_id})\n")
        return 0
    return await deliver(queued)
