"""The digest's chart: top topics this period against the one before, and appeals per day.

Drawn on a bare ``Figure`` with the Agg canvas (no pyplot, no global figure registry), in
DejaVu Sans, which ships with matplotlib and covers Cyrillic. Rendering takes a lock: the
text measurement caches inside matplotlib are not meant for concurrent threads.
"""

from __future__ import annotations

import base64
import io
import threading
from datetime import date
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from digests.figures import DigestFigures
from handlers import dates
from handlers.events import Media, MediaKind, Platform
from handlers.texts import Texts

_LOCK = threading.Lock()
_FONT = "DejaVu Sans"
_CURRENT = "#2b6cb0"
_PREVIOUS = "#a0aec0"
_ON_TIME = "#2f855a"


def render_chart(texts: Texts, figures: DigestFigures) -> bytes:
    """PNG bytes, about 1000 x 560 pixels."""
    with _LOCK:
        buffer = io.BytesIO()
        draw(texts, figures).savefig(buffer, format="png", facecolor="white")
        return buffer.getvalue()


def draw(texts: Texts, figures: DigestFigures) -> Figure:
    """The chart as a figure. A period without a single appeal, now or in the period
    before, has nothing to plot: it is drawn as one line of text, with no empty axes."""
    if not any(d.count for d in figures.days) and not any(t.count or t.previous for t in figures.topics):
        return _nothing(texts, figures)
    return _plot(texts, figures)


def _nothing(texts: Texts, figures: DigestFigures) -> Figure:
    figure = Figure(figsize=(10, 5.6), dpi=100)
    FigureCanvasAgg(figure)
    period = figures.period
    figure.text(
        0.5,
        0.5,
        texts("digest-chart-empty", first=_day(texts, period.first_day), last=_day(texts, period.last_day)),
        ha="center",
        va="center",
        fontfamily=_FONT,
        fontsize=20,
        color=_PREVIOUS,
    )
    return figure


def _day(texts: Texts, day: date) -> str:
    return dates.day_and_month(day, texts.locale)


def _plot(texts: Texts, figures: DigestFigures) -> Figure:
    weekly = figures.period.shift_days == 7
    current = texts("digest-chart-current-week" if weekly else "digest-chart-current-period")
    previous = texts("digest-chart-previous-week" if weekly else "digest-chart-previous-period")

    figure = Figure(figsize=(10, 5.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    topics_ax, days_ax = figure.subplots(1, 2, width_ratios=(1.1, 1))

    topics = list(reversed(figures.topics))
    topics_ax.set_title(texts("digest-chart-topics"), fontfamily=_FONT, fontsize=13)
    if topics:
        rows = range(len(topics))
        height = 0.38
        now_bars = topics_ax.barh(
            [r + height / 2 for r in rows], [t.count for t in topics], height, label=current, color=_CURRENT
        )
        topics_ax.barh(
            [r - height / 2 for r in rows],
            [t.previous for t in topics],
            height,
            label=previous,
            color=_PREVIOUS,
        )
        topics_ax.bar_label(now_bars, padding=3, fontfamily=_FONT, fontsize=9)
        topics_ax.set_yticks(list(rows), [_wrap(t.title) for t in topics], fontfamily=_FONT, fontsize=10)
        topics_ax.legend(loc="lower right", prop={"family": _FONT, "size": 9})
        topics_ax.margins(x=0.15)
    else:
        _say_empty(topics_ax, texts("digest-chart-no-appeals"))

    days_ax.set_title(texts("digest-chart-days"), fontfamily=_FONT, fontsize=13)
    locale = texts.locale
    labels = [f"{dates.weekday(d.day, locale)}\n{dates.short_day(d.day, locale)}" for d in figures.days]
    counts = [d.count for d in figures.days]
    bars = days_ax.bar(range(len(counts)), counts, color=_CURRENT)
    if len(counts) <= 14:
        days_ax.set_xticks(range(len(counts)), labels, fontfamily=_FONT, fontsize=9)
        days_ax.bar_label(bars, padding=2, fontfamily=_FONT, fontsize=9)
    else:
        step = max(1, len(counts) // 10)
        ticks = list(range(0, len(counts), step))
        days_ax.set_xticks(ticks, [labels[t] for t in ticks], fontfamily=_FONT, fontsize=8)
    if not any(counts):
        _say_empty(days_ax, texts("digest-chart-no-appeals"))
    days_ax.set_ylim(bottom=0, top=max([*counts, 1]) * 1.15)
    days_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _draw_on_time(texts, figures, days_ax)
    topics_ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    for ax in (topics_ax, days_ax):
        ax.spines[["top", "right"]].set_visible(False)
        for label in ax.get_xticklabels() + ax.get_yticklabels():
            label.set_fontfamily(_FONT)

    return figure


def _draw_on_time(texts: Texts, figures: DigestFigures, days_ax: Any) -> None:
    """The week's trend of first responses on time: a line over the day bars (percent of
    the day's decided clocks, on its own axis); days with nothing decided are gaps."""
    shares = [d.on_time_share for d in figures.days]
    if all(share is None for share in shares):
        return
    on_time_ax = days_ax.twinx()
    points = [(n, share * 100) for n, share in enumerate(shares) if share is not None]
    xs, ys = zip(*points, strict=True)
    on_time_ax.plot(xs, ys, color=_ON_TIME, marker="o", linewidth=2, label=texts("digest-chart-on-time"))
    on_time_ax.set_ylim(0, 110)
    on_time_ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    on_time_ax.spines[["top"]].set_visible(False)
    on_time_ax.legend(loc="upper left", prop={"family": _FONT, "size": 9})
    for label in on_time_ax.get_yticklabels():
        label.set_fontfamily(_FONT)


def _wrap(title: str, width: int = 18) -> str:
    words, lines, line = title.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _say_empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontfamily=_FONT)


def chart_media(png: bytes, platform: Platform, key: str) -> Media:
    """The chart as a photo the transports upload from a ``data:`` url."""
    encoded = base64.b64encode(png).decode("ascii")
    return Media(
        kind=MediaKind.PHOTO,
        platform=platform,
        ref=f"digest-{key}.png",
        url=f"data:image/png;base64,{encoded}",
    )
