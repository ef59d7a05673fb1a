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


def test_run_without_a_token_is_the_console_demo(tmp_path: Path) -> None:
    """What a newcomer gets from ``appeals run`` on a machine with no token: the dialogue in
    the terminal, against a real database that keeps the appeal."""
    import os
    import sqlite3
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VK_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    env["LOG_FORMAT"] = "console"
    dialogue = "\n".join(
        [
            "/start",
            "1",  # consent
            "1",  # roads
            "1",  # Tambov
            "Глубокая яма на дороге у остановки Школьная",
            "2",  # [2] Пропустить (place)
            "1",  # [1] Пропустить (photos)
            "1",  # [1] Пропустить (phone)
            "1",  # [1] Отправить
            "/quit",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", str(tmp_path / "none.env"), "run"],
        input=dialogue + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "console demo" in done.stdout
    assert "[1] Согласен" in done.stdout
    db = sqlite3.connect(tmp_path / "demo.db")
    ((number_id, description),) = db.execute("SELECT id, description FROM appeals").fetchall()
    db.close()
    assert description == "Глубокая яма на дороге у остановки Школьная"
    assert f"-{number_id:06d}" in done.stdout


def test_backup_command_copies_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import sqlite3

    source = tmp_path / "live.db"
    os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{source}"
    try:
        assert main(["--env-file", str(tmp_path / "none.env"), "db", "upgrade"]) == 0
        assert main(["--env-file", str(tmp_path / "none.env"), "backup", str(tmp_path / "copy.db")]) == 0
    finally:
        del os.environ["DATABASE_URL"]
    assert "consistent copy" in capsys.readouterr().out
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    copy.close()
