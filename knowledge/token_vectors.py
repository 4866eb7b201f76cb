"""Late interaction: how well each word of the question is met somewhere in a sentence.

A sentence vector averages a sentence into one point, so a sentence that restates most of
the question stays close to it even when it lacks the one thing asked. Comparing the
model's contextual vector of each question token with the best-matching token of the
sentence (MaxSim, as in ColBERT) keeps that detail: it was the strongest single signal the
answer ranking was offered (README, Quality, sessions 9 and 15).

The token vectors of every sentence are stored at ingest, so a question costs only its own
forward pass. Stored whole they would take ~8 KB a sentence; projected on the 64 principal
axes of the bundled model's token vectors (`token_axes.npz`, made by
`python -m evaluation.token_axes`) and kept as 8-bit codes, about 1.5 KB, with the ranking
as good as with the full vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from storage.vectors import Matrix

AXES_FILE = Path(__file__).with_name("token_axes.npz")
AXES = 64


@dataclass(frozen=True)
class TokenAxes:
    """The directions token vectors are kept along; `identity` names them in the archive, so
    that vectors projected on other axes are never compared with these."""

    matrix: Matrix  # model dimension × kept axes
    identity: str

    @property
    def dimension(self) -> int:
        """How many values a projected token keeps."""
        return int(self.matrix.shape[1])

    def project(self, tokens: Matrix) -> Matrix:
        """Token vectors on the axes, each scaled to unit length."""
        projected = np.asarray(tokens, dtype=np.float32) @ self.matrix
        return unit_rows(projected)


def unit_rows(rows: Matrix) -> Matrix:
    """Each row scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scaled: Matrix = (rows / norms).astype(np.float32)
    return scaled


def axes_for(model_id: str, dimension: int, path: Path = AXES_FILE) -> TokenAxes:
    """The shipped axes for the model they were fitted on; for any other model its vectors
    are kept whole (no fitted axes exist for it)."""
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            axes, fitted_for = stored["axes"], str(stored["model"])
        if axes.shape[0] == dimension and fitted_for == model_id:
            digest = hashlib.sha256(axes.tobytes()).hexdigest()[:16]
            return TokenAxes(axes.astype(np.float32), f"{model_id}@axes-{digest}")
    return TokenAxes(np.eye(dimension, dtype=np.float32), f"{model_id}@whole")


def save_axes(path: Path, axes: Matrix, model_id: str) -> None:
    """Write fitted axes with the id of the model whose tokens they were fitted on."""
    np.savez(path, axes=np.asarray(axes, dtype=np.float32), model=np.array(model_id))


def fit_axes(token_sets: Sequence[Matrix], count: int = AXES) -> Matrix:
    """The `count` principal axes of the tokens (uncentred: cosines are taken about the
    origin), from their Gram matrix, so that a million tokens need no more memory than one."""
    dimension = int(token_sets[0].shape[1])
    gram = np.zeros((dimension, dimension), dtype=np.float64)
    for tokens in token_sets:
        rows = np.asarray(tokens, dtype=np.float64)
        gram += rows.T @ rows
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:count]
    axes = vectors[:, order]
    # eigh's signs are arbitrary; fix them so that the same tokens give the same file.
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    fitted: Matrix = axes.astype(np.float32)
    return fitted


def maxsim(question: Matrix, sentence: Matrix, met: npt.NDArray[np.bool_] | None = None) -> float:
    """The mean, over the question's tokens, of each one's best cosine in the sentence; a
    token the sentence is known to say in other words (`met`) counts as fully matched."""
    if len(question) == 0 or len(sentence) == 0:
        return 0.0
    best = (question @ sentence.T).max(axis=1)
    if met is not None:
        best = np.where(met, 1.0, best)
    return float(best.mean())
