"""The evaluation's tables on the terminal and its figures as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from evaluation.runner import DatasetResult
from evaluation.scoring import summarise

SYSTEMS = {"parley": "Parley", "bm25": "BM25 baseline"}
COLUMNS = (
    "fold",
    "system",
    "n",
    "overall",
    "fact",
    "number",
    "time",
    "refuse declined",
    "wrongly declined",
    "stale",
    "quoted chars",
    "p50 ms",
    "p95 ms",
)


def summaries(result: DatasetResult) -> dict[str, dict[str, dict[str, Any]]]:
    """Per system, the figures over all questions ("all") and over each fold."""
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    for system, records in result.records.items():
        folds = sorted({record.fold for record in records if record.fold is not None})
        figures[system] = {"all": summarise(records)}
        if len(folds) > 1:  # one fold only would repeat the "all" row
            for fold in folds:
                figures[system][fold] = summarise([r for r in records if r.fold == fold])
    return figures


def dataset_json(result: DatasetResult) -> dict[str, Any]:
    """Everything about one dataset: how each fold was asked, the figures, every record."""
    return {
        "folds": result.folds,
        "summary": summaries(result),
        "records": {
            system: [asdict(record) for record in records]
            for system, records in result.records.items()
        },
    }


def print_dataset(console: Console, result: DatasetResult) -> None:
    """One table: Parley and the baseline, over all questions and per fold."""
    table = Table(title=f"{result.name}: {_held_out_note(result)}", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("fold", "system") else "right")
    figures = summaries(result)
    for part in figures["parley"]:
        for system, label in SYSTEMS.items():
            if part in figures.get(system, {}):
                table.add_row(part, label, *_cells(figures[system][part]))
    console.print(table)


def _held_out_note(result: DatasetResult) -> str:
    missing = [fold for fold, info in result.folds.items() if not info["held_out"]]
    if not missing:
        return "held-out figures"
    return f"NOT held-out (no trained weights for fold {', '.join(missing)})"


def _cells(figures: dict[str, Any]) -> list[str]:
    return [
        str(figures["questions"]),
        _percent(figures["accuracy"]),
        _percent(figures["fact"]),
        _percent(figures["number"]),
        _percent(figures["time"]),
        f"{figures['refuse_declined']}/{figures['refuse_total']}",
        f"{figures['wrongly_declined']}/{figures['answerable_total']}",
        f"{figures['stale']}/{figures['time_total']}",
        _number(figures["mean_quoted_chars"]),
        _number(figures["p50_ms"]),
        _number(figures["p95_ms"]),
    ]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def print_topics(console: Console, result: dict[str, Any]) -> None:
    """Topic matching: precision, recall and F1 per system, on each half of the labels."""
    table = Table(
        title=(
            f"topics: {result['topics']} topics × {result['articles']} articles; thresholds "
            "tuned on the tune half, 'report' is held out"
        ),
        title_justify="left",
    )
    for column in ("system", "half", "pairs", "about", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column in ("system", "half") else "right")
    for system, halves in result["systems"].items():
        for half in ("report", "tune", "all"):
            figures = halves[half]
            table.add_row(
                system,
                half,
                str(result["pairs"][half]),
                str(result["positives"][half]),
                _percent(figures["precision"]),
                _percent(figures["recall"]),
                _percent(figures["f1"]),
            )
    console.print(table)
