"""After the agency acts, the resident says whether it is solved, rates it, or adds details."""

from __future__ import annotations

from handlers.context import Context
from handlers.core import Core
from handlers.events import ChatRef, PersonRef, Platform
from handlers.workflow import AppealStatus
from tests.support.desk import (
    RESIDENT,
    RESIDENT_CHAT,
    ROADS_TAMBOV,
    FakeOutbox,
    appeal,
    file_appeal,
    history,
    photo,
    press,
    resident_acts,
    resident_dialogue,
    say,
    the_card,
    to,
)

NEIGHBOUR = PersonRef(Platform.TELEGRAM, "5002")


async def _answered(ctx: Context) -> tuple[int, str, str, FakeOutbox]:
    """An appeal answered by staff; returns its id, number, card message id and the outbox."""
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)
    card_id = the_card(await outbox.deliver(), ROADS_TAMBOV).message_ids[0]
    await Core(ctx).handle(say(ROADS_TAMBOV, "Яму заделали", reply_to=card_id))
    await outbox.deliver()
    return appeal_id, (await appeal(ctx, appeal_id)).number, card_id, outbox


async def test_yes_closes_the_appeal_and_the_rating_is_kept(ctx: Context) -> None:
    appeal_id, number, card_id, outbox = await _answered(ctx)

    response = await resident_acts(ctx, press(RESIDENT_CHAT, f"fb:{appeal_id}:yes", sender=RESIDENT))

    thanks, ask = response.replies
    assert thanks.text == f"Спасибо! Обращение № {number} закрыто."
    assert [b.payload for row in ask.buttons for b in row] == [
        f"rate:{appeal_id}:{n}@idle" for n in range(1, 6)
    ]
    stored = await appeal(ctx, appeal_id)
    assert stored.status == AppealStatus.CLOSED
    assert stored.closed_at == ctx.clock.now()
    [edit] = to(ROADS_TAMBOV, await outbox.deliver())
    assert edit.reply.edit_message_id == card_id
    assert "Статус: <b>закрыто</b>" in edit.text

    rated = await resident_acts(ctx, press(RESIDENT_CHAT, f"rate:{appeal_id}:5", sender=RESIDENT))

    assert rated.replies[0].text == "Спасибо за оценку 5!"
    assert (await appeal(ctx, appeal_id)).rating == 5
    assert (await history(ctx, appeal_id))[-1].kind == "rating"
    again = await resident_acts(ctx, press(RESIDENT_CHAT, f"rate:{appeal_id}:1", sender=RESIDENT))
    assert again.toast == f"Вы уже оценили ответ по обращению № {number}."
    assert (await appeal(ctx, appeal_id)).rating == 5


async def test_no_asks_for_a_comment_and_reopens_in_front_of_the_same_agency(ctx: Context) -> None:
    appeal_id, number, card_id, outbox = await _answered(ctx)

    asked = await resident_acts(ctx, press(RESIDENT_CHAT, f"fb:{appeal_id}:no", sender=RESIDENT))

    assert asked.replies[0].text.startswith(f"Расскажите, что не так с решением по обращению № {number}")
    assert (await resident_dialogue(ctx))[0] == "reopen_comment"

    done = await resident_acts(ctx, say(RESIDENT_CHAT, "Яма <осталась>, засыпали песком", sender=RESIDENT))

    assert done.replies[0].text.startswith(f"Обращение № {number} возвращено в ведомство")
    assert (await resident_dialogue(ctx)) == ("idle", {})
    stored = await appeal(ctx, appeal_id)
    assert (stored.status, stored.reopen_count, stored.agency_id) == (AppealStatus.PASSED, 1, "tambov-roads")
    reopened = (await history(ctx, appeal_id))[-1]
    assert (reopened.kind, reopened.to_status, reopened.text) == (
        "reopened",
        "passed",
        "Яма <осталась>, засыпали песком",
    )
    sent = to(ROADS_TAMBOV, await outbox.deliver())
    notice = next(d for d in sent if d.purpose == "reopen")
    assert f"Обращение № {number} возвращено жителем на доработку." in notice.text
    assert "Комментарий жителя: Яма &lt;осталась&gt;, засыпали песком" in notice.text
    edit = next(d for d in sent if d.reply.edit_message_id == card_id)
    assert "Статус: <b>передано в ведомство</b>" in edit.text
    assert "возвращено жителем на доработку: 1" in edit.text

    # Staff reply to the notice: the resident hears it.
    await Core(ctx).handle(say(ROADS_TAMBOV, "Выедем повторно", reply_to=notice.message_ids[0]))
    assert "Выедем повторно" in to(RESIDENT_CHAT, await outbox.deliver())[0].text


