"""The real app, as ``appeals run`` starts it (``bot.app.open_app`` from the environment),
for benchmarks: the one difference is that Telegram's pacing can be switched off.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE=http://127.0.0.1:PORT DATABASE_URL=... \\
        .venv/bin/python -m bench.bot_process [--pacing telegram|off]

With ``--pacing telegram`` (what ``appeals run`` does) the bot never sends more than 30
messages a second, one a second per chat after a burst of three: a throughput benchmark
would measure that limiter and nothing else. ``off`` measures what the machine can do.
SIGTERM / SIGINT stop it cleanly, like ``appeals run``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import open_app
from bot.config import load_settings
from bot.ratelimit import TELEGRAM_LIMITS, Limits

UNPACED = Limits(per_second=1_000_000)


async def main(pacing: str) -> None:
    settings = load_settings(None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    limits = TELEGRAM_LIMITS if pacing == "telegram" else UNPACED
    async with open_app(settings, telegram_limits=limits):
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pacing", choices=("telegram", "off"), default="off")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.pacing))
