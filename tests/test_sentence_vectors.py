"""Sentence vectors stored at ingest: answers embed only the question, and stay the same."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from knowledge.answering import Answerer
from knowledge.ingest import reindex
from knowledge.ranking import load_ranking_model
from knowledge.retrieval import Retriever
from parley.services import Services
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
