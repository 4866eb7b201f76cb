"""`parley ingest`, `parley ask` and `parley reindex`: the commands that need the model."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from parley.cli_support import CommandError, progress_bar, services_for

if TYPE_CHECKING:
    from knowledge import ingest
    from knowledge.answering import Answer
    from knowledge.documents import DocumentError
    from parley.services import Services
    from parley.settings import Settings


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """`parley ingest`: store new articles, or preview them with --dry-run."""
    import asyncio  # here, not above: `parley --help` imports this module

    urls = [path for path in args.paths if path.lower().startswith(("http://", "https://"))]
    paths = [path for path in args.paths if path not in urls]
    with services_for(settings) as services:
        plans, problems = services.ingestor.plan_files(paths) if paths else ([], [])
        if urls:
            page_plans, page_problems = asyncio.run(_plan_pages(services, urls))
            plans, problems = plans + page_plans, problems + page_problems
        if args.dry_run:
            for plan in plans:
                print(_preview(plan, as_json=args.json), flush=True)
        else:
            total = sum(len(plan.passages) for plan in plans)
            with progress_bar(total, "Embedding passages") as advance:
                report = services.ingestor.store(plans, progress=advance)
            for plan in report.stored:
                _say(args, "stored", plan)
            for plan in report.duplicates:
                _say(args, "duplicate", plan)
            stored_passages = sum(len(plan.passages) for plan in report.stored)
            print(
                f"Stored {len(report.stored)} article(s) with {stored_passages} passage(s); "
                f"{len(report.duplicates)} already in the archive.",
                file=sys.stderr,
            )
    for problem in problems:
        print(f"parley: {problem}", file=sys.stderr)
    return 1 if problems else 0


async def _plan_pages(
    services: Services, urls: list[str]
) -> tuple[list[ingest.ArticlePlan], list[DocumentError]]:
    from knowledge.documents import DocumentError
    from web.source_manager import SourceError

    plans, problems = [], []
    for url in urls:
        try:
            plans.append(await services.source_manager.preview_page(url))
        except SourceError as error:
            problems.append(DocumentError(url, str(error)))
    return plans, problems


def _preview(plan: ingest.ArticlePlan, *, as_json: bool) -> str:
    preview = plan.preview()
    if as_json:
        return json.dumps(preview, ensure_ascii=False)
    return (
        f"{preview['title']}\n  source: {preview['source']}  date: {preview['date'] or 'unknown'}"
        f"  passages: {preview['passages']}\n  {preview['url']}"
    )


def _say(args: argparse.Namespace, status: str, plan: ingest.ArticlePlan) -> None:
    if args.json:
        print(json.dumps({"status": status, **plan.preview()}, ensure_ascii=False), flush=True)
    else:
        print(f"{status}: {plan.document.title} ({plan.document.url})")


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """`parley ask`: answer questions from arguments or standard input."""
    questions = _questions(args.questions, sys.stdin)
    first = next(questions, None)
    if first is None:
        raise CommandError("no question given: pass one as an argument or on standard input")
    with services_for(settings) as services:
        services.seed_if_empty()
        for question in itertools.chain([first], questions):
            started = time.perf_counter()
            answer = services.answerer.ask(question)
            elapsed_ms = (time.perf_counter() - started) * 1000
            print(_render_answer(answer, as_json=args.json, elapsed_ms=elapsed_ms), flush=True)
    return 0


def _questions(given: Sequence[str], stdin: TextIO) -> Iterator[str]:
    """The questions given, else standard input's lines one at a time as they arrive, so that
    a live conversation on a pipe gets each answer before it writes the next question."""
    for line in given or stdin:
        if line.strip():
            yield line.strip()


def _render_answer(answer: Answer, *, as_json: bool, elapsed_ms: float) -> str:
    if as_json:
        record = {**answer.as_json(), "elapsed_ms": round(elapsed_ms, 1)}
        return json.dumps(record, ensure_ascii=False)
    return f"Q: {answer.question}\n{answer.text}\n"


def run_reindex(_args: argparse.Namespace, settings: Settings) -> int:
    """`parley reindex`: re-embed every passage with the configured model."""
    from knowledge import ingest
    from storage import archive

    with services_for(settings, check_model=False) as services:
        with services.sessions() as session:
            total = archive.passage_count(session)
        with progress_bar(total, "Re-embedding passages") as advance:
            count = ingest.reindex(
                sessions=services.sessions, embedder=services.embedder, progress=advance
            )
    print(f"Re-embedded {count} passage(s) with {services.embedder.model_id}.")
    return 0
