"""A consistent copy of a live SQLite database, through SQLite's online backup API.

The bot may keep writing while the copy is made: the backup API copies pages and
restarts on changes, so the result is one consistent snapshot. PostgreSQL deployments
use ``pg_dump`` instead (README).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(f"backup copies SQLite databases; for {parsed.get_backend_name()} use pg_dump")
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(parsed.database)


def backup_sqlite_sync(source: Path, target: Path, *, pages_per_step: int = 1024) -> int:
    """Copy ``source`` to ``target`` (overwritten); returns the target's size in bytes.

    The copy is written beside the target and renamed into place when complete and checked,
    so a failure leaves no file behind and never a half-written backup."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.is_dir():
        raise BackupError(f"{target} is a folder: name the file, like {target / 'appeals-backup.db'}")
    partial = target.with_name(target.name + ".partial")
    made: list[Path] = []
    try:
        for folder in reversed([target.parent, *target.parent.parents]):
            if not folder.exists():
                folder.mkdir()
                made.append(folder)
        partial.unlink(missing_ok=True)
        _copy(source, partial, pages_per_step)
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:
        _remove(partial)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BackupError(f"cannot write {target}: {reason}") from None
    except BackupError:
        _remove(partial)
        raise
    return target.stat().st_size


def _remove(partial: Path) -> None:
    for leftover in (partial, partial.with_name(partial.name + "-journal")):
        with contextlib.suppress(OSError):
            leftover.unlink(missing_ok=True)


def _copy(source: Path, partial: Path, pages_per_step: int) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=pages_per_step)
            check = dst.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupError(f"the copy failed its integrity check: {check}")
        finally:
            dst.close()
    finally:
        src.close()


async def backup(url: str, target: Path) -> int:
    return await asyncio.to_thread(backup_sqlite_sync, sqlite_file(url), target)
