"""Whether to answer at all: a second small model, over the question's candidates as a whole,
that says how likely the best quotes are to hold the answer.

The probability of the best candidate alone does not decide well: an on-topic question that
no article answers ("Which hotel did the delegation stay at?") still finds a sentence sharing
most of its words. What gives it away is what the best candidates lack (a place for "where",
a figure for "how many", the month the question names) and how far they stand above the rest;
those are relative to the question's own candidates, so the decision holds as the archive grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.evidence import FEATURES
from storage.vectors import Matrix

CONFIDENCE_FEATURES = (
    "best_logit",
    "best_gap",
    "typed_missing",
    "best_meaning",
    "names_nowhere",
    "best_names_missing",
)
# The best few candidates: a reply quotes up to three, so what they hold together counts.
TOP = 3
_COLUMN = {name: index for index, name in enumerate(FEATURES)}


def question_features(
    features: Matrix, probabilities: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """One row of CONFIDENCE_FEATURES for a question with at least one candidate."""
    order = np.argsort(-probabilities, kind="stable")
    top = features[order[:TOP]].astype(np.float64)
    best = top[0]
    clipped = np.clip(probabilities[order[:2]], 1e-6, 1 - 1e-6)
    logits = np.log(clipped / (1 - clipped))
    typed = float(best[_COLUMN["typed"]])
    values = {
        "best_logit": float(logits[0]),
        "best_gap": float(logits[0] - logits[1]) if len(logits) > 1 else 5.0,
        "typed": typed,
        # A question asking for a kind of thing none of the best candidates holds.
        "typed_missing": typed * (1.0 - float(top[:, _COLUMN["type_match"]].max())),
        "best_terms": float(best[_COLUMN["terms"]]),
        "best_soft_terms": float(best[_COLUMN["soft_terms"]]),
        "best_meaning": float(best[_COLUMN["meaning"]]),
        "best_novelty": float(best[_COLUMN["novelty"]]),
        "names_nowhere": float(best[_COLUMN["names_nowhere"]]),
        "best_names_missing": float(best[_COLUMN["names_missing"]]),
        "anchor_published": float(top[:, _COLUMN["anchor_published"]].max()),
        "candidates": float(np.log1p(len(probabilities))),
    }
    return np.array([values[name] for name in CONFIDENCE_FEATURES], dtype=np.float64)


class ConfidenceModelError(ValueError):
    """Confidence weights that cannot be used."""


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic regression over CONFIDENCE_FEATURES and the confidence below which Parley
    declines."""

    means: npt.NDArray[np.float64]
    scales: npt.NDArray[np.float64]
    coefficients: npt.NDArray[np.float64]
    intercept: float
    threshold: float

    def confidence(self, features: Matrix, probabilities: npt.NDArray[np.float64]) -> float:
        """How likely the reply is to hold the answer; 0 without candidates."""
        if features.shape[0] == 0:
            return 0.0
        return self.of_row(question_features(features, probabilities))

    def of_row(self, row: npt.NDArray[np.float64]) -> float:
        """The confidence of one row of question features."""
        logit = float(((row - self.means) / self.scales) @ self.coefficients) + self.intercept
        return float(1.0 / (1.0 + np.exp(-logit)))

    def as_json(self) -> dict[str, object]:
        """The weights as the file stores them."""
        return {
            "features": list(CONFIDENCE_FEATURES),
            "means": self.means.tolist(),
            "scales": self.scales.tolist(),
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
        }


def confidence_model_from(data: object) -> ConfidenceModel:
    """A model from its JSON form, refusing weights fitted for other features."""
    if not isinstance(data, Mapping):
        raise ConfidenceModelError("the confidence weights are not a JSON object")
    if tuple(data.get("features") or ()) != CONFIDENCE_FEATURES:
        raise ConfidenceModelError("fitted for other confidence features")
    try:
        model = ConfidenceModel(
            means=np.asarray(data["means"], dtype=np.float64),
            scales=np.asarray(data["scales"], dtype=np.float64),
            coefficients=np.asarray(data["coefficients"], dtype=np.float64),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ConfidenceModelError(f"missing or malformed confidence field {error}") from None
    shapes = {model.means.shape, model.scales.shape, model.coefficients.shape}
    if shapes != {(len(CONFIDENCE_FEATURES),)} or not np.all(model.scales > 0):
        raise ConfidenceModelError(f"weights do not match {len(CONFIDENCE_FEATURES)} features")
    return model