async def test_added_details_reach_the_agency_thread(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)
    await outbox.deliver()
    number = (await appeal(ctx, appeal_id)).number

    asked = await resident_acts(ctx, press(RESIDENT_CHAT, f"add:{appeal_id}", sender=RESIDENT))

    assert asked.replies[0].text.startswith(f"Напишите, что добавить к обращению № {number}")
    assert (await resident_dialogue(ctx))[0] == "add_details"
    sent_details = say(RESIDENT_CHAT, "Яма стала больше", sender=RESIDENT, media=(photo("more1"),))
    confirmed = await resident_acts(ctx, sent_details)

    assert confirmed.replies[0].text == f"Дополнение к обращению № {number} передано в ведомство."
    assert (await resident_dialogue(ctx))[0] == "idle"
    [details] = to(ROADS_TAMBOV, await outbox.deliver())
    assert f"Житель дополнил обращение № {number}" in details.text
    assert "Яма стала больше" in details.text
    assert [p.ref for p in details.reply.photos] == ["more1"]
    assert (await history(ctx, appeal_id))[-1].kind == "details"
    await Core(ctx).handle(say(ROADS_TAMBOV, "Спасибо, учтём", reply_to=details.message_ids[-1]))
    assert "Спасибо, учтём" in to(RESIDENT_CHAT, await outbox.deliver())[0].text


async def test_only_the_appeal_s_own_resident_may_follow_it_up(ctx: Context) -> None:
    appeal_id, _number, _card_id, _outbox = await _answered(ctx)
    neighbour_chat = ChatRef(Platform.TELEGRAM, NEIGHBOUR.external_id)

    for payload in (f"fb:{appeal_id}:yes", f"fb:{appeal_id}:no", f"rate:{appeal_id}:1", f"add:{appeal_id}"):
        response = await resident_acts(ctx, press(neighbour_chat, payload, sender=NEIGHBOUR))
        assert response.toast == "Это обращение вам не принадлежит.", payload
    assert (await resident_dialogue(ctx, NEIGHBOUR))[0] == "idle"

    for junk in (f"rate:{appeal_id}:7", "fb:x:yes", f"fb:{appeal_id}:maybe", "rate:999999:5"):
        response = await resident_acts(ctx, press(RESIDENT_CHAT, junk, sender=RESIDENT))
        assert response.toast == "Эта кнопка больше не действует.", junk

    stored = await appeal(ctx, appeal_id)
    assert (stored.status, stored.rating) == (AppealStatus.ANSWERED, None)


async def test_an_appeal_still_waiting_cannot_be_confirmed_or_rated(ctx: Context) -> None:
    outbox = FakeOutbox(ctx)
    appeal_id = await file_appeal(ctx)
    await outbox.deliver()
    number = (await appeal(ctx, appeal_id)).number

    confirm = await resident_acts(ctx, press(RESIDENT_CHAT, f"fb:{appeal_id}:yes", sender=RESIDENT))
    rate = await resident_acts(ctx, press(RESIDENT_CHAT, f"rate:{appeal_id}:4", sender=RESIDENT))

    assert (
        confirm.toast
        == f"Сейчас это действие недоступно: обращение № {number} в статусе «передано в ведомство»."
    )
    assert rate.toast == "Оценить можно только обращение с ответом или отказом."
    stored = await appeal(ctx, appeal_id)
    assert (stored.status, stored.rating) == (AppealStatus.PASSED, None)
