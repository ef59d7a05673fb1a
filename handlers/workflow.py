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
    new / passed / in_progress / redirected / answered --assign, note--> (status kept)
"""

from __future__ import annotations

from enum import StrEnum


class AppealStatus(StrEnum):
    """Where an appeal stands; stored as its value in ``appeals.status`` (a plain string:
    storage names no status, its queries take the ones they need from the caller)."""

    MODERATION = "moderation"
    """Read in the admin chat before any agency sees it (``[moderation]`` in the catalogue)."""
    NEW = "new"
    PASSED = "passed"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    SOLVED = "solved"
    REJECTED = "rejected"
    REDIRECTED = "redirected"
    CONTESTED = "contested"
    """The resident contests a rejection; the admin chat upholds it or sends it back."""
    CLOSED = "closed"
    REVIEW = "review"
    """The agency's answer waits for the centre's approval (``review_answers`` in the catalogue)."""


S = AppealStatus

OPEN_STATUSES = frozenset({S.NEW, S.PASSED, S.IN_PROGRESS, S.REDIRECTED})
"""Statuses in which the appeal waits for the agency: its clocks run, the desk lists it."""

SETTLED = frozenset({S.ANSWERED, S.SOLVED, S.CLOSED})
"""The agency answered or solved it (the resident may have closed it since); rejections not included."""


class Action(StrEnum):
    TAKE = "take"
    ANSWER = "answer"
    REDIRECT = "redir"
    REJECT = "reject"
    SOLVE = "solve"
    EXTEND = "extend"
    UPHOLD = "uphold"
    RETURN = "return"
    ASSIGN = "assign"
    NOTE = "note"


ALLOWED_FROM: dict[Action, frozenset[S]] = {
    Action.TAKE: frozenset({S.NEW, S.PASSED, S.REDIRECTED}),
    Action.ANSWER: OPEN_STATUSES | {S.ANSWERED},
    Action.REDIRECT: OPEN_STATUSES,
    Action.REJECT: OPEN_STATUSES | {S.ANSWERED},
    Action.SOLVE: OPEN_STATUSES | {S.ANSWERED},
    Action.EXTEND: OPEN_STATUSES,
    Action.UPHOLD: frozenset({S.CONTESTED}),
    Action.RETURN: frozenset({S.CONTESTED}),
    Action.ASSIGN: OPEN_STATUSES | {S.ANSWERED},
    Action.NOTE: OPEN_STATUSES | {S.ANSWERED},
}
ADMIN_ONLY = frozenset({Action.EXTEND, Action.UPHOLD, Action.RETURN})

AWAITING_FEEDBACK = frozenset({S.ANSWERED, S.SOLVED})
"""Statuses in which the resident may confirm the solution or send it back."""

RATEABLE = frozenset({S.ANSWERED, S.SOLVED, S.CLOSED, S.REJECTED, S.CONTESTED})
"""Every closed appeal may be rated, a rejected one too."""
CONTESTABLE = frozenset({S.REJECTED})
ADDABLE = OPEN_STATUSES | {S.ANSWERED}
"""Statuses in which the resident may add details."""


def allowed(action: Action, status: str) -> bool:
    return status in ALLOWED_FROM[action]
