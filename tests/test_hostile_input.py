"""Hostile and odd input, end to end on Telegram: one table, one row per kind of input.

Each row says at which step of the dialogue (or of the desk) the input arrives, what is
sent, what the person must then see, and which parts of the database may change — all
others must stay exactly as they were. The fake Telegram server validates the HTML of
every message the bot sends, as Telegram does, so an escaping bug fails the row.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.runtime import PURPOSE_REPLY
from handlers.catalogue import EXAMPLE_PATH, Bounds, load_catalogue
from handlers.dialogue.draft import Memory
from storage.models import Appeal, AppealEvent, Attachment, Dialogue, OutboxMessage, Resident
from tests.support.steps import step as step_title
from tests.support.telegram import BotMessage, Group, Person, Telegram, TelegramBot

ADMIN_CHAT = -1001000000000
ROADS_AGENCY = -1001000000001
HOUSING_AGENCY = -1001000000003
STRANGER_GROUP = -1009999999999
STRANGER_CHANNEL = -1009999999998

TAMBOV = (52.72, 41.45)
MOSCOW = (55.75, 37.62)
DESCRIPTION = "Большая яма на дороге у дома номер пять"

CATALOGUE = load_catalogue(EXAMPLE_PATH)
CATALOGUE = CATALOGUE.model_copy(
    update={
        "region": CATALOGUE.region.model_copy(
            update={"bounds": Bounds(south=51.9, west=39.9, north=53.9, east=43.3)}
        )
    }
)
"""The example region with its bounding box, so a point in Moscow is outside it."""

STEPS = ("start", "consent", "topic", "municipality", "description", "place", "photos", "phone", "review")
AFTER = ("idle", "desk")
"""After the steps: ``idle`` — Alice filed one appeal; ``desk`` — and its card is in the agency."""


@dataclass
class World:
    tg: Telegram
    bot: TelegramBot
    alice: Person
    bob: Person
    staff: Person
    agency: Group
    other_agency: Group
    stranger: Group
    card: BotMessage | None = None
    number: str | None = None
    marks: dict[str, Any] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)

    def toast(self, query: str) -> str:
        return str(self.tg.server.callback_answers.get(query, {}).get("text") or "")


Act = Callable[[World], Awaitable[None]]
_raw_ids = itertools.count(9_000_000)


@dataclass(frozen=True)
class Row:
    id: str
    step: str
    act: Act
    sees: str | None
    """What the person must see (a message containing it); None: nothing at all."""
    where: str = "alice"
    """``alice``/``bob``/``agency``/``other``/``stranger``; ``*-toast``: the button's answer."""
    may_change: frozenset[str] = frozenset()
    then: Callable[[World, dict[str, Any]], Awaitable[None]] | None = None


# -- acts ---------------------------------------------------------------------------------------


def say(text: str) -> Act:
    async def act(w: World) -> None:
        await w.alice.send(text)

    return act


def media(kind: str, caption: str | None = None) -> Act:
    async def act(w: World) -> None:
        await w.alice.send_media(kind, caption=caption)

    return act


def location(lat: float, lon: float) -> Act:
    async def act(w: World) -> None:
        await w.alice.share_location(lat, lon)

    return act


def forged(data: str, *, chat: str = "alice", by: str = "alice") -> Act:
    """A callback query whose data no button of ours carries, under the bot's last message."""

    async def act(w: World) -> None:
        person = getattr(w, by)
        target = {"alice": w.alice, "bob": w.bob, "agency": w.agency, "other": w.other_agency}[chat]
        if target.messages:
            message = target.messages[-1].raw
        else:  # a chat the bot never wrote to: the query comes with someone's message there
            message = w.tg.server.send_message(person.user, "Что это за кнопка?", chat_id=target.chat_id)
        query = f"forged{next(_raw_ids)}"
        w.tg.server._open_callbacks.add(query)
        update: dict[str, Any] = {
            "id": query,
            "from": person.user.as_api(),
            "chat_instance": f"ci{target.chat_id}",
            "data": data,
        }
        update["message"] = message
        w.tg.server.feed({"callback_query": update})
        w.queries.append(query)

    return act


def describe_and_submit(description: str) -> Act:
    async def act(w: World) -> None:
        await w.alice.send(description)
        await w.alice.expect_message(contains=step_title("place"))
        await _skip_to_review(w.alice, "place")
        await w.alice.click("Отправить")
        await w.alice.expect_message(contains="принято")

    return act


async def _old_button(w: World) -> None:
    topic = next(m for m in w.alice.messages if step_title("topic") in m.text)
    await w.alice.click("ЖКХ", message=topic)


