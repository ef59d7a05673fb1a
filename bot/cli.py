"""``appeals``: run the bots, try the dialogue in a terminal, migrate, check a catalogue.

appeals run                      # the bots configured by the environment / .env
appeals console                  # the resident dialogue in this terminal
appeals db upgrade               # apply database migrations
appeals check-catalogue PATH     # validate an operator's catalogue
appeals digest --week 2026-W47 [--out FILE] [--post]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings, load_settings
from handlers.catalogue import CatalogueError, load_catalogue

EXIT_OK = 0
EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appeals", description="Residents' appeals bot for Telegram and VK")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bots configured by the environment")
    commands.add_parser("console", help="talk to the resident dialogue in this terminal")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations")
    check = commands.add_parser("check-catalogue", help="validate a catalogue file")
    check.add_argument("path", type=Path)
    digest = commands.add_parser("digest", help="build (and optionally post) one week's digest")
    digest.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    digest.add_argument("--out", type=Path, default=None, help="where to write the chart (PNG)")
    digest.add_argument("--post", action="store_true", help="queue it for the digest channels")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check-catalogue":
        return check_catalogue(args.path)
    settings = load_settings(args.env_file)
    if args.command == "db":
        return asyncio.run(db_upgrade(settings))
    if args.command == "run":
        return asyncio.run(run(settings))
    if args.command == "console":
        return asyncio.run(console(settings))
    if args.command == "digest":
        return asyncio.run(digest(settings, args.week, args.out, args.post))
    raise AssertionError(args.command)  # pragma: no cover - argparse refuses others


def check_catalogue(path: Path) -> int:
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as error:
        print(f"catalogue error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"{path}: OK — {len(catalogue.categories)} categories, {len(catalogue.municipalities)} "
        f"municipalities, {len(catalogue.agencies)} agencies"
    )
    return EXIT_OK


async def db_upgrade(settings: Settings) -> int:
    from storage.migrate import upgrade

    await upgrade(settings.database_url)
    print("database is up to date")
    return EXIT_OK


async def run(settings: Settings) -> int:
    if settings.telegram.bot_token is None and settings.vk.group_token is None:
        print("no TELEGRAM_BOT_TOKEN or VK_GROUP_TOKEN set: starting the console demo instead")
        return await console(settings)
    from bot.app import ConfigurationError, open_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with open_app(settings):
            await stop.wait()
    except CatalogueError as error:
        print(f"catalogue error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


async def console(settings: Settings) -> int:
    try:
        module = importlib.import_module("bot.console")
    except ModuleNotFoundError:
        print("the console demo is not available in this build", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result = await module.run_console(settings)
    except CatalogueError as error:
        print(f"catalogue error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return int(result or 0)


async def digest(settings: Settings, week: str, out: Path | None, post: bool) -> int:
    from digests.cli import digest_cli
    from handlers.context import Context
    from storage.db import Database
    from storage.migrate import upgrade

    try:
        catalogue = load_catalogue(settings.catalogue_path)
    except CatalogueError as error:
        print(f"catalogue error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    await upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        return await digest_cli(Context(db=db, catalogue=catalogue), week, out, post, sys.stdout)
    finally:
        await db.dispose()


if __name__ == "__main__":
    sys.exit(main())
