"""Placeholder while the agency desk is being written (replaced before landing)."""

from __future__ import annotations

from handlers.context import Context
from handlers.events import Event, Response


class Desk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def handle(self, event: Event) -> Response:
        raise NotImplementedError
