"""Simulated shops shared by the simulator tests (simulated once per test session)."""

from __future__ import annotations

import pytest

from aimass.contracts import load_contracts
from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop


@pytest.fixture(scope="session")
def contracts():
    return load_contracts()


@pytest.fixture(scope="session")
def tiny_config():
    return load_shop_config("tiny")


@pytest.fixture(scope="session")
def tiny_shop(tiny_config):
    """The whole `tiny` profile (300 users, 40 days)."""
    return simulate_shop(tiny_config)


@pytest.fixture(scope="session")
def crowded_shop():
    """`tiny` with more users: enough for statistical checks of the randomization."""
    return simulate_shop(load_shop_config("tiny", n_users=4000, days=60))


@pytest.fixture(scope="session")
def tiny_shop_until(tiny_config):
    """`tiny` simulated up to a given day (cached): what a daily run of that day sees."""
    shops = {}

    def until(day):
        if day not in shops:
            shops[day] = simulate_shop(tiny_config, until=day)
        return shops[day]

    return until
