"""The digest's text, in Russian, from ``handlers/locales/ru/digest.ftl``.

Numbers, decimals, durations and dates are formatted by Babel (CLDR's Russian): «1 169», «2,1»,
«1 день 6 часов», «3 часа 20 минут»; changes are signed percents («+12 %», «−5 %»).
"""

from __future__ import annotations

import decimal
import html
import re

from babel import numbers, units

from digests.figures import AgencyFigure, DigestFigures
from digests.periods import Period
from handlers import dates
from handlers.texts import Safe, Texts

LOCALE = "ru"


def format_int(value: int) -> str:
    """``1 169`` (Babel, CLDR's Russian digit grouping)."""
    return numbers.format_decimal(value, locale=LOCALE)


def format_decimal(value: float, digits: int = 1) -> str:
    """``0,55`` (Babel, CLDR's Russian decimal comma), halves rounded up as people do."""
    with decimal.localcontext(rounding=decimal.ROUND_HALF_UP):
        return numbers.format_decimal(value, format=f"#,##0.{'0' * digits}", locale=LOCALE)


def percent(part: int, whole: int) -> int:
    """A share in whole percent, rounded half up."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def change_percent(now: int, before: int) -> int | None:
    """Signed change in whole percent (rounded half away from zero); None without a base."""
    if before == 0:
        return None
    delta = now - before
    sign = 1 if delta >= 0 else -1
    return sign * ((200 * abs(delta) + before) // (2 * before))


def format_change(texts: Texts, now: int, before: int) -> str:
    change = change_percent(now, before)
    if change is None:
        return texts("digest-change-new")
    if change > 0:
        return texts("digest-change-up", percent=format_int(change))
    if change < 0:
        return texts("digest-change-down", percent=format_int(-change))
    return texts("digest-change-same")


def format_duration(texts: Texts, seconds: float) -> str:
    """``1 день 6 часов``, ``3 часа 30 минут``: the two largest units, in words (Babel's
    CLDR unit names, declined by number)."""
    minutes_total = int(seconds // 60)
    if minutes_total < 1:
        return texts("digest-duration-instant")
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = (
        [(days, "duration-day"), (hours, "duration-hour")]
        if days
        else [
            (hours, "duration-hour"),
            (minutes, "duration-minute"),
        ]
    )
    return " ".join(
        units.format_unit(value, unit, length="long", locale=texts.locale) for value, unit in parts if value
    )


def format_period(texts: Texts, period: Period) -> str:
    """``за 2 декабря``, ``с 23 по 29 ноября``, ``с 30 ноября по 6 декабря``, ``с 28 декабря
    2026 г. по 3 января 2027 г.``: Babel's dates, the year only when the period spans two."""
    first, last, locale = period.first_day, period.last_day, texts.locale
    if first == last:
        return texts("digest-period-day", day=dates.day_and_month(first, locale))
    if first.year != last.year:
        start, end = dates.day_month_year(first, locale), dates.day_month_year(last, locale)
    elif first.month != last.month:
        start, end = dates.day_and_month(first, locale), dates.day_and_month(last, locale)
    else:
        start, end = numbers.format_decimal(first.day, locale=locale), dates.day_and_month(last, locale)
    return texts("digest-period-span", first=start, last=end)


