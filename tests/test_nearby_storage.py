"""Open appeals of a topic near a place, and their followers, in the database."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from handlers.workflow import OPEN_STATUSES, AppealStatus
from storage import followers
from storage.appeals import NewAppeal, create_appeal
from storage.db import Database
from storage.erasure import erase_person
from storage.models import Appeal, Follower, Resident
from storage.nearby import address_key, bounding_box, distance_m, near_point, same_address

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HERE = (52.7210, 41.4520)
OPEN = sorted(status.value for status in OPEN_STATUSES)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_195.0, point[1]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres / (111_195.0 * math.cos(math.radians(point[0])))


async def resident(db: Database, external_id: str) -> int:
    async with db.transaction() as session:
        person = Resident(platform="telegram", external_id=external_id, consent_at=NOW)
        session.add(person)
        await session.flush()
        return person.id


async def file(
    db: Database,
    resident_id: int,
    *,
    point: tuple[float, float] | None = None,
    address: str | None = None,
    category: str = "roads",
    status: AppealStatus = AppealStatus.PASSED,
    at: datetime = NOW,
) -> int:
    async with db.transaction() as session:
        person = await session.get(Resident, resident_id)
        assert person is not None
        appeal = await create_appeal(
            session,
            person,
            NewAppeal(
                platform="telegram",
                category_id=category,
                municipality_id="tambov",
                description="Яма на дороге у дома",
                address=address,
                latitude=point[0] if point else None,
                longitude=point[1] if point else None,
            ),
            status=status.value,
            now=at,
        )
        appeal.status = status.value
        return appeal.id


def test_the_distance_is_the_great_circle_one() -> None:
    # Moscow (Kremlin) to Saint Petersburg (Palace Square): about 634 km.
    assert 630_000 < distance_m(55.7520, 37.6175, 59.9390, 30.3158) < 638_000
    assert distance_m(*HERE, *north_of(HERE, 40)) == pytest.approx(40, abs=0.1)
    assert distance_m(*HERE, *east_of(HERE, 40)) == pytest.approx(40, abs=0.1)


def test_the_box_holds_every_point_within_the_radius() -> None:
    south, north, west, east = bounding_box(*HERE, 50)
    for bearing in range(0, 360, 15):
        lat = HERE[0] + 49.9 / 111_195.0 * math.cos(math.radians(bearing))
        lon = HERE[1] + 49.9 / (111_195.0 * math.cos(math.radians(HERE[0]))) * math.sin(math.radians(bearing))
        assert distance_m(*HERE, lat, lon) <= 50
        assert south <= lat <= north and west <= lon <= east, bearing


def test_an_address_typed_another_way_has_the_same_key() -> None:
    same = [
        "ул. Луговая, д. 7",
        "Луговая 7",
        "улица Луговая, дом 7",
        "7, ЛУГОВАЯ ул.",
        "г. Тамбов, ул Луговая д 7",
    ]
    keys = {address_key(a) for a in same[:4]}
    assert keys == {"7 луговая"}
    assert address_key(same[4]) == "7 луговая тамбов"
    assert address_key("Луговая 7 корпус 2") == address_key("ул. Луговая, д. 7, к. 2") == "7 к2 луговая"
    assert address_key("Луговая 7") != address_key("Луговая 17")
    assert address_key("Зелёная 3") == address_key("Зеленая 3")
    assert address_key("ул. д.") is None


async def test_open_appeals_of_the_topic_within_the_radius_nearest_first(db: Database) -> None:
    alice, bob, carol = [await resident(db, x) for x in ("1", "2", "3")]
    near = await file(db, alice, point=north_of(HERE, 30))
    nearer = await file(db, alice, point=east_of(HERE, 12), at=NOW - timedelta(days=3))
    await file(db, alice, point=north_of(HERE, 70))  # beyond 50 m
    await file(db, alice, point=east_of(HERE, 45))  # in the box's corner region, checked exactly below
    await file(db, alice, point=HERE, category="housing")  # another topic
    await file(db, alice, point=HERE, status=AppealStatus.SOLVED)  # closed
    await file(db, alice, point=HERE, status=AppealStatus.REJECTED)  # closed
    await file(db, bob, point=HERE)  # Bob's own
    corner = await file(db, alice, point=east_of(north_of(HERE, 40), 40))  # in the box, 56 m away

    async with db.read() as session:
        found = await near_point(session, "roads", *HERE, 50, exclude_resident=bob, limit=10, statuses=OPEN)
    ids = [n.appeal_id for n in found]
    assert corner not in ids
    assert ids[:2] == [nearer, near]
    assert [round(n.distance_m or 0) for n in found] == [12, 30, 45]
    assert {n.status for n in found} == {"passed"} and all(n.address is None for n in found)

    async with db.read() as session:
        three = await near_point(session, "roads", *HERE, 50, exclude_resident=carol, limit=3, statuses=OPEN)
    assert len(three) == 3 and three[0].distance_m == 0, "Carol sees Bob's too, the nearest first"


async def test_the_same_address_typed_another_way_is_found(db: Database) -> None:
    alice, bob = await resident(db, "1"), await resident(db, "2")
    first = await file(db, alice, address="ул. Луговая, д. 7")
    await file(db, alice, address="ул. Луговая, д. 17")
    await file(db, alice, address="Луговая 7", category="housing")
    await file(db, alice, address="Луговая 7", status=AppealStatus.CLOSED)
    async with db.read() as session:
        found = await same_address(session, "roads", "Луговая, 7", exclude_resident=bob, statuses=OPEN)
        mine = await same_address(session, "roads", "Луговая, 7", exclude_resident=alice, statuses=OPEN)
    assert [(n.appeal_id, n.address, n.distance_m) for n in found] == [(first, "ул. Луговая, д. 7", None)]
    assert mine == []


async def test_a_follower_is_kept_once_left_out_of_the_search_and_erased_with_the_person(
    db: Database,
) -> None:
    alice, bob = await resident(db, "1"), await resident(db, "2")
    appeal_id = await file(db, alice, point=HERE)
    async with db.transaction() as session:
        assert await followers.follow(session, appeal_id, bob, now=NOW)
        assert not await followers.follow(session, appeal_id, bob, now=NOW), "twice is once"
    async with db.read() as session:
        assert await followers.count(session, appeal_id) == 1
        assert [a.id for a in await followers.followed_by(session, bob)] == [appeal_id]
        assert await near_point(session, "roads", *HERE, 50, exclude_resident=bob, statuses=OPEN) == []

    async with db.transaction() as session:
        author = await session.get(Resident, alice)
        assert author is not None
        await erase_person(session, author, None, tombstone="forgotten:a", now=NOW)
    async with db.read() as session:
        appeal = await session.get(Appeal, appeal_id)
        assert appeal is not None and appeal.latitude is None and appeal.address_key is None
        assert [r.id for r in await followers.residents_following(session, appeal_id)] == [bob], (
            "the author's /forget keeps the appeal for its followers"
        )

    async with db.transaction() as session:
        follower = await session.get(Resident, bob)
        assert follower is not None
        await erase_person(session, follower, None, tombstone="forgotten:b", now=NOW)
    async with db.read() as session:
        assert await followers.count(session, appeal_id) == 0, "the follower's /forget drops the follow"
        assert (await session.get(Appeal, appeal_id)) is not None
        assert await session.get(Follower, 1) is None
