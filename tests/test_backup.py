"""`appeals backup`: a consistent copy of a live SQLite database."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import storage.backup
from storage.backup import BackupError, backup, sqlite_file
from storage.db import Database
from storage.models import Resident

pytestmark = pytest.mark.skipif("TEST_DATABASE_URL" in os.environ, reason="backs up SQLite only")


async def test_backup_of_a_database_being_written(db: Database, tmp_path: Path) -> None:
    stop = asyncio.Event()

    async def writer() -> int:
        n = 0
        while not stop.is_set():
            async with db.transaction() as session:
                session.add(Resident(platform="telegram", external_id=str(n)))
            n += 1
            await asyncio.sleep(0)
        return n

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    target = tmp_path / "copy" / "appeals.db"
    size = await backup(db.url, target)
    stop.set()
    written = await task
    assert size > 0
    copy = sqlite3.connect(target)
    (count,) = copy.execute("SELECT count(*) FROM residents").fetchone()
    (version,) = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    copy.close()
    assert 0 < count <= written
    assert version
    # The live database went on and has everything.
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == written


async def test_backup_refuses_what_it_cannot_copy(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        sqlite_file("postgresql+asyncpg://root@/x")
    with pytest.raises(BackupError, match="no database"):
        await backup(f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}", tmp_path / "x.db")


@pytest.mark.parametrize(
    ("target", "says"),
    [
        (lambda tmp: tmp / "backups", "is a folder: name the file, like"),
        (lambda tmp: tmp / "notes.txt" / "copy.db", "cannot write"),
        (lambda tmp: tmp / "notes.txt" / "deeper" / "copy.db", "cannot write"),
        (lambda tmp: Path("/proc/appeals-backup.db"), "cannot write /proc/appeals-backup.db"),
    ],
)
def test_a_backup_that_cannot_be_written_is_one_line_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: Any, says: str
) -> None:
    from bot.cli import main

    live = tmp_path / "live" / "appeals.db"
    settings = tmp_path / "settings.env"
    settings.write_text(f"DATABASE_URL=sqlite+aiosqlite:///{live}\n", encoding="utf-8")
    (tmp_path / "backups").mkdir()
    (tmp_path / "notes.txt").write_text("not a folder")
    assert main(["--env-file", str(settings), "db", "upgrade"]) == 0
    capsys.readouterr()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    assert main(["--env-file", str(settings), "backup", str(target(tmp_path))]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("backup failed: ") and says in line, line
    assert captured.out == ""
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert not Path("/proc/appeals-backup.db.partial").exists()


def test_a_copy_that_fails_half_way_leaves_no_partial_file_and_no_new_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy is written beside the target first: when it fails after that file exists
    (here a damaged page in the live database fails the copy's integrity check), the
    partial copy, its journal and the folders made for it are all removed."""
    from bot.cli import main

    live = tmp_path / "live" / "appeals.db"
    settings = tmp_path / "settings.env"
    settings.write_text(f"DATABASE_URL=sqlite+aiosqlite:///{live}\n", encoding="utf-8")
    assert main(["--env-file", str(settings), "db", "upgrade"]) == 0
    with sqlite3.connect(live) as filled:
        filled.execute("CREATE TABLE ballast (x TEXT)")
        filled.executemany("INSERT INTO ballast VALUES (?)", [("я" * 200,) for _ in range(2000)])
    filled.close()
    damaged = bytearray(live.read_bytes())
    page = 4096
    damaged[len(damaged) - 20 * page : len(damaged) - 18 * page] = b"\xff" * (2 * page)
    live.write_bytes(bytes(damaged))
    capsys.readouterr()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    target = tmp_path / "backups" / "nightly" / "appeals.db"

    partials: list[bool] = []
    copy = storage.backup._copy

    def watched(source: Path, partial: Path, pages_per_step: int) -> None:
        try:
            copy(source, partial, pages_per_step)
        finally:
            partials.append(partial.exists())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.backup, "_copy", watched)
        assert main(["--env-file", str(settings), "backup", str(target)]) == 2

    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("backup failed: "), line
    assert partials == [True], "the failure came after the partial copy was written"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
