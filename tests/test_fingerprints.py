"""Near-duplicate fingerprints: a syndicated copy is the same story; another report is not."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from knowledge.cleaning import parse_article
from knowledge.fingerprints import (
    NUM_PERM,
    SIGNATURE_BYTES,
    FingerprintIndex,
    estimated_jaccard,
    minhash,
    shingles,
)
from tests.conftest import SEED_ARTICLE

OTHER_REPORT = (
    "Ukrainian and Russian delegations met in Istanbul for their first direct talks in three "
    "years, with Turkish Foreign Minister Hakan Fidan opening the session at Dolmabahce Palace. "
    "Ukraine's team was led by Defence Minister Rustem Umerov, while Vladimir Medinsky headed "
    "the Russian side. The meeting lasted under two hours and ended with an agreement to "
    "exchange a thousand prisoners of war from each side, officials from both countries said, "
    "though no ceasefire was agreed and Kyiv accused Moscow of making unacceptable demands."
)


def seed_text() -> str:
    return parse_article(SEED_ARTICLE.read_text()).text


def signature(text: str) -> bytes:
    found = minhash(text)
    assert found is not None
    return found


def syndicated_copy(body: str) -> str:
    """Another outlet's print of the story: a byline, a dateline, and one sentence dropped."""
    sentences = body.split(". ")
    shortened = ". ".join(sentences[:3] + sentences[4:])
    return parse_article(
        "Trump and Putin to skip Istanbul talks\n\nBy Staff Writer\n\n"
        f"ISTANBUL (Example Wire) - {shortened}\n\nRead more\n\n© 2025 Example Wire."
    ).text


def test_a_syndicated_copy_of_a_stored_article_is_a_near_duplicate() -> None:
    body = seed_text()
    copy = syndicated_copy(body)
    index = FingerprintIndex([signature(body)])

    assert copy != body
    assert index.has_near_duplicate(signature(copy))


def test_another_report_on_the_same_talks_is_not_a_near_duplicate() -> None:
    index = FingerprintIndex([signature(seed_text())])

    assert not index.has_near_duplicate(signature(OTHER_REPORT))


def test_a_text_too_short_to_fingerprint_is_never_a_duplicate() -> None:
    index = FingerprintIndex([signature(seed_text()), None])

    assert minhash("Talks resume in Istanbul.") is None
    assert not index.has_near_duplicate(None)
    assert len(index) == 1


def test_a_signature_is_datasketchs_minhash_stored_as_little_endian_uint32() -> None:
    body = seed_text()
    expected = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    expected.update_batch(shingles(body) or set())
    other = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    other.update_batch(shingles(syndicated_copy(body)) or set())

    stored = signature(body)

    assert len(stored) == SIGNATURE_BYTES
    assert np.array_equal(np.frombuffer(stored, dtype="<u4"), expected.hashvalues)
    assert estimated_jaccard(stored, signature(syndicated_copy(body))) == expected.jaccard(other)


def test_the_same_text_always_gets_the_same_signature() -> None:
    assert minhash(OTHER_REPORT) == minhash(OTHER_REPORT.upper().replace(" ", "  "))


def test_near_duplicates_are_found_among_many_stored_signatures() -> None:
    rng = np.random.default_rng(11)
    unrelated = rng.integers(0, 2**32, size=(5000, NUM_PERM), dtype=np.uint32)
    index = FingerprintIndex(row.astype("<u4").tobytes() for row in unrelated)
    body = seed_text()
    probe = signature(syndicated_copy(body))

    assert len(index) == 5000
    assert not index.has_near_duplicate(probe)
    index.add(signature(body))  # added last, past the matrix's first growth
    assert index.has_near_duplicate(probe)


def test_a_signature_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="512 bytes"):
        FingerprintIndex().add(b"\x00" * 64)


def _sharing(signature: bytes, slots: int, rng: np.random.Generator) -> bytes:
    """Another signature equal to this one in its first `slots` slots and random elsewhere."""
    values = np.frombuffer(signature, dtype="<u4").copy()
    values[slots:] = rng.integers(0, 2**32, size=NUM_PERM - slots, dtype=np.uint32)
    return values.astype("<u4").tobytes()


@pytest.mark.parametrize(("shared", "near"), [(72, True), (56, False), (8, False)])
def test_only_signatures_sharing_half_their_slots_are_near_duplicates(
    shared: int, near: bool
) -> None:
    # Only the slots' low bits are kept, so unrelated slots collide once in 256: a pair
    # sharing 56 of 128 (Jaccard 0.44) must not reach the 0.5 threshold by chance.
    rng = np.random.default_rng(shared)
    stored = [rng.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32).tobytes() for _ in range(500)]
    index = FingerprintIndex(stored)

    checked = [_sharing(stored[number], shared, rng) for number in range(0, 500, 5)]

    assert [index.has_near_duplicate(one) for one in checked] == [near] * len(checked)


def test_room_reserved_before_reading_keeps_what_is_held() -> None:
    body = seed_text()
    index = FingerprintIndex([signature(OTHER_REPORT)])

    index.reserve(5_000)
    index.add(signature(body))

    assert len(index) == 2
    assert index.has_near_duplicate(signature(syndicated_copy(body)))
    assert index.has_near_duplicate(signature(OTHER_REPORT))
