"""The weekly digest as the channel's readers and the admin chat see it, and its posting
exactly once whatever the processes do."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import tomllib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from matplotlib.axes import Axes
from sqlalchemy import select

from bot.telegram.render import CAPTION_LIMIT, plain_length
from digests.chart import draw, render_chart
from digests.cli import digest_cli
from digests.commands import digest_preview, stats_for
from digests.periods import iso_week
from digests.posting import build_digest, post_digest, post_due_digest
from digests.render import format_duration, format_int, visible_text
from digests.schedule import CATCH_UP_JOB_ID, WEEKLY_JOB_ID, register_digest_jobs
from handlers.catalogue import EXAMPLE_PATH, Catalogue, parse_catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.events import ChatRef, Reply, reply_from_json
from handlers.texts import Texts
from storage.db import Database
from storage.models import DigestPost, OutboxMessage
from tests.test_stats import MSK, RANKING_WEEK, WEEK_46, WEEK_47, Seed, catalogue_with, seed

CHANNEL = ChatRef.parse("telegram:-1001000000099")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def lines(reply_or_text: Reply | str) -> list[str]:
    text = reply_or_text.text if isinstance(reply_or_text, Reply) else reply_or_text
    return visible_text(text).splitlines()


async def digest_rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "digest"))
        return list(rows)


async def claims(db: Database) -> list[DigestPost]:
    async with db.read() as session:
        return list(await session.scalars(select(DigestPost).order_by(DigestPost.id)))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# -- what the digest says ---------------------------------------------------------------------


async def test_the_weeks_digest_reads_like_the_centres_posts(ctx: Context) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)

    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))

    assert lines(digest.text) == [
        "📊 Обращения жителей с 16 по 22 ноября",
        "",
        "Поступило обращений: 7 (+40 % к прошлой неделе)",
        "Передано в ведомства: 5 (+25 % к прошлой неделе)",
        "",
        "Главная тема — «Дороги»: 3 обращения.",
        "Самые частые темы",
        "1. Дороги — 3 (+200 %)",
        "2. ЖКХ — 2 (−33 %)",
        "3. Здравоохранение — 1 (ранее не было)",
        "4. Экология и отходы — 1 (ранее не было)",
        "",
        # 5 of 7 answered; 2 h, 4 h, 1 h, 30 min, 10 h: median 2 h, mean 3 h 30 min
        "Первый ответ получили 71 % обращений. "
        "Время первого ответа: медиана — 2 часа, в среднем — 3 часа 30 минут.",
        "Решено: 29 % обращений.",
        # first response: 1 of 3 decided on time; the answer: 2 of 3
        "В срок: первый ответ — 33 %, ответ по существу — 67 % "
        "(из тех, чей срок истёк или кому уже ответили).",
        "Сейчас просрочено: 1 обращение.",
        "Средняя оценка жителей: 3,5 из 5 (2 оценки).",
        # 2 closed by their residents of 5 answered, solved or closed
        "Жители подтвердили решение по 40 % обращений с ответом.",
    ]
    # No municipality and no agency had the 5 appeals a ranking needs: no rankings at all.
    assert "на 1 000 жителей" not in digest.text
    assert "Быстрее всех" not in digest.text
    assert plain_length(digest.text) <= CAPTION_LIMIT

    ranked = await build_digest(
        replace(ctx, catalogue=catalogue_with(min_appeals_for_ranking=1)),
        iso_week(2026, 47, ctx.catalogue.zone),
    )
    tail = lines(ranked.text)[lines(ranked.text).index("Обращений на 1 000 жителей") :]
    assert tail[:7] == [
        "Обращений на 1 000 жителей",
        "1. Котовск — 0,04",
        "2. Моршанск — 0,03",
        "3. Рассказово — 0,03",
        "4. Тамбов — 0,01",
        "5. Мичуринск — 0,01",
        "Муниципалитеты, где меньше 1 обращения, не ранжируются.",
    ]


async def test_agency_rankings_name_the_three_fastest_and_the_three_slowest(ctx: Context) -> None:
    await seed(ctx.db, RANKING_WEEK)

    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))

    text = lines(digest.text)
    start = text.index("Быстрее всех отвечают")
    assert text[start:] == [
        "Быстрее всех отвечают",
        "1. Министерство транспорта и дорожного хозяйства области — медиана 1 час, ответ на 100 %",
        "2. Управление ЖКХ и государственная жилищная инспекция — медиана 2 часа, ответ на 100 %",
        "3. Министерство здравоохранения области — медиана 3 часа, ответ на 100 %",
        "Дольше всех отвечают",
        "1. Управление по охране окружающей среды и природопользованию — ни одного ответа на 5 обращений",
        "2. Министерство социальной защиты и семейной политики — медиана 5 часов 30 минут, ответ на 80 %",
        "3. Министерство образования и науки области — медиана 4 часа, ответ на 100 %",
        "В рейтинге ведомства, получившие не меньше 5 обращений.",
    ]
    # The roads office answered its 4 appeals in a minute, but 4 is too few to rank.
    assert "Управление дорожного хозяйства" not in digest.text
    # With six agencies named in full the text no longer fits under a photo.
    assert plain_length(digest.text) > CAPTION_LIMIT


async def test_a_week_without_appeals_says_so_plainly(ctx: Context) -> None:
    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))

    assert lines(digest.text) == [
        "📊 Обращения жителей с 16 по 22 ноября",
        "",
        "Обращений за этот период не поступало.",
    ]
    assert png_size(digest.png) == (1000, 560)


async def test_names_from_the_catalogue_are_escaped(db: Database, clock: FrozenClock, texts: Texts) -> None:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["categories"][0]["title"] = "Дороги <и> мосты"
    catalogue = parse_catalogue(raw)
    ctx = Context(db=db, catalogue=catalogue, texts=texts, clock=clock)
    await seed(db, WEEK_47)

    digest = await build_digest(ctx, iso_week(2026, 47, catalogue.zone))

    assert "«Дороги &lt;и&gt; мосты»" in digest.text
    assert "Главная тема — «Дороги <и> мосты»: 3 обращения." in lines(digest.text)


def test_numbers_durations_and_plurals_in_russian(texts: Texts) -> None:
    assert format_int(1169) == "1\xa0169"
    assert format_int(1234567) == "1\xa0234\xa0567"
    assert format_duration(texts, 3 * 3600 + 20 * 60 + 59) == "3 часа 20 минут"
    assert format_duration(texts, 2 * 3600) == "2 часа"
    assert format_duration(texts, 45 * 60) == "45 минут"
    assert format_duration(texts, 20) == "меньше минуты"
    assert format_duration(texts, 2 * 86400 + 4 * 3600 + 59) == "2 дня 4 часа"
    assert format_duration(texts, 86400 + 6 * 3600) == "1 день 6 часов"
    assert format_duration(texts, 5 * 86400 + 21 * 3600 + 59 * 60) == "5 дней 21 час"

    def main_topic(count: int) -> str:
        return texts("digest-main-topic", title="Дороги", count=count, count_text=format_int(count))

    assert main_topic(1) == "Главная тема — <b>«Дороги»</b>: 1 обращение."
    assert main_topic(21) == "Главная тема — <b>«Дороги»</b>: 21 обращение."
    assert main_topic(3) == "Главная тема — <b>«Дороги»</b>: 3 обращения."
    assert main_topic(1169) == "Главная тема — <b>«Дороги»</b>: 1\xa0169 обращений."


def test_the_caption_limit_counts_what_telegram_counts() -> None:
    # Tags do not count; entities count as one character; the emoji as two UTF-16 units.
    assert plain_length("📊 <b>Итоги</b> &amp; цифры") == 2 + len(" Итоги & цифры")
    assert plain_length("<b>" + "я" * 1024 + "</b>") <= CAPTION_LIMIT
    assert plain_length("я" * 1025) > CAPTION_LIMIT


async def test_the_chart_is_a_png_of_sensible_size(ctx: Context) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47 + RANKING_WEEK)
    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))

    assert png_size(digest.png) == (1000, 560)
    assert 10_000 <= len(digest.png) <= 1_000_000
    # the same figures draw the same picture
    assert render_chart(ctx.texts, digest.figures) == digest.png


async def test_the_chart_draws_the_weeks_trend_of_first_responses_on_time(ctx: Context) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)
    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))
    assert [d.on_time_share for d in digest.figures.days][:4] == [1.0, 0.0, 0.0, None]

    drawn: list[tuple[list[float], list[float]]] = []
    original = Axes.plot

    def spy(ax: Axes, *args: Any, **kwargs: Any) -> Any:
        drawn.append((list(args[0]), list(args[1])))
        return original(ax, *args, **kwargs)

    with patch.object(Axes, "plot", spy):
        with_trend = render_chart(ctx.texts, digest.figures)
    # Monday 100 %, Tuesday and Wednesday 0 %; days with nothing decided are left out.
    assert drawn == [([0, 1, 2], [100.0, 0.0, 0.0])]
    no_decisions = tuple(replace(d, decided=0, on_time=0) for d in digest.figures.days)
    assert render_chart(ctx.texts, replace(digest.figures, days=no_decisions)) != with_trend


async def test_a_week_without_appeals_is_charted_as_one_line_not_as_empty_axes(ctx: Context) -> None:
    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))
    assert digest.figures.empty

    figure = draw(ctx.texts, digest.figures)

    assert figure.axes == [], "no axes with nothing on them"
    assert [t.get_text() for t in figure.texts] == ["С 16 ноября по 22 ноября обращений не было"]
    assert png_size(digest.png) == (1000, 560)
    assert digest.png == render_chart(ctx.texts, digest.figures)


async def test_a_week_with_appeals_is_charted_with_babels_days_on_the_axis(ctx: Context) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)
    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))

    figure = draw(ctx.texts, digest.figures)

    topics_ax, days_ax = figure.axes[:2]
    days = [label.get_text() for label in days_ax.get_xticklabels()]
    assert days == ["пн\n16.11", "вт\n17.11", "ср\n18.11", "чт\n19.11", "пт\n20.11", "сб\n21.11", "вс\n22.11"]
    assert topics_ax.get_yticklabels(), "the topics are named"


# -- posting exactly once ---------------------------------------------------------------------


async def test_the_digest_goes_to_the_channel_once_as_a_photo_with_caption(ctx: Context) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)
    # Tuesday 24 November, 12:00 in Moscow: Monday's 09:00 digest (week 47) is due.
    assert ctx.clock.now() == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    assert await post_due_digest(ctx) == [CHANNEL]
    assert await post_due_digest(ctx) == []

    (row,) = await digest_rows(ctx.db)
    assert (row.platform, row.chat_id) == ("telegram", "-1001000000099")
    reply = reply_from_json(row.payload)
    assert lines(reply)[0] == "📊 Обращения жителей с 16 по 22 ноября"
    (photo,) = reply.photos
    assert photo.ref == "digest-2026-W47.png"
    assert photo.url is not None and photo.url.startswith("data:image/png;base64,")
    assert png_size(base64.b64decode(photo.url.partition(",")[2]))[0] == 1000

    (claim,) = await claims(ctx.db)
    assert claim.outbox_id == row.id
    assert claim.channel == str(CHANNEL)
    assert claim.period_start == datetime(2026, 11, 15, 21, 0, tzinfo=UTC)


async def test_two_processes_on_one_database_post_once(
    database_url: str, catalogue: Catalogue, texts: Texts, clock: FrozenClock
) -> None:
    first = Context(Database(database_url), catalogue, texts, clock)
    second = Context(Database(database_url), catalogue, texts, clock)
    try:
        await seed(first.db, WEEK_47)
        results = await asyncio.gather(*(post_due_digest(c) for c in (first, second, first, second)))
        assert sorted(len(r) for r in results) == [0, 0, 0, 1]
        assert len(await digest_rows(first.db)) == 1
        assert len(await claims(second.db)) == 1
    finally:
        await first.db.dispose()
        await second.db.dispose()


async def test_a_restart_does_not_post_again(
    database_url: str, catalogue: Catalogue, texts: Texts, clock: FrozenClock
) -> None:
    before = Context(Database(database_url), catalogue, texts, clock)
    await post_due_digest(before)
    await before.db.dispose()

    clock.advance(timedelta(minutes=5))
    after = Context(Database(database_url), catalogue, texts, clock)
    try:
        assert await run_catch_up(after) == 0
        assert len(await digest_rows(after.db)) == 1
    finally:
        await after.db.dispose()


async def run_catch_up(ctx: Context, notify: Callable[[], None] | None = None) -> int:
    """Start a scheduler with the digest jobs as the bot does, wait for the start-up
    catch-up to finish, and return how many digests it queued."""
    before = len(await digest_rows(ctx.db))
    scheduler = AsyncIOScheduler()
    finished: asyncio.Future[JobExecutionEvent] = asyncio.get_running_loop().create_future()

    def on_job(event: JobExecutionEvent) -> None:
        if event.job_id == CATCH_UP_JOB_ID and not finished.done():
            finished.set_result(event)

    scheduler.add_listener(on_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    register_digest_jobs(scheduler, ctx, notify)
    scheduler.start()
    try:
        event = await asyncio.wait_for(finished, timeout=30)
    finally:
        scheduler.shutdown(wait=False)
    if event.exception is not None:
        raise event.exception
    return len(await digest_rows(ctx.db)) - before


async def test_after_downtime_over_monday_morning_the_start_posts_the_missing_digest(
    ctx: Context, clock: FrozenClock
) -> None:
    await seed(ctx.db, WEEK_47)
    # Down from Sunday to Wednesday 25 November, 14:00 Moscow time.
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    woken: list[str] = []

    assert await run_catch_up(ctx, notify=lambda: woken.append("outbox")) == 1

    (claim,) = await claims(ctx.db)
    assert claim.period_start == iso_week(2026, 47, ctx.catalogue.zone).start
    assert woken == ["outbox"]
    # and the next start finds nothing to do, and does not wake the sender
    assert await run_catch_up(ctx, notify=lambda: woken.append("again")) == 0
    assert woken == ["outbox"]


async def test_a_start_before_monday_nine_does_not_post_the_week_early(
    ctx: Context, clock: FrozenClock
) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)
    await post_digest(ctx, iso_week(2026, 46, ctx.catalogue.zone))  # last Monday's, done

    clock.set(datetime(2026, 11, 23, 8, 59, tzinfo=MSK))
    assert await run_catch_up(ctx) == 0

    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=MSK))
    assert await post_due_digest(ctx) == [CHANNEL]
    assert [c.period_start for c in await claims(ctx.db)] == [
        iso_week(2026, 46, ctx.catalogue.zone).start,
        iso_week(2026, 47, ctx.catalogue.zone).start,
    ]


async def test_two_schedulers_on_one_database_post_once(
    database_url: str, catalogue: Catalogue, texts: Texts, clock: FrozenClock
) -> None:
    contexts = [Context(Database(database_url), catalogue, texts, clock) for _ in range(2)]
    try:
        await seed(contexts[0].db, WEEK_47)
        queued = await asyncio.gather(*(run_catch_up(c) for c in contexts))
        assert len(await digest_rows(contexts[0].db)) == 1
        assert sum(queued) >= 1  # each counts rows it saw appear; only one row exists
        assert len(await claims(contexts[1].db)) == 1
    finally:
        for c in contexts:
            await c.db.dispose()


def test_the_weekly_job_fires_on_monday_at_nine_moscow_time(ctx: Context) -> None:
    scheduler = AsyncIOScheduler()
    register_digest_jobs(scheduler, ctx)
    job = scheduler.get_job(WEEKLY_JOB_ID)
    assert job is not None

    thursday = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    fire = job.trigger.get_next_fire_time(None, thursday)
    assert fire == datetime(2026, 11, 23, 9, 0, tzinfo=MSK)
    assert fire.astimezone(UTC) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    # and a week after that
    assert job.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=MSK
    )


def test_the_posting_time_comes_from_the_catalogue(db: Database, texts: Texts, clock: FrozenClock) -> None:
    catalogue = catalogue_with(day_of_week="fri", hour=18, minute=30)
    scheduler = AsyncIOScheduler()
    register_digest_jobs(scheduler, Context(db, catalogue, texts, clock))
    job = scheduler.get_job(WEEKLY_JOB_ID)
    assert job is not None
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 11, 19, 12, 0, tzinfo=UTC))
    assert fire == datetime(2026, 11, 20, 18, 30, tzinfo=MSK)


# -- /digest, /stats and the command line -------------------------------------------------------


async def test_digest_in_the_admin_chat_previews_this_week_without_posting(
    ctx: Context, clock: FrozenClock
) -> None:
    this_week = [Seed(datetime(2026, 11, 23, 10, tzinfo=MSK)), Seed(datetime(2026, 11, 24, 10, tzinfo=MSK))]
    await seed(ctx.db, WEEK_47 + this_week)
    clock.set(datetime(2026, 11, 25, 14, 0, tzinfo=MSK))

    (reply,) = await digest_preview(ctx)

    text = lines(reply)
    assert text[:2] == [
        "📊 Обращения жителей с 23 по 25 ноября",
        "Неделя ещё не закончилась: цифры на сегодня.",
    ]
    # Monday to Wednesday 14:00 of last week: 4 appeals (Mon 00:00, Mon 10:00, Tue, Wed 09:00)
    assert "Поступило обращений: 2 (−50 % к прошлой неделе)" in text
    assert reply.photos and reply.photos[0].ref == "digest-2026-11-23_2026-11-25.png"
    assert await digest_rows(ctx.db) == []


async def test_stats_for_a_week_a_date_range_and_nonsense(ctx: Context) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)

    (week,) = await stats_for(ctx, "2026-W47")
    assert "Поступило обращений: 7 (+40 % к прошлой неделе)" in lines(week)
    assert "Неделя ещё не закончилась: цифры на сегодня." not in lines(week)

    # Seven days are compared with the seven before: a week.
    (days,) = await stats_for(ctx, "2026-11-16 2026-11-22")
    assert lines(days)[0] == "📊 Обращения жителей с 16 по 22 ноября"
    assert "Поступило обращений: 7 (+40 % к прошлой неделе)" in lines(days)

    # 13-22 November: week 47's 7 and Sunday 15th 23:59; against 3-12 November: 4
    (ten,) = await stats_for(ctx, "2026-11-13 2026-11-22")
    assert "Поступило обращений: 8 (+100 % к предыдущему периоду)" in lines(ten)

    (month,) = await stats_for(ctx, "2026-10-26 2026-11-22")
    assert lines(month)[0] == "📊 Обращения жителей с 26 октября по 22 ноября"
    assert "Поступило обращений: 12 (в предыдущем периоде — ни одного)" in lines(month)

    for nonsense in ("завтра", "2026-11-22 2026-11-16", "2026-W60", "2026-01-01 2026-12-31", "1 2 3"):
        (usage,) = await stats_for(ctx, nonsense)
        assert lines(usage)[0] == "Команда /stats показывает цифры дайджеста за любой период:", nonsense
        assert not usage.photos
    assert await digest_rows(ctx.db) == []


async def test_the_command_line_prints_writes_the_chart_and_posts_once(ctx: Context, tmp_path: Path) -> None:
    await seed(ctx.db, WEEK_46 + WEEK_47)
    out = io.StringIO()
    chart = tmp_path / "w47.png"

    assert await digest_cli(ctx, "2026-W47", chart, False, out) == 0
    printed = out.getvalue()
    assert printed.startswith("📊 Обращения жителей с 16 по 22 ноября\n")
    assert "<b>" not in printed
    assert png_size(chart.read_bytes()) == (1000, 560)
    assert await digest_rows(ctx.db) == []

    out = io.StringIO()
    assert await digest_cli(ctx, "2026-W47", chart, True, out) == 0
    assert "telegram:-1001000000099: queued for posting" in out.getvalue()
    out = io.StringIO()
    assert await digest_cli(ctx, "2026-W47", chart, True, out) == 0
    assert "telegram:-1001000000099: already posted before, not again" in out.getvalue()
    assert len(await digest_rows(ctx.db)) == 1
    # the scheduled run on Monday finds the week posted
    assert await post_due_digest(ctx) == []

    out = io.StringIO()
    assert await digest_cli(ctx, "47", None, False, out) == 2
    assert out.getvalue().startswith("error: expected a week like 2026-W47")


@pytest.mark.parametrize("args", ["2026-12-28 2027-01-03", "2026-W53"])
async def test_a_week_across_new_year_names_both_years(ctx: Context, args: str) -> None:
    (reply,) = await stats_for(ctx, args)
    assert lines(reply)[0] == "📊 Обращения жителей с 28 декабря 2026\u202fг. по 3 января 2027\u202fг."
