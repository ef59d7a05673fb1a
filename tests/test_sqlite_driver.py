"""The SQLite writer's driver: statements inline, ``BEGIN`` waiting in the thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import sqlite_driver
from storage.db import Database


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[sqlite_driver.InlineConnection]:
    path = tmp_path / "driver.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (n INTEGER)")
    connection = await sqlite_driver.connect(path, isolation_level=None, timeout=5)
    await connection.create_function("tid", 0, threading.get_ident)
    try:
        yield connection
    finally:
        await connection.close()


async def _thread_of(conn: sqlite_driver.InlineConnection) -> int:
    async with conn.execute("SELECT tid()") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_statements_run_on_the_loop_thread(conn: sqlite_driver.InlineConnection) -> None:
    assert await _thread_of(conn) == threading.get_ident()
    await conn.execute("BEGIN IMMEDIATE")
    await conn.execute("INSERT INTO t VALUES (1)")
    await conn.commit()
    async with conn.execute("SELECT count(*) FROM t") as cursor:
        assert await cursor.fetchone() == (1,)


async def test_begin_waits_for_another_writer_without_blocking_the_loop(
    conn: sqlite_driver.InlineConnection, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "driver.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    begin = asyncio.create_task(conn.execute("BEGIN IMMEDIATE"))
    await asyncio.sleep(0.3)
    assert not begin.done()  # waiting for the lock...
    assert ticks >= 10  # ...while the loop goes on
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(begin, 5)
    await conn.execute("INSERT INTO t VALUES (2)")
    await conn.commit()
    ticker.cancel()


async def test_a_cancelled_begin_keeps_the_connection_in_its_thread_until_it_has_run(
    conn: sqlite_driver.InlineConnection, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "driver.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    begin = asyncio.create_task(conn.execute("BEGIN IMMEDIATE"))
    await asyncio.sleep(0.1)
    begin.cancel()
    with pytest.raises(asyncio.CancelledError):
        await begin
    # The thread still runs that BEGIN: what follows queues behind it, in order, instead of
    # touching the connection from a second thread at once.
    rollback = asyncio.create_task(conn.rollback())
    await asyncio.sleep(0.1)
    assert not rollback.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(rollback, 5)
    assert not conn.in_transaction
    # Once the thread is idle, statements run inline again.
    assert await _thread_of(conn) == threading.get_ident()


async def test_the_database_writes_through_it_and_reads_in_the_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with db.transaction() as session:
            raw = await session.connection()
            driver = (await raw.get_raw_connection()).driver_connection
            assert isinstance(driver, sqlite_driver.InlineConnection)
        async with db.read() as session:
            raw = await session.connection()
            driver = (await raw.get_raw_connection()).driver_connection
            assert not isinstance(driver, sqlite_driver.InlineConnection)
    finally:
        await db.dispose()
