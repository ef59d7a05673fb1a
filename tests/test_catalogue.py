from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from handlers.catalogue import EXAMPLE_PATH, CatalogueError, load_catalogue, parse_catalogue
from handlers.events import ChatRef, Platform


def _raw() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))


def test_example_catalogue_loads_and_routes() -> None:
    cat = load_catalogue(EXAMPLE_PATH)
    assert len(cat.categories) == 9
    assert cat.route("roads", "tambov").agency is not None
    assert cat.route("roads", "tambov").agency.id == "tambov-roads"  # type: ignore[union-attr]
    # A municipality with no specific agency falls back to the region-wide one.
    assert cat.route("roads", "kotovsk").agency.id == "region-roads"  # type: ignore[union-attr]
    chat = ChatRef(Platform.TELEGRAM, "-1001000000003")
    assert cat.agency_of_chat(chat) is not None
    assert cat.is_admin_chat(ChatRef(Platform.TELEGRAM, "-1001000000000"))


def test_unserved_pair_goes_to_admin_chat() -> None:
    raw = _raw()
    raw["agencies"][0]["municipalities"] = ["tambov"]
    raw["agencies"][1]["municipalities"] = ["michurinsk"]
    cat = parse_catalogue(raw)
    route = cat.route("roads", "kotovsk")
    assert route.agency is None
    assert route.chats == cat.admin.chats


@pytest.mark.parametrize(
    ("mutate", "entry", "key", "problem"),
    [
        (
            lambda r: r["agencies"][0]["categories"].append("ghosts"),
            '[[agencies]] #1 "tambov-roads"',
            "categories",
            "unknown category 'ghosts'",
        ),
        (
            lambda r: r["categories"].append(copy.deepcopy(r["categories"][0])),
            '[[categories]] #10 "roads"',
            "id",
            "duplicate",
        ),
        (lambda r: r["agencies"].pop(), '[[categories]] #8 "ecology"', "-", "no agency serves it"),
        (
            lambda r: r["region"].update(timezone="Mars/Olympus"),
            "[region]",
            "timezone",
            "unknown time zone",
        ),
        (
            lambda r: r["region"].update(phone_region="RUS"),
            "[region]",
            "phone_region",
            "unknown phone region 'RUS'",
        ),
        (
            lambda r: r["agencies"][0].update(chats=["icq:1"]),
            '[[agencies]] #1 "tambov-roads"',
            "chats",
            "unknown platform",
        ),
        (
            lambda r: r["agencies"][2].update(chats=["telegram:abc"]),
            '[[agencies]] #3 "housing"',
            "chats",
            "'telegram:abc': a Telegram chat id is a number",
        ),
        (
            lambda r: r["agencies"][2].update(chats=["vk:2000000000"]),
            '[[agencies]] #3 "housing"',
            "chats",
            "'vk:2000000000': a VK conversation's peer id is above 2000000000",
        ),
        (
            lambda r: r["admin"].update(chats=["vk:42"]),
            "[admin]",
            "chats",
            "peer id is above 2000000000",
        ),
        (
            lambda r: r["admin"].update(chats=["console:me"]),
            "[admin]",
            "chats",
            "a chat is telegram:<chat id> or vk:<peer id>",
        ),
        (
            lambda r: r["digest"].update(channels=["telegram:@x"]),
            "[digest]",
            "channels",
            "a Telegram chat id is a number (or @channelname)",
        ),
        (
            lambda r: r["region"].update(bounds={"south": 54.0, "west": 39.8, "north": 51.3, "east": 43.3}),
            "[region]",
            "bounds",
            "south (54.0) is above north (51.3): swap them",
        ),
        (
            lambda r: r["region"].update(bounds={"south": 51.3, "west": 43.3, "north": 54.0, "east": 39.8}),
            "[region]",
            "bounds",
            "west (43.3) is east of east (39.8): swap them",
        ),
        (
            lambda r: r["municipalities"][0].update(population=0),
            '[[municipalities]] #1 "tambov"',
            "population",
            "greater",
        ),
        (
            lambda r: r["agencies"][1].update(chats=r["agencies"][0]["chats"]),
            '[[agencies]] #2 "region-roads"',
            "chats",
            "already",
        ),
        (lambda r: r.pop("admin"), None, "admin", "required"),
        (
            lambda r: r["categories"][0].update(colour="red"),
            '[[categories]] #1 "roads"',
            "colour",
            "not permitted",
        ),
    ],
)
def test_broken_catalogue_names_entry_key_and_problem(
    mutate: Any, entry: str | None, key: str, problem: str
) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(raw, "regions/tambov.toml")
    assert info.value.path == "regions/tambov.toml"
    assert (info.value.entry, info.value.key) == (entry, key)
    assert problem in info.value.problem
    assert str(info.value).startswith("regions/tambov.toml: ")


