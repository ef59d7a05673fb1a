"""The wiring, in one async context manager: resources opened in order, closed in reverse.

settings → logging → database (migrated) → catalogue → context and core → transports and
channels (Telegram, VK: whichever tokens are configured) → the outbox sender → the scheduler
with its jobs (weekly digest, deadline checks, retention). ``async with open_app(settings) as app``
runs all of it; leaving the block stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.capabilities import ADAPTERS
from bot.config import ConfigurationError, Settings
from bot.logging import configure_logging
from bot.media import MediaRegistry
from bot.ratelimit import TELEGRAM_LIMITS, VK_LIMITS, Limits, RateLimiter
from bot.runtime import Runtime
from bot.sender import OutboxSender
from bot.supervision import Supervisor
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.polling import TelegramPolling
from bot.telegram.transport import TelegramTransport, check_token, make_bot
from bot.telegram.webhook import TelegramWebhook, check_secret
from bot.transport import Transport
from digests.commands import DigestReports
from digests.schedule import register_digest_jobs
from handlers.catalogue import Catalogue, load_catalogue
from handlers.clock import Clock, SystemClock
from handlers.context import Context
from handlers.core import Core
from handlers.deadlines import check_deadlines
from handlers.events import Platform
from handlers.moderation import check_moderation
from handlers.privacy import register_retention_job
from handlers.texts import Texts
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

JobRegistration = Callable[[AsyncIOScheduler, Context, Callable[[], None]], None]


class Channel(Protocol):
    """A way updates come in (Telegram polling or webhook, VK long poll): each owns a
    ``bot.runtime.Runtime`` and is started and stopped by the app."""

    async def start(self) -> None: ...

    async def stop(self, *, grace: float = 10.0) -> None: ...


@dataclass(slots=True)
class App:
    settings: Settings
    ctx: Context
    core: Core
    transports: dict[Platform, Transport] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    media: MediaRegistry = field(default_factory=MediaRegistry)
    sender: OutboxSender | None = None
    sender_task: asyncio.Task[None] | None = None
    scheduler: AsyncIOScheduler | None = None
    telegram: TelegramPolling | TelegramWebhook | None = None
    supervisor: Supervisor = field(default_factory=Supervisor)
    """Keeps every loop alive and logs the health line; ``supervisor.fatal`` is set when a
    loop cannot be kept alive (``appeals run`` then exits non-zero)."""

    def notify(self) -> None:
        """Something may have been queued in the outbox: wake the sender."""
        if self.sender is not None:
            self.sender.notify()


def deadline_jobs(scheduler: AsyncIOScheduler, ctx: Context, notify: Callable[[], None]) -> None:
    """Check appeals' deadlines (reminders, escalations) every minute."""

    async def run() -> None:
        try:
            await check_deadlines(ctx)
            await check_moderation(ctx)
        except Exception:
            log.exception("deadline check failed")
            return
        notify()

    scheduler.add_job(run, "interval", minutes=1, id="deadlines", coalesce=True, max_instances=1)


DEFAULT_JOBS: tuple[JobRegistration, ...] = (register_digest_jobs, deadline_jobs, register_retention_job)


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    catalogue: Catalogue | None = None,
    texts: Texts | None = None,
    setup_logging: bool = True,
    jobs: tuple[JobRegistration, ...] | None = DEFAULT_JOBS,
    run_sender: bool = True,
    telegram_limits: Limits = TELEGRAM_LIMITS,
) -> AsyncIterator[App]:
    """Start everything ``settings`` configures; stop it all when the block ends.

    A :class:`handlers.catalogue.CatalogueError` stops the start with its message. ``jobs``
    None runs no scheduler (tests drive digests and deadlines themselves)."""
    if setup_logging:
        configure_logging(settings.log_level, settings.log_format)
    async with AsyncExitStack() as stack:
        await upgrade(settings.database_url)
        db = Database(settings.database_url)
        stack.push_async_callback(db.dispose)
        if catalogue is None:
            catalogue = load_catalogue(settings.catalogue_path)
        ctx = Context(
            db=db,
            catalogue=catalogue,
            texts=texts or Texts(),
            clock=clock or SystemClock(),
            capabilities=ADAPTERS,
            reports=DigestReports(),
            retention=settings.retention(),
        )
        app = App(
            settings=settings,
            ctx=ctx,
            core=Core(ctx),
            supervisor=Supervisor(health_interval=settings.health_interval),
        )
        stack.push_async_callback(app.supervisor.stop)
        http = aiohttp.ClientSession()
        stack.push_async_callback(http.close)

        await _add_telegram(app, stack, http, telegram_limits)
        await _add_vk(app)

        if run_sender and app.transports:
            sender = app.sender = OutboxSender(
                db, app.transports, ctx, concurrency=settings.outbox_concurrency
            )
            sender_task = app.supervisor.spawn(
                "outbox-sender",
                sender.run,
                heartbeat=sender.heartbeat,
                should_run=lambda: not sender.stopping,
            )
            app.sender_task = sender_task
            stack.push_async_callback(_stop_sender, sender, sender_task)

        for channel in app.channels:
            await channel.start()
            stack.push_async_callback(channel.stop)

        if jobs is not None:
            scheduler = AsyncIOScheduler(timezone=catalogue.region.timezone)
            for register in jobs:
                register(scheduler, ctx, app.notify)
            scheduler.start()
            app.scheduler = scheduler
            stack.callback(scheduler.shutdown, wait=False)

        app.supervisor.start_health()

        log.info(
            "app started",
            extra={"platforms": [p.value for p in app.transports], "sender": app.sender is not None},
        )
        yield app
        log.info("app stopping")


