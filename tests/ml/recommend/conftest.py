"""Fixtures for the recommender: the `tiny` simulated shop as marts in fresh databases."""

from __future__ import annotations

import psycopg2
import pytest

from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from ml.recommend.config import load_config
from ml.recommend.pipeline import recommend, train_and_register
from tests.ml.recommend.shop import ShopMarts, load_shop_marts, simulated_marts


@pytest.fixture(scope="session")
def tiny_shop() -> ShopMarts:
    """300 users, 60 items, 40 days of the simulated shop (in memory)."""
    return simulated_marts("tiny")


@pytest.fixture(scope="session")
def recs_config():
    """The packaged settings with evaluation guards sized for the tiny shop."""
    return load_config(evaluation={"min_test_users": 5, "min_train_interactions": 50})


@pytest.fixture
def shop_db(warehouse, tiny_shop):
    """A fresh warehouse connection with the tiny shop's marts and truth."""
    load_shop_marts(warehouse, tiny_shop)
    return warehouse


@pytest.fixture(scope="module")
def published(tiny_shop, recs_config):
    """A module-wide database with a champion and the lists of the shop's next morning."""
    with temporary_database() as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            load_shop_marts(conn, tiny_shop)
            trained = train_and_register(conn, as_of=tiny_shop.as_of, config=recs_config)
            assert trained["status"] == "champion", trained
            summary = recommend(conn, score_date=tiny_shop.as_of, config=recs_config)
            yield conn, trained, summary
        finally:
            conn.close()
