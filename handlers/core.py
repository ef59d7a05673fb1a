"""The core's single entry point: one event in, one response out.

Private chats are residents talking to the dialogue; group chats are agency and admin
chats talking to the desk; everything else (channels) is ignored. Residents who flood get one polite answer,
then silence until the minute passes (``handlers.flood``).
"""

from __future__ import annotations

import structlog

from handlers.context import Context
from handlers.desk import Desk
from handlers.dialogue import ResidentDialogue
from handlers.events import ChatKind, Event, Reply, Response
from handlers.flood import FloodGuard, Verdict
from handlers.ordering import KeyedLock

log = structlog.get_logger(__name__)


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
            log.info(
                "event", platform=event.platform.value, chat="private", kind=_kind(event), flood=verdict.value
            )
            if verdict is Verdict.WARN:
                return Response([Reply(self.ctx.texts("guard-flood"))])
            if verdict is Verdict.DROP:
                return Response()
            async with self._order.hold(event.sender):
                return await self.dialogue.handle(event)
        if event.chat_kind is ChatKind.GROUP:
            log.info("event", platform=event.platform.value, chat=event.chat.chat_id, kind=_kind(event))
            async with self._order.hold(event.chat):
                return await self.desk.handle(event)
        return Response()


def _kind(event: Event) -> str:
    """What kind of thing happened, for the log: never its content."""
    if event.payload is not None:
        return "button"
    if event.edited:
        return "edit"
    if event.command is not None:
        return "command"
    if event.media:
        return event.media[0].kind.value
    if event.location is not None:
        return "location"
    if event.contact is not None:
        return "contact"
    return "text" if event.text else "other"
