"""The same pothole once, end to end: a resident about to report a problem that is already
reported nearby sees that appeal (number, topic, distance or address, date, status, never
the author's words, name or photos) and joins it instead of filing another one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from storage.db import Database
from storage.models import Appeal, Follower, Resident
from tests.fake_vk import FakeVk
from tests.support.steps import step
from tests.support.telegram import Person, Telegram, TelegramBot, outbox_drained
from tests.support.vk import VkChat
from tests.test_e2e_desk import CARD_BUTTONS, file_appeal
from tests.test_vk_e2e import running_app

POTHOLE = (52.72, 41.45)
TWENTY_FIVE_METRES_NORTH = (52.72 + 25 / 111_195.0, 41.45)
ALICE_WORDS = "Большая яма на дороге у дома номер пять"
BOB_WORDS = "Глубокая яма прямо на проезжей части, колёса бьются"


async def start_report(person: Person, *, topic: str = "Дороги", words: str = BOB_WORDS) -> None:
    await person.send("/start")
    await person.expect_message(contains="согласие")
    await person.click("Согласен")
    await person.expect_message(contains=step("topic"))
    await person.click(topic)
    await person.expect_message(contains=step("municipality"))
    await person.click("Тамбов")
    await person.expect_message(contains=step("description"))
    await person.send(words)
    await person.expect_message(contains=step("place"))


async def followers_of(bot: TelegramBot, appeal_id: int) -> list[tuple[str, str]]:
    assert bot.app is not None
    async with bot.app.ctx.db.read() as session:
        rows = await session.execute(
            select(Resident.platform, Resident.external_id)
            .join(Follower, Follower.resident_id == Resident.id)
            .where(Follower.appeal_id == appeal_id)
            .order_by(Follower.id)
        )
        return [(platform, external_id) for platform, external_id in rows.all()]


async def test_a_resident_near_an_open_appeal_of_the_topic_joins_it_instead_of_filing_again(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса Первая")
    filed = await file_appeal(tg, alice, ALICE_WORDS, location=POTHOLE, photos=1)
    await telegram_bot.delivered()
    filed.group.read_all()
    alice.read_all()

    bob = tg.user(1002, "Борис")
    await start_report(bob)
    await bob.click("📍 Отправить геолокацию", location=TWENTY_FIVE_METRES_NORTH)
    await bob.expect_message(contains="Место записано")
    shown = await bob.expect_message(contains="Рядом уже есть открытое обращение")
    assert f"№ {filed.number} — Дороги, в 25 м от вас, от 24.11.2026: передано в ведомство" in shown.text
    assert ALICE_WORDS not in shown.text and "Алиса" not in shown.text and not shown.has_photo
    assert shown.buttons == [
        [f"Да, это оно: № {filed.number}"],
        ["Нет, у меня другое"],
        ["Назад", "Отмена"],
    ]

    edits = filed.card.edits
    await bob.click(f"Да, это оно: № {filed.number}")
    joined = await bob.expect_message(contains=f"Вы присоединились к обращению № {filed.number}")
    assert joined.buttons and "Подать обращение" in joined.buttons[0]
    carol = tg.user(1003, "Карина")
    await start_report(carol)
    await carol.click("📍 Отправить геолокацию", location=POTHOLE)
    await carol.expect_message(contains="Рядом уже есть открытое обращение")
    await carol.click(f"Да, это оно: № {filed.number}")
    await carol.expect_message(contains=f"Вы присоединились к обращению № {filed.number}")
    await telegram_bot.settled()
    assert filed.card.edits == edits, "the count waits for the end of the minute"

    # A minute on, one edit of the card carries both: the agency sees how many care.
    telegram_bot.clock.advance(timedelta(seconds=60))
    await filed.group.expect_edit(filed.card, "+2 жителя сообщили о том же")
    await telegram_bot.delivered()
    assert filed.card.edits == edits + 1, "two joins, one edit"
    assert ALICE_WORDS in filed.card.text and filed.card.buttons == CARD_BUTTONS
    filed.group.assert_nothing_new()
    bob.assert_nothing_new()
    carol.assert_nothing_new()
    alice.assert_nothing_new()
    assert await followers_of(telegram_bot, filed.appeal_id) == [("telegram", "1002"), ("telegram", "1003")]
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        numbers = (await session.scalars(select(Appeal.id))).all()
    assert numbers == [filed.appeal_id], "no second appeal was filed"


async def test_another_problem_goes_on_and_another_topic_or_place_is_not_asked(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    filed = await file_appeal(tg, alice, ALICE_WORDS, location=POTHOLE)
    await telegram_bot.delivered()

    carol = tg.user(1003, "Карина")
    await start_report(carol)
    await carol.click("📍 Отправить геолокацию", location=TWENTY_FIVE_METRES_NORTH)
    await carol.expect_message(contains="Рядом уже есть открытое обращение")
    await carol.click("Нет, у меня другое")
    await carol.expect_message(contains=step("photos"))
    await carol.click("Назад")
    back = await carol.expect_message(contains="Рядом уже есть открытое обращение")
    assert f"№ {filed.number}" in back.text, "«Назад» from the photos shows the same appeal again"
    await carol.click("Нет, у меня другое")
    await carol.expect_message(contains=step("photos"))
    await telegram_bot.settled()
    carol.assert_nothing_new()

    # A topic nobody reported there, and the same topic 200 m away: straight to the photos.
    dan = tg.user(1004, "Данила")
    await start_report(dan, topic="Благоустройство", words="Сломана скамейка во дворе у дома")
    await dan.click("📍 Отправить геолокацию", location=TWENTY_FIVE_METRES_NORTH)
    await dan.expect_message(contains="Место записано")
    await dan.expect_message(contains=step("photos"))
    erin = tg.user(1005, "Эрин")
    await start_report(erin)
    await erin.click("📍 Отправить геолокацию", location=(52.72 + 200 / 111_195.0, 41.45))
    await erin.expect_message(contains=step("photos"))
    await telegram_bot.settled()
    dan.assert_nothing_new()
    erin.assert_nothing_new()
    assert await followers_of(telegram_bot, filed.appeal_id) == []


async def vk_report(vk: FakeVk, chat: VkChat, user: int, words: str) -> None:
    await vk.user_writes(user, "Начать", payload='{"command":"start"}')
    await chat.expect("152-ФЗ")
    await chat.press("Согласен")
    await chat.expect("Выберите тему")
    await chat.press("Дороги")
    await chat.expect("Выберите муниципалитет")
    await chat.press("Тамбов")
    await chat.expect("Опишите проблему")
    await chat.write(words)
    await chat.expect("Где это находится")


async def test_on_vk_a_typed_address_finds_the_same_address_written_another_way(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database
) -> None:
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk):
        vk.add_user(601, "Пётр", "Первый")
        vk.add_user(602, "Вера", "Вторая")
        petr, vera = VkChat(vk, 601), VkChat(vk, 602)
        await vk_report(vk, petr, 601, ALICE_WORDS)
        await petr.write("ул. Луговая, д. 7")
        await petr.expect("Место записано")
        await petr.expect("пришлите их")
        await petr.press("Пропустить")
        await petr.expect("номер телефона")
        await petr.write("+7 999 000-11-22")
        await petr.expect("Проверьте обращение")
        await petr.press("Отправить")
        accepted = await petr.expect("принято")
        number = accepted.text.split("№ ", 1)[1].split()[0]

        await vk_report(vk, vera, 602, BOB_WORDS)
        await vera.write("Луговая 7")
        await vera.expect("Место записано")
        shown = await vera.expect("Рядом уже есть открытое обращение")
        assert f"№ {number} — Дороги, по тому же адресу (Луговая 7), от 24.11.2026" in shown.text
        assert (
            ALICE_WORDS not in shown.text
            and "Пётр" not in shown.text
            and "ул. Луговая, д. 7" not in shown.text
        )
        assert shown.labels() == [f"Да, это оно: № {number}", "Нет, у меня другое", "Назад", "Отмена"]
        await vera.press(f"Да, это оно: № {number}")
        await vera.expect(f"Вы присоединились к обращению № {number}")
        await outbox_drained(db, clock, platforms=["vk"])
        after = [m.text for m in vera.messages]
        after = after[next(i for i, t in enumerate(after) if "Рядом уже есть" in t) + 1 :]
        assert [t.split("\n")[0][:45] for t in after] == [
            f"Вы присоединились к обращению № {number}. Уве"[:45]
        ], "the joining, and nothing else"
        assert not vk.pending_events, "every button press was answered"
        async with db.read() as session:
            rows = (
                await session.execute(select(Follower.appeal_id, Resident.external_id).join(Resident))
            ).all()
            appeals = (await session.scalars(select(Appeal.id))).all()
        assert [(a, r) for a, r in rows] == [(int(number.split("-")[1]), "602")]
        assert len(appeals) == 1
