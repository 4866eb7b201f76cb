"""Fitting the answer model: a logistic regression over candidates, then the refusal threshold
and the companion ratio, chosen by replaying the real quote selection on training questions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from knowledge.answering import Evidence
from knowledge.evidence import FEATURES
from knowledge.quotes import choose
from knowledge.ranking import RankingModel
from knowledge.timing import about_now

# Replies must stay short (issue: at most 300 quoted characters on average on the news set,
# 250 on SQuAD); the fit keeps a margin below each so that held-out data stays inside.
LENGTH_BUDGETS = {"negotiations": 290.0, "squad": 246.0}
# Each dataset weighs this much in the fit, whatever its number of questions: the news set is
# small but it is what Parley is for. The questions asked of another subject's archive weighed
# a quarter until the token match (session 15), which finds more in such an archive: at a
# quarter it declined 84% of them held out, at a full weight 90% (SQuAD 0.821 → 0.815).
DATASET_WEIGHTS = {"negotiations": 1.0, "squad": 1.0, "elsewhere": 1.0, "withheld": 1.0}
# Questions asked of an archive that holds only other subjects, or its own subject without the
# answer (evaluation.corpora): the real datasets hardly show what a question the archive does
# not answer looks like, so the regression learns it from these; the refusal threshold and
# the quote ratios are still chosen on the real datasets alone. The withheld ones weigh a
# dataset like the rest (not tuned; at 2.0 the held-out figures were within a question).
REGRESSION_ONLY = frozenset({"elsewhere", "withheld"})
REGULARISATION = 1.0
# For a question about the present the newest candidate wins when at least this share as
# likely as the best: the share is fitted on the training questions about the present (a
# handful, all in the news set), the lowest of the equally good ones, since the newest report
# should win ties. Until session 16 the grid began at 0.3, which every fit chose; from 0.1,
# the folds' fits choose 0.1 ("Which city hosted the latest round…?" is answered from the
# newest report) and the shipped fit 0.3. With so few questions one of them can move a fit
# across the grid (session 18: fold b's went to 0.9 with one quote rule, 0.1 with the next).
PRESENT_RATIOS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# The companion ratios tried, the share of the best candidate's likelihood a second quote
# needs. The longest replies within the length budget win, so the step is fine: at steps of
# 0.1 a feature that lengthened the training replies by a few characters moved the ratio a
# whole step and SQuAD's held-out answer-in-reply by most of a point.
RATIOS = (*(round(0.2 + 0.025 * step, 3) for step in range(33)), 1.01)
# The refusal thresholds tried: none, and these quantiles of the best candidate's probability.
THRESHOLD_QUANTILES = np.linspace(0.01, 0.4, 25)


@dataclass(frozen=True)
class Sample:
    """One training question: its evidence and which candidates hold the answer."""

    fold: str | None
    answerable: bool
    evidence: Evidence
    labels: npt.NDArray[np.bool_]
    stale: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Outcome:
    """How a model's replies fare on a set of questions."""

    accuracy: float
    mean_chars: float
    stale: int


def fit(samples: Mapping[str, Sequence[Sample]], *, report: str) -> RankingModel:
    """The model fitted on the samples, its decisions chosen on them too."""
    model = _regression(samples)
    judged = {name: items for name, items in samples.items() if name not in REGRESSION_ONLY}
    model = _decisions(model, judged)
    model = _present_ratio(model, judged)
    for name, items in samples.items():
        outcome = evaluate(model, items)
        print(
            f"[{report}] {name}: training accuracy {outcome.accuracy:.3f}, "
            f"mean quoted {outcome.mean_chars:.0f} chars, stale {outcome.stale}"
        )
    return model


def _regression(samples: Mapping[str, Sequence[Sample]]) -> RankingModel:
    rows, labels, weights = [], [], []
    for name, items in samples.items():
        with_candidates = [s for s in items if len(s.evidence.candidates)]
        share = DATASET_WEIGHTS.get(name, 1.0) / max(1, len(with_candidates))
        for sample in with_candidates:
            rows.append(sample.evidence.features)
            labels.append(sample.labels)
            # Each question weighs the same however many candidates it has.
            weights.append(np.full(len(sample.labels), share / len(sample.labels)))
    matrix = np.vstack(rows).astype(np.float64)
    means = matrix.mean(axis=0)
    scales = matrix.std(axis=0)
    scales[scales < 1e-6] = 1.0
    regression = LogisticRegression(C=REGULARISATION, max_iter=5000)
    weight = np.concatenate(weights)
    weight *= len(weight) / weight.sum()  # mean weight 1, so the regularisation keeps its scale
    regression.fit((matrix - means) / scales, np.concatenate(labels), sample_weight=weight)
    return RankingModel(
        features=FEATURES,
        means=means,
        scales=scales,
        coefficients=regression.coef_[0].astype(np.float64),
        intercept=float(regression.intercept_[0]),
        min_probability=0.0,
        companion_ratio=1.01,
        present_ratio=PRESENT_RATIOS[-1],
    )


