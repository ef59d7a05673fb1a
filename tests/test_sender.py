"""The outbox sender: cards reach agency chats once and in order, limits and failures are
handled the way the people on both ends need."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.sender import OutboxSender
from bot.transport import PermanentFailure, RetryLater, TransientFailure
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.events import Button, ChatRef, Media, MediaKind, Platform, Reply
from handlers.outbox import send_later
from storage.models import Appeal, AppealEvent, MessageLink, OutboxMessage
from tests.fake_transport import ScriptedTransport

ROADS = ChatRef.parse("telegram:-1001000000001")
HOUSING = ChatRef.parse("telegram:-1001000000003")
ADMIN = ChatRef.parse("telegram:-1001000000000")
RESIDENT = ChatRef.parse("telegram:5001")


async def new_appeal(ctx: Context, agency_id: str = "tambov-roads", text: str = "Яма у дома 5") -> Appeal:
    async with ctx.db.transaction() as session:
        appeal = Appeal(
            platform="telegram",
            category_id="roads",
            municipality_id="tambov",
            agency_id=agency_id,
            description=text,
            status="passed",
            created_at=ctx.clock.now(),
        )
        session.add(appeal)
        await session.flush()
    return appeal


def card(appeal: Appeal, photos: int = 0) -> Reply:
    return Reply(
        text=f"<b>Обращение № {appeal.number}</b>\n{appeal.description}",
        buttons=((Button("Взять в работу", payload=f"take:{appeal.id}"),),),
        photos=tuple(
            Media(MediaKind.PHOTO, Platform.TELEGRAM, f"photo-{appeal.id}-{i}") for i in range(photos)
        ),
    )


async def queue_card(ctx: Context, appeal: Appeal, chat: ChatRef = ROADS, photos: int = 0) -> int:
    async with ctx.db.transaction() as session:
        row = await send_later(
            session, chat, card(appeal, photos), purpose="card", appeal_id=appeal.id, link_role="card"
        )
    return row.id


async def queue_answer(ctx: Context, appeal: Appeal, text: str = "Яму заделают до пятницы.") -> int:
    async with ctx.db.transaction() as session:
        row = await send_later(
            session,
            RESIDENT,
            Reply(text=text),
            purpose="answer",
            appeal_id=appeal.id,
            link_role="resident",
            report_to=(ROADS, "777"),
        )
    return row.id


async def outbox_row(ctx: Context, row_id: int) -> OutboxMessage:
    async with ctx.db.read() as session:
        row = await session.get(OutboxMessage, row_id)
    assert row is not None
    return row


def make_sender(ctx: Context, transport: ScriptedTransport, **kwargs: object) -> OutboxSender:
    return OutboxSender(ctx.db, {Platform.TELEGRAM: transport}, ctx, rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


async def test_cards_reach_agency_chats_once_in_order_and_are_linked(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    pothole, lamp, bench = [await new_appeal(ctx, text=t) for t in ("Яма", "Фонарь", "Скамейка")]
    leak = await new_appeal(ctx, agency_id="housing", text="Течёт крыша")
    await queue_card(ctx, pothole, photos=2)
    await queue_card(ctx, lamp)
    await queue_card(ctx, leak, HOUSING)
    await queue_card(ctx, bench)

    assert await sender.drain_once() == 4
    assert await sender.drain_once() == 0

    assert [t.split("\n")[1] for t in transport.texts(ROADS.chat_id)] == ["Яма", "Фонарь", "Скамейка"]
    assert [t.split("\n")[1] for t in transport.texts(HOUSING.chat_id)] == ["Течёт крыша"]
    assert transport.overlaps == []
    album = transport.sent[0] if transport.sent[0].chat_id == ROADS.chat_id else transport.sent[1]
    assert len(album.message_ids) == 3
    async with ctx.db.read() as session:
        links = (await session.scalars(select(MessageLink).where(MessageLink.appeal_id == pothole.id))).all()
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert sorted(link.message_id for link in links) == sorted(album.message_ids)
    assert {link.role for link in links} == {"card"}
    assert statuses == {"sent"}


async def test_rate_limited_chat_waits_its_turn_and_holds_back_only_itself(
    ctx: Context, clock: FrozenClock
) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    first, second = await new_appeal(ctx, text="Первое"), await new_appeal(ctx, text="Второе")
    leak = await new_appeal(ctx, agency_id="housing", text="Течёт крыша")
    first_row = await queue_card(ctx, first)
    await queue_card(ctx, second)
    await queue_card(ctx, leak, HOUSING)
    transport.fail_next(ROADS.chat_id, RetryLater(30))

    assert await sender.drain_once() == 2
    assert transport.texts(ROADS.chat_id) == []
    assert len(transport.texts(HOUSING.chat_id)) == 1

    clock.advance(timedelta(seconds=29))
    assert await sender.drain_once() == 0
    assert transport.texts(ROADS.chat_id) == []

    clock.advance(timedelta(seconds=1))
    assert await sender.drain_once() == 2
    assert [t.split("\n")[1] for t in transport.texts(ROADS.chat_id)] == ["Первое", "Второе"]
    row = await outbox_row(ctx, first_row)
    assert row.status == "sent"
    assert row.attempts == 1, "a rate limit is not counted as an attempt"


async def test_server_errors_and_dropped_connections_are_retried_with_growing_pauses(
    ctx: Context, clock: FrozenClock
) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    row_id = await queue_card(ctx, appeal)
    transport.fail_next(
        ROADS.chat_id,
        TransientFailure("502 Bad Gateway"),
        TransientFailure("connection reset"),
        TransientFailure("500 Internal Server Error"),
    )

    pauses = []
    for _ in range(3):
        assert await sender.drain_once() == 1
        row = await outbox_row(ctx, row_id)
        assert row.status == "pending"
        pause = (row.next_attempt_at - clock.now()).total_seconds()
        pauses.append(pause)
        clock.advance(timedelta(seconds=pause - 0.01))
        assert await sender.drain_once() == 0, "nothing is sent before the pause is over"
        clock.advance(timedelta(seconds=0.01))

    assert 1 <= pauses[0] <= 1.2
    assert 2 <= pauses[1] <= 2.4
    assert 4 <= pauses[2] <= 4.8
    assert await sender.drain_once() == 1
    assert len(transport.texts(ROADS.chat_id)) == 1
    row = await outbox_row(ctx, row_id)
    assert (row.status, row.attempts) == ("sent", 4)


def test_backoff_is_capped_at_five_minutes(ctx: Context) -> None:
    sender = make_sender(ctx, ScriptedTransport())
    assert [int(sender.backoff(n)) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert all(sender.backoff(n) <= 300 for n in range(1, 400))
    assert sender.backoff(60) >= 300 * 0.99


async def test_a_card_that_never_gets_through_is_given_up_after_three_days_and_admins_are_told(
    ctx: Context, clock: FrozenClock
) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    row_id = await queue_card(ctx, appeal)
    transport.fail_always(ROADS.chat_id, TransientFailure("503 Service Unavailable"))
    started = clock.now()

    while (row := await outbox_row(ctx, row_id)).status == "pending":
        clock.set(max(clock.now(), row.next_attempt_at))
        await sender.drain_once()

    assert row.status == "failed"
    assert timedelta(hours=72) <= clock.now() - started <= timedelta(hours=72, minutes=6)
    await sender.drain_once()
    [alert] = transport.texts(ADMIN.chat_id)
    assert f"№ {appeal.number} не доставлена" in alert
    assert "Управление дорожного хозяйства г. Тамбова" in alert
    assert "платформа не принимала сообщение трое суток" in alert


async def test_card_refused_for_good_alerts_admins_keeps_status_and_never_loops(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    row_id = await queue_card(ctx, appeal)
    transport.fail_next(ROADS.chat_id, PermanentFailure("forbidden", "bot was kicked from the group chat"))
    transport.fail_next(ADMIN.chat_id, PermanentFailure("forbidden", "bot was kicked from the group chat"))

    await sender.drain_once()
    await sender.drain_once()

    row = await outbox_row(ctx, row_id)
    assert row.status == "failed"
    assert row.last_error == "forbidden: bot was kicked from the group chat"
    assert [a[0] for a in transport.attempts] == [ROADS.chat_id, ADMIN.chat_id], (
        "the failed alert is not alerted"
    )
    async with ctx.db.read() as session:
        stored = await session.get(Appeal, appeal.id)
        events = (await session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == appeal.id))).all()
        outbox_size = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert stored is not None and stored.status == "passed"
    assert [(e.kind, e.actor_kind) for e in events] == [("delivery_failed", "system")]
    assert outbox_size == 2


async def test_card_alert_names_appeal_chat_and_reason(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    await queue_card(ctx, appeal)
    transport.fail_next(ROADS.chat_id, PermanentFailure("chat_not_found", "chat not found"))

    await sender.drain_once()

    [alert] = transport.texts(ADMIN.chat_id)
    assert alert.startswith(f"⚠️ <b>Карточка обращения № {appeal.number} не доставлена</b>")
    assert f"Куда: Управление дорожного хозяйства г. Тамбова ({ROADS})" in alert
    assert "Причина: чат не найден" in alert
    assert "перенаправьте" in alert


async def test_staff_hears_that_their_answer_reached_the_resident(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    await queue_answer(ctx, appeal)

    await sender.drain_once()

    assert transport.texts(RESIDENT.chat_id) == ["Яму заделают до пятницы."]
    [report] = [s for s in transport.sent if s.chat_id == ROADS.chat_id]
    assert report.text == f"✅ Ответ по обращению № {appeal.number} доставлен жителю."
    assert report.reply.reply_to == "777"
    async with ctx.db.read() as session:
        link = await session.scalar(select(MessageLink).where(MessageLink.chat_id == RESIDENT.chat_id))
    assert link is not None and (link.appeal_id, link.role) == (appeal.id, "resident")


async def test_staff_hears_that_the_resident_blocked_the_bot(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    await queue_answer(ctx, appeal)
    transport.fail_next(RESIDENT.chat_id, PermanentFailure("blocked", "bot was blocked by the user"))

    await sender.drain_once()

    [report] = [s for s in transport.sent if s.chat_id == ROADS.chat_id]
    assert report.text == f"⚠️ Житель заблокировал бота — ответ по обращению № {appeal.number} не доставлен."
    assert report.reply.reply_to == "777"
    assert transport.texts(ADMIN.chat_id) == [], "staff already know; admins are not bothered"


async def test_staff_report_that_fails_is_only_logged(ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    await queue_answer(ctx, appeal)
    transport.fail_next(RESIDENT.chat_id, PermanentFailure("blocked"))
    transport.fail_next(ROADS.chat_id, PermanentFailure("forbidden"))

    with caplog.at_level(logging.ERROR, logger="handlers.delivery"):
        await sender.drain_once()

    assert transport.sent == []
    assert [a[0] for a in transport.attempts] == [RESIDENT.chat_id, ROADS.chat_id]
    assert "is not alerted" in caplog.text


async def test_other_failed_message_alerts_admins_once(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx)
    async with ctx.db.transaction() as session:
        await send_later(
            session, RESIDENT, Reply(text="Статус: в работе"), purpose="notice", appeal_id=appeal.id
        )
    transport.fail_next(RESIDENT.chat_id, PermanentFailure("bad_request", "message is too long"))

    await sender.drain_once()
    await sender.drain_once()

    [alert] = transport.texts(ADMIN.chat_id)
    assert f"Сообщение по обращению № {appeal.number} не доставлено" in alert
    assert "Что: уведомление жителю" in alert
    assert "Причина: платформа отклонила сообщение" in alert


async def test_message_for_a_platform_without_transport_waits(
    ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    async with ctx.db.transaction() as session:
        row = await send_later(session, ChatRef.parse("vk:2000000001"), Reply(text="Привет"), purpose="card")

    with caplog.at_level(logging.WARNING, logger="bot.sender"):
        assert await sender.drain_once() == 0
        assert await sender.drain_once() == 0

    assert (await outbox_row(ctx, row.id)).status == "pending"
    assert caplog.text.count("no transport is configured") == 1


async def test_unreadable_payload_fails_without_stopping_other_chats(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    appeal = await new_appeal(ctx, agency_id="housing")
    async with ctx.db.transaction() as session:
        broken = OutboxMessage(
            platform="telegram",
            chat_id="-1001000000009",
            payload={"text": ["?"]},
            purpose="x",
            next_attempt_at=ctx.clock.now(),
        )
        session.add(broken)
    await queue_card(ctx, appeal, HOUSING)

    await sender.drain_once()

    assert (await outbox_row(ctx, broken.id)).status == "failed"
    assert len(transport.texts(HOUSING.chat_id)) == 1


async def test_run_wakes_on_notify_and_delivers_in_order(ctx: Context) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport, poll_seconds=3600)
    task = asyncio.create_task(sender.run())
    try:
        appeals = [await new_appeal(ctx, text=f"Обращение {i}") for i in range(5)]
        for appeal in appeals:
            await queue_card(ctx, appeal)
        sender.notify()
        async with asyncio.timeout(10):
            await transport.wait_for_sent(5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [t.split("\n")[1] for t in transport.texts(ROADS.chat_id)] == [f"Обращение {i}" for i in range(5)]
    assert transport.overlaps == []


async def test_a_transport_bug_in_one_chat_is_retried_and_other_chats_go_on(
    ctx: Context, clock: FrozenClock
) -> None:
    transport = ScriptedTransport()
    sender = make_sender(ctx, transport)
    pothole, leak = await new_appeal(ctx), await new_appeal(ctx, agency_id="housing", text="Течёт крыша")
    row_id = await queue_card(ctx, pothole)
    await queue_card(ctx, leak, HOUSING)
    transport.fail_next(ROADS.chat_id, RuntimeError("renderer crashed"))

    assert await sender.drain_once() == 2

    assert transport.texts(HOUSING.chat_id) == [f"<b>Обращение № {leak.number}</b>\nТечёт крыша"]
    row = await outbox_row(ctx, row_id)
    assert row.status == "pending"
    assert row.last_error == "unexpected: RuntimeError: renderer crashed"
    clock.set(row.next_attempt_at)
    assert await sender.drain_once() == 1
    assert len(transport.texts(ROADS.chat_id)) == 1
