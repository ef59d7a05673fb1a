"""Topic suggestion: the catalogue's keywords, ranked (``handlers.dialogue.topics``)."""

from __future__ import annotations

import pytest

from handlers.catalogue import EXAMPLE_PATH, Category, load_catalogue
from handlers.dialogue.topics import rank, suggest

CATEGORIES = load_catalogue(EXAMPLE_PATH).categories


def _ids(text: str) -> list[str]:
    return [c.id for c, _ in rank(CATEGORIES, text)]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Разбита дорога у дома 5, лужа во всю ширину", "roads"),
        ("Не горит фонарь на Ольховой улице", "improvement"),
        ("Третий день нет горячей воды в доме", "housing"),
        ("Автобус 12 не ходит по расписанию", "transport"),
        ("В поликлинике не записывают к врачу", "health"),
        ("Переполнены контейнеры, мусор не вывозят", "ecology"),
        ("ДОРОГУ размыло", "roads"),
        ("Во дворе снесли детскую площадку", "improvement"),
    ],
)
def test_the_words_of_a_description_suggest_its_topic(text: str, topic: str) -> None:
    assert _ids(text)[0] == topic


def test_more_keywords_found_rank_higher_and_ties_keep_the_catalogues_order() -> None:
    # ecology: мусор, контейнер (2); improvement: двор (1).
    assert _ids("Во дворе мусор из контейнеров разносит ветер") == ["ecology", "improvement"]
    a = Category(id="a", title="А", keywords=("яблок",))
    b = Category(id="b", title="Б", keywords=("груш",))
    assert [c.id for c, _ in rank((a, b), "груша и яблоко")] == ["a", "b"]
    assert [c.id for c, _ in rank((b, a), "груша и яблоко")] == ["b", "a"]


def test_a_keyword_matches_the_start_of_a_word_and_a_phrase_words_in_a_row() -> None:
    garden = Category(id="g", title="Сад", keywords=("детск сад",))
    assert suggest((garden,), "Мест в детском саду нет") is garden
    assert suggest((garden,), "Детский и взрослый сад") is None  # not in a row
    assert suggest((garden,), "Пересадка деревьев") is None  # inside a word is not a match
    yo = Category(id="y", title="Ёлки", keywords=("елк",))
    assert suggest((yo,), "Срубили ёлку") is yo


def test_nothing_found_suggests_nothing() -> None:
    assert suggest(CATEGORIES, "Здравствуйте, помогите пожалуйста") is None
    assert suggest(CATEGORIES, None) is None
