"""`parley sources add|list|remove`: managing web sources from the command line."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator

from bot.services import Services
from storage import sources


def add_parser(commands: argparse._SubParsersAction, handler: Callable[..., int]) -> None:  # type: ignore[type-arg]
    """Register `parley sources` and its actions."""
    parser = commands.add_parser("sources", help="add, list or remove news sources")
    actions = parser.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="detect a feed or article page, fetch it, store it")
    add.add_argument("url", metavar="URL")
    actions.add_parser("list", help="list the active sources")
    remove = actions.add_parser("remove", help="stop following a source (its articles stay)")
    remove.add_argument("source_id", metavar="ID")
    parser.set_defaults(handler=handler)


def run_sources(args: argparse.Namespace, services: Services) -> Iterator[str]:
    """Carry out one `parley sources` action, yielding the lines to print."""
    if args.sources_command == "add":
        check = asyncio.run(services.sources.add(args.url))
        yield (
            f"Added source #{check.source_id}: {check.name} ({check.kind}); found "
            f"{check.found} article(s), {len(check.stored)} new. The running bot polls it "
            "and sends the digest."
        )
    elif args.sources_command == "remove":
        removed = services.sources.remove(args.source_id)
        yield f"Removed source #{removed.id} ({removed.name}); its articles stay in the archive."
    else:
        with services.sessions() as session:
            listed = sources.active_sources(session)
        if not listed:
            yield "No sources yet."
        for source in listed:
            count = f"{source.articles} article(s)"
            yield "\t".join([f"#{source.id}", source.kind, count, source.name, source.url or ""])
