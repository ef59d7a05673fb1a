"""The digest's figures for a period and the period before, built from ``storage.stats``.

Nothing here names a resident: only counts, shares and times per topic, municipality and
agency.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from digests.periods import Period
from handlers.catalogue import Catalogue
from handlers.workflow import OPEN_STATUSES, SETTLED, AppealStatus
from storage import moderation as moderation_stats
from storage import stats
from storage.models import appeal_number

STATUSES = stats.Statuses(
    waiting=OPEN_STATUSES,
    settled=SETTLED,
    solved=AppealStatus.SOLVED,
    closed=AppealStatus.CLOSED,
    rejected=AppealStatus.REJECTED,
)
"""What the workflow's statuses mean for the figures."""

TOP_TOPICS = 5
RANKED_AGENCIES = 3
RANKED_MUNICIPALITIES = 6
MOST_JOINED = 3


@dataclass(frozen=True, slots=True)
class TopicFigure:
    category_id: str
    title: str
    count: int
    previous: int


@dataclass(frozen=True, slots=True)
class JoinedFigure:
    """An appeal residents joined: the same problem, reported once."""

    number: str
    title: str
    joined: int
    """Residents who joined it in the period."""
    residents: int
    """Its author and everyone who follows it now."""


@dataclass(frozen=True, slots=True)
class MunicipalityFigure:
    municipality_id: str
    name: str
    count: int
    population: int

    @property
    def per_thousand(self) -> float:
        return self.count * 1000 / self.population


@dataclass(frozen=True, slots=True)
class AgencyFigure:
    agency_id: str
    name: str
    received: int
    answered: int
    median_response_s: float | None

    @property
    def answered_share(self) -> float:
        return self.answered / self.received if self.received else 0.0


@dataclass(frozen=True, slots=True)
class DayFigure:
    day: date
    count: int
    decided: int = 0
    """First-response clocks of the day's appeals decided so far, and how many on time."""
    on_time: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class DigestFigures:
    period: Period
    previous_period: Period
    received: int
    received_before: int
    passed: int
    passed_before: int
    declined: int
    declined_before: int
    """Turned away by the centre's moderators (``[moderation]``)."""
    reviewed: int
    """Agency answers the centre decided on (``review_answers``)."""
    review_median_s: float | None
    """How long those answers waited for the decision: apart from the agencies' times."""
    answered: int
    solved: int
    mean_response_s: float | None
    median_response_s: float | None
    topics: tuple[TopicFigure, ...]
    """The top topics of the period, most appeals first."""
    municipalities: tuple[MunicipalityFigure, ...]
    """Municipalities with appeals, most appeals per 1,000 residents first."""
    fastest: tuple[AgencyFigure, ...]
    slowest: tuple[AgencyFigure, ...]
    """Slowest first."""
    days: tuple[DayFigure, ...]
    min_appeals_for_ranking: int
    quality: stats.Quality
    open_overdue: int
    """Appeals waiting for an agency past a deadline at the time of the figures."""
    residents: int = 0
    """People behind the period's appeals: authors and the residents who joined them."""
    joins: int = 0
    """Residents who joined the period's appeals."""
    most_joined: tuple[JoinedFigure, ...] = ()
    """The appeals the most residents joined in the period."""

    @property
    def empty(self) -> bool:
        return self.received == 0

    @property
    def answered_share(self) -> float:
        return self.answered / self.received if self.received else 0.0

    @property
    def solved_share(self) -> float:
        return self.solved / self.received if self.received else 0.0

    @property
    def main_topic(self) -> TopicFigure | None:
        return self.topics[0] if self.topics else None


