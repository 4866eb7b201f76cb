"""What handlers reach through the PTB context: the services built at start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from telegram.ext import ContextTypes

from bot.batching import QuestionBatcher
from bot.config import CoreServices
from bot.digests import DigestSender

if TYPE_CHECKING:
    from web.source_manager import SourceManager

SERVICES_KEY = "parley"


@dataclass(frozen=True)
class BotServices:
    """The core services plus what only the bot needs."""

    core: CoreServices
    digests: DigestSender
    questions: QuestionBatcher
    admin_ids: frozenset[int]
    poll_seconds: float
    catch_up_seconds: float

    def is_admin(self, user_id: int | None) -> bool:
        """Whether the user may manage sources."""
        return user_id is not None and user_id in self.admin_ids

    @property
    def source_manager(self) -> SourceManager:
        """Adding, polling and removing web sources."""
        return self.core.source_manager


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    """The services this application was built with."""
    return cast(BotServices, context.bot_data[SERVICES_KEY])
