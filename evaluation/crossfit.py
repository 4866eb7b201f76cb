"""`python -m evaluation.crossfit`: held-out figures in seconds, from the evidence `make train`
gathered (evaluation/results/train-evidence.pkl), for trying answering ideas before `make eval`.

Each fold is answered by a model fitted without it, exactly as `make train` fits the fold
files, and the real quote selection is replayed on the cached candidates. The figures are
close to `make eval`'s but not the same: a candidate holds an answer when the span is inside
that one sentence, and the candidates are those gathered when the cache was written.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import pickle
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from evaluation import folds
from evaluation.tuning import Sample, fit, threshold_grid
from knowledge.evidence import feature_matrix
from knowledge.questions import analyse
from knowledge.quotes import choose
from knowledge.ranking import RankingModel

# Each fold's model, fitted without it, and the refusal thresholds it was chosen among.
FoldModels = dict[str, tuple[RankingModel, list[float]]]
CACHE = folds.TRAIN_EVIDENCE
SEED_CACHE = folds.SEED_EVIDENCE


@dataclass(frozen=True)
class Verdict:
    """One held-out question's outcome."""

    dataset: str
    fold: str | None
    kind: str
    question: str
    correct: bool
    stale: bool
    declined: bool
    chars: int
    quoted: str


def load_samples() -> dict[str, list[Sample]]:
    """The cached evidence with its features computed by the current code."""
    cached: dict[str, list[Sample]] = pickle.loads(CACHE.read_bytes())
    return {name: [refresh(sample) for sample in items] for name, items in cached.items()}


def refresh(sample: Sample) -> Sample:
    """The sample's features (and question facts) recomputed by the current code."""
    old = sample.evidence
    facts = analyse(old.facts.text)
    features = feature_matrix(facts, old.weights, old.candidates)
    return replace(sample, evidence=replace(old, facts=facts, features=features))


def seed_samples() -> list[Sample]:
    """Evidence for the seed questions over the seed article alone, gathered once."""
    if not SEED_CACHE.exists():
        from evaluation.corpora import Corpus
        from evaluation.train import gather  # the real services: loaded only here

        with tempfile.TemporaryDirectory(prefix="parley-seed-") as scratch:
            corpus = Corpus("seed", folds.seed_questions(), [folds.SEEDS])
            SEED_CACHE.write_bytes(pickle.dumps(gather(corpus, Path(scratch))))
    return [refresh(sample) for sample in pickle.loads(SEED_CACHE.read_bytes())]


def seed_verdicts(samples: Mapping[str, Sequence[Sample]], seed: Sequence[Sample]) -> list[Verdict]:
    """The seed questions (never trained on) answered by the model fitted on everything."""
    with contextlib.redirect_stdout(io.StringIO()):
        model = fit(samples, report="all")
    return [judge("seed", sample, model, {}) for sample in seed]


def fold_models(samples: Mapping[str, Sequence[Sample]]) -> FoldModels:
    """Each fold's model, fitted without it, with the thresholds its refusal was chosen among."""
    models: FoldModels = {}
    for fold in folds.FOLDS:
        training = {name: [s for s in items if s.fold != fold] for name, items in samples.items()}
        with contextlib.redirect_stdout(io.StringIO()):
            model = fit(training, report=f"without fold {fold}")
        models[fold] = (model, threshold_grid(model, training))
    return models


def held_out(
    samples: Mapping[str, Sequence[Sample]], models: FoldModels | None = None, shift: int = 0
) -> list[Verdict]:
    """Every question answered by the model fitted without its fold; `shift` moves each fold's
    refusal threshold that many points along the grid the fit chose it from."""
    kinds = {q.text: q.kind for q in folds.negotiation_questions()}
    verdicts: list[Verdict] = []
    for fold, (model, grid) in (models or fold_models(samples)).items():
        moved = shifted(model, grid, shift)
        for name, items in samples.items():
            for sample in items:
                if sample.fold == fold:
                    verdicts.append(judge(name, sample, moved, kinds))
    return verdicts


