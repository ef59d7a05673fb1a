"""Settings from the environment or ``.env``: built once in ``main`` and passed down.

Each section reads its own prefix (``TELEGRAM_*``, ``VK_*``, ...); nothing is read at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.catalogue import EXAMPLE_PATH


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


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


class VkSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="VK_")

    group_token: SecretStr | None = None
    group_id: int | None = None
    api_base: str = "https://api.vk.com"
    api_version: str = "5.199"
    poll_wait: int = Field(default=25, ge=0, le=90)

    @field_validator("api_base")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")


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

    @property
    def demo_database_url(self) -> str:
        """The console demo's own SQLite file: its appeals never reach a real bot's
        database, so never a real agency chat or a real digest."""
        return f"sqlite+aiosqlite:///{self.data_dir / 'demo.db'}"


def load_settings(env_file: Path | str | None = ".env") -> Settings:
    """Read settings; sections read the same env file as the whole."""
    kwargs = {"_env_file": env_file}
    return Settings(
        telegram=TelegramSettings(**kwargs),  # type: ignore[arg-type]
        vk=VkSettings(**kwargs),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
