"""Scoring replies: is the expected span in the quoted text, was a stale answer quoted, was the
question declined when it should be. Every system (Parley, the baseline) is scored alike."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluation.folds import Question

# Articles and datasets disagree on typography ("Iran’s" vs "Iran's"); the meaning does not.
TYPOGRAPHY = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "\u00a0": " ",
        "…": "...",
    }
)
WHITESPACE = re.compile(r"\s+")
ANSWERED_KINDS = ("fact", "number", "time")


def normalise(text: str) -> str:
    """Text as compared: entities unescaped, ASCII quotes and dashes, case-folded, one space."""
    text = html.unescape(text).translate(TYPOGRAPHY).casefold()
    return WHITESPACE.sub(" ", text).strip()


def contains_any(text: str, spans: Iterable[str]) -> bool:
    """Whether any of the spans occurs in the text, both normalised."""
    haystack = normalise(text)
    return any(needle and needle in haystack for needle in map(normalise, spans))


@dataclass(frozen=True)
class Reply:
    """What a system said to one question: the quoted text and its citations."""

    question: str
    quoted: str  # empty when the system declined
    citations: list[dict[str, Any]] = field(default_factory=list)  # url and date of each
    elapsed_ms: float | None = None
    as_of: str | None = None

    @property
    def declined(self) -> bool:
        """A reply without a quote: the system said the question is not covered."""
        return not self.quoted


def reply_from_json(line: dict[str, Any]) -> Reply:
    """One `parley ask --json` object as a Reply."""
    sources: list[dict[str, Any]] = line.get("sources") or []
    elapsed = line.get("elapsed_ms")
    return Reply(
        question=line["question"],
        quoted=quoted_text(line["answer"], sources),
        citations=[{"url": source.get("url"), "date": source.get("date")} for source in sources],
        elapsed_ms=float(elapsed) if elapsed is not None else None,
        as_of=line.get("as_of"),
    )


def quoted_text(answer: str, sources: Sequence[dict[str, Any]]) -> str:
    """What a reply quotes: every source's quote, joined; nothing when it declined."""
    if not sources:
        return ""
    quotes = [source.get("quote") for source in sources]
    if all(isinstance(quote, str) for quote in quotes):
        return " ".join(str(quote) for quote in quotes)
    # Temporary, until `ask --json` carries each source's quote: the reply text without its
    # citation lines ("— title, source, date, url"), whose titles would otherwise match spans.
    return "\n".join(line for line in answer.splitlines() if not line.startswith("— "))


@dataclass(frozen=True)
class Record:
    """One question's outcome for one system, kept in the results for inspection."""

    question: str
    fold: str | None
    kind: str
    correct: bool
    stale: bool
    declined: bool
    quoted: str
    expected: list[str]
    citations: list[dict[str, Any]]
    elapsed_ms: float | None
    as_of: str | None


def score(question: Question, reply: Reply) -> Record:
    """Judge one reply against its question."""
    if question.answerable:
        correct = not reply.declined and contains_any(reply.quoted, question.spans)
    else:
        correct = reply.declined
    stale = question.kind == "time" and contains_any(reply.quoted, question.stale)
    return Record(
        question=question.text,
        fold=question.fold,
        kind=question.kind,
        correct=correct,
        stale=stale,
        declined=reply.declined,
        quoted=reply.quoted,
        expected=list(question.spans),
        citations=reply.citations,
        elapsed_ms=reply.elapsed_ms,
        as_of=reply.as_of,
    )


def summarise(records: Sequence[Record]) -> dict[str, Any]:
    """The figures of one table row: accuracy by kind, refusals, stale replies, length, latency."""
    answerable = [r for r in records if r.kind != "refuse"]
    refuse = [r for r in records if r.kind == "refuse"]
    time_kind = [r for r in records if r.kind == "time"]
    quoted = [len(r.quoted) for r in records if not r.declined]
    latencies = [r.elapsed_ms for r in records if r.elapsed_ms is not None]
    return {
        "questions": len(records),
        "accuracy": _share(records),
        **{kind: _share([r for r in records if r.kind == kind]) for kind in ANSWERED_KINDS},
        "refuse_declined": sum(r.declined for r in refuse),
        "refuse_total": len(refuse),
        "wrongly_declined": sum(r.declined for r in answerable),
        "answerable_total": len(answerable),
        "stale": sum(r.stale for r in time_kind),
        "time_total": len(time_kind),
        "mean_quoted_chars": sum(quoted) / len(quoted) if quoted else None,
        # Latency only when every reply was timed, so a partial figure never passes for whole.
        "p50_ms": percentile(latencies, 50) if len(latencies) == len(records) else None,
        "p95_ms": percentile(latencies, 95) if len(latencies) == len(records) else None,
    }


def _share(records: Sequence[Record]) -> float | None:
    return sum(r.correct for r in records) / len(records) if records else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
