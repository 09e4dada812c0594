"""Checks run before training; each failure is a ValueError saying what to do."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from ml.config import GuardConfig
from ml.features import LABEL_COLUMN
from ml.windows import WINDOW_NAMES, TimeWindows


def check_labels_mature(label_status: pd.DataFrame, windows: TimeWindows) -> None:
    """Every as-of date of every window must have labels whose whole window has data."""
    by_date = {row.as_of_date: row for row in label_status.itertuples(index=False)}
    for as_of in windows.all_dates:
        row = by_date.get(as_of)
        window_end = as_of + timedelta(days=windows.horizon_days)
        if row is None or row.rows == 0:
            raise ValueError(
                f"No labels for as-of date {as_of} in marts.fct_user_labels_daily. Load data "
                f"through {window_end - timedelta(days=1)} and run dbt, or train with an "
                "earlier --as-of."
            )
        if row.mature_rows < row.rows:
            raise ValueError(
                f"The labels for as-of date {as_of} are not mature: their window runs to "
                f"{window_end} (exclusive) but the data does not cover it yet. Load data "
                f"through {window_end - timedelta(days=1)}, or train with an earlier --as-of "
                "(the cut-off may be at most the day after the last loaded day)."
            )


def check_window_frame(name: str, frame: pd.DataFrame, guards: GuardConfig) -> None:
    """Enough rows, positives and negatives in one window's frame."""
    is_train = name == "train"
    min_rows = guards.min_train_rows if is_train else guards.min_eval_rows
    min_pos = guards.min_train_positives if is_train else guards.min_eval_positives
    rows = len(frame)
    positives = int(frame[LABEL_COLUMN].sum()) if rows else 0
    negatives = rows - positives
    hint = (
        "Load more history or users, add as-of dates to the window "
        f"(windows.{name}_dates in ml/conf/propensity.yml), or lower guards.* with care."
    )
    if rows < min_rows:
        raise ValueError(f"The {name} window has {rows} rows, fewer than {min_rows}. {hint}")
    if positives < min_pos:
        raise ValueError(
            f"The {name} window has {positives} purchasers, fewer than {min_pos}. {hint}"
        )
    if negatives < min_pos:
        raise ValueError(
            f"The {name} window has only {negatives} non-purchasers; the label is almost "
            f"constant. {hint}"
        )


def check_frames(frames: dict[str, pd.DataFrame], guards: GuardConfig) -> None:
    for name in WINDOW_NAMES:
        check_window_frame(name, frames[name], guards)
