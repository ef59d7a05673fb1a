"""Staff act on appeals in their group chats; residents hear about it."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from handlers.catalogue import EXAMPLE_PATH, parse_catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.core import Core
from handlers.events import ChatKind, ChatRef, Event, Platform
from handlers.paging import shorten
from handlers.workflow import AppealStatus
from storage.models import AppealEvent, OutboxMessage, Resident
from tests.support.chat import assert_fits
from tests.support.desk import (
    ADMIN,
    HOUSING,
    OFFICER,
    RESIDENT_CHAT,
    ROADS_TAMBOV,
    STRANGER_GROUP,
    FakeOutbox,
    appeal,
    file_appeal,
    history,
    photo,
    press,
    say,
    the_card,
    to,
)


async def _filed(ctx: Context, **kwargs: object) -> tuple[int, str, FakeOutbox]:
    """An appeal filed and its card delivered; returns its id, the card's message id, the outbox."""
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, **kwargs)  # type: ignore[arg-type]
    sent = await outbox.deliver()
    chat = ROADS_TAMBOV if not kwargs else next(d.chat for d in sent)
    return appeal_id, the_card(sent, chat).message_ids[0], outbox


async def _footprint(ctx: Context) -> tuple[int, int]:
    async with ctx.db.read() as session:
        events = await session.scalar(select(func.count()).select_from(AppealEvent))
        outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return int(events or 0), int(outbox or 0)


async def test_taking_an_appeal_tells_the_resident_and_updates_the_card(
    ctx: Context, clock: FrozenClock
) -> None:
    core = Core(ctx)
    appeal_id, card_id, outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number
    clock.advance(timedelta(hours=2))

    response = await core.handle(press(ROADS_TAMBOV, f"d:take:{appeal_id}"))

    assert response.toast == "Взято в работу"
    sent = await outbox.deliver()
    [notice] = to(RESIDENT_CHAT, sent)
    assert notice.text == (
        f"Ваше обращение № {number} взято в работу: Управление дорожного хозяйства г. Тамбова."
    )
    [edit] = to(ROADS_TAMBOV, sent)
    assert edit.reply.edit_message_id == card_id
    assert "Статус: <b>в работе</b>" in edit.text
    assert edit.labels == ["Ответить", "Перенаправить", "Отклонить", "Решено", "Назначить", "Заметка"]
    stored = await appeal(ctx, appeal_id)
    assert stored.status == AppealStatus.IN_PROGRESS
    assert stored.first_response_at == ctx.clock.now()
    taken = (await history(ctx, appeal_id))[-1]
    assert (taken.kind, taken.from_status, taken.to_status) == ("taken", "passed", "in_progress")
    assert (taken.actor_kind, taken.actor_id, taken.actor_name) == ("staff", "7001", "Иван Петров")


