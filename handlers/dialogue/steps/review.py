"""The review: the draft as the agency will read it; send, change a field, or drop it."""

from __future__ import annotations

import structlog

from handlers.deadlines import submitted_terms
from handlers.dialogue.draft import Draft, Memory
from handlers.dialogue.limits import rate_limited
from handlers.dialogue.step import BACK_AND_CANCEL, Step, Turn, rows
from handlers.events import Button, Reply
from handlers.forwarding import forward_new_appeal
from handlers.phones import format_phone
from handlers.texts import Safe
from handlers.workflow import AppealStatus
from storage import appeals as appeal_store

log = structlog.get_logger(__name__)


def summary(turn: Turn, draft: Draft) -> str:
    t, catalogue = turn.t, turn.ctx.catalogue
    category = catalogue.category(draft.category or "")
    municipality = catalogue.municipality(draft.municipality or "")
    lines = [
        t("resident-review-topic", topic=category.title if category else "—"),
        t("resident-review-municipality", municipality=municipality.name if municipality else "—"),
        t("resident-review-description", description=draft.description or ""),
    ]
    if draft.address:
        lines.append(t("resident-review-address", address=draft.address))
    elif draft.point is not None:
        lat, lon = draft.point.latitude, draft.point.longitude
        lines.append(t("resident-review-location", latitude=f"{lat:.5f}", longitude=f"{lon:.5f}"))
    else:
        lines.append(t("resident-review-no-place"))
    lines.append(t("resident-review-photos", count=len(draft.photos)))
    if draft.phone:
        lines.append(t("resident-review-phone", phone=format_phone(draft.phone)))
    else:
        lines.append(t("resident-review-no-phone"))
    return "\n".join(lines)


class Review(Step):
    name = "review"
    exits = (("idle", "«Отправить» (stored and forwarded), «Отменить»"), ("edit", "«Изменить»"))
    refusal = "resident-accepts-review"
    nav = BACK_AND_CANCEL
    in_draft = True

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        return Reply(
            t("resident-review", summary=Safe(summary(turn, turn.draft))),
            buttons=(
                (Button(t("resident-btn-send"), "rv:send"),),
                (Button(t("resident-btn-edit"), "rv:edit"), Button(t("resident-btn-abort"), "nav:cancel")),
                (Button(t("resident-btn-back"), "nav:back"),),
            ),
        )

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if (action, arg) == ("rv", "send"):
            await submit(turn)
        elif (action, arg) == ("rv", "edit"):
            turn.go(Edit.name)
            turn.ask()
        else:
            return False
        return True


class Edit(Step):
    """«Изменить»: which field; finishing that step returns to the review."""

    name = "edit"
    exits = (("topic", "a field chosen (any step of the draft), then back to the review"),)
    nav = BACK_AND_CANCEL
    in_draft = True
    back_to = Review.name

    def _fields(self, turn: Turn) -> list[Step]:
        return [s for s in turn.engine.flow if s.numbered and s.editable and not s.skip_if(turn)]

    def ask(self, turn: Turn) -> Reply:
        t = turn.t
        fields = [Button(t(f"resident-edit-{s.name}"), f"ed:{s.name}") for s in self._fields(turn)]
        return Reply(t("resident-ask-edit"), buttons=(*rows(fields, 2), turn.nav_row()))

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        target = next((s for s in self._fields(turn) if action == "ed" and s.name == arg), None)
        if target is None:
            return False
        turn.memory.editing = True
        turn.go(target.name)
        target.reopen(turn)
        turn.ask()
        return True


def _complete(turn: Turn, draft: Draft) -> bool:
    catalogue = turn.ctx.catalogue
    return bool(
        catalogue.category(draft.category or "")
        and catalogue.municipality(draft.municipality or "")
        and draft.description
    )


async def submit(turn: Turn) -> None:
    draft, ctx = turn.draft, turn.ctx
    if not _complete(turn, draft):  # a draft from an older catalogue
        await turn.engine.start_new(turn)
        return
    refusal = await rate_limited(turn)
    if refusal is not None:
        turn.say(Reply(f"{refusal}\n{turn.t('resident-rate-kept')}"))
        turn.ask()
        return
    appeal = await appeal_store.create_appeal(
        turn.session,
        turn.resident,
        appeal_store.NewAppeal(
            platform=turn.event.platform.value,
            category_id=str(draft.category),
            municipality_id=str(draft.municipality),
            description=str(draft.description),
            address=draft.address,
            latitude=draft.point.latitude if draft.point else None,
            longitude=draft.point.longitude if draft.point else None,
            phone=draft.phone,
            photos=tuple(appeal_store.PhotoRef(p.platform, p.ref, p.unique_id, p.url) for p in draft.photos),
        ),
        status=AppealStatus.NEW.value,
        now=ctx.clock.now(),
    )
    if draft.phone:
        turn.resident.phone = draft.phone
    await forward_new_appeal(ctx, turn.session, appeal)
    log.info("appeal.submitted", appeal=appeal.number, category=appeal.category_id, agency=appeal.agency_id)
    turn.memory = Memory()
    turn.go("idle")
    if appeal.status == AppealStatus.MODERATION.value:
        # The centre reads it first: the agency's terms start when it is passed on.
        accepted = turn.t("resident-submitted-moderation", number=appeal.number)
    else:
        accepted = turn.t("resident-submitted", number=appeal.number, **submitted_terms(ctx, appeal))
    turn.say(turn.engine.idle_menu(turn, accepted))
