"""Crash loop: the real bot process is killed with SIGKILL again and again while residents
are mid-dialogue and staff are answering, and nothing a person was told is lost.

The bot runs as a subprocess (``python -m bot.cli run``) against the fake Telegram server
in this process and a real database (a SQLite file, or ``TEST_DATABASE_URL``). While
residents walk the dialogue concurrently and staff reply to the cards arriving in their
agency groups, the test kills the process with SIGKILL at seeded random moments (each kill
``KILL_AFTER`` seconds after that process came up, i.e. made its first API call) and
starts it again at once.

The simulated people behave like patient people, not like a protocol:

* A resident reads the bot's latest question and answers it (``Resident.answer``): a
  button press or typed text, the same answer for the same question every time.
* When no new question comes within ``PATIENCE`` seconds (the bot is down, or its answer
  was lost), they do again what they did last: press the same button if it is still on
  screen, type the same text again, send /start again.
* When the bot shows a question again (a stale press answered with the current question),
  they answer what they see. They never go back on their own: seeing an earlier question
  than the one they had reached is a dialogue reset and fails the test.
* Some residents stop at a step (they put the phone down) and, once the storm is over,
  answer that step: they must get the next question, not the beginning.
* Staff reply (a Telegram reply to the card) once to every card they see, at the first
  copy of it; Telegram keeps their message until the bot has read it, so they do not
  repeat themselves.

At the end the bot runs for good and the test waits until the fake server stops receiving
calls; then it proves that every appeal a resident was told is submitted («№ …») exists
exactly once and is theirs, that no resident has two appeals, that every card reached its
agency chat and every staff reply its resident, and that any second copy of one is explained
by a kill right after the first reached Telegram (Telegram has no idempotency: a kill between
a send and its record repeats that message, and only that), and that every
paused resident continues at their step. It prints the number of kills survived.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.catalogue import EXAMPLE_PATH, Catalogue
from storage.db import Database
from storage.models import Appeal, InboxUpdate, OutboxMessage, OutboxStatus
from storage.models import Resident as ResidentRow
from tests.support.steps import step
from tests.support.telegram import BotMessage, Group, Person, Telegram

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261124
RESIDENTS = 24
PAUSED_EVERY = 4
"""Every fourth resident stops at some step and comes back after the storm."""
KILLS = 12
KILL_AFTER = (0.3, 2.0)
PATIENCE = 4.0
"""Seconds a person waits for an answer before doing the same thing again."""
DEADLINE = 75.0
QUIET = 1.5
"""The fake server received nothing but polls for this long: everything was sent."""

ROADS, REGION_ROADS, HOUSING, HEALTH, EDUCATION = (-1001000000001 - n for n in range(5))
ROUTES = [
    ("Дороги", "Тамбов", ROADS),
    ("Дороги", "Мичуринск", REGION_ROADS),
    ("ЖКХ", "Моршанск", HOUSING),
    ("Здравоохранение", "Котовск", HEALTH),
    ("Образование", "Рассказово", EDUCATION),
]
_NUMBER = re.compile(r"№ (\d{4}-\d{6})")

# The screens of the dialogue, in order: what the question says.
CONSENT, TOPIC, TOWN, DESCRIPTION, PLACE, PHOTOS, PHONE, REVIEW, DONE, IDLE = range(10)
IDLE_MENU = "Чем можем помочь?"
SCREENS = [
    (CONSENT, "согласие на обработку"),
    (TOPIC, step("topic")),
    (TOWN, step("municipality")),
    (DESCRIPTION, step("description")),
    (PLACE, step("place")),
    (PHOTOS, step("photos")),
    (PHONE, step("phone")),
    (REVIEW, "Проверьте обращение"),
    (DONE, "принято"),
]


def screen_of(message: BotMessage) -> int | None:
    for screen, marker in SCREENS:
        if marker in message.text:
            return screen
    return None


# -- the bot process -----------------------------------------------------------------------


FORK_SERVER = """
import os, signal, sys
import bot.app, bot.cli, storage.migrate  # the slow imports, once
log, args = sys.argv[1], sys.argv[2:]
child = 0
for line in sys.stdin:
    command = line.strip()
    if command == "start":
        child = os.fork()
        if child == 0:
            out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.dup2(out, 1)
            os.dup2(out, 2)
            code = 1
            try:
                code = bot.cli.main(args)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(child, flush=True)
    elif command in ("kill", "stop"):
        os.kill(child, signal.SIGKILL if command == "kill" else signal.SIGTERM)
        print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), flush=True)
