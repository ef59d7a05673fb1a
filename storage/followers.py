"""Residents who joined an appeal instead of filing the same problem again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, Follower, Resident


async def follow(session: AsyncSession, appeal_id: int, resident_id: int, *, now: datetime) -> bool:
    """Make the resident a follower; False when they already were (two presses, two workers)."""
    values = {"appeal_id": appeal_id, "resident_id": resident_id, "joined_at": now}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Follower).values(**values).on_conflict_do_nothing(index_elements=["appeal_id", "resident_id"])
    )
    result = await session.execute(statement)
    joined = bool(getattr(result, "rowcount", 0))
    if joined:
        await _recount(session, [appeal_id])
    return joined


async def unfollow(session: AsyncSession, appeal_id: int, resident_id: int) -> bool:
    result = await session.execute(
        delete(Follower).where(Follower.appeal_id == appeal_id, Follower.resident_id == resident_id)
    )
    left = bool(getattr(result, "rowcount", 0))
    if left:
        await _recount(session, [appeal_id])
    return left


async def forget(session: AsyncSession, resident_id: int) -> None:
    """A resident's follows go with their data (/forget): the appeals count them no more."""
    followed = list(
        (await session.scalars(select(Follower.appeal_id).where(Follower.resident_id == resident_id))).all()
    )
    await session.execute(delete(Follower).where(Follower.resident_id == resident_id))
    await _recount(session, followed)


async def _recount(session: AsyncSession, appeal_ids: Sequence[int]) -> None:
    """Write each appeal's number of followers on it (loaded rows see it too)."""
    for appeal_id in sorted(set(appeal_ids)):
        followers = await count(session, appeal_id)
        await session.execute(update(Appeal).where(Appeal.id == appeal_id).values(followers_count=followers))


async def is_following(session: AsyncSession, appeal_id: int, resident_id: int) -> bool:
    found = await session.scalar(
        select(Follower.id).where(Follower.appeal_id == appeal_id, Follower.resident_id == resident_id)
    )
    return found is not None


async def residents_following(session: AsyncSession, appeal_id: int) -> Sequence[Resident]:
    """The followers who can still be told (not forgotten), in the order they joined."""
    rows = await session.scalars(
        select(Resident)
        .join(Follower, Follower.resident_id == Resident.id)
        .where(Follower.appeal_id == appeal_id, Resident.forgotten_at.is_(None))
        .order_by(Follower.id)
    )
    return rows.all()


async def count(session: AsyncSession, appeal_id: int) -> int:
    total = await session.scalar(select(func.count()).where(Follower.appeal_id == appeal_id))
    return int(total or 0)


async def followed_by(session: AsyncSession, resident_id: int) -> Sequence[Appeal]:
    """The appeals the resident follows, newest first."""
    rows = await session.scalars(
        select(Appeal)
        .join(Follower, Follower.appeal_id == Appeal.id)
        .where(Follower.resident_id == resident_id)
        .order_by(Appeal.created_at.desc(), Appeal.id.desc())
    )
    return rows.all()


async def rate(session: AsyncSession, appeal_id: int, resident_id: int, rating: int) -> bool:
    """A follower's rating of the answer, once; False when not following or already rated."""
    row = await session.scalar(
        select(Follower)
        .where(Follower.appeal_id == appeal_id, Follower.resident_id == resident_id)
        .with_for_update()
    )
    if row is None or row.rating is not None:
        return False
    row.rating = rating
    return True


async def ratings(session: AsyncSession, appeal_id: int) -> dict[int, int | None]:
    """Each follower's rating of the answer (None: not rated), by resident id."""
    rows = await session.execute(
        select(Follower.resident_id, Follower.rating).where(Follower.appeal_id == appeal_id)
    )
    return {row.resident_id: row.rating for row in rows}


async def drop_all(session: AsyncSession, appeal_id: int) -> None:
    """The appeal has no followers any more (it was merged into another)."""
    await session.execute(delete(Follower).where(Follower.appeal_id == appeal_id))
    await _recount(session, [appeal_id])
