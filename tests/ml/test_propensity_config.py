"""The YAML config loads into typed settings, and bad settings fail with a clear message."""

from __future__ import annotations

import pytest

from ml.config import PropensityConfig, load_config


def test_packaged_config_loads_with_fixed_seeds_and_threads():
    config = load_config()
    assert isinstance(config, PropensityConfig)
    params = config.lightgbm.params
    assert params["deterministic"] is True
    assert params["num_threads"] == 2
    assert params["seed"] == 20240601
    assert config.purge_days(30) == 30  # null purge = the horizon of the labels mart
    assert load_config(windows={"purge_days": 3}).purge_days(30) == 3
    assert config.windows.train_days == 365
    assert "days_since_*" in config.drift.moves_by_construction


def test_overrides_merge_nested_sections_and_dunder_keys():
    config = load_config(
        retrain_after_days=2,
        windows={"train_days": 90},
        lightgbm__params={"num_leaves": 7},
        promotion__auc_margin=0.01,
    )
    assert config.retrain_after_days == 2
    assert config.windows.train_days == 90
    assert config.windows.min_train_dates == 4  # untouched keys keep the file's values
    assert config.lightgbm.params["num_leaves"] == 7
    assert config.lightgbm.params["deterministic"] is True
    assert config.promotion.auc_margin == 0.01


def test_unknown_key_names_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"Unknown setting\(s\) \['trian_days'\] in config.windows"
    ):
        load_config(windows={"trian_days": 3})


def test_invalid_values_are_rejected():
    with pytest.raises(ValueError, match="calibration.method must be one of"):
        load_config(calibration={"method": "magic"})
    with pytest.raises(ValueError, match="windows.test_dates must be >= 1"):
        load_config(windows__test_dates=0)
    with pytest.raises(ValueError, match="promotion.baseline_noise_z must be >= 0"):
        load_config(promotion__baseline_noise_z=-1)
    with pytest.raises(ValueError, match=r"drift.on_fail must be one of \('retrain', 'block'\)"):
        load_config(drift__on_fail="ignore")


def test_the_horizon_and_the_spacing_are_dbt_vars_not_model_settings(tmp_path):
    path = tmp_path / "old.yml"
    path.write_text("label_horizon_days: 30\nwindows: {spacing_days: 3, train_dates: 10}\n")
    with pytest.raises(ValueError) as error:
        load_config(path)
    message = str(error.value)
    assert f"in {path} are no longer model settings" in message
    assert "dbt var label_horizon_days" in message and "AIMASS_DBT_VARS" in message
    assert "dbt var as_of_spacing_days" in message and "windows.train_days" in message
    with pytest.raises(ValueError, match="dbt var label_horizon_days"):
        load_config(label_horizon_days=7)


def test_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.yml")


def test_a_partial_file_is_merged_over_the_packaged_defaults(tmp_path, monkeypatch):
    path = tmp_path / "small_shop.yml"
    path.write_text("windows: {train_days: 60, min_train_dates: 3}\nguards: {min_train_rows: 10}\n")
    monkeypatch.setenv("AIMASS_PROPENSITY_CONFIG", str(path))
    config = load_config(retrain_after_days=1, windows__max_train_rows=5000)
    assert config.windows.train_days == 60 and config.windows.min_train_dates == 3
    assert config.windows.test_dates == 2
    assert config.windows.max_train_rows == 5000
    assert config.guards.min_train_rows == 10
    assert config.lightgbm.params["deterministic"] is True
    assert config.retrain_after_days == 1
