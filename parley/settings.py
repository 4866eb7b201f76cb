"""Parley's settings, read from the environment and `.env`."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.config import WebhookSettings

OFFICIAL_BOT_API = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
# Telegram's rule for a webhook's secret token; 32 or more make it unguessable.
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,256}$")


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

    # Webhook mode (`parley run --webhook`): Telegram POSTs updates to WEBHOOK_URL, which a
    # reverse proxy forwards to WEBHOOK_LISTEN:WEBHOOK_PORT at WEBHOOK_PATH on each worker.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=1, le=65535)
    webhook_path: str | None = None  # default: the path of WEBHOOK_URL
    webhook_secret_token: SecretStr | None = None
    # One worker leads the scheduled work (polling sources, digests) while it renews a lease
    # this long; another takes over at most this long after the leader dies.
    leader_lease_seconds: float = Field(default=30, ge=1)

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

    def webhook(self) -> WebhookSettings:
        """The webhook settings, checked: one clear sentence when one is missing or wrong."""
        url = (self.webhook_url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(
                "WEBHOOK_URL must be the public https:// address Telegram sends updates to, "
                "e.g. https://bot.example.org/telegram."
            )
        secret = self.webhook_secret_token.get_secret_value() if self.webhook_secret_token else ""
        if not secret.strip():
            raise SettingsError(
                "WEBHOOK_SECRET_TOKEN is not set: webhook mode will not start without one, or "
                "anyone who finds the address could post updates (`openssl rand -hex 32` makes "
                "one)."
            )
        if not SECRET_TOKEN_PATTERN.match(secret.strip()):
            raise SettingsError(
                "WEBHOOK_SECRET_TOKEN is malformed: 32 to 256 letters, digits, - or _ "
                "(`openssl rand -hex 32` makes one)."
            )
        path = (self.webhook_path or parts.path or "/").strip()
        return WebhookSettings(
            url=url,
            listen=self.webhook_listen,
            port=self.webhook_port,
            path=path if path.startswith("/") else f"/{path}",
            secret_token=secret.strip(),
        )
