"""Sentence boundaries, for chunking passages and for quoting answers."""

from __future__ import annotations

import itertools
import threading

import pysbd

_local = threading.local()
SENTENCE_END = (".", "!", "?", '."', '!"', '?"', ".”", "!”", "?”", ".’", ".)", "…")
# pysbd's work grows with the square of its input (25,000 characters: over a second; 200,000:
# over a minute), so a long paragraph is segmented a window at a time. A window holds many
# ordinary sentences; a "sentence" longer than a window is cut at a space.
WINDOW_CHARS = 1_000


def _segmenter() -> pysbd.Segmenter:
    # pysbd keeps state while segmenting, so each thread gets its own.
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return segmenter


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped; abbreviations like "U.S." do not end one.
    No sentence is longer than WINDOW_CHARS, and the work grows linearly with the length."""
    paragraph = " ".join(paragraph.split())
    sentences: list[str] = []
    rest = paragraph
    while len(rest) > WINDOW_CHARS:
        window, after = _cut(rest, WINDOW_CHARS)
        found = _segment(window)
        if len(found) > 1:
            # The window's last sentence may go on past it: segment it again with what follows.
            sentences.extend(found[:-1])
            rest = window[window.rfind(found[-1]) :] + after
        else:
            sentences.extend(found)
            rest = after.lstrip()
    return sentences + _segment(rest)


def _segment(text: str) -> list[str]:
    """pysbd's sentences, taken from the text itself: pysbd now and then drops characters
    ("St.?!" comes back as "St."), so only where its sentences start is used."""
    starts: list[int] = []
    position = 0
    for piece in _segmenter().segment(text):
        piece = piece.strip()
        found = text.find(piece, position) if piece else -1
        if found >= 0:
            starts.append(found)
            position = found + len(piece)
    bounds = [0, *starts[1:], len(text)]
    return [text[a:b].strip() for a, b in itertools.pairwise(bounds) if text[a:b].strip()]


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The text split at the last space within `limit` characters (at `limit` if none)."""
    space = text.rfind(" ", 1, limit)
    at = space if space > 0 else limit
    return text[:at], text[at:]


def is_full_sentence(text: str) -> bool:
    """Whether the text reads as a sentence (ends like one), not a heading or a fragment."""
    return text.rstrip().endswith(SENTENCE_END) and len(text.split()) >= 4
