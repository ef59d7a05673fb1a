"""An aiosqlite connection that runs the writer's statements on the event loop's thread.

aiosqlite hands every call to a thread of its own and waits for the answer: three or four
round trips per statement, each waiting for a free turn of a busy event loop. For the one
writer that SQLite allows at a time those waits are the whole cost of a transaction, and
while they last the write lock is held and every other writer queues (measured: ~8 ms of
hold per write transaction, of which the SQL itself is tens of microseconds).

Here a statement runs inline instead, unless it can wait on another process: ``BEGIN``
(``BEGIN IMMEDIATE`` waits up to ``busy_timeout`` for another process's writer) still goes
through the thread, so the loop never sleeps in SQLite. After it, this connection holds the
write lock and, in WAL mode, nothing it runs waits for anyone. ``COMMIT`` runs inline too:
with ``synchronous=NORMAL`` it syncs nothing, except the automatic checkpoint every ~1,000
pages of WAL (one fsync, milliseconds). Use it for the write engine only: long reads
(reports, digests) belong on the thread.

It relies on aiosqlite's internals (``_execute``, the work queue and its thread);
pyproject pins the aiosqlite minor version.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from queue import SimpleQueue
from threading import Lock, Thread
from typing import Any

import aiosqlite
from aiosqlite.core import _connection_worker_thread


class InlineConnection(aiosqlite.Connection):
    """Statements run in the caller's thread; ``BEGIN`` waits in aiosqlite's thread.

    Whatever is queued for the thread (a ``BEGIN`` whose caller was cancelled, SQLAlchemy's
    own calls) keeps the connection there until it has run: two threads never use the
    sqlite3 connection at once, and calls keep their order."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._queue = self._tx = _CountingQueue()
        # Daemon, as SQLAlchemy makes aiosqlite's: a forgotten engine must not hang the exit.
        self._thread = Thread(target=_connection_worker_thread, args=(self._tx,), daemon=True)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._queue.busy or (args and isinstance(args[0], str) and _may_wait(args[0])):
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


class _CountingQueue(SimpleQueue[tuple[asyncio.Future[Any] | None, Callable[[], Any]]]):
    """aiosqlite's work queue, counting the calls queued or running in its thread."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = Lock()
        self.busy = 0

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item

        def counted() -> Any:
            try:
                return function()
            finally:
                with self._lock:
                    self.busy -= 1

        with self._lock:
            self.busy += 1
        super().put_nowait((future, counted))


def _may_wait(sql: str) -> bool:
    return sql.lstrip()[:5].upper() == "BEGIN"


def connect(database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """``aiosqlite.connect`` for :class:`InlineConnection` (SQLAlchemy's ``async_creator_fn``).

    The sqlite3 connection is opened in aiosqlite's thread and used from the loop's, one
    call at a time: ``check_same_thread`` has to be off."""
    kwargs["check_same_thread"] = False

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(str(database), **kwargs)
        return connection

    return InlineConnection(connector, iter_chunk_size)
