"""`make train`: fit the answer-ranking model and its two decisions, reproducibly.

Each dataset is ingested into a fresh archive through the same code as `parley ingest`, its
questions are read by the real answerer, and every candidate sentence is labelled by whether
it holds an expected answer span. A logistic regression over the evidence features is fitted,
then the refusal threshold and the companion ratio are chosen on the same training questions.
The regression also sees questions no reply should answer from what it finds, which the
datasets hardly show (evaluation.corpora): each fold's questions asked of an archive holding
only the other fold's articles, and each fold's questions asked of an archive of their own
subject without the file that answers them.
Three weight files come out: one per fold, fitted without that fold's questions (the eval
answers each fold with its own file, so every reported figure is held-out), and the shipped
one, fitted on everything.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evaluation import folds
from evaluation.corpora import DATASETS, Corpus, datasets
from evaluation.scoring import contains_any
from evaluation.tuning import Sample, fit
from knowledge.answering import Evidence
from knowledge.evidence import feature_matrix
from knowledge.questions import analyse
from knowledge.ranking import DEFAULT_WEIGHTS, RankingModel, untrained_model
from parley.services import Services, build_services
from parley.settings import Settings

CACHE = folds.TRAIN_EVIDENCE
BATCH = 32


def main(argv: Sequence[str] | None = None) -> int:
    """Gather evidence (or reuse it with --reuse), fit, write the three weight files."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.train", description=__doc__)
    parser.add_argument("--data", type=Path, default=folds.DEFAULT_DATA)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the evidence gathered last; gather only datasets it lacks",
    )
    args = parser.parse_args(argv)
    cached = _cached() if args.reuse and CACHE.exists() else {}
    missing = [name for name in DATASETS if name not in cached]
    if missing:
        cached.update(gather_all(args.data, only=missing))
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(pickle.dumps(cached))
        # Gathered by older code: evaluation.crossfit gathers the seed evidence again.
        folds.SEED_EVIDENCE.unlink(missing_ok=True)
    samples = {name: [_refresh(s) for s in items] for name, items in cached.items()}
    for fold in folds.FOLDS:
        training = {name: [s for s in items if s.fold != fold] for name, items in samples.items()}
        _write(fit(training, report=f"without fold {fold}"), folds.weights_file(fold))
    _write(fit(samples, report="all questions (shipped)"), DEFAULT_WEIGHTS)
    return 0


def _cached() -> dict[str, list[Sample]]:
    cached: dict[str, list[Sample]] = pickle.loads(CACHE.read_bytes())
    return cached


def _refresh(sample: Sample) -> Sample:
    """The sample with its features computed again by the current code: the costly part of
    the evidence (retrieval and the model's embeddings) is reused, the features are not."""
    old = sample.evidence
    facts = analyse(old.facts.text)
    features = feature_matrix(facts, old.weights, old.candidates)
    return replace(sample, evidence=replace(old, facts=facts, features=features))


def gather_all(data_dir: Path, only: Sequence[str] = DATASETS) -> dict[str, list[Sample]]:
    """Evidence for every question of the datasets, each corpus over its own fresh archive."""
    with tempfile.TemporaryDirectory(prefix="parley-train-") as scratch:
        root = Path(scratch)
        squad_paths = folds.write_squad_paragraphs(root / "squad-files", data_dir)
        corpora = datasets(data_dir, squad_paths)
        return {
            name: [
                sample for corpus in corpora[name] for sample in gather(corpus, root / corpus.name)
            ]
            for name in only
        }


def gather(corpus: Corpus, folder: Path) -> list[Sample]:
    """Ingest the corpus and read every question's candidates."""
    with _archive(folder) as services:
        plans, problems = services.ingestor.plan_files([str(path) for path in corpus.paths])
        if problems:
            print(f"{corpus.name}: {len(problems)} files not ingested, e.g. {problems[0]}")
        services.ingestor.store(plans)
        samples = []
        for start in range(0, len(corpus.questions), BATCH):
            batch = corpus.questions[start : start + BATCH]
            evidence = services.answerer.gather([question.text for question in batch])
            samples += [_sample(q, e, corpus) for q, e in zip(batch, evidence, strict=True)]
        print(f"{corpus.name}: evidence for {len(samples)} questions")
        return samples


def _sample(question: folds.Question, evidence: Evidence, corpus: Corpus) -> Sample:
    labels = _labels(evidence, question.spans)
    found = bool(labels.any()) or not corpus.answered_by_spans
    return Sample(
        fold=question.fold,
        answerable=question.answerable and found,
        evidence=evidence,
        labels=labels,
        stale=_labels(evidence, question.stale),
    )


def _labels(evidence: Evidence, spans: Sequence[str]) -> npt.NDArray[np.bool_]:
    if not spans:
        return np.zeros(len(evidence.candidates), dtype=bool)
    return np.array([contains_any(c.sentence, spans) for c in evidence.candidates], dtype=bool)


@contextmanager
def _archive(folder: Path) -> Iterator[Services]:
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "no-seeds"
    empty.mkdir()
    # Gathering evidence weighs nothing, and the shipped weights may be for the features
    # before a change: the hand-set ones fit whatever FEATURES now holds.
    weights = folder / "untrained.json"
    weights.write_text(json.dumps(untrained_model().as_json()), encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'train.db'}",
        seeds_dir=str(empty),
        answer_weights=str(weights),
    )
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()


def _write(model: RankingModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.as_json(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
