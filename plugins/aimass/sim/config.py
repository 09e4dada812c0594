"""The simulated shop's parameters (`ShopConfig`) and their profiles in `conf/simulator.yml`."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import yaml


@dataclass(frozen=True)
class ShopConfig:
    """Everything that determines a simulated shop; the same config gives the same rows.

    Sizes: `n_users` (created over time: `pre_start_user_share` of them sign up in the
    `signup_history_days` before `start_date`, the rest during the window), `n_items`
    (`new_item_share` of them are listed during the window), `n_merchants`, `n_suppliers`.
    Calendar: `days` days from `start_date` (day 0). `late_event_fraction` of events and ad
    events are delivered in the next day's landing partition.
    Behaviour: `base_logit` is the intercept of the daily purchase log-odds, `session_rate` the
    mean browse sessions per user-day before trait multipliers, `weekend_lift` and
    `promo_lift` log-odds lifts (the promotion runs `promo_days` days from day
    `promo_start_day` with `promo_discount` off list prices), `cancel_rate` the share of
    orders cancelled. Ads: `n_ad_campaigns` campaigns over the channels. Coupons: a campaign
    offers coupons on day `coupon_first_offer_day` and every `coupon_interval_days` after,
    while its `coupon_horizon_days` horizon ends inside the window; `coupon_treatment_share`
    of the users are randomly assigned a coupon, split evenly over `coupon_values`.
    Truth: `truth_horizon_days` is the horizon of the true next-days purchase probability.
    """

    seed: int
    n_users: int
    n_items: int
    n_merchants: int
    n_suppliers: int
    start_date: date
    days: int
    late_event_fraction: float = 0.01
    pre_start_user_share: float = 0.85
    signup_history_days: int = 730
    new_item_share: float = 0.08
    base_logit: float = -5.8
    session_rate: float = 0.09
    weekend_lift: float = 0.35
    promo_start_day: int = 45
    promo_days: int = 3
    promo_lift: float = 0.9
    promo_discount: float = 0.15
    cancel_rate: float = 0.05
    n_ad_campaigns: int = 8
    coupon_first_offer_day: int = 14
    coupon_interval_days: int = 7
    coupon_horizon_days: int = 4
    coupon_values: tuple[float, ...] = (5.0, 10.0)
    coupon_treatment_share: float = 0.5
    truth_horizon_days: int = 7

    def __post_init__(self) -> None:
        problems = []
        for name in ("n_users", "n_items", "n_merchants", "n_suppliers", "days"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.n_items < 12:
            problems.append(
                f"n_items must be >= 12 so every category has items (got {self.n_items})"
            )
        for name in (
            "late_event_fraction",
            "pre_start_user_share",
            "new_item_share",
            "promo_discount",
            "cancel_rate",
        ):
            value = getattr(self, name)
            if not 0 <= value < 1:
                problems.append(f"{name} must be in [0, 1) (got {value})")
        if not 0 < self.coupon_treatment_share < 1:
            problems.append(
                f"coupon_treatment_share must be in (0, 1) (got {self.coupon_treatment_share})"
            )
        if not self.coupon_values or any(v <= 0 for v in self.coupon_values):
            problems.append(f"coupon_values must be positive amounts (got {self.coupon_values})")
        if self.coupon_horizon_days < 1 or self.coupon_interval_days < self.coupon_horizon_days:
            problems.append(
                "coupon_interval_days must be >= coupon_horizon_days >= 1 so campaigns do not "
                f"overlap (got {self.coupon_interval_days} and {self.coupon_horizon_days})"
            )
        if self.truth_horizon_days < 1:
            problems.append(f"truth_horizon_days must be >= 1 (got {self.truth_horizon_days})")
        if self.signup_history_days < 1 or self.n_ad_campaigns < 0 or self.promo_days < 0:
            problems.append("signup_history_days >= 1, n_ad_campaigns >= 0, promo_days >= 0")
        if problems:
            raise ValueError(
                "simulator config is invalid: "
                + "; ".join(problems)
                + ". Fix the profile in conf/simulator.yml or the override."
            )

    @property
    def end_date(self) -> date:
        """The last simulated day (inclusive)."""
        return self.start_date + timedelta(days=self.days - 1)

    @property
    def coupon_offer_days(self) -> list[int]:
        """Day offsets of the coupon campaigns' offer dates (horizon ends inside the window)."""
        return list(
            range(
                self.coupon_first_offer_day,
                self.days - self.coupon_horizon_days + 1,
                self.coupon_interval_days,
            )
        )


def canonical_config(config: ShopConfig) -> dict:
    """The config's fields as JSON values, each as its declared type (a float field given as
    an int gives the same value), dates as ISO strings, tuples as lists."""
    return {
        f.name: _canonical(_coerce(f.name, getattr(config, f.name)))
        for f in dataclasses.fields(ShopConfig)
    }


def _canonical(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def shop_fingerprint(config: ShopConfig) -> str:
    """sha256 (hex) of everything that determines the simulated rows: every field of the
    config (canonical JSON) and the simulator's code. Equal fingerprints, equal rows; so after
    any change to the code, the incremental writers (`aimass.sim.landing`, `aimass.sim.truth`)
    rewrite what the older code wrote."""
    doc = {"config": canonical_config(config), "code": simulator_code_digest()}
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


@functools.cache
def simulator_code_digest() -> str:
    """sha256 (hex) of the simulator's modules (`aimass/sim/*.py`), name and bytes."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def canonical_json(doc) -> str:
    """Sorted keys, no whitespace: the same document always gives the same text."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)


def simulator_config_path() -> Path:
    """`AIMASS_SIMULATOR_CONFIG` if set, else the packaged `conf/simulator.yml`."""
    override = os.environ.get("AIMASS_SIMULATOR_CONFIG")
    if override:
        return Path(override)
    return Path(str(resources.files("aimass") / "conf" / "simulator.yml"))


def _coerce(name: str, value):
    field_types = {f.name: f.type for f in dataclasses.fields(ShopConfig)}
    kind = field_types[name]
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "tuple[float, ...]":
        return tuple(float(v) for v in value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value


def load_shop_config(profile: str = "demo", **overrides) -> ShopConfig:
    """The `profile` of `conf/simulator.yml` (defaults merged in), with `overrides` applied."""
    path = simulator_config_path()
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    profiles = doc.get("profiles") or {}
    if profile not in profiles:
        raise ValueError(
            f"simulator profile {profile!r} is not defined in {path}; "
            f"choose one of {sorted(profiles)}."
        )
    merged = {**(doc.get("defaults") or {}), **(profiles[profile] or {}), **overrides}
    known = {f.name for f in dataclasses.fields(ShopConfig)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ValueError(
            f"simulator profile {profile!r}: unknown settings {unknown}; "
            f"known settings are {sorted(known)}."
        )
    missing = sorted(
        f.name
        for f in dataclasses.fields(ShopConfig)
        if f.default is dataclasses.MISSING and f.name not in merged
    )
    if missing:
        raise ValueError(f"simulator profile {profile!r} does not set {missing} in {path}.")
    return ShopConfig(**{name: _coerce(name, value) for name, value in merged.items()})
