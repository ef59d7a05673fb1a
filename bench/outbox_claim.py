"""Benchmark: the outbox claim's cost as one chat's backlog drains, no network.

    .venv/bin/python bench/outbox_claim.py --backlog 4000
    .venv/bin/python bench/outbox_claim.py --backlog 4000 \\
        --database-url "postgresql+asyncpg://root@/appeals_x?host=/var/run/postgresql"

Queues ``--backlog`` cards (four messages each would be 4 x; here one row a message) to one
agency group and ``--residents`` replies to as many private chats, then drains the outbox
the way the sender does (claim up to 16 heads, record each as sent) without sending
anything. Prints the median time of one claim transaction (BEGIN .. COMMIT) and of its
statements alone at each fifth of the backlog left: with
the claim at index speed the figures are flat; a claim that walks the backlog grows with it.

PostgreSQL: the ``public`` schema of the given database is dropped and recreated first.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from handlers.clock import SystemClock
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade

GROUP = "-1003000000001"
PAYLOAD = {"kind": "text", "text": "Обращение № 1: яма на проезжей части у дома 7, глубина около 20 см"}


async def fresh_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def bench(url: str, backlog: int, residents: int) -> str:
    await upgrade(url)
    db = Database(url)
    clock = SystemClock()
    try:
        async with db.transaction() as session:

            async def enqueue(chat_id: str, purpose: str) -> None:
                await outbox.enqueue(
                    session, platform="telegram", chat_id=chat_id, payload=PAYLOAD, purpose=purpose
                )

            for n in range(backlog):
                await outbox.enqueue(
                    session, platform="telegram", chat_id=GROUP, payload=PAYLOAD, purpose="card"
                )
                if n < residents:
                    await outbox.enqueue(
                        session,
                        platform="telegram",
                        chat_id=str(10_000_000 + n),
                        payload=PAYLOAD,
                        purpose="reply",
                    )
        left = backlog
        timings: dict[int, list[float]] = {}
        queries: dict[int, list[float]] = {}
        started = time.perf_counter()
        while True:
            moment = time.perf_counter()
            async with db.transaction() as session:
                inner = time.perf_counter()
                rows = await outbox.claim_due(
                    session, now=clock.now(), lease=timedelta(seconds=15), limit=16, platforms=["telegram"]
                )
                query = time.perf_counter() - inner
            spent = time.perf_counter() - moment
            if not rows:
                break
            fifth = min(4, (backlog - left) * 5 // max(backlog, 1))
            timings.setdefault(fifth, []).append(spent)
            queries.setdefault(fifth, []).append(query)
            for row in rows:
                async with db.transaction() as session:
                    await outbox.mark_sent(session, row.id, now=clock.now(), message_ids=["1"])
                if row.chat_id == GROUP:
                    left -= 1
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()

    def fifths(figures: dict[int, list[float]]) -> str:
        return " ".join(
            f"{100 - 20 * k}%:{statistics.median(figures[k]) * 1000:.2f}" for k in sorted(figures)
        )

    return (
        f"backlog={backlog} residents={residents} drained in {elapsed:.1f} s; median ms by backlog left: "
        f"claim transaction {fifths(timings)} | claim statements {fifths(queries)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=4000)
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    async def run() -> str:
        if args.database_url:
            await fresh_postgres(args.database_url)
            return await bench(args.database_url, args.backlog, args.residents)
        with tempfile.TemporaryDirectory() as tmp:
            return await bench(f"sqlite+aiosqlite:///{Path(tmp) / 'claim.db'}", args.backlog, args.residents)

    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
