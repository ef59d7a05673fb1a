"""The engine: an event in, the step the resident is at handles it, the new state out.

Every event is one unit of work: the resident row is loaded (and locked on PostgreSQL)
with its dialogue, the event is routed, and the new state and memory are written back in
the same transaction, so a restart or another worker continues where the resident was.

The order of the appeal's steps is one list (``FLOW``); next, «Назад», the skipped steps
and "Шаг N из M" all follow from it. The other steps (idle, consent, the review's
«Изменить», /forget, the follow-ups) live in the same state space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from handlers import typed_choices
from handlers.context import Context
from handlers.dialogue import agency_reply, commands, intake
from handlers.dialogue.draft import Draft, Memory
from handlers.dialogue.limits import rate_limited
from handlers.dialogue.my_appeals import MyAppeals
from handlers.dialogue.step import Nav, Step, Turn, enter_prepared, input_of, labels, split, typed_button
from handlers.dialogue.steps import FLOW, OTHERS, consent, followup
from handlers.events import Event, Reply, Response
from storage import residents as resident_store

IDLE = "idle"
GLOBAL = frozenset({"go", "my", "ap"})
"""Payload actions that mean the same from every screen (they check their own argument)."""


class ResidentDialogue:
    def __init__(self, ctx: Context, *, flow: Sequence[Step] = FLOW, others: Sequence[Step] = OTHERS) -> None:
        self.ctx = ctx
        self.flow = tuple(flow)
        self.steps: dict[str, Step] = {}
        for step in (*self.flow, *others):
            if step.name in self.steps:
                raise ValueError(f"two steps named {step.name!r}")
            self.steps[step.name] = step
        self.my = MyAppeals(ctx)
        self._nav_labels = {ctx.texts(f"resident-btn-{nav.value}"): nav for nav in Nav}

    # -- the entry point -------------------------------------------------------------------

    async def handle(self, event: Event) -> Response:
        t = self.ctx.texts
        if event.sender is None:
            return Response()
        if event.edited:  # the draft keeps what was sent; say so rather than ignore the edit
            return Response(replies=[Reply(t("guard-edited"))])
        async with self.ctx.db.transaction() as session:
            resident, dialogue = await resident_store.get_or_create(session, event.sender)
            if dialogue.typed_choices is not None:
                # The last screen went out as plain text: a number typed now is its button.
                event = typed_choices.resolve(event, dialogue.typed_choices)
                dialogue.typed_choices = None
            if resident.blocked_at is not None:
                return Response(replies=[Reply(t("resident-blocked"))])
            state = dialogue.state if dialogue.state in self.steps else IDLE
            memory = Memory.load(dialogue.data)
            turn = Turn(self, session, event, resident, dialogue, state, memory)
            await self.route(turn)
            await enter_prepared(turn)
            self._close_keyboard(turn, state)
            if not turn.forgotten:
                data = turn.memory.dump()
                if turn.state != dialogue.state or data != dialogue.data:
                    dialogue.state, dialogue.data = turn.state, data
            return Response(replies=turn.replies, toast=turn.toast, alert=turn.alert)

    async def route(self, turn: Turn) -> None:
        event = turn.event
        if event.command is not None:
            await commands.handle(turn, event.command[0])
            return
        payload = event.payload
        if payload is not None and split(payload)[0] in followup.ACTIONS:
            await followup.on_button(turn, payload)
            return
        if turn.resident.consent_at is None and turn.state != "forget":
            await consent.gate(turn)
            return
        if event.sender_name and turn.resident.name != event.sender_name[:128]:
            turn.resident.name = event.sender_name[:128]
        if await agency_reply.handle(turn):
            return
        step = self.step(turn)
        if payload is not None:
            await self._press(turn, step, payload)
            return
        if intake.album_goes_on(turn, step):
            return
        nav = self._label_nav(turn, step)
        typed = None if nav is not None else typed_button(turn, self.question(turn))
        if nav is not None:
            await self._navigate(turn, step, nav)
        elif typed is not None:
            await self._press(turn, step, typed)
        elif input_of(event) & step.accepts:
            if not await step.on_input(turn):
                await self.route(turn)
        elif step.in_draft and intake.keep_elsewhere(turn):
            self.ask(turn)  # nothing sent is lost: kept in the draft, and said where
        else:
            turn.refuse(step.refusal)

    async def _press(self, turn: Turn, step: Step, payload: str) -> None:
        action, arg, screen = split(payload)
        if action in GLOBAL:
            await self._global(turn, action, arg)
        elif screen != turn.state:
            self.stale(turn)  # a button of a step the resident has left, or of no step at all
        elif action == "nav" and arg in step.nav:
            await self._navigate(turn, step, Nav(arg))
        elif action == "pg" and arg.isascii() and arg.isdigit() and len(arg) < 6:
            turn.memory.page = int(arg)
            turn.say(replace(self.question(turn), edit_message_id=turn.event.message_id))
        elif action == "nav" or not await step.on_button(turn, action, arg):
            self.stale(turn)

    async def _navigate(self, turn: Turn, step: Step, nav: Nav) -> None:
        if nav is Nav.BACK:
            self.back(turn)
        elif nav is Nav.CANCEL:
            self.cancel(turn)
        elif not await step.on_button(turn, "nav", nav.value):
            self.stale(turn)

    def _label_nav(self, turn: Turn, step: Step) -> Nav | None:
        """Reply-keyboard buttons arrive as their label: the label of a navigation button
        on the step's own keyboard means that button (elsewhere it is just text)."""
        text = (turn.event.text or "").strip()
        nav = self._nav_labels.get(text)
        if nav is None or nav not in step.nav or turn.event.media:
            return None
        return nav if text in labels(self.question(turn).keyboard) else None

    def _close_keyboard(self, turn: Turn, started_in: str) -> None:
        """Leaving a step that showed a reply keyboard: take the keyboard away."""
        if (
            turn.forgotten
            or turn.state == started_in
            or any(r.keyboard or r.remove_keyboard for r in turn.replies)
        ):
            return
        before = Turn(self, turn.session, turn.event, turn.resident, turn.dialogue, started_in, turn.memory)
        if not self.question(before).keyboard:
            return
        for n, reply in enumerate(turn.replies):
            if not reply.buttons:
                turn.replies[n] = replace(reply, remove_keyboard=True)
                return
        turn.replies.insert(0, Reply(self.ctx.texts("resident-ok"), remove_keyboard=True))

    async def _global(self, turn: Turn, action: str, arg: str) -> None:
        in_draft = self.step(turn).in_draft
        if action == "go" and arg == "new":
            await self.begin(turn)
        elif action == "go" and arg == "resume":
            if in_draft or turn.state == "resume":
                self.ask(turn)
            else:
                turn.say(self.idle_menu(turn))
        elif action == "my" and arg.isdigit() and len(arg) < 6:
            edit = turn.event.message_id if turn.event.payload else None
            turn.say(await self.my.page(turn, int(arg), in_draft=in_draft, edit_id=edit))
        elif action == "ap" and arg.isdigit() and len(arg) <= 12:
            details = await self.my.details(turn, int(arg), in_draft=in_draft)
            if details is None:
                self.stale(turn)
            else:
                turn.say(details)
        else:
            self.stale(turn)

    # -- moving between steps --------------------------------------------------------------

    def step(self, turn: Turn) -> Step:
        return self.steps[turn.state]

    def go(self, turn: Turn, name: str) -> None:
        if name not in self.steps:
            raise KeyError(f"no step {name!r}")
        if name != turn.state:
            turn.memory.page, turn.memory.all_topics = 0, False
        if name in turn.memory.prefilled:  # the resident came to it: an ordinary step now
            turn.memory.prefilled.remove(name)
        turn.state = name

    def question(self, turn: Turn) -> Reply:
        step = self.step(turn)
        reply = step.ask(turn)
        if step.numbered and step in self.flow:
            shown = [s for s in self.flow if s.numbered and not self._passed(turn, s)]
            if step in shown:
                prefix = self.ctx.texts("resident-step", n=shown.index(step) + 1, m=len(shown))
                reply = replace(reply, text=f"{prefix} {reply.text}")
        return reply

    def ask(self, turn: Turn) -> None:
        turn.say(self.question(turn))

    def stale(self, turn: Turn) -> None:
        turn.toast = self.ctx.texts("resident-stale")
        self.ask(turn)

    def enter(self, turn: Turn, index: int, direction: int = 1) -> None:
        """Go to the step at ``index`` of the flow, or the first one after it (before it,
        going back) that is not skipped; before the first step is cancelling."""
        while 0 <= index < len(self.flow):
            if (step := self.flow[index]).prepares and step.name not in turn.prepared:
                turn.pending = (index, direction)  # entered once it has read the database
                return
            if not (self._passed(turn, step) if direction > 0 else step.skip_if(turn)):
                break
            if direction > 0 and step.skip_if(turn):
                self.flow[index].when_skipped(turn)
            index += direction
        if index < 0:
            if turn.draft.description:
                # «Назад» at the first step would drop what the resident wrote: only
                # «Отмена», pressed on purpose, does that.
                self.go(turn, self.flow[0].name)
                turn.say(Reply(self.ctx.texts("resident-back-at-first")))
                self.ask(turn)
                return
            self.cancel(turn)
            return
        self.go(turn, self.flow[min(index, len(self.flow) - 1)].name)
        self.ask(turn)

    def _passed(self, turn: Turn, step: Step) -> bool:
        """Not asked on the way forward: skipped, or answered by the first message."""
        return step.skip_if(turn) or step.name in turn.memory.prefilled

    def advance(self, turn: Turn) -> None:
        """The current step is answered: the next one, or the review when changing a field."""
        if turn.memory.editing:
            turn.memory.editing = turn.memory.replacing_photos = False
            self.enter(turn, len(self.flow) - 1)
            return
        self.enter(turn, self._index(turn) + 1)

    def back(self, turn: Turn) -> None:
        step = self.step(turn)
        if turn.memory.editing or step.back_to is not None:
            turn.memory.editing = turn.memory.replacing_photos = False
            self.go(turn, step.back_to or self.flow[-1].name)
            self.ask(turn)
            return
        self.enter(turn, self._index(turn) - 1, direction=-1)

    def _index(self, turn: Turn) -> int:
        return [s.name for s in self.flow].index(turn.state)

    def cancel(self, turn: Turn) -> None:
        turn.memory = Memory()
        self.go(turn, IDLE)
        turn.say(self.idle_menu(turn, self.ctx.texts("resident-cancelled")))

    async def begin(self, turn: Turn) -> None:
        """/new, /start, «Подать обращение»: offer the abandoned draft, or start afresh."""
        if turn.state == "resume":
            self.ask(turn)
        elif not turn.draft.is_empty():
            if self.step(turn).in_draft:
                turn.memory.resume = turn.state
            self.go(turn, "resume")
            self.ask(turn)
        else:
            await self.start_new(turn)

    async def start_new(self, turn: Turn) -> None:
        refusal = await rate_limited(turn)
        turn.memory = Memory()
        if refusal is not None:
            self.go(turn, IDLE)
            turn.say(self.idle_menu(turn, refusal))
            return
        self.enter(turn, 0)

    async def start_with(self, turn: Turn, draft: Draft, *, album: str | None = None) -> None:
        """An appeal begun by what the resident sent (a text, photos, a location): the
        steps it answers are passed, the resident is told what was kept."""
        refusal = await rate_limited(turn)
        if refusal is not None:
            turn.memory = Memory()
            self.go(turn, IDLE)
            turn.say(self.idle_menu(turn, refusal))
            return
        turn.memory = Memory(draft=draft, prefilled=intake.prefilled(draft), album=album)
        turn.say(Reply(self.ctx.texts("resident-kept", kept=intake.kept_summary(turn, draft))))
        self.enter(turn, 0)

    def idle_menu(self, turn: Turn, text: str | None = None) -> Reply:
        """The idle step's menu, under ``text`` (by default its own question)."""
        menu = self.steps[IDLE].ask(turn)
        return menu if text is None else replace(menu, text=text)