async def _twice(w: World) -> None:
    question = w.alice.last_message
    await w.alice.click("Тамбов", message=question)
    await w.alice.expect_message(contains=step_title("description"))
    await w.alice.click("Тамбов", message=question)


async def _edit_earlier(w: World) -> None:
    own = [m for m in w.alice.chat.history if m.get("from", {}).get("id") == w.alice.id and "text" in m]
    await w.alice.edit(own[-1], "<b>Совсем другое</b> описание & </a>")


async def _album_of_twenty(w: World) -> None:
    await w.alice.send_album(10)
    await w.alice.send_album(10)


async def _location_button_as_text(w: World) -> None:
    await w.alice.send("📍 Отправить геолокацию")


async def _foreign_contact(w: World) -> None:
    await w.alice.share_contact("+79007654321", owner=w.bob.id)


async def _contact_of_nobody(w: World) -> None:
    await w.alice.share_contact("+79007654321", owner=0)


async def _submit_twice(w: World) -> None:
    review = next(m for m in reversed(w.alice.messages) if "Проверьте обращение" in m.text)
    await w.alice.click("Отправить", message=review)


async def _bobs_peek(w: World) -> None:
    async with w.bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        appeal_id = (await session.scalars(select(Appeal.id))).one()
    await w.bob.send("/start")
    await w.bob.expect_message(contains="согласие")
    await w.bob.click("Согласен")
    await w.bob.expect_message(contains=step_title("topic"))
    await forged(f"ap:{appeal_id}", chat="bob", by="bob")(w)


async def _reply_to_a_bot_message_of_no_appeal(w: World) -> None:
    await w.agency.send("/help", from_user=w.staff)
    help_message = await w.agency.expect_message(contains="Команды")
    await w.agency.reply(help_message, "Яму заделали", from_user=w.staff)


async def _reply_to_a_colleague(w: World) -> None:
    await w.bot.delivered()
    w.agency.read_all()  # the card's place and pin: what follows must be silence
    own = await w.agency.send("Коллеги, кто сегодня дежурит?", from_user=w.staff)
    await w.agency.reply(own, "Я дежурю", from_user=w.staff)


async def _other_agency_takes(w: World) -> None:
    assert w.card is not None
    payload = w.card.button_payloads["Взять в работу"]
    assert payload
    await forged(payload, chat="other", by="staff")(w)


async def _take_twice(w: World) -> None:
    assert w.card is not None
    # Twice in a row, before the card is edited (its buttons change once the first is handled).
    await w.agency.click(w.card, "Взять в работу", by=w.staff)
    w.queries.append(await w.agency.click(w.card, "Взять в работу", by=w.staff))
    await w.alice.expect_message(contains="взято в работу")


async def _stranger_text(w: World) -> None:
    await w.stranger.send("Всем привет, это бот обращений?", from_user=w.staff)


async def _stranger_help(w: World) -> None:
    await w.stranger.send("/help", from_user=w.staff)


async def _added_to_stranger(w: World) -> None:
    await w.stranger.add_bot(by=w.staff)


async def _channel_post(w: World) -> None:
    channel = w.tg.channel(STRANGER_CHANNEL, "Чужой канал")
    w.tg.server.feed(
        {
            "channel_post": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": channel.chat.as_api(),
                "text": "/start <b>@all</b>",
            }
        }
    )


async def _staff_sticker_reply(w: World) -> None:
    assert w.card is not None
    w.tg.server.send_media(w.staff.user, "sticker", chat_id=w.agency.chat_id)
    await w.agency.reply(w.card, "   ", from_user=w.staff)


async def _staff_html_answer(w: World) -> None:
    assert w.card is not None
    await w.agency.reply(w.card, "Ответ: <b>отремонтируем</b> & </a> <i>до пятницы", from_user=w.staff)


# -- checks after a row -----------------------------------------------------------------------


async def _stored_description(w: World, expected: str) -> None:
    async with w.bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        descriptions = list(await session.scalars(select(Appeal.description).order_by(Appeal.id)))
    assert descriptions[-1] == expected


def stored(text: str) -> Callable[[World, dict[str, Any]], Awaitable[None]]:
    """The card showed ``text`` as typed (so it was escaped: the fake server refuses broken
    HTML, and unescaped tags would not be visible); the appeal keeps it verbatim."""

    async def check(w: World, _before: dict[str, Any]) -> None:
        assert any(text in m.text and "&lt;" in m.html for m in w.agency.messages) or "<" not in text
        await _stored_description(w, text)

    return check


