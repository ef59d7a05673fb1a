"""Answer review by the centre, end to end on Telegram: an agency with ``review_answers``
answers; the resident gets nothing until the admin chat approves; a returned answer goes
back to the agency's thread with the comment and never reaches the resident; the clocks
stop at the agency's answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, Catalogue, load_catalogue
from storage.models import OutboxMessage
from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import ADMINS, cast, file_appeal, history, stored


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The example region; the Tambov roads agency's answers are reviewed."""
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    marker = 'municipalities = ["tambov"]\n'
    assert text.count(marker) == 1
    path = tmp_path_factory.mktemp("review") / "catalogue.toml"
    path.write_text(text.replace(marker, marker + "review_answers = true\n"), encoding="utf-8")
    return load_catalogue(path)


async def test_an_answer_reaches_the_resident_only_once_the_centre_approves_it(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice, inspector, moderator, admins = cast(tg)
    filed = await file_appeal(tg, alice)
    alice.read_all()

    telegram_bot.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    answer = await filed.group.reply(filed.card, "Яму заделаем в четверг", from_user=inspector)

    held = await filed.group.expect_message(contains="отправлен на проверку")
    assert held.reply_to_message_id == answer["message_id"]
    await filed.group.expect_edit(filed.card, "Статус: ответ на проверке")
    assert filed.card.buttons == []
    review = await admins.expect_message(contains=f"Ответ по обращению № {filed.number} на проверке")
    assert "Яму заделаем в четверг" in review.text and "Инспектор" in review.text
    assert review.buttons == [["Одобрить", "Вернуть на доработку"]]
    await telegram_bot.delivered()
    assert alice.unread() == [], "nothing reaches the resident before approval"
    answered_at = telegram_bot.clock.now()  # type: ignore[attr-defined]

    telegram_bot.clock.advance(timedelta(hours=5))  # type: ignore[attr-defined]
    await admins.click(review, "Одобрить", by=moderator)

    notice = await alice.expect_message(contains="Яму заделаем в четверг")
    assert notice.text.startswith(f"Ответ по обращению № {filed.number}")
    await alice.expect_message(contains="Проблема по обращению")
    report = await filed.group.expect_message(contains="доставлен")
    assert report.reply_to_message_id == answer["message_id"], "the agency hears it arrived"
    await admins.expect_edit(review, "Ответ одобрен")
    assert review.buttons == []
    await filed.group.expect_edit(filed.card, "Статус: дан ответ")
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert appeal.status == "answered"
    assert appeal.first_response_at == answered_at and appeal.answered_at == answered_at, (
        "the clocks count from the agency's answer, not the approval"
    )
    kinds = await history(telegram_bot, filed.appeal_id)
    assert kinds[-2:] == ["answer_review", "answer_approved"]

    query = await admins.press_forged(review, f"r:ok:{filed.appeal_id}", by=moderator)
    await tg.expect_toast(query, "уже проверен")
    await telegram_bot.delivered()
    assert len([m for m in alice.messages if "Яму заделаем в четверг" in m.text]) == 1

    # The time in review is reported apart from the agency's.
    await admins.send("/digest", from_user=moderator)
    digest = await admins.expect_message(contains="Поступило")
    assert "Ответов проверено центром управления регионом: 1, медиана проверки — 5 ч" in digest.text


async def test_a_returned_answer_goes_back_to_the_agency_with_the_comment_and_never_to_the_resident(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice, inspector, moderator, admins = cast(tg)
    filed = await file_appeal(tg, alice)
    await filed.group.click(filed.card, "Взять в работу", by=inspector)
    await filed.group.expect_edit(filed.card, "Статус: в работе")
    alice.read_all()
    await filed.group.reply(filed.card, "Не наша дорога", from_user=inspector)
    review = await admins.expect_message(contains="на проверке")

    await admins.click(review, "Вернуть на доработку", by=moderator)
    prompt = await admins.expect_message(contains="Что доработать")
    assert prompt.forces_reply
    await admins.reply(prompt, "  ", from_user=moderator)
    await admins.expect_message(contains="Без комментария ответ не возвращается")
    await admins.reply(prompt, "Укажите срок ремонта и кто отвечает", from_user=moderator)

    back = await filed.group.expect_message(contains="возвращён на доработку")
    assert "Комментарий: Укажите срок ремонта и кто отвечает" in back.text
    await admins.expect_message(contains="возвращён в ведомство")
    await admins.expect_edit(review, "возвращён на доработку")
    await filed.group.expect_edit(filed.card, "Статус: в работе")
    appeal = await stored(telegram_bot, filed.appeal_id)
    assert appeal.status == "in_progress" and appeal.answered_at is None
    assert telegram_bot.app is not None
    async with telegram_bot.app.ctx.db.read() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == str(alice.id)))
        texts = [str(row.payload) for row in rows]
    assert not [t for t in texts if "Не наша дорога" in t], "the returned answer is gone"

    await filed.group.reply(back, "Отремонтируем до 1 декабря, подрядчик ДСУ-2", from_user=inspector)
    second = await admins.expect_message(contains="Отремонтируем до 1 декабря")
    await admins.click(second, "Одобрить", by=moderator)
    await alice.expect_message(contains="Отремонтируем до 1 декабря")
    await telegram_bot.delivered()
    assert not [m for m in alice.messages if "Не наша дорога" in m.text]


async def test_only_the_admin_chat_reviews(tg: Telegram, telegram_bot: TelegramBot) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    admins = tg.group(ADMINS)
    filed = await file_appeal(tg, alice)
    await filed.group.reply(filed.card, "Сделаем", from_user=inspector)
    await admins.expect_message(contains="на проверке")

    query = await filed.group.press_forged(filed.card, f"r:ok:{filed.appeal_id}", by=inspector)
    await tg.expect_toast(query, "не относится к вашему ведомству")
    await telegram_bot.delivered()
    assert (await stored(telegram_bot, filed.appeal_id)).status == "review"
    assert not [m for m in alice.unread() if "Сделаем" in m.text]
