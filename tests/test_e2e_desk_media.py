"""Staff answers of every kind reach the resident: documents, video, voice, audio,
animations, video notes and stickers, resent by Telegram's file id; a file that cannot be
delivered is told to the staff chat, and the resident gets nothing half-sent."""

from __future__ import annotations

import pytest

from tests.support.telegram import Telegram, TelegramBot
from tests.test_e2e_desk import file_appeal, history, stored


async def test_a_document_with_a_caption_reaches_the_resident_as_that_document(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    alice.read_all()

    sent = await filed.group.reply_media(
        filed.card, "document", from_user=inspector, caption="Акт выполненных работ", data=b"%PDF act"
    )

    notice = await alice.expect_message(contains="Акт выполненных работ")
    assert notice.file is not None
    kind, document = notice.file
    assert kind == "document" and document["file_id"] == sent["document"]["file_id"], "resent by file id"
    assert notice.text.startswith(f"Ответ по обращению № {filed.number}")
    await alice.expect_message(contains="Проблема по обращению")
    report = await filed.group.expect_message(contains="доставлен")
    assert report.text == f"✅ Ответ по обращению № {filed.number} доставлен жителю."
    await telegram_bot.delivered()
    alice.assert_nothing_new()
    assert (await stored(telegram_bot, filed.appeal_id)).status == "answered"


@pytest.mark.parametrize("kind", ["video", "voice", "audio", "animation", "video_note", "sticker"])
async def test_every_kind_of_file_answered_without_words_reaches_the_resident(
    tg: Telegram, telegram_bot: TelegramBot, kind: str
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    alice.read_all()

    sent = await filed.group.reply_media(filed.card, kind, from_user=inspector)

    await filed.group.expect_message(contains="доставлен")
    await telegram_bot.delivered()
    received = alice.unread()
    files = [m for m in received if m.file is not None]
    assert [m.file[0] for m in files if m.file] == [kind]
    assert files[0].file is not None and files[0].file[1]["file_id"] == sent[kind]["file_id"]
    # Which appeal it answers is said with it: in the caption, or (video notes and
    # stickers take none) in the message that follows.
    said = [m for m in received if f"Ответ по обращению № {filed.number}" in m.text]
    assert len(said) == 1
    assert [m for m in received if m not in files and m not in said] == [
        m for m in received if "Проблема по обращению" in m.text
    ], "nothing else reached the resident"
    assert (await stored(telegram_bot, filed.appeal_id)).status == "answered"


async def test_a_file_telegram_no_longer_has_is_told_to_the_staff_and_nothing_half_sent(
    tg: Telegram, telegram_bot: TelegramBot
) -> None:
    alice = tg.user(1001, "Алиса")
    inspector = tg.user(5001, "Инспектор")
    filed = await file_appeal(tg, alice)
    alice.read_all()

    sent = await filed.group.reply_media(filed.card, "video", from_user=inspector, caption="Видео с места")
    # The file is gone before the bot could resend it (nothing awaited since the reply).
    del tg.server.files[sent["video"]["file_id"]]

    failed = await filed.group.expect_message(contains="не доставлен")
    assert f"№ {filed.number}" in failed.text
    assert failed.reply_to_message_id == sent["message_id"]
    await telegram_bot.delivered()
    assert not [m for m in alice.unread() if "Видео с места" in m.text or m.file], alice.unread()
    assert "answer" in await history(telegram_bot, filed.appeal_id)
