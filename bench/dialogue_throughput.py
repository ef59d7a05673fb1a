"""Benchmark: how many residents one machine serves, end to end over the Bot API.

    .venv/bin/python bench/dialogue_throughput.py --residents 1000            # ~1-2 minutes
    .venv/bin/python bench/dialogue_throughput.py --residents 100
    .venv/bin/python bench/dialogue_throughput.py --mode memory --residents 1000
    .venv/bin/python bench/dialogue_throughput.py --residents 1000 \\
        --database-url "postgresql+asyncpg://root@/appeals_j?host=/var/run/postgresql"

The fake Telegram server (tests/fake_telegram.py) and the simulated residents run in this
process; the bot runs as its own process (``bench/bot_process.py``: the real ``open_app``,
as ``appeals run`` starts it, pacing off), so its RSS and CPU are its own.

``throughput`` mode: every resident files a complete appeal, all at once, each step sent
as soon as the previous answer arrived (9 steps: /start, consent, topic, municipality,
description, skip place, skip photos, skip phone, send). A step's latency is from the
update being queued on the fake server to the bot's answer (the message the resident
waits for) reaching it. Then the same load (each resident 9 messages, one after the other)
against a bare aiogram echo bot (``bench/echo_bot.py``) on a fresh fake server: the ratio
of our steps per second to its messages per second is the headline figure.

``memory`` mode: every resident gets as far as the place step (an open draft with a
description) and stops there; the bot's RSS then is compared with its idle RSS.

Before both, the fake server's own round-trip rate: a separate client process sends
``sendMessage`` as fast as 32 connections can, so the figure is the server's, not the
client's. During the runs this process's CPU share is printed too: under ~80% of a core
the fake server and the residents are not what limits the bot.

PostgreSQL: the ``public`` schema of the given database is dropped and recreated first.
Prints one line of figures per run (and a summary line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_telegram import BOT_ID, Call, FakeChat, FakeTelegram, find_inline_button  # noqa: E402

TOKEN = f"{BOT_ID}:BENCH-token"
FIRST_USER = 10_000_000
STEP_TIMEOUT = 300.0
POLL_TIMEOUT = "1"
"""Long-poll timeout of both bots: under load getUpdates returns at once anyway; a short one
lets this script see that the bot is polling (a long poll is recorded when it returns)."""

# (action, argument, what the resident waits to see)
APPEAL_STEPS: tuple[tuple[str, str, str], ...] = (
    ("send", "/start", "согласие"),
    ("click", "Согласен", "Шаг 1"),
    ("click", "Дороги", "Шаг 2"),
    ("click", "Тамбов", "Шаг 3"),
    ("send", "Большая яма на проезжей части у дома {n}", "Шаг 4"),
    ("click", "Пропустить", "Шаг 5"),
    ("click", "Пропустить", "Шаг 6"),
    ("click", "Пропустить", "Проверьте обращение"),
    ("click", "Отправить", "принято"),
)
OPEN_DRAFT_STEPS = APPEAL_STEPS[:5]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rss_mb(pid: int, field_name: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field_name)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- waiting for the bot's answers without polling every chat ---------------------------


class Answers:
    """Resolves a resident's wait the moment the call carrying the awaited text arrives."""

    def __init__(self, server: FakeTelegram) -> None:
        self.server = server
        self._waiting: dict[int, tuple[str, int, asyncio.Future[float]]] = {}
        server.on_call.append(self._on_call)

    def expect(self, chat: FakeChat, text: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[chat.id] = (text, len(chat.history), future)
        return future

    def _on_call(self, call: Call) -> None:
        if call.chat_id is None or call.status != 200:
            return
        waiting = self._waiting.get(call.chat_id)
        if waiting is None:
            return
        text, start, future = waiting
        chat = self.server.chats[call.chat_id]
        candidates = chat.history[start:]
        if call.method == "editMessageText":
            edited = chat.message(int(call.params.get("message_id") or 0))
            if edited is not None:
                candidates = [*candidates, edited]
        for message in candidates:
            if message.get("from", {}).get("id") == BOT_ID and text in (message.get("text") or ""):
                del self._waiting[call.chat_id]
                if not future.done():
                    future.set_result(time.perf_counter())
                return


def press(server: FakeTelegram, chat: FakeChat, label: str) -> None:
    """Press ``label`` as a person would: on the bot's latest message if it carries an
    inline button so labelled, else on the reply keyboard (typing the label). An older
    message's button would be stale: navigation buttons belong to the step they were shown at."""
    latest = next((m for m in reversed(chat.history) if m.get("from", {}).get("id") == BOT_ID), None)
    if latest is not None and find_inline_button(latest, label):
        server.press_button(chat.user, chat.id, latest["message_id"], label)  # type: ignore[arg-type]
    else:
        server.send_message(chat.user, label)  # type: ignore[arg-type]


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    started: float = 0.0
    finished: float = 0.0


async def resident(
    server: FakeTelegram, answers: Answers, n: int, steps: tuple[tuple[str, str, str], ...], load: Load
) -> None:
    user = server.user(FIRST_USER + n, f"Житель {n}")
    chat = server.chats[user.id]
    for action, argument, awaited in steps:
        text = argument.format(n=n)
        future = answers.expect(chat, awaited if awaited != "{echo}" else text)
        sent = time.perf_counter()
        if action == "send":
            server.send_message(user, text)
        else:
            press(server, chat, text)
        try:
            answered = await asyncio.wait_for(future, STEP_TIMEOUT)
        except TimeoutError:
            load.failed += 1
            return
        load.latencies.append(answered - sent)
    load.completed += 1


async def run_load(server: FakeTelegram, residents: int, steps: tuple[tuple[str, str, str], ...]) -> Load:
    answers = Answers(server)
    result = Load(started=time.perf_counter())
    await asyncio.gather(*(resident(server, answers, n, steps, result) for n in range(residents)))
    result.finished = time.perf_counter()
    return result


# -- the bot process ----------------------------------------------------------------------


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    idle_rss: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.asynccontextmanager
async def bot_process(
    server: FakeTelegram, module: str, env: dict[str, str], log_path: Path, extra: list[str] | None = None
) -> AsyncIterator[BotProcess]:
    polls_before = len(server.calls_of("getUpdates"))
    environment = os.environ | env
    environment |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": server.base_url}
    environment["TELEGRAM_POLL_TIMEOUT"] = POLL_TIMEOUT
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *(extra or []), cwd=ROOT, env=environment, stderr=log, stdout=log
        )
        bot = BotProcess(process)
        try:
            deadline = time.monotonic() + 60
            while len(server.calls_of("getUpdates")) <= polls_before:  # its first long poll returned
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError(f"{module} did not start polling: see {log_path}")
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)  # let start-up garbage settle before the idle figure
            bot.idle_rss = rss_mb(bot.pid, "VmRSS")
            yield bot
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def py_spy(pid: int, output: Path | None) -> AsyncIterator[None]:
    """Sample the bot with py-spy (the ``bench`` extra) while the load runs: collapsed
    stacks, idle frames included, so waiting shows as well as working."""
    if output is None:
        yield
        return
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "200",
        "--idle",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


