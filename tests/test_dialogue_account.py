"""Consent, the resident's own appeals, forgetting, limits and blocks."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.catalogue import EXAMPLE_PATH, CatalogueError, parse_catalogue
from handlers.clock import FrozenClock
from handlers.context import Context
from handlers.core import Core
from handlers.events import Platform
from handlers.workflow import AppealStatus
from storage import appeals as appeal_store
from storage.db import Database
from storage.models import Appeal, AppealEvent, Attachment, Dialogue, MessageLink, Resident
from tests.support import ResidentChat

DESCRIPTION = "Большая яма на проезжей части у дома 12, машины объезжают по встречке"


@pytest.fixture
def core(ctx: Context) -> Core:
    return Core(ctx)


@pytest.fixture
async def alice(core: Core) -> ResidentChat:
    chat = ResidentChat(core, Platform.TELEGRAM, "1001", name="Алиса")
    await chat.send("/start")
    await chat.click("Согласен")
    return chat


async def file_appeal(chat: ResidentChat, description: str = DESCRIPTION, *, photos: int = 0) -> str:
    """File one appeal from the topic question on; returns the confirmation text."""
    if "Выберите тему" not in chat.last_text:
        await chat.send("/new")
    await chat.click("Дороги")
    await chat.click("Тамбов")
    await chat.send(description)
    await chat.send("ул. Советская, 12")
    for n in range(photos):
        await chat.send_photo(f"{description[:5]}-{n}")
    await chat.click("Готово" if photos else "Пропустить")
    await chat.share_contact("+79990001122")
    await chat.click("Отправить")
    assert "принято" in chat.last_text
    return chat.last_text


async def residents(db: Database) -> list[Resident]:
    async with db.read() as session:
        return list((await session.scalars(select(Resident).order_by(Resident.id))).all())


# -- consent -------------------------------------------------------------------------------


async def test_refused_consent_stores_nothing_personal(core: Core, db: Database) -> None:
    bob = ResidentChat(core, Platform.TELEGRAM, "2002", name="Борис")
    await bob.send("/start")
    await bob.click("Не согласен")
    assert "Без согласия" in bob.last_text
    assert "ничего о вас не сохранили" in bob.last_text
    await bob.send("У меня во дворе яма, помогите")
    assert "ответьте на вопрос о согласии" in bob.last_text
    assert bob.buttons == ["Согласен", "Не согласен"]
    await bob.send("/new")
    assert "152-ФЗ" in bob.last_text
    await bob.press("t:roads")
    assert bob.toast is not None and "устарела" in bob.toast
    [resident] = await residents(db)
    assert (resident.platform, resident.external_id) == ("telegram", "2002")
    assert (resident.name, resident.phone, resident.consent_at) == (None, None, None)
    async with db.read() as session:
        dialogue = await session.get(Dialogue, resident.id)
    assert dialogue is not None and dialogue.state == "consent"
    assert dialogue.data == {"v": 2, "consent_refused": True}, "nothing held after «Не согласен»"

    await bob.send("/start")
    await bob.click("Согласен")
    assert "Выберите тему" in bob.last_text
    [resident] = await residents(db)
    assert resident.name == "Борис" and resident.consent_at is not None


# -- /my -------------------------------------------------------------------------------------


async def test_my_appeals_are_paged_newest_first(alice: ResidentChat, clock: FrozenClock) -> None:
    numbers = []
    for n in range(7):
        confirmation = await file_appeal(alice, f"{DESCRIPTION} (случай {n})")
        numbers.append(confirmation.split("№ ", 1)[1].split("<", 1)[0])
        clock.advance(timedelta(hours=2))
    await alice.send("/my")
    assert "всего 7, страница 1 из 2" in alice.last_text
    newest_first = list(reversed(numbers))
    assert alice.buttons[:5] == [f"№ {n} · передано в ведомство" for n in newest_first[:5]]
    assert alice.buttons[5:] == ["Ещё ▶"]
    await alice.click("Ещё ▶")
    assert "страница 2 из 2" in alice.last_text
    assert alice.buttons == [f"№ {n} · передано в ведомство" for n in newest_first[5:]] + ["◀"]
    await alice.click("◀")
    assert "страница 1 из 2" in alice.last_text


async def test_appeal_details_show_the_history_in_local_time(alice: ResidentChat, db: Database) -> None:
    await file_appeal(alice)
    [appeal] = await _appeals(db)
    hour = timedelta(hours=1)

    def event(after: timedelta, kind: str, **fields: str) -> AppealEvent:
        return AppealEvent(
            appeal_id=appeal.id, at=appeal.created_at + after, kind=kind, actor_kind="system", **fields
        )

    async with db.transaction() as session:
        session.add_all(
            [
                event(3 * hour, "taken", from_status="passed", to_status="in_progress"),
                event(4 * hour, "reminder_half"),
                event(5 * hour, "answer_escalated"),
                event(6 * hour, "delivery_failed"),
                event(7 * hour, "internal_note", text="служебное"),
            ]
        )
    await alice.send("/my")
    assert "24.11.2026" in alice.last_text
    await alice.click(f"№ {appeal.number} · передано в ведомство")
    details = alice.last_text
    assert f"Обращение № {appeal.number}" in details
    assert "Подано: 24.11.2026, 12:00" in details  # 09:00 UTC is noon in Moscow
    assert "Ответ ожидается до 24.12.2026, 18:00" in details
    assert details.split("<b>История</b>\n", 1)[1].splitlines() == [
        "24.11.2026, 12:00 — вы подали обращение",
        "24.11.2026, 12:00 — передано в ведомство: Управление дорожного хозяйства г. Тамбова",
        "24.11.2026, 15:00 — ведомство взяло обращение в работу",
    ], "reminders, escalations, delivery reports and unknown kinds stay internal"
    assert "Адрес: ул. Советская, 12" in details
    assert "Дополнить" in alice.buttons
    assert f"add:{appeal.id}@idle" in alice.payloads()
    await alice.click("◀ К списку")
    assert "Ваши обращения" in alice.last_text


async def test_a_closed_appeal_cannot_be_added_to(alice: ResidentChat, db: Database) -> None:
    await file_appeal(alice)
    [appeal] = await _appeals(db)
    async with db.transaction() as session:
        stored = await session.get(Appeal, appeal.id)
        assert stored is not None
        stored.status = "closed"
    await alice.press(f"ap:{appeal.id}")
    assert "Статус: <b>закрыто</b>" in alice.last_text
    assert "Дополнить" not in alice.buttons


async def test_someone_elses_appeal_stays_hidden(alice: ResidentChat, core: Core, db: Database) -> None:
    await file_appeal(alice)
    [appeal] = await _appeals(db)
    bob = ResidentChat(core, Platform.TELEGRAM, "2002", name="Борис")
    await bob.send("/start")
    await bob.click("Согласен")
    await bob.press(f"ap:{appeal.id}")
    assert bob.toast is not None and "устарела" in bob.toast
    assert DESCRIPTION not in bob.last_text
    await bob.send("/my")
    assert "нет обращений" in bob.last_text


async def test_my_while_describing_offers_a_way_back(alice: ResidentChat) -> None:
    await file_appeal(alice)
    await alice.send("/new")
    await alice.click("ЖКХ")
    await alice.click("Тамбов")
    await alice.send("/my")
    assert "↩ К обращению" in alice.buttons
    await alice.click("↩ К обращению")
    assert "Опишите проблему" in alice.last_text


async def _appeals(db: Database) -> list[Appeal]:
    async with db.read() as session:
        return list((await session.scalars(select(Appeal).order_by(Appeal.id))).all())


# -- /forget ---------------------------------------------------------------------------------


async def test_forget_erases_personal_data_and_keeps_anonymous_appeals(
    alice: ResidentChat, core: Core, db: Database
) -> None:
    await file_appeal(alice, photos=2)
    [appeal] = await _appeals(db)
    async with db.transaction() as session:
        session.add(
            MessageLink(
                platform="telegram", chat_id="1001", message_id="9", appeal_id=appeal.id, role="resident"
            )
        )
        session.add(
            MessageLink(
                platform="telegram", chat_id="-1001", message_id="9", appeal_id=appeal.id, role="card"
            )
        )

    await alice.send("/forget")
    assert "Удалить ваши персональные данные?" in alice.last_text
    await alice.click("Нет, оставить")
    assert "ничего не удаляем" in alice.last_text
    [resident] = await residents(db)
    assert resident.name == "Алиса"

    await alice.send("/forget")
    await alice.click("Да, удалить")
    assert "персональные данные удалены" in alice.last_text

    [resident] = await residents(db)
    assert resident.external_id.startswith("forgotten:") and len(resident.external_id) == 42
    assert (resident.name, resident.phone) == (None, None)
    assert resident.forgotten_at is not None
    [appeal] = await _appeals(db)
    assert (appeal.phone, appeal.address, appeal.latitude, appeal.longitude) == (None, None, None, None)
    assert appeal.description == DESCRIPTION and appeal.resident_id == resident.id
    async with db.read() as session:
        assert (await session.scalars(select(Attachment))).all() == []
        assert await session.get(Dialogue, resident.id) is None
        links = (await session.scalars(select(MessageLink.role))).all()
    assert links == ["card"]

    await alice.send("/my")  # the same person is now a stranger
    assert "152-ФЗ" in alice.last_text
    await alice.click("Согласен")
    await alice.send("/my")
    assert "нет обращений" in alice.last_text
    assert len(await residents(db)) == 2


# -- anti-abuse ------------------------------------------------------------------------------


def _limited(ctx: Context, *, per_hour: int, per_day: int) -> Context:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["limits"] = {"appeals_per_hour": per_hour, "appeals_per_day": per_day}
    return Context(
        db=ctx.db,
        catalogue=parse_catalogue(raw),
        texts=ctx.texts,
        clock=ctx.clock,
        capabilities=ctx.capabilities,
    )


async def test_appeals_per_hour_and_per_day(ctx: Context, clock: FrozenClock) -> None:
    chat = ResidentChat(Core(_limited(ctx, per_hour=2, per_day=3)), Platform.VK, "77")
    await chat.send("/start")
    await chat.click("Согласен")
    await file_appeal(chat)
    await file_appeal(chat, "Вторая проблема: не горят фонари")
    await chat.send("/new")
    assert "2 обращения за последний час" in chat.last_text
    assert "Выберите тему" not in chat.last_text
    clock.advance(timedelta(minutes=61))
    await file_appeal(chat, "Третья проблема: сломана скамейка")
    clock.advance(timedelta(hours=2))
    await chat.send("/new")
    assert "3 обращения за сутки" in chat.last_text
    clock.advance(timedelta(hours=22))
    await chat.send("/new")
    assert "Выберите тему" in chat.last_text


async def test_limit_is_checked_again_when_sending(ctx: Context, db: Database) -> None:
    limited = _limited(ctx, per_hour=1, per_day=10)
    chat = ResidentChat(Core(limited), Platform.TELEGRAM, "78")
    await chat.send("/start")
    await chat.click("Согласен")
    await chat.click("Дороги")
    await chat.click("Тамбов")
    await chat.send(DESCRIPTION)
    for _ in range(3):
        await chat.click("Пропустить")
    async with db.transaction() as session:  # filed meanwhile through another worker
        [resident] = (await session.scalars(select(Resident))).all()
        new = appeal_store.NewAppeal("telegram", "roads", "tambov", "Другая проблема где-то рядом")
        await appeal_store.create_appeal(session, resident, new, status=AppealStatus.NEW, now=ctx.clock.now())
    await chat.click("Отправить")
    assert "1 обращение за последний час" in chat.last_text
    assert "Черновик сохранён" in chat.last_text
    assert "Проверьте обращение" in chat.last_text
    assert len(await _appeals(db)) == 1


async def test_a_blocked_resident_gets_one_polite_answer(alice: ResidentChat, db: Database) -> None:
    await alice.click("Дороги")
    async with db.transaction() as session:
        [resident] = (await session.scalars(select(Resident))).all()
        resident.blocked_at = resident.created_at
    municipalities = alice.last
    await alice.send("/new")
    answers = [alice.last, await alice.click("Тамбов", on=municipalities), await alice.send(DESCRIPTION)]
    for answer in answers:
        assert [r.text for r in answer.replies] == [
            "Приём обращений от вас приостановлен. Если вы считаете, что это ошибка, "
            "обратитесь в региональный центр управления."
        ]
        assert answer.replies[0].buttons == ()
    async with db.read() as session:
        [dialogue] = (await session.scalars(select(Dialogue))).all()
    assert (dialogue.state, dialogue.data) == ("municipality", {"v": 2, "draft": {"category": "roads"}})
    assert await _appeals(db) == []


async def test_forget_before_consent(core: Core, db: Database) -> None:
    bob = ResidentChat(core, Platform.TELEGRAM, "2002", name="Борис")
    await bob.send("/start")
    await bob.send("/forget")
    await bob.click("Да, удалить")
    assert "персональные данные удалены" in bob.last_text
    [resident] = await residents(db)
    assert resident.external_id.startswith("forgotten:")


async def test_dates_follow_the_catalogues_locale_and_time_zone(ctx: Context, db: Database) -> None:
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["region"] |= {"locale": "en_GB", "timezone": "Asia/Yekaterinburg"}
    core = Core(replace(ctx, catalogue=parse_catalogue(raw)))
    chat = ResidentChat(core, Platform.TELEGRAM, "1001", name="Алиса")
    await chat.send("/start")
    await chat.click("Согласен")
    await file_appeal(chat)
    [appeal] = await _appeals(db)

    await chat.send("/my")
    assert "24/11/2026" in chat.last_text, "the list shows the day as the locale writes it"
    await chat.click(f"№ {appeal.number} · передано в ведомство")
    # 09:00 UTC is 14:00 in Yekaterinburg, written the British way by CLDR.
    assert "24/11/2026, 14:00 — вы подали обращение" in chat.last_text
    assert "Подано: 24/11/2026, 14:00" in chat.last_text

    with pytest.raises(CatalogueError, match="unknown locale 'xx_YY'"):
        parse_catalogue(
            tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
            | {"region": raw["region"] | {"locale": "xx_YY"}}
        )
