"""`daily.simulate_shop`: a run writes only what the run of the day before did not."""

from datetime import timedelta

import pytest

from aimass.contracts import load_contracts
from aimass.orchestration import daily
from aimass.sim.config import load_shop_config


def test_the_next_day_writes_one_day_of_files_and_truth(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AIMASS_LANDING_URI", (tmp_path / "landing").as_uri())
    config = load_shop_config("tiny")
    last = config.end_date
    n_sources, n_days = len(load_contracts()), config.days

    first = daily.simulate_shop(warehouse_url, last - timedelta(days=1), "tiny")
    assert first["files_written"] == n_sources * (n_days - 1) and first["files_kept"] == 0
    assert first["truth_full_rewrite"]
    assert first["truth_rows_written"] == first["truth_rows"]

    second = daily.simulate_shop(warehouse_url, last, "tiny")
    assert second["files_written"] == n_sources
    assert second["files_kept"] == n_sources * (n_days - 1)
    assert not second["truth_full_rewrite"]
    daily_rows = "user_daily_purchase_prob"
    assert second["truth_rows_kept"][daily_rows] == first["truth_rows"][daily_rows]
    assert 0 < second["truth_rows_written"][daily_rows] < first["truth_rows"][daily_rows]

    again = daily.simulate_shop(warehouse_url, last, "tiny")
    assert again["files_written"] == 0 and again["files_kept"] == n_sources * n_days
    assert again["truth_rows"] == second["truth_rows"]
    assert again["truth_rows_written"][daily_rows] == 0


def test_the_simulator_does_not_write_into_a_landing_area_with_other_data(
    warehouse_url, tmp_path, monkeypatch
):
    """A real export in the landing area (no simulator manifest) is never overwritten."""
    landing = tmp_path / "landing"
    export = landing / "orders" / "history" / "orders.csv"
    export.parent.mkdir(parents=True)
    export.write_text("order_id,user_id,order_ts,status,total_amount\n")
    monkeypatch.setenv("AIMASS_LANDING_URI", landing.as_uri())
    with pytest.raises(ValueError, match="holds data the simulated shop did not write"):
        daily.simulate_shop(warehouse_url, load_shop_config("tiny").end_date, "tiny")
    assert sorted(p.name for p in landing.iterdir()) == ["orders"]
    assert export.read_text() == "order_id,user_id,order_ts,status,total_amount\n"