async def _rtl_removed(w: World, _before: dict[str, Any]) -> None:
    draft = await _alice_draft(w)
    assert draft["description"] == "Яма на дороге у дома номер пять"


async def _five_photos(w: World, _before: dict[str, Any]) -> None:
    draft = await _alice_draft(w)
    assert len(draft["photos"]) == 5


async def _one_appeal(w: World, before: dict[str, Any]) -> None:
    assert len(before["appeals"]) == 1


async def _bob_sees_nothing_of_alices(w: World, _before: dict[str, Any]) -> None:
    assert not any("яма" in m.text.lower() for m in w.bob.messages)


async def _one_take(w: World, _before: dict[str, Any]) -> None:
    async with w.bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        kinds = list(await session.scalars(select(AppealEvent.kind)))
    assert kinds.count("taken") == 1


async def _resident_gets_nothing(w: World, _before: dict[str, Any]) -> None:
    await w.bot.settled()
    w.alice.assert_nothing_new()


async def _alice_draft(w: World) -> dict[str, Any]:
    async with w.bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        resident = (
            await session.scalars(select(Resident).where(Resident.external_id == str(w.alice.id)))
        ).one()
        dialogue = await session.get(Dialogue, resident.id)
    assert dialogue is not None
    return Memory.load(dialogue.data).draft.model_dump()


# -- the table ------------------------------------------------------------------------------------

DIALOGUE = frozenset({"dialogues"})
RESIDENTS = frozenset({"dialogues", "residents"})
EVERYTHING = frozenset({"appeals", "attachments", "events", "dialogues", "residents", "outbox"})
HTML = '<b>Яма</b> </a> & <i>незакрытый тег <a href="javascript:alert(1)">жми'
MARKDOWN = "*Яма* на _дороге_ [ссылка](http://evil.example) `код` ~~зачёркнуто~~"
SQL = "Яма'); DROP TABLE appeals; -- и ещё \" OR 1=1 --"

