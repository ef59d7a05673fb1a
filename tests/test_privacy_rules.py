"""The rules behind /forget, /mydata and retention, one at a time (the end-to-end walk
through every table is in tests/test_privacy.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers import privacy
from handlers.catalogue import EXAMPLE_PATH, load_catalogue
from handlers.context import Context
from handlers.core import Core
from handlers.events import Location
from storage import inbox
from storage import outbox as outbox_store
from storage.models import InboxUpdate, OutboxMessage, OutboxStatus, Resident
from tests.support.desk import (
    ADMIN,
    RESIDENT,
    RESIDENT_CHAT,
    ROADS_TAMBOV,
    FakeOutbox,
    appeal,
    file_appeal,
    photo,
    press,
    resident_acts,
    say,
    the_card,
    to,
)


async def forget(ctx: Context) -> None:
    asked = await resident_acts(ctx, say(RESIDENT_CHAT, "/forget", sender=RESIDENT))
    [yes] = [b.payload for row in asked.replies[-1].buttons for b in row if b.text == "Да, удалить"]
    assert yes is not None
    done = await resident_acts(ctx, press(RESIDENT_CHAT, yes, sender=RESIDENT))
    assert "удалены" in done.replies[0].text


async def test_a_card_not_yet_sent_goes_out_without_phone_place_and_photos(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(
        ctx, location=Location(52.7311, 41.4423), phone="+79161234567", photos=(photo("p1"), photo("p2"))
    )
    number = (await appeal(ctx, appeal_id)).number

    await forget(ctx)

    sent = to(ROADS_TAMBOV, await outbox.deliver())
    card = the_card(sent, ROADS_TAMBOV)
    assert "Телефон" not in card.text and "Советская" not in card.text and "yandex" not in card.text
    assert "отозвал согласие" in card.text
    assert [d.purpose for d in sent] == ["card", "withdrawn"], (
        "no album, no pin: only the card and the notice"
    )
    assert f"№ {number}" in sent[1].text
    assert not any(d.reply.photos or d.reply.location for d in sent)
    async with ctx.db.read() as session:
        withdrawn = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED.value)
            )
        ).all()
    assert len(withdrawn) == 2 and all(row.payload == {} and row.erased_at for row in withdrawn)


async def test_a_card_in_a_chat_the_appeal_left_is_redrawn_without_buttons(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, phone="+79161234567")
    old_card = the_card(await outbox.deliver(), ROADS_TAMBOV)
    await resident_acts(
        ctx, press(ROADS_TAMBOV, f"d:redir:{appeal_id}:housing", message_id=old_card.message_ids[0])
    )
    await outbox.deliver()

    await forget(ctx)

    sent = await outbox.deliver()
    [edit] = [d for d in to(ROADS_TAMBOV, sent) if d.reply.edit_message_id == old_card.message_ids[0]]
    assert edit.reply.buttons == () and "Телефон" not in edit.text and "отозвал согласие" in edit.text
    assert any(d.purpose == "withdrawn" for d in to(ROADS_TAMBOV, sent))


async def test_mydata_shows_each_appeal_and_how_long_things_are_kept(ctx: Context) -> None:
    first = await file_appeal(ctx, phone="+79161234567", photos=(photo("p1"),))
    second = await file_appeal(ctx, address=None, location=Location(52.7311, 41.4423))
    ctx.retention = privacy.retention.RetentionPolicy(handled=timedelta(days=3), failed=timedelta(days=21))

    response = await resident_acts(ctx, say(RESIDENT_CHAT, "/mydata", sender=RESIDENT))

    text = "\n".join(r.text for r in response.replies)
    numbers = [(await appeal(ctx, i)).number for i in (first, second)]
    phone_at = text.index("Телефон: +7 916 123-45-67")
    assert text.index(f"№ {numbers[0]}") < phone_at < text.index(f"№ {numbers[1]}")
    assert "Адрес: ул. Советская, 5" in text and "Геолокация: 52.731100, 41.442300" in text
    assert "Ваших фотографий: 1" in text
    assert "3 дня" in text and "21 день" in text


async def test_mydata_of_a_long_history_is_split_into_messages_that_fit(ctx: Context) -> None:
    for _ in range(12):
        await file_appeal(ctx, description="Очень длинное описание проблемы. " * 60)

    response = await resident_acts(ctx, say(RESIDENT_CHAT, "/mydata", sender=RESIDENT))

    assert len(response.replies) > 1
    assert all(len(r.text) <= privacy.MESSAGE_LIMIT for r in response.replies)
    assert sum(r.text.count("Описание:") for r in response.replies) == 12


async def test_mydata_before_consent_says_there_is_nothing_but_the_id(ctx: Context) -> None:
    stranger = say(RESIDENT_CHAT, "/mydata", sender=RESIDENT)

    response = await resident_acts(ctx, stranger)

    text = response.replies[0].text
    assert "не дано" in text and "Обращений нет" in text and "5001" in text


async def _store(
    ctx: Context, key: str, person: str, *, handled_ago: timedelta | None, status: str = "handled"
) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        [row] = await inbox.store(session, "telegram", [inbox.Incoming(key, person, {"text": key})], now=now)
        if handled_ago is not None:
            await inbox.mark(session, [row.id], status=status, now=now - handled_ago)


async def test_retention_deletes_handled_updates_after_the_period_and_failed_ones_later(ctx: Context) -> None:
    await file_appeal(ctx)  # the resident consented: only the periods apply
    person = f"telegram:{RESIDENT.external_id}"
    await _store(ctx, "old", person, handled_ago=timedelta(days=8))
    await _store(ctx, "fresh", person, handled_ago=timedelta(days=6))
    await _store(ctx, "old-failed", person, handled_ago=timedelta(days=8), status="failed")
    await _store(ctx, "ancient-failed", person, handled_ago=timedelta(days=31), status="failed")
    await _store(ctx, "pending", person, handled_ago=None)

    report = await privacy.purge(ctx)

    async with ctx.db.read() as session:
        left = set((await session.scalars(select(InboxUpdate.update_key))).all())
    assert left == {"fresh", "old-failed", "pending"}
    assert report.inbox_deleted == 2


async def test_retention_erases_sent_payloads_after_the_period_and_keeps_the_rows(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    await file_appeal(ctx, phone="+79161234567")
    await outbox.deliver()
    async with ctx.db.read() as session:
        sent = await session.scalar(
            select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT.value)
        )

    assert (await privacy.purge(ctx)).outbox_erased == 0
    ctx.clock.advance(timedelta(days=7, minutes=1))
    assert (await privacy.purge(ctx)).outbox_erased == sent
    assert (await privacy.purge(ctx)).outbox_erased == 0, "erased once"

    async with ctx.db.read() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert len(rows) == sent and all(row.payload == {} for row in rows)


async def test_retention_never_touches_a_consenting_resident_or_a_pending_update(ctx: Context) -> None:
    await file_appeal(ctx)
    person = f"telegram:{RESIDENT.external_id}"
    await _store(ctx, "mine", person, handled_ago=timedelta(hours=1))
    await _store(ctx, "stranger-pending", "telegram:999", handled_ago=None)
    await _store(ctx, "stranger-done", "telegram:999", handled_ago=timedelta(minutes=1))

    await privacy.purge(ctx)

    async with ctx.db.read() as session:
        rows = {r.update_key: r for r in (await session.scalars(select(InboxUpdate))).all()}
        residents = (await session.scalars(select(Resident.external_id))).all()
    assert rows["mine"].payload == {"text": "mine"} and rows["mine"].person_key == person
    assert rows["stranger-pending"].payload == {"text": "stranger-pending"}
    assert rows["stranger-done"].payload == {} and rows["stranger-done"].person_key is None
    assert residents == [RESIDENT.external_id]


async def test_the_scheduler_job_purges(ctx: Context) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    await _store(ctx, "stranger-done", "telegram:999", handled_ago=timedelta(minutes=1))
    scheduler = AsyncIOScheduler()
    privacy.register_retention_job(scheduler, ctx)
    job = scheduler.get_job(privacy.RETENTION_JOB_ID)
    assert job is not None and job.trigger.interval == timedelta(minutes=privacy.RETENTION_EVERY_MINUTES)

    await job.func()

    async with ctx.db.read() as session:
        row = await session.scalar(select(InboxUpdate))
    assert row is not None and row.payload == {}


async def test_appeals_purge_applies_the_periods_of_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from storage.db import Database

    db = Database(database_url)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        session.add(Resident(platform="telegram", external_id="5001", consent_at=now))
        rows = await inbox.store(
            session,
            "telegram",
            [inbox.Incoming(key, "telegram:5001", {"text": key}) for key in ("8 days", "12 days")],
            now=now,
        )
        await inbox.mark(session, [rows[0].id], now=now - timedelta(days=8))
        await inbox.mark(session, [rows[1].id], now=now - timedelta(days=12))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RETENTION_DAYS", "10")

    code = await asyncio.to_thread(main, ["--env-file", str(tmp_path / "none.env"), "purge"])

    assert code == 0
    assert "inbox rows deleted: 1" in capsys.readouterr().out
    async with db.read() as session:
        assert (await session.scalars(select(InboxUpdate.update_key))).all() == ["8 days"]
    await db.dispose()


async def test_messages_sent_to_a_stranger_lose_text_and_chat_and_agency_chats_keep_theirs(
    ctx: Context,
) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        for chat in ("999", ROADS_TAMBOV.chat_id):
            row = await outbox_store.enqueue(
                session, platform="telegram", chat_id=chat, payload={"text": "Здравствуйте"}, purpose="reply"
            )
            await outbox_store.mark_sent(session, row.id, now=now, message_ids=["1"])

    await privacy.purge(ctx)

    async with ctx.db.read() as session:
        rows = {
            r.id: r for r in (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        }
    stranger, agency = rows.values()
    assert (stranger.chat_id, stranger.payload, stranger.message_ids) == ("erased", {}, None)
    assert (agency.chat_id, agency.payload) == (ROADS_TAMBOV.chat_id, {"text": "Здравствуйте"})


async def test_an_answer_held_for_approval_is_withdrawn_and_cannot_be_approved_after_forget(
    ctx: Context, tmp_path: Path
) -> None:
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    marker = 'municipalities = ["tambov"]\n'
    path = tmp_path / "catalogue.toml"
    path.write_text(text.replace(marker, marker + "review_answers = true\n"), encoding="utf-8")
    ctx.catalogue = load_catalogue(path)
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, phone="+79161234567")
    card_id = the_card(await outbox.deliver(), ROADS_TAMBOV).message_ids[0]
    await Core(ctx).handle(say(ROADS_TAMBOV, "Яму заделаем в четверг", reply_to=card_id))
    review = [d for d in await outbox.deliver() if d.chat == ADMIN and d.reply.buttons]
    async with ctx.db.read() as session:
        held = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.HELD.value)
        )
    assert held is not None and held.chat_id == RESIDENT_CHAT.chat_id

    await forget(ctx)

    async with ctx.db.read() as session:
        row = await session.get(OutboxMessage, held.id)
    assert row is not None and (row.status, row.payload, row.chat_id) == ("failed", {}, row.chat_id)
    assert row.chat_id.startswith("forgotten:")
    [approve] = [b.payload for b in review[0].reply.buttons[0]][:1]
    assert approve is not None
    refused = await Core(ctx).handle(press(ADMIN, approve, message_id=review[0].message_ids[0]))
    assert refused.toast and refused.alert
    assert to(RESIDENT_CHAT, await outbox.deliver()) == []
    assert (await appeal(ctx, appeal_id)).phone is None
