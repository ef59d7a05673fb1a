"""Running the bot on VK: long poll in, the runtime in the middle, the VK transport out.

:class:`VkAdapter` is VK's side of ``bot.runtime``: a raw long-poll event's key
(``event_id``), its queue (the chat: a resident's private chat or an agency conversation),
its kind (``type``), its :class:`Event`, and the sender's name looked up once (``users.get``).
Storing, ordering, attempts, poison events and answers through the outbox are the runtime's;
replies are sent by the outbox sender with a ``random_id`` per row, so VK shows a retried
message once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from bot.config import ConfigurationError, Settings
from bot.media import MediaRegistry
from bot.ratelimit import VK_LIMITS, RateLimiter
from bot.runtime import MAX_STARTS, Identity, Runtime
from bot.supervision import Supervisor
from bot.vk.api import VkApi, VkApiError, VkNetworkError
from bot.vk.callback import VkCallbackServer
from bot.vk.events import person_key, translate, update_key
from bot.vk.polling import LongPoller
from bot.vk.transport import VkTransport, vk_media_fetcher
from handlers.events import Event, Platform
from storage.db import Database

if TYPE_CHECKING:
    from collections.abc import Callable

    from handlers.core import Core

log = logging.getLogger(__name__)

_BUSY = frozenset({1, 6, 9, 10})
"""VK errors worth waiting out: unknown, too many requests, flood control, internal error."""


class VkAdapter:
    platform = Platform.VK

    def __init__(self, api: VkApi) -> None:
        self.api = api
        self._names: OrderedDict[int, str] = OrderedDict()

    def identify(self, raw: dict[str, Any]) -> Identity:
        kind = raw.get("type")
        return Identity(
            key=update_key(raw), queue=person_key(raw), kind=kind if isinstance(kind, str) else "unknown"
        )

    def to_event(self, raw: dict[str, Any]) -> Event | None:
        return translate(raw)

    async def prepare(self, event: Event) -> Event:
        if event.sender is not None and event.sender_name is None:
            name = await self._name(int(event.sender.external_id))
            event = dataclasses.replace(event, sender_name=name)
        return event

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


class VkRunner:
    """The VK channel: ``await runner.start()`` ... ``await runner.stop()``; ``bot/app.py``
    starts it when ``VK_GROUP_TOKEN`` is set."""

    name = "vk"

    def __init__(
        self,
        settings: Settings,
        core: Core,
        db: Database,
        transport: VkTransport | None = None,
        *,
        media: MediaRegistry | None = None,
        limiter: RateLimiter | None = None,
        on_committed: Callable[[], None] | None = None,
        max_starts: int = MAX_STARTS,
        retry_base: float = 0.2,
        supervisor: Supervisor | None = None,
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
        self.supervisor = supervisor or Supervisor()
        self.adapter = VkAdapter(self.api)
        self.runtime = Runtime(
            self.adapter,
            core,
            core.ctx,
            callbacks=transport,
            on_committed=on_committed,
            max_starts=max_starts,
            concurrency=settings.update_concurrency,
            retry_base=retry_base,
            supervisor=self.supervisor,
        )
        self.retry_base = retry_base
        self.stop_grace = 10.0
        self.group_id = settings.vk.group_id
        self.poller: LongPoller | None = None
        self.callback: VkCallbackServer | None = None
        """The Callback API endpoint (``VK_MODE=callback``) instead of the long poll."""
        self._poll_task: asyncio.Task[None] | None = None

    @property
    def handled(self) -> int:
        return self.runtime.handled

    async def start(self) -> None:
        group_id = await self._identify()
        if self.group_id is not None and self.group_id != group_id:
            raise ConfigurationError(
                f"VK_GROUP_ID={self.group_id}, but VK_GROUP_TOKEN belongs to community {group_id}: "
                f"set VK_GROUP_ID={group_id}, or leave it empty"
            )
        self.group_id = group_id
        await self.runtime.start()
        if self.settings.vk.mode == "callback":
            await self._start_callback(group_id)
            return
        self.poller = LongPoller(self.api, self.runtime, self.group_id, wait=self.settings.vk.poll_wait)
        self._poll_task = self.supervisor.spawn(
            "vk-long-poll", self.poller.run, heartbeat=self.poller.heartbeat
        )

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

    async def _start_callback(self, group_id: int) -> None:
        """VK POSTs events to our endpoint (several workers behind a load balancer): each is
        stored by the runtime before "ok", and handled like a long-polled one."""
        vk = self.settings.vk
        assert vk.confirmation_code is not None and vk.callback_secret is not None
        self.callback = VkCallbackServer(
            self.runtime.receive,
            group_id=group_id,
            confirmation_code=vk.confirmation_code.get_secret_value(),
            secret=vk.callback_secret.get_secret_value(),
            host=vk.callback_host,
            port=vk.callback_port,
            path=vk.callback_path,
        )
        await self.callback.start()

    async def stop(self, *, grace: float | None = None) -> None:
        """Stop polling; events being handled get ``grace`` seconds (``stop_grace``) to
        finish, the rest stay pending in the inbox for the next start."""
        if self.callback is not None:
            await self.callback.stop()
        if self._poll_task is not None:
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
            self._poll_task = None
        await self.runtime.stop(grace=self.stop_grace if grace is None else grace)
        if self._own_api:
            await self.api.close()

    async def idle(self) -> None:
        """Wait until every event received so far has been handled (for tests and shutdown)."""
        await self.runtime.settled()
