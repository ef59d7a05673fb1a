"""Shared fixtures: a real database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is
set), the example catalogue, texts and a clock the test controls."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.capabilities import ADAPTERS
from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.texts import Texts
from storage.db import Database
from storage.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")

pytest_plugins = ["tests.support.telegram"]


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A fresh, migrated database for one test."""
    if PG_URL:
        await _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'appeals.db'}"
    await upgrade(url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(EXAMPLE_PATH)


@pytest.fixture(scope="session")
def texts() -> Texts:
    return Texts()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def ctx(db: Database, catalogue: Catalogue, texts: Texts, clock: FrozenClock) -> Context:
    return Context(db=db, catalogue=catalogue, texts=texts, clock=clock, capabilities=ADAPTERS)
