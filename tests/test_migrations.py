"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and step down again: a model changed without its migration fails here."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from storage.db import Database
from storage.migrate import alembic_config, upgrade_sync
from storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"render_as_batch": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_is_the_models_schema(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


def test_the_newest_migration_steps_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'steps.db'}"
    upgrade_sync(url)
    command.downgrade(alembic_config(url), "-1")
    upgrade_sync(url)
    with sqlite3.connect(tmp_path / "steps.db") as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(appeals)")}
    assert {"assignee_id", "assignee_name", "assigned_at"} <= columns
