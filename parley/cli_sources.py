"""`parley sources add|list|remove`: managing web sources from the command line.

Listing and removing touch only the archive, so they load no model, nor the web stack, nor the
ORM: one statement each (storage/source_listing.py), on SQLite's own driver when they can.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.services import Services
    from storage.plain_sql import Connection


def add_parser(commands: argparse._SubParsersAction, handler: Callable[..., int]) -> None:  # type: ignore[type-arg]
    """Register `parley sources` and its actions."""
    parser = commands.add_parser("sources", help="add, list or remove news sources")
    actions = parser.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="detect a feed or article page, fetch it, store it")
    add.add_argument("url", metavar="URL")
    actions.add_parser("list", help="list the active sources")
    remove = actions.add_parser("remove", help="stop following a source (its articles stay)")
    remove.add_argument("source_id", type=_source_id, metavar="ID")
    parser.set_defaults(handler=handler)


def _source_id(text: str) -> int:
    number = text.strip().lstrip("#")
    if not number.isdigit():
        raise argparse.ArgumentTypeError(
            f"not a source number: {text!r} (`parley sources list` shows them, e.g. #3)"
        )
    return int(number)


def add(url: str, services: Services) -> str:
    """Detect, fetch and store a source; the line to print."""
    import asyncio  # here, not above: `parley --help` imports this module

    check = asyncio.run(services.source_manager.add(url))
    return (
        f"Added source #{check.source_id}: {check.name} ({check.kind}); found "
        f"{check.found} article(s), {len(check.stored)} new. The running bot polls it "
        "and sends the digest."
    )


def listing(connection: Connection) -> list[str]:
    """The active sources, one line each."""
    from storage.source_listing import active_sources

    listed = active_sources(connection)
    if not listed:
        return ["No sources yet."]
    lines = []
    for source in listed:
        fields = [f"#{source.id}", source.kind, f"{source.articles} article(s)", source.name]
        lines.append("\t".join([*fields, source.url or ""]))
    return lines


def remove(connection: Connection, *, source_id: int) -> str | None:
    """Stop following the source; the line to print, None when there is no such source."""
    from storage.source_listing import stop_following

    removed = stop_following(connection, source_id=source_id)
    if removed is None:
        return None
    return f"Removed source #{removed.id} ({removed.name}); its articles stay in the archive."