"""
"""Restarts without the imports: this interpreter imports the app once (aiogram alone takes
seconds on a busy machine), then forks a child per start that runs the same
``bot.cli.main(["--env-file", ..., "run"])`` as ``python -m bot.cli``; it kills (SIGKILL)
or stops (SIGTERM) the child on request and answers with the child's pid or exit code."""


class BotProcess:
    """The bot as a subprocess. The first start is ``python -m bot.cli --env-file ... run``;
    every restart is a fresh child forked from ``FORK_SERVER``, so it takes what the app's
    own start takes, not the imports. Every process writes to one log."""

    def __init__(self, tg: Telegram, env: dict[str, str], log: Path) -> None:
        self.tg = tg
        self.env = env
        self.log = log
        self.args = ["--env-file", str(log.parent / "no.env"), "run"]
        self.first: asyncio.subprocess.Process | None = None
        self.server: asyncio.subprocess.Process | None = None
        self.child: int | None = None
        """The forked bot running now, if the first process is gone."""
        self.starts = 0
        self.kills = 0
        self.kill_times: list[float] = []
        """When each SIGKILL was sent (``time.monotonic()``, the fake server's clock too)."""
        self.startup_times: list[float] = []

    async def start(self) -> None:
        """Start the bot and return once it talks to Telegram."""
        before = len(self.tg.server.calls_of("deleteWebhook"))
        began = time.monotonic()
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            if self.first is None:
                self.first = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot.cli",
                    *self.args,
                    env=self.env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=out,
                )
                self.server = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    FORK_SERVER,
                    str(self.log),
                    *self.args,
                    env=self.env,
                    cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=out,
                )
            else:
                self.child = int(await self._ask("start"))
        try:
            # The first start imports everything (minutes on a loaded machine); a restart forks.
            patience = 180 if self.child is None else 30
            await self.tg.server.wait_for(
                lambda: len(self.tg.server.calls_of("deleteWebhook")) > before, patience
            )
        except TimeoutError:
            raise AssertionError(f"the bot did not come up; log:\n{self.tail()}") from None
        self.startup_times.append(round(time.monotonic() - began, 2))

    async def _ask(self, command: str) -> str:
        server = self.server
        assert server is not None and server.stdin is not None and server.stdout is not None
        server.stdin.write(f"{command}\n".encode())
        await server.stdin.drain()
        answer = await asyncio.wait_for(server.stdout.readline(), 120)
        if not answer:
            raise AssertionError(f"the fork server is gone; log:\n{self.tail()}")
        return answer.decode().strip()

    async def kill(self) -> None:
        """SIGKILL the running bot and wait until it is gone."""
        self.kill_times.append(time.monotonic())
        if self.child is None:
            assert self.first is not None
            assert self.first.returncode is None, f"the bot died on its own:\n{self.tail()}"
            self.first.kill()
            await self.first.wait()
        else:
            code = int(await self._ask("kill"))
            assert code == -signal.SIGKILL, f"the bot died on its own ({code}):\n{self.tail()}"
        self.kills += 1

    async def stop(self) -> int:
        """SIGTERM: the bot stops gracefully; returns its exit code."""
        if self.child is None:
            assert self.first is not None
            self.first.terminate()
            return await asyncio.wait_for(self.first.wait(), 20)
        code = int(await self._ask("stop"))
        self.child = None
        return code

    async def cleanup(self) -> None:
        """Kill whatever still runs, by its id (teardown, even after a failure)."""
        if self.child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)
        for process in (self.first, self.server):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()

    def tail(self, size: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""


@pytest.fixture
async def bot_process(
    tg: Telegram, database_url: str, catalogue: Catalogue, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    tg.add_catalogue_chats(catalogue)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "CATALOGUE_PATH": str(EXAMPLE_PATH),
        "LOG_FORMAT": "console",
        "LOG_LEVEL": "INFO",
        "TELEGRAM_BOT_TOKEN": tg.server.token,
        "TELEGRAM_API_BASE": tg.server.base_url,
        "TELEGRAM_POLL_TIMEOUT": "1",
    }
    bot = BotProcess(tg, env, tmp_path / "bot.log")
    try:
        yield bot
    finally:
        await bot.cleanup()


# -- the people ------------------------------------------------------------------------------


@dataclass
class Resident:
    """A patient resident with one appeal to file (or to leave at ``pause_at``)."""

    person: Person
    n: int
    route: tuple[str, str, int]
    pause_at: int | None
    reached: int = -1
    """The furthest screen seen."""
    number: str | None = None
    resends: int = 0
    resets: list[str] = field(default_factory=list)
    jumps: list[str] = field(default_factory=list)
    unconfirmed: bool = False
    """Pressed «Отправить» and got the idle menu, not the «№ …» confirmation."""
    _read: int = 0

    @property
    def description(self) -> str:
        return f"Житель {self.n}: на улице Советской у дома {self.n} провалился асфальт"

    async def answer(self, screen: int) -> None:
        """What this person does when the bot asks ``screen``."""
        topic, town, _chat = self.route
        if screen == CONSENT:
            await self.press("Согласен")
        elif screen == TOPIC:
            await self.press(topic)
        elif screen == TOWN:
            await self.press(town)
        elif screen == DESCRIPTION:
            await self.person.send(self.description)
        elif screen == PLACE:
            if self.n % 2:
                await self.person.send(f"ул. Советская, {self.n}")
            else:
                await self.press("Пропустить")
        elif screen == PHOTOS:
            await self.press("Пропустить")
        elif screen == PHONE:
            await self.person.send(f"8 900 123-45-{self.n:02d}")
        elif screen == REVIEW:
            await self.press("Отправить")

    async def press(self, label: str) -> None:
        """Press the button if it is on screen (the latest message offering it)."""
        with contextlib.suppress(AssertionError):  # nothing so labelled on screen: keep waiting
            await self.person.click(label)

    def latest_screen(self) -> tuple[int, int] | None:
        """The last question among messages not read yet: (screen, its index). After
        «Отправить», the idle menu without a confirmation counts as an answer too (IDLE)."""
        messages = self.person.messages
        found = None
        for index in range(self._read, len(messages)):
            screen = screen_of(messages[index])
            if screen is None and self.reached == REVIEW and IDLE_MENU in messages[index].text:
                screen = IDLE
            if screen is not None:
                found = (screen, index)
        return found

    def see(self, screen: int, index: int) -> None:
        self._read = index + 1
        if screen == IDLE:
            self.unconfirmed = True
            return
        if screen > max(self.reached, 0) + 1:
            trail = [m.text[:30] for m in self.person.messages[max(0, index - 6) : index + 1]]
            self.jumps.append(
                f"{self.person.name} was at screen {self.reached}, the bot asked {screen}: {trail}"
            )
        if screen < self.reached and self.reached != DONE:
            trail = [m.text[:30] for m in self.person.messages[max(0, index - 6) : index + 1]]
            self.resets.append(
                f"{self.person.name} was at screen {self.reached}, the bot asked {screen}: {trail}"
            )
        self.reached = max(self.reached, screen)
        if screen == DONE:
            found = _NUMBER.search(self.person.messages[index].text)
            assert found is not None
            self.number = found.group(1)

    async def step(self, screen: int) -> int:
        """Answer ``screen``, then wait (patiently, repeating) for the next question."""
        await self.answer(screen)
        while True:
            try:
                next_screen, index = await self.person.tg.server.wait_for(self.latest_screen, PATIENCE)
            except TimeoutError:
                self.resends += 1
                await self.answer(screen)  # nothing came: do it again, as a person would
                continue
            self.see(next_screen, index)
            return int(next_screen)

    async def walk(self) -> None:
        """From /start until done, or until the step this resident pauses at."""
        await self.person.send("/start")
        while True:
            try:
                screen, index = await self.person.tg.server.wait_for(self.latest_screen, PATIENCE)
                break
            except TimeoutError:
                self.resends += 1
                await self.person.send("/start")
        self.see(screen, index)
        while screen not in (DONE, IDLE, self.pause_at):
            screen = await self.step(screen)


def _cards(group: Group) -> list[tuple[str, BotMessage]]:
    """Every card in the group (the first line names the appeal; it has the desk's buttons
    or was edited from them), with its appeal number, in order."""
    cards = []
    for message in group.messages:
        first_line = message.text.split("\n", 1)[0]
        if first_line.startswith("Обращение № ") and (message.buttons or message.edits):
            cards.append((first_line.removeprefix("Обращение № "), message))
    return cards


def _answer_text(number: str) -> str:
    return f"Ответ на обращение {number}: асфальт положим на этой неделе"


async def _staff_answer_cards(tg: Telegram, groups: list[Group], answered: set[str]) -> None:
    """Staff reply once to every new card, at its first copy, forever (cancelled at the end)."""
    inspector = tg.user(5001, "Инспектор")
    while True:

        def new_cards() -> list[tuple[Group, str, BotMessage]]:
            return [
                (group, number, card)
                for group in groups
                for number, card in _cards(group)
                if number not in answered
            ]

        for group, number, card in await tg.server.wait_for(new_cards, timeout=3600):
            if number not in answered:
                answered.add(number)
                await group.reply(card, _answer_text(number), from_user=inspector)


KILL_WINDOW = 1.0
"""A kill this soon after a message reached Telegram may have kept the bot from recording it."""


def _unexplained_copies(tg: Telegram, chat_id: int, marker: str, bot: BotProcess) -> list[float]:
    """Times of copies of a message (``marker`` in its text) sent again to ``chat_id`` with no
    kill between the previous copy and it, within ``KILL_WINDOW`` of the previous one."""
    sent = sorted(
        call.at
        for call in tg.server.calls_of("sendMessage")
        if call.chat_id == chat_id and call.status == 200 and marker in str(call.params.get("text", ""))
    )
    return [
        again
        for first, again in itertools.pairwise(sent)
        if not any(first <= kill <= min(again, first + KILL_WINDOW) for kill in bot.kill_times)
    ]


async def _kill_loop(bot: BotProcess, rng: random.Random) -> None:
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(*KILL_AFTER))  # a random moment in this process's life
        await bot.kill()
        await bot.start()


