"""Fitting the answer model (`make train`): questions asked of an archive about something else
teach it to decline what the archive never covered, without costing the real questions."""

from __future__ import annotations

import contextlib
import io
from dataclasses import replace

import numpy as np
import pytest

from evaluation.crossfit import shifted
from evaluation.tuning import DATASET_WEIGHTS, Sample, evaluate, fit, threshold_grid
from knowledge.answering import Evidence
from knowledge.evidence import FEATURES
from knowledge.questions import analyse
from knowledge.ranking import RankingModel, untrained_model
from tests.support.candidates import candidate


def _question(strength: float, *, answerable: bool, names_nowhere: float) -> Sample:
    """Two candidates; the first, the closer in meaning, holds the answer when answerable."""
    candidates = [
        candidate("Medinsky leads the delegation.", article=1),
        candidate("The talks began in Istanbul.", article=2),
    ]
    features = np.zeros((2, len(FEATURES)), dtype=np.float32)
    features[:, FEATURES.index("meaning")] = [strength, strength - 0.4]
    features[:, FEATURES.index("names_nowhere")] = names_nowhere
    evidence = Evidence(analyse("Who leads the delegation?"), {}, candidates, features)
    return Sample(
        fold="a",
        answerable=answerable,
        evidence=evidence,
        labels=np.array([answerable, False]),
        stale=np.zeros(2, dtype=bool),
    )


def _fitted(samples: dict[str, list[Sample]]) -> RankingModel:
    with contextlib.redirect_stdout(io.StringIO()):
        return fit(samples, report="test")


def test_off_archive_questions_are_declined_and_the_real_ones_still_answered() -> None:
    strengths = np.linspace(0.3, 0.9, 20)
    real = [_question(s, answerable=True, names_nowhere=0.0) for s in strengths]
    # A few real questions nobody answered, far in meaning, so that declining has a threshold.
    real += [_question(s, answerable=False, names_nowhere=0.0) for s in strengths[:6] - 0.7]
    # Asked of an archive that never names what they ask about: as close in meaning, but
    # their names are in no candidate's article.
    elsewhere = [_question(s, answerable=False, names_nowhere=1.0) for s in strengths]

    with_them = _fitted({"negotiations": real, "elsewhere": elsewhere})
    without_them = _fitted({"negotiations": real})

    # The real questions are all answered or declined as before...
    assert evaluate(with_them, real).accuracy == 1.0
    assert evaluate(without_them, real).accuracy == 1.0
    # ...and half the uncovered ones are declined (at a quarter of a dataset's weight), where
    # without them nothing shows the model what an uncovered question looks like.
    assert evaluate(with_them, elsewhere).accuracy >= 0.5
    assert evaluate(without_them, elsewhere).accuracy == 0.0


# Questions of an archive on another subject, and of one without the file that answers them.
@pytest.mark.parametrize("kind", ["elsewhere", "withheld"])
def test_off_archive_questions_do_not_choose_when_to_decline(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    strengths = np.linspace(0.3, 0.9, 20)
    real = [_question(s, answerable=True, names_nowhere=0.0) for s in strengths]
    real += [_question(s, answerable=False, names_nowhere=0.0) for s in strengths[:6] - 0.7]
    # Unanswered questions no feature tells from answered ones, weighing ten datasets: were
    # they to choose the threshold, declining everything would score best.
    lookalikes = [_question(s, answerable=False, names_nowhere=0.0) for s in strengths]
    monkeypatch.setitem(DATASET_WEIGHTS, kind, 10.0)

    model = _fitted({"negotiations": real, kind: lookalikes})

    assert evaluate(model, real).accuracy == 1.0


def test_the_refusal_threshold_is_one_of_the_grid_points_the_fit_reports() -> None:
    strengths = np.linspace(0.3, 0.9, 20)
    real = [_question(s, answerable=True, names_nowhere=0.0) for s in strengths]
    real += [_question(s, answerable=False, names_nowhere=0.0) for s in strengths[:6] - 0.7]
    samples = {"negotiations": real}

    model = _fitted(samples)
    grid = threshold_grid(model, samples)

    # `python -m evaluation.crossfit --band` moves the threshold to its neighbours on this grid.
    assert model.min_probability in grid
    index = grid.index(model.min_probability)
    assert shifted(model, grid, 1).min_probability == grid[min(index + 1, len(grid) - 1)]
    assert shifted(model, grid, -1).min_probability == grid[max(index - 1, 0)]


def test_a_shifted_threshold_stays_on_the_grid() -> None:
    model = replace(untrained_model(), min_probability=0.1)
    grid = [0.0, 0.1, 0.2]
    assert shifted(model, grid, -1).min_probability == 0.0
    assert shifted(model, grid, 5).min_probability == 0.2
    assert shifted(model, grid, 0) is model
