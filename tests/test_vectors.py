"""The in-memory vector index: near-exact search from int8 codes, kept in step with changes."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.retrieval import reciprocal_rank_fusion
from storage.vectors import VectorIndex, blob_to_vector, vector_to_blob


def clustered(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, 384)).astype(np.float32)
    points = centres[rng.integers(0, 50, count)] + 0.7 * rng.standard_normal((count, 384))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_search_finds_what_exact_float_search_finds() -> None:
    vectors = clustered(5_000)
    index = VectorIndex(384)
    index.add(range(1, 5_001), vectors)
    queries = clustered(50, seed=1)

    recalls = []
    for query in queries:
        exact = set((np.argsort(-(vectors @ query))[:10] + 1).tolist())
        found = index.search(query, 10)
        recalls.append(len(exact & {passage_id for passage_id, _ in found}) / 10)
        assert [score for _, score in found] == sorted((s for _, s in found), reverse=True)
        best_id, best_score = found[0]
        assert abs(best_score - float(vectors[best_id - 1] @ query)) < 0.01

    assert float(np.mean(recalls)) >= 0.95


def test_removed_vectors_are_never_found_and_similarities_skip_unknown_ids() -> None:
    vectors = clustered(300)
    index = VectorIndex(384)
    index.add(range(1, 301), vectors)

    index.remove([5, 6, 7])
    found = {passage_id for passage_id, _ in index.search(vectors[5], 300)}
    similarities = index.similarities(vectors[0], [1, 5, 999])

    assert len(index) == 297 and not found & {5, 6, 7}
    assert set(similarities) == {1} and abs(similarities[1] - 1.0) < 0.01


def test_ids_added_out_of_order_are_still_looked_up() -> None:
    vectors = clustered(20)
    index = VectorIndex(384)
    index.add([10, 11, 12], vectors[:3])
    index.add([3, 4], vectors[3:5])

    assert set(index.similarities(vectors[3], [3, 12])) == {3, 12}


def test_blobs_round_trip_and_wrong_dimensions_are_refused() -> None:
    vector = clustered(1)[0]

    assert np.array_equal(blob_to_vector(vector_to_blob(vector), 384), vector)
    with pytest.raises(ValueError, match="expected 128"):
        blob_to_vector(vector_to_blob(vector), 128)


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([1, 2, 3], [3, 1, 4])

    assert max(fused, key=fused.__getitem__) == 1
    assert fused[3] > fused[2] and fused[4] < fused[2]
