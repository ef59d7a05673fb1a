"""Two worker processes behind a load balancer, one PostgreSQL database.

Real subprocesses run ``python -m bot.cli run`` in webhook mode on two ports; the fake
Telegram delivers every update round-robin to them, so each resident's steps alternate
between the workers. Residents fire their last steps without waiting for answers. Every
appeal must come out complete and in order, every card reach its agency once (both workers
run outbox senders), and the weekly digest be posted once (both workers' schedulers catch
up on it at start).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, Catalogue
from storage.db import Database
from storage.models import Appeal, DigestPost
from tests.conftest import PG_URL
from tests.support.steps import step
from tests.support.telegram import WEBHOOK_SECRET, Person, Telegram, free_port

pytestmark = [
    pytest.mark.skipif(not (PG_URL or "").startswith("postgresql"), reason="several workers need PostgreSQL"),
    pytest.mark.slow,
]

ROOT = Path(__file__).resolve().parent.parent
ROADS_AGENCY = -1001000000001
DIGEST_CHANNEL = -1001000000099
RESIDENTS = 10
WAIT = 30.0


class Worker:
    def __init__(self, name: str, port: int, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = port
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    async def start(self) -> None:
        env = self.env | {"TELEGRAM_WEBHOOK_PORT": str(self.port)}
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", env=env, cwd=self.log.parent, stdout=out, stderr=out
            )

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


@pytest.fixture
async def workers(
    tg: Telegram, database_url: str, catalogue: Catalogue, tmp_path: Path
) -> AsyncIterator[list[Worker]]:
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
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    pool = [Worker(name, free_port(), env, tmp_path / f"{name}.log") for name in ("a", "b")]
    tg.server.balance([w.url for w in pool])
    for worker in pool:
        await worker.start()
    try:
        await tg.server.wait_for(lambda: len(tg.server.calls_of("setWebhook")) == 2, WAIT)
        yield pool
    finally:
        codes = [await worker.stop() for worker in pool]
        for worker in pool:
            tail = worker.log.read_text(errors="replace")[-4000:]
            sys.stdout.write(f"--- worker {worker.name} ---\n{tail}\n")
        assert codes == [0, 0], f"workers exited with {codes}"


async def _file_an_appeal(person: Person, number: int) -> str:
    description = f"Яма номер {number} на улице Советской, у дома {number}"
    await person.send("/start")
    await person.expect_message(contains="согласие", timeout=WAIT)
    await person.click("Согласен")
    await person.expect_message(contains=step("topic"), timeout=WAIT)
    await person.click("Дороги")
    await person.expect_message(contains=step("municipality"), timeout=WAIT)
    await person.click("Тамбов")
    await person.expect_message(contains=step("description"), timeout=WAIT)
    # Two steps at once: each goes to the other worker than the one before, and the
    # address must not overtake the description.
    await person.send(description)
    await person.send(f"ул. Советская, {number}")
    await person.expect_message(contains=step("photos"), timeout=WAIT)
    await person.click("Пропустить")  # the photos step's inline button
    await person.expect_message(contains=step("phone"), timeout=WAIT)
    await person.send(f"8 900 123-45-{number:02d}")
    review = await person.expect_message(contains="Проверьте обращение", timeout=WAIT)
    assert description in review.text, review.text
    assert f"ул. Советская, {number}" in review.text, review.text
    assert f"+7 900 123-45-{number:02d}" in review.text, review.text
    await person.click("Отправить")
    await person.expect_message(contains="принято", timeout=WAIT)
    return description


async def test_two_workers_share_one_database(tg: Telegram, workers: list[Worker], database_url: str) -> None:
    people = [tg.user(3000 + n, f"Житель {n}") for n in range(RESIDENTS)]
    descriptions = await asyncio.gather(*(_file_an_appeal(p, n) for n, p in enumerate(people)))

    agency = tg.group(ROADS_AGENCY)
    await tg.server.wait_for(
        lambda: all(any(d in m.text for m in agency.messages) for d in descriptions), WAIT
    )
    channel = tg.channel(DIGEST_CHANNEL)
    await channel.expect_message(timeout=WAIT)

    served = {post.url for post in tg.server.webhook_posts if post.status == 200}
    assert served == {w.url for w in workers}, "both workers received updates"
    for description in descriptions:
        cards = [m for m in agency.messages if description in m.text]
        assert len(cards) == 1, f"card for {description!r} sent {len(cards)} times"

    db = Database(database_url)
    try:
        async with db.read() as session:
            appeals = (await session.scalars(select(Appeal))).all()
            digests = (await session.scalars(select(DigestPost))).all()
    finally:
        await db.dispose()
    assert sorted(a.description for a in appeals) == sorted(descriptions)
    assert len({a.number for a in appeals}) == RESIDENTS
    assert len(digests) == len(channel.messages) == 1, "the digest is posted once"
