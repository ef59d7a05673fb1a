"""The logs of a whole dialogue and a staff answer: one JSON line per event, the appeal
number in them, and none of the resident's personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from bot.logging import configure_logging
from tests.support.steps import step
from tests.support.telegram import Telegram, TelegramBot

ROADS_AGENCY = -1001000000001
NAME = "Зинаида Пантелеймоновна"
PHONE_DIGITS = "9001234567"
DESCRIPTION = "Провал асфальта у подъезда дома семнадцать по Садовой"
ADDRESS = "ул. Садовая, д. 17, подъезд 3"
ANSWER = "Бригада выедет завтра к девяти утра"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The app's logs as configured in production, JSON, but at DEBUG, into a buffer."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


async def test_a_dialogue_and_an_answer_log_the_number_but_no_personal_data(
    tg: Telegram, telegram_bot: TelegramBot, json_logs: io.StringIO
) -> None:
    alice = tg.user(1001, NAME, phone=f"+7{PHONE_DIGITS}")
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    await alice.click("Согласен")
    await alice.expect_message(contains=step("topic"))
    await alice.click("Дороги")
    await alice.expect_message(contains=step("municipality"))
    await alice.click("Тамбов")
    await alice.expect_message(contains=step("description"))
    await alice.send(DESCRIPTION)
    await alice.expect_message(contains=step("place"))
    await alice.send(ADDRESS)
    await alice.expect_message(contains=step("photos"))
    await alice.click("Пропустить")
    await alice.expect_message(contains=step("phone"))
    await alice.click("Поделиться номером")
    await alice.expect_message(contains="Проверьте обращение")
    await alice.click("Отправить")
    done = await alice.expect_message(contains="принято")
    number = done.text.split("№ ", 1)[1].split()[0].rstrip(".,")
    agency = tg.group(ROADS_AGENCY)
    card = await agency.expect_message(contains=number)
    await agency.reply(card, ANSWER, from_user=tg.user(5001, "Инспектор Ивлев"))
    await alice.expect_message(contains=ANSWER)
    await telegram_bot.settled()

    lines = [line for line in json_logs.getvalue().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), "\n".join(lines)
    records = [json.loads(line) for line in lines]  # every line is one JSON event
    assert sum(1 for r in records if r["event"] == "event") == 10, "one line per handled event"
    assert any(r.get("appeal") == number and r["event"] == "appeal.submitted" for r in records)
    assert any(r.get("appeal") == number and r["event"] == "appeal.event" for r in records)
    everything = "\n".join(lines)
    for secret in (
        NAME,
        "Зинаида",
        PHONE_DIGITS,
        DESCRIPTION,
        "Провал асфальта",
        ADDRESS,
        "Садовая",
        ANSWER,
        "Ивлев",
    ):
        assert secret not in everything, f"{secret!r} is in the logs"
