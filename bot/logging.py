"""Logging: structlog, one line per event, JSON (production) or console (a terminal).

Everything goes through the standard library's ``logging`` too, so libraries and modules
using ``logging.getLogger`` come out in the same format. Fields that could carry personal
data (message texts, names, phone numbers) are dropped before anything is written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

PERSONAL_FIELDS = frozenset(
    {"text", "name", "first_name", "last_name", "full_name", "phone", "phone_number", "caption", "address"}
)


def drop_personal_data(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_FIELDS & event.keys():
        event[key] = "[hidden]"
    return event


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger once, at start
    (to ``stream``, standard error by default)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_data,
    ]
    stream = stream or sys.stderr
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if fmt == "json" else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that log SQL parameters or request bodies (personal data) at DEBUG stay at
    # WARNING whatever the level, so DEBUG is safe to turn on in production.
    for noisy in (
        "aiogram.event",
        "aiohttp.access",
        "apscheduler.executors.default",
        "vkbottle",
        "aiosqlite",
        "sqlalchemy.engine",
        "asyncpg",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # vkbottle attaches its own colour handler at import and logs request data at DEBUG:
    # its records go through ours, at WARNING, so no message text reaches the logs.
    logging.getLogger("vkbottle").handlers.clear()


def _identity(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event
