"""A newcomer at the console demo, typing into a real pseudo-terminal (pexpect).

Used by the CLI tests (``appeals run`` with no token) and by CI, which runs the README's
first command on a clean copy of the repository. The resident reads each screen up to the
prompt and presses buttons by their label, so the script does not depend on how the
dialogue numbers its buttons.
"""

from __future__ import annotations

import re

import pexpect

PROMPT = "> "
NUMBER = re.compile(r"№ (\d{4}-\d{6})")
_BUTTON = re.compile(r"^\[(\d+)\] (.+?)\s*$", re.MULTILINE)

# What the resident presses, first match wins on each screen: consent, a topic, a
# municipality, then skip the optional steps and send.
PRESSES = ("Согласен", "Дороги", "Тамбов", "Пропустить", "Отправить")


class DemoFailed(AssertionError):
    pass


def buttons(screen: str) -> dict[str, str]:
    """Label → the number to type, for the buttons shown on one screen."""
    return {label: number for number, label in _BUTTON.findall(screen)}


def file_an_appeal(child: pexpect.spawn, description: str, *, first_timeout: float = 120) -> str:
    """Start with /start, answer every question, send; returns the appeal's number."""
    child.expect_exact(PROMPT, timeout=first_timeout)
    child.sendline("/start")
    described = False
    transcript: list[str] = []
    for _ in range(20):
        child.expect_exact(PROMPT, timeout=30)
        screen = child.before
        transcript.append(screen)
        found = NUMBER.search(screen)
        if found is not None:
            return found.group(1)
        shown = buttons(screen)
        press = next((label for label in PRESSES if label in shown), None)
        if press is not None:
            child.sendline(shown[press])
        elif not described:
            child.sendline(description)
            described = True
        else:
            raise DemoFailed("stuck on a screen:\n" + screen)
    raise DemoFailed("no appeal number after 20 screens:\n" + "".join(transcript))


def leave(child: pexpect.spawn) -> None:
    """Ctrl-D at the prompt: a goodbye, and the process ends by itself."""
    child.sendeof()
    child.expect_exact("До свидания!", timeout=30)
    child.expect(pexpect.EOF, timeout=30)
    child.close()
