"""Settings from the environment or ``.env``: built once in ``main`` and passed down.

Each section reads its own prefix (``TELEGRAM_*``, ``VK_*``, ...); nothing is read at import.
Only :func:`load_settings` reads a ``.env`` file: settings built in code (tests) never do.
A value that cannot work is a :class:`ConfigurationError` naming the variable and the fix.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from handlers.catalogue import EXAMPLE_PATH
from storage.retention import RetentionPolicy

# aiogram's own check (aiogram/utils/token.py): digits, a colon, then something.
_TELEGRAM_TOKEN = re.compile(r"^\d+:\S+$")
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_S = TypeVar("_S", bound=BaseSettings)


class ConfigurationError(Exception):
    """A setting that cannot work: the message names the variable and the fix.
    ``appeals`` prints it as one line and exits with status 2."""


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, env_file_encoding="utf-8", extra="ignore")


def _not_empty(name: str, value: SecretStr | None, fix: str) -> SecretStr | None:
    if value is not None and not value.get_secret_value().strip():
        raise ValueError(f"{name} is set but empty: {fix}, or remove the line")
    return value


class TelegramSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    bot_token: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    """Public URL Telegram posts updates to (webhook mode)."""
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/telegram/webhook"
    poll_timeout: int = Field(default=25, ge=0, le=50)

    @field_validator("api_base")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        fix = "paste the token @BotFather gave (like 123456789:AAE...)"
        _not_empty("TELEGRAM_BOT_TOKEN", value, fix)
        if value is not None and not _TELEGRAM_TOKEN.fullmatch(value.get_secret_value().strip()):
            raise ValueError(f"TELEGRAM_BOT_TOKEN does not look like a bot token: {fix}")
        return None if value is None else SecretStr(value.get_secret_value().strip())

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("polling", "webhook"):
            hint = (
                f"write {value.strip().lower()!r}, in lowercase"
                if value.strip().lower()
                in (
                    "polling",
                    "webhook",
                )
                else "write 'polling' or 'webhook'"
            )
            raise ValueError(f"TELEGRAM_MODE={value!r} is not a mode: {hint}")
        return value


class VkSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="VK_")

    group_token: SecretStr | None = None
    group_id: int | None = None
    """Empty: looked up with the token at start."""
    api_base: str = "https://api.vk.com"
    api_version: str = "5.199"
    poll_wait: int = Field(default=25, ge=0, le=90)
    mode: Literal["longpoll", "callback"] = "longpoll"
    """``callback``: VK POSTs events to this process (Callback API), several workers may share
    one PostgreSQL database; ``longpoll`` (the default): one process asks VK for them."""
    callback_host: str = "127.0.0.1"
    callback_port: int = 8081
    callback_path: str = "/vk/callback"
    confirmation_code: SecretStr | None = None
    """The string the community's Callback API settings show, answered to VK's check."""
    callback_secret: SecretStr | None = None
    """The community's Callback API secret key; events without it are refused."""

    @field_validator("api_base")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("longpoll", "callback"):
            lowered = value.strip().lower()
            hint = (
                f"write {lowered!r}, in lowercase"
                if lowered in ("longpoll", "callback")
                else "write 'longpoll' (the default) or 'callback' (VK's Callback API)"
            )
            raise ValueError(f"VK_MODE={value!r} is not a mode: {hint}")
        return value

    @field_validator("callback_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"VK_CALLBACK_PATH={value!r} must start with '/': write /{value.lstrip('/')}")
        return value

    @field_validator("group_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        return _not_empty(
            "VK_GROUP_TOKEN", value, "paste the community's access token (Manage community → API usage)"
        )

    @field_validator("group_id", mode="before")
    @classmethod
    def _group_id(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.lstrip("-").isdigit():
                raise ValueError(
                    f"VK_GROUP_ID={value!r} is not a number: write the community's numeric id "
                    "(club123456 → 123456), or leave it empty to look it up with the token"
                )
            return abs(int(value))
        return value


class Settings(_Section):
    """Everything an operator sets. Secrets are ``SecretStr`` and never logged."""

    database_url: str = "sqlite+aiosqlite:///./data/appeals.db"
    catalogue_path: Path = EXAMPLE_PATH
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    vk: VkSettings = Field(default_factory=VkSettings)
    outbox_concurrency: int = Field(default=16, ge=1, le=256)
    """How many chats the outbox sender serves at once."""
    update_concurrency: int = Field(default=64, ge=1, le=4096)
    """How many people's updates are handled at once (one person's stay in order)."""
    retention_days: int = Field(default=7, ge=1, le=3650)
    """Handled updates are deleted, and sent messages lose their text, after this many days."""
    retention_failed_days: int = Field(default=30, ge=1, le=3650)
    """The same for updates that could not be handled and messages that could not be sent."""

    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            handled=timedelta(days=self.retention_days), failed=timedelta(days=self.retention_failed_days)
        )

    update_max_starts: int = Field(default=3, ge=1, le=100)
    """An update started this many times without finishing is given up (a poison update):
    the person gets an apology, the admin chats an alert."""
    health_interval: float = Field(default=300.0, ge=0)
    """Seconds between health lines in the log (each loop and when it last went round); 0: none."""

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        examples = "sqlite+aiosqlite:///./data/appeals.db or postgresql+asyncpg://user:password@host/db"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"DATABASE_URL is not a database URL: write one like {examples}") from None
        if url.drivername not in DRIVERS:
            raise ValueError(
                f"DATABASE_URL uses {url.drivername!r}, which this bot cannot drive: "
                f"write {' or '.join(DRIVERS)}, like {examples}"
            )
        return value

    @property
    def demo_database_url(self) -> str:
        """The console demo's own SQLite file: its appeals never reach a real bot's
        database, so never a real agency chat or a real digest."""
        return f"sqlite+aiosqlite:///{self.data_dir / 'demo.db'}"


def load_settings(env_file: Path | str | None = ".env") -> Settings:
    """Read settings; sections read the same env file as the whole. A value that cannot
    work raises :class:`ConfigurationError` with the variable named."""
    kwargs = {"_env_file": env_file}
    telegram = _section(TelegramSettings, kwargs, env_file)
    vk = _section(VkSettings, kwargs, env_file)
    return _section(Settings, {**kwargs, "telegram": telegram, "vk": vk}, env_file)


def _section(cls: type[_S], kwargs: dict[str, Any], env_file: Path | str | None) -> _S:
    try:
        return cls(**kwargs)
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        raise ConfigurationError(_explain(exc, prefix, env_file)) from None


def _explain(exc: ValidationError, prefix: str, env_file: Path | str | None) -> str:
    """The first problem as one line: the variable, what is wrong, how to fix it."""
    error = exc.errors(include_url=False)[0]
    name = (prefix + "_".join(str(part) for part in error["loc"])).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error" and name.split("_", 1)[0] in message:
        return message  # our validators name the variable and the fix themselves
    where = f"the environment or {env_file}" if env_file else "the environment"
    shown = "" if "TOKEN" in name or "SECRET" in name else f"={error.get('input')!r}"
    return f"{name}{shown}: {message.lower()}; fix it in {where}"
