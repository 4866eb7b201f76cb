"""Each passage's sentences and their embeddings, computed once at ingest.

Answering scores single sentences, not passages. Embedding them when a question comes
cost three quarters of an answer's time; stored beside the passage, they are one indexed
read. Vectors are kept as 8-bit codes with a scale per sentence: a quarter of float32's
size, and cosine similarities within about 0.01 of the exact ones, far below what tells
one candidate from another. Each sentence's token vectors (knowledge.token_vectors), already
projected on fewer axes, are kept the same way, a row a token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Article, Passage, SentenceVectors

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class PassageSentences:
    """A passage's sentences, their unit vectors, and the unit vector of its article's title."""

    sentences: tuple[str, ...]
    vectors: Matrix  # one row per sentence
    title: Matrix  # one row
    # Each sentence's token vectors, when stored on the axes the reader asked for.
    tokens: tuple[Matrix, ...] | None = None


def encode(vectors: Matrix) -> bytes:
    """Rows as float32 scales followed by int8 codes (each row's largest value maps to 127)."""
    rows = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(rows).max(axis=1, keepdims=True) / 127.0
    scales[scales == 0] = 1.0
    codes = np.rint(rows / scales).astype(np.int8)
    return bytes(scales.astype("<f4").tobytes() + codes.tobytes())


def decode(blob: bytes, rows: int, dimension: int) -> Matrix:
    """The vectors `encode` stored, each scaled back to unit length."""
    expected = rows * 4 + rows * dimension
    if len(blob) != expected:
        raise ValueError(f"sentence vectors hold {len(blob)} bytes, expected {expected}")
    scales = np.frombuffer(blob, dtype="<f4", count=rows).reshape(rows, 1)
    codes = np.frombuffer(blob, dtype=np.int8, offset=rows * 4).reshape(rows, dimension)
    vectors = codes.astype(np.float32) * scales
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: Matrix = (vectors / norms).astype(np.float32)
    return unit


def write(
    session: Session,
    *,
    passage_id: int,
    sentences: Sequence[str],
    vectors: Matrix,
    title: Matrix,
    model: str,
    tokens: Sequence[Matrix] | None = None,
    token_axes: str | None = None,
) -> None:
    """Store (or replace) one passage's sentences with their vectors and its title's, and
    the sentences' token vectors when given (with the name of the axes they are on)."""
    rows = np.vstack([np.asarray(title, dtype=np.float32).reshape(1, -1), vectors])
    row = SentenceVectors(
        passage_id=passage_id,
        model=model,
        dimension=int(rows.shape[1]),
        sentences=json.dumps(list(sentences), ensure_ascii=False),
        vectors=encode(rows),
    )
    if tokens is not None and token_axes is not None:
        if len(tokens) != len(sentences):
            raise ValueError(f"{len(tokens)} token sets for {len(sentences)} sentences")
        row.token_axes = token_axes
        row.token_counts = json.dumps([len(own) for own in tokens])
        row.tokens = encode(np.vstack(tokens)) if any(len(own) for own in tokens) else b""
    session.merge(row)


def read(
    session: Session, *, passage_ids: Iterable[int], model: str, token_axes: str | None = None
) -> dict[int, PassageSentences]:
    """The stored sentences of the passages that have them for this model, with their token
    vectors when they were stored on `token_axes`."""
    wanted = sorted(set(passage_ids))
    if not wanted:
        return {}
    found: dict[int, PassageSentences] = {}
    # Columns, not ORM objects: these rows are only read, once, on every answer.
    for row in session.execute(
        select(
            SentenceVectors.passage_id,
            SentenceVectors.dimension,
            SentenceVectors.sentences,
            SentenceVectors.vectors,
            SentenceVectors.token_axes,
            SentenceVectors.token_counts,
            SentenceVectors.tokens,
        ).where(SentenceVectors.passage_id.in_(wanted), SentenceVectors.model == model)
    ):
        sentences = tuple(json.loads(row.sentences))
        vectors = decode(row.vectors, len(sentences) + 1, row.dimension)
        tokens = None
        if token_axes is not None and row.token_axes == token_axes:
            tokens = _split_tokens(row.tokens or b"", json.loads(row.token_counts or "[]"))
        found[row.passage_id] = PassageSentences(sentences, vectors[1:], vectors[:1], tokens)
    return found


def _split_tokens(blob: bytes, counts: Sequence[int]) -> tuple[Matrix, ...]:
    """Each sentence's rows of the token vectors `write` stored."""
    total = sum(counts)
    if total == 0:
        return tuple(np.zeros((0, 0), dtype=np.float32) for _ in counts)
    dimension = (len(blob) // total) - 4  # a float32 scale and the codes, a row
    rows = decode(blob, total, dimension)
    bounds = np.cumsum([0, *counts])
    return tuple(rows[start:end] for start, end in pairwise(bounds))


def oldest_token_axes(session: Session) -> tuple[bool, str | None]:
    """Whether any passage has stored sentences, and the axes its oldest one's token vectors
    are on (None: stored before it had any). One row by its key: a scan would read every
    stored vector."""
    row = session.execute(
        select(SentenceVectors.token_axes).order_by(SentenceVectors.passage_id).limit(1)
    ).first()
    return (row is not None, row.token_axes if row is not None else None)


class SentenceStore:
    """Reads stored sentences for the answerer, in a session of its own."""

    def __init__(
        self, sessions: sessionmaker[Session], *, model: str, token_axes: str | None = None
    ) -> None:
        self._sessions = sessions
        self._model = model
        self._token_axes = token_axes

    def __call__(self, passage_ids: Sequence[int]) -> dict[int, PassageSentences]:
        with self._sessions() as session:
            return read(
                session, passage_ids=passage_ids, model=self._model, token_axes=self._token_axes
            )


def titles_of(session: Session, *, passage_ids: Sequence[int]) -> dict[int, str]:
    """The title of each passage's article."""
    rows = session.execute(
        select(Passage.id, Article.title)
        .join(Article, Article.id == Passage.article_id)
        .where(Passage.id.in_(list(passage_ids)))
    )
    return {passage_id: title for passage_id, title in rows}
