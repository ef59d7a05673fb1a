"""/my: the resident's appeals a page at a time, and one appeal with its history.

What the resident sees, and the two reads behind it. The dialogue routes ``my:<page>`` and
``ap:<appeal id>`` here; the buttons drawn lead back to it (``go:new``, ``go:resume``,
``add:<appeal id>`` for :mod:`handlers.dialogue.steps.followup`). A page holds as many
appeals as the chat can show buttons for, up to :data:`APPEALS_PER_PAGE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from handlers import dates
from handlers.context import Context
from handlers.events import Button, Capabilities, Reply
from handlers.paging import shorten
from handlers.texts import Safe
from handlers.workflow import OPEN_STATUSES
from storage import appeals as appeal_store
from storage import followers as follower_store
from storage.models import Appeal, AppealEvent

if TYPE_CHECKING:
    from handlers.dialogue.step import Turn

APPEALS_PER_PAGE = 5
_WITH_TEXT = frozenset(
    {"answer", "solved", "rejected", "extended", "contested", "reopened", "details", "rating"}
)
"""History entries the resident reads with their text (the agency's answer in full)."""
_PLAIN = frozenset(
    {
        "created",
        "passed",
        "unrouted",
        "taken",
        "answer",
        "solved",
        "redirected",
        "details",
        "closed",
        "upheld",
        "returned",
    }
)
"""History entries shown as a plain status change; every other kind stays internal."""


def per_page(caps: Capabilities) -> int:
    """One appeal a row, with a row for «◀», «Ещё ▶» and «↩ К обращению» below."""
    return max(1, min(APPEALS_PER_PAGE, caps.inline_rows_max - 1, caps.inline_buttons_max - 3))


class MyAppeals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.t = ctx.texts

    async def page(self, turn: Turn, page: int, *, in_draft: bool, edit_id: str | None) -> Reply:
        """One page of the list (the last one if the list shrank since the button was drawn).

        ``in_draft``: the resident has a draft open, so a button leads back to it.
        ``edit_id``: the message to redraw instead of sending a new one."""
        session, resident_id, size = turn.session, turn.resident.id, per_page(turn.caps)
        appeals, total = await appeal_store.list_for_resident(
            session, resident_id, offset=page * size, limit=size
        )
        pages = max(1, -(-total // size))
        if total and page >= pages:
            page = pages - 1
            appeals, total = await appeal_store.list_for_resident(
                session, resident_id, offset=page * size, limit=size
            )
        back_row: list[Button] = []
        if in_draft:
            back_row.append(Button(self.t("resident-btn-resume"), "go:resume"))
        followed = await follower_store.followed_by(session, resident_id) if page == 0 else ()
        if not total and not followed:
            buttons = ((Button(self.t("resident-btn-new"), "go:new"), *back_row),)
            return Reply(self.t("resident-my-empty"), buttons=buttons)
        lines = [self.t("resident-my-title", total=total, page=page + 1, pages=pages)] if total else []
        rows: list[tuple[Button, ...]] = []
        for appeal in appeals:
            status = self._status(appeal.status)
            lines.append(
                self.t(
                    "resident-my-line",
                    number=appeal.number,
                    date=self._date(appeal.created_at),
                    topic=self._topic(appeal.category_id),
                    status=status,
                )
            )
            label = self.t("resident-my-button", number=appeal.number, status=status)
            rows.append((Button(shorten(label, turn.caps), f"ap:{appeal.id}"),))
        if followed:
            # The appeals the resident joined, on the first page: a «Не следить» button for
            # as many as the keyboard still holds (each is listed either way).
            room = min(
                turn.caps.inline_rows_max - len(appeals) - 1, turn.caps.inline_buttons_max - len(appeals) - 3
            )
            if total:
                lines.append("")
            lines.append(self.t("follower-my-title"))
            for appeal in followed:
                lines.append(
                    self.t(
                        "follower-my-line",
                        number=appeal.number,
                        date=self._date(appeal.created_at),
                        topic=self._topic(appeal.category_id),
                        status=self._status(appeal.status),
                    )
                )
            for appeal in followed[: max(room, 0)]:
                label = self.t("follower-btn-leave", number=appeal.number)
                rows.append((Button(shorten(label, turn.caps), f"uf:{appeal.id}"),))
        paging: list[Button] = []
        if page > 0:
            paging.append(Button(self.t("resident-btn-prev"), f"my:{page - 1}"))
        if page < pages - 1:
            paging.append(Button(self.t("resident-btn-more"), f"my:{page + 1}"))
        paging.extend(back_row)
        if paging:
            rows.append(tuple(paging))
        return Reply("\n".join(lines), buttons=tuple(rows), edit_message_id=edit_id)

    async def details(self, turn: Turn, appeal_id: int, *, in_draft: bool) -> Reply | None:
        """The resident's own appeal with its history; None for anyone else's, or none."""
        found = await appeal_store.get_with_history(turn.session, appeal_id, turn.resident.id)
        if found is None:
            return None
        return self._details(*found, in_draft=in_draft)

    def _details(self, appeal: Appeal, events: Sequence[AppealEvent], *, in_draft: bool) -> Reply:
        municipality = self.ctx.catalogue.municipality(appeal.municipality_id)
        parts = [
            self.t(
                "resident-details",
                number=appeal.number,
                topic=self._topic(appeal.category_id),
                municipality=municipality.name if municipality else "—",
                date=self._date(appeal.created_at, with_time=True),
                status=self._status(appeal.status),
                description=appeal.description,
            )
        ]
        if appeal.address:
            parts.append(self.t("resident-details-address", address=appeal.address))
        elif appeal.latitude is not None:
            parts.append(self.t("resident-details-location"))
        if appeal.status in OPEN_STATUSES and appeal.answer_due_at is not None:
            due = self._date(appeal.answer_due_at, with_time=True)
            parts.append(self.t("resident-details-answer-due", deadline=due))
        shown = [line for line in (self._history_line(item) for item in events) if line is not None]
        if shown:
            parts.append(self.t("resident-details-history"))
            parts.extend(shown)
        rows: list[tuple[Button, ...]] = []
        if appeal.status in OPEN_STATUSES:
            rows.append((Button(self.t("resident-btn-add"), f"add:{appeal.id}"),))
        nav = [Button(self.t("resident-btn-to-list"), "my:0")]
        if in_draft:
            nav.append(Button(self.t("resident-btn-resume"), "go:resume"))
        rows.append(tuple(nav))
        return Reply("\n".join(parts), buttons=tuple(rows))

    def _history_line(self, item: AppealEvent) -> str | None:
        """What the resident may read of one history entry: the agency's answers in full,
        status changes in plain words; internal entries (reminders, escalations, delivery
        reports) are not shown. Only the kinds named here are ever shown."""
        date = self._date(item.at, with_time=True)
        agency = self.ctx.catalogue.agency(item.agency_id)
        agency_name = agency.name if agency else self.t("resident-history-centre")
        if item.kind in _WITH_TEXT and item.text:
            key = f"resident-history-{item.kind}-text"
        elif item.kind in _PLAIN:
            key = f"resident-history-{item.kind}"
        else:
            return None
        what = self.t(key, agency=agency_name, text=item.text or "")
        return self.t("resident-history-line", date=date, what=Safe(what))

    def _date(self, moment: datetime, *, with_time: bool = False) -> str:
        catalogue = self.ctx.catalogue
        if with_time:
            return dates.moment(moment, catalogue.zone, catalogue.region.locale)
        return dates.day(moment, catalogue.zone, catalogue.region.locale)

    def _status(self, status: str | None) -> str:
        key = f"status-{status}"
        return self.t(key) if self.t.has(key) else str(status)

    def _topic(self, category_id: str) -> str:
        category = self.ctx.catalogue.category(category_id)
        return category.title if category else category_id