async def _quiet(tg: Telegram) -> None:
    """Wait until the fake server has received nothing but polls for ``QUIET`` seconds."""
    while True:
        last = max((c.at for c in tg.server.calls if c.method != "getUpdates"), default=0.0)
        idle = time.monotonic() - last
        if idle >= QUIET and not tg.server.pending_updates:
            return
        await asyncio.sleep(QUIET - idle if idle < QUIET else 0.1)  # nothing to await: watch the clock


def _stuck(residents: list[Resident], bot: BotProcess) -> str:
    lines = [f"not done within {DEADLINE}s after {bot.kills} kills; starts took {bot.startup_times}:"]
    for r in residents:
        if r.number is None and r.reached != r.pause_at:
            trail = [m.text[:50] for m in r.person.messages[-8:]]
            lines.append(f"  {r.person.name}: reached {r.reached}, last {trail}")
    return "\n".join(lines) + f"\nbot log:\n{bot.tail(2000)}"


@pytest.mark.xfail(
    strict=False,
    reason=(
        "open (issue 12): the cause of the lost staff replies is fixed (a reply to a card copy whose id "
        "was never recorded routes by the card's buttons; tests/test_e2e_desk.py proves it), but the "
        "kill test itself has not yet passed ten runs in a row on a quiet machine"
    ),
)
async def test_the_bot_survives_kills_mid_dialogue(
    tg: Telegram, bot_process: BotProcess, database_url: str
) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    residents = [
        Resident(
            tg.user(30000 + n, f"Житель {n}"),
            n,
            ROUTES[n % len(ROUTES)],
            pause_at=rng.choice([TOWN, DESCRIPTION, PLACE, PHOTOS, PHONE, REVIEW])
            if n % PAUSED_EVERY == 0
            else None,
        )
        for n in range(RESIDENTS)
    ]
    groups = [tg.group(chat_id) for _topic, _town, chat_id in ROUTES]
    answered: set[str] = set()

    await bot_process.start()
    staff = asyncio.create_task(_staff_answer_cards(tg, groups, answered))
    killer = asyncio.create_task(_kill_loop(bot_process, rng))
    try:
        try:
            await asyncio.wait_for(asyncio.gather(*(r.walk() for r in residents), killer), DEADLINE)
        except TimeoutError:
            raise AssertionError(_stuck(residents, bot_process)) from None
        filed = {r.number: r for r in residents if r.number is not None}

        def everyone_answered() -> bool:
            return all(any(_answer_text(n) in m.text for m in r.person.messages) for n, r in filed.items())

        try:
            await tg.server.wait_for(everyone_answered, timeout=30)
        except TimeoutError:
            unanswered = [
                n for n, r in filed.items() if not any(_answer_text(n) in m.text for m in r.person.messages)
            ]
            raise AssertionError(f"staff replies never reached residents of {unanswered}") from None
        await _quiet(tg)
    finally:
        staff.cancel()
        killer.cancel()
    assert bot_process.kills == KILLS
    print(f"\nkills survived: {bot_process.kills} (in {time.monotonic() - started:.1f}s)")

    # Nobody was sent back to an earlier question.
    resets = [reset for r in residents for reset in r.resets]
    assert not resets, "\n".join(resets)
    # Nobody's answer was taken for a step they never saw (a step handled twice).
    jumps = [jump for r in residents for jump in r.jumps]
    assert not jumps, "\n".join(jumps)
    # Everyone who pressed «Отправить» was told the number.
    unconfirmed = [r.person.name for r in residents if r.unconfirmed]
    assert not unconfirmed, f"pressed «Отправить», got the idle menu and no «№ …»: {unconfirmed}"

    # Every appeal a resident was told about exists once, and is theirs; nobody has two.
    paused = [r for r in residents if r.pause_at is not None]
    assert all(r.number is not None for r in residents if r.pause_at is None)
    assert all(r.number is None for r in paused)
    db = Database(database_url)
    try:
        async with db.read() as session:
            rows = (await session.execute(select(Appeal, ResidentRow.external_id).join(ResidentRow))).all()
            pending_out = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING.value)
            )
            pending_in = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "pending")
            )
    finally:
        await db.dispose()
    stored = Counter(appeal.number for appeal, _owner in rows)
    owners = {appeal.number: owner for appeal, owner in rows}
    per_resident = Counter(owner for _appeal, owner in rows)
    assert sorted(stored) == sorted(filed), "every appeal stored is one a resident was told about"
    assert set(stored.values()) == {1}
    assert {number: owners[number] for number in filed} == {n: str(r.person.id) for n, r in filed.items()}
    assert set(per_resident.values()) == {1}
    assert pending_out == 0 and pending_in == 0

    # Every card reached its agency; copies are counted, none is missing.
    copies = Counter(number for group in groups for number, _card in _cards(group))
    for number, resident in filed.items():
        chat_id = resident.route[2]
        assert number in [n for n, _card in _cards(tg.group(chat_id))], f"card {number} missing"
    card_duplicates = sum(count - 1 for count in copies.values())
    # Telegram has no idempotency: a message sent again is one whose delivery a kill cut
    # between Telegram's answer and its record. Every copy must be explained so.
    for number, resident in filed.items():
        unexplained = _unexplained_copies(tg, resident.route[2], f"Обращение № {number}", bot_process)
        assert not unexplained, f"card {number} sent again with no kill to explain it: {unexplained}"

    # Every staff reply reached its resident.
    reply_copies = {
        number: sum(_answer_text(number) in m.text for m in r.person.messages) for number, r in filed.items()
    }
    assert all(count >= 1 for count in reply_copies.values()), reply_copies
    reply_duplicates = sum(count - 1 for count in reply_copies.values())
    for number, resident in filed.items():
        unexplained = _unexplained_copies(tg, resident.person.id, _answer_text(number), bot_process)
        assert not unexplained, f"staff reply {number} sent again with no kill to explain it: {unexplained}"

    # The paused residents come back after the storm and continue where they were.
    for resident in paused:
        assert resident.pause_at is not None
        assert resident.reached == resident.pause_at, (resident.person.name, resident.reached)
        # Coming back, the person reads the chat: after a crash the bot may have sent the
        # question they are at once more (the latest stored answer is re-sent). It must be
        # that question, nothing earlier or later.
        repeated = resident.latest_screen()
        assert repeated is None or repeated[0] == resident.pause_at, (resident.person.name, repeated)
        resident._read = len(resident.person.messages)
        next_screen = await asyncio.wait_for(resident.step(resident.pause_at), 15)
        assert next_screen == resident.pause_at + 1, (resident.person.name, resident.pause_at, next_screen)

    resends = sum(r.resends for r in residents)
    print(
        f"appeals: {len(filed)}, paused residents: {len(paused)}, residents' repeats: {resends}, "
        f"duplicate cards: {card_duplicates}, duplicate staff replies: {reply_duplicates}, "
        f"bot starts: {bot_process.starts}"
    )
    assert await bot_process.stop() == 0, bot_process.tail()
