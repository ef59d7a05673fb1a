"""Which staff action is allowed in which status: one table for buttons and replies.

::

    new / passed / redirected --take--> in_progress
    new / passed / in_progress / redirected / answered --answer--> answered
    new / passed / in_progress / redirected --redirect--> redirected --> passed (new agency)
    new / passed / in_progress / redirected / answered --reject (reason)--> rejected
    new / passed / in_progress / redirected / answered --solve--> solved
    answered / solved --resident: yes--> closed
    answered / solved --resident: no (comment)--> passed (reopened, same agency)
"""

from __future__ import annotations

from enum import StrEnum

from storage.models import AppealStatus as S


class Action(StrEnum):
    TAKE = "take"
    ANSWER = "answer"
    REDIRECT = "redir"
    REJECT = "reject"
    SOLVE = "solve"


_WAITING = frozenset({S.NEW, S.PASSED, S.IN_PROGRESS, S.REDIRECTED})

ALLOWED_FROM: dict[Action, frozenset[S]] = {
    Action.TAKE: frozenset({S.NEW, S.PASSED, S.REDIRECTED}),
    Action.ANSWER: _WAITING | {S.ANSWERED},
    Action.REDIRECT: _WAITING,
    Action.REJECT: _WAITING | {S.ANSWERED},
    Action.SOLVE: _WAITING | {S.ANSWERED},
}

TARGET: dict[Action, S] = {
    Action.TAKE: S.IN_PROGRESS,
    Action.ANSWER: S.ANSWERED,
    Action.REDIRECT: S.REDIRECTED,
    Action.REJECT: S.REJECTED,
    Action.SOLVE: S.SOLVED,
}

AWAITING_FEEDBACK = frozenset({S.ANSWERED, S.SOLVED})
"""Statuses in which the resident may confirm the solution or send it back."""

RATEABLE = frozenset({S.ANSWERED, S.SOLVED, S.CLOSED})
ADDABLE = _WAITING | {S.ANSWERED}
"""Statuses in which the resident may add details."""


def allowed(action: Action, status: str) -> bool:
    return status in ALLOWED_FROM[action]
