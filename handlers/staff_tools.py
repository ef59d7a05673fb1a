"""Staff tools in the agency chats: answer templates, internal notes and ``/find``.

- «Ответить» also offers the catalogue's answer templates for the appeal's topic; a
  template picked is sent as the answer (reviewed like any other), with the appeal's
  number and address filled in. Payloads are ``t:<appeal id>:<template id>``.

- A reply to an appeal's message that starts with ``!`` is an internal note: it goes into
  the appeal's history (``/appeal`` shows it) and is never sent to the resident.
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
from handlers.desk_ops import Actor, may_act, queue, record
from handlers.events import Button, ChatRef, Event, Reply, Response
from handlers.phones import phone_digits
from storage import moderation as mq
from storage.models import Appeal, parse_appeal_number

TEMPLATE_PREFIX = "t"
NOTE_MARK = "!"
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
