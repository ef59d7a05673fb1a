"""Staff tools in the agency chats: answer templates, internal notes and ``/find``.

- «Ответить» also offers the catalogue's answer templates for the appeal's topic; a
  template picked is sent as the answer (reviewed like any other), with the appeal's
  number and address filled in. Payloads are ``t:<appeal id>:<template id>``.

- A reply to an appeal's message that starts with ``!`` is an internal note: it goes into
  the appeal's history (``/appeal`` shows it) and is never sent to the resident. The
  card's «Заметка» asks for one: the reply to that prompt is a note without the ``!``.
- «Назначить» assigns the appeal to a person of the chat (``d:assign:<appeal id>:<member
  id>``, ``-`` to unassign): the card shows who, and ``/open mine`` lists one's own. Bots
  cannot list a group's members, so the chat offers the people seen acting in it (a
  button, a command, a reply to the bot), the one pressing first.
- ``/find`` looks through the chat's own appeals (the admin chat: all) by number, by
  phone, or by words of the address and the description (every word must occur; case is
  folded in Python, as SQLite does not fold Cyrillic).
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.catalogue import AnswerTemplate
from handlers.context import Context
from handlers.desk_ops import Actor, may_act, queue, record, refresh_cards
from handlers.events import Button, ChatRef, Event, Reply, Response
from handlers.paging import paginate
from handlers.phones import phone_digits
from handlers.workflow import OPEN_STATUSES, Action
from storage import desk as q
from storage import moderation as mq
from storage.models import Appeal, parse_appeal_number

TEMPLATE_PREFIX = "t"
NOTE_MARK = "!"
NOTE_ROLE = "prompt_note"
"""The link role of «Заметка»'s prompt: a reply to it is a note."""
MINE = frozenset({"mine", "my", "мои", "моё", "мое"})
"""``/open mine``: the appeals assigned to the one asking."""
UNASSIGN = "-"
_PAGE = "~"
FIND_SHOWN = 20
"""At most this many appeals in one /find answer (newest first)."""
_NUMBER = re.compile(r"(№\s*)?\d{4}-\d{1,12}|№\s*\d{1,12}")
_WORD = re.compile(r"\w+")


def templates_for(ctx: Context, appeal: Appeal) -> list[AnswerTemplate]:
    return [t for t in ctx.catalogue.templates if not t.categories or appeal.category_id in t.categories]


async def offer_templates(ctx: Context, session: AsyncSession, event: Event, appeal: Appeal) -> None:
    """With «Ответить»: the templates for the appeal's topic, as buttons in the chat."""
    offered = templates_for(ctx, appeal)
    if not offered:
        return
    rows = tuple((Button(t.title, payload=f"{TEMPLATE_PREFIX}:{appeal.id}:{t.id}"),) for t in offered)
    reply = Reply(ctx.texts("template-offer", number=appeal.number), buttons=rows)
    await queue(ctx, session, event.chat, reply, purpose="prompt", appeal_id=appeal.id)


def parse_template(ctx: Context, data: str) -> tuple[int, AnswerTemplate] | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != TEMPLATE_PREFIX or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    template = next((t for t in ctx.catalogue.templates if t.id == parts[2]), None)
    return None if template is None else (int(parts[1]), template)


def is_note(event: Event) -> bool:
    return (event.text or "").lstrip().startswith(NOTE_MARK)


async def note(ctx: Context, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor) -> Response:
    """Keep an internal note in the appeal's history; nothing reaches the resident."""
    texts = ctx.texts
    text = (event.text or "").lstrip().removeprefix(NOTE_MARK).strip()
    if not text:
        return Response([Reply(texts("note-empty"), reply_to=event.message_id)])
    await record(ctx, session, appeal, "note", actor, text=text)
    return Response([Reply(texts("note-saved", number=appeal.number), reply_to=event.message_id)])


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _matches(appeal: Appeal, query: str) -> bool:
    digits = _digits(query)
    if len(digits) >= 7 and len(digits) >= len(query.replace(" ", "")) - 4:
        # A phone: the last ten digits decide (+7 or 8 in front, an extension do not matter).
        return bool(appeal.phone) and phone_digits(appeal.phone or "")[-10:].endswith(digits[-10:])
    haystack = f"{appeal.address or ''} {appeal.description}".casefold()
    words = [w.casefold() for w in _WORD.findall(query)]
    return bool(words) and all(w in haystack for w in words)


async def find(ctx: Context, chat: ChatRef, query: str) -> Response:
    texts, catalogue = ctx.texts, ctx.catalogue
    query = query.strip()
    if not query:
        return Response([Reply(texts("find-usage"))])
    agency = None if catalogue.is_admin_chat(chat) else catalogue.agency_of_chat(chat)
    async with ctx.db.read() as session:
        if _NUMBER.fullmatch(query):
            appeal_id = parse_appeal_number(query)
            found = []
            if appeal_id is not None:
                appeal = await session.get(Appeal, appeal_id)
                if appeal is not None and may_act(ctx, chat, appeal):
                    found = [appeal]
        else:
            candidates = await mq.recent_appeals(session, agency.id if agency else None)
            found = [a for a in candidates if _matches(a, query)]
    if not found:
        return Response([Reply(texts("find-none", query=query))])
    lines = [texts("find-title", count=str(len(found)))]
    for appeal in found[:FIND_SHOWN]:
        lines.append(
            texts(
                "find-line",
                number=appeal.number,
                topic=card.topic(catalogue, appeal),
                status=texts(f"status-{appeal.status}"),
                received=card.local_time(catalogue, appeal.created_at),
                address=appeal.address or texts("find-no-address"),
            )
        )
    if len(found) > FIND_SHOWN:
        lines.append(texts("find-more", count=str(len(found) - FIND_SHOWN)))
    return Response([Reply("\n".join(lines))])


