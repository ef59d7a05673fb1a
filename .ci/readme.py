"""The commands README.md gives under "## Try it": CI runs exactly these.

python3 .ci/readme.py first    # the command that installs and starts the bot
python3 .ci/readme.py test     # the command that installs the tools and runs the tests
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
NAMES = ("first", "test")


def commands(readme: str) -> dict[str, str]:
    """The ``sh`` blocks under "## Try it", in order: each must be one line."""
    section = readme.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]
    if len(blocks) != len(NAMES) or any("\n" in block for block in blocks):
        raise SystemExit(
            f"README.md: expected {len(NAMES)} one-line sh blocks under '## Try it', got {blocks}"
        )
    return dict(zip(NAMES, blocks, strict=True))


if __name__ == "__main__":
    print(commands(README.read_text(encoding="utf-8"))[sys.argv[1]])
