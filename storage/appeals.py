"""Appeals as the resident dialogue needs them: file one, list one's own, show one with
its history, and count recent ones for rate limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, AppealEvent, Attachment, Resident
from storage.nearby import address_key


@dataclass(frozen=True, slots=True)
class PhotoRef:
    """A photo the resident sent, as its platform knows it."""

    platform: str
    ref: str
    unique_id: str | None = None
    url: str | None = None


class MediaLike(Protocol):
    """Media as the platforms describe it (``handlers.events.Media`` fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def platform(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def unique_id(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


def add_attachments(
    session: AsyncSession, appeal_id: int, media: Iterable[MediaLike], *, source: str, now: datetime
) -> None:
    """Keep media sent later with an appeal: details from the resident, photos with an answer."""
    session.add_all(
        Attachment(
            appeal_id=appeal_id,
            kind=str(item.kind),
            platform=str(item.platform),
            ref=item.ref,
            unique_id=item.unique_id,
            url=item.url,
            source=source,
            created_at=now,
        )
        for item in media
    )


@dataclass(frozen=True, slots=True)
class NewAppeal:
    platform: str
    category_id: str
    municipality_id: str
    description: str
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    photos: tuple[PhotoRef, ...] = ()


async def create_appeal(
    session: AsyncSession, resident: Resident, new: NewAppeal, *, status: str, now: datetime
) -> Appeal:
    """Store the appeal in ``status`` (the core's first one), its photos and its ``created``
    event; the caller's transaction commits. ``appeal.attachments`` is loaded, so the card
    can be built from it."""
    appeal = Appeal(
        resident_id=resident.id,
        platform=new.platform,
        category_id=new.category_id,
        municipality_id=new.municipality_id,
        description=new.description,
        address=new.address,
        address_key=address_key(new.address) if new.address else None,
        latitude=new.latitude,
        longitude=new.longitude,
        phone=new.phone,
        status=status,
        created_at=now,
        updated_at=now,
    )
    appeal.attachments = [
        Attachment(
            kind="photo",
            platform=photo.platform,
            ref=photo.ref,
            unique_id=photo.unique_id,
            url=photo.url,
            source="resident",
            created_at=now,
        )
        for photo in new.photos
    ]
    session.add(appeal)
    await session.flush()
    session.add(
        AppealEvent(
            appeal_id=appeal.id,
            at=now,
            kind="created",
            actor_kind="resident",
            actor_platform=resident.platform,
            actor_id=resident.external_id,
            to_status=status,
        )
    )
    return appeal


_COUNT_RECENT = select(
    func.coalesce(func.sum(case((Appeal.created_at >= bindparam("hour_since"), 1), else_=0)), 0),
    func.count(),
).where(Appeal.resident_id == bindparam("resident_id"), Appeal.created_at >= bindparam("day_since"))
"""Built once: the dialogue's flood check runs it when a draft starts and when it is sent."""


async def count_recent(
    session: AsyncSession, resident_id: int, *, hour_since: datetime, day_since: datetime
) -> tuple[int, int]:
    """How many appeals the resident filed since ``hour_since`` and since ``day_since``."""
    params = {"resident_id": resident_id, "hour_since": hour_since, "day_since": day_since}
    row = (await session.execute(_COUNT_RECENT, params)).one()
    return int(row[0]), int(row[1])


async def list_for_resident(
    session: AsyncSession, resident_id: int, *, offset: int, limit: int
) -> tuple[Sequence[Appeal], int]:
    """One page of the resident's appeals, newest first, and how many there are in all."""
    total = await session.scalar(select(func.count()).where(Appeal.resident_id == resident_id))
    page = await session.scalars(
        select(Appeal)
        .where(Appeal.resident_id == resident_id)
        .order_by(Appeal.created_at.desc(), Appeal.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return page.all(), int(total or 0)


async def all_of_resident(session: AsyncSession, resident_id: int) -> Sequence[Appeal]:
    """Every appeal the resident filed, oldest first (what /mydata lists)."""
    stmt = select(Appeal).where(Appeal.resident_id == resident_id).order_by(Appeal.id)
    return (await session.scalars(stmt)).all()


async def attachment_counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """How many attachments of each source every appeal of ``ids`` holds."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Attachment.appeal_id, Attachment.source, func.count())
        .where(Attachment.appeal_id.in_(ids))
        .group_by(Attachment.appeal_id, Attachment.source)
    )
    counts: dict[int, dict[str, int]] = {}
    for appeal_id, source, count in rows.all():
        counts.setdefault(int(appeal_id), {})[str(source)] = int(count)
    return counts


async def event_counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """How many events every appeal of ``ids`` has in its history."""
    if not ids:
        return {}
    rows = await session.execute(
        select(AppealEvent.appeal_id, func.count())
        .where(AppealEvent.appeal_id.in_(ids))
        .group_by(AppealEvent.appeal_id)
    )
    return {int(appeal_id): int(count) for appeal_id, count in rows.all()}


async def get_with_history(
    session: AsyncSession, appeal_id: int, resident_id: int
) -> tuple[Appeal, Sequence[AppealEvent]] | None:
    """The resident's own appeal and its events in order; None for anyone else's."""
    appeal = await session.scalar(
        select(Appeal).where(Appeal.id == appeal_id, Appeal.resident_id == resident_id)
    )
    if appeal is None:
        return None
    events = await session.scalars(
        select(AppealEvent).where(AppealEvent.appeal_id == appeal_id).order_by(AppealEvent.at, AppealEvent.id)
    )
    return appeal, events.all()
