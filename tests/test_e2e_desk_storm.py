"""A storm on the desk: 200 residents send their appeals at once while the fake Bot API
answers with random 429s, 500s, nginx 502 pages and dropped connections, and staff answer
each card as it comes. Every card reaches its agency exactly once, every answer its
resident exactly once, and every answering group hears it was delivered."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest

from handlers.events import Platform
from tests.support.chat import ResidentChat
from tests.support.telegram import Group, Telegram, TelegramBot
from tests.test_e2e_desk import HOUSING, REGION_ROADS, TAMBOV_ROADS

HEALTH = -1001000000004
EDUCATION = -1001000000005
ROUTES = [
    ("Дороги", "Тамбов", TAMBOV_ROADS),
    ("Дороги", "Мичуринск", REGION_ROADS),
    ("ЖКХ", "Моршанск", HOUSING),
    ("Здравоохранение", "Котовск", HEALTH),
    ("Образование", "Рассказово", EDUCATION),
]
RESIDENTS = 200
_NUMBER = re.compile(r"№ (\d{4}-\d{6})")


async def _ready_to_send(chat: ResidentChat, topic: str, town: str, n: int) -> None:
    """The dialogue up to the review, straight through the core (the dialogue on Telegram
    has its own tests; here the load is the desk's)."""
    await chat.send("/start")
    await chat.click("Согласен")
    await chat.click(topic)
    await chat.click(town)
    await chat.send(f"Обращение жителя номер {n}: нужна помощь по адресу, дом {n}")
    for _step in range(3):
        await chat.click("Пропустить")
    assert "Проверьте обращение" in chat.last_text, chat.last_text


def _cards(group: Group) -> list[str]:
    """The appeal numbers of the cards in the group (messages with the desk's buttons or
    edited from them), in order."""
    numbers = []
    for message in group.messages:
        first_line = message.text.split("\n", 1)[0]
        if first_line.startswith("Обращение № ") and (message.buttons or message.edits):
            numbers.append(first_line.removeprefix("Обращение № "))
    return numbers


@pytest.mark.slow
@pytest.mark.telegram_bot(clock="system")
async def test_a_storm_of_appeals_and_answers(tg: Telegram, telegram_bot: TelegramBot) -> None:
    assert telegram_bot.app is not None and telegram_bot.app.sender is not None
    telegram_bot.app.sender.backoff_base = 0.05  # the storm is about faults, not patience
    residents = [tg.user(20000 + n, f"Житель {n}") for n in range(RESIDENTS)]
    routes = {resident.id: ROUTES[n % len(ROUTES)] for n, resident in enumerate(residents)}
    groups = {chat_id: tg.group(chat_id) for _topic, _town, chat_id in ROUTES}
    inspector = tg.user(5001, "Инспектор")
    chats = [
        ResidentChat(telegram_bot.app.core, Platform.TELEGRAM, str(r.id), name=r.name) for r in residents
    ]
    await asyncio.gather(
        *(
            _ready_to_send(c, routes[r.id][0], routes[r.id][1], n)
            for n, (c, r) in enumerate(zip(chats, residents, strict=True))
        )
    )

    tg.server.storm(p429=0.1, p500=0.08, p502html=0.04, pdrop=0.04, retry_after=1, seed=11)
    accepted = await asyncio.gather(*(chat.click("Отправить") for chat in chats))
    telegram_bot.app.notify()
    assert all("принято" in response.replies[0].text for response in accepted)

    answered: set[str] = set()

    async def staff_answer_every_card() -> None:
        while len(answered) < RESIDENTS:

            def new_cards() -> list[tuple[Group, str]]:
                return [
                    (group, number)
                    for group in groups.values()
                    for number in _cards(group)
                    if number not in answered
                ]

            for group, number in await tg.server.wait_for(new_cards, timeout=60):
                card = next(m for m in group.messages if m.text.startswith(f"Обращение № {number}\n"))
                answered.add(number)
                await group.reply(card, f"Ответ на обращение {number}: примем меры", from_user=inspector)

    await asyncio.wait_for(staff_answer_every_card(), 60)

    def everyone_heard() -> bool:
        return all(any("примем меры" in m.text for m in r.messages) for r in residents)

    await tg.server.wait_for(everyone_heard, timeout=60)
    await tg.server.wait_for(
        lambda: (
            sum(len([m for m in g.messages if "доставлен жителю" in m.text]) for g in groups.values())
            >= RESIDENTS
        ),
        timeout=120,
    )
    tg.server.calm()
    await telegram_bot.delivered(timeout=60)

    # Every card exactly once, in the group the catalogue routes it to.
    all_cards = Counter(number for group in groups.values() for number in _cards(group))
    assert len(all_cards) == RESIDENTS and set(all_cards.values()) == {1}
    for resident in residents:
        topic, town, chat_id = routes[resident.id]
        answers = [m for m in resident.messages if "примем меры" in m.text]
        assert len(answers) == 1, (resident.name, answers)
        number = _NUMBER.search(answers[0].text)
        assert number is not None
        assert number.group(1) in _cards(groups[chat_id]), (resident.name, topic, town)
        assert f"Ответ на обращение {number.group(1)}" in answers[0].text, "each resident hears their own"
    for group in groups.values():
        reports = [m.text for m in group.messages if "доставлен жителю" in m.text]
        assert sorted(reports) == sorted(
            f"✅ Ответ по обращению № {number} доставлен жителю." for number in _cards(group)
        )
    statuses = Counter(call.status for call in tg.server.calls)
    assert statuses[429] > 0 and statuses[500] + statuses[502] + statuses[0] > 0, statuses
