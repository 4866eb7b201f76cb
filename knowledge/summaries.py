"""Short summaries for digests: an article's lead, as news writers put the gist first."""

from __future__ import annotations

from collections.abc import Collection

from knowledge.sentences import is_full_sentence, split_sentences
from knowledge.terms import content_terms

MAX_SUMMARY_CHARS = 320


def lead_summary(text: str, *, max_sentences: int = 2, max_chars: int = MAX_SUMMARY_CHARS) -> str:
    """The article's first one or two full sentences, cut to max_chars at a word boundary."""
    chosen: list[str] = []
    for paragraph in text.split("\n"):
        for sentence in split_sentences(paragraph):
            if not is_full_sentence(sentence):
                continue
            if chosen and len(" ".join([*chosen, sentence])) > max_chars:
                return " ".join(chosen)
            chosen.append(sentence)
            if len(chosen) == max_sentences:
                return _shorten(" ".join(chosen), max_chars)
    return _shorten(" ".join(chosen) or " ".join(text.split()), max_chars)


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:–—-") + "…"


def key_sentence(text: str, *, max_chars: int = MAX_SUMMARY_CHARS) -> str:
    """The article's first full sentence: what a story's one-line summary quotes."""
    return lead_summary(text, max_sentences=1, max_chars=max_chars)


def sentence_about(text: str, terms: Collection[str], *, max_chars: int = MAX_SUMMARY_CHARS) -> str:
    """The full sentence of the text sharing the most of these terms, the earliest among
    equals; the first full sentence when none shares any. For a timeline line, where the
    article's lead may be about something else than the topic asked for."""
    wanted = set(terms)
    best, best_shared = "", 0
    for paragraph in text.split("\n"):
        for sentence in split_sentences(paragraph):
            if not is_full_sentence(sentence):
                continue
            shared = len(wanted & set(content_terms(sentence)))
            if shared > best_shared:
                best, best_shared = sentence, shared
    return _shorten(best, max_chars) if best else key_sentence(text, max_chars=max_chars)
