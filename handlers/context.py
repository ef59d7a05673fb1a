"""What the core needs from the outside world, passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.catalogue import Catalogue
from handlers.clock import Clock, SystemClock
from handlers.texts import Texts
from storage.db import Database


@dataclass(slots=True)
class Context:
    db: Database
    catalogue: Catalogue
    texts: Texts = field(default_factory=Texts)
    clock: Clock = field(default_factory=SystemClock)
