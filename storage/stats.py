"""Aggregates for the weekly digest and /stats, computed in the database.

Every figure is a GROUP BY over the appeals created in ``[start, end)`` (the range scan
uses ``ix_appeals_created_at``), so the cost follows the size of the period, not of the
table. First-response time is ``first_response_at - passed_at`` (``created_at`` when the
appeal was never passed on). Medians: ``percentile_cont`` on PostgreSQL, the middle row(s)
of a window on SQLite, which has no percentile function.

Which stored status means what (waiting, settled, solved, …) is the core's to say
(``handlers.workflow``): the figures that depend on it take a :class:`Statuses` from the caller.

Also here: claiming a digest for a channel and period (the row that makes it exactly once).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, DigestPost, Follower


@dataclass(frozen=True, slots=True)
class Statuses:
    """The stored statuses the figures tell apart, as the core's workflow names them."""

    waiting: Collection[str]
    """Waiting for an agency."""
    settled: Collection[str]
    """Answered or solved by the agency, or closed by the resident since."""
    solved: str
    closed: str
    """Closed by the resident: confirmed as solved (counted as solved when it had been)."""
    rejected: str


@dataclass(frozen=True, slots=True)
class Totals:
    received: int
    passed: int
    answered: int
    solved: int
    declined: int
    """Turned away by the centre's moderators: rejected without ever being passed on."""
    mean_response_s: float | None
    median_response_s: float | None


@dataclass(frozen=True, slots=True)
class Quality:
    """How the period's appeals fared against their deadlines and with their residents."""

    first_decided: int
    """First-response clocks decided: a response came, or the deadline has passed."""
    first_on_time: int
    answer_decided: int
    """Answer clocks decided: an answer came, or the (possibly extended) deadline passed."""
    answer_on_time: int
    rated: int
    mean_rating: float | None
    settled: int
    """Appeals the agency answered or solved (rejections not included)."""
    confirmed: int
    """Of those, the ones the resident confirmed as solved."""


@dataclass(frozen=True, slots=True)
class AgencyTimes:
    agency_id: str
    received: int
    answered: int
    median_response_s: float | None


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _response_seconds(dialect: str) -> ColumnElement[Any]:
    since = func.coalesce(Appeal.passed_at, Appeal.created_at)
    if dialect == "postgresql":
        return func.extract("epoch", Appeal.first_response_at - since)
    return (func.julianday(Appeal.first_response_at) - func.julianday(since)) * literal(86400.0)


def _in_period(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Appeal.created_at >= start, Appeal.created_at < end)


def _solved(statuses: Statuses) -> ColumnElement[bool]:
    return or_(
        Appeal.status == statuses.solved,
        and_(Appeal.status == statuses.closed, Appeal.solved_at.is_not(None)),
    )


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


async def totals(session: AsyncSession, start: datetime, end: datetime, statuses: Statuses) -> Totals:
    """Received, passed, answered and solved appeals of the period, and the mean and median
    first-response time of those answered."""
    dialect = _dialect(session)
    seconds = _response_seconds(dialect)
    answered = Appeal.first_response_at.is_not(None)
    columns: list[ColumnElement[Any]] = [
        func.count(),
        _count_where(Appeal.passed_at.is_not(None)),
        _count_where(answered),
        _count_where(_solved(statuses)),
        func.avg(case((answered, seconds))),
        _count_where(and_(Appeal.status == statuses.rejected, Appeal.passed_at.is_(None))),
    ]
    if dialect == "postgresql":
        columns.append(func.percentile_cont(0.5).within_group(seconds))
    row = (await session.execute(select(*columns).where(_in_period(start, end)))).one()
    if dialect == "postgresql":
        median = row[6]
    else:
        medians = await _sqlite_medians(session, start, end, by_agency=False)
        median = medians.get("", None)
    return Totals(
        received=int(row[0]),
        passed=int(row[1]),
        answered=int(row[2]),
        solved=int(row[3]),
        declined=int(row[5]),
        mean_response_s=_seconds(row[4]),
        median_response_s=_seconds(median),
    )


def _first_on_time() -> ColumnElement[bool]:
    return and_(Appeal.first_response_at.is_not(None), Appeal.first_response_at <= Appeal.deadline_at)


def _first_decided(now: datetime) -> ColumnElement[bool]:
    return and_(
        Appeal.deadline_at.is_not(None),
        or_(Appeal.first_response_at.is_not(None), Appeal.deadline_at <= now),
    )


def _answer_on_time() -> ColumnElement[bool]:
    return and_(Appeal.answered_at.is_not(None), Appeal.answered_at <= Appeal.answer_due_at)