# -- «Назначить» ---------------------------------------------------------------------------


async def remember(ctx: Context, event: Event) -> None:
    """Whoever presses a button, gives a command or replies in a staff chat can be assigned."""
    sender = event.sender
    if sender is None:
        return
    async with ctx.db.transaction() as session:
        await q.remember_member(
            session,
            platform=event.chat.platform.value,
            chat_id=event.chat.chat_id,
            external_id=sender.external_id,
            name=event.sender_name,
            now=ctx.clock.now(),
        )


def _assign_payload(appeal_id: int, extra: str) -> str:
    return card.payload(Action.ASSIGN, appeal_id, extra)


async def assign_choices(
    ctx: Context, session: AsyncSession, event: Event, appeal: Appeal, page_marker: str | None
) -> Response:
    """The people of this chat, the one pressing first, a page at a time; «Снять» when the
    appeal is assigned. A page after the first redraws the same message."""
    texts = ctx.texts
    members = list(await q.chat_members(session, event.chat.platform.value, event.chat.chat_id))
    me = event.sender.external_id if event.sender else None
    members.sort(key=lambda m: m.external_id != me)  # stable: then the most recently seen
    choices = [
        Button(m.name or m.external_id, payload=_assign_payload(appeal.id, str(m.id)))
        for m in members
        if not (m.platform == appeal.assignee_platform and m.external_id == appeal.assignee_id)
    ]
    fixed: tuple[tuple[Button, ...], ...] = ()
    if appeal.assignee_id is not None:
        fixed = ((Button(texts("assign-button-clear"), payload=_assign_payload(appeal.id, UNASSIGN)),),)
    if not choices and not fixed:
        return Response(toast=texts("assign-nobody"), alert=True)
    number = page_marker[len(_PAGE) :] if page_marker else "0"
    page = paginate(
        choices,
        ctx.caps(event.chat.platform),
        page=int(number) if number.isdigit() and len(number) < 4 else 0,
        to_page=lambda n: _assign_payload(appeal.id, f"{_PAGE}{n}"),
        prev_label=texts("resident-btn-prev"),
        more_label=texts("resident-btn-more"),
        fixed=fixed,
    )
    edit = event.message_id if page_marker else None
    text = texts("assign-choose", number=appeal.number)
    return Response([Reply(text, buttons=page.rows, edit_message_id=edit)])


async def assign(
    ctx: Context, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, choice: str
) -> Response:
    """Assign the appeal to the member chosen (of this chat only), or clear it."""
    texts = ctx.texts
    if choice == UNASSIGN:
        if appeal.assignee_id is None:
            return Response(toast=texts("assign-toast-none"))
        appeal.assignee_platform = appeal.assignee_id = appeal.assignee_name = None
        appeal.assigned_at = None
        await record(ctx, session, appeal, "unassigned", actor)
        await refresh_cards(ctx, session, appeal)
        done = texts("assign-done-clear", number=appeal.number, actor=actor.label)
        return Response([Reply(done, edit_message_id=event.message_id)], toast=texts("assign-toast-clear"))
    members = await q.chat_members(session, event.chat.platform.value, event.chat.chat_id)
    member = next((m for m in members if choice.isdigit() and m.id == int(choice)), None)
    if member is None:
        return Response(toast=texts("desk-refuse-bad-button"))
    name = member.name or member.external_id
    appeal.assignee_platform, appeal.assignee_id = member.platform, member.external_id
    appeal.assignee_name, appeal.assigned_at = member.name, ctx.clock.now()
    await record(ctx, session, appeal, "assigned", actor, text=name)
    await refresh_cards(ctx, session, appeal)
    done = texts("assign-done", number=appeal.number, name=name, actor=actor.label)
    return Response([Reply(done, edit_message_id=event.message_id)], toast=texts("assign-toast"))


async def open_mine(ctx: Context, event: Event) -> Response:
    """``/open mine``: the open appeals assigned to the one asking (in an agency chat, of
    that agency)."""
    texts, catalogue = ctx.texts, ctx.catalogue
    sender = event.sender
    if sender is None:
        return Response([Reply(texts("assign-open-empty"))])
    agency = None if catalogue.is_admin_chat(event.chat) else catalogue.agency_of_chat(event.chat)
    now = ctx.clock.now()
    async with ctx.db.read() as session:
        appeals = await q.open_appeals(
            session,
            agency.id if agency else None,
            OPEN_STATUSES,
            assignee=(sender.platform.value, sender.external_id),
        )
    if not appeals:
        return Response([Reply(texts("assign-open-empty"))])
    lines = [texts("assign-open-title", count=str(len(appeals)))]
    for appeal in appeals:
        lines.append(
            texts(
                "desk-open-line",
                number=appeal.number,
                topic=card.topic(catalogue, appeal),
                status=texts(f"status-{appeal.status}"),
                age=card.age(texts, now - appeal.created_at),
            )
        )
    return Response([Reply("\n".join(lines))])
