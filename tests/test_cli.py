"""``appeals`` on the command line."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli import main
from handlers.catalogue import EXAMPLE_PATH
from tests.support.demo import file_an_appeal, leave


def test_check_catalogue_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-catalogue", str(EXAMPLE_PATH)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "9 categories (8 with topic keywords)" in out


@pytest.mark.parametrize(
    ("keywords", "problem"),
    [('["ям"]', "at least 3 letters"), ('["дорог", "Дорог"]', "listed twice"), ('[" "]', "at least 3")],
)
def test_check_catalogue_refuses_a_topic_keyword_that_would_mislead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keywords: str, problem: str
) -> None:
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("keywords = ["))
    broken = tmp_path / "catalogue.toml"
    broken.write_text(text.replace(line, f"keywords = {keywords}", 1), encoding="utf-8")
    assert main(["check-catalogue", str(broken)]) == 2
    error = capsys.readouterr().err
    assert "keywords" in error and problem in error


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
    """In a folder that does not exist yet, as ``./data/`` on a fresh clone."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'deeper' / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    code = await asyncio.to_thread(main, ["--env-file", str(tmp_path / "none.env"), "db", "upgrade"])
    assert code == 0
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert {"appeals", "inbox", "outbox"} <= set(tables)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """This machine's environment without any bot setting: a newcomer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env["HOME"] = str(tmp_path)
    return env


SETTING_PREFIXES = ("TELEGRAM_", "VK_", "DATABASE_URL", "CATALOGUE_PATH", "DATA_DIR", "LOG_")


def test_run_without_a_token_in_a_terminal_is_the_console_demo(tmp_path: Path) -> None:
    """What a newcomer gets from ``appeals run`` with no token: the dialogue in the terminal,
    on the demo's own database in a ``data/`` folder that did not exist."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        encoding="utf-8",
        timeout=60,
    )
    screen = io.StringIO()
    child.logfile_read = screen
    try:
        number = file_an_appeal(child, "Глубокая яма на дороге у остановки Школьная")
        leave(child)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    # The logs went to a file, never between the bot's messages.
    assert '"level"' not in screen.getvalue() and "[info" not in screen.getvalue()
    assert "appeal.submitted" in (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    demo = sqlite3.connect(tmp_path / "data" / "demo.db")
    ((appeal_id, description),) = demo.execute("SELECT id, description FROM appeals").fetchall()
    demo.close()
    assert description == "Глубокая яма на дороге у остановки Школьная"
    assert number.endswith(f"-{appeal_id:06d}")
    # The database a real bot will use was never made: demo appeals cannot reach it.
    assert not (tmp_path / "data" / "appeals.db").exists()


def test_ctrl_c_ends_the_console_with_a_goodbye(tmp_path: Path) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot.cli", "console"],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        encoding="utf-8",
        timeout=60,
    )
    screen = io.StringIO()
    child.logfile_read = screen
    try:
        child.expect_exact("> ")
        child.sendline("/start")
        child.expect_exact("[1] Согласен")
        child.expect_exact("> ")
        child.sendintr()
        child.expect_exact("До свидания!")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "Traceback" not in screen.getvalue() and "KeyboardInterrupt" not in screen.getvalue()


def test_run_without_a_token_nor_a_terminal_says_what_to_set(tmp_path: Path) -> None:
    """Under systemd or Docker a forgotten token is one line and a failure, not a demo."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "TELEGRAM_BOT_TOKEN" in line and "VK_GROUP_TOKEN" in line
    assert not (tmp_path / "data").exists()


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
