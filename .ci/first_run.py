"""README's first command, typed as a newcomer would, on a clean copy of the repository.

The command is read from README.md (the first ``sh`` block under "## Try it"), run by bash
in a pseudo-terminal in a directory holding only the repository's tracked files (no
``.venv``, no ``data/``, no ``.env``) and no bot settings in the environment. It must
install, start the console demo, take an appeal and give its number, end on Ctrl-D with
exit status 0, and keep that appeal in the demo's own database only.

    .venv/bin/python .ci/first_run.py
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.demo import file_an_appeal, leave  # noqa: E402

sys.path.insert(0, str(ROOT / ".ci"))
from readme import commands  # noqa: E402

SETTINGS = ("TELEGRAM_", "VK_", "DATABASE_URL", "CATALOGUE_PATH", "DATA_DIR", "LOG_", "VIRTUAL_ENV")


def clean_copy(target: Path) -> None:
    """The tracked files as they are in the working tree: what a clone holds."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def main() -> int:
    command = commands((ROOT / "README.md").read_text(encoding="utf-8"))["first"]
    print(f"README's first command: {command}", flush=True)
    with tempfile.TemporaryDirectory(prefix="appeals-first-run-") as tmp:
        clone = Path(tmp) / "citizen-appeals-bot"
        clone.mkdir()
        clean_copy(clone)
        env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
        )
        child = pexpect.spawn("bash", ["-c", command], cwd=clone, env=env, encoding="utf-8", timeout=60)
        child.logfile_read = sys.stdout
        try:
            number = file_an_appeal(child, "Глубокая яма на дороге у остановки Школьная", first_timeout=900)
            leave(child)
        finally:
            child.close(force=True)
        if child.exitstatus != 0:
            raise SystemExit(f"the command ended with status {child.exitstatus}")
        demo = sqlite3.connect(clone / "data" / "demo.db")
        appeals = demo.execute("SELECT id, description FROM appeals").fetchall()
        demo.close()
        if len(appeals) != 1 or not number.endswith(f"-{appeals[0][0]:06d}"):
            raise SystemExit(f"the demo database holds {appeals}, not appeal {number}")
        if (clone / "data" / "appeals.db").exists():
            raise SystemExit("the demo wrote to the database a real bot would use")
    print(f"\nfirst run: appeal {number} filed in the console demo, Ctrl-D ended it", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
