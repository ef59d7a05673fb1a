"""``appeals``: run the bots, try the dialogue in a terminal, migrate, check a catalogue.

appeals run                      # the bots configured by the environment / .env
appeals console [--staff]        # the resident dialogue (and the agency chats) in this terminal
appeals db upgrade               # apply database migrations
appeals check-catalogue PATH     # validate an operator's catalogue
appeals backup PATH              # consistent copy of the live SQLite database
appeals digest --week 2026-W47 [--out FILE] [--post [--partial]]
appeals purge                    # apply the retention rules now (the bot also does it by itself)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bot.capabilities import ADAPTERS
from bot.config import ConfigurationError, Settings, load_settings
from handlers.catalogue import CatalogueError, load_catalogue
from handlers.context import Context
from handlers.core import Core
from storage.db import Database
from storage.migrate import DatabaseUnavailable, upgrade

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_FAILURE = 1
"""A loop of the running bot could not be kept alive: a process supervisor should restart it."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appeals", description="Residents' appeals bot for Telegram and VK")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bots configured by the environment")
    console_command = commands.add_parser("console", help="talk to the resident dialogue in this terminal")
    console_command.add_argument(
        "--staff",
        action="store_true",
        help="also show the agency chats here (cards, «Ответить», «Решено»): the whole cycle offline",
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations")
    backup = commands.add_parser("backup", help="copy the live SQLite database consistently")
    backup.add_argument("path", type=Path, help="where to write the copy")
    check = commands.add_parser("check-catalogue", help="validate a catalogue file")
    check.add_argument("path", type=Path)
    digest = commands.add_parser("digest", help="build (and optionally post) one week's digest")
    digest.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    digest.add_argument("--out", type=Path, default=None, help="where to write the chart (PNG)")
    digest.add_argument(
        "--post",
        action="store_true",
        help="post a finished week to the digest channels, once (the running bot sends it, or this command)",
    )
    digest.add_argument(
        "--partial",
        action="store_true",
        help="with --post: post an unfinished week's figures so far (the weekly post still follows)",
    )
    commands.add_parser("purge", help="erase what the retention rules say is kept too long")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Every configuration or environment mistake ends here as one line
    on standard error naming the setting and the fix, with exit status 2: never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return _command(args)
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr)
    except CatalogueError as error:
        print(f"catalogue error: {error} (fix the file, or point CATALOGUE_PATH at another)", file=sys.stderr)
    except DatabaseUnavailable as error:
        print(
            f"configuration error: DATABASE_URL cannot be opened or written ({error}): "
            "make its folder writable or its server reachable, or set DATABASE_URL to one that is",
            file=sys.stderr,
        )
    except KeyboardInterrupt:
        return 130
    return EXIT_CONFIG


def _command(args: argparse.Namespace) -> int:
    if args.command == "check-catalogue":
        return check_catalogue(args.path)
    settings = load_settings(args.env_file)
    if args.command == "db":
        return asyncio.run(db_upgrade(settings))
    if args.command == "run":
        return asyncio.run(run(settings))
    if args.command == "console":
        return asyncio.run(console(settings, staff=args.staff))
    if args.command == "digest":
        return asyncio.run(digest(settings, args.week, args.out, args.post, args.partial))
    if args.command == "backup":
        return asyncio.run(backup(settings, args.path))
    if args.command == "purge":
        return asyncio.run(purge(settings))
    raise AssertionError(args.command)  # pragma: no cover - argparse refuses others


def check_catalogue(path: Path) -> int:
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as error:
        print(f"catalogue error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"{path}: OK — {len(catalogue.categories)} categories "
        f"({sum(bool(c.keywords) for c in catalogue.categories)} with topic keywords), "
        f"{len(catalogue.municipalities)} municipalities, {len(catalogue.agencies)} agencies"
    )
    return EXIT_OK


async def db_upgrade(settings: Settings) -> int:
    await upgrade(settings.database_url)
    print("database is up to date")
    return EXIT_OK


async def run(settings: Settings) -> int:
    if settings.telegram.bot_token is None and settings.vk.group_token is None:
        if not sys.stdin.isatty():
            # systemd or Docker with the token forgotten: a demo nobody can type into
            # would only exit 0 and hide the mistake.
            print(
                "configuration error: set TELEGRAM_BOT_TOKEN and/or VK_GROUP_TOKEN (in the environment "
                "or .env) to run the bots; `appeals console` is the offline demo",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        print(
            "no TELEGRAM_BOT_TOKEN or VK_GROUP_TOKEN set: starting the offline console demo "
            f"(its own database, {settings.data_dir / 'demo.db'})"
        )
        return await console(settings)
    from bot.app import open_app

    stop = asyncio.Event()
    serving = asyncio.current_task()
    started = False
    assert serving is not None

    def on_signal() -> None:
        # Before the start is done (a platform still unreachable, retried) there is
        # nothing to let finish: stop at once.
        stop.set()
        if not started:
            serving.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, on_signal)
    try:
        async with open_app(settings) as app:
            started = True
            stopped = asyncio.create_task(stop.wait())
            fatal = asyncio.create_task(app.supervisor.fatal.wait())
            await asyncio.wait({stopped, fatal}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            fatal.cancel()
            if app.supervisor.fatal.is_set():
                print(f"stopping: {app.supervisor.fatal_reason}", file=sys.stderr)
                return EXIT_FAILURE
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        print("stopped before the start was complete", file=sys.stderr)
    return EXIT_OK


@contextlib.asynccontextmanager
async def _offline_context(settings: Settings, database_url: str | None = None) -> AsyncIterator[Context]:
    """The context a one-off command needs: catalogue, migrated database, nothing else."""
    catalogue = load_catalogue(settings.catalogue_path)
    url = database_url or settings.database_url
    await upgrade(url)
    db = Database(url)
    try:
        yield Context(db=db, catalogue=catalogue, capabilities=ADAPTERS, retention=settings.retention())
    finally:
        await db.dispose()


async def console(settings: Settings, *, staff: bool = False) -> int:
    """The resident dialogue in this terminal, against the demo's own database."""
    from bot.console import run_console
    from bot.logging import configure_logging

    # Logs go to a file: on the terminal they would land between the bot's messages.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "console.log"
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with log_path.open("a", encoding="utf-8") as log_file:
        configure_logging(settings.log_level, settings.log_format, stream=log_file)
        try:
            async with _offline_context(settings, settings.demo_database_url) as ctx:
                await run_console(Core(ctx), staff=staff)
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
    return EXIT_OK


async def backup(settings: Settings, path: Path) -> int:
    from storage.backup import BackupError
    from storage.backup import backup as backup_sqlite

    try:
        size = await backup_sqlite(settings.database_url, path)
    except BackupError as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"{path}: {size} bytes, consistent copy of {settings.database_url}")
    return EXIT_OK


async def digest(settings: Settings, week: str, out: Path | None, post: bool, partial: bool = False) -> int:
    from bot.post_now import deliver
    from digests.cli import digest_cli

    async with _offline_context(settings) as ctx:
        return await digest_cli(
            ctx,
            week,
            out,
            post,
            sys.stdout,
            partial=partial,
            deliver=lambda queued: deliver(settings, ctx, queued, sys.stdout),
            stderr=sys.stderr,
        )


async def purge(settings: Settings) -> int:
    from handlers.privacy import purge as purge_now

    async with _offline_context(settings) as ctx:
        report = await purge_now(ctx)
    print(report)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
