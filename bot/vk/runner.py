"""Running the bot on VK: long poll in, the core in the middle, the VK transport out.

Events are handled as tasks in arrival order; one chat's events (a resident's private
chat, an agency conversation) are handled one at a time, so answers never overtake each
other. A reply that hits "too many requests" or a network fault is retried with the same
``random_id``, so VK shows it once. Every event is marked done in the inbox when handled;
events stored but not handled when the process stopped are handled at the next start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot import fallback
from bot.config import ConfigurationError, Settings
from bot.media import MediaRegistry
from bot.ratelimit import VK_LIMITS, RateLimiter
from bot.transport import PermanentFailure, RetryLater, TransientFailure
from bot.vk.api import VkApi, VkApiError, VkNetworkError
from bot.vk.callback import VkCallbackServer
from bot.vk.events import person_key, translate, update_key
from bot.vk.polling import PLATFORM, LongPoller
from bot.vk.transport import VkTransport, vk_media_fetcher
from handlers.events import Event, Platform, Reply, Response, response_from_json, response_to_json
from handlers.ordering import KeyedLock
from storage import inbox
from storage.db import Database
from storage.models import InboxUpdate
from storage.queues import QueueLocks, next_in_queue, queues_with_pending, store_in_queue

if TYPE_CHECKING:
    from handlers.core import Core

log = logging.getLogger(__name__)

_BUSY = frozenset({1, 6, 9, 10})
"""VK errors worth waiting out: unknown, too many requests, flood control, internal error."""


class VkRunner:
    """``await runner.start()`` ... ``await runner.stop()``; ``bot/app.py`` starts it when
    ``VK_GROUP_TOKEN`` is set."""

    def __init__(
        self,
        settings: Settings,
        core: Core,
        db: Database,
        transport: VkTransport | None = None,
        *,
        media: MediaRegistry | None = None,
        limiter: RateLimiter | None = None,
        delivery_attempts: int = 6,
        retry_base: float = 0.5,
        max_attempts: int = 3,
        rate_limit_retries: int = 100,
        on_handled: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.core = core
        self.db = db
        self._own_api = transport is None
        if transport is None:
            token = settings.vk.group_token
            if token is None:
                raise ValueError("VK_GROUP_TOKEN is not set")
            api = VkApi(
                token.get_secret_value(),
                api_base=settings.vk.api_base,
                version=settings.vk.api_version,
                limiter=limiter or RateLimiter(VK_LIMITS),
            )
            transport = VkTransport(api, media=media, texts=core.ctx.texts)
        self.transport = transport
        self.api = transport.api
        if not transport.media.knows(Platform.VK):
            transport.media.register(Platform.VK, vk_media_fetcher(self.api))
        self.delivery_attempts = delivery_attempts
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.rate_limit_retries = rate_limit_retries
        self.on_handled = on_handled
        """Called after each event is handled (the app wakes the outbox sender)."""
        self.stop_grace = 10.0
        self.group_id = settings.vk.group_id
        self.poller: LongPoller | None = None
        self.callback: VkCallbackServer | None = None
        """The Callback API endpoint (``VK_MODE=callback``) instead of the long poll."""
        self._queues = QueueLocks(db.url, size=min(settings.update_concurrency, 8))
        self._draining: set[str] = set()
        self._again: set[str] = set()
        self.sweep_interval = 30.0
        self._order = KeyedLock()
        self._slots = asyncio.Semaphore(settings.update_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._poll_task: asyncio.Task[None] | None = None
        self._names: OrderedDict[int, str] = OrderedDict()
        self.handled = 0

    async def start(self) -> None:
        group_id = await self._identify()
        if self.group_id is not None and self.group_id != group_id:
            raise ConfigurationError(
                f"VK_GROUP_ID={self.group_id}, but VK_GROUP_TOKEN belongs to community {group_id}: "
                f"set VK_GROUP_ID={group_id}, or leave it empty"
            )
        self.group_id = group_id
        if self.settings.vk.mode == "callback":
            await self._start_callback(group_id)
            return
        self.poller = LongPoller(
            self.api,
            self.db,
            self.group_id,
            self._dispatch,
            wait=self.settings.vk.poll_wait,
            clock=self.core.ctx.clock,
        )
        await self._dispatch(await self._recover())
        self._poll_task = asyncio.create_task(self.poller.run(), name="vk-long-poll")

    async def _identify(self, retry_cap: float = 30.0) -> int:
        """The token's community, asked before anything starts. A token VK refuses (error 5)
        stops the start with a :class:`ConfigurationError`; an unreachable or busy VK API is
        retried with capped backoff."""
        failures = 0
        while True:
            try:
                answer = await self.api.call("groups.getById")
            except VkApiError as exc:
                if exc.code not in _BUSY:
                    fix = "create a new one in Manage community → API usage, with messages allowed"
                    raise ConfigurationError(f"VK_GROUP_TOKEN was refused by VK ({exc}): {fix}") from None
                problem = str(exc)
            except VkNetworkError as exc:
                problem = str(exc) or type(exc).__name__
            else:
                groups = answer["groups"] if isinstance(answer, dict) else answer
                return int(groups[0]["id"])
            failures += 1
            delay = min(retry_cap, self.retry_base * 2 ** min(failures, 6))
            log.warning("vk groups.getById failed at start (%s); retrying in %.1fs", problem, delay)
            await asyncio.sleep(delay)

    # -- the Callback API: several workers, one queue per chat ---------------------------

    async def _start_callback(self, group_id: int) -> None:
        """Events POSTed by VK are stored in their chat's queue before "ok"; each queue is
        drained oldest first by one worker at a time under its lock, whichever worker
        stored its rows (the pattern of ``bot/telegram/webhook.py``). Queues with rows
        left by a stopped worker are drained at start and every ``sweep_interval``."""
        vk = self.settings.vk
        assert vk.confirmation_code is not None and vk.callback_secret is not None
        self.callback = VkCallbackServer(
            self._receive,
            group_id=group_id,
            confirmation_code=vk.confirmation_code.get_secret_value(),
            secret=vk.callback_secret.get_secret_value(),
            host=vk.callback_host,
            port=vk.callback_port,
            path=vk.callback_path,
        )
        await self.callback.start()
        self._poll_task = asyncio.create_task(self._sweep_loop(), name="vk-callback-sweep")

    async def _receive(self, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            key = update_key(event)
            queue = person_key(event) or f"{PLATFORM}:update:{key}"
            async with self.db.transaction() as session:
                stored = await store_in_queue(
                    session,
                    PLATFORM,
                    inbox.Incoming(key, queue, dict(event)),
                    queue,
                    now=self.core.ctx.clock.now(),
                )
            if stored is None:
                log.info("vk event %s seen before", key)
            else:
                self._drain_soon(queue)

    def _drain_soon(self, queue: str) -> None:
        if queue in self._draining:
            self._again.add(queue)
            return
        self._draining.add(queue)
        task = asyncio.create_task(self._drain_task(queue), name="vk-queue")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain_task(self, queue: str) -> None:
        try:
            while True:
                self._again.discard(queue)
                try:
                    async with self._slots, self._queues.hold(queue):
                        await self._drain(queue)
                except Exception:
                    log.exception("draining a vk queue failed; the sweep will retry")
                    return
                if queue not in self._again:
                    return
        finally:
            self._draining.discard(queue)
            self._again.discard(queue)

    async def _drain(self, queue: str) -> None:
        """Handle ``queue``'s pending rows oldest first (the caller holds its lock)."""
        while True:
            async with self.db.transaction() as session:
                row = await next_in_queue(session, PLATFORM, queue)
                if row is None:
                    return
                poisoned = row.response is None and row.attempts >= self.max_attempts
                if poisoned:
                    await inbox.mark(session, [row.id], status=inbox.FAILED, now=self.core.ctx.clock.now())
                else:
                    await inbox.count_attempts(session, [row.id])
            if poisoned:
                log.error("vk event %s failed %d times; giving up on it", row.update_key, self.max_attempts)
                continue
            status = inbox.HANDLED
            try:
                event = translate(row.payload)
                if event is not None:
                    await self._run(row.id, event, row.response)
            except Exception:
                log.exception("vk event %s failed", row.id)
                status = inbox.FAILED
            async with self.db.transaction() as session:
                await inbox.mark(session, [row.id], status=status, now=self.core.ctx.clock.now())
            self.handled += 1
            if self.on_handled is not None:
                self.on_handled()

    async def _sweep_loop(self) -> None:
        while True:
            try:
                async with self.db.read() as session:
                    queues = await queues_with_pending(session, PLATFORM)
                for queue in queues:
                    self._drain_soon(queue)
            except Exception:
                log.exception("looking for stored vk events failed")
            await asyncio.sleep(self.sweep_interval)

    async def _recover(self) -> list[InboxUpdate]:
        """Events stored but not handled before the last stop; one that was started
        ``max_attempts`` times without finishing is given up on (a poison event)."""
        async with self.db.transaction() as session:
            rows = await inbox.pending(session, PLATFORM)
            poison = [row.id for row in rows if row.response is None and row.attempts >= self.max_attempts]
            await inbox.mark(session, poison, status=inbox.FAILED, now=self.core.ctx.clock.now())
        return [row for row in rows if row.id not in poison]

    async def stop(self, *, grace: float | None = None) -> None:
        """Stop polling; events being handled get ``grace`` seconds (``stop_grace``) to
        finish, the rest stay pending in the inbox for the next start."""
        if self.callback is not None:
            await self.callback.stop()
        if self._poll_task is not None:
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
            self._poll_task = None
        if self._tasks:
            _, still = await asyncio.wait(
                set(self._tasks), timeout=self.stop_grace if grace is None else grace
            )
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        await self._queues.dispose()
        if self._own_api:
            await self.api.close()

    async def idle(self) -> None:
        """Wait until every event received so far has been handled (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    # -- handling ---------------------------------------------------------------------

    async def _dispatch(self, rows: list[InboxUpdate]) -> None:
        for row in rows:
            key = row.person_key or row.update_key
            task = asyncio.create_task(self._handle(row.id, key, row.payload, row.response, row.attempts))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(
        self,
        inbox_id: int,
        order_key: str,
        update: dict[str, object],
        stored: dict[str, Any] | None = None,
        attempts: int = 0,
    ) -> None:
        async with self._order.hold(order_key), self._slots:
            status = inbox.HANDLED
            try:
                if attempts or stored is not None:
                    # Started again after a stop: count it, so an event that keeps killing
                    # the process is given up; events never started are not counted.
                    async with self.db.transaction() as session:
                        await inbox.count_attempts(session, [inbox_id])
                event = translate(update)
                if event is not None:
                    await self._run(inbox_id, event, stored)
            except Exception:
                log.exception("vk event %s failed", inbox_id)
                status = inbox.FAILED
            async with self.db.transaction() as session:
                await inbox.mark(session, [inbox_id], status=status, now=self.core.ctx.clock.now())
            self.handled += 1
            if self.on_handled is not None:
                self.on_handled()

    async def _run(self, inbox_id: int, event: Event, stored: dict[str, Any] | None = None) -> None:
        """Run the core and answer. The answer is stored with the change the core made, so
        after a crash it is sent again (VK drops the repeat: the same ``random_id``) and the
        event is never handled twice."""
        if stored is not None:
            response = response_from_json(stored)
        else:
            if event.sender is not None and event.sender_name is None:
                name = await self._name(int(event.sender.external_id))
                event = dataclasses.replace(event, sender_name=name)
            async with self.db.unit_of_work() as unit:
                response = await self.core.handle(event)
                await inbox.save_response(await unit.session(), inbox_id, response_to_json(response))
        if event.callback_id is not None:
            await self._answer(event.callback_id, response)
        for index, reply in enumerate(response.replies):
            await self._deliver(event.chat.chat_id, reply, f"vk-inbox:{inbox_id}:{index}")

    async def _answer(self, callback_id: str, response: Response) -> None:
        try:
            await self.transport.answer_callback(callback_id, response.toast, alert=response.alert)
        except (RetryLater, TransientFailure, PermanentFailure) as exc:
            log.warning("vk callback answer failed: %s", exc)

    async def _deliver(self, chat_id: str, reply: Reply, key: str) -> list[str]:
        """Deliver with the same idempotency key until it lands: "too many requests" is
        waited out (up to ``rate_limit_retries`` times), other transient failures are
        retried with backoff ``delivery_attempts`` times, permanent ones are logged."""
        failures = rate_limited = 0
        while True:
            try:
                return await fallback.deliver(
                    self.transport, self.core.ctx, chat_id, reply, idempotency_key=key
                )
            except RetryLater as exc:
                rate_limited += 1
                if rate_limited > self.rate_limit_retries:
                    raise
                await asyncio.sleep(exc.retry_after)
            except TransientFailure as exc:
                failures += 1
                log.warning("vk delivery to %s failed (attempt %d): %s", chat_id, failures, exc)
                if failures >= self.delivery_attempts:
                    raise
                await asyncio.sleep(min(self.retry_base * 2 ** (failures - 1), 30.0))
            except PermanentFailure as exc:
                log.warning("vk delivery to %s failed for good: %s", chat_id, exc)
                return []

    async def _name(self, user_id: int) -> str | None:
        name = self._names.get(user_id)
        if name is not None:
            self._names.move_to_end(user_id)
            return name
        try:
            users = await self.api.call("users.get", user_ids=user_id)
        except (VkApiError, VkNetworkError) as exc:
            log.warning("vk users.get failed: %s", exc)
            return None
        if not users:
            return None
        name = " ".join(p for p in (users[0].get("first_name"), users[0].get("last_name")) if p)
        self._names[user_id] = name
        if len(self._names) > 10_000:
            self._names.popitem(last=False)
        return name or None