def _answer_decided(now: datetime) -> ColumnElement[bool]:
    return and_(
        Appeal.answer_due_at.is_not(None),
        or_(Appeal.answered_at.is_not(None), Appeal.answer_due_at <= now),
    )


async def quality(
    session: AsyncSession, start: datetime, end: datetime, now: datetime, statuses: Statuses
) -> Quality:
    """On-time shares of both clocks (as decided at ``now``), ratings and confirmations of
    the appeals created in the period."""
    columns: list[ColumnElement[Any]] = [
        _count_where(_first_decided(now)),
        _count_where(_first_on_time()),
        _count_where(_answer_decided(now)),
        _count_where(_answer_on_time()),
        func.count(Appeal.rating),
        func.avg(Appeal.rating),
        _count_where(Appeal.status.in_(sorted(statuses.settled))),
        _count_where(Appeal.status == statuses.closed),
    ]
    row = (await session.execute(select(*columns).where(_in_period(start, end)))).one()
    return Quality(
        first_decided=int(row[0]),
        first_on_time=int(row[1]),
        answer_decided=int(row[2]),
        answer_on_time=int(row[3]),
        rated=int(row[4]),
        mean_rating=None if row[5] is None else round(float(row[5]), 2),
        settled=int(row[6]),
        confirmed=int(row[7]),
    )


async def open_overdue(session: AsyncSession, now: datetime, statuses: Statuses) -> int:
    """Appeals waiting for an agency now with a clock past its deadline."""
    first = and_(Appeal.first_response_at.is_(None), Appeal.deadline_at < now)
    answer = and_(Appeal.answered_at.is_(None), Appeal.answer_due_at < now)
    stmt = select(func.count()).where(Appeal.status.in_(sorted(statuses.waiting)), or_(first, answer))
    return int(await session.scalar(stmt) or 0)


async def first_on_time_by_day(
    session: AsyncSession, boundaries: Sequence[datetime], now: datetime
) -> list[tuple[int, int]]:
    """Per day between consecutive ``boundaries`` (by when the appeals came): first-response
    clocks decided at ``now``, and how many of them on time."""
    if len(boundaries) < 2:
        raise ValueError("need at least two boundaries")
    days = len(boundaries) - 1
    whens = [(Appeal.created_at < cut, n) for n, cut in enumerate(boundaries[1:-1])]
    day = case(*whens, else_=days - 1) if whens else literal(0)
    rows = await session.execute(
        select(day.label("day"), _count_where(_first_decided(now)), _count_where(_first_on_time()))
        .where(_in_period(boundaries[0], boundaries[-1]))
        .group_by(day)
    )
    result = [(0, 0)] * days
    for index, decided, on_time in rows:
        result[int(index)] = (int(decided), int(on_time))
    return result


