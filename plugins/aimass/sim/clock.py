"""Simulated time: UTC epoch seconds, day numbers, the daily activity curve, app releases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

DAY = 86_400
# Relative activity per UTC hour (quiet at night, peaks in the evening).
HOURLY_ACTIVITY = np.array(
    [
        0.3,
        0.2,
        0.15,
        0.1,
        0.1,
        0.15,
        0.3,
        0.6,
        0.9,
        1.0,
        1.0,
        1.1,
        1.2,
        1.1,
        1.0,
        1.0,
        1.1,
        1.3,
        1.6,
        1.9,
        2.0,
        1.8,
        1.2,
        0.6,
    ]
)
HOURLY_CUM = np.cumsum(HOURLY_ACTIVITY) / HOURLY_ACTIVITY.sum()
APP_EPOCH_S = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
APP_RELEASE_DAYS = 14
APP_MAJOR = 5


def epoch_seconds(day: date) -> int:
    """Seconds since 1970-01-01 UTC at 00:00 of `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def day_number(day: date) -> int:
    """`day` as an integer YYYYMMDD (used inside ids)."""
    return day.year * 10_000 + day.month * 100 + day.day


def seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` times of day (seconds after midnight) following the hourly activity curve."""
    hour = np.searchsorted(HOURLY_CUM, rng.random(n), side="right")
    return np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, n)


def app_minor_at(epoch_s: np.ndarray | int) -> np.ndarray:
    """Minor version of the newest app release at a time (one release every two weeks)."""
    return (np.asarray(epoch_s) - APP_EPOCH_S) // (APP_RELEASE_DAYS * DAY)
