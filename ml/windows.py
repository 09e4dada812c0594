"""Time windows of as-of dates: train < validation < calibration < test, never a random split."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from ml.config import PropensityConfig

WINDOW_NAMES = ("train", "validation", "calibration", "test")


@dataclass(frozen=True)
class TimeWindows:
    """The as-of dates of each window for a model trained with data before `cutoff`."""

    cutoff: date
    horizon_days: int
    train: tuple[date, ...]
    validation: tuple[date, ...]
    calibration: tuple[date, ...]
    test: tuple[date, ...]

    def dates(self, name: str) -> tuple[date, ...]:
        return getattr(self, name)

    @property
    def all_dates(self) -> tuple[date, ...]:
        return tuple(d for name in WINDOW_NAMES for d in self.dates(name))

    @property
    def first_date(self) -> date:
        return min(self.all_dates)

    def as_dict(self) -> dict:
        """JSON-friendly description (ISO dates) for the registry and reports."""
        out: dict = {"cutoff": self.cutoff.isoformat(), "horizon_days": self.horizon_days}
        for name in WINDOW_NAMES:
            dates = self.dates(name)
            out[name] = {
                "start": dates[0].isoformat(),
                "end": dates[-1].isoformat(),
                "dates": [d.isoformat() for d in dates],
            }
        return out

    @classmethod
    def from_dict(cls, data: dict) -> TimeWindows:
        return cls(
            cutoff=date.fromisoformat(data["cutoff"]),
            horizon_days=int(data["horizon_days"]),
            **{
                name: tuple(date.fromisoformat(d) for d in data[name]["dates"])
                for name in WINDOW_NAMES
            },
        )


def plan_windows(cutoff: date, config: PropensityConfig) -> TimeWindows:
    """Lay the windows out backwards from `cutoff` (no data on or after it is used).

    The last test date is `cutoff - horizon`, so its label window ends at the cut-off; each
    earlier window ends `purge_days` before the next one starts, so by default no training label
    looks at a day that a later window's label looks at.
    """
    horizon = config.label_horizon_days
    w = config.windows
    step = timedelta(days=w.spacing_days)
    purge = timedelta(days=config.purge_days)
    counts = {
        "test": w.test_dates,
        "calibration": w.calibration_dates,
        "validation": w.validation_dates,
        "train": w.train_dates,
    }
    last = cutoff - timedelta(days=horizon)
    planned: dict[str, tuple[date, ...]] = {}
    for name, count in counts.items():
        dates = tuple(last - step * k for k in reversed(range(count)))
        planned[name] = dates
        last = dates[0] - purge
    windows = TimeWindows(cutoff=cutoff, horizon_days=horizon, **planned)
    assert_windows_ordered(windows)
    return windows


def assert_windows_ordered(windows: TimeWindows) -> None:
    """Every date of a window is earlier than every date of the windows after it."""
    for earlier, later in zip(WINDOW_NAMES, WINDOW_NAMES[1:], strict=False):
        if max(windows.dates(earlier)) >= min(windows.dates(later)):
            raise ValueError(f"Window {earlier} overlaps {later}: {windows.as_dict()}")
    if windows.test[-1] + timedelta(days=windows.horizon_days) > windows.cutoff:
        raise ValueError("The test labels would look past the training cut-off.")


def trim_to_history(
    windows: TimeWindows, first_data_day: date, min_history_days: int
) -> TimeWindows:
    """Leave out the training dates that have less than `min_history_days` of data before them
    (the evaluation windows never move). The result may have no training date left."""
    earliest = first_data_day + timedelta(days=min_history_days)
    return replace(windows, train=tuple(d for d in windows.train if d >= earliest))