ROWS = [
    Row("whitespace-before-consent", "start", say("   \n\t  "), "согласие", may_change=RESIDENTS),
    Row("emoji-before-consent", "start", say("🔥🔥🔥"), "согласие", may_change=RESIDENTS),
    Row(
        "text-instead-of-consent",
        "consent",
        say("да конечно"),
        "ответьте на вопрос о согласии",
        may_change=DIALOGUE,  # held as the start of an appeal until the answer
    ),
    Row("forged-consent-button", "consent", forged("consent:maybe"), "устарела", where="alice-toast"),
    Row("whitespace-at-topic", "topic", say("   \u3000  "), "кнопкой под сообщением"),
    Row("emoji-at-topic", "topic", say("🙈🙉🙊"), "кнопкой под сообщением"),
    Row("sticker-at-topic", "topic", media("sticker"), "кнопкой под сообщением"),
    Row("forged-topic", "topic", forged("t:../../etc/passwd"), "устарела", where="alice-toast"),
    Row("sql-callback", "topic", forged("t:roads' OR '1'='1"), "устарела", where="alice-toast"),
    Row("typed-municipality", "municipality", say("Тамбов"), "Опишите проблему", may_change=DIALOGUE),
    Row("old-topic-button", "municipality", _old_button, "устарела", where="alice-toast"),
    Row("button-pressed-twice", "municipality", _twice, "устарела", where="alice-toast", may_change=DIALOGUE),
    Row("whitespace-description", "description", say("  \n   \t "), "пустое"),
    Row("zero-width-description", "description", say("\u200b\u200c\u2060\ufeff" * 5), "пустое"),
    Row("emoji-only-description", "description", say("😡🕳️🚗💥😡🕳️🚗💥😡🕳️🚗💥"), "словами"),
    Row(
        "rtl-override-description",
        "description",
        say("\u202eЯма на дороге у дома номер пять\u202c"),
        step_title("place"),
        may_change=DIALOGUE,
        then=_rtl_removed,
    ),
    Row("4097-characters", "description", say("я" * 4097), "слишком длинное"),
    Row("100000-characters", "description", say("Яма! " * 20_000), "слишком длинное"),
    Row("unknown-command-mid-step", "description", say("/frobnicate now"), "Такой команды нет"),
    Row("help-mid-step", "description", say("/help"), step_title("description")),
    Row("voice-at-description", "description", media("voice"), "описание текстом"),
    Row("video-at-description", "description", media("video"), "описание текстом"),
    Row("document-at-description", "description", media("document", caption=DESCRIPTION), "описание текстом"),
    Row("video-note-at-description", "description", media("video_note"), "описание текстом"),
    Row("edited-message", "description", _edit_earlier, "не видит исправлений"),
    Row(
        "html-to-the-card", "description", describe_and_submit(HTML), HTML, "agency", EVERYTHING, stored(HTML)
    ),
    Row(
        "markdown-to-the-card",
        "description",
        describe_and_submit(MARKDOWN),
        MARKDOWN,
        "agency",
        EVERYTHING,
        stored(MARKDOWN),
    ),
    Row("sql-to-the-card", "description", describe_and_submit(SQL), SQL, "agency", EVERYTHING, stored(SQL)),
    Row("outside-the-region", "place", location(*MOSCOW), "за пределами региона"),
    Row("invalid-coordinates", "place", location(95.0, 200.0), "Не удалось прочитать координаты"),
    Row("contact-at-place", "place", _foreign_contact, "геолокация или адрес"),
    Row("location-button-as-text", "place", _location_button_as_text, "геолокация или адрес"),
    Row("tiny-address", "place", say("д5"), "Адрес слишком короткий"),
    Row(
        "album-of-twenty",
        "photos",
        _album_of_twenty,
        "не больше 5 фото",
        may_change=DIALOGUE,
        then=_five_photos,
    ),
    Row("sticker-at-photos", "photos", media("sticker"), "только фотографии"),
    Row("document-at-photos", "photos", media("document"), "только фотографии"),
    Row("animation-at-photos", "photos", media("animation"), "только фотографии"),
    Row("someone-elses-contact", "phone", _foreign_contact, "чужие контакты"),
    Row("contact-of-nobody", "phone", _contact_of_nobody, "чужие контакты"),
    Row("sql-as-phone", "phone", say("1 OR 1=1; --"), "Не удалось распознать номер"),
    Row("100000-digit-phone", "phone", say("9" * 100_000), "Не удалось распознать номер"),
    Row("typed-send", "review", say("Отправить"), "принято", may_change=EVERYTHING),
    Row("forged-appeal-button", "review", forged("ap:999999"), "устарела", where="alice-toast"),
    Row("submit-pressed-twice", "idle", _submit_twice, "устарела", where="alice-toast", then=_one_appeal),
    Row(
        "another-persons-appeal",
        "idle",
        _bobs_peek,
        "устарела",
        where="bob-toast",
        may_change=RESIDENTS,
        then=_bob_sees_nothing_of_alices,
    ),
    Row(
        "reply-to-a-non-appeal",
        "desk",
        _reply_to_a_bot_message_of_no_appeal,
        "не относится ни к одному обращению",
        where="agency",
    ),
    # Staff talking among themselves (privacy mode off): not the bot's business.
    Row("reply-to-a-colleague", "desk", _reply_to_a_colleague, None, where="agency"),
    Row(
        "other-agencys-card",
        "desk",
        _other_agency_takes,
        "не относится к вашему ведомству",
        where="other-toast",
    ),
    Row(
        "forged-desk-button",
        "desk",
        forged("d:explode:1", chat="agency", by="staff"),
        "больше не действует",
        where="agency-toast",
    ),
    Row(
        "card-button-pressed-twice",
        "desk",
        _take_twice,
        "Нельзя",
        where="agency-toast",
        may_change=frozenset({"appeals", "events", "outbox"}),
        then=_one_take,
    ),
    Row("text-in-unknown-group", "desk", _stranger_text, None, where="stranger"),
    Row("command-in-unknown-group", "desk", _stranger_help, "не подключён", where="stranger"),
    Row("bot-added-to-random-group", "desk", _added_to_stranger, "не подключён", where="stranger"),
    Row("post-in-unknown-channel", "desk", _channel_post, None, where="stranger"),
    Row(
        "empty-staff-answer",
        "desk",
        _staff_sticker_reply,
        "Пустой ответ",
        where="agency",
        then=_resident_gets_nothing,
    ),
    Row(
        "html-in-staff-answer",
        "desk",
        _staff_html_answer,
        "Ответ: <b>отремонтируем</b> & </a> <i>до пятницы",
        may_change=EVERYTHING,
    ),
]


# -- reaching a step ------------------------------------------------------------------------------

_MARKERS = {
    "topic": step_title("topic"),
    "municipality": step_title("municipality"),
    "description": step_title("description"),
    "place": step_title("place"),
    "photos": step_title("photos"),
    "phone": step_title("phone"),
    "review": "Проверьте обращение",
}


async def _skip_to_review(alice: Person, step: str) -> None:
    for name in ("place", "photos", "phone")[("place", "photos", "phone").index(step) :]:
        await alice.click("Пропустить")
        await alice.expect_message(contains=_MARKERS[STEPS[STEPS.index(name) + 1]])


