"""The terminal console, fed a whole conversation through a text stream."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from sqlalchemy import select

from bot.console import run_console
from handlers.context import Context
from handlers.core import Core
from storage.db import Database
from storage.models import Appeal, Attachment, OutboxMessage, Resident


async def talk(ctx: Context, lines: list[str], person_id: str = "me") -> str:
    stdout = io.StringIO()
    await run_console(
        Core(ctx), stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout, person_id=person_id
    )
    return stdout.getvalue()


async def test_a_whole_appeal_through_the_console(ctx: Context, db: Database, tmp_path: Path) -> None:
    picture = tmp_path / "pothole.jpg"
    picture.write_bytes(b"\xff\xd8 not really a jpeg")
    output = await talk(
        ctx,
        [
            "/start",
            "1",  # [1] Согласен
            "1",  # [1] Дороги
            "1",  # [1] Тамбов
            "Большая яма на проезжей части у дома <12>, машины объезжают",
            "/location 52.72 41.45",
            f"/photo {picture}",
            "1",  # [1] Готово
            "8 (900) 123-45-67",
            "1",  # [1] Отправить
        ],
    )
    assert "[1] Согласен\n[2] Не согласен" in output
    assert "Описание: Большая яма на проезжей части у дома <12>, машины объезжают" in output
    assert "<b>" not in output and "&lt;" not in output
    assert "Телефон: +7 900 123-45-67" in output
    async with db.read() as session:
        appeal = (await session.scalars(select(Appeal))).one()
        attachment = (await session.scalars(select(Attachment))).one()
        resident = (await session.scalars(select(Resident))).one()
    assert f"№ {appeal.number}" in output
    assert (appeal.platform, appeal.latitude, appeal.longitude) == ("console", 52.72, 41.45)
    assert attachment.ref == str(picture.resolve())
    assert attachment.unique_id == hashlib.sha1(picture.read_bytes()).hexdigest()
    assert (resident.platform, resident.external_id) == ("console", "me")
    assert output.rstrip().endswith("До свидания!")


async def test_request_buttons_ask_for_their_data(ctx: Context, db: Database) -> None:
    output = await talk(
        ctx,
        [
            "/start",
            "1",
            "2",  # [2] ЖКХ
            "1",
            "Не горит фонарь у подъезда номер три",
            "1",  # [1] 📍 Отправить геолокацию
            "где-то тут",  # not coordinates: back to the step's buttons
            "1",
            "52.7, 41.4",
            "/photo /no/such/file.jpg",
            "1",  # [1] Пропустить
            "1",  # [1] Пропустить
            "/quit",
            "this line is never read",
        ],
    )
    assert "Введите координаты через запятую" in output
    assert "Не удалось разобрать координаты" in output
    assert "Файл не найден: /no/such/file.jpg" in output
    assert "геолокация (52.70000, 41.40000)" in output
    assert "Проверьте обращение" in output
    async with db.read() as session:
        assert (await session.scalars(select(Appeal))).all() == []


async def test_end_of_input_ends_the_console(ctx: Context) -> None:
    output = await talk(ctx, [])
    assert output.splitlines()[-1] == "До свидания!"


async def test_with_staff_the_whole_cycle_runs_in_one_terminal(ctx: Context, db: Database) -> None:
    """Appeal → card in the agency chat → «Ответить» → the answer → the resident rates it."""
    output = await talk_as_staff(
        ctx,
        [
            "/start",
            "Согласен",
            "Дороги",
            "Тамбов",
            "Яма на проезжей части у остановки Школьная",
            "Пропустить",
            "Пропустить",
            "Пропустить",
            "Отправить",
            "s2",  # «Ответить» on the card
            "s Засыплем яму до пятницы",
            "Да",  # solved
            "5",
        ],
    )
    card_at = output.index("── Управление дорожного хозяйства г. Тамбова · сообщение ")
    card = output[card_at:]
    assert "[s1] Взять в работу\n[s2] Ответить\n" in card
    prompt_at = output.index("напишите его ответом на это сообщение", card_at)
    async with db.read() as session:
        appeal = (await session.scalars(select(Appeal))).one()
    assert output.index(f"№ {appeal.number} принято") < card_at
    answer_at = output.index("Засыплем яму до пятницы", prompt_at)
    assert "доставлен жителю" in output[answer_at:]
    assert "Спасибо за оценку 5!" in output[answer_at:]
    assert (appeal.status, appeal.rating) == ("closed", 5)
    # Everything queued was shown: nothing waits in the outbox.
    async with db.read() as session:
        pending = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        ).all()
    assert pending == []


async def test_a_staff_line_without_a_card_says_so(ctx: Context) -> None:
    output = await talk_as_staff(ctx, ["s Ответ без обращения", "s7"])
    assert "Пока нет обращения, на которое можно ответить" in output
    assert "Нет кнопки сотрудника s7." in output


async def test_a_restart_shows_the_question_the_resident_is_at(ctx: Context) -> None:
    await talk(ctx, ["/start", "Согласен", "Дороги", "/quit"])
    again = await talk(ctx, [])
    assert "С возвращением! Вы остановились здесь:" in again
    after = again[again.index("С возвращением") :]
    assert "Выберите муниципалитет" in after and "[1] Тамбов" in after
    first = await talk(ctx, [], person_id="someone-new")
    assert "С возвращением" not in first


async def talk_as_staff(ctx: Context, lines: list[str]) -> str:
    stdout = io.StringIO()
    await run_console(
        Core(ctx), stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout, person_id="me", staff=True
    )
    return stdout.getvalue()
