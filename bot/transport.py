"""How a rendered reply reaches a chat on one platform, and how it can fail.

Transports raise these errors and nothing platform-specific, so the outbox sender and the
dialogue runner treat Telegram and VK alike.
"""

from __future__ import annotations

from typing import Protocol

from handlers.events import Platform, Reply


class DeliveryError(Exception):
    """Base class of delivery failures."""


class RetryLater(DeliveryError):
    """Rate-limited (HTTP 429, VK error 6 or 9): try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        self.retry_after = retry_after
        super().__init__(detail or f"retry after {retry_after}s")


class TransientFailure(DeliveryError):
    """A 5xx, a dropped connection, a garbled answer: retry with backoff."""


class PermanentFailure(DeliveryError):
    """Retrying cannot help. ``reason`` is one of ``blocked`` (the person blocked the bot or
    does not allow messages), ``chat_not_found``, ``forbidden`` (the bot was removed from the
    group), ``bad_request``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


class Transport(Protocol):
    """Sends one reply to one chat and returns the ids of the messages it produced.

    Implementations wait on the shared rate limiter before every API call, so everything
    the bot sends, dialogue answers and outbox alike, stays within the platform's limits.
    """

    platform: Platform

    async def deliver(self, chat_id: str, reply: Reply, *, idempotency_key: str | None = None) -> list[str]:
        """``idempotency_key`` makes a retried send a no-op where the platform supports it
        (VK's ``random_id``); Telegram has no such thing and ignores it."""
        ...

    async def answer_callback(self, callback_id: str, text: str | None, *, alert: bool = False) -> None: ...
