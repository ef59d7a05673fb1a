"""How long the weekly digest takes over a big table: seed appeals, time the figures and
the chart. Run by hand, never as a timed test:

    .venv/bin/python bench/digest_build.py                       # 1,000,000 into bench/out/
    .venv/bin/python bench/digest_build.py --database-url postgresql+asyncpg://...

Appeals are spread over two years ending with the reported week, with weekday and topic
skew, a share passed on, answered (minutes to days later) and solved. Seeding runs one
INSERT ... SELECT over a recursive counter per batch, so a million rows take seconds, not
minutes. Prints one line with both times.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digests.chart import render_chart
from digests.figures import build_figures
from digests.periods import iso_week
from digests.render import render_digest
from handlers.catalogue import EXAMPLE_PATH, load_catalogue
from handlers.texts import Texts
from storage.db import Database
from storage.migrate import upgrade

OUT = Path(__file__).resolve().parent / "out"
WEEK = (2026, 47)
SPAN_S = 2 * 365 * 86400
BATCH = 100_000


def _seed_sql(dialect: str, categories: list[str], municipalities: list[str], agencies: list[str]) -> str:
    """One batch: ``:offset`` .. ``:offset + :count`` appeals, derived from their number."""

    def pick(values: list[str], expr: str) -> str:
        whens = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
        return f"CASE ({expr}) {whens} END"

    if dialect == "postgresql":
        at = "to_timestamp(CAST(:end_epoch AS bigint) - ((n * 7919) % {span}))"
        plus = "{base} + make_interval(secs => {secs})"
        counter = "SELECT generate_series(CAST(:offset AS bigint), CAST(:offset AS bigint) + :count - 1) AS n"
        head = ""
    else:
        # SQLAlchemy stores SQLite datetimes with six decimals: keep the format comparable.
        at = "datetime(:end_epoch - ((n * 7919) % {span}), 'unixepoch') || '.000000'"
        plus = "datetime({base}, '+' || ({secs}) || ' seconds') || '.000000'"
        head = (
            "WITH RECURSIVE c(n) AS "
            "(SELECT :offset UNION ALL SELECT n + 1 FROM c WHERE n < :offset + :count - 1) "
        )
        counter = "SELECT n FROM c"
    created = at.format(span=SPAN_S)
    # Topics skew to the first ones (roads first), like real weeks.
    category = pick(categories, f"((n * 31) % 97) * ((n * 17) % 97) % {len(categories)}")
    municipality = pick(municipalities, f"(n * 13) % {len(municipalities)}")
    agency = pick(agencies, f"(n * 11) % {len(agencies)}")
    passed = plus.format(base="created", secs="(n % 3600)")
    answered = plus.format(base="created", secs="3600 + (n * 37) % 259200")
    solved = plus.format(base="created", secs="86400 + (n * 53) % 604800")
    return (
        f"{head}INSERT INTO appeals (platform, category_id, municipality_id, agency_id, description, "
        "status, created_at, updated_at, passed_at, first_response_at, solved_at, reopen_count) "
        "SELECT 'telegram', category, municipality, agency, 'bench', "
        "CASE WHEN n % 5 < 2 THEN 'solved' WHEN n % 5 = 2 THEN 'answered' ELSE 'passed' END, "
        "created, created, "
        f"CASE WHEN n % 10 < 9 THEN {passed} END, "
        f"CASE WHEN n % 5 < 4 THEN {answered} END, "
        f"CASE WHEN n % 5 < 2 THEN {solved} END, 0 "
        f"FROM (SELECT n, {created} AS created, {category} AS category, "
        f"{municipality} AS municipality, {agency} AS agency FROM ({counter}) AS counter) AS seeded"
    )


async def seed(db: Database, count: int) -> float:
    catalogue = load_catalogue(EXAMPLE_PATH)
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    sql = text(
        _seed_sql(
            dialect,
            [c.id for c in catalogue.categories],
            [m.id for m in catalogue.municipalities],
            [a.id for a in catalogue.agencies],
        )
    )
    period = iso_week(*WEEK, catalogue.zone)
    end_epoch = int(period.end.timestamp()) - 1
    started = time.perf_counter()
    for offset in range(0, count, BATCH):
        async with db.transaction() as session:
            await session.execute(
                sql, {"offset": offset, "count": min(BATCH, count - offset), "end_epoch": end_epoch}
            )
    async with db.transaction() as session:
        await session.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL URL; default a SQLite file in bench/out/")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the table is full")
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{OUT / 'digest_bench.db'}"
    await upgrade(url)
    db = Database(url)
    catalogue = load_catalogue(EXAMPLE_PATH)
    texts = Texts()
    try:
        async with db.read() as session:
            present = int((await session.execute(text("SELECT count(*) FROM appeals"))).scalar_one())
        seeded_s = 0.0
        if present < args.appeals or args.reseed:
            async with db.transaction() as session:
                await session.execute(text("DELETE FROM appeals"))
            seeded_s = await seed(db, args.appeals)
        async with db.read() as session:
            total = int((await session.execute(text("SELECT count(*) FROM appeals"))).scalar_one())

        period = iso_week(*WEEK, catalogue.zone)
        started = time.perf_counter()
        async with db.read() as session:
            figures = await build_figures(session, catalogue, period, period.end)
        render_digest(texts, figures)
        figures_s = time.perf_counter() - started
        started = time.perf_counter()
        png = render_chart(texts, figures)
        chart_s = time.perf_counter() - started
    finally:
        await db.dispose()

    backend = "sqlite" if db.is_sqlite else "postgresql"
    print(
        f"digest {period.key} on {backend}: {total} appeals ({figures.received} in the week), "
        f"figures+text {figures_s * 1000:.0f} ms, chart {chart_s * 1000:.0f} ms ({len(png) // 1024} KB)"
        + (f", seeded in {seeded_s:.1f} s" if seeded_s else "")
        + f" at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


if __name__ == "__main__":
    asyncio.run(main())
