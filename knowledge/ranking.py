"""The fitted model that picks quotes: a logistic regression over the evidence features,
and the two decisions fitted with it (when to decline, when to show more than one quote).

The weights are plain JSON written by `make train` (evaluation/train.py), so answering needs
numpy only and the committed file can be read and reviewed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.evidence import FEATURES
from storage.vectors import Matrix

DEFAULT_WEIGHTS = Path(__file__).with_name("ranking_weights.json")
# Evidence that rules a candidate out whatever else it shares with the question: a sentence
# on "the Russian delegation" does not answer a question on "the U.S. delegation". Too rare
# in the development sets (a few dozen candidates) for the regression to weigh it.
VETOES = ("owner_conflict",)


class RankingModelError(Exception):
    """A weights file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class RankingModel:
    """Scores candidates and holds the fitted answer decisions."""

    features: tuple[str, ...]
    means: npt.NDArray[np.float64]
    scales: npt.NDArray[np.float64]
    coefficients: npt.NDArray[np.float64]
    intercept: float
    # Below this probability the best candidate is not evidence enough: decline.
    min_probability: float
    # Further quotes join the best one when their probability is at least this share of it.
    companion_ratio: float
    # For questions about the present, the newest candidate at least this share as likely wins.
    present_ratio: float

    def probabilities(self, matrix: Matrix) -> npt.NDArray[np.float64]:
        """The probability that each candidate holds the answer."""
        if matrix.shape[0] == 0:
            return np.zeros(0)
        standard = (matrix.astype(np.float64) - self.means) / self.scales
        logits = standard @ self.coefficients + self.intercept
        probabilities = np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)
        for name in VETOES:
            if name in self.features:
                probabilities[matrix[:, self.features.index(name)] > 0.5] = 0.0
        return probabilities

    def as_json(self) -> dict[str, object]:
        """The weights as the file stores them."""
        return {
            "features": list(self.features),
            "means": self.means.tolist(),
            "scales": self.scales.tolist(),
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
            "min_probability": self.min_probability,
            "companion_ratio": self.companion_ratio,
            "present_ratio": self.present_ratio,
        }


def load_ranking_model(path: Path | None = None) -> RankingModel:
    """The weights in the file, checked against the features this code computes."""
    if path is None and not DEFAULT_WEIGHTS.exists():
        return untrained_model()  # only before the first `make train`
    location = path or DEFAULT_WEIGHTS
    try:
        data = json.loads(location.read_text(encoding="utf-8"))
    except OSError as error:
        raise RankingModelError(f"cannot read the answer weights {location}: {error}") from None
    except json.JSONDecodeError as error:
        raise RankingModelError(f"the answer weights {location} are not JSON: {error}") from None
    return ranking_model_from(data, location=str(location))


def ranking_model_from(data: object, *, location: str = "weights") -> RankingModel:
    """A model from its JSON form, refusing weights fitted for other features."""
    if not isinstance(data, dict):
        raise RankingModelError(f"{location}: expected a JSON object")
    if tuple(data.get("features", ())) != FEATURES:
        raise RankingModelError(
            f"{location} was fitted for other evidence features; run `make train` to refit it"
        )
    try:
        model = RankingModel(
            features=FEATURES,
            means=np.asarray(data["means"], dtype=np.float64),
            scales=np.asarray(data["scales"], dtype=np.float64),
            coefficients=np.asarray(data["coefficients"], dtype=np.float64),
            intercept=float(data["intercept"]),
            min_probability=float(data["min_probability"]),
            companion_ratio=float(data["companion_ratio"]),
            present_ratio=float(data["present_ratio"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RankingModelError(f"{location}: missing or malformed field {error}") from None
    shapes = {model.means.shape, model.scales.shape, model.coefficients.shape}
    if shapes != {(len(FEATURES),)} or not np.all(model.scales > 0):
        raise RankingModelError(f"{location}: weights do not match {len(FEATURES)} features")
    return model


def untrained_model() -> RankingModel:
    """Hand-set weights used only to gather the first training data: meaning and words."""
    coefficients = np.zeros(len(FEATURES))
    for name, weight in (("meaning", 1.0), ("terms", 0.8), ("passage_terms", 0.2)):
        coefficients[FEATURES.index(name)] = weight
    return RankingModel(
        features=FEATURES,
        means=np.zeros(len(FEATURES)),
        scales=np.ones(len(FEATURES)),
        coefficients=coefficients,
        intercept=-1.0,
        min_probability=0.0,
        companion_ratio=1.0,
        present_ratio=1.0,
    )
