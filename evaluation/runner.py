"""Asking the questions through the real code path: `parley ingest` into a fresh archive, then
`parley ask --json` once per fold, with the answer model that was not trained on that fold."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.baseline import TopSentenceBaseline, stored_passages
from evaluation.folds import Question, weights_file
from evaluation.scoring import Record, Reply, reply_from_json, score

log = logging.getLogger("evaluation")
PARLEY = Path(sys.executable).parent / "parley"  # the console script of this very install
STDERR_TAIL = 2000  # characters of a failed command's standard error worth showing
PROGRESS_EVERY = 250  # replies between progress lines on long runs


class EvaluationError(Exception):
    """The evaluation cannot go on; the message is for the person who ran it."""


@dataclass(frozen=True)
class Dataset:
    """Questions and the article files or folders that answer them."""

    name: str
    questions: list[Question]
    articles: list[Path]


@dataclass
class DatasetResult:
    """Every record of one dataset, per system, and how each fold was answered."""

    name: str
    folds: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[Record]] = field(default_factory=dict)


class Archive:
    """A fresh, empty archive in a temporary folder, used only through the `parley` command."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database_url = f"sqlite:///{folder / 'eval.db'}"
        seeds = folder / "no-seeds"
        seeds.mkdir()
        # An empty seeds folder: `parley ask` seeds an empty archive, which this must not be.
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SEEDS_DIR": str(seeds),
            "LOG_LEVEL": "WARNING",
        }

    def ingest(self, paths: Sequence[Path]) -> None:
        """`parley ingest PATH...`; files it cannot read are reported, not fatal."""
        finished = self._parley(["ingest", *map(str, paths)], stdin="", env=self.env)
        if finished.returncode == 1:
            log.warning("parley ingest skipped some files:\n%s", finished.stderr[-STDERR_TAIL:])
        elif finished.returncode != 0:
            raise EvaluationError(f"parley ingest failed:\n{finished.stderr[-STDERR_TAIL:]}")

    def ask(self, questions: Sequence[str], *, weights: Path | None) -> list[Reply]:
        """`parley ask --json` with the questions on standard input, one reply per question."""
        env = dict(self.env)
        env.pop("ANSWER_WEIGHTS", None)  # without a weights file: the defaults, not the caller's
        if weights is not None:
            env["ANSWER_WEIGHTS"] = str(weights)
        stdin = "".join(f"{question}\n" for question in questions)
        finished = self._parley(["ask", "--json"], stdin=stdin, env=env, expected=len(questions))
        if finished.returncode != 0:
            raise EvaluationError(f"parley ask failed:\n{finished.stderr[-STDERR_TAIL:]}")
        replies = [reply_from_json(json.loads(line)) for line in finished.lines]
        if [reply.question for reply in replies] != list(questions):
            raise EvaluationError(
                f"parley ask gave {len(replies)} replies to {len(questions)} questions, "
                "or not in order"
            )
        return replies

    def _parley(
        self, arguments: list[str], *, stdin: str, env: dict[str, str], expected: int = 0
    ) -> Finished:
        """Run `parley`, reading its output line by line to log progress on long runs."""
        if not PARLEY.exists():
            raise EvaluationError(f"{PARLEY} not found: run `make install-dev` first")
        # stderr goes to a file: an unread pipe would fill up and stall the command.
        with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
            process = subprocess.Popen(
                [str(PARLEY), *arguments],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                encoding="utf-8",
                # In the temporary folder, so that an operator's .env cannot change the figures.
                cwd=self.folder,
                env=env,
            )
            # Written from a thread: thousands of questions overflow the pipe before any reply.
            feeder = threading.Thread(target=_feed, args=(process, stdin), daemon=True)
            feeder.start()
            lines = _read_lines(process, expected)
            feeder.join()
            returncode = process.wait()
            errors.seek(0)
            return Finished(returncode, lines, errors.read())


@dataclass(frozen=True)
class Finished:
    """What a finished `parley` command left: its status, its output lines, its stderr."""

    returncode: int
    lines: list[str]
    stderr: str


def _feed(process: subprocess.Popen[str], text: str) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(text)
        process.stdin.close()
    except BrokenPipeError:
        pass  # the command ended early; its status and stderr say why


def _read_lines(process: subprocess.Popen[str], expected: int) -> list[str]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if expected > PROGRESS_EVERY and len(lines) % PROGRESS_EVERY == 0:
            log.info("  %d of %d answered", len(lines), expected)
    return lines


@contextmanager
def fresh_archive() -> Iterator[Archive]:
    """An empty archive, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="parley-eval-") as folder:
        yield Archive(Path(folder))


def evaluate(dataset: Dataset, *, limit: int | None = None) -> DatasetResult:
    """Ingest the dataset into a fresh archive and score Parley and the baseline on it."""
    result = DatasetResult(dataset.name, records={"parley": [], "bm25": []})
    with fresh_archive() as archive:
        started = time.perf_counter()
        archive.ingest(dataset.articles)
        log.info("%s: ingested in %.0f s", dataset.name, time.perf_counter() - started)
        baseline = TopSentenceBaseline(stored_passages(archive.database_url))
        for fold, questions in by_fold(dataset.questions, limit).items():
            result.folds[fold or "none"] = _ask_fold(archive, fold, questions, result)
            result.records["bm25"] += [score(q, _baseline_reply(baseline, q)) for q in questions]
    return result


def _ask_fold(
    archive: Archive, fold: str | None, questions: list[Question], result: DatasetResult
) -> dict[str, Any]:
    """Ask one fold's questions with the model trained without them; record how."""
    weights = weights_file(fold) if fold else None
    if weights is not None and not weights.exists():
        log.warning(
            "%s fold %s: %s does not exist; answering with the default weights, so these "
            "figures are NOT held-out",
            result.name,
            fold,
            weights,
        )
        weights = None
    started = time.perf_counter()
    replies = archive.ask([question.text for question in questions], weights=weights)
    seconds = time.perf_counter() - started
    refuse = sum(not question.answerable for question in questions)
    log.info(
        "%s fold %s: %d answerable + %d refuse questions, answered in %.0f s",
        result.name,
        fold or "none",
        len(questions) - refuse,
        refuse,
        seconds,
    )
    result.records["parley"] += [score(q, r) for q, r in zip(questions, replies, strict=True)]
    return {
        "questions": len(questions),
        "refuse": refuse,
        "weights": str(weights) if weights else None,
        # Seed questions were never trained on: the default weights are held-out for them.
        "held_out": fold is None or weights is not None,
        "ask_seconds": round(seconds, 1),  # the whole `parley ask` run, model loading included
    }


def _baseline_reply(baseline: TopSentenceBaseline, question: Question) -> Reply:
    sentence, elapsed_ms = baseline.answer(question.text)
    return Reply(question=question.text, quoted=sentence, elapsed_ms=elapsed_ms)


def by_fold(questions: Sequence[Question], limit: int | None) -> dict[str | None, list[Question]]:
    """The questions grouped by fold, in order, at most `limit` of each."""
    groups: dict[str | None, list[Question]] = {}
    for question in questions:
        group = groups.setdefault(question.fold, [])
        if limit is None or len(group) < limit:
            group.append(question)
    return dict(sorted(groups.items(), key=lambda item: item[0] or ""))
