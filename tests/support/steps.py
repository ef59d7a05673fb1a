"""Step numbers as the resident sees them, derived from the dialogue's list of steps."""

from __future__ import annotations

import re

from handlers.dialogue import FLOW
from handlers.texts import Texts

_texts = Texts()


def step(name: str, *, skipped: tuple[str, ...] = ()) -> str:
    """``"Шаг 3 из 6."`` for the step ``name``, with the example catalogue (no step
    skipped) unless ``skipped`` names the steps that are."""
    shown = [s.name for s in FLOW if s.numbered and s.name not in skipped]
    return re.sub(r"<[^>]+>", "", _texts("resident-step", n=shown.index(name) + 1, m=len(shown)))
