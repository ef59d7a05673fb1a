"""An operator's mistake is one line naming the setting and the fix, exit status 2, never a
traceback; a platform that refuses the token stops the start, one that does not answer
is waited for."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import open_app
from bot.cli import main
from bot.config import ConfigurationError, Settings, TelegramSettings, VkSettings, load_settings
from handlers.catalogue import EXAMPLE_PATH
from handlers.core import Core
from tests.fake_telegram import BOT_ID, FakeTelegram
from tests.fake_vk import GROUP_ID, FakeVk
from tests.support.vk import vk_settings


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`appeals run` configures logging to the standard error it was given (here, a
    captured one that closes with the test)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def one_line(capsys: pytest.CaptureFixture[str], argv: list[str], env_file: Path) -> str:
    """Run ``appeals`` with ``env_file``; it must fail with status 2 and one line."""
    assert main(["--env-file", str(env_file), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    # `appeals run` logs to standard error (JSON lines) from its first step: the error
    # is the one line that is not a log record.
    lines = [line for line in captured.err.splitlines() if not line.startswith('{"')]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def env_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "settings.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "names", "fix"),
    [
        ("TELEGRAM_BOT_TOKEN=", "TELEGRAM_BOT_TOKEN", "@BotFather"),
        ("TELEGRAM_BOT_TOKEN=not-a-token", "TELEGRAM_BOT_TOKEN", "@BotFather"),
        ("TELEGRAM_BOT_TOKEN=123:abc def", "TELEGRAM_BOT_TOKEN", "@BotFather"),
        ("VK_GROUP_TOKEN=", "VK_GROUP_TOKEN", "API usage"),
        ("VK_GROUP_ID=club123", "VK_GROUP_ID", "numeric id"),
        ("TELEGRAM_MODE=Polling", "TELEGRAM_MODE", "write 'polling', in lowercase"),
        ("TELEGRAM_MODE=poll", "TELEGRAM_MODE", "'polling' or 'webhook'"),
        ("TELEGRAM_POLL_TIMEOUT=600", "TELEGRAM_POLL_TIMEOUT=", "less than or equal to 50"),
        ("VK_MODE=Callback", "VK_MODE", "write 'callback', in lowercase"),
        ("VK_MODE=webhook", "VK_MODE", "'longpoll' (the default) or 'callback'"),
        ("VK_CALLBACK_PATH=vk/callback", "VK_CALLBACK_PATH", "write /vk/callback"),
        ("LOG_FORMAT=text", "LOG_FORMAT=", "'json' or 'console'"),
        ("DATABASE_URL=./data/appeals.db", "DATABASE_URL", "sqlite+aiosqlite:///"),
        ("DATABASE_URL=sqlite:///data/appeals.db", "DATABASE_URL", "sqlite+aiosqlite or postgresql+asyncpg"),
    ],
)
@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"], ["digest", "--week", "2026-W47"]])
def test_a_setting_that_cannot_work_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, names: str, fix: str, command: list[str]
) -> None:
    message = one_line(capsys, command, env_file(tmp_path, line))
    assert message.startswith(f"configuration error: {names}"), message
    assert fix in message
    if "TOKEN" in line:
        assert line.partition("=")[2] not in message.partition(":")[2] or not line.partition("=")[2]


def test_an_empty_vk_group_id_is_looked_up_as_documented(tmp_path: Path) -> None:
    settings = load_settings(env_file(tmp_path, "VK_GROUP_TOKEN=secret", "VK_GROUP_ID="))
    assert settings.vk.group_id is None
    assert load_settings(env_file(tmp_path, "VK_GROUP_ID=-123456")).vk.group_id == 123456


def test_settings_built_in_code_never_read_a_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's ``.env`` with real tokens must not reach tests that build Settings."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("VK_GROUP_TOKEN=real-token\nTELEGRAM_BOT_TOKEN=1:real\n", encoding="utf-8")
    settings = Settings()
    assert settings.vk.group_token is None and settings.telegram.bot_token is None
    assert load_settings(tmp_path / ".env").vk.group_token == SecretStr("real-token")


def test_tests_stay_offline() -> None:
    import socket

    with pytest.raises(OSError, match="offline"):
        socket.getaddrinfo("api.telegram.org", 443)
    with pytest.raises(OSError, match="offline"), socket.socket() as sock:
        sock.connect(("87.240.129.133", 443))


def folder_is_a_file(tmp: Path) -> str:
    """A file where the database's folder should be: no folder can be made (by root too)."""
    (tmp / "taken").write_text("")
    return f"sqlite+aiosqlite:///{tmp / 'taken' / 'appeals.db'}"


def read_only(tmp: Path) -> str:
    """A database opened read-only: it opens, and is never written (by root too)."""
    sqlite3.connect(tmp / "ro.db").close()
    return f"sqlite+aiosqlite:///file:{tmp / 'ro.db'}?mode=ro&uri=true"


@pytest.mark.parametrize(
    ("url", "detail"), [(folder_is_a_file, "File exists ("), (read_only, "readonly database")]
)
def test_a_database_that_cannot_be_opened_or_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: Callable[[Path], str], detail: str
) -> None:
    settings = env_file(
        tmp_path,
        f"DATABASE_URL={url(tmp_path)}",
        "TELEGRAM_BOT_TOKEN=1:never-used",
        "TELEGRAM_API_BASE=http://127.0.0.1:9",
    )
    for command in (["db", "upgrade"], ["run"], ["digest", "--week", "2026-W47"]):
        message = one_line(capsys, command, settings)
        assert message.startswith("configuration error: DATABASE_URL cannot be opened or written"), message
        assert detail in message
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["settings.env", "taken" if url is folder_is_a_file else "ro.db"]
    )