def catalogue_chats(server: FakeTelegram) -> None:
    from handlers.catalogue import EXAMPLE_PATH, load_catalogue
    from handlers.events import Platform

    catalogue = load_catalogue(EXAMPLE_PATH)
    for agency in catalogue.agencies:
        for chat in agency.chats:
            if chat.platform is Platform.TELEGRAM:
                server.group(int(chat.chat_id), agency.name[:60])
    for chat in catalogue.admin.chats:
        if chat.platform is Platform.TELEGRAM:
            server.group(int(chat.chat_id), "Администраторы")
    for chat in catalogue.digest.channels:
        if chat.platform is Platform.TELEGRAM:
            server.channel(int(chat.chat_id), "Дайджест")


async def fresh_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


# -- the fake server's own rate ---------------------------------------------------------------

HAMMER = """
import asyncio, sys, time, aiohttp
async def main(url, seconds, concurrency):
    stop = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker():
            while time.monotonic() < stop:
                async with http.post(url, data={"chat_id": "-1009", "text": "ping"}) as response:
                    await response.read()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
"""


async def fake_server_rate(seconds: float = 4.0, concurrency: int = 32) -> float:
    async with FakeTelegram(TOKEN) as server:
        server.group(-1009, "ping")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HAMMER,
            f"{server.base_url}/bot{TOKEN}/sendMessage",
            str(seconds),
            str(concurrency),
        )
        await server.wait_for(lambda: server.calls, timeout=30)
        first = time.perf_counter()
        count = len(server.calls)
        await process.wait()
        return (len(server.calls) - count) / (time.perf_counter() - first)


# -- the runs ---------------------------------------------------------------------------------


@dataclass
class Run:
    load: Load
    steps: int
    idle_rss: float
    peak_rss: float
    settled_rss: float
    bot_cpu: float
    own_cpu: float
    calls: int

    @property
    def elapsed(self) -> float:
        return self.load.finished - self.load.started

    @property
    def rate(self) -> float:
        return len(self.load.latencies) / self.elapsed


