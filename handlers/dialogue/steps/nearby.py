"""Step: the same problem, reported before. After the place, open appeals of the draft's
topic near it (within the catalogue's radius of a shared location, or at the same address
typed another way) are shown, up to three: number, topic, distance or address, date and
status, never another resident's words, name or photos. «Да, это оно» makes the resident a
follower of that appeal and ends the dialogue; «Нет, у меня другое» goes on. Skipped when
nothing is near (or the catalogue turns it off).
"""

from __future__ import annotations

from handlers import dates
from handlers.dialogue.draft import Memory, Near
from handlers.dialogue.step import BACK_AND_CANCEL, Step, Turn
from handlers.events import Button, Reply
from handlers.followers import join
from handlers.workflow import OPEN_STATUSES
from storage import nearby as nearby_store
from storage.desk import appeal_for_update

SHOWN_MAX = 3
OPEN = sorted(status.value for status in OPEN_STATUSES)


class Nearby(Step):
    name = "nearby"
    refusal = "resident-accepts-buttons"
    nav = BACK_AND_CANCEL
    in_draft = True
    prepares = True
    skip_when = "no open appeal of the topic near the place (or no place)"
    exits = (("idle", "«Да, это оно»: the resident follows that appeal"),)

    async def prepare(self, turn: Turn) -> None:
        turn.memory.nearby = []
        draft = turn.draft
        radius = turn.ctx.catalogue.nearby_radius(draft.category or "")
        if radius is None:
            return
        mine = turn.resident.id
        if draft.point is not None:
            found = await nearby_store.near_point(
                turn.session,
                str(draft.category),
                draft.point.latitude,
                draft.point.longitude,
                radius,
                exclude_resident=mine,
                limit=SHOWN_MAX,
                statuses=OPEN,
            )
        elif draft.address:
            found = await nearby_store.same_address(
                turn.session,
                str(draft.category),
                draft.address,
                exclude_resident=mine,
                limit=SHOWN_MAX,
                statuses=OPEN,
            )
        else:
            return
        turn.memory.nearby = [
            Near(
                id=n.appeal_id,
                number=n.number,
                status=n.status,
                created_at=n.created_at,
                distance_m=None if n.distance_m is None else round(n.distance_m),
            )
            for n in found
        ]

    def skip_if(self, turn: Turn) -> bool:
        return not turn.memory.nearby

    def ask(self, turn: Turn) -> Reply:
        t, draft = turn.t, turn.draft
        category = turn.ctx.catalogue.category(draft.category or "")
        topic = category.title if category else "—"
        lines = [t("resident-ask-nearby", count=len(turn.memory.nearby))]
        rows: list[tuple[Button, ...]] = []
        for near in turn.memory.nearby:
            if near.distance_m is None:
                where = t("resident-nearby-same-address", address=draft.address or "")
            else:
                where = t("resident-nearby-distance", metres=near.distance_m)
            catalogue = turn.ctx.catalogue
            date = dates.day(near.created_at, catalogue.zone, catalogue.region.locale)
            status_key = f"status-{near.status}"
            status = t(status_key) if t.has(status_key) else near.status
            lines.append(
                t(
                    "resident-nearby-line",
                    number=near.number,
                    topic=topic,
                    where=where,
                    date=date,
                    status=status,
                )
            )
            rows.append((Button(t("resident-btn-nearby-same", number=near.number), f"nb:{near.id}"),))
        rows.append((Button(t("resident-btn-nearby-other"), "nb:other"),))
        rows.append(turn.nav_row())
        return Reply("\n".join(lines), buttons=tuple(rows))

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if action != "nb":
            return False
        if arg == "other":
            turn.memory.nearby = []
            turn.advance()
            return True
        near = next((n for n in turn.memory.nearby if str(n.id) == arg), None)
        if near is None:
            return False  # not one this resident was shown: stale
        appeal = await appeal_for_update(turn.session, near.id)
        if appeal is None or appeal.status not in OPEN_STATUSES:
            turn.memory.nearby = [n for n in turn.memory.nearby if n.id != near.id]
            turn.say(Reply(turn.t("resident-nearby-gone", number=near.number)))
            turn.engine.enter(turn, turn.engine.flow.index(self))
            return True
        await join(turn.ctx, turn.session, appeal, turn.resident)
        turn.memory = Memory()
        turn.go("idle")
        turn.say(turn.engine.idle_menu(turn, turn.t("resident-nearby-joined", number=appeal.number)))
        return True
