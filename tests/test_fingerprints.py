"""Near-duplicate fingerprints: a syndicated copy is the same story; another report is not."""

from __future__ import annotations

from knowledge.cleaning import parse_article
from knowledge.fingerprints import FingerprintIndex, simhash
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


def index_of(text: str) -> FingerprintIndex:
    fingerprint = simhash(text)
    assert fingerprint is not None
    return FingerprintIndex([fingerprint])


def test_a_syndicated_copy_of_a_stored_article_is_a_near_duplicate() -> None:
    body = seed_text()
    copy = parse_article(
        "Trump and Putin to skip Istanbul talks\n\nBy Staff Writer\n\n"
        f"ISTANBUL (Example Wire) - {body}\n\nRead more\n\n© 2025 Example Wire."
    ).text
    index = index_of(body)

    assert copy != body
    assert index.has_near_duplicate(simhash(copy))


def test_another_report_on_the_same_talks_is_not_a_near_duplicate() -> None:
    index = index_of(seed_text())

    assert not index.has_near_duplicate(simhash(OTHER_REPORT))


def test_a_text_too_short_to_fingerprint_is_never_a_duplicate() -> None:
    index = index_of(seed_text())

    assert simhash("Talks resume in Istanbul.") is None
    assert not index.has_near_duplicate(None)