async def measure(
    module: str,
    env: dict[str, str],
    residents: int,
    steps: tuple[tuple[str, str, str], ...],
    log_path: Path,
    extra: list[str] | None = None,
    profile: Path | None = None,
) -> Run:
    async with FakeTelegram(TOKEN) as server:
        catalogue_chats(server)
        async with bot_process(server, module, env, log_path, extra) as bot, py_spy(bot.pid, profile):
            cpu_before, own_before, calls_before = cpu_seconds(bot.pid), own_cpu(), len(server.calls)
            result = await run_load(server, residents, steps)
            bot_cpu = cpu_seconds(bot.pid) - cpu_before
            mine = own_cpu() - own_before
            calls = len(server.calls) - calls_before
            await asyncio.sleep(3.0)
            return Run(
                load=result,
                steps=len(steps),
                idle_rss=bot.idle_rss,
                peak_rss=rss_mb(bot.pid, "VmHWM"),
                settled_rss=rss_mb(bot.pid, "VmRSS"),
                bot_cpu=bot_cpu,
                own_cpu=mine,
                calls=calls,
            )


def describe(name: str, run: Run) -> str:
    lat = run.load.latencies or [0.0]
    return (
        f"{name}: {run.load.completed} done, {run.load.failed} failed in {run.elapsed:.1f} s; "
        f"{run.load.completed / run.elapsed:.1f} dialogues/s, {run.rate:.0f} steps/s; "
        f"step p50 {statistics.median(lat) * 1000:.0f} ms p99 {percentile(lat, 0.99) * 1000:.0f} ms; "
        f"RSS idle {run.idle_rss:.0f} MB peak {run.peak_rss:.0f} MB after {run.settled_rss:.0f} MB; "
        f"bot CPU {run.bot_cpu / run.elapsed:.0%}, bench CPU {run.own_cpu / run.elapsed:.0%}, "
        f"fake server {run.calls / run.elapsed:.0f} calls/s"
    )


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-dialogue-"))
    print(f"load {load()} | logs in {work}", flush=True)
    server_rate = await fake_server_rate()
    print(f"fake server alone: {server_rate:.0f} sendMessage round trips/s (32 connections)", flush=True)

    async def ours(steps: tuple[tuple[str, str, str], ...]) -> Run:
        url = args.database_url
        if url is None:
            url = f"sqlite+aiosqlite:///{work / 'bot.db'}"
        elif url.startswith("postgresql"):
            await fresh_postgres(url)
        env = {"DATABASE_URL": url, "LOG_LEVEL": args.log_level}
        pacing = ["--pacing", "off"]
        return await measure(
            "bench.bot_process", env, args.residents, steps, work / "bot.log", pacing, args.py_spy
        )

    db = "postgresql" if args.database_url and args.database_url.startswith("postgresql") else "sqlite"
    if args.mode == "memory":
        run = await ours(OPEN_DRAFT_STEPS)
        print(describe(f"open drafts x{args.residents} ({db})", run), flush=True)
        print(
            f"memory: {args.residents} open dialogues; bot RSS idle {run.idle_rss:.0f} MB, peak "
            f"{run.peak_rss:.0f} MB (+{run.peak_rss - run.idle_rss:.0f} MB), after "
            f"{run.settled_rss:.0f} MB (+{run.settled_rss - run.idle_rss:.0f} MB) | load {load()}"
        )
        return

    echo_steps = tuple(("send", f"сообщение {k} от {{n}}", "{echo}") for k in range(len(APPEAL_STEPS)))
    run = await ours(APPEAL_STEPS)
    print(describe(f"appeals x{args.residents} ({db})", run), flush=True)
    if not args.echo:
        return
    echo = await measure("bench.echo_bot", {}, args.residents, echo_steps, work / "echo.log")
    print(describe(f"echo bot x{args.residents}", echo), flush=True)
    print(
        f"SUMMARY residents={args.residents} db={db} appeals/s={run.load.completed / run.elapsed:.1f} "
        f"steps/s={run.rate:.0f} p50={statistics.median(run.load.latencies or [0]) * 1000:.0f}ms "
        f"p99={percentile(run.load.latencies or [0], 0.99) * 1000:.0f}ms "
        f"echo_msgs/s={echo.rate:.0f} ratio={run.rate / echo.rate:.2f} "
        f"rss_idle={run.idle_rss:.0f}MB rss_peak={run.peak_rss:.0f}MB "
        f"fake_server_capacity={server_rate:.0f}/s used={run.calls / run.elapsed:.0f}/s load={load()}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--mode", choices=("throughput", "memory"), default="throughput")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--py-spy", type=Path, default=None, help="write the bot's collapsed stacks here")
    parser.add_argument("--echo", action=argparse.BooleanOptionalAction, default=True, help="echo bot too")
    parser.add_argument("--log-level", default="INFO", help="the bot's LOG_LEVEL (INFO, as deployed)")
    asyncio.run(main(parser.parse_args()))
