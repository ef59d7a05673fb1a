from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import Appeal, Resident, appeal_number, parse_appeal_number


async def test_timestamps_come_back_aware_utc(db: Database) -> None:
    moscow = timezone(timedelta(hours=3))
    async with db.transaction() as session:
        resident = Resident(platform="telegram", external_id="42")
        session.add(resident)
        await session.flush()
        session.add(
            Appeal(
                resident_id=resident.id,
                platform="telegram",
                category_id="roads",
                municipality_id="tambov",
                description="Яма на дороге у дома 5",
                status="new",
                created_at=datetime(2026, 11, 23, 23, 59, tzinfo=moscow),
            )
        )
    async with db.read() as session:
        appeal = (await session.scalars(select(Appeal))).one()
    assert appeal.created_at == datetime(2026, 11, 23, 20, 59, tzinfo=UTC)
    assert appeal.created_at.tzinfo is not None
    assert appeal.number == f"2026-{appeal.id:06d}"


def test_appeal_numbers_round_trip() -> None:
    created = datetime(2026, 1, 2, tzinfo=UTC)
    assert appeal_number(123, created) == "2026-000123"
    assert parse_appeal_number("№ 2026-000123") == 123
    assert parse_appeal_number("2026-000123") == 123
    assert parse_appeal_number("77") == 77
    for junk in ("", "abc", "2026-", "№", "-5", "0", "1e5"):
        assert parse_appeal_number(junk) is None, junk


async def test_a_unit_of_work_commits_its_transactions_together(db: Database) -> None:
    async def count() -> int:
        async with db.read() as session:
            return len((await session.scalars(select(Resident))).all())

    async with db.unit_of_work():
        async with db.transaction() as session:
            session.add(Resident(platform="telegram", external_id="1"))
        try:
            async with db.transaction() as session:
                session.add(Resident(platform="telegram", external_id="2"))
                await session.flush()
                raise RuntimeError("this block is undone, the rest goes on")
        except RuntimeError:
            pass
        assert await count() == 0  # nothing is visible before the unit commits
    assert await count() == 1

    try:
        async with db.unit_of_work():
            async with db.transaction() as session:
                session.add(Resident(platform="telegram", external_id="3"))
            raise RuntimeError("the whole unit is undone")
    except RuntimeError:
        pass
    assert await count() == 1


async def test_a_sqlite_file_is_in_wal_mode_before_any_connection(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "appeals.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        await database.dispose()
