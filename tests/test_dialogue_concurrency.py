"""Two workers over one database: one person's events still take turns."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from handlers.context import Context
from handlers.core import Core
from handlers.events import Platform
from storage.db import Database
from storage.models import Dialogue, Resident
from tests.support import ResidentChat


async def test_first_contact_on_two_workers_at_once_makes_one_resident(ctx: Context, db: Database) -> None:
    first = ResidentChat(Core(ctx), Platform.TELEGRAM, "42")
    second = ResidentChat(
        Core(
            Context(
                db=ctx.db,
                catalogue=ctx.catalogue,
                texts=ctx.texts,
                clock=ctx.clock,
                capabilities=ctx.capabilities,
            )
        ),
        Platform.TELEGRAM,
        "42",
    )
    await asyncio.gather(first.send("/start"), second.send("/start"))
    assert "152-ФЗ" in first.last_text and "152-ФЗ" in second.last_text
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 1
        assert await session.scalar(select(func.count()).select_from(Dialogue)) == 1


async def test_an_album_split_across_two_workers_counts_every_photo(ctx: Context, db: Database) -> None:
    alice = ResidentChat(Core(ctx), Platform.TELEGRAM, "1001")
    await alice.send("/start")
    await alice.click("Согласен")
    await alice.click("Дороги")
    await alice.click("Тамбов")
    await alice.send("Большая яма на проезжей части у дома 12")
    await alice.click("Пропустить")
    other = ResidentChat(
        Core(
            Context(
                db=ctx.db,
                catalogue=ctx.catalogue,
                texts=ctx.texts,
                clock=ctx.clock,
                capabilities=ctx.capabilities,
            )
        ),
        Platform.TELEGRAM,
        "1001",
    )
    await asyncio.gather(*((alice if n % 2 else other).send_photo(f"photo-{n}") for n in range(5)))
    await alice.click("Готово")
    await alice.click("Пропустить")
    assert "Фото: 5" in alice.last_text
