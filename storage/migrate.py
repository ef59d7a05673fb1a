"""Alembic, driven from code: ``appeals db upgrade`` and the start of ``appeals run``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from storage.db import ensure_folder

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class DatabaseUnavailable(Exception):
    """The database the URL names cannot be opened or written; the message says why."""


def upgrade_sync(url: str, revision: str = "head") -> None:
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        ensure_folder(url)
        command.upgrade(alembic_config(url), revision)
    except (OperationalError, InterfaceError) as exc:
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        raise DatabaseUnavailable(f"{shown}: {reason}") from None
    except OSError as exc:  # a folder that cannot be made; a server that does not answer
        where = f" ({exc.filename})" if exc.filename else ""
        raise DatabaseUnavailable(f"{shown}: {exc.strerror or exc}{where}") from None
    except Exception as exc:
        # asyncpg's refusals (unknown database, wrong password) arrive unwrapped at connect.
        if type(exc).__module__.startswith("asyncpg"):
            raise DatabaseUnavailable(f"{shown}: {exc}") from None
        raise


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations. Alembic's async env runs its own loop, so it gets a thread."""
    await asyncio.to_thread(upgrade_sync, url, revision)
