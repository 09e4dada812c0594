"""Training refuses to run on too little, immature or mismatched data, saying what to do."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from ml.config import GuardConfig, load_config
from ml.features import label_horizon
from ml.guards import check_window_frame
from ml.pipeline import train_and_register
from ml.registry import list_models
from tests.ml.factories import load_marts


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


def test_the_horizon_comes_from_the_labels_mart_and_must_be_one(warehouse, marts):
    with pytest.raises(ValueError, match="fct_user_labels_daily is missing or empty"):
        label_horizon(warehouse)
    load_marts(warehouse, marts)
    assert label_horizon(warehouse) == 7
    with warehouse.cursor() as cur:
        cur.execute(
            "update marts.fct_user_labels_daily set label_horizon_days = 30 where as_of_date = %s",
            (marts.grid_dates[3],),
        )
    warehouse.commit()
    with pytest.raises(ValueError, match=r"several horizons \[7, 30\].*one dbt var"):
        train_and_register(warehouse, as_of=marts.cutoff, config=load_config())
    with warehouse.cursor() as cur:
        cur.execute("delete from marts.fct_user_labels_daily")
        cur.execute("drop table marts.dim_as_of_dates")
    warehouse.commit()
    with pytest.raises(ValueError, match="missing or empty, so the label horizon is unknown"):
        train_and_register(warehouse, as_of=marts.cutoff, config=load_config())


def test_without_the_as_of_dates_mart_training_says_to_build_it(marts_db, marts):
    with marts_db.cursor() as cur:
        cur.execute("drop table marts.dim_as_of_dates")
    marts_db.commit()
    with pytest.raises(ValueError, match="marts.dim_as_of_dates does not exist: build the marts"):
        train_and_register(marts_db, as_of=marts.cutoff, config=load_config())


def test_pipeline_guards_raise_and_register_nothing(marts_db, marts):
    cases = [
        (load_config(guards={"min_train_rows": 10**6}), marts.cutoff, "fewer than 1000000"),
        (load_config(guards={"min_eval_positives": 10**5}), marts.cutoff, "purchasers, fewer"),
        (load_config(), marts.cutoff + timedelta(days=3), "are not mature"),
        (load_config(windows={"min_history_days": 60}), marts.cutoff, "Not enough history"),
        (load_config(windows={"test_dates": 30}), marts.cutoff, "test window finds too few"),
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
