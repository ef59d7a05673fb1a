"""``appeals digest --week 2026-W47 [--out chart.png] [--post]`` (wired by bot/cli.py).

Prints the digest's text and writes its chart to a file; with ``--post`` also queues it
for the channels, still exactly once per channel and week.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from digests.periods import PeriodError, parse_week
from digests.posting import build_digest, post_digest
from digests.render import visible_text
from handlers.context import Context


async def digest_cli(ctx: Context, week: str, out: Path | None, post: bool, stdout: TextIO) -> int:
    """Exit status: 0 done, 2 a week that cannot be read."""
    try:
        period = parse_week(week, ctx.catalogue.zone)
    except PeriodError as exc:
        stdout.write(f"error: {exc}\n")
        return 2
    digest = await build_digest(ctx, period)
    stdout.write(visible_text(digest.text) + "\n")
    path = out if out is not None else Path(f"digest-{period.key}.png")
    path.write_bytes(digest.png)
    stdout.write(f"\nchart: {path}\n")
    if post:
        if not ctx.catalogue.digest.channels:
            stdout.write("no digest channels in the catalogue: nothing posted\n")
            return 0
        posted = await post_digest(ctx, period)
        for channel in ctx.catalogue.digest.channels:
            state = "queued for posting" if channel in posted else "already posted before, not again"
            stdout.write(f"{channel}: {state}\n")
    return 0