async def test_a_reply_to_the_card_reaches_the_resident_and_asks_for_feedback(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, card_id, outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number

    answer = say(ROADS_TAMBOV, "Яму <заделаем> до пятницы", reply_to=card_id, media=(photo("staff1"),))
    response = await core.handle(answer)

    assert response.replies == []
    sent = await outbox.deliver()
    to_resident = to(RESIDENT_CHAT, sent)
    assert [d.purpose for d in to_resident] == ["answer", "feedback"]
    delivered, feedback = to_resident
    assert delivered.text == (
        f"<b>Ответ по обращению № {number}</b> (Управление дорожного хозяйства г. Тамбова):\n"
        "Яму &lt;заделаем&gt; до пятницы"
    )
    assert [p.ref for p in delivered.reply.photos] == ["staff1"]
    assert delivered.report_to == ("telegram", ROADS_TAMBOV.chat_id, answer.message_id)
    assert f"Проблема по обращению № {number} решена?" in feedback.text
    assert feedback.payloads == [f"fb:{appeal_id}:yes", f"fb:{appeal_id}:no"] + [
        f"rate:{appeal_id}:{n}" for n in range(1, 6)
    ]
    edit, report = to(ROADS_TAMBOV, sent)
    assert edit.reply.edit_message_id == card_id
    assert "Статус: <b>дан ответ</b>" in edit.text
    assert report.reply.reply_to == answer.message_id
    assert report.text == f"✅ Ответ по обращению № {number} доставлен жителю."
    stored = await appeal(ctx, appeal_id)
    assert stored.status == AppealStatus.ANSWERED
    assert stored.first_response_at == ctx.clock.now()
    assert (await history(ctx, appeal_id))[-1].text == "Яму <заделаем> до пятницы"

    # Staff reply to their own answer: it is part of the appeal's thread now.
    more = say(ROADS_TAMBOV, "Уточнение: бригада выедет в четверг", reply_to=answer.message_id)
    await core.handle(more)
    [again, _feedback] = to(RESIDENT_CHAT, await outbox.deliver())
    assert "Уточнение: бригада выедет в четверг" in again.text


async def test_the_answer_button_asks_for_a_reply_that_reaches_the_resident(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, card_id, outbox = await _filed(ctx)

    response = await core.handle(press(ROADS_TAMBOV, f"d:answer:{appeal_id}", message_id=card_id))

    assert response.toast == "Напишите ответом на сообщение бота"
    [prompt] = to(ROADS_TAMBOV, await outbox.deliver())
    assert prompt.reply.force_reply
    assert "напишите его ответом на это сообщение" in prompt.text
    await core.handle(say(ROADS_TAMBOV, "Заявка передана подрядчику", reply_to=prompt.message_ids[0]))
    answer = to(RESIDENT_CHAT, await outbox.deliver())[0]
    assert answer.purpose == "answer"
    assert "Заявка передана подрядчику" in answer.text


async def test_rejecting_needs_a_listed_reason_and_a_text_and_the_resident_gets_both(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, _card_id, outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number

    [choose] = (await core.handle(press(ROADS_TAMBOV, f"d:reject:{appeal_id}"))).replies
    assert choose.text == f"Причина отказа по обращению № {number}:"
    assert [b.text for row in choose.buttons for b in row] == [
        "Вне компетенции ведомства",
        "Недостаточно сведений",
        "Повторное обращение",
        "Оскорбительные выражения",
    ]
    assert await outbox.deliver() == []
    forged = await core.handle(press(ROADS_TAMBOV, f"d:reject:{appeal_id}:no-such-reason"))
    assert forged.toast == "Эта кнопка больше не действует."
    await core.handle(press(ROADS_TAMBOV, f"d:reject:{appeal_id}:not-ours"))
    [prompt] = to(ROADS_TAMBOV, await outbox.deliver())
    assert "причина: «Вне компетенции ведомства»" in prompt.text
    assert "Без объяснения обращение не отклоняется" in prompt.text

    before = await _footprint(ctx)
    no_reason = await core.handle(say(ROADS_TAMBOV, "  ", reply_to=prompt.message_ids[0]))
    assert no_reason.replies[0].text.startswith("Без объяснения обращение не отклоняется")
    assert await _footprint(ctx) == before
    assert (await appeal(ctx, appeal_id)).status == AppealStatus.PASSED

    done = await core.handle(say(ROADS_TAMBOV, "Дорога частная", reply_to=prompt.message_ids[0]))

    assert done.replies[0].text == f"Обращение № {number} отклонено (Иван Петров)."
    sent = await outbox.deliver()
    [notice] = to(RESIDENT_CHAT, sent)
    assert notice.text == (
        f"Ваше обращение № {number} отклонено.\n"
        "Причина: Вне компетенции ведомства. Дорога частная\n\n"
        "Не согласны? Отказ можно один раз оспорить: нажмите «Оспорить отказ».\n"
        f"Оцените, пожалуйста, ответ по обращению № {number} от 1 до 5."
    )
    assert notice.payloads == [f"ct:{appeal_id}"] + [f"rate:{appeal_id}:{n}" for n in range(1, 6)]
    edit, report = to(ROADS_TAMBOV, sent)
    assert "Статус: <b>отклонено</b>" in edit.text
    assert edit.reply.buttons == ()
    assert report.text == f"✅ Ответ по обращению № {number} доставлен жителю."
    stored = await appeal(ctx, appeal_id)
    assert (stored.rejection_reason, stored.answered_at) == ("not-ours", ctx.clock.now())
    rejected = (await history(ctx, appeal_id))[-1]
    assert (rejected.kind, rejected.to_status, rejected.text) == (
        "rejected",
        "rejected",
        "Вне компетенции ведомства. Дорога частная",
    )

    # A rejected appeal cannot be taken: the old card's button is refused.
    stale = await core.handle(press(ROADS_TAMBOV, f"d:take:{appeal_id}"))
    assert stale.toast == f"Нельзя: обращение № {number} сейчас в статусе «отклонено»."
    assert (await appeal(ctx, appeal_id)).status == AppealStatus.REJECTED


async def test_redirecting_moves_the_card_to_the_other_agency(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, card_id, outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number

    choices = await core.handle(press(ROADS_TAMBOV, f"d:redir:{appeal_id}"))

    [menu] = choices.replies
    assert menu.text == f"Куда перенаправить обращение № {number}?"
    payloads = [b.payload for row in menu.buttons for b in row]
    assert f"d:redir:{appeal_id}:tambov-roads" not in payloads
    assert f"d:redir:{appeal_id}:housing" in payloads
    assert all(len(b.text) <= ctx.caps(ROADS_TAMBOV.platform).label_max for row in menu.buttons for b in row)

    moved = await core.handle(press(ROADS_TAMBOV, f"d:redir:{appeal_id}:housing", message_id="menu1"))

    assert moved.replies[0].edit_message_id == "menu1"
    sent = await outbox.deliver()
    old_card = next(d for d in to(ROADS_TAMBOV, sent) if d.reply.edit_message_id == card_id)
    assert "Перенаправлено в Управление ЖКХ и государственная жилищная инспекция" in old_card.text
    assert old_card.reply.buttons == ()
    new_card = the_card(sent, HOUSING)
    assert "Статус: <b>передано в ведомство</b>" in new_card.text
    assert "Ведомство: Управление ЖКХ" in new_card.text
    [notice] = to(RESIDENT_CHAT, sent)
    assert notice.text == (
        f"Ваше обращение № {number} передано в другое ведомство: "
        "Управление ЖКХ и государственная жилищная инспекция."
    )
    stored = await appeal(ctx, appeal_id)
    assert (stored.agency_id, stored.status) == ("housing", AppealStatus.PASSED)
    assert [(e.kind, e.to_status, e.agency_id) for e in await history(ctx, appeal_id)][-2:] == [
        ("redirected", "redirected", "housing"),
        ("passed", "passed", "housing"),
    ]

    # The old agency no longer acts on it; the new one does.
    refused = await core.handle(say(ROADS_TAMBOV, "Сделаем", reply_to=card_id))
    assert refused.replies[0].text == "Это обращение не относится к вашему ведомству."
    assert (await core.handle(press(ROADS_TAMBOV, f"d:take:{appeal_id}"))).toast == (
        "Это обращение не относится к вашему ведомству."
    )
    await core.handle(say(HOUSING, "Передали в управляющую компанию", reply_to=new_card.message_ids[0]))
    assert "Передали в управляющую компанию" in to(RESIDENT_CHAT, await outbox.deliver())[0].text


async def test_solving_asks_for_the_answer_and_the_resident_gets_it(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, _card_id, outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number

    response = await core.handle(press(ROADS_TAMBOV, f"d:solve:{appeal_id}"))

    assert response.toast == "Напишите ответом на сообщение бота"
    [prompt] = await outbox.deliver()
    assert prompt.chat == ROADS_TAMBOV and prompt.reply.force_reply
    assert "Без ответа обращение не считается решённым" in prompt.text
    before = await _footprint(ctx)
    empty = await core.handle(say(ROADS_TAMBOV, "", reply_to=prompt.message_ids[0]))
    assert empty.replies[0].text.startswith("Пустой ответ не отправлен")
    assert await _footprint(ctx) == before
    assert (await appeal(ctx, appeal_id)).status == AppealStatus.PASSED

    done = await core.handle(say(ROADS_TAMBOV, "Яму заделали асфальтом", reply_to=prompt.message_ids[0]))

    assert done.replies[0].text == f"Обращение № {number} отмечено как решённое (Иван Петров)."
    sent = await outbox.deliver()
    notice, feedback = to(RESIDENT_CHAT, sent)
    assert notice.text == (
        f"<b>Обращение № {number} решено</b> (Управление дорожного хозяйства г. Тамбова):\n"
        "Яму заделали асфальтом"
    )
    assert feedback.purpose == "feedback"
    edit, report = to(ROADS_TAMBOV, sent)
    assert "Статус: <b>решено</b>" in edit.text
    assert edit.reply.buttons == ()
    assert "доставлен" in report.text
    stored = await appeal(ctx, appeal_id)
    assert stored.status == AppealStatus.SOLVED
    assert stored.solved_at == stored.answered_at == ctx.clock.now()
    assert [(e.kind, e.text) for e in await history(ctx, appeal_id)][-1] == (
        "solved",
        "Яму заделали асфальтом",
    )


async def test_solving_after_an_answer_uses_that_answer(ctx: Context, clock: FrozenClock) -> None:
    core = Core(ctx)
    appeal_id, card_id, outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number
    await core.handle(say(ROADS_TAMBOV, "Яму заделали", reply_to=card_id))
    await outbox.deliver()
    answered = (await appeal(ctx, appeal_id)).answered_at
    clock.advance(timedelta(hours=1))

    response = await core.handle(press(ROADS_TAMBOV, f"d:solve:{appeal_id}"))

    assert response.toast == "Отмечено как решённое"
    sent = await outbox.deliver()
    [notice] = to(RESIDENT_CHAT, sent)
    assert notice.text == f"По вашему обращению № {number} ведомство сообщает: проблема решена (ответ выше)."
    [edit] = to(ROADS_TAMBOV, sent)
    assert "Статус: <b>решено</b>" in edit.text
    stored = await appeal(ctx, appeal_id)
    assert stored.status == AppealStatus.SOLVED and stored.answered_at == answered


async def test_the_admin_chat_may_act_on_any_appeal(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, _card_id, _outbox = await _filed(ctx)

    response = await core.handle(press(ADMIN, f"d:take:{appeal_id}"))

    assert response.toast == "Взято в работу"
    assert (await appeal(ctx, appeal_id)).status == AppealStatus.IN_PROGRESS


async def test_other_chats_forged_buttons_and_stray_replies_change_nothing(ctx: Context) -> None:
    core = Core(ctx)
    appeal_id, card_id, outbox = await _filed(ctx)
    before = await _footprint(ctx)

    other_agency = await core.handle(press(HOUSING, f"d:take:{appeal_id}"))
    assert other_agency.toast == "Это обращение не относится к вашему ведомству."
    for forged in ("d:take:abc", "d:nuke:1", f"d:take:{appeal_id}:x", "x", f"d:redir:{appeal_id}:nowhere"):
        response = await core.handle(press(ROADS_TAMBOV, forged))
        assert response.toast == "Эта кнопка больше не действует.", forged
    missing = await core.handle(press(ROADS_TAMBOV, "d:take:999999"))
    assert missing.toast == "Обращение не найдено."
    stray = await core.handle(say(ROADS_TAMBOV, "Коллеги, кто на связи?", reply_to="12345"))
    assert stray.replies[0].text.startswith("Это сообщение не относится ни к одному обращению")
    other_chat_reply = await core.handle(say(HOUSING, "Ответ", reply_to=card_id))
    assert other_chat_reply.replies[0].text.startswith("Это сообщение не относится ни к одному обращению")
    chatter = await core.handle(say(ROADS_TAMBOV, "Просто сообщение в чате"))
    assert chatter.replies == []

    stranger_button = await core.handle(press(STRANGER_GROUP, f"d:take:{appeal_id}"))
    assert stranger_button.toast == "Эта кнопка больше не действует."
    stranger_text = await core.handle(say(STRANGER_GROUP, "Всем привет", reply_to=card_id))
    assert stranger_text.replies == []
    stranger_command = await core.handle(say(STRANGER_GROUP, "/open"))
    [explanation] = stranger_command.replies
    assert "не подключён" in explanation.text
    assert "<code>telegram:-1009999999999</code>" in explanation.text

    assert await _footprint(ctx) == before
    assert (await appeal(ctx, appeal_id)).status == AppealStatus.PASSED
    assert await outbox.deliver() == []


async def test_open_lists_the_agency_s_waiting_appeals_oldest_first(ctx: Context, clock: FrozenClock) -> None:
    core = Core(ctx)
    first = await file_appeal(ctx)
    clock.advance(timedelta(hours=5))
    second = await file_appeal(ctx, description="Не работает светофор на перекрёстке")
    await file_appeal(ctx, category="housing", description="Течёт крыша в подъезде дома")
    clock.advance(timedelta(minutes=30))

    [listing] = (await core.handle(say(ROADS_TAMBOV, "/open"))).replies

    first_number = (await appeal(ctx, first)).number
    second_number = (await appeal(ctx, second)).number
    assert listing.text.splitlines() == [
        "<b>Открытые обращения: 2</b>",
        f"№ {first_number} · Дороги · передано в ведомство · 5 часов",
        f"№ {second_number} · Дороги · передано в ведомство · 30 минут",
    ]
    education = ChatRef(Platform.TELEGRAM, "-1001000000005")
    [empty] = (await core.handle(say(education, "/open"))).replies
    assert empty.text == "Открытых обращений нет."


async def test_appeal_shows_one_appeal_with_its_history(ctx: Context, clock: FrozenClock) -> None:
    core = Core(ctx)
    appeal_id, card_id, _outbox = await _filed(ctx)
    number = (await appeal(ctx, appeal_id)).number
    clock.advance(timedelta(hours=1))
    await core.handle(press(ROADS_TAMBOV, f"d:take:{appeal_id}"))
    await core.handle(say(ROADS_TAMBOV, "Заделаем <завтра>", reply_to=card_id))

    [shown] = (await core.handle(say(ROADS_TAMBOV, f"/appeal {appeal_id}"))).replies

    assert f"Обращение № {number}" in shown.text
    assert shown.text.endswith(
        "<b>История:</b>\n"
        "24.11.2026, 12:00 · передано в ведомство Управление дорожного хозяйства г. Тамбова\n"
        "24.11.2026, 13:00 · взято в работу · Иван Петров\n"
        "24.11.2026, 13:00 · ответ жителю · Иван Петров: Заделаем &lt;завтра&gt;"
    )
    same = (await core.handle(say(ROADS_TAMBOV, f"/appeal {number}"))).replies[0]
    assert same.text == shown.text
    foreign = (await core.handle(say(HOUSING, f"/appeal {number}"))).replies[0]
    assert foreign.text == "Это обращение не относится к вашему ведомству."
    usage = (await core.handle(say(ROADS_TAMBOV, "/appeal"))).replies[0]
    assert usage.text.startswith("Укажите номер")


async def test_overdue_and_blocking_are_for_the_admin_chat(ctx: Context, clock: FrozenClock) -> None:
    core = Core(ctx)
    late = await file_appeal(ctx, category="housing", description="Нет горячей воды третий день")
    await file_appeal(ctx)  # roads: 16 working hours, not late yet
    clock.advance(timedelta(hours=30))  # Wednesday 18:00; housing was due at 11:00
    late_number = (await appeal(ctx, late)).number

    refused = (await core.handle(say(ROADS_TAMBOV, "/overdue"))).replies[0]
    assert refused.text == "Эта команда доступна только в чате администраторов."
    [overdue] = (await core.handle(say(ADMIN, "/overdue"))).replies
    assert overdue.text.splitlines() == [
        "<b>Просроченные обращения: 1</b>",
        "",
        "<b>Управление ЖКХ и государственная жилищная инспекция</b>",
        f"№ {late_number} · ЖКХ · первый ответ просрочен на 7 часов",
    ]

    assert (await core.handle(say(ROADS_TAMBOV, f"/block {late_number}"))).replies[0].text == (
        "Эта команда доступна только в чате администраторов."
    )
    blocked = (await core.handle(say(ADMIN, f"/block {late_number}"))).replies[0]
    assert blocked.text == f"Житель, подавший обращение № {late_number}, заблокирован."
    async with ctx.db.read() as session:
        resident = (await session.scalars(select(Resident))).one()
    assert resident.blocked_at == ctx.clock.now()
    unblocked = (await core.handle(say(ADMIN, f"/unblock {late}"))).replies[0]
    assert unblocked.text == f"Житель, подавший обращение № {late_number}, разблокирован."
    async with ctx.db.read() as session:
        assert (await session.scalars(select(Resident))).one().blocked_at is None


async def test_digest_and_stats_answer_in_the_admin_chat_only(ctx: Context, clock: FrozenClock) -> None:
    core = Core(ctx)
    await file_appeal(ctx)
    clock.advance(timedelta(hours=1))

    [preview] = (await core.handle(say(ADMIN, "/digest"))).replies
    assert "<b>Обращения жителей" in preview.text
    assert "Поступило обращений: <b>1</b>" in preview.text
    assert preview.photos  # the chart
    [usage] = (await core.handle(say(ADMIN, "/stats когда-нибудь"))).replies
    assert usage.text.startswith("Команда /stats показывает цифры дайджеста за любой период")
    for command in ("/digest", "/stats"):
        refused = (await core.handle(say(ROADS_TAMBOV, command))).replies[0]
        assert refused.text == "Эта команда доступна только в чате администраторов."


async def test_the_bot_added_to_a_group_introduces_itself(ctx: Context) -> None:
    core = Core(ctx)
    added = Event(chat=STRANGER_GROUP, chat_kind=ChatKind.GROUP, sender=OFFICER, payload="sys:bot_added")

    [unknown] = (await core.handle(added)).replies
    assert "Этот чат не подключён к боту обращений" in unknown.text
    assert "<code>telegram:-1009999999999</code>" in unknown.text
    [agency] = (await core.handle(replace(added, chat=ROADS_TAMBOV))).replies
    assert agency.text.startswith("<b>Команды бота обращений</b>")


async def test_a_vk_chat_pages_the_agencies_to_redirect_to(ctx: Context) -> None:
    """More agencies than a VK inline keyboard holds (10 buttons, 6 rows): the list is paged,
    every page fits, and an agency on a later page can be chosen."""
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    for n in range(1, 5):
        raw["agencies"].append(
            {
                "id": f"extra-{n}",
                "name": f"Дополнительное ведомство номер {n} с длинным названием",
                "chats": [f"telegram:-10020000000{n}"],
                "categories": ["roads"],
            }
        )
    roads = next(a for a in raw["agencies"] if a["id"] == "tambov-roads")
    roads["chats"] = [*roads["chats"], "vk:2000000077"]
    many = replace(ctx, catalogue=parse_catalogue(raw))
    core = Core(many)
    appeal_id, _card_id, _outbox = await _filed(many)
    vk_chat = ChatRef(Platform.VK, "2000000077")
    caps = many.caps(Platform.VK)
    others = [a.name for a in many.catalogue.agencies if a.id != "tambov-roads"]
    assert len(others) > caps.inline_rows_max  # the point of the test

    shown: list[str] = []
    response = await core.handle(press(vk_chat, f"d:redir:{appeal_id}", message_id="menu1"))
    while True:
        [menu] = response.replies
        assert_fits(menu, caps)
        shown += [b.text for row in menu.buttons for b in row if b.payload and ":~" not in b.payload]
        more = [b.payload for row in menu.buttons for b in row if b.text == "Ещё ▶"]
        if not more:
            break
        assert more[0] is not None
        response = await core.handle(press(vk_chat, more[0], message_id="menu1"))
        assert response.replies[0].edit_message_id == "menu1"
    assert len(shown) == len(others)
    assert sorted(shown) == sorted(shorten(name, caps) for name in others)

    await core.handle(press(vk_chat, f"d:redir:{appeal_id}:extra-4", message_id="menu1"))
    assert (await appeal(ctx, appeal_id)).agency_id == "extra-4"
