"""``/merge N M`` in an agency chat, end to end on Telegram: M's author and followers join
N, M is closed with a notice to them, and from then on they hear about N."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Appeal, Follower, Resident
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import HOUSING, file_appeal
from tests.test_e2e_nearby import POTHOLE, TWENTY_FIVE_METRES_NORTH, start_report

JOINED = "к которому вы присоединились"


async def test_merge_moves_the_residents_closes_the_appeal_and_tells_them_once(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice, bob, carol = tg.user(1001, "Алиса"), tg.user(1002, "Борис"), tg.user(1003, "Карина")
    inspector = tg.user(5001, "Инспектор")
    first = await file_appeal(tg, alice, "Яма на перекрёстке у школы, глубокая")
    second = await file_appeal(tg, bob, "Провал асфальта у школы на перекрёстке", location=POTHOLE)
    await start_report(carol)
    await carol.click("📍 Отправить геолокацию", location=TWENTY_FIVE_METRES_NORTH)
    await carol.expect_message(contains="Рядом уже есть открытое обращение")
    await carol.click(f"Да, это оно: № {second.number}")
    await carol.expect_message(contains=f"Вы присоединились к обращению № {second.number}")
    group = first.group
    await telegram_bot.settled()
    telegram_bot.clock.advance(timedelta(seconds=60))
    await group.expect_edit(second.card, "+1 житель сообщил о том же")
    await telegram_bot.settled()
    for person in (alice, bob, carol, group):
        person.read_all()

    # Another agency's chat may not merge them.
    housing = tg.group(HOUSING)
    await housing.send(f"/merge {first.number} {second.number}", from_user=tg.user(5003, "Диспетчер"))
    await housing.expect_message(contains="не относится к вашему ведомству")
    await group.send(f"/merge {first.number}", from_user=inspector)
    await group.expect_message(contains="/merge N M")

    await group.send(f"/merge {first.number} {second.number}", from_user=inspector)
    done = await group.expect_message(contains=f"Обращение № {second.number} объединено с № {first.number}")
    assert "2 жителя теперь следят" in done.text
    await group.expect_edit(second.card, f"Объединено с обращением № {first.number}")
    assert second.card.buttons == [], "the merged appeal's card loses its buttons"
    await bob.expect_message(
        contains=f"Ваше обращение № {second.number} объединено с обращением № {first.number}"
    )
    await carol.expect_message(
        contains=f"Обращение № {second.number}, {JOINED}, объединено с обращением № {first.number}"
    )
    await telegram_bot.settled()
    telegram_bot.clock.advance(timedelta(seconds=60))
    await group.expect_edit(first.card, "+2 жителя сообщили о том же")
    await telegram_bot.settled()

    # From now on all three hear about the first appeal, once each.
    await group.click(first.card, "Взять в работу", by=inspector)
    await alice.expect_message(contains=f"Ваше обращение № {first.number} взято в работу")
    await bob.expect_message(contains=f"Обращение № {first.number}, {JOINED}, взято в работу")
    await carol.expect_message(contains=f"Обращение № {first.number}, {JOINED}, взято в работу")
    await telegram_bot.delivered()
    for person in (alice, bob, carol):
        person.assert_nothing_new()

    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        merged = await session.get(Appeal, second.appeal_id)
        rows = (
            await session.execute(
                select(Follower.appeal_id, Resident.external_id).join(Resident).order_by(Follower.id)
            )
        ).all()
    assert merged is not None and merged.status == "closed" and merged.followers_count == 0
    assert [tuple(r) for r in rows] == [(first.appeal_id, "1002"), (first.appeal_id, "1003")]
