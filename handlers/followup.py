"""Placeholder while the agency desk is being written (replaced before landing).

Contract: the resident dialogue hands an event to ``FollowUp.handle`` when its payload
starts with one of ``PAYLOAD_PREFIXES`` or the resident's dialogue state is one of
``STATES``. It returns None when it has nothing to do with the event.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.events import Event, Response
from storage.models import Dialogue, Resident


class FollowUp:
    PAYLOAD_PREFIXES: tuple[str, ...] = ("fb:", "rate:", "add:")
    STATES: frozenset[str] = frozenset({"reopen_comment", "add_details"})

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def handle(
        self, session: AsyncSession, event: Event, resident: Resident, dialogue: Dialogue
    ) -> Response | None:
        return None