async def build_figures(
    session: AsyncSession, catalogue: Catalogue, period: Period, now: datetime
) -> DigestFigures:
    """The figures of ``period``; clocks count as decided and overdue as of ``now``."""
    previous = period.previous()
    now_totals = await stats.totals(session, period.start, period.end, STATUSES)
    before_totals = await stats.totals(session, previous.start, previous.end, STATUSES)
    by_category = await stats.counts_by_category(session, period.start, period.end)
    by_category_before = await stats.counts_by_category(session, previous.start, previous.end)
    by_municipality = await stats.counts_by_municipality(session, period.start, period.end)
    agencies = await stats.agency_times(session, period.start, period.end)
    per_day = await stats.counts_by_day(session, period.day_boundaries())
    on_time_per_day = await stats.first_on_time_by_day(session, period.day_boundaries(), now)
    quality = await stats.quality(session, period.start, period.end, now, STATUSES)
    overdue = await stats.open_overdue(session, now, STATUSES)
    reviews = await moderation_stats.review_seconds(session, period.start, period.end)
    residents, joins = await stats.residents_behind(session, period.start, period.end)
    joined = await stats.most_joined(session, period.start, period.end, limit=MOST_JOINED)

    return DigestFigures(
        period=period,
        previous_period=previous,
        received=now_totals.received,
        received_before=before_totals.received,
        passed=now_totals.passed,
        passed_before=before_totals.passed,
        declined=now_totals.declined,
        declined_before=before_totals.declined,
        answered=now_totals.answered,
        solved=now_totals.solved,
        mean_response_s=now_totals.mean_response_s,
        median_response_s=now_totals.median_response_s,
        topics=_topics(catalogue, by_category, by_category_before),
        municipalities=_municipalities(catalogue, by_municipality),
        fastest=(ranked := _ranked_agencies(catalogue, agencies))[:RANKED_AGENCIES],
        slowest=tuple(reversed(ranked[RANKED_AGENCIES:]))[:RANKED_AGENCIES],
        days=tuple(
            DayFigure(day, count, decided, on_time)
            for day, count, (decided, on_time) in zip(period.days(), per_day, on_time_per_day, strict=True)
        ),
        min_appeals_for_ranking=catalogue.digest.min_appeals_for_ranking,
        quality=quality,
        open_overdue=overdue,
        reviewed=len(reviews),
        review_median_s=statistics.median(reviews) if reviews else None,
        residents=residents,
        joins=joins,
        most_joined=tuple(
            JoinedFigure(
                number=appeal_number(j.appeal_id, j.created_at),
                title=_title(catalogue, j.category_id),
                joined=j.joined,
                residents=1 + j.followers,
            )
            for j in joined
        ),
    )


def _title(catalogue: Catalogue, category_id: str) -> str:
    category = catalogue.category(category_id)
    return category.title if category else category_id


def _topics(catalogue: Catalogue, counts: dict[str, int], before: dict[str, int]) -> tuple[TopicFigure, ...]:
    def title(category_id: str) -> str:
        category = catalogue.category(category_id)
        return category.title if category is not None else category_id

    # Most appeals first; ties in the catalogue's order, so the text does not flicker.
    order = {c.id: n for n, c in enumerate(catalogue.categories)}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    return tuple(
        TopicFigure(category_id, title(category_id), count, before.get(category_id, 0))
        for category_id, count in ranked[:TOP_TOPICS]
    )


def _municipalities(catalogue: Catalogue, counts: dict[str, int]) -> tuple[MunicipalityFigure, ...]:
    """Most appeals per 1,000 residents first, only with enough appeals to mean something:
    one appeal in a small town would outrank five in the regional capital."""
    minimum = catalogue.digest.min_appeals_for_ranking
    figures = [
        MunicipalityFigure(m.id, m.name, counts[m.id], m.population)
        for m in catalogue.municipalities
        if counts.get(m.id, 0) >= minimum
    ]
    figures.sort(key=lambda f: -f.per_thousand)
    return tuple(figures[:RANKED_MUNICIPALITIES])


def _ranked_agencies(catalogue: Catalogue, rows: list[stats.AgencyTimes]) -> tuple[AgencyFigure, ...]:
    """Agencies with enough appeals to be fair, fastest median first; an agency that
    answered nothing is slower than any that answered."""
    minimum = catalogue.digest.min_appeals_for_ranking
    figures = []
    for row in rows:
        agency = catalogue.agency(row.agency_id)
        if agency is None or row.received < minimum:
            continue
        figures.append(
            AgencyFigure(agency.id, agency.name, row.received, row.answered, row.median_response_s)
        )
    infinity = float("inf")
    figures.sort(
        key=lambda f: (
            f.median_response_s if f.median_response_s is not None else infinity,
            -f.answered_share,
            f.agency_id,
        )
    )
    return tuple(figures)
