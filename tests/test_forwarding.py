"""A new appeal reaches the agency that serves it, as a card with photos and buttons."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

from handlers.catalogue import EXAMPLE_PATH, parse_catalogue
from handlers.context import Context
from handlers.events import Location
from handlers.workflow import AppealStatus
from tests.support.desk import (
    ADMIN,
    ROADS_REGION,
    ROADS_TAMBOV,
    FakeOutbox,
    appeal,
    by_chat,
    file_appeal,
    history,
    photo,
    the_card,
    to,
)


async def test_a_pothole_in_tambov_goes_to_the_city_roads_office_with_its_photos(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, photos=(photo("p1"), photo("p2")))

    sent = await outbox.deliver()

    assert set(by_chat(sent)) == {ROADS_TAMBOV}
    album, card = to(ROADS_TAMBOV, sent)[:2]
    assert [p.ref for p in album.reply.photos] == ["p1", "p2"]
    number = (await appeal(ctx, appeal_id)).number
    assert f"Обращение № {number}" in card.text
    assert "Тема: Дороги" in card.text
    assert "Муниципалитет: Тамбов" in card.text
    assert "Поступило: 24.11.2026, 12:00" in card.text  # 09:00 UTC in Moscow
    assert "Яма на дороге у дома 5 по улице Советской" in card.text
    assert "Адрес: ул. Советская, 5" in card.text
    assert "Статус: <b>передано в ведомство</b>" in card.text
    assert card.labels == [
        "Взять в работу",
        "Ответить",
        "Перенаправить",
        "Отклонить",
        "Решено",
        "Назначить",
        "Заметка",
    ]
    assert card.payloads == [
        f"d:take:{appeal_id}",
        f"d:answer:{appeal_id}",
        f"d:redir:{appeal_id}",
        f"d:reject:{appeal_id}",
        f"d:solve:{appeal_id}",
        f"d:assign:{appeal_id}",
        f"d:note:{appeal_id}",
    ]
    assert all(len(p.encode()) <= 64 for p in card.payloads)

    stored = await appeal(ctx, appeal_id)
    assert stored.agency_id == "tambov-roads"
    assert stored.status == AppealStatus.PASSED
    assert stored.passed_at == ctx.clock.now()
    # Tuesday 12:00 in Moscow; roads: 16 working hours, then 30 days for the answer.
    assert stored.deadline_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    assert stored.answer_due_at == datetime(2026, 12, 24, 15, 0, tzinfo=UTC)
    assert [(e.kind, e.to_status, e.agency_id) for e in await history(ctx, appeal_id)] == [
        ("passed", "passed", "tambov-roads")
    ]


async def test_a_pothole_elsewhere_goes_to_the_regional_ministry(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, municipality="michurinsk")

    sent = await outbox.deliver()

    assert set(by_chat(sent)) == {ROADS_REGION}
    assert "Министерство транспорта" in the_card(sent, ROADS_REGION).text
    assert (await appeal(ctx, appeal_id)).agency_id == "region-roads"


async def test_an_appeal_nobody_serves_lands_in_the_admin_chat(ctx: Context) -> None:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    for agency in raw["agencies"]:
        if agency["id"] == "region-roads":
            agency["municipalities"] = ["michurinsk"]
    ctx.catalogue = parse_catalogue(raw)
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, municipality="morshansk")

    sent = await outbox.deliver()

    assert set(by_chat(sent)) == {ADMIN}
    card = the_card(sent, ADMIN)
    assert "Ведомство: <b>не определено</b>" in card.text
    assert f"d:redir:{appeal_id}" in card.payloads
    stored = await appeal(ctx, appeal_id)
    assert stored.agency_id is None
    assert stored.status == AppealStatus.PASSED
    assert [e.kind for e in await history(ctx, appeal_id)] == ["unrouted"]


async def test_the_card_escapes_the_resident_text_and_shows_the_phone_only_if_shared(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    await file_appeal(ctx, description="<b>Срочно</b> & <a href='x'>ссылка</a>", address="<i>двор</i>")
    await file_appeal(ctx, phone="+79001234567")

    first, second = [d for d in await outbox.deliver() if d.reply.buttons]

    assert "&lt;b&gt;Срочно&lt;/b&gt; &amp; &lt;a href=&#x27;x&#x27;&gt;ссылка&lt;/a&gt;" in first.text
    assert "<b>Срочно" not in first.text
    assert "Адрес: &lt;i&gt;двор&lt;/i&gt;" in first.text
    assert "Телефон" not in first.text
    assert "Телефон: +7 900 123-45-67" in second.text


async def test_a_location_comes_as_a_map_link_and_a_pin(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx, address=None, location=Location(52.7212, 41.4523))

    sent = to(ROADS_TAMBOV, await outbox.deliver())

    card, pin = sent
    assert card.reply.buttons
    assert '<a href="https://yandex.ru/maps/?pt=41.452300,52.721200&amp;z=17&amp;l=map">' in card.text
    assert "Адрес" not in card.text
    assert pin.reply.location == Location(52.7212, 41.4523)
    number = (await appeal(ctx, appeal_id)).number
    assert pin.text == f"Место по обращению № {number}"
