"""Ranking metrics on lists worked out by hand, and the evaluation's comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.recommend.evaluate import coverage, novelty, ranking_metrics


def test_metrics_by_hand():
    # user 0: hits at positions 1 and 3 of 4, 2 relevant; user 1: no hit, 1 relevant
    hits = np.array([[True, False, True, False], [False, False, False, False]])
    out = ranking_metrics(hits, np.array([2, 1]), ks=[2, 4])
    assert out["users"] == 2
    assert out["precision@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert out["recall@4"] == pytest.approx((2 / 2 + 0) / 2)
    dcg = 1 + 1 / math.log2(4)
    ideal = 1 + 1 / math.log2(3)
    assert out["ndcg@4"] == pytest.approx((dcg / ideal + 0) / 2)
    assert out["map@4"] == pytest.approx(((1 + 2 / 3) / 2 + 0) / 2)


def test_users_without_relevant_items_are_not_averaged():
    out = ranking_metrics(np.array([[True], [False]]), np.array([1, 0]), ks=[1])
    assert out["users"] == 1 and out["precision@1"] == 1.0


def test_coverage_and_novelty():
    columns = np.array([[0, 1, -1], [1, 2, 3]])
    assert coverage(columns, 8) == pytest.approx(4 / 8)
    users_per_item = np.array([8, 4, 2, 1])
    expected = np.mean(
        [
            -math.log2(8 / 8),
            -math.log2(4 / 8),
            -math.log2(4 / 8),
            -math.log2(2 / 8),
            -math.log2(1 / 8),
        ]
    )
    assert novelty(columns, users_per_item, 8) == pytest.approx(expected)


def test_registered_evaluation_has_every_baseline_and_the_oracle(published):
    _, trained, _ = published
    assert set(trained["baselines"]) == {"popularity", "category_popularity", "item_knn", "oracle"}
    model = trained["metrics"]
    # the simulated shop's taste is real: the oracle and the model beat global popularity
    assert trained["baselines"]["oracle"]["ndcg@10"] > trained["baselines"]["popularity"]["ndcg@10"]
    assert model["ndcg@10"] > trained["baselines"]["popularity"]["ndcg@10"]
    assert 0 < model["coverage"] <= 1 and model["novelty"] > 0
