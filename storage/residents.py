"""Residents and their dialogue rows: who is writing, and where they are in the dialogue.

:func:`load_for_update` is the first query of every resident event: one round trip that
fetches the resident with its dialogue and, on PostgreSQL, locks both rows so two
worker processes handling the same person take turns (SQLite is serialised by
:class:`storage.db.Database` already, and ignores ``FOR UPDATE``).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Dialogue, Resident


class _Platform(Protocol):
    @property
    def value(self) -> str: ...


class Person(Protocol):
    """A person as the core names one (``handlers.events.PersonRef`` fits): storage takes
    the platform's name and the external id from it and knows nothing else of the core."""

    @property
    def platform(self) -> _Platform: ...

    @property
    def external_id(self) -> str: ...


_LOCKED_WITH_DIALOGUE = (
    select(Resident, Dialogue)
    .join(Dialogue, Dialogue.resident_id == Resident.id)
    .where(Resident.platform == bindparam("platform"), Resident.external_id == bindparam("external_id"))
    .with_for_update()
)
"""Built once: the first query of every resident event, and building a select with its
cache key costs about 75 µs a time (3 % of a dialogue step's CPU)."""


async def load_for_update(session: AsyncSession, person: Person) -> tuple[Resident, Dialogue] | None:
    """The resident and its dialogue, both rows locked; None if never seen.

    Both rows are locked in one statement on purpose: on PostgreSQL a transaction that
    waited for the lock re-reads only the rows it locks, so a dialogue fetched beside a
    locked resident could be the version from before the other worker's commit.
    """
    row = (
        await session.execute(
            _LOCKED_WITH_DIALOGUE, {"platform": person.platform.value, "external_id": person.external_id}
        )
    ).first()
    if row is not None:
        return row[0], row[1]
    where = (Resident.platform == person.platform.value, Resident.external_id == person.external_id)
    resident = await session.scalar(select(Resident).where(*where).with_for_update())
    if resident is None:
        return None
    dialogue = Dialogue(resident_id=resident.id, state="idle", data={})
    session.add(dialogue)
    return resident, dialogue


async def get_or_create(
    session: AsyncSession, person: Person, *, initial_state: str = "idle"
) -> tuple[Resident, Dialogue]:
    """The resident (locked) and its dialogue, created on first contact.

    Only the platform and the external id are stored here: nothing personal before consent.
    Two processes meeting a new person at once both insert with ON CONFLICT DO NOTHING and
    then lock the one row that exists.
    """
    found = await load_for_update(session, person)
    if found is not None:
        return found
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(Resident)
        .values(platform=person.platform.value, external_id=person.external_id)
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
    )
    found = await load_for_update(session, person)
    if found is None:  # pragma: no cover - the row was inserted just above
        raise RuntimeError(f"resident {person} vanished while being created")
    resident, dialogue = found
    dialogue.state = initial_state
    return resident, dialogue


async def set_typed_choices(
    session: AsyncSession, person: Person, choices: list[dict[str, Any]] | None
) -> bool:
    """Store what typed numbers mean on ``person``'s dialogue row; False if ``person`` has
    none (not a resident: a staff or admin chat)."""
    resident_id = (
        select(Resident.id)
        .where(Resident.platform == person.platform.value, Resident.external_id == person.external_id)
        .scalar_subquery()
    )
    result = await session.execute(
        update(Dialogue)
        .where(Dialogue.resident_id == resident_id)
        .values(typed_choices=choices)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def known(session: AsyncSession, person: Person) -> bool:
    """Whether this person has talked to the bot before (a row exists)."""
    found = await session.scalar(
        select(Resident.id).where(
            Resident.platform == person.platform.value, Resident.external_id == person.external_id
        )
    )
    return found is not None
