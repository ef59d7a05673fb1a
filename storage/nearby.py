"""Open appeals of a topic near a place: the same pothole, reported before.

A point is looked up in two stages: an indexed bounding box in SQL (``ix_appeals_nearby``:
category, status, latitude, longitude) narrows a million appeals to the few around the
point, and the exact great-circle distance is computed in Python on those few. A typed
address is matched by its normalised form (:func:`address_key`, ``ix_appeals_same_address``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Appeal, Follower, appeal_number

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), in metres."""
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
CANDIDATES_MAX = 200
"""At most this many rows come back from the box before the exact distance: a radius of
tens of metres never holds more open appeals of one topic than that."""


@dataclass(frozen=True, slots=True)
class Nearby:
    appeal_id: int
    number: str
    category_id: str
    status: str
    created_at: datetime
    distance_m: float | None
    """None when matched by the address."""
    address: str | None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The haversine distance between two points, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(latitude: float, longitude: float, radius_m: float) -> tuple[float, float, float, float]:
    """South, north, west, east of a box that holds every point within ``radius_m``."""
    dlat = radius_m / METRES_PER_DEGREE
    cos_lat = math.cos(math.radians(latitude))
    dlon = 180.0 if cos_lat < 1e-6 else min(180.0, radius_m / (METRES_PER_DEGREE * cos_lat))
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


_TOKEN = re.compile(r"[0-9a-zа-я]+")
_DROPPED = frozenset(
    {
        "г", "город", "гор", "пос", "поселок", "п", "с", "село", "деревня", "дер",
        "ул", "улица", "пр", "пр-т", "просп", "проспект", "пер", "переулок", "пл", "площадь",
        "ш", "шоссе", "б", "р", "бул", "бульвар", "наб", "набережная", "проезд", "пр-д",
        "мкр", "микрорайон", "тупик", "д", "дом", "у", "около", "возле", "напротив", "рядом",
    }
)  # fmt: skip
_MARKERS = {
    "к": "к",
    "корп": "к",
    "корпус": "к",
    "стр": "стр",
    "строение": "стр",
    "кв": "кв",
    "квартира": "кв",
}


def address_key(address: str) -> str | None:
    """A typed address in a form where «ул. Луговая, д. 7» and «Луговая 7» agree: lower
    case, ё as е, without the words for street, house or town, the rest in sorted order
    (a building marker stays with its number: «к2»). None when nothing is left."""
    tokens = _TOKEN.findall(address.lower().replace("ё", "е"))
    words: list[str] = []
    n = 0
    while n < len(tokens):
        token = tokens[n]
        marker = _MARKERS.get(token)
        if marker is not None and n + 1 < len(tokens) and tokens[n + 1].isdigit():
            words.append(marker + tokens[n + 1])
            n += 2
            continue
        if token not in _DROPPED:
            words.append(token)
        n += 1
    return " ".join(sorted(set(words)))[:300] or None


async def near_point(
    session: AsyncSession,
    category_id: str,
    latitude: float,
    longitude: float,
    radius_m: float,
    *,
    exclude_resident: int | None = None,
    limit: int = 3,
    statuses: Collection[str],
) -> list[Nearby]:
    """Up to ``limit`` appeals of the topic in ``statuses`` (the open ones: the caller's
    workflow names them) within ``radius_m`` of the point, nearest first, leaving out the
    resident's own and those they already follow."""
    south, north, west, east = bounding_box(latitude, longitude, radius_m)
    box: list[ColumnElement[bool]] = [Appeal.latitude.between(south, north)]
    if west < -180 or east > 180:  # the box crosses the antimeridian
        box.append(
            (Appeal.longitude >= (west + 360 if west < -180 else west))
            | (Appeal.longitude <= (east - 360 if east > 180 else east))
        )
    else:
        box.append(Appeal.longitude.between(west, east))
    query = (
        select(
            Appeal.id, Appeal.category_id, Appeal.status, Appeal.created_at, Appeal.latitude, Appeal.longitude
        )
        .where(Appeal.category_id == category_id, Appeal.status.in_(sorted(statuses)), *box)
        .limit(CANDIDATES_MAX)
    )
    found: list[Nearby] = []
    for row in (await session.execute(query.where(*_not_theirs(exclude_resident)))).all():
        appeal_id, category, status, created_at, lat, lon = row
        if lat is None or lon is None:  # the box never matches NULL: for the type checker
            continue
        distance = distance_m(latitude, longitude, lat, lon)
        if distance <= radius_m:
            found.append(_nearby(appeal_id, category, status, created_at, distance, None))
    found.sort(key=lambda n: (n.distance_m or 0.0, -n.appeal_id))
    return found[:limit]


async def same_address(
    session: AsyncSession,
    category_id: str,
    address: str,
    *,
    exclude_resident: int | None = None,
    limit: int = 3,
    statuses: Collection[str],
) -> list[Nearby]:
    """Up to ``limit`` open appeals of the topic at the same normalised address, newest first."""
    key = address_key(address)
    if key is None:
        return []
    query = (
        select(Appeal.id, Appeal.category_id, Appeal.status, Appeal.created_at, Appeal.address)
        .where(
            Appeal.category_id == category_id, Appeal.address_key == key, Appeal.status.in_(sorted(statuses))
        )
        .order_by(Appeal.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(query.where(*_not_theirs(exclude_resident)))).all()
    found: list[Nearby] = []
    for row in rows:
        appeal_id, category, status, created_at, typed = row
        found.append(_nearby(appeal_id, category, status, created_at, None, typed))
    return found


def _not_theirs(resident_id: int | None) -> list[ColumnElement[bool]]:
    """Leave out the resident's own appeals and those they already follow."""
    if resident_id is None:
        return []
    followed = select(Follower.appeal_id).where(Follower.resident_id == resident_id)
    return [(Appeal.resident_id.is_(None)) | (Appeal.resident_id != resident_id), Appeal.id.not_in(followed)]


def _nearby(
    appeal_id: int,
    category_id: str,
    status: str,
    created_at: datetime,
    distance: float | None,
    address: str | None,
) -> Nearby:
    return Nearby(
        appeal_id=appeal_id,
        number=appeal_number(appeal_id, created_at),
        category_id=category_id,
        status=status,
        created_at=created_at,
        distance_m=distance,
        address=address,
    )
