"""Small durable facts: the VK long-poll position, the last Telegram update id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import KeyValue


async def get_value(session: AsyncSession, key: str) -> str | None:
    row = await session.get(KeyValue, key)
    return None if row is None else row.value


async def set_value(session: AsyncSession, key: str, value: str, *, now: datetime | None = None) -> None:
    row = await session.get(KeyValue, key)
    if row is None:
        row = KeyValue(key=key, value=value)
        if now is not None:
            row.updated_at = now
        session.add(row)
    else:
        row.value = value
        if now is not None:
            row.updated_at = now
    await session.flush()