def render_digest(texts: Texts, figures: DigestFigures, *, preview: bool = False) -> str:
    """The digest as HTML (bold headers only; every name is escaped by ``texts``)."""
    blocks: list[list[str]] = [[texts("digest-title", period=Safe(format_period(texts, figures.period)))]]
    if preview:
        blocks[0].append(texts("digest-preview-note"))
    if figures.empty:
        blocks.append([texts("digest-empty")])
        return _join(blocks)

    weekly = figures.period.shift_days == 7

    def versus(now: int, before: int) -> Safe:
        if before == 0:
            return Safe(texts("digest-vs-week-zero" if weekly else "digest-vs-period-zero"))
        key = "digest-vs-week" if weekly else "digest-vs-period"
        return Safe(texts(key, change=Safe(format_change(texts, now, before))))

    blocks.append(
        [
            texts(
                "digest-received",
                count=format_int(figures.received),
                change=versus(figures.received, figures.received_before),
            ),
            texts(
                "digest-passed",
                count=format_int(figures.passed),
                change=versus(figures.passed, figures.passed_before),
            ),
        ]
    )
    if figures.declined or figures.declined_before:
        # Only where the centre moderates: elsewhere every appeal is passed on.
        blocks[-1].append(
            texts(
                "digest-declined",
                count=format_int(figures.declined),
                change=versus(figures.declined, figures.declined_before),
            )
        )

    if figures.joins:
        # The same problem reported by many is counted once, with the people behind it.
        blocks[-1].append(
            texts(
                "digest-problems",
                problems=figures.received,
                problems_text=format_int(figures.received),
                residents=figures.residents,
                residents_text=format_int(figures.residents),
            )
        )
    if figures.most_joined:
        joined = [texts("digest-most-joined-header")]
        for place, item in enumerate(figures.most_joined, start=1):
            joined.append(
                texts(
                    "digest-most-joined-line",
                    place=str(place),
                    number=item.number,
                    title=item.title,
                    residents=item.residents,
                    residents_text=format_int(item.residents),
                )
            )
        blocks.append(joined)

    main = figures.main_topic
    if main is not None:
        topics = [
            texts("digest-main-topic", title=main.title, count=main.count, count_text=format_int(main.count)),
            texts("digest-topics-header"),
        ]
        for place, topic in enumerate(figures.topics, start=1):
            topics.append(
                texts(
                    "digest-topic-line",
                    place=str(place),
                    title=topic.title,
                    count=format_int(topic.count),
                    change=Safe(format_change(texts, topic.count, topic.previous)),
                )
            )
        blocks.append(topics)

    answers: list[str] = []
    if figures.answered and figures.median_response_s is not None and figures.mean_response_s is not None:
        answers.append(
            texts(
                "digest-answers",
                share=str(percent(figures.answered, figures.received)),
                median=format_duration(texts, figures.median_response_s),
                mean=format_duration(texts, figures.mean_response_s),
            )
        )
    else:
        answers.append(texts("digest-answers-none"))
    answers.append(texts("digest-solved", share=str(percent(figures.solved, figures.received))))
    if figures.reviewed and figures.review_median_s is not None:
        answers.append(
            texts(
                "digest-review",
                count=figures.reviewed,
                count_text=format_int(figures.reviewed),
                median=format_duration(texts, figures.review_median_s),
            )
        )
    answers.extend(_quality_lines(texts, figures))
    blocks.append(answers)

    if figures.municipalities:
        lines = [texts("digest-municipalities-header")]
        for place, municipality in enumerate(figures.municipalities, start=1):
            lines.append(
                texts(
                    "digest-municipality-line",
                    place=str(place),
                    name=municipality.name,
                    rate=format_decimal(municipality.per_thousand, 2),
                )
            )
        lines.append(texts("digest-municipalities-note", minimum=figures.min_appeals_for_ranking))
        blocks.append(lines)

    if figures.fastest:
        lines = [texts("digest-fastest-header")]
        lines += [_agency_line(texts, place, a) for place, a in enumerate(figures.fastest, start=1)]
        if figures.slowest:
            lines.append(texts("digest-slowest-header"))
            lines += [_agency_line(texts, place, a) for place, a in enumerate(figures.slowest, start=1)]
        lines.append(texts("digest-agencies-note", minimum=figures.min_appeals_for_ranking))
        blocks.append(lines)
    return _join(blocks)


def _quality_lines(texts: Texts, figures: DigestFigures) -> list[str]:
    """Deadlines kept (both clocks), what is overdue now, and what residents said."""
    quality = figures.quality
    lines: list[str] = []
    if quality.first_decided or quality.answer_decided:

        def share(on_time: int, decided: int) -> str:
            return texts("digest-share", share=str(percent(on_time, decided))) if decided else "—"

        lines.append(
            texts(
                "digest-on-time",
                first=Safe(share(quality.first_on_time, quality.first_decided)),
                answer=Safe(share(quality.answer_on_time, quality.answer_decided)),
            )
        )
    lines.append(
        texts("digest-overdue-open", count=figures.open_overdue, count_text=format_int(figures.open_overdue))
    )
    if quality.mean_rating is not None:
        lines.append(
            texts(
                "digest-rating",
                rating=format_decimal(quality.mean_rating, 1),
                count=quality.rated,
                count_text=format_int(quality.rated),
            )
        )
    if quality.settled:
        lines.append(texts("digest-confirmed", share=str(percent(quality.confirmed, quality.settled))))
    return lines


def _agency_line(texts: Texts, place: int, agency: AgencyFigure) -> str:
    if agency.median_response_s is None:
        return texts(
            "digest-agency-line-silent",
            place=str(place),
            name=agency.name,
            received=agency.received,
            received_text=format_int(agency.received),
        )
    return texts(
        "digest-agency-line",
        place=str(place),
        name=agency.name,
        median=format_duration(texts, agency.median_response_s),
        share=str(percent(agency.answered, agency.received)),
    )


def _join(blocks: list[list[str]]) -> str:
    return "\n\n".join("\n".join(block) for block in blocks)


_TAG = re.compile(r"<[^>]+>")


def visible_text(markup: str) -> str:
    """What a reader sees of our HTML subset: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", markup))
