"""Shared fixtures: a real database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is
set), the example catalogue, texts and a clock the test controls."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.capabilities import ADAPTERS
from digests.commands import DigestReports
from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.texts import Texts
from storage.db import Database
from storage.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")

pytest_plugins = ["tests.support.telegram"]


SETTING_PREFIXES = ("TELEGRAM_", "VK_", "DATABASE_URL", "CATALOGUE_PATH", "DATA_DIR", "LOG_")
_LOCAL_HOSTS = frozenset({None, "", "localhost", "127.0.0.1", "::1"})


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's bot settings (environment or ``.env``: only
    ``load_settings`` reads a file, and tests give it their own) or reaches the internet:
    resolving or connecting to anything but this machine fails at once."""
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def local_only(host: object) -> None:
        if isinstance(host, bytes):
            host = host.decode()
        if host not in _LOCAL_HOSTS and not (isinstance(host, str) and host.startswith("127.")):
            raise OSError(f"tests stay offline: {host!r} is not this machine")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        local_only(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            local_only(address[0])
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            local_only(address[0])
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


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
    return Context(
        db=db, catalogue=catalogue, texts=texts, clock=clock, capabilities=ADAPTERS, reports=DigestReports()
    )
