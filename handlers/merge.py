"""``/merge N M`` in an agency chat: two appeals about the same problem become one.

M's residents (its author and its followers) become followers of N, M is closed and its
cards lose their buttons, and M's residents are told, each once, that they now hear about
N. Only a chat that may act on both appeals can merge them (the agency's own chats, or the
admin chats), and only while M still waits for an agency and N is not finished.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.desk_ops import Actor, may_act, record, refresh_cards, tell_resident
from handlers.events import Event, Reply, Response
from handlers.followers import show_count, tell_followers
from handlers.workflow import OPEN_STATUSES, AppealStatus
from storage import desk as q
from storage import followers as follower_store
from storage.models import parse_appeal_number

FINISHED = frozenset({AppealStatus.CLOSED, AppealStatus.REJECTED, AppealStatus.SOLVED})


async def merge(ctx: Context, event: Event, args: str) -> Response:
    texts = ctx.texts
    here = event.message_id

    def say(key: str, **kwargs: object) -> Response:
        return Response([Reply(texts(key, **kwargs), reply_to=here)])

    parts = args.split()
    ids = [parse_appeal_number(part) for part in parts]
    if len(ids) != 2 or None in ids or ids[0] == ids[1]:
        return say("merge-usage")
    keep_id, drop_id = int(ids[0] or 0), int(ids[1] or 0)
    async with ctx.db.transaction() as session:
        locked = {i: await q.appeal_for_update(session, i) for i in sorted((keep_id, drop_id))}
        keep, drop = locked[keep_id], locked[drop_id]
        if keep is None or drop is None:
            return say("desk-refuse-unknown-appeal")
        if not (may_act(ctx, event.chat, keep) and may_act(ctx, event.chat, drop)):
            return say("desk-refuse-not-yours")
        if keep.status in FINISHED:
            return say("merge-refuse-finished", number=keep.number, status=texts(f"status-{keep.status}"))
        if drop.status not in OPEN_STATUSES:
            return say("merge-refuse-not-open", number=drop.number, status=texts(f"status-{drop.status}"))
        actor = Actor.of("staff", event)
        now = ctx.clock.now()

        # Told first, while they still follow M: the author and the followers, once each.
        notice = Reply(texts("merge-notice-author", number=drop.number, into=keep.number))
        await tell_resident(ctx, session, drop, notice)
        await tell_followers(ctx, session, drop, "merge-notice-follower", into=keep.number)

        movers = [r.id for r in await follower_store.residents_following(session, drop.id)]
        author = await q.resident(session, drop.resident_id)
        if author is not None and author.forgotten_at is None:
            movers.insert(0, author.id)
        moved = 0
        for resident_id in movers:
            if resident_id != keep.resident_id and await follower_store.follow(
                session, keep.id, resident_id, now=now
            ):
                moved += 1
        await follower_store.drop_all(session, drop.id)

        await record(
            ctx, session, drop, "merged", actor, to_status=AppealStatus.CLOSED.value, text=keep.number
        )
        drop.closed_at = now
        await refresh_cards(ctx, session, drop, final=texts("merge-card-final", into=keep.number))
        await record(ctx, session, keep, "merged_in", actor, text=drop.number)
        await show_count(ctx, session, keep)
        return say("merge-done", number=drop.number, into=keep.number, moved=moved)
