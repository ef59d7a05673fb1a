"""Search the whole live database for a person: every table and every column, found by
introspection (a table added tomorrow is searched without anyone remembering to).

Values are read raw and turned into text the way a person searching a dump would: JSON
decoded (it is stored with ``\\u`` escapes), bytes decoded, numbers written out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import Database

_SEPARATORS = r"[\s\-().]*"


def phone_pattern(phone: str) -> re.Pattern[str]:
    """A Russian mobile number in any format: ``+79161234567``, ``89161234567``,
    ``9161234567``, ``+7 (916) 123-45-67``: its last ten digits, any separators between."""
    digits = re.sub(r"\D", "", phone)[-10:]
    return re.compile(r"(?<!\d)(?:\+?7|8)?" + _SEPARATORS + _SEPARATORS.join(digits) + r"(?!\d)")


def number_pattern(value: str) -> re.Pattern[str]:
    """An id or a coordinate, not as a part of a longer number."""
    return re.compile(r"(?<![\d.])" + re.escape(value) + r"(?!\d)")


def words_pattern(value: str) -> re.Pattern[str]:
    return re.compile(re.escape(value), re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    table: str
    column: str
    needle: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} holds the {self.needle}: {self.excerpt!r}"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in '{["':
            try:
                return json.dumps(json.loads(stripped), ensure_ascii=False) + "\n" + value
            except ValueError:
                return value
        return value
    return str(value)


def _schema(connection: Connection) -> dict[str, list[str]]:
    inspector = inspect(connection)
    return {table: [c["name"] for c in inspector.get_columns(table)] for table in inspector.get_table_names()}


async def tables(db: Database) -> dict[str, list[str]]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_schema)


async def search(db: Database, needles: dict[str, re.Pattern[str]]) -> list[Found]:
    """Every place in the database where a needle is found (table, column, what, where)."""
    found: list[Found] = []
    async with db.engine.connect() as connection:
        schema = await connection.run_sync(_schema)
        for table, columns in sorted(schema.items()):
            quoted = ", ".join(f'"{column}"' for column in columns)
            rows = await connection.exec_driver_sql(f'SELECT {quoted} FROM "{table}"')
            for row in rows.all():
                for column, value in zip(columns, row, strict=True):
                    haystack = _as_text(value)
                    for name, pattern in needles.items():
                        match = pattern.search(haystack)
                        if match is not None:
                            start = max(match.start() - 60, 0)
                            found.append(Found(table, column, name, haystack[start : match.end() + 60]))
        await connection.rollback()
    return found
