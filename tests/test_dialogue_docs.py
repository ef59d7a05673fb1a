"""docs/dialogue.md draws the dialogue the steps make."""

from __future__ import annotations

import itertools
from pathlib import Path

from handlers.dialogue import FLOW, OTHERS
from handlers.dialogue.diagram import BEGIN, END, block, mermaid

DOC = Path(__file__).parents[1] / "docs" / "dialogue.md"


def test_the_diagram_in_the_docs_is_the_one_the_steps_draw() -> None:
    text = DOC.read_text(encoding="utf-8")
    shown = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert shown == block(), "run: python -m handlers.dialogue.diagram docs/dialogue.md"


def test_the_diagram_follows_the_order_of_the_steps() -> None:
    drawn = mermaid()
    for before, after in itertools.pairwise(FLOW):
        assert f"    {before.name} --> {after.name}: answered" in drawn
        assert f"    {after.name} --> {before.name}: «Назад»" in drawn
    for step in (*FLOW, *OTHERS):
        assert f" {step.name} " in drawn or f" {step.name}:" in drawn, step.name
    reordered = mermaid((FLOW[1], FLOW[0], *FLOW[2:]))
    assert f"    {FLOW[1].name} --> {FLOW[0].name}: answered" in reordered
