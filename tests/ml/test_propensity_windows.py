"""Time windows are ordered, purged, end at the cut-off, and the frames respect them."""

from __future__ import annotations

from datetime import date, timedelta

from ml.config import load_config
from ml.features import load_training_frame
from ml.train import split_by_window
from ml.windows import WINDOW_NAMES, TimeWindows, plan_windows


def test_windows_are_ordered_and_purged_by_the_horizon():
    config = load_config()
    cutoff = date(2024, 6, 1)
    windows = plan_windows(cutoff, config)
    horizon = timedelta(days=config.label_horizon_days)
    assert windows.test[-1] == cutoff - horizon
    assert len(windows.train) == config.windows.train_dates
    assert all(
        b - a == timedelta(days=3) for a, b in zip(windows.train, windows.train[1:], strict=False)
    )
    for earlier, later in zip(WINDOW_NAMES, WINDOW_NAMES[1:], strict=False):
        # every label of the earlier window ends before the later window starts
        assert max(windows.dates(earlier)) + horizon <= min(windows.dates(later))
    assert TimeWindows.from_dict(windows.as_dict()) == windows


def test_training_frame_never_holds_rows_from_the_test_window_or_later(marts_db, marts):
    config = load_config()
    windows = plan_windows(marts.cutoff, config)
    frame = load_training_frame(marts_db, windows.all_dates, config.label_horizon_days)
    frames = split_by_window(frame, windows)
    test_start = windows.test[0]
    for name in ("train", "validation", "calibration"):
        assert not frames[name].empty
        assert max(frames[name]["as_of_date"]) < test_start
        labels_end = max(frames[name]["as_of_date"]) + timedelta(days=config.label_horizon_days)
        assert labels_end <= test_start
    assert set(frames["train"]["as_of_date"]) == set(windows.train)
    assert max(frames["test"]["as_of_date"]) + timedelta(days=7) <= marts.cutoff
