"""What a step is, and the turn it handles.

A :class:`Step` is one page of the form: the question it asks, the inputs it accepts,
the navigation buttons it offers and when it is skipped. The engine
(:mod:`handlers.dialogue.engine`) routes an event to the step the resident is at and
derives next, «Назад» and "Шаг N из M" from the order of the steps.

A step's buttons carry short payloads (``t:roads``, ``nav:skip``); every payload a turn
shows is stamped with the step that showed it (``t:roads@topic``), so a press on an old
message is recognised as stale in one place, whatever the button.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Flag, StrEnum, auto
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.dialogue.draft import Draft, Memory
from handlers.events import Button, Capabilities, Event, Keyboard, Reply
from handlers.paging import Page, paginate
from handlers.texts import Texts
from storage.models import Dialogue, Resident

if TYPE_CHECKING:
    from handlers.dialogue.engine import ResidentDialogue


class Input(Flag):
    """Kinds of message a step accepts (a button press is always routed by its payload)."""

    NONE = 0
    TEXT = auto()
    LOCATION = auto()
    CONTACT = auto()
    MEDIA = auto()


class Nav(StrEnum):
    BACK = "back"
    CANCEL = "cancel"
    SKIP = "skip"
    DONE = "done"


BACK_AND_CANCEL = frozenset({Nav.BACK, Nav.CANCEL})


def input_of(event: Event) -> Input:
    if event.media:
        return Input.MEDIA
    if event.location is not None:
        return Input.LOCATION
    if event.contact is not None:
        return Input.CONTACT
    return Input.TEXT if event.text else Input.NONE


@dataclass(slots=True)
class Turn:
    """One event being handled: who, where they are, what we remember and what we answer."""

    engine: ResidentDialogue
    session: AsyncSession
    event: Event
    resident: Resident
    dialogue: Dialogue
    state: str
    memory: Memory
    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None
    alert: bool = False
    forgotten: bool = False
    pending: tuple[int, int] | None = None
    """A step of the flow to enter once its :meth:`Step.prepare` has run: (index, direction)."""
    prepared: set[str] = field(default_factory=set)

    @property
    def ctx(self) -> Context:
        return self.engine.ctx

    @property
    def t(self) -> Texts:
        return self.engine.ctx.texts

    @property
    def caps(self) -> Capabilities:
        return self.engine.ctx.caps(self.event.platform)

    @property
    def draft(self) -> Draft:
        return self.memory.draft

    def say(self, reply: Reply) -> None:
        """Answer with ``reply``; its buttons are stamped with the step the resident is at."""
        self.replies.append(stamp(reply, self.state))

    # What steps ask of the engine, spelled the way a step reads.

    def ask(self) -> None:
        self.engine.ask(self)

    def advance(self) -> None:
        self.engine.advance(self)

    def go(self, name: str) -> None:
        self.engine.go(self, name)

    def refuse(self, key: str, **args: Any) -> None:
        """Tell what this step accepts instead, and ask again."""
        self.say(Reply(self.t(key, **args)))
        self.ask()

    def nav_row(self) -> tuple[Button, ...]:
        return (
            Button(self.t("resident-btn-back"), "nav:back"),
            Button(self.t("resident-btn-cancel"), "nav:cancel"),
        )

    def choice_page(self, choices: Sequence[Button], *, page_size: int | None = None) -> Page:
        """The page of ``choices`` the resident is at, two to a row, with «◀» and «Ещё ▶»
        (``pg:<n>``, which the engine turns into that page) and the step's navigation below."""
        return paginate(
            choices,
            self.caps,
            page=self.memory.page,
            to_page=lambda n: f"pg:{n}",
            prev_label=self.t("resident-btn-prev"),
            more_label=self.t("resident-btn-more"),
            per_row=2,
            page_size=page_size,
            fixed=(self.nav_row(),),
        )

    def nav_keys(self) -> tuple[Button, ...]:
        """«Назад» and «Отмена» on a reply keyboard: they come back as their labels."""
        return (Button(self.t("resident-btn-back")), Button(self.t("resident-btn-cancel")))


