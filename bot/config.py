"""What the bot needs from whoever builds it: a few settings and the core services.

They are described here, as protocols the composition root's `Settings` and `Services`
satisfy, so that the Telegram package never imports the package that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from knowledge.answering import Answerer
    from knowledge.catch_up import ArchiveFollower
    from knowledge.embedding import Embedder
    from storage.fulltext import FullTextIndex
    from storage.vectors import VectorIndex
    from web.source_manager import SourceManager


@dataclass(frozen=True)
class WebhookSettings:
    """Where Telegram sends updates and where this worker listens for them."""

    url: str
    listen: str
    port: int
    path: str
    secret_token: str


class BotSettings(Protocol):
    """The settings the Telegram application is built from."""

    @property
    def admin_ids(self) -> frozenset[int]: ...

    @property
    def source_poll_seconds(self) -> float: ...

    @property
    def leader_lease_seconds(self) -> float: ...

    @property
    def catch_up_seconds(self) -> float: ...

    def bot_token(self) -> str: ...

    def bot_api_url(self) -> str: ...

    def bot_file_url(self) -> str: ...


class CoreServices(Protocol):
    """The services, built once, that handlers and jobs work with."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def embedder(self) -> Embedder: ...

    @property
    def fulltext(self) -> FullTextIndex: ...

    @property
    def vectors(self) -> VectorIndex: ...

    @property
    def answerer(self) -> Answerer: ...

    @property
    def source_manager(self) -> SourceManager: ...

    @property
    def follower(self) -> ArchiveFollower: ...

    def follow_changes(self) -> None: ...
