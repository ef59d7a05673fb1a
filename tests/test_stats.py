"""The digest's figures on a small seeded week, checked against numbers worked out by hand.

Week 47 of 2026 runs from Monday 16 November 00:00 to Sunday 22 November 24:00 Moscow
time (UTC+3), i.e. 15 November 21:00 UTC to 22 November 21:00 UTC.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digests.figures import DigestFigures, build_figures
from digests.periods import Period, iso_week, parse_period, week_so_far
from handlers.catalogue import EXAMPLE_PATH, Catalogue, parse_catalogue
from storage import stats
from storage.db import Database
from storage.models import Appeal

MSK = ZoneInfo("Europe/Moscow")


def msk(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


def catalogue_with(**digest: object) -> Catalogue:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["digest"].update(digest)
    return parse_catalogue(raw)


@dataclass
class Seed:
    """One appeal as the test describes it: when it came and what happened to it."""

    created: datetime
    category: str = "roads"
    municipality: str = "tambov"
    agency: str | None = "tambov-roads"
    passed_after: timedelta | None = None
    answered_after: timedelta | None = None
    """After passing (after creation when never passed)."""
    status: str = "passed"
    solved: bool = False
    deadline_after: timedelta | None = None
    """The first response's deadline, after creation."""
    answer_due_after: timedelta | None = None
    """The answer's deadline, after creation; the answer is the first response when the
    status says the agency answered."""
    rating: int | None = None


async def seed(db: Database, appeals: list[Seed]) -> None:
    async with db.transaction() as session:
        for s in appeals:
            passed = s.created + s.passed_after if s.passed_after is not None else None
            answered = None
            if s.answered_after is not None:
                answered = (passed or s.created) + s.answered_after
            answer_due = s.created + s.answer_due_after if s.answer_due_after is not None else None
            gave_answer = answer_due is not None and s.status in ("answered", "solved", "closed")
            session.add(
                Appeal(
                    platform="telegram",
                    category_id=s.category,
                    municipality_id=s.municipality,
                    agency_id=s.agency,
                    description="Описание обращения для теста",
                    status=s.status,
                    created_at=s.created,
                    passed_at=passed,
                    first_response_at=answered,
                    solved_at=(answered or s.created) + timedelta(days=1) if s.solved else None,
                    deadline_at=s.created + s.deadline_after if s.deadline_after is not None else None,
                    answer_due_at=answer_due,
                    answered_at=answered if gave_answer else None,
                    rating=s.rating,
                )
            )


H = timedelta(hours=1)
M = timedelta(minutes=1)

WEEK_47 = [
    # Monday 00:00 sharp: the first instant of the week.
    Seed(msk(16, 0, 0), "ecology", "morshansk", "ecology", status="new"),
    Seed(
        msk(16, 10),
        "roads",
        "tambov",
        "tambov-roads",
        passed_after=H,
        answered_after=2 * H,
        status="answered",
        deadline_after=8 * H,  # responded after 3 h: on time
        answer_due_after=timedelta(days=30),  # answered on time
    ),
    Seed(
        msk(17, 12),
        "roads",
        "tambov",
        "tambov-roads",
        passed_after=30 * M,
        answered_after=4 * H,
        status="solved",
        solved=True,
        deadline_after=4 * H,  # responded after 4 h 30 min: late
    ),
    # Never answered, its first deadline long past: decided, and overdue now.
    Seed(msk(18, 9), "roads", "michurinsk", "region-roads", passed_after=timedelta(0), deadline_after=8 * H),
    # Never passed on: the response time counts from creation.
    Seed(
        msk(19, 15),
        "housing",
        "tambov",
        "housing",
        answered_after=H,
        status="closed",
        solved=True,
        answer_due_after=timedelta(days=10),  # on time
        rating=5,
    ),
    Seed(msk(20, 8), "health", "kotovsk", "health", passed_after=H, answered_after=30 * M, status="answered"),
    # Sunday 23:59: still this week; closed without being solved.
    Seed(
        msk(22, 23, 59),
        "housing",
        "rasskazovo",
        "housing",
        passed_after=timedelta(0),
        answered_after=10 * H,
        status="closed",
        answer_due_after=5 * H,  # late
        rating=2,
    ),
]

WEEK_46 = [
    Seed(msk(9, 10), "roads", passed_after=H),
    Seed(msk(10, 10), "housing", agency="housing", passed_after=H),
    Seed(msk(11, 10), "housing", agency="housing", passed_after=H),
    Seed(msk(12, 10), "transport", agency=None),
    # Sunday 23:59 of week 46: the week before, not week 47.
    Seed(msk(15, 23, 59), "housing", agency="housing", passed_after=H),
]

