"""Fit the axes token vectors are stored along: `python -m evaluation.token_axes`.

The bundled model's token vectors of every sentence of the SQuAD sample's paragraphs, and
their 64 principal axes (knowledge.token_vectors.fit_axes), written to
knowledge/token_axes.npz. Only Wikipedia's text is read, no question and no label, and none
of the news articles the evaluation reports on. Archives store their sentences' token
vectors on the axes they were ingested with: after a new file, `parley reindex` re-stores
them (until then answering computes them when it reads a sentence).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from evaluation import folds
from knowledge.chunking import passage_sentences
from knowledge.embedding import BUNDLED_MODEL_ID, load_embedder
from knowledge.token_vectors import AXES, AXES_FILE, fit_axes, save_axes

BATCH = 256


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=folds.DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=AXES_FILE)
    parser.add_argument("--axes", type=int, default=AXES)
    args = parser.parse_args(argv)
    contexts = folds.squad_contexts(args.data)
    sentences = list(dict.fromkeys(s for text in contexts for s in passage_sentences(text)))
    embedder = load_embedder()
    tokens = []
    for start in range(0, len(sentences), BATCH):
        tokens.extend(embedder.embed_with_tokens(sentences[start : start + BATCH])[1])
    save_axes(args.out, fit_axes(tokens, args.axes), BUNDLED_MODEL_ID)
    print(
        f"{args.axes} axes of {sum(len(t) for t in tokens):,} tokens "
        f"({len(sentences):,} sentences) written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
