"""``appeals digest --week W --post``: a finished week only (or ``--partial``, which never
stands in for the weekly post), delivered once, by the running bot or by the command."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from bot.config import Settings, TelegramSettings
from bot.post_now import deliver
from digests.cli import digest_cli
from digests.posting import post_due_digest
from handlers.clock import FrozenClock
from handlers.context import Context
from storage.models import OutboxMessage
from tests.support.telegram import Telegram, TelegramBot
from tests.test_stats import WEEK_46, WEEK_47, seed

CHANNEL_ID = -1001000000099


def telegram_settings(tg: Telegram) -> Settings:
    return Settings(
        telegram=TelegramSettings(bot_token=SecretStr(tg.server.token), api_base=tg.server.base_url)
    )


async def outbox_rows(ctx: Context) -> list[OutboxMessage]:
    async with ctx.db.read() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_week_not_over_is_refused_and_partial_does_not_stand_in_for_it(
    ctx: Context, clock: FrozenClock, tmp_path: Path
) -> None:
    # Tuesday 24 November 2026: week 48 has begun.
    out, err = io.StringIO(), io.StringIO()
    code = await digest_cli(ctx, "2026-W48", tmp_path / "c.png", True, out, stderr=err)
    assert code == 2
    (line,) = err.getvalue().splitlines()
    assert line.startswith("error: 2026-W48 is not over until 2026-11-30 00:00 (Europe/Moscow)")
    assert "--partial" in line
    assert out.getvalue() == "" and not (tmp_path / "c.png").exists()
    assert await outbox_rows(ctx) == []

    out = io.StringIO()
    assert await digest_cli(ctx, "2026-W48", tmp_path / "c.png", True, out, partial=True) == 0
    (partial,) = await outbox_rows(ctx)
    assert "Неделя ещё не закончилась" in partial.payload["text"]
    assert "Неделя ещё не закончилась" in out.getvalue()

    # Monday 30 November, 09:00 Moscow: the weekly post of week 48 still comes, once.
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    assert [str(c) for c in await post_due_digest(ctx)] == [f"telegram:{CHANNEL_ID}"]
    weekly = (await outbox_rows(ctx))[-1]
    assert weekly.id != partial.id and "Неделя ещё не закончилась" not in weekly.payload["text"]

    err = io.StringIO()
    assert await digest_cli(ctx, "2026-W47", None, True, io.StringIO(), partial=True, stderr=err) == 2
    assert "is over: post it without --partial" in err.getvalue()


async def test_with_no_bot_running_the_command_posts_it_once(
    tg: Telegram, ctx: Context, tmp_path: Path
) -> None:
    tg.add_catalogue_chats(ctx.catalogue)
    await seed(ctx.db, WEEK_46 + WEEK_47)
    settings = telegram_settings(tg)
    channel = tg.channel(CHANNEL_ID)

    out = io.StringIO()
    code = await digest_cli(
        ctx,
        "2026-W47",
        tmp_path / "w47.png",
        True,
        out,
        deliver=lambda queued: deliver(settings, ctx, queued, out),
    )
    assert code == 0
    post = await channel.expect_message()
    assert post.has_photo
    assert f"telegram:{CHANNEL_ID}: posted by this command, message {post.message_id}\n" in out.getvalue()
    assert "a bot is running" not in out.getvalue()

    out = io.StringIO()
    again = await digest_cli(
        ctx,
        "2026-W47",
        tmp_path / "again.png",
        True,
        out,
        deliver=lambda queued: deliver(settings, ctx, queued, out),
    )
    assert again == 0
    assert f"telegram:{CHANNEL_ID}: already posted before, not again" in out.getvalue()
    assert [m.message_id for m in channel.messages] == [post.message_id]
    assert [c.method for c in tg.server.calls if c.method.startswith("send")] == ["sendPhoto"]


async def test_with_a_bot_running_its_sender_posts_it_and_the_command_says_so(
    tg: Telegram, telegram_bot: TelegramBot, tmp_path: Path
) -> None:
    app = telegram_bot.app
    assert app is not None
    await seed(app.ctx.db, WEEK_46 + WEEK_47)
    channel = tg.channel(CHANNEL_ID)
    settings = telegram_settings(tg)
    calls_before = len(tg.server.calls)

    out = io.StringIO()
    code = await digest_cli(
        app.ctx,
        "2026-W47",
        tmp_path / "w47.png",
        True,
        out,
        deliver=lambda queued: deliver(settings, app.ctx, queued, out, poll=0.05),
    )
    assert code == 0
    post = await channel.expect_message()
    printed = out.getvalue()
    assert "a bot is running: waiting for its sender to post to telegram" in printed
    assert f"telegram:{CHANNEL_ID}: posted by the running bot, message {post.message_id}\n" in printed
    # The command opened no Telegram session of its own: the only calls are the bot's.
    assert "getMe" not in [c.method for c in tg.server.calls[calls_before:]]
    assert [m.message_id for m in channel.messages] == [post.message_id]