class Step:
    """One step. Subclasses set the class attributes and override what they use."""

    name: ClassVar[str]
    accepts: ClassVar[Input] = Input.NONE
    refusal: ClassVar[str] = "resident-accepts-buttons"
    """The text saying what the step accepts, for any other input."""
    nav: ClassVar[frozenset[Nav]] = frozenset()
    numbered: ClassVar[bool] = False
    """Counted in "Шаг N из M"."""
    editable: ClassVar[bool] = True
    """A numbered step offered for change from the review (its label: ``resident-edit-<name>``)."""
    in_draft: ClassVar[bool] = False
    """Part of writing an appeal: /cancel drops the draft, /help asks again."""
    back_to: ClassVar[str | None] = None
    """Where «Назад» leads when the step is not in the ordered list."""
    leave_on_command: ClassVar[bool] = False
    """A command sends the resident back to idle first (the follow-up steps)."""

    # For the diagram in docs/dialogue.md (handlers/dialogue/diagram.py); the moves along
    # the ordered list of steps are drawn from the list itself.
    skip_when: ClassVar[str] = ""
    """When :meth:`skip_if` holds, in words."""
    exits: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Moves to steps off the ordered list: (target step, what makes it)."""
    entry: ClassVar[str] = ""
    """What brings a newcomer here first, if anything."""
    prepares: ClassVar[bool] = False
    """:meth:`prepare` reads the database before :meth:`skip_if` and :meth:`ask` decide."""

    async def prepare(self, turn: Turn) -> None:
        """Look up what :meth:`skip_if` and :meth:`ask` need (they cannot wait on the
        database) and keep it in the turn's memory; run once per turn, before entering."""
        return

    def ask(self, turn: Turn) -> Reply:
        raise NotImplementedError

    def skip_if(self, turn: Turn) -> bool:
        """True when the step has nothing to ask this resident; :meth:`when_skipped`
        then fills in its answer."""
        return False

    def when_skipped(self, turn: Turn) -> None:
        return None

    def reopen(self, turn: Turn) -> None:
        """The resident chose to change this step's answer from the review."""
        return

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        """A press on this step's own question; False when the step does not know it."""
        return False

    async def on_input(self, turn: Turn) -> bool:
        """A message of a kind in :attr:`accepts`; False hands it back to the engine
        (the step was left), which routes it again from the new step."""
        return True


def split(payload: str) -> tuple[str, str, str | None]:
    """``"t:roads@topic"`` → ``("t", "roads", "topic")``; no stamp → screen None."""
    body, at, screen = payload.rpartition("@")
    if not at:
        body, screen = payload, ""
    action, _, arg = body.partition(":")
    return action, arg, screen or None


def stamp(reply: Reply, screen: str) -> Reply:
    if not reply.buttons:
        return reply
    rows = tuple(
        tuple(
            replace(b, payload=f"{b.payload}@{screen}")
            if b.payload is not None and "@" not in b.payload
            else b
            for b in row
        )
        for row in reply.buttons
    )
    return replace(reply, buttons=rows)


def rows(buttons: Sequence[Button], per_row: int) -> list[tuple[Button, ...]]:
    per_row = max(1, per_row)
    return [tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def labels(keyboard: Keyboard) -> set[str]:
    return {b.text for row in keyboard for b in row if b.payload is None and b.request is None}


def typed_button(turn: Turn, question: Reply) -> str | None:
    """A button's label typed instead of pressed («Отправить», «Готово», «Мои обращения»):
    that button's payload, stamped. Navigation but «Готово» and the page arrows are not
    taken from typing (a reply keyboard's «Пропустить» tapped twice must skip one step:
    the second tap is words at the next one)."""
    text = (turn.event.text or "").strip().casefold()
    if not text or turn.event.media:
        return None
    for row in question.buttons:
        for button in row:
            payload = button.payload
            if payload is None or button.text.casefold() != text:
                continue
            action, arg, _ = split(payload)
            if action == "pg" or (action == "nav" and arg != Nav.DONE):
                return None
            return payload if "@" in payload else f"{payload}@{turn.state}"
    return None


async def enter_prepared(turn: Turn) -> None:
    """Enter the step the turn stopped at, once its :meth:`Step.prepare` has run."""
    while turn.pending is not None:
        (index, direction), turn.pending = turn.pending, None
        step = turn.engine.flow[index]
        await step.prepare(turn)
        turn.prepared.add(step.name)
        turn.engine.enter(turn, index, direction)
