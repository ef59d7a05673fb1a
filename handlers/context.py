"""What the core needs from the outside world, passed in explicitly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers.catalogue import Catalogue
from handlers.clock import Clock, SystemClock
from handlers.events import Capabilities, Platform
from handlers.texts import Texts
from storage.db import Database


@dataclass(slots=True)
class Context:
    db: Database
    catalogue: Catalogue
    texts: Texts = field(default_factory=Texts)
    clock: Clock = field(default_factory=SystemClock)
    capabilities: Mapping[Platform, Capabilities] = field(default_factory=dict)
    """What each platform's chats can show, as its adapter declares it (``bot/capabilities.py``)."""

    def caps(self, platform: Platform) -> Capabilities:
        """The platform's declared capabilities, or the cautious baseline."""
        return self.capabilities.get(platform) or BASELINE


BASELINE = Capabilities()
