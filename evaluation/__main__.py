"""`python -m evaluation` (`make eval`): ask each dataset's questions through `parley`, score
Parley and a BM25 baseline, print a table per dataset, write evaluation/results/latest.json."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.machine import code_revision
from evaluation import folds, report, topics
from evaluation.runner import Dataset, EvaluationError, evaluate

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ("negotiations", "squad", "seed", "topics")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
METHOD = {
    "archive": "Each dataset is ingested into a fresh, empty archive by `parley ingest` and asked "
    "by `parley ask --json` (one run per fold, over the same archive), as subprocesses.",
    "folds": "Fold a is answered with evaluation/weights/fold-a.json (trained on fold b only), "
    "fold b with fold-b.json; seed questions are never trained on and use the default weights.",
    "correct": "An answerable question is correct when any expected span occurs in the quoted "
    "text (every source's quote, joined); a refuse or is_impossible question when the reply "
    "declines (no sources). Text is HTML-unescaped, typographic quotes and dashes made ASCII, "
    "case-folded and whitespace-collapsed first.",
    "stale": "A time question's reply is stale when it quotes one of the superseded answers.",
    "squad": "SQuAD: each paragraph is one article titled '<article> — paragraph <n>'; every "
    "question is asked against the whole archive; answerable ones count as kind 'fact'.",
    "baseline": "BM25 baseline: Okapi BM25 (k1=1.2, b=0.75, rank_bm25) over every distinct "
    "sentence of the stored passages, tokenised by knowledge.terms.content_terms; it quotes "
    "the top sentence and declines only when no sentence shares a term with the question.",
    "topics": "Topic matching: each (topic, article) pair of evaluation/topics/labels.json is "
    "matched or not by each system, against the hand labels. Articles are ingested in-process "
    "with the real model; thresholds are tuned on the 'tune' half of the articles only.",
    "latency": "Parley's latency is the elapsed_ms that `ask --json` reports per question "
    "(null when it does not); the baseline's is its in-process scoring time.",
}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__)
    parser.add_argument(
        "--only", action="append", choices=DATASETS, help="a dataset to run (repeatable)"
    )
    parser.add_argument("--limit", type=int, help="the first N questions of each fold only")
    parser.add_argument("--data", type=Path, default=folds.DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen datasets, print their tables, write the JSON."""
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    began = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": code_revision(),
        "options": {"only": args.only or list(DATASETS), "limit": args.limit},
        "method": METHOD,
        "datasets": {},
    }
    console = Console(width=160)
    try:
        with ExitStack() as cleanup:
            for name in args.only or DATASETS:
                if name == "topics":
                    results["datasets"][name] = topics.evaluate_topics(args.data)
                    report.print_topics(console, results["datasets"][name])
                    continue
                dataset = build_dataset(name, args.data, cleanup)
                outcome = evaluate(dataset, limit=args.limit)
                results["datasets"][name] = report.dataset_json(outcome)
                report.print_dataset(console, outcome)
    except (EvaluationError, OSError) as error:
        print(f"evaluation: {error}", file=sys.stderr)
        return 1
    results["seconds"] = round(time.perf_counter() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8")
    console.print(f"Finished in {results['seconds']:.0f} s; every record is in {args.out}")
    return 0


def build_dataset(name: str, data_dir: Path, cleanup: ExitStack) -> Dataset:
    """The named dataset's questions and article paths; SQuAD's articles are written first."""
    if name == "negotiations":
        questions = folds.negotiation_questions(data_dir)
        return Dataset(name, questions, folds.negotiation_articles(data_dir))
    if name == "squad":
        folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="parley-squad-")))
        folds.write_squad_paragraphs(folder, data_dir)
        return Dataset(name, folds.squad_questions(data_dir), [folder])
    return Dataset(name, folds.seed_questions(), [folds.SEEDS])


if __name__ == "__main__":
    sys.exit(main())
