"""Time windows lie on the mart's grid dates, are ordered and purged by the horizon, end at the
cut-off, use up to a year of history, and the frames respect them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ml.config import load_config
from ml.features import load_as_of_dates, load_training_frame, training_sample, user_sample_key
from ml.pipeline import load_training_data
from ml.windows import WINDOW_NAMES, TimeWindows, plan_windows
from tests.ml.factories import is_grid_date


def _grid(first: date, last: date, spacing: int = 3) -> list[date]:
    days = (last - first).days + 1
    return [
        first + timedelta(days=i)
        for i in range(days)
        if is_grid_date(first + timedelta(days=i), spacing)
    ]


CUTOFF = date(2026, 6, 1)
GRID = _grid(date(2024, 1, 1), CUTOFF)  # two and a half years of grid dates


@pytest.mark.parametrize("horizon", [7, 30, 90])
def test_windows_take_grid_dates_purged_by_the_horizon(horizon):
    config = load_config().windows
    windows = plan_windows(CUTOFF, GRID, horizon, config, first_data_day=date(2023, 12, 31))
    step = timedelta(days=horizon)
    assert set(windows.all_dates) <= set(GRID)
    # the last test date is the latest grid date whose label has matured by the cut-off
    assert windows.test[-1] == max(d for d in GRID if d + step <= CUTOFF)
    assert len(windows.test) == config.test_dates
    for earlier, later in zip(WINDOW_NAMES, WINDOW_NAMES[1:], strict=False):
        # every label of the earlier window ends before the later window starts, and the gap
        # is no wider than the purge plus one grid step
        gap = min(windows.dates(later)) - max(windows.dates(earlier))
        assert step <= gap < step + timedelta(days=3)
    # a year of training dates: every grid date in (last - 365 days, last]
    last = windows.train[-1]
    assert windows.train == tuple(d for d in GRID if last - timedelta(days=365) < d <= last)
    assert len(windows.train) == 122
    assert TimeWindows.from_dict(windows.as_dict()) == windows


def test_training_starts_after_the_look_back_and_refuses_below_min_train_dates():
    config = load_config().windows
    first_data_day = date(2026, 1, 1)
    windows = plan_windows(CUTOFF, GRID, 7, config, first_data_day=first_data_day)
    assert windows.train[0] >= first_data_day + timedelta(days=config.min_history_days)
    assert windows.train[0] - timedelta(days=3) < first_data_day + timedelta(days=14)
    short = load_config(windows={"train_days": 30}).windows
    assert len(plan_windows(CUTOFF, GRID, 7, short, first_data_day=first_data_day).train) == 10
    too_late = windows.train[-3] - timedelta(days=14)
    with pytest.raises(ValueError, match=r"Not enough history.*7-day label horizon.*fewer than"):
        plan_windows(CUTOFF, GRID, 7, config, first_data_day=too_late)
    with pytest.raises(ValueError, match="the test window finds too few grid dates"):
        plan_windows(CUTOFF, [d for d in GRID if d > CUTOFF - timedelta(days=30)], 30, config)


def test_an_explicit_purge_replaces_the_horizon():
    config = load_config(windows={"purge_days": 3}).windows
    windows = plan_windows(CUTOFF, GRID, 30, config, purge_days=3)
    assert windows.calibration[-1] == windows.test[0] - timedelta(days=3)
    assert windows.validation[-1] == windows.calibration[0] - timedelta(days=3)


def test_training_frame_never_holds_rows_from_the_test_window_or_later(marts_db, marts):
    data = load_training_data(marts_db, marts.cutoff, load_config())
    windows, frames = data.windows, data.frames
    assert data.horizon_days == marts.horizon == 7
    test_start = windows.test[0]
    for name in ("train", "validation", "calibration"):
        assert not frames[name].empty
        assert max(frames[name]["as_of_date"]) + timedelta(days=7) <= test_start
    assert set(frames["train"]["as_of_date"]) == set(windows.train)
    assert set(windows.all_dates) <= set(marts.grid_dates)
    assert max(frames["test"]["as_of_date"]) + timedelta(days=7) <= marts.cutoff
    # the factory marts start on day 1: the look-back keeps the first two weeks out
    assert windows.train[0] >= marts.start + timedelta(days=14)
    assert data.sample is None


def test_a_row_cap_trains_on_whole_users_sampled_the_same_way_every_run(marts_db, marts):
    full = load_training_data(marts_db, marts.cutoff, load_config()).frames["train"]
    capped_config = load_config(windows={"max_train_rows": 3000}, guards={"min_train_rows": 500})
    first = load_training_data(marts_db, marts.cutoff, capped_config)
    again = load_training_data(marts_db, marts.cutoff, capped_config)
    train = first.frames["train"]
    assert first.sample is not None and first.sample.fraction == pytest.approx(3000 / len(full))
    assert 0.7 * 3000 < len(train) < 1.3 * 3000
    assert train.equals(again.frames["train"])
    # whole users: a sampled user keeps every training date they have
    kept = set(train["user_id"])
    assert len(train) == int(full["user_id"].isin(kept).sum())
    # the evaluation windows are not sampled
    assert first.frames["test"].equals(
        load_training_data(marts_db, marts.cutoff, load_config()).frames["test"]
    )
    other_seed = load_config(
        windows={"max_train_rows": 3000, "sample_seed": "other"}, guards={"min_train_rows": 500}
    )
    assert (
        set(load_training_data(marts_db, marts.cutoff, other_seed).frames["train"]["user_id"])
        != kept
    )


def test_sql_sample_matches_the_python_key(marts_db, marts):
    dates = load_as_of_dates(marts_db)
    train_dates = marts.grid_dates[5:15]
    sample = training_sample(dates, train_dates, 2000, "seed")
    frame = load_training_frame(marts_db, train_dates, 7, sample)
    expected = {
        u
        for u in marts.features["user_id"].unique()
        if user_sample_key(u, "seed") < sample.fraction
    }
    assert set(frame["user_id"]) == expected & set(
        marts.features.loc[marts.features["as_of_date"].isin(train_dates), "user_id"]
    )
