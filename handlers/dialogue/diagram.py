"""The dialogue's state diagram (Mermaid), drawn from its steps.

``python -m handlers.dialogue.diagram docs/dialogue.md`` rewrites the diagram between the
``<!-- steps:begin -->`` and ``<!-- steps:end -->`` markers; a test fails when the file
and the steps disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from handlers.dialogue.step import Step
from handlers.dialogue.steps import FLOW, OTHERS

BEGIN, END = "<!-- steps:begin -->", "<!-- steps:end -->"


def mermaid(flow: Sequence[Step] = FLOW, others: Sequence[Step] = OTHERS) -> str:
    lines = ["stateDiagram-v2"]
    steps = [*flow, *others]
    for step in steps:
        if step.entry:
            lines.append(f"    [*] --> {step.name}: {step.entry}")
    numbered = [s for s in flow if s.numbered]
    for step in numbered:
        lines.append(f"    {step.name}: {step.name} (шаг {numbered.index(step) + 1} из {len(numbered)})")
    for i, step in enumerate(flow[:-1]):
        following = flow[i + 1]
        lines.append(f"    {step.name} --> {following.name}: answered")
        if following.skip_when and i + 2 < len(flow):
            lines.append(f"    {step.name} --> {flow[i + 2].name}: answered, {following.skip_when}")
    lines.append(f"    {flow[0].name} --> idle: «Назад»")
    for i, step in enumerate(flow[1:], start=1):
        lines.append(f"    {step.name} --> {flow[i - 1].name}: «Назад»")
    for step in steps:
        if step.back_to is not None:
            lines.append(f"    {step.name} --> {step.back_to}: «Назад»")
        for target, why in step.exits:
            lines.append(f"    {step.name} --> {target}: {why}")
    return "\n".join(lines)


def block() -> str:
    return f"{BEGIN}\n```mermaid\n{mermaid()}\n```\n{END}"


def rewrite(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + block() + text[end:]


if __name__ == "__main__":  # pragma: no cover
    path = Path(sys.argv[1])
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
