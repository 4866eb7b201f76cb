"""Secrets never reach the logs: the bot token and database passwords become ``[redacted]``.

python-telegram-bot logs its Bot API URL (which holds the token) at DEBUG, and its
``InvalidToken`` error quotes the token; database drivers quote their URL in errors. The filter
sits on the root logger's handlers, so every library's records pass through it.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType
from urllib.parse import quote, quote_plus

from parley.settings import Settings

REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; a URL's password is still hidden by its place.
MIN_SECRET_LENGTH = 4
# Any bot token in a Bot API URL (…/bot123:AAH…/getMe, …/file/bot123:AAH…/), not only ours.
_URL_TOKEN = re.compile(r"(?<=bot)\d{1,20}:[A-Za-z0-9_-]+")
# The password of any URL with credentials (postgresql://user:secret@host/db).
_URL_PASSWORD = re.compile(r"(?<=://)([^/@:\s]*):[^/@\s]+@")


def secrets_in(settings: Settings) -> list[str]:
    """The values in ``settings`` that must never be logged: the bot token, the DB password."""
    found: list[str] = []
    if settings.telegram_bot_token is not None:
        token = settings.telegram_bot_token.get_secret_value()
        found += [token, token.strip()]
    password = _database_password(settings.database_url)
    if settings.webhook_secret_token is not None:
        found.append(settings.webhook_secret_token.get_secret_value())
    if password:
        # The URL may spell it percent-encoded; logs may show either spelling.
        found += [str(password), quote(str(password), safe=""), quote_plus(str(password))]
    return found


def _database_password(url: str) -> str | None:
    # A URL's credentials end with "@": without one there is no password, and no need to
    # import SQLAlchemy (most of a model-free command's start-up) to parse the URL.
    if "@" not in url:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


class Redactor(logging.Filter):
    """A handler filter that rewrites each record with the secrets replaced by ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        kept = {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(kept, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every known secret, bot token in a URL and URL password hidden."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_TOKEN.sub(REDACTED, text)
        return _URL_PASSWORD.sub(rf"\1:{REDACTED}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message, the exception text and the stack; never drop a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging would print msg and args raw
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the redacted text is what they print.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def redact_logs(secrets: Iterable[str]) -> Redactor:
    """Hide ``secrets`` in everything the root logger's handlers and uncaught errors print."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)

    def redacting_hook(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(redactor.redact(text))

    sys.excepthook = redacting_hook
    return redactor
