"""The one settings loader: packaged YAML, then a user file, then overrides; the YAML is the only
source of defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING

import pytest

from ml.core.config import build, load_settings
from ml.core.errors import ConfigError
from ml.propensity.config import PropensityConfig
from ml.recommend.config import RecommendConfig
from ml.uplift.config import UpliftConfig

CONFIGS = [
    (PropensityConfig, "propensity.yml"),
    (UpliftConfig, "coupon_uplift.yml"),
    (RecommendConfig, "recommendations.yml"),
]


@pytest.mark.parametrize(("cls", "file_name"), CONFIGS)
def test_every_setting_comes_from_the_packaged_yaml(cls, file_name):
    import typing

    def walk(c):
        hints = typing.get_type_hints(c)
        for f in dataclasses.fields(c):
            assert f.default is MISSING and f.default_factory is MISSING, f"{c.__name__}.{f.name}"
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name])

    walk(cls)
    assert isinstance(load_settings(cls, file_name, env="AIMASS_NO_SUCH_VAR"), cls)


def test_user_file_then_overrides_are_merged_over_the_packaged_file(tmp_path):
    user = tmp_path / "mine.yml"
    user.write_text("top_n: 7\nrules:\n  max_per_merchant: 2\n")
    config = load_settings(
        RecommendConfig,
        "recommendations.yml",
        env="AIMASS_NO_SUCH_VAR",
        path=user,
        overrides={"rules__recent_purchase_days": 3, "model": {"factors": 8}},
    )
    assert (config.top_n, config.rules.max_per_merchant) == (7, 2)
    assert config.rules.recent_purchase_days == 3
    packaged = load_settings(RecommendConfig, "recommendations.yml", env="AIMASS_NO_SUCH_VAR")
    assert config.model.factors == 8 and config.model.iterations == packaged.model.iterations


def test_a_user_file_named_by_the_environment_is_read(tmp_path, monkeypatch):
    user = tmp_path / "env.yml"
    user.write_text("retrain_after_days: 3\n")
    monkeypatch.setenv("AIMASS_TEST_CONFIG", str(user))
    config = load_settings(UpliftConfig, "coupon_uplift.yml", env="AIMASS_TEST_CONFIG")
    assert config.retrain_after_days == 3


def test_unknown_and_missing_settings_are_configuration_errors():
    @dataclasses.dataclass(frozen=True)
    class Small:
        a: int
        b: int

    with pytest.raises(ConfigError, match=r"Unknown setting\(s\) \['c'\]"):
        build(Small, {"a": 1, "b": 2, "c": 3}, "small.yml")
    with pytest.raises(ConfigError, match=r"Setting\(s\) \['b'\] missing"):
        build(Small, {"a": 1}, "small.yml")
