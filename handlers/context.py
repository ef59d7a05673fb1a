"""What the core needs from the outside world, passed in explicitly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from handlers.catalogue import Catalogue
from handlers.clock import Clock, SystemClock
from handlers.events import Capabilities, Platform, Reply
from handlers.texts import Texts
from storage.db import Database
from storage.retention import RetentionPolicy


class Reports(Protocol):
    """The admin chat's /digest and /stats. How a digest is made is ``digests/``'s business
    (``digests.commands.DigestReports`` fills this port), not the desk's."""

    async def preview(self, ctx: Context) -> list[Reply]:
        """This week so far."""
        ...

    async def stats(self, ctx: Context, args: str) -> list[Reply]:
        """The figures for the period ``args`` names."""
        ...


@dataclass(slots=True)
class Context:
    db: Database
    catalogue: Catalogue
    texts: Texts = field(default_factory=Texts)
    clock: Clock = field(default_factory=SystemClock)
    capabilities: Mapping[Platform, Capabilities] = field(default_factory=dict)
    """What each platform's chats can show, as its adapter declares it (``bot/capabilities.py``)."""
    reports: Reports | None = None
    """/digest and /stats for the admin chats; None: not offered."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """How long handled updates and sent messages are kept (``storage.retention``)."""

    def caps(self, platform: Platform) -> Capabilities:
        """The platform's declared capabilities, or the cautious baseline."""
        return self.capabilities.get(platform) or BASELINE


BASELINE = Capabilities()