async def reach(w: World, step: str) -> None:
    alice = w.alice
    if step == "start":
        return
    await alice.send("/start")
    await alice.expect_message(contains="согласие")
    if step == "consent":
        return
    await alice.click("Согласен")
    await alice.expect_message(contains=step_title("topic"))
    if step == "topic":
        return
    await alice.click("Дороги")
    await alice.expect_message(contains=step_title("municipality"))
    if step == "municipality":
        return
    await alice.click("Тамбов")
    await alice.expect_message(contains=step_title("description"))
    if step == "description":
        return
    await alice.send(DESCRIPTION)
    await alice.expect_message(contains=step_title("place"))
    if step == "place":
        return
    await alice.click("📍 Отправить геолокацию", location=TAMBOV)
    await alice.expect_message(contains=step_title("photos"))
    if step == "photos":
        return
    await alice.click("Пропустить")
    await alice.expect_message(contains=step_title("phone"))
    if step == "phone":
        return
    await alice.click("Поделиться номером")
    await alice.expect_message(contains="Проверьте обращение")
    if step == "review":
        return
    await alice.click("Отправить")
    done = await alice.expect_message(contains="принято")
    w.number = done.text.split("№ ", 1)[1].split()[0].rstrip(".,")
    w.card = await w.agency.expect_message(contains=DESCRIPTION)
    assert w.number in w.card.text


async def snapshot(w: World) -> dict[str, Any]:
    async with w.bot.app.ctx.db.read() as session:  # type: ignore[union-attr]
        appeals = [
            (a.number, a.status, a.description, a.address, a.latitude, a.longitude, a.phone)
            for a in await session.scalars(select(Appeal).order_by(Appeal.id))
        ]
        residents = [
            (r.platform, r.external_id, r.name, r.phone, r.consent_at is not None, r.blocked_at is not None)
            for r in await session.scalars(select(Resident).order_by(Resident.id))
        ]
        dialogues = [(d.resident_id, d.state, d.data) for d in await session.scalars(select(Dialogue))]
        events = [(e.appeal_id, e.kind, e.text) for e in await session.scalars(select(AppealEvent))]
        attachments = await session.scalar(select(func.count()).select_from(Attachment))
        # Messages to anyone but the chat the update came from (its answers go through the
        # outbox too, and are checked by what the chats show).
        outbox = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose != PURPOSE_REPLY)
        )
    return {
        "appeals": appeals,
        "residents": residents,
        "dialogues": sorted(dialogues, key=repr),
        "events": events,
        "attachments": attachments,
        "outbox": outbox,
    }


@pytest.mark.telegram_bot(catalogue=CATALOGUE)
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
async def test_hostile_input(row: Row, tg: Telegram, telegram_bot: TelegramBot) -> None:
    w = World(
        tg=tg,
        bot=telegram_bot,
        alice=tg.user(1001, "Алиса <b>&amp;", phone="+79000001001"),
        bob=tg.user(1002, "Борис"),
        staff=tg.user(5001, "Инспектор"),
        agency=tg.group(ROADS_AGENCY),
        other_agency=tg.group(HOUSING_AGENCY),
        stranger=tg.group(STRANGER_GROUP, "Случайная группа"),
    )
    await reach(w, row.step)
    await telegram_bot.settled()
    before = await snapshot(w)

    await row.act(w)

    chat_name, _, toast = row.where.partition("-")
    chat = {
        "alice": w.alice,
        "bob": w.bob,
        "agency": w.agency,
        "other": w.other_agency,
        "stranger": w.stranger,
    }[chat_name]
    if toast:
        assert row.sees is not None
        if chat_name in ("alice", "bob") and not w.queries:
            assert isinstance(chat, Person)
            await chat.expect_toast(row.sees)
        else:
            await tg.server.wait_for(lambda: w.queries[-1] in tg.server.callback_answers, 5.0)
            assert row.sees in w.toast(w.queries[-1]), w.toast(w.queries[-1])
    elif row.sees is not None:
        await chat.expect_message(contains=row.sees)
    await telegram_bot.settled()
    if row.sees is None:
        chat.assert_nothing_new()
    if row.then is not None:
        await row.then(w, before)

    after = await snapshot(w)
    for part, value in before.items():
        if part not in row.may_change:
            assert after[part] == value, f"{part} changed"
    everyone = [w.alice, w.bob, w.agency, w.other_agency, w.stranger, tg.group(ADMIN_CHAT)]
    for view in everyone:
        assert not any("что-то пошло не так" in m.text for m in view.messages), f"a failure in {view.chat_id}"
    assert not tg.server.pending_updates, "every update was acknowledged"
