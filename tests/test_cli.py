"""``appeals`` on the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli import main
from handlers.catalogue import EXAMPLE_PATH


def test_check_catalogue_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-catalogue", str(EXAMPLE_PATH)]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_catalogue_names_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "catalogue.toml"
    broken.write_text(
        EXAMPLE_PATH.read_text(encoding="utf-8").replace(
            'timezone = "Europe/Moscow"', 'timezone = "Mars/Olympus"'
        ),
        encoding="utf-8",
    )
    assert main(["check-catalogue", str(broken)]) == 2
    error = capsys.readouterr().err
    assert str(broken) in error and "Mars/Olympus" in error


async def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    code = await asyncio.to_thread(main, ["--env-file", str(tmp_path / "none.env"), "db", "upgrade"])
    assert code == 0
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert {"appeals", "inbox", "outbox"} <= set(tables)
