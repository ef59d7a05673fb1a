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
    ("mutate", "key", "problem"),
    [
        (lambda r: r["agencies"][0]["categories"].append("ghosts"), "agencies[0].categories", "ghosts"),
        (lambda r: r["categories"].append(copy.deepcopy(r["categories"][0])), "categories", "duplicate"),
        (lambda r: r["agencies"].pop(), "categories", "no agency serves"),
        (lambda r: r["region"].update(timezone="Mars/Olympus"), "region.timezone", "unknown time zone"),
        (lambda r: r["agencies"][0].update(chats=["icq:1"]), "agencies.0.chats", "unknown platform"),
        (lambda r: r["municipalities"][0].update(population=0), "municipalities.0.population", "greater"),
        (lambda r: r["agencies"][1].update(chats=r["agencies"][0]["chats"]), "agencies[1].chats", "already"),
        (lambda r: r.pop("admin"), "admin", "required"),
        (lambda r: r["categories"][0].update(colour="red"), "categories.0.colour", "not permitted"),
    ],
)
def test_broken_catalogue_names_key_and_problem(mutate: Any, key: str, problem: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(raw, "regions/tambov.toml")
    assert info.value.path == "regions/tambov.toml"
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(info.value).startswith("regions/tambov.toml: ")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="file not found"):
        load_catalogue(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[region\nname=", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid TOML"):
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
    with pytest.raises(CatalogueError, match=r"moderation\.reasons: duplicate id 'spam'"):
        parse_catalogue(raw)
    raw["moderation"] = {"enabled": True, "reasons": []}
    with pytest.raises(CatalogueError, match=r"moderation\.reasons"):
        parse_catalogue(raw)
