"""Sentence vectors stored at ingest: answers embed only the question, and stay the same."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sqlalchemy import text

from knowledge.answering import Answerer
from knowledge.ingest import reindex
from knowledge.ranking import load_ranking_model
from knowledge.retrieval import Retriever
from parley.services import Services, build_services
from parley.settings import Settings
from storage import sentence_vectors
from storage.sentence_vectors import decode, encode
from tests.conftest import SEED_ARTICLE
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL

QUESTIONS = ["Who led the Russian delegation?", "Where were the talks held?"]


def ingest_seed(services: Services) -> None:
    plans, problems = services.ingestor.plan_files([str(SEED_ARTICLE)])
    assert problems == []
    services.ingestor.store(plans)


def without_stored_sentences(services: Services, embedder: FakeEmbedder) -> Answerer:
    """An answerer that embeds every sentence when asked, as Parley did before 0007."""
    return Answerer(
        embedder=embedder,
        retriever=Retriever(
            sessions=services.sessions, fulltext=services.fulltext, vectors=services.vectors
        ),
        model=load_ranking_model(None),
    )


def test_answering_embeds_only_the_question_once_sentences_are_stored(
    services: Services, fake_embedder: FakeEmbedder
) -> None:
    ingest_seed(services)
    fake_embedder.calls.clear()

    answers = services.answerer.ask_many(QUESTIONS)

    assert fake_embedder.calls == [len(QUESTIONS)]
    assert all(answer.covered for answer in answers)


def test_stored_vectors_give_the_answers_computed_vectors_give(
    services: Services, fake_embedder: FakeEmbedder
) -> None:
    ingest_seed(services)
    computing = without_stored_sentences(services, fake_embedder)

    stored = [answer.text for answer in services.answerer.ask_many(QUESTIONS)]
    computed = [answer.text for answer in computing.ask_many(QUESTIONS)]

    assert stored == computed


def test_passages_without_stored_sentences_are_still_answered_and_reindex_stores_them(
    services: Services, fake_embedder: FakeEmbedder
) -> None:
    ingest_seed(services)
    with services.sessions.begin() as session:  # an archive from before revision 0007
        session.execute(text("DELETE FROM sentence_vectors"))
    fake_embedder.calls.clear()

    assert services.answerer.ask(QUESTIONS[0]).covered
    assert len(fake_embedder.calls) == 2  # the question, then the sentences it reads

    reindex(sessions=services.sessions, embedder=fake_embedder)
    with services.sessions() as session:
        stored = session.execute(text("SELECT count(*) FROM sentence_vectors")).scalar_one()
        passages = session.execute(text("SELECT count(*) FROM passages")).scalar_one()
    assert stored == passages > 0


def test_eight_bit_codes_keep_similarities_within_a_hundredth() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[0] + 0.5 * vectors[1]
    query /= np.linalg.norm(query)

    restored = decode(encode(vectors), 50, 384)

    assert np.abs(restored @ query - vectors @ query).max() < 0.01


def forget_token_vectors(services: Services) -> None:
    """Make the archive one from before revision 0017, which stored no token vectors."""
    forgotten = "token_axes = NULL, token_counts = NULL, tokens = NULL"
    with services.sessions.begin() as session:
        session.execute(text(f"UPDATE sentence_vectors SET {forgotten}"))


def stored_token_axes(services: Services) -> list[str | None]:
    with services.sessions() as session:
        rows = session.execute(text("SELECT token_axes FROM sentence_vectors")).scalars()
        return list(rows)


def test_token_vectors_are_stored_at_ingest_and_an_archive_without_them_answers_the_same(
    services: Services, fake_embedder: FakeEmbedder
) -> None:
    ingest_seed(services)
    assert set(stored_token_axes(services)) == {f"{fake_embedder.model_id}@whole"}
    before = [answer.text for answer in services.answerer.ask_many(QUESTIONS)]
    forget_token_vectors(services)  # an archive from before revision 0017
    fake_embedder.calls.clear()

    after = [answer.text for answer in services.answerer.ask_many(QUESTIONS)]

    assert after == before
    assert len(fake_embedder.calls) == 2  # the questions, then the sentences' tokens

    reindex(sessions=services.sessions, embedder=fake_embedder)
    assert set(stored_token_axes(services)) == {f"{fake_embedder.model_id}@whole"}


def test_token_vectors_round_trip_and_are_withheld_from_a_reader_on_other_axes(
    services: Services,
) -> None:
    ingest_seed(services)
    with services.sessions() as session:
        passage_id = session.execute(text("SELECT min(passage_id) FROM sentence_vectors")).scalar()
    tokens = [np.eye(3, 4, dtype=np.float32), np.zeros((0, 4), np.float32), np.eye(1, 4, 2)]
    with services.sessions.begin() as session:
        sentence_vectors.write(
            session,
            passage_id=passage_id,
            sentences=["One.", "Two.", "Three."],
            vectors=np.eye(3, 4, dtype=np.float32),
            title=np.eye(1, 4, dtype=np.float32),
            model="m",
            tokens=tokens,
            token_axes="m@test",
        )

    with services.sessions() as session:
        same = sentence_vectors.read(
            session, passage_ids=[passage_id], model="m", token_axes="m@test"
        )
        other = sentence_vectors.read(
            session, passage_ids=[passage_id], model="m", token_axes="m@x"
        )

    restored = same[passage_id].tokens
    assert restored is not None
    assert [len(own) for own in restored] == [3, 0, 1]
    assert np.allclose(restored[0], tokens[0]) and np.allclose(restored[2], tokens[2])
    assert other[passage_id].tokens is None
    assert other[passage_id].sentences == ("One.", "Two.", "Three.")


def test_an_archive_stored_without_token_vectors_says_at_start_to_reindex(
    settings: Settings, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_seed(services)
    with caplog.at_level(logging.WARNING, logger="parley.services"):
        build_services(settings, embedder=FakeEmbedder()).close()
    assert "parley reindex" not in caplog.text

    forget_token_vectors(services)
    with caplog.at_level(logging.WARNING, logger="parley.services"):
        build_services(settings, embedder=FakeEmbedder()).close()
    assert "run `parley reindex` once to store them" in caplog.text