async def _add_telegram(app: App, stack: AsyncExitStack, http: aiohttp.ClientSession, limits: Limits) -> None:
    settings = app.settings.telegram
    if settings.bot_token is None:
        return
    if settings.mode == "webhook":
        _check_webhook_settings(app.settings)
    bot = make_bot(settings.bot_token.get_secret_value(), settings.api_base)
    stack.push_async_callback(bot.session.close)
    username = await check_token(bot)
    log.info("telegram bot @%s", username)
    transport = TelegramTransport(bot, RateLimiter(limits), http, media=app.media)
    app.media.register(Platform.TELEGRAM, transport.fetch)
    app.transports[Platform.TELEGRAM] = transport
    runtime = Runtime(
        TelegramAdapter(bot),
        app.core,
        app.ctx,
        callbacks=transport,
        on_committed=app.notify,
        max_starts=app.settings.update_max_starts,
        concurrency=app.settings.update_concurrency,
        supervisor=app.supervisor,
    )
    if settings.mode == "webhook":
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        app.telegram = TelegramWebhook(
            bot,
            runtime,
            url=settings.webhook_url,
            secret=settings.webhook_secret.get_secret_value(),
            host=settings.webhook_host,
            port=settings.webhook_port,
            path=settings.webhook_path,
        )
    else:
        app.telegram = TelegramPolling(
            bot, http, runtime, poll_timeout=settings.poll_timeout, supervisor=app.supervisor
        )
    app.channels.append(app.telegram)


def _check_webhook_settings(settings: Settings) -> None:
    telegram = settings.telegram
    if not telegram.webhook_url:
        raise ConfigurationError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL (the public https URL)")
    if telegram.webhook_secret is None:
        raise ConfigurationError(
            "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -)"
        )
    problem = check_secret(telegram.webhook_secret.get_secret_value())
    if problem is not None:
        raise ConfigurationError(f"TELEGRAM_WEBHOOK_SECRET {problem}")


async def _add_vk(app: App) -> None:
    if app.settings.vk.group_token is None:
        return
    if app.settings.vk.mode == "callback":
        _check_vk_callback_settings(app.settings)
    from bot.vk.runner import VkRunner  # imported only when VK is configured

    runner = VkRunner(
        app.settings,
        app.core,
        app.ctx.db,
        media=app.media,
        limiter=RateLimiter(VK_LIMITS),
        on_committed=app.notify,
        max_starts=app.settings.update_max_starts,
        supervisor=app.supervisor,
    )
    app.transports[Platform.VK] = runner.transport
    app.channels.append(runner)


def _check_vk_callback_settings(settings: Settings) -> None:
    vk = settings.vk
    if vk.confirmation_code is None or not vk.confirmation_code.get_secret_value():
        raise ConfigurationError(
            "VK_MODE=callback needs VK_CONFIRMATION_CODE"
            " (the string the community's Callback API settings show)"
        )
    if vk.callback_secret is None or not vk.callback_secret.get_secret_value():
        raise ConfigurationError(
            "VK_MODE=callback needs VK_CALLBACK_SECRET"
            " (the secret key set in the community's Callback API settings)"
        )


async def _stop_sender(sender: OutboxSender, task: asyncio.Task[None], grace: float = 10.0) -> None:
    """Let deliveries in flight be recorded (nothing resent after a restart); cancel only
    when they take longer than ``grace``."""
    sender.stop()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
