"""Sentence boundaries, for chunking passages and for quoting answers."""

from __future__ import annotations

import threading

import pysbd

_local = threading.local()
SENTENCE_END = (".", "!", "?", '."', '!"', '?"', ".”", "!”", "?”", ".’", ".)", "…")


def _segmenter() -> pysbd.Segmenter:
    # pysbd keeps state while segmenting, so each thread gets its own.
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return segmenter


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped; abbreviations like "U.S." do not end one."""
    paragraph = " ".join(paragraph.split())
    if not paragraph:
        return []
    return [sentence.strip() for sentence in _segmenter().segment(paragraph) if sentence.strip()]


def is_full_sentence(text: str) -> bool:
    """Whether the text reads as a sentence (ends like one), not a heading or a fragment."""
    return text.rstrip().endswith(SENTENCE_END) and len(text.split()) >= 4
