"""What handlers reach through the PTB context: the services built at start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from telegram.ext import ContextTypes

from bot.services import Services
from knowledge.fetching import Fetcher

SERVICES_KEY = "parley"


@dataclass(frozen=True)
class BotServices:
    """The core services plus what only the bot needs."""

    core: Services
    fetcher: Fetcher
    admin_ids: frozenset[int]

    def is_admin(self, user_id: int | None) -> bool:
        """Whether the user may manage sources."""
        return user_id is not None and user_id in self.admin_ids


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    """The services this application was built with."""
    return cast(BotServices, context.bot_data[SERVICES_KEY])
