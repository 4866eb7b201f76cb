"""A labelled check of near-duplicate fingerprints: `python -m evaluation.near_duplicates`.

Positives are syndicated copies made from each development article (a byline, an agency
dateline before the lead, "Read more" and a copyright line after, then one sentence dropped,
then also a few words changed and a sentence added); negatives are every pair of different
articles, most of them about the same negotiation. Each text goes through Parley's own
cleaning first, as at ingest. Parley's MinHash (datasketch's, `knowledge.fingerprints`) is
compared with the SimHash Parley used before it (frozen below, as migration 0005 has it) and
trafilatura's Simhash.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.cleaning import comparable, parse_article
from knowledge.documents import parse_html
from knowledge.fingerprints import MIN_JACCARD, MIN_WORDS, SHINGLE_WORDS, estimated_jaccard, minhash

ROOT = Path(__file__).resolve().parent.parent
DEV_ARTICLES = Path("/work/shared/data/negotiations-dev/articles")
EDITS = {"wire": "said", "stated": "told reporters"}  # a copy desk's small rewording
MAX_DISTANCE = 6  # bits: the SimHash's limit for one story


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: list[str]


@dataclass(frozen=True)
class Method:
    """A fingerprint, how alike two fingerprints are, and from where on they are one story."""

    name: str
    fingerprint: Callable[[str], object]
    likeness: Callable[[object, object], float]  # higher is more alike
    threshold: float

    def same(self, a: object, b: object) -> bool:
        return self.likeness(a, b) >= self.threshold


def load_articles(folder: Path) -> list[Article]:
    """The development articles (HTML) and the seed articles (plain text), cleaned."""
    found = [
        parse_html(path.read_bytes(), location=str(path)) for path in sorted(folder.glob("*.html"))
    ]
    found += [parse_article(path.read_text()) for path in sorted((ROOT / "seeds").glob("*.txt"))]
    return [Article(item.title, item.paragraphs) for item in found if item.paragraphs]


def syndicated(article: Article, *, level: int, rng: random.Random) -> str:
    """A raw copy as another outlet prints it; higher levels change more of the text."""
    paragraphs = list(article.paragraphs)
    paragraphs[0] = "CITY, May 16 (Example Wire) - " + paragraphs[0]
    if level >= 2:
        sentences = [s for p in paragraphs for s in p.split(". ") if s]
        drop = rng.randrange(1, len(sentences)) if len(sentences) > 1 else 0
        paragraphs = [". ".join(s for i, s in enumerate(sentences) if i != drop)]
    if level >= 3:
        text = "\n\n".join(paragraphs).replace(" said", " " + EDITS["stated"])
        paragraphs = [text, "Talks are expected to continue, the wire's correspondent added."]
    furniture = ["By Staff Writer", *paragraphs, "Read more", "© 2025 Example Wire."]
    return "\n\n".join([article.title, *furniture])


def methods() -> list[Method]:
    return [
        Method(f"Parley MinHash (Jaccard ≥ {MIN_JACCARD})", minhash, _jaccard, MIN_JACCARD),
        Method("previous Parley SimHash (≤ 6 bits)", simhash, _equal_bits, 64 - MAX_DISTANCE),
        Method("trafilatura Simhash (≤ 6 bits)", _trafilatura, _equal_bits, 64 - MAX_DISTANCE),
    ]


def simhash(text: str) -> int | None:
    """The 64-bit SimHash Parley used before MinHash, kept here as the baseline."""
    words = comparable(text).split()
    if len(words) < MIN_WORDS:
        return None
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    majority = bits.sum(axis=0) * 2 > len(shingles)  # each bit votes by the shingles' hashes
    return int(np.packbits(majority).view(">i8")[0])


def _trafilatura(text: str) -> int:
    from trafilatura.deduplication import Simhash

    return int(Simhash(text).hash)


def _jaccard(a: object, b: object) -> float:
    """The estimated Jaccard similarity (0 for a text too short to fingerprint)."""
    if not isinstance(a, bytes) or not isinstance(b, bytes):
        return 0
    return estimated_jaccard(a, b)


def _equal_bits(a: object, b: object) -> float:
    """How many of the 64 bits agree (0 for a text too short to fingerprint)."""
    if not isinstance(a, int) or not isinstance(b, int):
        return 0
    return 64 - ((a ^ b) & (2**64 - 1)).bit_count()


def measure(articles: Sequence[Article], method: Method) -> dict[str, float]:
    """Recall per copy level, false positives over all different pairs, and the time taken."""
    rng = random.Random(11)
    method.fingerprint("\n\n".join(articles[0].paragraphs))  # loads its library: not timed
    started = time.perf_counter()
    originals = [method.fingerprint("\n\n".join(a.paragraphs)) for a in articles]
    figures: dict[str, float] = {}
    for level in (1, 2, 3):
        copies = [
            method.fingerprint(parse_article(syndicated(a, level=level, rng=rng)).text)
            for a in articles
        ]
        likeness = [method.likeness(o, c) for o, c in zip(originals, copies, strict=True)]
        figures[f"recall level {level}"] = sum(x >= method.threshold for x in likeness) / len(
            articles
        )
        figures[f"weakest copy {level}"] = min(likeness)
    pairs = [method.likeness(a, b) for a, b in itertools.combinations(originals, 2)]
    figures["false positives"] = sum(x >= method.threshold for x in pairs)
    figures["pairs"] = len(pairs)
    figures["closest different pair"] = max(pairs)
    figures["ms per article"] = (time.perf_counter() - started) * 1000 / (4 * len(articles))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEV_ARTICLES)
    articles = load_articles(parser.parse_args().folder)
    print(f"{len(articles)} articles")
    for method in methods():
        figures = measure(articles, method)
        shown = ", ".join(
            f"{name} {value:.2f}" if isinstance(value, float) else f"{name} {value}"
            for name, value in figures.items()
        )
        print(f"{method.name}: {shown}")


if __name__ == "__main__":
    main()
