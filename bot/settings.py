"""Parley's settings, read from the environment and `.env`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting an operator can change; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///data/parley.db"
    embedding_model: str = "all-MiniLM-L6-v2"
    seeds_dir: str = "seeds"
    max_article_bytes: int = Field(default=5_000_000, gt=0)
    log_level: str = "INFO"
