"""Two worker processes receive VK's Callback API behind a load balancer, one PostgreSQL
database: the VK counterpart of ``test_workers.py``.

Real subprocesses run ``python -m bot.cli run`` with ``VK_MODE=callback`` on two ports; the
fake VK POSTs every event round-robin to them (so each resident's steps alternate between
the workers) and sends some events a second time after their "ok" (VK's retries, which
reach the other worker). Residents fire two steps back to back. Every appeal must come
out complete and in order, each event be handled once, and every card reach the agency's
VK conversation once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.catalogue import EXAMPLE_PATH
from storage.db import Database
from storage.models import Appeal, InboxUpdate
from tests.conftest import PG_URL
from tests.fake_vk import GROUP_ID, TOKEN, FakeVk
from tests.support.telegram import free_port
from tests.support.vk import VkChat

pytestmark = [
    pytest.mark.skipif(not (PG_URL or "").startswith("postgresql"), reason="several workers need PostgreSQL"),
    pytest.mark.slow,
]

ROOT = Path(__file__).resolve().parent.parent
AGENCY = 2_000_000_001
RESIDENTS = 6
WAIT = 40.0
SECRET = "vk-callback-secret"
CONFIRMATION = "c0nf1rm"


class Worker:
    def __init__(self, name: str, port: int, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = port
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/vk/callback"

    async def start(self) -> None:
        env = self.env | {"VK_CALLBACK_PORT": str(self.port)}
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


async def _confirmed(vk: FakeVk, worker: Worker) -> None:
    """Both workers answer VK's confirmation once they listen."""
    for _ in range(600):
        try:
            if await vk.confirm(worker.url) == (200, CONFIRMATION):
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"worker {worker.name} never answered the confirmation")


@pytest.fixture
async def vk() -> AsyncIterator[FakeVk]:
    async with FakeVk() as fake:
        yield fake


@pytest.fixture
async def workers(vk: FakeVk, database_url: str, tmp_path: Path) -> AsyncIterator[list[Worker]]:
    catalogue = tmp_path / "catalogue.toml"
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    catalogue.write_text(
        text.replace('chats = ["telegram:-1001000000001"]', f'chats = ["vk:{AGENCY}"]'), encoding="utf-8"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "CATALOGUE_PATH": str(catalogue),
        "LOG_FORMAT": "console",
        "LOG_LEVEL": "INFO",
        "VK_GROUP_TOKEN": TOKEN,
        "VK_GROUP_ID": str(GROUP_ID),
        "VK_API_BASE": vk.base,
        "VK_MODE": "callback",
        "VK_CONFIRMATION_CODE": CONFIRMATION,
        "VK_CALLBACK_SECRET": SECRET,
    }
    pool = [Worker(name, free_port(), env, tmp_path / f"{name}.log") for name in ("a", "b")]
    for worker in pool:
        await worker.start()
    try:
        for worker in pool:
            await _confirmed(vk, worker)
        vk.start_callbacks([w.url for w in pool], secret=SECRET)
        yield pool
    finally:
        codes = [await worker.stop() for worker in pool]
        for worker in pool:
            tail = worker.log.read_text(errors="replace")[-4000:]
            sys.stdout.write(f"--- worker {worker.name} ---\n{tail}\n")
        assert codes == [0, 0], f"workers exited with {codes}"


async def _file_an_appeal(vk: FakeVk, resident: int) -> str:
    chat = VkChat(vk, resident)
    description = f"Яма номер {resident} на улице Советской, у дома {resident}"
    await vk.user_writes(resident, "Начать", payload='{"command":"start"}')
    await chat.expect("152-ФЗ", within=WAIT)
    await chat.press("Согласен")
    await chat.expect("Выберите тему", within=WAIT)
    await asyncio.sleep(0.5)  # the rest of the screen (its buttons may take two messages)
    await chat.press("Дороги")
    await chat.expect("Выберите муниципалитет", within=WAIT)
    await chat.press("Тамбов")
    await chat.expect("Опишите проблему", within=WAIT)
    # Two steps at once: each reaches the other worker, and the address must not
    # overtake the description.
    await chat.write(description)
    await chat.write(f"ул. Советская, {resident}")
    await chat.expect("пришлите их", within=WAIT)
    await chat.press("Пропустить")
    await chat.expect("номер телефона, мобильный или городской", within=WAIT)
    await chat.press("Пропустить")
    review = await chat.expect("Проверьте обращение", within=WAIT)
    assert description in review.text, review.text
    assert f"ул. Советская, {resident}" in review.text, review.text
    await chat.press("Отправить")
    await chat.expect("принято", within=WAIT)
    return description


@pytest.mark.xfail(
    strict=False,
    reason=(
        "open (issues 15, 21): in one PostgreSQL CI run the agency cards did not all arrive within 40 s "
        "with two workers since the outbox parks a chat's waiting messages; a park racing the unpark "
        "of another worker may hold a message for the 5-minute park; not yet explained"
    ),
)
async def test_two_callback_workers_share_one_database(
    vk: FakeVk, workers: list[Worker], database_url: str
) -> None:
    vk.redeliver_next(8)  # VK did not get these "ok"s in time: sent again, to the other worker
    residents = [5000 + n for n in range(RESIDENTS)]
    descriptions = await asyncio.gather(*(_file_an_appeal(vk, r) for r in residents))

    def cards_arrived() -> bool:
        texts = [m.text for m in vk.bot_messages(AGENCY)]
        return all(any(d in t for t in texts) for d in descriptions)

    await vk.wait_until(cards_arrived, within=WAIT)
    served = {post.target for post in vk.callback_posts if post.body == "ok"}
    assert served == {w.url for w in workers}, "both workers received events"
    repeated = [p.event_id for p in vk.callback_posts if p.body == "ok"]
    assert len(repeated) - len(set(repeated)) == 8, "eight events were sent twice"
    for description in descriptions:
        cards = [m for m in vk.bot_messages(AGENCY) if description in m.text]
        assert len(cards) == 1, f"card for {description!r} sent {len(cards)} times"

    db = Database(database_url)
    try:
        async with db.read() as session:
            appeals = (await session.scalars(select(Appeal))).all()
            stored = await session.scalar(select(func.count()).select_from(InboxUpdate))
    finally:
        await db.dispose()
    assert sorted(a.description for a in appeals) == sorted(descriptions)
    assert stored == len(set(repeated)), "each event stored once"
