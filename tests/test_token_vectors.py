"""Token vectors for late interaction: how they are compared, compressed and identified."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import BUNDLED_DIMENSION, BUNDLED_MODEL_ID, Embedder
from knowledge.token_vectors import AXES, axes_for, fit_axes, maxsim, save_axes
from storage.sentence_vectors import decode, encode


def one_hot(*positions: int, dimension: int = 8) -> np.ndarray:
    rows = np.zeros((len(positions), dimension), dtype=np.float32)
    rows[np.arange(len(positions)), list(positions)] = 1.0
    return rows


def test_a_sentence_that_meets_every_question_token_scores_higher_than_one_that_misses_one() -> (
    None
):
    question = one_hot(0, 1, 2)

    assert maxsim(question, one_hot(2, 5, 1, 0)) == pytest.approx(1.0)
    assert maxsim(question, one_hot(0, 1, 6)) == pytest.approx(2 / 3)
    assert maxsim(question, one_hot(0, 1, 6)) < maxsim(question, one_hot(0, 1, 2))
    assert maxsim(question, one_hot()) == 0.0


def test_the_bundled_model_gets_the_shipped_axes_and_any_other_model_its_whole_vectors() -> None:
    bundled = axes_for(BUNDLED_MODEL_ID, BUNDLED_DIMENSION)
    other = axes_for("sentence-transformers/other-model", 32)

    assert bundled.dimension == AXES
    assert bundled.identity.startswith(f"{BUNDLED_MODEL_ID}@axes-")
    assert other.dimension == 32
    assert other.identity == "sentence-transformers/other-model@whole"
    assert bundled.identity != axes_for(BUNDLED_MODEL_ID, BUNDLED_DIMENSION, Path("none")).identity


def test_axes_written_for_one_model_are_not_used_for_another(tmp_path: Path) -> None:
    path = tmp_path / "axes.npz"
    save_axes(path, np.eye(16, 4, dtype=np.float32), "model-a")

    assert axes_for("model-a", 16, path).dimension == 4
    assert axes_for("model-b", 16, path).dimension == 16  # kept whole: no axes fitted for it
    assert axes_for("model-a", 12, path).dimension == 12


def test_fitted_axes_follow_where_the_tokens_spread_and_come_out_the_same_each_time() -> None:
    rng = np.random.default_rng(5)
    spread = rng.normal(size=(500, 6)) * np.array([5.0, 3.0, 0.1, 0.1, 0.1, 0.1])
    halves = [spread[:250].astype(np.float32), spread[250:].astype(np.float32)]

    axes = fit_axes(halves, count=2)

    assert axes.shape == (6, 2)
    assert abs(axes[0, 0]) > 0.99 and abs(axes[1, 1]) > 0.99
    assert np.array_equal(axes, fit_axes(halves, count=2))


def ranks(values: list[float]) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(np.float64)


@pytest.mark.model
def test_tokens_kept_on_the_shipped_axes_in_eight_bits_rank_sentences_as_whole_ones_do(
    real_embedder: Embedder,
) -> None:
    question = "How long was the phone call between the two presidents?"
    sentences = [
        "The presidents spoke by phone on Thursday about trade.",
        "After the roughly 90-minute conversation, both sides called it positive.",
        "Officials said the call had gone well for both countries.",
        "The weather in Geneva was mild for the time of year.",
        "The two leaders talked for an hour and a half on the telephone.",
        "Soybean exports rose sharply in the second quarter.",
        "A museum in the capital reopened after repairs.",
        "The call between the presidents lasted about ninety minutes.",
        "Negotiators met again in London in June.",
        "Prices of rare earth magnets climbed.",
    ]
    axes = axes_for(real_embedder.model_id, real_embedder.dimension)
    _, tokens = real_embedder.embed_with_tokens([question, *sentences])
    asked, said = tokens[0], tokens[1:]

    whole = [maxsim(asked, own) for own in said]
    kept = [
        maxsim(axes.project(asked), decode(encode(axes.project(own)), len(own), axes.dimension))
        for own in said
    ]

    assert int(np.argmax(kept)) == int(np.argmax(whole)) == 7
    assert np.corrcoef(ranks(kept), ranks(whole))[0, 1] > 0.85  # measured 0.93


@pytest.mark.model
def test_a_text_has_one_token_vector_a_word_piece_from_the_pass_that_embeds_it(
    real_embedder: Embedder,
) -> None:
    texts = ["Who leads the delegation?", "Talks resumed in Istanbul on Friday."]

    vectors, tokens = real_embedder.embed_with_tokens(texts)

    assert np.allclose(vectors, real_embedder.embed(texts), atol=1e-5)
    assert [len(own) for own in tokens] == [real_embedder.count_tokens(t) - 2 for t in texts]
    assert all(np.allclose(np.linalg.norm(own, axis=1), 1.0, atol=1e-5) for own in tokens)


@pytest.mark.model
def test_each_token_vector_is_told_the_word_it_belongs_to(real_embedder: Embedder) -> None:
    # The synonyms table works on words, the model on word pieces: "Medinsky" is two.
    question = "What role does Medinsky hold?"

    _, [tokens] = real_embedder.embed_with_tokens([question])
    words = real_embedder.token_words(question)

    assert len(words) == len(tokens)
    assert words == ["What", "role", "does", "Medinsky", "Medinsky", "hold", "?"]


def test_a_question_token_the_sentence_says_in_other_words_counts_as_met() -> None:
    # "What role does Medinsky hold?" of "presidential aide Vladimir Medinsky": the model's
    # tokens do not know that "aide" names a role; the synonyms table does.
    question = one_hot(0, 1, 2)
    sentence = one_hot(0, 5)

    assert maxsim(question, sentence) == pytest.approx(1 / 3)
    assert maxsim(question, sentence, np.array([False, True, False])) == pytest.approx(2 / 3)