def _decisions(model: RankingModel, samples: Mapping[str, Sequence[Sample]]) -> RankingModel:
    """The refusal threshold and companion ratio that answer the training questions best
    while every dataset's replies stay within its length budget."""
    scored = {
        name: [(s, model.probabilities(s.evidence.features)) for s in items]
        for name, items in samples.items()
    }
    thresholds = _grid([p for items in scored.values() for _, p in items])
    best: tuple[float, RankingModel] | None = None
    for ratio in RATIOS:
        # The replies do not depend on the threshold, only which of them are declined.
        trial = replace(model, min_probability=0.0, companion_ratio=ratio)
        replies = {name: _replies(trial, items) for name, items in scored.items()}
        # The ratio keeps replies short, not the refusals: declining long replies would
        # meet the length budget by saying nothing, and push the threshold past its best.
        answered = {name: _outcome(found, 0.0) for name, found in replies.items()}
        if any(o.mean_chars > LENGTH_BUDGETS.get(n, 250.0) for n, o in answered.items()):
            continue
        for threshold in thresholds:
            outcomes = {name: _outcome(found, float(threshold)) for name, found in replies.items()}
            total = sum(DATASET_WEIGHTS.get(n, 1.0) * o.accuracy for n, o in outcomes.items())
            total -= 0.01 * sum(o.stale for o in outcomes.values())
            if best is None or total > best[0]:
                best = (total, replace(trial, min_probability=float(threshold)))
    return best[1] if best else replace(model, companion_ratio=1.01)


def threshold_grid(model: RankingModel, samples: Mapping[str, Sequence[Sample]]) -> list[float]:
    """The refusal thresholds `fit` chose the model's among, for the samples it was fitted on."""
    judged = [s for name, items in samples.items() if name not in REGRESSION_ONLY for s in items]
    return _grid([model.probabilities(s.evidence.features) for s in judged])


def _grid(probabilities: Sequence[npt.NDArray[np.float64]]) -> list[float]:
    best = np.array([float(p.max()) for p in probabilities if len(p)])
    return [0.0, *(float(t) for t in np.quantile(best, THRESHOLD_QUANTILES))]


def _present_ratio(model: RankingModel, samples: Mapping[str, Sequence[Sample]]) -> RankingModel:
    """The share of the best candidate's likelihood at which a newer report wins, for
    questions about the present: the lowest that answers the training ones best."""
    present = [s for items in samples.values() for s in items if about_now(s.evidence.facts)]
    if not present:
        return model
    trials = [replace(model, present_ratio=ratio) for ratio in PRESENT_RATIOS]
    scores = [_score(evaluate(trial, present)) for trial in trials]
    return trials[scores.index(max(scores))]  # the first best: the lowest ratio


def _score(outcome: Outcome) -> float:
    """Right replies, a stale one counting a little against."""
    return outcome.accuracy - 0.01 * outcome.stale


@dataclass(frozen=True)
class _Reply:
    """A replayed reply before the refusal decision: how likely its best quote was, and how
    it would fare if given."""

    best: float
    answerable: bool
    correct: bool
    chars: int
    stale: bool


def _replies(
    model: RankingModel, scored: Sequence[tuple[Sample, npt.NDArray[np.float64]]]
) -> list[_Reply]:
    found = []
    for sample, probabilities in scored:
        evidence = sample.evidence
        groups = choose(evidence.facts, evidence.candidates, probabilities, model)
        chosen = [index for group in groups for index in group]
        stale = bool(chosen) and bool(sample.stale[chosen].any())
        found.append(
            _Reply(
                best=float(probabilities.max()) if len(probabilities) else -1.0,
                answerable=sample.answerable,
                correct=bool(chosen) and bool(sample.labels[chosen].any()) and not stale,
                chars=sum(len(evidence.candidates[i].sentence) for i in chosen),
                stale=stale,
            )
        )
    return found


def _outcome(replies: Sequence[_Reply], threshold: float) -> Outcome:
    correct, chars, stale, answered = 0, 0, 0, 0
    for reply in replies:
        given = reply.chars > 0 and reply.best >= threshold
        if given:
            answered += 1
            chars += reply.chars
            stale += int(reply.stale)
        correct += int(given and reply.correct) if reply.answerable else int(not given)
    return Outcome(
        accuracy=correct / max(1, len(replies)),
        mean_chars=chars / max(1, answered),
        stale=stale,
    )


def evaluate(model: RankingModel, samples: Sequence[Sample]) -> Outcome:
    """Replay the real quote selection on the samples."""
    return _replay(model, [(s, model.probabilities(s.evidence.features)) for s in samples])


def _replay(
    model: RankingModel, scored: Sequence[tuple[Sample, npt.NDArray[np.float64]]]
) -> Outcome:
    correct, chars, stale, answered = 0, 0, 0, 0
    for sample, probabilities in scored:
        evidence = sample.evidence
        groups = choose(evidence.facts, evidence.candidates, probabilities, model)
        chosen = [index for group in groups for index in group]
        if chosen:
            answered += 1
            chars += sum(len(evidence.candidates[i].sentence) for i in chosen)
            stale += int(any(sample.stale[i] for i in chosen))
        if sample.answerable:
            correct += int(any(sample.labels[i] for i in chosen) and not sample.stale[chosen].any())
        else:
            correct += int(not chosen)
    return Outcome(
        accuracy=correct / max(1, len(scored)),
        mean_chars=chars / max(1, answered),
        stale=stale,
    )
