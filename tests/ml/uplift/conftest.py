"""One trained coupon uplift champion on the synthetic randomized campaigns, shared by the
module's tests (training takes most of their time)."""

from __future__ import annotations

import psycopg2
import pytest

from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from ml.uplift.config import load_uplift_config
from ml.uplift.pipeline import train_and_register_uplift
from tests.ml.uplift.factories import build, load_coupon_shop


@pytest.fixture(scope="session")
def coupon_shop():
    return build(n_users=3000, campaigns=5, seed=3)


@pytest.fixture(scope="session")
def uplift_config():
    # a coupon pays off more often with this margin, so budgets bind in the tests; the five
    # synthetic campaigns leave one for validation and one for the test
    return load_uplift_config(
        economics={"margin": 0.6},
        lightgbm={"num_boost_round": 150},
        campaigns={"validation_campaigns": 1, "test_campaigns": 1},
    )


@pytest.fixture(scope="module")
def uplift_db(coupon_shop, uplift_config):
    """(connection, training summary) of a database with the shop and a trained champion."""
    with temporary_database() as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            load_coupon_shop(conn, coupon_shop)
            summary = train_and_register_uplift(conn, config=uplift_config)
            yield conn, summary
        finally:
            conn.close()
