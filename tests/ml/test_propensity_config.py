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
    assert config.purge_days == config.label_horizon_days  # null purge = horizon


def test_overrides_merge_nested_sections_and_dunder_keys():
    config = load_config(
        label_horizon_days=5,
        windows={"train_dates": 4},
        lightgbm__params={"num_leaves": 7},
        promotion__auc_margin=0.01,
    )
    assert config.label_horizon_days == 5
    assert config.windows.train_dates == 4
    assert config.windows.spacing_days == 3  # untouched keys keep the file's values
    assert config.lightgbm.params["num_leaves"] == 7
    assert config.lightgbm.params["deterministic"] is True
    assert config.promotion.auc_margin == 0.01


def test_unknown_key_names_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"Unknown setting\(s\) \['trian_dates'\] in config.windows"
    ):
        load_config(windows={"trian_dates": 3})


def test_invalid_values_are_rejected():
    with pytest.raises(ValueError, match="calibration.method must be one of"):
        load_config(calibration={"method": "magic"})
    with pytest.raises(ValueError, match="windows.test_dates must be >= 1"):
        load_config(windows__test_dates=0)
    with pytest.raises(ValueError, match="promotion.baseline_noise_z must be >= 0"):
        load_config(promotion__baseline_noise_z=-1)


def test_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.yml")


def test_a_partial_file_is_merged_over_the_packaged_defaults(tmp_path, monkeypatch):
    path = tmp_path / "small_shop.yml"
    path.write_text("windows: {train_dates: 6, min_train_dates: 3}\nguards: {min_train_rows: 10}\n")
    monkeypatch.setenv("AIMASS_PROPENSITY_CONFIG", str(path))
    config = load_config(label_horizon_days=5)
    assert config.windows.train_dates == 6 and config.windows.min_train_dates == 3
    assert config.windows.spacing_days == 3
    assert config.guards.min_train_rows == 10
    assert config.lightgbm.params["deterministic"] is True
    assert config.label_horizon_days == 5
