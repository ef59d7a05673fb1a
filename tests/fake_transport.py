"""A scripted Transport for outbox tests: no network, every send recorded.

Chats answer "ok" unless a test scripted failures for them (``fail_next``) or set a
``faults`` function (random storms). A closed ``gate`` holds deliveries in flight, so a test
can stop a sender mid-send. Two deliveries in flight to one chat at once are recorded in
``overlaps`` (the outbox must never do that).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from bot.transport import DeliveryError
from handlers.events import Platform, Reply


@dataclass(frozen=True, slots=True)
class Sent:
    chat_id: str
    reply: Reply
    message_ids: tuple[str, ...]
    idempotency_key: str | None

    @property
    def text(self) -> str:
        return self.reply.text


class ScriptedTransport:
    def __init__(self, platform: Platform = Platform.TELEGRAM) -> None:
        self.platform = platform
        self.sent: list[Sent] = []
        self.attempts: list[tuple[str, str | None, str]] = []
        """(chat, idempotency key, outcome) for every call, failures included."""
        self.overlaps: list[str] = []
        self.faults: Callable[[str, Reply], DeliveryError | None] | None = None
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        """Set when a delivery is in flight (waiting at a closed gate)."""
        self._script: dict[str, list[Exception]] = defaultdict(list)
        self._in_flight: set[str] = set()
        self._next_id: dict[str, int] = defaultdict(lambda: 100)
        self._changed = asyncio.Condition()

    def fail_next(self, chat_id: str, *errors: Exception) -> None:
        self._script[chat_id].extend(errors)

    def fail_always(self, chat_id: str, error: DeliveryError, times: int = 10_000) -> None:
        self._script[chat_id].extend([error] * times)

    def texts(self, chat_id: str) -> list[str]:
        return [s.text for s in self.sent if s.chat_id == chat_id]

    async def wait_for_sent(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.sent) >= count)

    async def deliver(self, chat_id: str, reply: Reply, *, idempotency_key: str | None = None) -> list[str]:
        if chat_id in self._in_flight:
            self.overlaps.append(chat_id)
        self._in_flight.add(chat_id)
        try:
            await asyncio.sleep(0)  # let other chats' deliveries interleave with this one
            if self.gate is not None:
                self.entered.set()
                await self.gate.wait()
            error = self._script[chat_id].pop(0) if self._script[chat_id] else None
            if error is None and self.faults is not None:
                error = self.faults(chat_id, reply)
            if error is not None:
                self.attempts.append((chat_id, idempotency_key, type(error).__name__))
                raise error
            count = len(reply.photos) + (1 if reply.text or not reply.photos else 0)
            ids = []
            for _ in range(count):
                self._next_id[chat_id] += 1
                ids.append(str(self._next_id[chat_id]))
            self.attempts.append((chat_id, idempotency_key, "ok"))
            async with self._changed:
                self.sent.append(Sent(chat_id, reply, tuple(ids), idempotency_key))
                self._changed.notify_all()
            return ids
        finally:
            self._in_flight.discard(chat_id)

    async def answer_callback(self, callback_id: str, text: str | None, *, alert: bool = False) -> None:
        return None
