"""Time windows of as-of dates on the feature mart's grid: train < validation < calibration <
test, never a random split."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ml.config import WindowConfig

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


def plan_windows(
    cutoff: date,
    grid_dates: Iterable[date],
    horizon_days: int,
    config: WindowConfig,
    *,
    first_data_day: date | None = None,
    purge_days: int | None = None,
) -> TimeWindows:
    """Lay the windows out backwards from `cutoff` on the mart's grid dates (no data on or after
    the cut-off is used).

    The last test date is the latest grid date A with A + horizon <= cutoff. Each earlier window
    ends on the latest grid date at least `purge_days` (default: the horizon) before the next
    window starts, so by default no training label looks at a day a later window's label looks
    at. Training takes the grid dates within `train_days` before its last date that have
    `min_history_days` of data since `first_data_day`. ValueError, saying what to do, when an
    evaluation window finds no date or fewer than `min_train_dates` training dates remain.
    """
    horizon = timedelta(days=horizon_days)
    purge = timedelta(days=horizon_days if purge_days is None else purge_days)
    grid = sorted({d for d in grid_dates if d + horizon <= cutoff})
    planned: dict[str, tuple[date, ...]] = {}
    latest = cutoff - horizon
    for name, count in (
        ("test", config.test_dates),
        ("calibration", config.calibration_dates),
        ("validation", config.validation_dates),
    ):
        dates = tuple(d for d in grid if d <= latest)[-count:]
        if len(dates) < count:
            raise ValueError(_too_short(cutoff, horizon_days, grid, name, first_data_day))
        planned[name] = dates
        latest = dates[0] - purge
    train_end = max((d for d in grid if d <= latest), default=latest)
    earliest = train_end - timedelta(days=config.train_days)
    if first_data_day is not None:
        earliest = max(earliest, first_data_day + timedelta(days=config.min_history_days - 1))
    planned["train"] = tuple(d for d in grid if earliest < d <= latest)
    if len(planned["train"]) < config.min_train_dates:
        raise ValueError(
            _too_short(cutoff, horizon_days, grid, "train", first_data_day)
            + f" The training window ends {latest} and has {len(planned['train'])} grid "
            f"date(s) with {config.min_history_days} days of data before them (look-back), "
            f"fewer than windows.min_train_dates={config.min_train_dates}."
        )
    windows = TimeWindows(cutoff=cutoff, horizon_days=horizon_days, **planned)
    assert_windows_ordered(windows)
    return windows


def _too_short(
    cutoff: date, horizon: int, grid: list[date], window: str, first_data_day: date | None
) -> str:
    since = f"the data starts {first_data_day}" if first_data_day else "no data day is known"
    return (
        f"Not enough history to train with cut-off {cutoff} and a {horizon}-day label horizon: "
        f"the {window} window finds too few grid dates of marts.dim_as_of_dates "
        f"({len(grid)} have mature labels by the cut-off; {since}). Load more history, train "
        "with a later --as-of, use a shorter horizon (dbt var label_horizon_days), or shrink "
        "windows.* (min_train_dates, purge_days, min_history_days) in ml/conf/propensity.yml "
        "(ml/conf/propensity_short_history.yml is made for a few weeks of data)."
    )


def assert_windows_ordered(windows: TimeWindows) -> None:
    """Every date of a window is earlier than every date of the windows after it."""
    for earlier, later in zip(WINDOW_NAMES, WINDOW_NAMES[1:], strict=False):
        if max(windows.dates(earlier)) >= min(windows.dates(later)):
            raise ValueError(f"Window {earlier} overlaps {later}: {windows.as_dict()}")
    if windows.test[-1] + timedelta(days=windows.horizon_days) > windows.cutoff:
        raise ValueError("The test labels would look past the training cut-off.")
