"""The core's single entry point: one event in, one response out.

Private chats are residents talking to the dialogue; group chats are agency and admin
chats talking to the desk; everything else (channels) is ignored.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.desk import Desk
from handlers.dialogue import ResidentDialogue
from handlers.events import ChatKind, Event, Response
from handlers.ordering import KeyedLock


class Core:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.dialogue = ResidentDialogue(ctx)
        self.desk = Desk(ctx)
        self._order = KeyedLock()

    async def handle(self, event: Event) -> Response:
        """Handle one event. Call it in arrival order (one task per event is fine): one
        person's events, and one group chat's, are handled one at a time in that order."""
        if event.chat_kind is ChatKind.PRIVATE and event.sender is not None:
            async with self._order.hold(event.sender):
                return await self.dialogue.handle(event)
        if event.chat_kind is ChatKind.GROUP:
            async with self._order.hold(event.chat):
                return await self.desk.handle(event)
        return Response()