def shifted(model: RankingModel, grid: Sequence[float], steps: int) -> RankingModel:
    """The model with its refusal threshold moved `steps` points along the grid (kept at its
    ends): neighbouring points fit the training questions about as well, so the figures they
    give are the fit's own margin of error."""
    if not steps:
        return model
    index = min(range(len(grid)), key=lambda i: abs(grid[i] - model.min_probability))
    moved = min(max(index + steps, 0), len(grid) - 1)
    return replace(model, min_probability=grid[moved])


def judge(name: str, sample: Sample, model: RankingModel, kinds: Mapping[str, str]) -> Verdict:
    """Replay the quote selection on one question."""
    evidence = sample.evidence
    probabilities = model.probabilities(evidence.features)
    groups = choose(evidence.facts, evidence.candidates, probabilities, model)
    chosen = [index for group in groups for index in group]
    stale = bool(chosen) and bool(sample.stale[chosen].any())
    if sample.answerable:
        correct = bool(chosen) and bool(sample.labels[chosen].any()) and not stale
    else:
        correct = not chosen
    text = evidence.facts.text
    kind = kinds.get(text, "fact") if sample.answerable else "refuse"
    quoted = " | ".join(evidence.candidates[i].sentence for i in chosen)
    return Verdict(
        name,
        sample.fold,
        kind,
        text,
        correct,
        stale,
        not chosen,
        sum(len(evidence.candidates[i].sentence) for i in chosen),
        quoted,
    )


def summary(verdicts: Sequence[Verdict]) -> str:
    """One line of figures."""

    def share(kind: str | None) -> str:
        chosen = [v for v in verdicts if kind is None or v.kind == kind]
        if not chosen:
            return "-"
        return f"{sum(v.correct for v in chosen)}/{len(chosen)}"

    answered = [v.chars for v in verdicts if not v.declined]
    answerable = [v for v in verdicts if v.kind != "refuse"]
    found = sum(v.correct for v in answerable) / max(1, len(answerable))
    return (
        f"all {sum(v.correct for v in verdicts) / max(1, len(verdicts)):.3f} "
        f"({share(None)}) fact {share('fact')} number {share('number')} time {share('time')} "
        f"refuse {share('refuse')} wrongly declined "
        f"{sum(v.declined for v in answerable)}/{len(answerable)} answer-in-reply {found:.3f} "
        f"stale {sum(v.stale for v in verdicts)} chars {np.mean(answered) if answered else 0:.0f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the held-out figures per dataset and fold; --show lists the news misses."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.crossfit", description=__doc__)
    parser.add_argument("--show", action="store_true", help="print every news question's reply")
    parser.add_argument("--seed", action="store_true", help="the seed questions too")
    parser.add_argument(
        "--band",
        action="store_true",
        help="also the figures with each fold's refusal threshold one grid point lower and higher",
    )
    args = parser.parse_args(argv)
    samples = load_samples()
    models = fold_models(samples)
    verdicts = held_out(samples, models)
    if args.seed:
        verdicts += seed_verdicts(samples, seed_samples())
    for name in sorted({v.dataset for v in verdicts}):
        mine = [v for v in verdicts if v.dataset == name]
        print(f"{name:13} all  {summary(mine)}")
        for fold in sorted({v.fold for v in mine if v.fold}):
            print(f"{name:13} {fold}    {summary([v for v in mine if v.fold == fold])}")
    if args.band:
        for shift in (-1, 1):
            moved = held_out(samples, models, shift)
            for name in sorted({v.dataset for v in moved}):
                mine = [v for v in moved if v.dataset == name]
                print(f"{name:13} threshold {shift:+d}: {summary(mine)}")
    if args.show:
        for verdict in verdicts:
            if verdict.dataset != "squad":
                mark = "OK " if verdict.correct else ("ST " if verdict.stale else "-- ")
                print(f"{mark}{verdict.kind:6} {verdict.question}\n      {verdict.quoted[:300]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
