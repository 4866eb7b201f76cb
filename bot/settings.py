"""Parley's settings, read from the environment and `.env`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFICIAL_BOT_API = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence for the operator."""


class Settings(BaseSettings):
    """Every setting an operator can change; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///data/parley.db"
    embedding_model: str = "all-MiniLM-L6-v2"
    seeds_dir: str = "seeds"
    # The fitted answer-ranking weights (`make train`); empty means the ones Parley ships.
    answer_weights: str | None = None
    max_article_bytes: int = Field(default=5_000_000, gt=0)
    log_level: str = "INFO"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = OFFICIAL_BOT_API
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    allow_private_sources: bool = False
    fetch_timeout_seconds: float = Field(default=10.0, gt=0)
    source_poll_seconds: float = Field(default=900, gt=0)
    digest_backfill_hours: float = Field(default=24, ge=0)
    max_source_failures: int = Field(default=5, gt=0)
    # How often the bot picks up what other processes wrote: articles, re-indexes, sources.
    catch_up_seconds: float = Field(default=2.0, gt=0)

    # The playground's own archive: its made-up users, private sources and local test pages
    # never land in the operator's DATABASE_URL.
    playground_database_url: str = "sqlite:///data/playground.db"
    playground_host: str = "127.0.0.1"
    playground_port: int = Field(default=8080, ge=0, le=65535)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            bad = [part for part in parts if not part.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"not a Telegram user id: {', '.join(bad)}")
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    def bot_token(self) -> str:
        """The bot token, checked: one clear sentence when it is missing or malformed."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env."
            )
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is malformed: a token looks like 123456789:AAH…, "
                "digits, a colon, then at least 20 letters, digits, - or _."
            )
        return token

    def bot_api_url(self) -> str:
        """The Bot API base URL as python-telegram-bot wants it (ending in /bot)."""
        base = self.telegram_api_base_url.rstrip("/")
        return base if base.endswith("/bot") else f"{base}/bot"

    def bot_file_url(self) -> str:
        """The Bot API base URL for file downloads."""
        return self.bot_api_url()[: -len("/bot")] + "/file/bot"