async def _sqlite_medians(
    session: AsyncSession, start: datetime, end: datetime, *, by_agency: bool
) -> dict[str, float]:
    """Median response seconds (per agency, or ``""`` for all): the middle row, or the mean
    of the two middle rows, of each ordered partition."""
    seconds = _response_seconds("sqlite").label("seconds")
    group = Appeal.agency_id if by_agency else literal("")
    ranked = (
        select(
            group.label("grp"),
            seconds,
            func.row_number().over(partition_by=group, order_by=seconds).label("rn"),
            func.count().over(partition_by=group).label("cnt"),
        )
        .where(_in_period(start, end), Appeal.first_response_at.is_not(None))
        .subquery()
    )
    ranked_filter: ColumnElement[bool] = ranked.c.grp.is_not(None) if by_agency else literal(True)
    middle = (
        select(ranked.c.grp, func.avg(ranked.c.seconds))
        .where(
            ranked_filter,
            or_(ranked.c.rn == (ranked.c.cnt + 1) // 2, ranked.c.rn == (ranked.c.cnt + 2) // 2),
        )
        .group_by(ranked.c.grp)
    )
    rows = await session.execute(middle)
    return {str(grp): float(value) for grp, value in rows}


async def counts_by_category(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(Appeal.category_id, func.count()).where(_in_period(start, end)).group_by(Appeal.category_id)
    )
    return {category: int(count) for category, count in rows}


async def counts_by_municipality(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(Appeal.municipality_id, func.count())
        .where(_in_period(start, end))
        .group_by(Appeal.municipality_id)
    )
    return {municipality: int(count) for municipality, count in rows}


async def counts_by_day(session: AsyncSession, boundaries: Sequence[datetime]) -> list[int]:
    """Appeals between consecutive ``boundaries`` (the local midnights of the period, as
    UTC instants): ``len(boundaries) - 1`` counts, zeros included."""
    if len(boundaries) < 2:
        raise ValueError("need at least two boundaries")
    days = len(boundaries) - 1
    whens = [(Appeal.created_at < cut, n) for n, cut in enumerate(boundaries[1:-1])]
    day = case(*whens, else_=days - 1) if whens else literal(0)
    rows = await session.execute(
        select(day.label("day"), func.count()).where(_in_period(boundaries[0], boundaries[-1])).group_by(day)
    )
    counts = [0] * days
    for index, count in rows:
        counts[int(index)] = int(count)
    return counts


async def agency_times(session: AsyncSession, start: datetime, end: datetime) -> list[AgencyTimes]:
    """Per agency: appeals received in the period, how many got a first response, and the
    median first-response time of those."""
    dialect = _dialect(session)
    columns: list[Any] = [
        Appeal.agency_id,
        func.count(),
        _count_where(Appeal.first_response_at.is_not(None)),
    ]
    if dialect == "postgresql":
        columns.append(func.percentile_cont(0.5).within_group(_response_seconds(dialect)))
    rows = (
        await session.execute(
            select(*columns)
            .where(_in_period(start, end), Appeal.agency_id.is_not(None))
            .group_by(Appeal.agency_id)
        )
    ).all()
    if dialect == "postgresql":
        medians = {row[0]: row[3] for row in rows}
    else:
        medians = dict(await _sqlite_medians(session, start, end, by_agency=True))
    return [
        AgencyTimes(
            agency_id=str(row[0]),
            received=int(row[1]),
            answered=int(row[2]),
            median_response_s=_seconds(medians.get(row[0])),
        )
        for row in rows
    ]


# -- claiming a digest ---------------------------------------------------------------------


async def claim_digest(
    session: AsyncSession, channel: str, period_start: datetime, period_end: datetime, now: datetime
) -> int | None:
    """Insert the digest row for ``channel`` and ``period_start`` unless one exists.

    Returns the new row's id, or None when the digest was claimed before (by this process
    earlier, or by another one: on PostgreSQL a concurrent claimer waits for ours to commit
    and then inserts nothing; on SQLite writers are serialised by ``BEGIN IMMEDIATE``).
    """
    values = {
        "channel": channel,
        "period_start": period_start,
        "period_end": period_end,
        "claimed_at": now,
    }
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    statement = (
        insert(DigestPost)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "period_start"])
        .returning(DigestPost.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def attach_outbox(session: AsyncSession, digest_id: int, outbox_id: int) -> None:
    post = await session.get_one(DigestPost, digest_id)
    post.outbox_id = outbox_id
    await session.flush()


async def digest_claimed(session: AsyncSession, channel: str, period_start: datetime) -> bool:
    found = await session.scalar(
        select(DigestPost.id).where(DigestPost.channel == channel, DigestPost.period_start == period_start)
    )
    return found is not None


@dataclass(frozen=True, slots=True)
class Joined:
    """An appeal residents joined in a period: how many joined then, how many in all."""

    appeal_id: int
    created_at: datetime
    category_id: str
    joined: int
    followers: int


async def residents_behind(session: AsyncSession, start: datetime, end: datetime) -> tuple[int, int]:
    """How many people stand behind the period's appeals (their authors and the residents
    who joined them, each person once), and how many joins those appeals have."""
    authors = select(Appeal.resident_id.label("person")).where(
        _in_period(start, end), Appeal.resident_id.is_not(None)
    )
    joined = (
        select(Follower.resident_id.label("person"))
        .join(Appeal, Appeal.id == Follower.appeal_id)
        .where(_in_period(start, end))
    )
    people = union(authors, joined).subquery()
    residents = int(await session.scalar(select(func.count()).select_from(people)) or 0)
    joins = await session.scalar(
        select(func.coalesce(func.sum(Appeal.followers_count), 0)).where(_in_period(start, end))
    )
    return residents, int(joins or 0)


async def most_joined(session: AsyncSession, start: datetime, end: datetime, *, limit: int) -> list[Joined]:
    """The appeals the most residents joined in the period, most first."""
    joined = func.count(Follower.id)
    rows = await session.execute(
        select(Appeal.id, Appeal.created_at, Appeal.category_id, joined, Appeal.followers_count)
        .join(Follower, Follower.appeal_id == Appeal.id)
        .where(Follower.joined_at >= start, Follower.joined_at < end)
        .group_by(Appeal.id, Appeal.created_at, Appeal.category_id, Appeal.followers_count)
        .order_by(joined.desc(), Appeal.id)
        .limit(limit)
    )
    return [Joined(int(a), created, category, int(n), int(total)) for a, created, category, n, total in rows]
