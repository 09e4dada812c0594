"""Training refuses to run on too little, immature or mismatched data, saying what to do."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from ml.config import GuardConfig, load_config
from ml.guards import check_history, check_window_frame
from ml.pipeline import train_and_register
from ml.registry import list_models
from ml.windows import plan_windows


def _frame(rows: int, positives: int) -> pd.DataFrame:
    return pd.DataFrame({"label": [1] * positives + [0] * (rows - positives)})


def test_too_few_rows_or_positives_raise_with_advice():
    guards = GuardConfig(min_train_rows=100, min_train_positives=20)
    with pytest.raises(ValueError, match=r"train window has 50 rows, fewer than 100.*Load more"):
        check_window_frame("train", _frame(50, 25), guards)
    with pytest.raises(ValueError, match="train window has 5 purchasers, fewer than 20"):
        check_window_frame("train", _frame(500, 5), guards)
    with pytest.raises(ValueError, match="only 3 non-purchasers"):
        check_window_frame("train", _frame(500, 497), guards)
    check_window_frame("train", _frame(500, 100), guards)


def test_short_history_trims_the_training_window_then_refuses(marts):
    planned = plan_windows(marts.cutoff, load_config())
    look_back = timedelta(days=14)
    assert check_history(marts.start + timedelta(days=1), planned, 14, 4) == planned

    def starting(first_data_day):  # the first feature as-of date is the day after
        return first_data_day + timedelta(days=1)

    trimmed = check_history(starting(planned.train[3] - look_back), planned, 14, 4)
    assert trimmed.train == planned.train[3:]
    assert trimmed.test == planned.test and trimmed.calibration == planned.calibration
    with pytest.raises(ValueError, match=r"Not enough history.*look-back 14.*at least 4 train"):
        check_history(starting(planned.train[-3] - look_back), planned, 14, 4)
    with pytest.raises(ValueError, match="is empty"):
        check_history(None, planned, 14, 4)


def test_pipeline_guards_raise_and_register_nothing(marts_db, marts):
    cases = [
        (load_config(guards={"min_train_rows": 10**6}), marts.cutoff, "fewer than 1000000"),
        (load_config(guards={"min_eval_positives": 10**5}), marts.cutoff, "purchasers, fewer"),
        (load_config(), marts.cutoff + timedelta(days=3), "are not mature"),
        (load_config(windows={"min_history_days": 60}), marts.cutoff, "Not enough history"),
        (load_config(label_horizon_days=5), marts.cutoff, "horizon of \\[7\\] days"),
    ]
    for config, as_of, message in cases:
        with pytest.raises(ValueError, match=message):
            train_and_register(marts_db, as_of=as_of, config=config)
    assert list_models(marts_db, "propensity") == []


def test_missing_labels_for_a_window_date(marts_db, marts):
    with marts_db.cursor() as cur:
        cur.execute(
            "delete from marts.fct_user_labels_daily where as_of_date = %s",
            (marts.cutoff - timedelta(days=7),),
        )
    marts_db.commit()
    with pytest.raises(ValueError, match="No labels for as-of date 2024-03-24"):
        train_and_register(marts_db, as_of=marts.cutoff, config=load_config())
