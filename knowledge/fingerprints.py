"""Near-duplicate detection: MinHash signatures (datasketch) of articles' word shingles.

The same story syndicated by two outlets shares most of its word 3-shingles (a dateline, a
byline, a dropped or added sentence change few of them); two reports on the same talks share
almost none. MinHash estimates that shared fraction (Jaccard) as the fraction of equal slots
in two signatures. `python -m evaluation.near_duplicates` measured it against the SimHash
kept here before: copies missing a sentence caught 100% against 32%, and with a few words
changed and a sentence added 100% against 6%; none of 1,081 different pairs near.

A signature is stored as a BLOB of NUM_PERM little-endian uint32 (datasketch's "affine32"
scheme, pinned: its hash values depend on the scheme). Migration 0012 holds a frozen copy of
this computation for articles stored before; a test keeps the two equal.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from knowledge.cleaning import comparable

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE_WORDS = 3
MIN_WORDS = 20  # shorter texts are too small to fingerprint reliably
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
MIN_JACCARD = 0.5  # syndicated copies measured ≥ 0.56, different articles ≤ 0.05
KEPT_BITS = 8  # of each slot (b-bit MinHash): see FingerprintIndex
# Two different slots' low bits are equal once in 2**KEPT_BITS, so a pair at Jaccard J shares
# J + (1 - J) / 2**KEPT_BITS of its slots: at MIN_JACCARD 64.25 of 128, hence 65.
MIN_EQUAL_SLOTS = math.ceil(NUM_PERM * (MIN_JACCARD + (1 - MIN_JACCARD) / 2**KEPT_BITS))
SIGNATURE_BYTES = NUM_PERM * 4
LOAD_BATCH = 10_000

Signatures = npt.NDArray[np.uint32]
Slots = npt.NDArray[np.uint8]


def shingles(text: str) -> set[bytes] | None:
    """The text's distinct word 3-shingles, compared as cleaning folds them; None if too short."""
    words = comparable(text).split()
    if len(words) < MIN_WORDS:
        return None
    return {
        " ".join(words[i : i + SHINGLE_WORDS]).encode()
        for i in range(len(words) - SHINGLE_WORDS + 1)
    }


def minhash(text: str) -> bytes | None:
    """The text's MinHash signature as stored (`articles.minhash`), or None if too short."""
    found = shingles(text)
    if found is None:
        return None
    signature = _empty_minhash()
    signature.update_batch(found)
    return np.asarray(signature.hashvalues, dtype="<u4").tobytes()


def _empty_minhash() -> MinHash:
    """A fresh MinHash with Parley's permutations."""
    # Imported on first use: datasketch brings scipy (~2 s), which only ingesting needs.
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations())


@cache
def _permutations() -> object:
    """The seed's permutations, made once rather than regenerated per article."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def check_size(signature: bytes) -> None:
    """Refuse what cannot be one of our signatures (another NUM_PERM, a stray value)."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError(f"a signature has {SIGNATURE_BYTES} bytes, not {len(signature)}")


def signature_values(signature: bytes) -> Signatures:
    """A stored signature's slots."""
    check_size(signature)
    return np.frombuffer(signature, dtype="<u4").astype(np.uint32)


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """The fraction of equal slots: MinHash's estimate of the shingles' Jaccard similarity."""
    return float(np.count_nonzero(signature_values(a) == signature_values(b)) / NUM_PERM)


class FingerprintIndex:
    """Every stored article's signature in memory, checked against a new one in one pass.

    A numpy scan rather than datasketch's MinHashLSH (`python -m evaluation.fingerprint_scale`):
    at 100,000 articles the LSH took 900 MiB (~9 KiB an article), 250 s to fill, and missed 1
    of 100 near-copies; this takes 128 bytes an article (31 MiB at the 1M-passage bench
    archive's 250,000 articles) and a check scans them all, once per article ingested, beside
    its embedding. Only each slot's low 8 bits are kept (b-bit MinHash, Li & König 2010): a
    quarter of the memory, and two different slots look equal once in 256, which adds half a
    slot of 128 to two different articles (≤ 0.05 measured: ~7 equal slots of the 65 needed)
    and is allowed for in MIN_EQUAL_SLOTS. Slots are stored slot by slot (one row per slot)
    so a check adds up one contiguous row at a time into a byte per article, never an
    articles × slots temporary.
    """

    def __init__(self, signatures: Iterable[bytes | None] = ()) -> None:
        self._lock = threading.Lock()
        self._slots: Slots = np.empty((NUM_PERM, 0), dtype=np.uint8)
        self._count = 0
        batch: list[bytes] = []
        for signature in signatures:  # in batches: one at a time is ~10× slower at start-up
            if signature is not None:
                batch.append(signature)
            if len(batch) == LOAD_BATCH:
                self._extend(batch)
                batch = []
        self._extend(batch)

    def __len__(self) -> int:
        return self._count

    def reserve(self, count: int) -> None:
        """Make room for this many signatures at once, when their number is known before
        they are read: growing by doubling held the old matrix and one twice its size."""
        with self._lock:
            if count > self._slots.shape[1]:
                self._slots = self._grown(count)

    def _grown(self, capacity: int) -> Slots:
        """The slots copied into a matrix of this capacity (with the lock held)."""
        grown = np.empty((NUM_PERM, capacity), dtype=np.uint8)
        grown[:, : self._count] = self._slots[:, : self._count]
        return grown

    def add(self, signature: bytes | None) -> None:
        """Remember a stored article's signature (None: it has none, nothing to remember)."""
        if signature is not None:
            self._extend([signature])

    def add_many(self, signatures: Iterable[bytes | None]) -> None:
        """Remember several stored articles' signatures at once (catching up with what
        other processes stored)."""
        self._extend([signature for signature in signatures if signature is not None])

    def _extend(self, signatures: list[bytes]) -> None:
        if not signatures:
            return
        if set(map(len, signatures)) != {SIGNATURE_BYTES}:
            for signature in signatures:
                check_size(signature)  # raises for the first one of another size
        rows = np.frombuffer(b"".join(signatures), dtype="<u4").reshape(-1, NUM_PERM)
        low_bits = np.ascontiguousarray(rows.astype(np.uint8).T)  # the low bits: modulo 256
        with self._lock:
            count, capacity = self._count, self._slots.shape[1]
            if count + len(signatures) > capacity:
                # Doubling keeps adds cheap; columns past the count are never read, so a check
                # holding the old matrix still sees a consistent prefix.
                self._slots = self._grown(max(1024, 2 * capacity, count + len(signatures)))
            self._slots[:, count : count + len(signatures)] = low_bits
            self._count = count + len(signatures)

    def has_near_duplicate(self, signature: bytes | None) -> bool:
        """Whether a stored article's estimated Jaccard similarity to this one is ≥ MIN_JACCARD."""
        if signature is None:
            return False
        low_bits = signature_values(signature).astype(np.uint8)
        with self._lock:
            slots, count = self._slots, self._count
        equal = np.zeros(count, dtype=np.uint8)  # NUM_PERM ≤ 255 fits a byte
        matches = np.empty(count, dtype=np.bool_)
        for slot in range(NUM_PERM):
            np.equal(slots[slot, :count], low_bits[slot], out=matches)
            np.add(equal, matches, out=equal, casting="unsafe")
        return bool((equal >= MIN_EQUAL_SLOTS).any())
