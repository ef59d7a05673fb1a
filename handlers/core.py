"""The core's single entry point: one event in, one response out.

Private chats are residents talking to the dialogue; group chats are agency and admin
chats talking to the desk; everything else (channels) is ignored. Residents who flood get one polite answer,
then silence until the minute passes (``handlers.flood``).
"""

from __future__ import annotations

from handlers.context import Context
from handlers.desk import Desk
from handlers.dialogue import ResidentDialogue
from handlers.events import ChatKind, Event, Reply, Response
from handlers.flood import FloodGuard, Verdict
from handlers.ordering import KeyedLock


class Core:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.dialogue = ResidentDialogue(ctx)
        self.desk = Desk(ctx)
        self._order = KeyedLock()
        self.flood = FloodGuard()

    async def handle(self, event: Event) -> Response:
        """Handle one event. Call it in arrival order (one task per event is fine): one
        person's events, and one group chat's, are handled one at a time in that order."""
        if event.chat_kind is ChatKind.PRIVATE and event.sender is not None:
            limit = self.ctx.catalogue.limits.messages_per_minute
            verdict = self.flood.check(event.sender, self.ctx.clock.now(), limit)
            if verdict is Verdict.WARN:
                return Response([Reply(self.ctx.texts("guard-flood"))])
            if verdict is Verdict.DROP:
                return Response()
            async with self._order.hold(event.sender):
                return await self.dialogue.handle(event)
        if event.chat_kind is ChatKind.GROUP:
            async with self._order.hold(event.chat):
                return await self.desk.handle(event)
        return Response()
