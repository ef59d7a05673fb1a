"""The digest as the channel's subscribers see it: the real app against the fake Telegram."""

from __future__ import annotations

import pytest

from digests.posting import post_due_digest
from tests.support.telegram import Telegram, TelegramBot
from tests.test_stats import RANKING_WEEK, WEEK_46, WEEK_47, seed

CHANNEL_ID = -1001000000099
ADMINS = -1001000000000


@pytest.mark.telegram_bot(jobs=True)
async def test_the_bot_starting_after_monday_morning_posts_the_missing_digest_once(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    channel = tg.channel(CHANNEL_ID)
    # The clock says Tuesday 24 November, 12:00 in Moscow: Monday's digest was missed.
    post = await channel.expect_message()

    assert post.has_photo
    assert post.text == "📊 Обращения жителей с 16 по 22 ноября\n\nОбращений за этот период не поступало."

    app = await telegram_bot.restart()
    # Whatever the start-up catch-up of the second run did, the cron job firing again
    # finds the week posted.
    assert await post_due_digest(app.ctx, app.notify) == []
    assert [m.message_id for m in channel.messages] == [post.message_id]


async def test_a_digest_too_long_for_a_caption_comes_as_the_chart_then_the_text(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    app = telegram_bot.app
    assert app is not None
    await seed(app.ctx.db, WEEK_46 + WEEK_47 + RANKING_WEEK)
    channel = tg.channel(CHANNEL_ID)

    assert [str(c) for c in await post_due_digest(app.ctx, app.notify)] == [f"telegram:{CHANNEL_ID}"]

    chart = await channel.expect_message()
    text = await channel.expect_message()
    assert chart.has_photo and chart.text == ""
    assert text.text.startswith("📊 Обращения жителей с 16 по 22 ноября\n\nПоступило обращений: 41")
    assert "Дольше всех отвечают" in text.text
    assert "<b>Самые частые темы</b>" in text.html


async def test_stats_in_the_admin_chat_show_deadlines_kept_ratings_and_confirmations(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    app = telegram_bot.app
    assert app is not None
    await seed(app.ctx.db, WEEK_46 + WEEK_47)
    admins = tg.group(ADMINS)
    admin = tg.user(7001, "Дежурный ЦУР")

    await admins.send("/stats 2026-W47", from_user=admin)

    stats = await admins.expect_message(contains="Обращения жителей с 16 по 22 ноября")
    assert stats.has_photo
    assert "В срок: первый ответ — 33 %, ответ по существу — 67 % (из тех, чей срок истёк" in stats.text
    assert "Сейчас просрочено: 1 обращение." in stats.text
    assert "Средняя оценка жителей: 3,5 из 5 (2 оценки)." in stats.text
    assert "Жители подтвердили решение по 40 % обращений с ответом." in stats.text
    assert "на 1 000 жителей" not in stats.text, "no municipality has the 5 appeals a ranking needs"
    await telegram_bot.settled()
    admins.assert_nothing_new()
    tg.channel(CHANNEL_ID).assert_nothing_new()
