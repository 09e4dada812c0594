"""Same seed -> same bytes; a different seed -> different data; earlier days never depend on
how far the simulation runs."""

import dataclasses
from datetime import timedelta

import pandas as pd

from aimass.sim.generate import simulate_shop
from aimass.sim.landing import serialise


def test_same_seed_gives_identical_frames(tiny_config, tiny_shop):
    again = simulate_shop(tiny_config)
    for name, frame in tiny_shop.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], check_exact=True, obj=name)
    for name in tiny_shop.truth:
        pd.testing.assert_frame_equal(
            tiny_shop.truth[name], again.truth[name], check_exact=True, obj=name
        )


def test_different_seed_gives_different_data(tiny_config, tiny_shop):
    other = simulate_shop(dataclasses.replace(tiny_config, seed=8))
    assert not tiny_shop.tables["events"].equals(other.tables["events"])
    assert not tiny_shop.tables["users"]["email"].equals(other.tables["users"]["email"])


def test_days_do_not_depend_on_until(tiny_config, contracts):
    cut = tiny_config.start_date + timedelta(days=17)  # covers the first coupon offer (day 14)
    short = simulate_shop(tiny_config, until=cut)
    longer = simulate_shop(tiny_config, until=cut + timedelta(days=3))
    assert short.days[-1] == cut and longer.days[-1] == cut + timedelta(days=3)
    for name, contract in contracts.items():
        for day in short.days:
            assert serialise(short.landing[name].day(day), contract) == serialise(
                longer.landing[name].day(day), contract
            ), f"{name} {day}"
    daily = "user_daily_purchase_prob"
    later = longer.truth[daily]
    pd.testing.assert_frame_equal(
        short.truth[daily], later[later["day"] <= cut].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(short.truth["coupon_effect"], longer.truth["coupon_effect"])
