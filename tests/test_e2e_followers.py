"""Followers end to end, on Telegram and VK at once: residents who joined an appeal hear
what its author hears, each on their own platform and once; they rate the answer; /my
lets them leave; the author's /forget keeps the appeal for them."""

from __future__ import annotations

from sqlalchemy import select

from handlers.catalogue import Catalogue
from handlers.clock import FrozenClock
from storage.db import Database
from storage.models import Appeal, Follower, Resident
from tests.fake_vk import FakeVk
from tests.support.telegram import BotMessage, Person, Telegram, outbox_drained
from tests.support.vk import VkChat
from tests.test_e2e_desk import file_appeal
from tests.test_e2e_nearby import POTHOLE, TWENTY_FIVE_METRES_NORTH, start_report, vk_report
from tests.test_vk_e2e import running_app

VERA = 602
JOINED = "к которому вы присоединились"


def texts_after(messages: list[BotMessage], index: int) -> list[str]:
    return [m.text.split("\n")[0] for m in messages[index:]]


def starting(texts: list[str], prefixes: list[str]) -> list[str]:
    """``texts`` cut to the length of the prefix at the same place (a list of the same
    length is compared in full, so a message too many or too few still fails)."""
    return [t[: len(p)] for t, p in zip(texts, prefixes, strict=False)] + texts[len(prefixes) :]


async def join_on_telegram(person: Person, number: str) -> None:
    await start_report(person)
    await person.click("📍 Отправить геолокацию", location=TWENTY_FIVE_METRES_NORTH)
    await person.expect_message(contains="Рядом уже есть открытое обращение")
    await person.click(f"Да, это оно: № {number}")
    await person.expect_message(contains=f"Вы присоединились к обращению № {number}")


async def test_followers_hear_what_the_author_hears_rate_leave_and_outlive_the_authors_forget(
    database_url: str, catalogue: Catalogue, clock: FrozenClock, db: Database, tg: Telegram
) -> None:
    async with FakeVk() as vk, running_app(database_url, catalogue, clock, vk, tg):
        alice = tg.user(1001, "Алиса")
        inspector = tg.user(5001, "Инспектор")
        filed = await file_appeal(tg, alice, "Большая яма на дороге у дома номер пять", location=POTHOLE)
        number, group = filed.number, filed.group

        bob = tg.user(1002, "Борис")
        await join_on_telegram(bob, number)
        vk.add_user(VERA, "Вера", "Вторая")
        vera = VkChat(vk, VERA)
        await vk_report(vk, vera, VERA, "Глубокая яма прямо на проезжей части, колёса бьются")
        await vk.user_sends_geo(VERA, *TWENTY_FIVE_METRES_NORTH)
        await vera.expect("Рядом уже есть открытое обращение")
        await vera.press(f"Да, это оно: № {number}")
        await vera.expect(f"Вы присоединились к обращению № {number}")
        await outbox_drained(db, clock)
        alice_seen, bob_seen, vera_seen = len(alice.messages), len(bob.messages), len(vera.messages)
        alice.read_all()
        bob.read_all()

        # Taken in work: the author and both followers, each once, on their own platform.
        await group.click(filed.card, "Взять в работу", by=inspector)
        await alice.expect_message(contains=f"Ваше обращение № {number} взято в работу")
        await bob.expect_message(
            contains=f"Обращение № {number}, к которому вы присоединились, взято в работу"
        )
        await vera.expect(f"Обращение № {number}, к которому вы присоединились, взято в работу")

        # The answer: the author is asked whether it is solved; the followers may rate.
        await group.reply(filed.card, "Яму заделаем до пятницы", from_user=inspector)
        await alice.expect_message(contains="Яму заделаем до пятницы")
        await alice.expect_message(contains="Проблема по обращению")
        bobs = await bob.expect_message(
            contains=f"Ответ по обращению № {number}, к которому вы присоединились"
        )
        assert "Яму заделаем до пятницы" in bobs.text and "Оцените" in bobs.text
        assert bobs.buttons == [["1", "2", "3", "4", "5"]], "no «Да»/«Нет»: that is the author's"
        veras = await vera.expect(f"Ответ по обращению № {number}, к которому вы присоединились")
        assert "Яму заделаем до пятницы" in veras.text and veras.labels() == ["1", "2", "3", "4", "5"]
        await vera.press("4")
        await vera.expect("Спасибо за оценку 4!")
        await vera.press("2")
        await vk.wait_until(lambda: not vk.pending_events)  # every press is answered

        async with db.read() as session:
            appeal = await session.get(Appeal, filed.appeal_id)
            ratings = (
                await session.execute(
                    select(Resident.external_id, Follower.rating)
                    .join(Follower, Follower.resident_id == Resident.id)
                    .order_by(Follower.id)
                )
            ).all()
        assert appeal is not None and appeal.rating is None, "a follower's rating is their own"
        assert [tuple(r) for r in ratings] == [("1002", None), ("602", 4)], "the second press changed nothing"

        # Bob leaves from /my.
        await bob.send("/my")
        mine = await bob.expect_message(contains="Вы присоединились к обращениям")
        assert f"№ {number} от 24.11.2026 — Дороги: дан ответ" in mine.text
        assert mine.buttons == [[f"Не следить за № {number}"]]
        await bob.click(f"Не следить за № {number}")
        await bob.expect_message(contains=f"Вы больше не следите за обращением № {number}")

        # The author withdraws their data: the appeal stays for Vera, who still hears.
        await alice.send("/forget")
        await alice.expect_message(contains="Удалить ваши персональные данные?")
        await alice.click("Да, удалить")
        await alice.expect_message(contains="ваши персональные данные удалены")
        await group.click(filed.card, "Решено", by=inspector)
        await vera.expect(f"По обращению № {number}, к которому вы присоединились, ведомство сообщает")
        await outbox_drained(db, clock)

        expected = [
            f"Ваше обращение № {number} взято в работу: Управление дорожного хозяйства г. Тамбова.",
            f"Ответ по обращению № {number} (Управление дорожного хозяйства г. Тамбова):",
            f"Проблема по обращению № {number} решена?",
            "Удалить ваши персональные данные?",
            "Готово: ваши персональные данные удалены",
        ]
        assert starting(texts_after(alice.messages, alice_seen), expected) == expected, (
            "the author: taken, the answer, the question, /forget; nothing after"
        )
        assert texts_after(bob.messages, bob_seen) == [
            f"Обращение № {number}, к которому вы присоединились, взято в работу: "
            "Управление дорожного хозяйства г. Тамбова.",
            f"Ответ по обращению № {number}, к которому вы присоединились "
            "(Управление дорожного хозяйства г. Тамбова):",
            mine.text.split("\n")[0],
            f"Вы больше не следите за обращением № {number}.",
        ], "Bob: taken, the answer, /my, leaving; not the solution after he left"
        assert [m.text.split("\n")[0] for m in vera.messages[vera_seen:]] == [
            f"Обращение № {number}, к которому вы присоединились, взято в работу: "
            "Управление дорожного хозяйства г. Тамбова.",
            f"Ответ по обращению № {number}, к которому вы присоединились "
            "(Управление дорожного хозяйства г. Тамбова):",
            "Спасибо за оценку 4!",
            f"По обращению № {number}, к которому вы присоединились, ведомство сообщает: проблема решена.",
        ], "Vera: each notice once, on VK"
