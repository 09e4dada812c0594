from datetime import date

import pytest

from aimass.sim.config import ShopConfig, load_shop_config


@pytest.mark.parametrize(
    ("profile", "users"),
    [
        ("tiny", 300),
        ("demo", 2000),
        ("small", 10_000),
        ("midsize", 25_000),
        ("medium", 100_000),
        ("large", 500_000),
    ],
)
def test_profiles_load_with_their_sizes(profile, users):
    config = load_shop_config(profile)
    assert isinstance(config, ShopConfig)
    assert config.n_users == users
    assert config.start_date == date(2026, 7, 1)


def test_demo_profile_covers_90_days():
    config = load_shop_config("demo")
    assert (config.n_items, config.days) == (300, 90)
    assert config.end_date == date(2026, 9, 28)
    # a 4-day coupon campaign every 4 days; the last one's window ends on the last day
    assert config.coupon_offer_days == list(range(14, 87, 4))
    assert config.coupon_offer_days[-1] + config.coupon_horizon_days - 1 == config.days - 1
    assert load_shop_config("small").coupon_offer_days == list(range(14, 85, 7))


def test_overrides_apply_and_are_typed():
    config = load_shop_config("tiny", seed=11, start_date="2026-01-05", coupon_values=[3, 7])
    assert config.seed == 11
    assert config.start_date == date(2026, 1, 5)
    assert config.coupon_values == (3.0, 7.0)


def test_unknown_profile_and_setting_are_explained():
    with pytest.raises(ValueError, match="profile 'huge' is not defined"):
        load_shop_config("huge")
    with pytest.raises(ValueError, match="unknown settings \\['n_user'\\]"):
        load_shop_config("tiny", n_user=5)


def test_invalid_values_are_rejected_with_the_fix():
    with pytest.raises(ValueError, match="late_event_fraction must be in"):
        load_shop_config("tiny", late_event_fraction=1.5)
    with pytest.raises(ValueError, match="campaigns do not overlap"):
        load_shop_config("tiny", coupon_interval_days=3, coupon_horizon_days=7)


def test_config_is_frozen():
    config = load_shop_config("tiny")
    with pytest.raises(AttributeError):
        config.seed = 1


def test_the_fingerprint_changes_with_the_config_and_with_the_simulator_code(monkeypatch):
    from aimass.sim import config as sim_config

    demo = load_shop_config("demo")
    fingerprint = sim_config.shop_fingerprint(demo)
    assert sim_config.shop_fingerprint(load_shop_config("demo")) == fingerprint
    assert sim_config.shop_fingerprint(load_shop_config("demo", seed=1)) != fingerprint
    monkeypatch.setattr(sim_config, "simulator_code_digest", lambda: "other code")
    assert sim_config.shop_fingerprint(demo) != fingerprint
