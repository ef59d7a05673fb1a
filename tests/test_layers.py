"""The layers as README draws them, checked on the source: a forgotten import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from handlers.workflow import AppealStatus

ROOT = Path(__file__).parents[1]
FORBIDDEN = {
    "handlers": ("aiogram", "vkbottle", "bot", "digests"),
    "storage": ("aiogram", "vkbottle", "bot", "digests", "handlers"),
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in sorted(imports(path))
        if name.split(".")[0] in FORBIDDEN[layer]
    ]
    assert wrong == []


NAMES_PLATFORMS = {
    "handlers/events.py": "defines the names",
    "handlers/catalogue.py": "checks the operator's chat ids, written in each platform's format",
}


def test_the_core_names_no_platform() -> None:
    """The core asks what a chat can show or do (``Capabilities``), never which platform it is."""
    wrong = [
        name
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        if (name := str(path.relative_to(ROOT))) not in NAMES_PLATFORMS
        and "Platform." in path.read_text(encoding="utf-8")
    ]
    assert wrong == []


def test_no_dialogue_module_is_longer_than_a_page_or_two() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / "handlers" / "dialogue").rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert long == {}


def test_storage_names_no_status() -> None:
    """Which status means what is the core's (``handlers.workflow``): storage keeps the status
    as a string and its queries take the statuses they filter on from the caller."""
    statuses = {status.value for status in AppealStatus}
    named = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for path in sorted((ROOT / "storage").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in statuses
    ]
    assert named == []


# What outside storage/ may take from SQLAlchemy: the session's type, to pass it along, and the
# errors, to tell a lost race; an operator's URL is parsed by the configuration.
SQLALCHEMY_OUTSIDE_STORAGE = {"sqlalchemy.ext.asyncio", "sqlalchemy.exc", "sqlalchemy.engine"}


@pytest.mark.parametrize("layer", ["handlers", "digests", "bot"])
def test_only_storage_writes_sql(layer: str) -> None:
    """README: storage/ holds the models, the migrations and the queries; nothing else writes
    SQL (no ``select``, ``func``, ``update`` or ``text`` built anywhere else)."""
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in sorted(imports(path))
        if name.split(".")[0] == "sqlalchemy" and name not in SQLALCHEMY_OUTSIDE_STORAGE
    ]
    assert wrong == []