WEEK_48 = [
    # Monday 00:00 of the next week: not week 47.
    Seed(msk(23, 0, 0), "roads", passed_after=H, answered_after=H),
]


@pytest.fixture
def week47(catalogue: Catalogue) -> Period:
    return iso_week(2026, 47, catalogue.zone)


async def figures_for(db: Database, catalogue: Catalogue, period: Period) -> DigestFigures:
    async with db.read() as session:
        return await build_figures(session, catalogue, period, period.end)


async def test_week_boundaries_are_moscow_midnights_stored_in_utc(week47: Period) -> None:
    assert week47.start == datetime(2026, 11, 15, 21, 0, tzinfo=UTC)
    assert week47.end == datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    assert week47.previous().week == "2026-W46"
    assert week47.previous().start == datetime(2026, 11, 8, 21, 0, tzinfo=UTC)


async def test_a_week_of_appeals_adds_up_to_the_hand_counted_figures(
    db: Database, catalogue: Catalogue, week47: Period
) -> None:
    await seed(db, WEEK_46 + WEEK_47 + WEEK_48)

    figures = await figures_for(db, catalogue, week47)

    # 7 appeals from Monday 00:00 to Sunday 23:59; the Monday 00:00 of week 48 is not one.
    assert figures.received == 7
    assert figures.received_before == 5
    assert figures.passed == 5  # all but the two never passed on
    assert figures.passed_before == 4
    assert figures.answered == 5
    # solved: the "solved" one and the closed one with solved_at; not the closed unsolved one
    assert figures.solved == 2
    # responses: 2 h, 4 h, 1 h (from creation), 30 min, 10 h
    assert figures.median_response_s == pytest.approx(2 * 3600, abs=1)
    assert figures.mean_response_s == pytest.approx((2 + 4 + 1 + 0.5 + 10) * 3600 / 5, abs=1)

    assert [(t.category_id, t.count, t.previous) for t in figures.topics] == [
        ("roads", 3, 1),
        ("housing", 2, 3),
        # a tie: the catalogue's order decides
        ("health", 1, 0),
        ("ecology", 1, 0),
    ]
    assert figures.main_topic is not None and figures.main_topic.title == "Дороги"

    # First response: on time 1 of 3 decided (late one, never-answered one past its deadline);
    # the answer: 2 of 3 on time; two ratings, 5 and 2; 5 answered, solved or closed, 2 closed.
    assert figures.quality == stats.Quality(
        first_decided=3,
        first_on_time=1,
        answer_decided=3,
        answer_on_time=2,
        rated=2,
        mean_rating=3.5,
        settled=5,
        confirmed=2,
    )
    assert figures.open_overdue == 1  # the Michurinsk appeal nobody answered
    # per day of receipt: (decided, on time) of the first response
    assert [(d.decided, d.on_time) for d in figures.days] == [
        (1, 1),
        (1, 0),
        (1, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
    ]

    # appeals per 1,000 residents, the municipalities with at least the minimum (5) only
    assert figures.municipalities == ()
    figures = await figures_for(db, catalogue_with(min_appeals_for_ranking=1), week47)
    # Котовск 1/28 000, Моршанск 1/36 000, Рассказово 1/40 000, Тамбов 3/253 000, Мичуринск 1/85 000
    assert [m.name for m in figures.municipalities] == [
        "Котовск",
        "Моршанск",
        "Рассказово",
        "Тамбов",
        "Мичуринск",
    ]
    assert figures.municipalities[0].per_thousand == pytest.approx(1000 / 28000)

    # per local day: Mon 2 (00:00 and 10:00), Tue..Fri 1, Sat 0, Sun 1 (23:59)
    assert [(d.day.day, d.count) for d in figures.days] == [
        (16, 2),
        (17, 1),
        (18, 1),
        (19, 1),
        (20, 1),
        (21, 0),
        (22, 1),
    ]


async def test_a_small_town_with_one_appeal_does_not_outrank_the_capital(
    db: Database, week47: Period
) -> None:
    await seed(db, WEEK_47)
    figures = await figures_for(db, catalogue_with(min_appeals_for_ranking=3), week47)
    # Котовск has the highest rate (1 of 28 000) but a single appeal: only Тамбов (3) is ranked.
    assert [(m.name, m.count) for m in figures.municipalities] == [("Тамбов", 3)]


async def test_agencies_below_the_minimum_are_left_out_of_the_ranking(db: Database, week47: Period) -> None:
    catalogue = catalogue_with(min_appeals_for_ranking=2)
    await seed(db, WEEK_47)

    figures = await figures_for(db, catalogue, week47)

    # tambov-roads: 2 h and 4 h → 3 h; housing: 1 h and 10 h → 5 h 30 min; the rest have one
    assert [(a.agency_id, a.median_response_s) for a in figures.fastest] == [
        ("tambov-roads", pytest.approx(3 * 3600, abs=1)),
        ("housing", pytest.approx(5.5 * 3600, abs=1)),
    ]
    assert figures.slowest == ()


def agency_week(agency: str, category: str, hours: list[float | None]) -> list[Seed]:
    """One appeal per entry: answered after that many hours, or never (None)."""
    return [
        Seed(
            msk(16 + n % 7, 10),
            category,
            "tambov",
            agency,
            passed_after=timedelta(0),
            answered_after=timedelta(hours=h) if h is not None else None,
        )
        for n, h in enumerate(hours)
    ]


RANKING_WEEK = (
    # 4 appeals answered in a minute: below the minimum of 5, so not "the fastest"
    agency_week("tambov-roads", "roads", [1 / 60] * 4)
    + agency_week("region-roads", "roads", [1] * 5)
    + agency_week("housing", "housing", [2] * 5)
    + agency_week("health", "health", [3] * 5)
    + agency_week("education", "education", [4] * 5)
    # four answers: the median is the mean of the middle two, (5 + 6) / 2
    + agency_week("social", "social", [4, 5, None, 6, 7])
    + agency_week("ecology", "ecology", [None] * 5)
)


async def test_three_fastest_and_three_slowest_agencies(
    db: Database, catalogue: Catalogue, week47: Period
) -> None:
    assert catalogue.digest.min_appeals_for_ranking == 5
    await seed(db, RANKING_WEEK)

    figures = await figures_for(db, catalogue, week47)

    assert [(a.agency_id, a.median_response_s) for a in figures.fastest] == [
        ("region-roads", pytest.approx(3600, abs=1)),
        ("housing", pytest.approx(7200, abs=1)),
        ("health", pytest.approx(10800, abs=1)),
    ]
    # slowest first: no answer at all is slower than any answer
    assert [(a.agency_id, a.median_response_s) for a in figures.slowest] == [
        ("ecology", None),
        ("social", pytest.approx(5.5 * 3600, abs=1)),
        ("education", pytest.approx(4 * 3600, abs=1)),
    ]
    social = figures.slowest[1]
    assert (social.received, social.answered, social.answered_share) == (5, 4, 0.8)
    # 28 answers overall: 4 x 1 min, 5 x 1 h, 5 x 2 h (the 14th), 5 x 3 h (the 15th), ...
    assert figures.median_response_s == pytest.approx(2.5 * 3600, abs=1)


async def test_an_empty_week_has_zeros_and_no_rankings(
    db: Database, catalogue: Catalogue, week47: Period
) -> None:
    await seed(db, WEEK_46)

    figures = await figures_for(db, catalogue, week47)

    assert figures.empty
    assert (figures.received, figures.passed, figures.answered, figures.solved) == (0, 0, 0, 0)
    assert figures.received_before == 5
    assert figures.median_response_s is None and figures.mean_response_s is None
    assert figures.topics == () and figures.municipalities == () and figures.fastest == ()
    assert [d.count for d in figures.days] == [0] * 7


async def test_counts_by_day_follow_local_dates_not_utc_dates(db: Database, catalogue: Catalogue) -> None:
    # 00:30 Moscow on Tuesday is 21:30 UTC on Monday: it belongs to Tuesday.
    await seed(db, [Seed(msk(17, 0, 30)), Seed(msk(16, 23, 30))])
    period = iso_week(2026, 47, catalogue.zone)
    async with db.read() as session:
        counts = await stats.counts_by_day(session, period.day_boundaries())
    assert counts == [1, 1, 0, 0, 0, 0, 0]


async def test_stats_periods_from_what_an_admin_types(catalogue: Catalogue) -> None:
    now = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # Wednesday 14:00 in Moscow
    zone = catalogue.zone

    so_far = parse_period("", now, zone)
    assert so_far == week_so_far(now, zone)
    assert so_far.start == datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    assert so_far.end == now
    assert so_far.previous().end == now - timedelta(days=7)

    assert parse_period("2026-W47", now, zone).week == "2026-W47"

    fortnight = parse_period("2026-11-01 2026-11-15", now, zone)
    assert fortnight.start == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    assert fortnight.end == datetime(2026, 11, 15, 21, 0, tzinfo=UTC)
    assert len(fortnight.days()) == 15
    assert fortnight.previous().first_day.isoformat() == "2026-10-17"
