"""Which staff action is allowed in which status: one table for buttons and replies.

::

    new / passed / redirected --take--> in_progress
    new / passed / in_progress / redirected / answered --answer--> answered
    new / passed / in_progress / redirected --redirect--> redirected --> passed (new agency)
    new / passed / in_progress / redirected / answered --reject (reason)--> rejected
    new / passed / in_progress / redirected / answered --solve--> solved
    answered / solved --resident: yes--> closed
    answered / solved --resident: no (comment)--> passed (reopened, same agency)
    rejected --resident: contest (comment, once)--> contested
    contested --admin: uphold--> rejected
    contested --admin: return (agency)--> passed (a new answer clock)
    new / passed / in_progress / redirected --admin: extend (reason, once)--> (status kept)
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
    EXTEND = "extend"
    UPHOLD = "uphold"
    RETURN = "return"


_WAITING = frozenset({S.NEW, S.PASSED, S.IN_PROGRESS, S.REDIRECTED})

ALLOWED_FROM: dict[Action, frozenset[S]] = {
    Action.TAKE: frozenset({S.NEW, S.PASSED, S.REDIRECTED}),
    Action.ANSWER: _WAITING | {S.ANSWERED},
    Action.REDIRECT: _WAITING,
    Action.REJECT: _WAITING | {S.ANSWERED},
    Action.SOLVE: _WAITING | {S.ANSWERED},
    Action.EXTEND: _WAITING,
    Action.UPHOLD: frozenset({S.CONTESTED}),
    Action.RETURN: frozenset({S.CONTESTED}),
}
ADMIN_ONLY = frozenset({Action.EXTEND, Action.UPHOLD, Action.RETURN})

AWAITING_FEEDBACK = frozenset({S.ANSWERED, S.SOLVED})
"""Statuses in which the resident may confirm the solution or send it back."""

RATEABLE = frozenset({S.ANSWERED, S.SOLVED, S.CLOSED, S.REJECTED, S.CONTESTED})
"""Every closed appeal may be rated, a rejected one too."""
CONTESTABLE = frozenset({S.REJECTED})
ADDABLE = _WAITING | {S.ANSWERED}
"""Statuses in which the resident may add details."""


def allowed(action: Action, status: str) -> bool:
    return status in ALLOWED_FROM[action]
