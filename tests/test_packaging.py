"""What a user installs and copies: README's commands, the lock file, the licence, and the
deployment guide's environment file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    section = (
        (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    )
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_readme_has_two_one_line_commands_that_install_the_locked_versions() -> None:
    first, test = readme_commands()
    assert "\n" not in first and "\n" not in test
    assert first.endswith(".venv/bin/appeals run") and test.endswith(".venv/bin/pytest")
    for command in (first, test):
        assert " -c requirements.lock " in command


def test_the_lock_pins_every_dependency_and_the_linters() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = locked()
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        name = re.split(r"[<>=!~\[;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.lock"
    exact = [r.split(";")[0].split("#")[0].strip() for r in project["optional-dependencies"]["dev"]]
    dev = dict(r.split("==") for r in exact if "==" in r)
    assert dev == {"ruff": pins["ruff"], "mypy": pins["mypy"]}


def test_the_licence_is_a_file_and_spdx_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_deployment_guides_environment_file_works_under_systemd(tmp_path: Path) -> None:
    """systemd keeps a comment after a value in the value: none in the example."""
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    block = guide.split("`/srv/appeals/.env`", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assignments = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert assignments
    for line in assignments:
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_]+", name), line
        assert "#" not in value and value == value.strip(), line
    env = tmp_path / "appeals.env"
    env.write_text(block, encoding="utf-8")
    settings = load_settings(env)
    assert settings.telegram.bot_token is not None and settings.vk.group_id is None


def test_no_environment_example_in_the_deployment_guide_has_a_comment_after_a_value() -> None:
    """Every block of variables in the guide ends up in an ``EnvironmentFile`` somewhere."""
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in guide.split("```sh\n")[1:]]
    assignments = [
        line for block in blocks for line in block.splitlines() if re.match(r"[A-Z][A-Z0-9_]*=", line)
    ]
    assert len(assignments) > 10
    assert [line for line in assignments if "#" in line.partition("=")[2]] == []
