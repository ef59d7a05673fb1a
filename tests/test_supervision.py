"""No loop dies quietly: a failing loop is logged with its traceback and started again; one
that cannot be kept alive sets ``fatal`` (``appeals run`` then exits non-zero); the health
line names every loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import bot.runtime
from bot.supervision import Heartbeat, Supervisor
from tests.support.telegram import Telegram, TelegramBot


async def test_a_failing_loop_is_logged_and_started_again(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor(base_backoff=0.01, health_interval=0)
    runs: list[int] = []
    done = asyncio.Event()

    async def loop() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"broken round {len(runs)}")
        done.set()
        await asyncio.Event().wait()

    with caplog.at_level(logging.WARNING, logger="bot.supervision"):
        supervisor.spawn("poller", loop)
        await asyncio.wait_for(done.wait(), 5)
        await supervisor.stop()
    failures = [r for r in caplog.records if r.getMessage() == "loop poller failed"]
    assert len(failures) == 2 and all(r.exc_info is not None for r in failures), "with tracebacks"
    assert not supervisor.fatal.is_set()


async def test_a_loop_that_cannot_be_kept_alive_makes_the_process_exit() -> None:
    supervisor = Supervisor(base_backoff=0.001, max_backoff=0.001, max_failures=4, health_interval=0)

    async def loop() -> None:
        raise OSError("the database is gone")

    supervisor.spawn("sender", loop)
    await asyncio.wait_for(supervisor.fatal.wait(), 5)
    assert supervisor.fatal_reason == "loop sender failed 4 times in a row"
    await supervisor.stop()


async def test_a_loop_that_returns_while_it_should_run_is_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(base_backoff=0.01, health_interval=0)
    runs: list[int] = []
    done = asyncio.Event()

    async def loop() -> None:
        runs.append(1)
        if len(runs) == 2:
            done.set()
            await asyncio.Event().wait()

    with caplog.at_level(logging.ERROR, logger="bot.supervision"):
        supervisor.spawn("sweeper", loop)
        await asyncio.wait_for(done.wait(), 5)
        await supervisor.stop()
    assert [r.getMessage() for r in caplog.records] == ["loop sweeper ended on its own"]


def test_the_health_line_names_every_loop_and_the_stalled_ones(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor(health_interval=60)
    alive, silent = Heartbeat("telegram-polling", expected_every=35), Heartbeat("outbox-sender", 1)
    supervisor.watch(alive)
    supervisor.watch(silent)
    alive.beat()
    with caplog.at_level(logging.INFO, logger="bot.supervision"):
        supervisor.log_health()
    [line] = [r for r in caplog.records if r.getMessage().startswith("health")]
    assert line.levelno == logging.WARNING
    assert "telegram-polling 0s ago" in line.getMessage()
    assert "stalled: outbox-sender" in line.getMessage()

    silent.beat()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.supervision"):
        supervisor.log_health()
    [line] = caplog.records
    assert line.levelno == logging.INFO and line.getMessage().startswith("health: all loops alive")


async def test_polling_goes_on_after_storing_a_batch_failed(
    tg: Telegram, telegram_bot: TelegramBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database refuses the first store: logged with its traceback, nothing acknowledged,
    the same batch asked for again and handled."""
    real = bot.runtime.store_many
    failed: list[int] = []

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(1)
            raise OSError("disk I/O error")
        return await real(*args, **kwargs)

    monkeypatch.setattr(bot.runtime, "store_many", flaky)
    alice = tg.user(1001, "Алиса")
    with caplog.at_level(logging.ERROR, logger="bot.telegram.polling"):
        await alice.send("/start")
        await alice.expect_message(contains="согласие")
    await telegram_bot.settled()
    [record] = [r for r in caplog.records if "storing polled updates failed" in r.getMessage()]
    assert record.exc_info is not None
    assert tg.server.pending_updates == []