def test_an_unreachable_postgresql_server_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = env_file(tmp_path, "DATABASE_URL=postgresql+asyncpg://bot:secret@127.0.0.1:9/appeals")
    message = one_line(capsys, ["db", "upgrade"], settings)
    assert "DATABASE_URL cannot be opened or written" in message
    assert "secret" not in message


def test_a_broken_catalogue_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(EXAMPLE_PATH.read_text(encoding="utf-8").replace('id = "roads"', 'id = "raods"', 1))
    settings = env_file(
        tmp_path, f"CATALOGUE_PATH={catalogue}", f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path}/a.db"
    )
    message = one_line(capsys, ["digest", "--week", "2026-W47"], settings)
    assert message.startswith(f"catalogue error: {catalogue}:")
    assert "[[agencies]] #1 \"tambov-roads\": categories: unknown category 'roads'" in message
    assert "CATALOGUE_PATH" in message


# -- the platforms at start -----------------------------------------------------------


async def run_appeals(tmp_path: Path, *lines: str) -> tuple[int, str, str]:
    """``appeals run`` as its own process, as systemd starts it (no terminal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VK_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "--env-file",
        str(env_file(tmp_path, f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path}/bot.db", *lines)),
        "run",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 120)  # a loaded machine starts slowly
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    return lines[-1]


async def test_a_token_telegram_refuses_stops_the_start(tmp_path: Path) -> None:
    async with FakeTelegram(f"{BOT_ID}:TEST-token") as tg:
        code, _, err = await run_appeals(
            tmp_path, "TELEGRAM_BOT_TOKEN=42:Xq7-leaked", f"TELEGRAM_API_BASE={tg.base_url}"
        )
        assert tg.calls == []  # refused at getMe: nothing else was tried
    assert code == 2
    message = last_line(err)
    assert message.startswith("configuration error: TELEGRAM_BOT_TOKEN was refused by Telegram")
    assert "Unauthorized" in message and "@BotFather" in message and "Xq7" not in message


async def test_a_token_vk_refuses_stops_the_start(tmp_path: Path) -> None:
    async with FakeVk() as vk:
        code, _, err = await run_appeals(tmp_path, "VK_GROUP_TOKEN=wrong", f"VK_API_BASE={vk.base}")
    assert code == 2
    message = last_line(err)
    assert message.startswith("configuration error: VK_GROUP_TOKEN was refused by VK (VK error 5")
    assert "API usage" in message


async def test_a_vk_group_id_of_another_community_stops_the_start(tmp_path: Path, database_url: str) -> None:
    async with FakeVk() as vk:
        settings = vk_settings(vk, tmp_path, database_url, group_id=GROUP_ID + 1)
        with pytest.raises(ConfigurationError, match=f"set VK_GROUP_ID={GROUP_ID}"):
            async with open_app(settings, setup_logging=False, jobs=None):
                pass


async def test_an_unreachable_vk_api_at_start_is_waited_for(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeVk() as vk:
        vk.fail_next("groups.getById", drop=True, times=2)
        vk.fail_next("groups.getById", http_status=502)
        settings = vk_settings(vk, tmp_path, database_url, group_id=None)
        from bot.vk.runner import VkRunner
        from handlers.context import Context
        from storage.db import Database

        db = Database(database_url)
        runner = VkRunner(settings, Core(Context(db=db, catalogue=_catalogue())), db, retry_base=0.01)
        with caplog.at_level(logging.WARNING, logger="bot.vk.runner"):
            await asyncio.wait_for(runner.start(), 10)
        await runner.stop()
        await db.dispose()
    retries = [r.getMessage() for r in caplog.records if "getById failed at start" in r.getMessage()]
    assert len(retries) == 3
    assert runner.group_id == GROUP_ID


async def test_an_unreachable_telegram_at_start_is_waited_for(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.telegram.transport import check_token, make_bot

    async with FakeTelegram(f"{BOT_ID}:TEST-token") as tg:
        tg.fail_next(2, "getMe", kind="drop")
        tg.fail_next(1, "getMe", kind="502html")
        bot = make_bot(f"{BOT_ID}:TEST-token", tg.base_url)
        with caplog.at_level(logging.WARNING, logger="bot.telegram.transport"):
            assert await asyncio.wait_for(check_token(bot, retry_cap=0.05), 10)
        await bot.session.close()
    retries = [r.getMessage() for r in caplog.records if "getMe failed at start" in r.getMessage()]
    assert len(retries) == 3


def _catalogue():  # type: ignore[no-untyped-def]
    from handlers.catalogue import load_catalogue

    return load_catalogue(EXAMPLE_PATH)


def test_settings_sections_name_their_variables() -> None:
    with pytest.raises(ConfigurationError):
        load_settings_from({"TELEGRAM_MODE": "WEBHOOK"})
    assert TelegramSettings(bot_token=SecretStr(" 1:abc ")).bot_token == SecretStr("1:abc")
    assert VkSettings(group_id="").group_id is None  # type: ignore[arg-type]


def load_settings_from(values: dict[str, str]) -> Settings:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        return load_settings(None)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
