"""Long lists of choices as keyboards that fit what the chat can show.

VK shows at most 10 inline buttons in 6 rows under a message (11 get error 911);
Telegram far more. The core does not ask which platform it talks to: it pages a list by
the :class:`~handlers.events.Capabilities` the adapter declared, with «Ещё ▶» and «◀»
buttons, so every keyboard it builds fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from handlers.events import Button, Capabilities

Row = tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[Row, ...]
    """The page's choices, its paging row if any, then the fixed rows."""
    number: int
    """0-based, clamped to the pages there are."""
    count: int


def shorten(text: str, caps: Capabilities) -> str:
    text = " ".join(text.split())
    return text if len(text) <= caps.label_max else text[: caps.label_max - 1].rstrip() + "…"


def fit_labels(row: Row, caps: Capabilities) -> Row:
    return tuple(replace(b, text=shorten(b.text, caps)) for b in row)


def paginate(
    choices: Sequence[Button],
    caps: Capabilities,
    *,
    page: int,
    to_page: Callable[[int], str],
    prev_label: str,
    more_label: str,
    per_row: int = 1,
    page_size: int | None = None,
    fixed: Sequence[Row] = (),
) -> Page:
    """Page ``page`` of ``choices``, ``per_row`` to a row (fewer if the chat allows fewer),
    at most ``page_size`` to a page, followed by the ``fixed`` rows on every page.
    ``to_page(n)`` is the payload of the button that shows page ``n``."""
    per_row = max(1, min(per_row, caps.inline_row_max))
    rows_left = caps.inline_rows_max - len(fixed)
    buttons_left = caps.inline_buttons_max - sum(len(row) for row in fixed)
    size = len(choices)
    fits_one = size <= buttons_left and -(-size // per_row) <= rows_left
    if fits_one and (page_size is None or size <= page_size):
        capacity = max(size, 1)
    else:  # leave room for a row with «◀» and «Ещё ▶»
        capacity = max(1, min(buttons_left - 2, (rows_left - 1) * per_row, page_size or size))
    count = max(1, -(-size // capacity))
    page = min(max(page, 0), count - 1)
    chunk = [replace(b, text=shorten(b.text, caps)) for b in choices[page * capacity : (page + 1) * capacity]]
    out = [tuple(chunk[i : i + per_row]) for i in range(0, len(chunk), per_row)]
    paging: list[Button] = []
    if page > 0:
        paging.append(Button(prev_label, to_page(page - 1)))
    if page < count - 1:
        paging.append(Button(more_label, to_page(page + 1)))
    if paging:
        out.append(tuple(paging))
    out.extend(fit_labels(row, caps) for row in fixed)
    return Page(tuple(out), page, count)