def _broken_file(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalogue.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    (n,) = [i for i, line in enumerate(lines, start=1) if fragment in line]
    return n


def test_a_broken_file_names_line_and_column_of_the_key(tmp_path: Path) -> None:
    path = _broken_file(
        tmp_path, 'categories = ["housing", "improvement"]', '  categories = ["housing", "raods"]'
    )
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    line = _line_of(path, '"raods"')
    assert (info.value.line, info.value.column) == (line, 3)
    assert str(info.value) == (
        f"{path}:{line}:3: [[agencies]] #3 \"housing\": categories: unknown category 'raods'"
    )

    path = _broken_file(tmp_path, "[region.bounds]\nsouth = 51.6\n", "[region.bounds]\nsouth = 60\n")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.line == _line_of(path, "[region.bounds]")
    assert "south (60.0) is above north (53.9): swap them" in str(info.value)


def test_a_byte_order_mark_or_another_encoding_is_named(tmp_path: Path) -> None:
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    with pytest.raises(CatalogueError, match=r"bom.toml:1:1: starts with a byte-order mark"):
        load_catalogue(bom)
    legacy = tmp_path / "cp1251.toml"
    legacy.write_bytes(text.encode("cp1251"))
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if not row.isascii())
    column = next(c for c, ch in enumerate(text.splitlines()[line - 1], start=1) if not ch.isascii())
    with pytest.raises(CatalogueError) as info:
        load_catalogue(legacy)
    assert (info.value.line, info.value.column) == (line, column)
    assert "not UTF-8" in info.value.problem and "save it as UTF-8" in info.value.problem


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="file not found"):
        load_catalogue(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[region\nname=", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"bad.toml:1:8: not valid TOML: Expected '\]'"):
        load_catalogue(bad)


def test_moderation_is_off_by_default_and_its_reasons_are_checked() -> None:
    shipped = load_catalogue(EXAMPLE_PATH)
    assert shipped.moderation.enabled is False
    assert [r.id for r in shipped.moderation.reasons] == ["spam", "abuse", "competence", "duplicate"]
    raw = tomllib.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    raw["moderation"] = {
        "enabled": True,
        "reasons": [{"id": "spam", "title": "a"}, {"id": "spam", "title": "b"}],
    }
    with pytest.raises(CatalogueError, match=r"\[moderation\]: reasons: duplicate id 'spam'"):
        parse_catalogue(raw)
    raw["moderation"] = {"enabled": True, "reasons": []}
    with pytest.raises(CatalogueError, match=r"\[moderation\]: reasons: name at least one reason"):
        parse_catalogue(raw)


def test_the_example_region_refuses_a_point_in_another_region() -> None:
    bounds = load_catalogue(EXAMPLE_PATH).region.bounds
    assert bounds is not None
    assert bounds.contains(52.72, 41.45)  # Tambov
    assert not bounds.contains(55.75, 37.62)  # Moscow
    assert not bounds.contains(51.67, 39.18)  # Voronezh, the neighbour
