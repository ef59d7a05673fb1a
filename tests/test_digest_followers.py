"""The digest counts a problem once, with the residents behind it: authors and the
residents who joined their appeals, each person once."""

from __future__ import annotations

from datetime import timedelta

from digests.periods import iso_week
from digests.posting import build_digest
from digests.render import visible_text
from handlers.context import Context
from handlers.workflow import AppealStatus
from storage import followers
from storage.models import Appeal, Resident
from tests.test_stats import msk


async def test_problems_are_counted_with_the_residents_behind_them(ctx: Context) -> None:
    async with ctx.db.transaction() as session:
        people = [Resident(platform="telegram", external_id=str(n), consent_at=msk(1)) for n in range(1, 7)]
        session.add_all(people)
        await session.flush()
        r1, r2, r3, r4, r5, r6 = (p.id for p in people)

        def appeal(author: int, category: str, day: int) -> Appeal:
            return Appeal(
                resident_id=author,
                platform="telegram",
                category_id=category,
                municipality_id="tambov",
                agency_id="tambov-roads",
                description="Яма",
                status=AppealStatus.PASSED.value,
                created_at=msk(day),
                updated_at=msk(day),
            )

        pothole, lamp, other = appeal(r1, "roads", 17), appeal(r2, "housing", 18), appeal(r1, "roads", 19)
        earlier = appeal(r6, "roads", 10)  # last week's appeal, joined this week
        session.add_all([pothole, lamp, other, earlier])
        await session.flush()
        for who, what, day in (
            (r2, pothole, 17),  # the author of another appeal joins this one: one person still
            (r3, pothole, 18),
            (r4, pothole, 20),
            (r5, lamp, 19),
            (r3, earlier, 18),
            (r4, earlier, 19),
        ):
            assert await followers.follow(session, what.id, who, now=msk(day) + timedelta(hours=1))
        number = pothole.number

    digest = await build_digest(ctx, iso_week(2026, 47, ctx.catalogue.zone))

    text = visible_text(digest.text).splitlines()
    # Three appeals this week; behind them r1 and r2 (authors), r3, r4, r5 (joined): five.
    assert "Это 3 проблемы от 5 жителей: жители присоединялись к обращениям о том же." in text
    at = text.index("Больше всего жителей за неделю")
    assert text[at : at + 4] == [
        "Больше всего жителей за неделю",
        f"1. № {number} — Дороги: 4 жителя",
        f"2. № {earlier.number} — Дороги: 3 жителя",
        f"3. № {lamp.number} — ЖКХ: 2 жителя",
    ]
