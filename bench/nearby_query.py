"""How long the nearby step's search takes over a big table: seed appeals across the
region (and a dense cluster in one town), then time the search for open appeals of a
topic within 50 m of many points, through ``storage.nearby.near_point`` as the step calls
it. Run by hand, never as a timed test:

    .venv/bin/python bench/nearby_query.py                       # 1,000,000 into bench/out/
    .venv/bin/python bench/nearby_query.py --database-url postgresql+asyncpg://...

Appeals are spread uniformly over the example region's bounds; one in a hundred lies in a
square of about 1 km around a point in Tambov (a busy street has many reports), so the
search there finds some. Two in five are open. Prints the query plan (SQLite) and one line
of figures: the search's median and 99th percentile, and the same query forced past the
index (``NOT INDEXED``, SQLite) for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.catalogue import EXAMPLE_PATH, load_catalogue
from handlers.workflow import OPEN_STATUSES
from storage.db import Database
from storage.migrate import upgrade
from storage.nearby import bounding_box, near_point

OPEN = sorted(status.value for status in OPEN_STATUSES)
OUT = Path(__file__).resolve().parent / "out"
BATCH = 100_000
CLUSTER = (52.7210, 41.4520)
RADIUS_M = 50


def _seed_sql(
    dialect: str, categories: list[str], south: float, west: float, north: float, east: float
) -> str:
    def pick(values: list[str], expr: str) -> str:
        whens = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
        return f"CASE ({expr}) {whens} END"

    if dialect == "postgresql":
        counter = "SELECT generate_series(CAST(:offset AS bigint), CAST(:offset AS bigint) + :count - 1) AS n"
        head, now = "", "now()"
    else:
        head = (
            "WITH RECURSIVE c(n) AS "
            "(SELECT :offset UNION ALL SELECT n + 1 FROM c WHERE n < :offset + :count - 1) "
        )
        counter, now = "SELECT n FROM c", "'2026-11-24 09:00:00.000000'"
    # Pseudo-random but reproducible positions: multiplicative hashes of the row number.
    u = "(((n * 7919) % 1000003) / 1000003.0)"
    v = "(((n * 104729) % 999983) / 999983.0)"
    lat = f"{CLUSTER[0]} - 0.0045 + 0.009 * {u}", f"{south} + {north - south} * {u}"
    lon = f"{CLUSTER[1]} - 0.0075 + 0.015 * {v}", f"{west} + {east - west} * {v}"
    lat_sql = f"CASE WHEN n % 100 = 0 THEN {lat[0]} ELSE {lat[1]} END"
    lon_sql = f"CASE WHEN n % 100 = 0 THEN {lon[0]} ELSE {lon[1]} END"
    category = pick(categories, f"(n * 31) % {len(categories)}")
    status = "CASE WHEN n % 5 < 2 THEN 'passed' WHEN n % 5 = 2 THEN 'answered' ELSE 'solved' END"
    return (
        f"{head}INSERT INTO appeals (platform, category_id, municipality_id, agency_id, description, "
        "status, created_at, updated_at, latitude, longitude, reopen_count, followers_count) "
        f"SELECT 'telegram', {category}, 'tambov', 'tambov-roads', 'bench', {status}, {now}, {now}, "
        f"{lat_sql}, {lon_sql}, 0, 0 FROM ({counter}) AS counter"
    )


async def seed(db: Database, count: int) -> float:
    catalogue = load_catalogue(EXAMPLE_PATH)
    bounds = catalogue.region.bounds
    assert bounds is not None
    sql = text(
        _seed_sql(
            "sqlite" if db.is_sqlite else "postgresql",
            [c.id for c in catalogue.categories],
            bounds.south,
            bounds.west,
            bounds.north,
            bounds.east,
        )
    )
    started = time.perf_counter()
    for offset in range(0, count, BATCH):
        async with db.transaction() as session:
            await session.execute(sql, {"offset": offset, "count": min(BATCH, count - offset)})
    async with db.transaction() as session:
        await session.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _points(count: int, rng: random.Random) -> list[tuple[float, float]]:
    """Half in the cluster (the search finds appeals), half anywhere in the region."""
    points = []
    for n in range(count):
        if n % 2 == 0:
            points.append((CLUSTER[0] + rng.uniform(-0.004, 0.004), CLUSTER[1] + rng.uniform(-0.007, 0.007)))
        else:
            points.append((rng.uniform(51.3, 54.0), rng.uniform(39.8, 43.3)))
    return points


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--database-url", help="PostgreSQL URL; default a SQLite file in bench/out/")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the table is full")
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{OUT / 'nearby_bench.db'}"
    await upgrade(url)
    db = Database(url)
    catalogue = load_catalogue(EXAMPLE_PATH)
    categories = [c.id for c in catalogue.categories]
    rng = random.Random(18)
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

        points = _points(args.queries, rng)
        timings: list[float] = []
        found = 0
        async with db.read() as session:
            for n, (lat, lon) in enumerate(points):
                started = time.perf_counter()
                hits = await near_point(
                    session, categories[n % len(categories)], lat, lon, RADIUS_M, statuses=OPEN
                )
                timings.append(time.perf_counter() - started)
                found += len(hits)

        plan, scan_ms = "", None
        if db.is_sqlite:
            south, north, west, east = bounding_box(*CLUSTER, RADIUS_M)
            statuses = ", ".join(f"'{s}'" for s in OPEN)
            where = (
                f"category_id = 'roads' AND status IN ({statuses}) AND latitude BETWEEN {south} AND {north} "
                f"AND longitude BETWEEN {west} AND {east}"
            )
            async with db.read() as session:
                rows = await session.execute(text(f"EXPLAIN QUERY PLAN SELECT id FROM appeals WHERE {where}"))
                plan = "; ".join(str(row[-1]) for row in rows)
                started = time.perf_counter()
                for _ in range(3):
                    await session.execute(text(f"SELECT id FROM appeals NOT INDEXED WHERE {where}"))
                scan_ms = (time.perf_counter() - started) / 3 * 1000
    finally:
        await db.dispose()

    backend = "sqlite" if db.is_sqlite else "postgresql"
    ms = sorted(t * 1000 for t in timings)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    if plan:
        print(f"plan: {plan}")
    print(
        f"nearby on {backend}: {total} appeals, {len(ms)} searches within {RADIUS_M} m "
        f"({found} appeals found): p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, "
        f"max {ms[-1]:.2f} ms"
        + (f"; without the index {scan_ms:.0f} ms a search" if scan_ms is not None else "")
        + (f"; seeded in {seeded_s:.1f} s" if seeded_s else "")
        + f" at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


if __name__ == "__main__":
    asyncio.run(main())
