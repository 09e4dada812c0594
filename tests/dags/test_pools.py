"""The warehouse pool's size comes from one setting, and the pool exists in a platform's
Airflow metadata database once the platform is set up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aimass.orchestration.pools import (
    DEFAULT_WAREHOUSE_POOL_SLOTS,
    WAREHOUSE_POOL,
    WAREHOUSE_POOL_SLOTS_ENV,
    pool_specs,
    warehouse_pool_slots,
)


def test_slots_default_and_come_from_the_environment():
    assert warehouse_pool_slots({}) == DEFAULT_WAREHOUSE_POOL_SLOTS
    assert warehouse_pool_slots({WAREHOUSE_POOL_SLOTS_ENV: " 7 "}) == 7
    assert pool_specs({WAREHOUSE_POOL_SLOTS_ENV: "3"})[WAREHOUSE_POOL].slots == 3


@pytest.mark.parametrize("raw", ["0", "-2", "four", "2.5"])
def test_a_bad_slot_count_names_the_setting(raw):
    with pytest.raises(ValueError, match=WAREHOUSE_POOL_SLOTS_ENV):
        warehouse_pool_slots({WAREHOUSE_POOL_SLOTS_ENV: raw})


def _pools(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimass.orchestration.pools", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_platform_has_the_pool_and_resizes_it_from_the_setting(platform_env):
    check = _pools(platform_env, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    resized = _pools({**platform_env, WAREHOUSE_POOL_SLOTS_ENV: "2"})
    assert resized.returncode == 0, resized.stderr
    assert f"Airflow pool {WAREHOUSE_POOL}: 2 slots." in resized.stdout
    listed = subprocess.run(
        [
            str(Path(sys.executable).parent / "airflow"),
            "pools",
            "get",
            WAREHOUSE_POOL,
            "-o",
            "plain",
        ],
        env=platform_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert WAREHOUSE_POOL in listed.stdout and " 2 " in f" {listed.stdout} "
    bad = _pools({**platform_env, WAREHOUSE_POOL_SLOTS_ENV: "none"})
    assert bad.returncode == 2 and WAREHOUSE_POOL_SLOTS_ENV in bad.stderr
