"""Engine, sessions and the unit of work.

One unit of work per update owns the transaction: queries in ``storage`` never commit.
On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` and, inside one process,
units of work take turns on an asyncio lock, so writers queue instead of failing with
"database is locked"; WAL keeps readers (``Database.read``) off that queue. The writers'
statements run on the event loop's thread (``storage.sqlite_driver``), so the lock is held
for the SQL alone, not for round trips to a driver thread.
On PostgreSQL transactions run concurrently and order comes from row locks.

``Database.unit_of_work()`` groups every ``transaction()`` a task opens inside it into one
commit (inner blocks become savepoints): the update pipeline uses it so that what the core
changes and the answer it gives are stored together, or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import sqlite_driver


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.query.get("uri") == "true":  # sqlite:///file:path?mode=ro&uri=true
        return Path(parsed.database.removeprefix("file:"))
    return Path(parsed.database)


def ensure_folder(url: str) -> None:
    """Create the folder a SQLite file lives in (``./data/`` on a fresh clone), so the
    first migration does not fail with "unable to open database file"."""
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _setup_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so we can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _use_wal(path: Path) -> None:
    """Put the file in WAL mode, once, before any pool opens a connection.

    WAL is a property of the file and stays once set. Switching takes an exclusive lock,
    and two connections opening a fresh file at once can fail it immediately ("database is
    locked", no busy wait): so it is done here, alone, and connections only use it."""
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")


class Database:
    """The database: ``async with db.transaction() as session`` is one unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        path = _sqlite_path(url)
        if path is not None:
            ensure_folder(url)
            _use_wal(path)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs.update(pool_size=4, max_overflow=4, pool_timeout=600)
            kwargs["connect_args"] = {"async_creator_fn": sqlite_driver.connect}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine = create_async_engine(url, **kwargs)
        self._read_engine = self.engine
        if self.is_sqlite:
            _setup_sqlite(self.engine, immediate=True)
            self._read_engine = create_async_engine(url, echo=echo, pool_size=2, max_overflow=2)
            _setup_sqlite(self._read_engine, immediate=False)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self._read_engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises.

        Inside :meth:`unit_of_work` it joins the unit's transaction as a savepoint instead:
        a block that raises is undone, the rest commits with the unit."""
        unit = _current_unit.get()
        if unit is not None and unit.db is self:
            session = await unit.session()
            async with session.begin_nested():
                yield session
            return
        async with self._begin() as session:
            yield session

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Everything this task writes until the block ends commits once, at its end.

        The transaction opens lazily, at the first write, so waiting before it holds no
        lock. Don't start tasks that write from inside: they would share the session."""
        unit = UnitOfWork(self)
        token = _current_unit.set(unit)
        try:
            async with unit.stack:
                yield unit
        finally:
            _current_unit.reset(token)

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncSession]:
        if self._write_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        # The lock covers BEGIN IMMEDIATE .. COMMIT only: handing the connection back to the
        # pool (a rollback round trip to the driver's thread) happens after it is released.
        async with self.sessions() as session, self._write_lock, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session that does not queue behind writers (reports, digests)."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


class UnitOfWork:
    """An open :meth:`Database.unit_of_work`: its one session, begun at first use."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stack = AsyncExitStack()
        self._session: AsyncSession | None = None

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._session = await self.stack.enter_async_context(self.db._begin())
        return self._session


_current_unit: ContextVar[UnitOfWork | None] = ContextVar("unit_of_work", default=None)
