"""The shop's users: contact data, hidden traits and devices (fixed for a config, created
over time by their signup / first-seen timestamps)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aimass.sim import behaviour, strings, vocab
from aimass.sim.clock import DAY, app_minor_at, epoch_seconds
from aimass.sim.config import ShopConfig
from aimass.sim.rng import static_rng

COUNTRY_CODES = list(vocab.COUNTRIES)
CITY_NAMES = [city for cities, _ in vocab.COUNTRIES.values() for city in cities]
CITY_COUNT = np.array([len(cities) for cities, _ in vocab.COUNTRIES.values()])
CITY_OFFSET = np.concatenate([[0], np.cumsum(CITY_COUNT)[:-1]])
CATEGORY_POPULARITY = np.array([1.4, 1.6, 1.2, 1.1, 0.9, 0.7, 0.7, 1.0, 0.5, 0.7, 0.5, 0.4])


@dataclass(frozen=True)
class Users:
    ids: pa.Array
    signup_s: np.ndarray
    country: np.ndarray
    city: np.ndarray
    gender: pa.Array
    birth_year: np.ndarray
    email: pa.Array
    phone: pa.Array

    def __len__(self) -> int:
        return len(self.signup_s)


@dataclass(frozen=True)
class Traits:
    """Hidden per-user traits (see `aimass.sim.behaviour`)."""

    segment: np.ndarray
    base_logit: np.ndarray
    engagement: np.ndarray
    price_sensitivity: np.ndarray
    ad_responsiveness: np.ndarray
    response_type: np.ndarray
    mood_entry: np.ndarray
    os: np.ndarray
    os_logit: np.ndarray
    preferences: np.ndarray
    preference_cum: np.ndarray
    category_logit: np.ndarray
    events_per_session: np.ndarray


@dataclass(frozen=True)
class Devices:
    """Devices ordered so that device i < n_users is user i's primary device; later devices
    are extra devices ordered by first-seen time."""

    ids: pa.Array
    user: np.ndarray
    first_seen_s: np.ndarray
    os: np.ndarray
    browser: pa.Array
    is_app: np.ndarray
    model: pa.Array
    resolution: pa.Array
    ip: pa.Array
    app_minor: np.ndarray

    def __len__(self) -> int:
        return len(self.user)


def make_users(config: ShopConfig) -> Users:
    """Users sorted by signup; most sign up before `start_date`, the rest during the window."""
    rng = static_rng(config.seed, "users")
    n = config.n_users
    start = epoch_seconds(config.start_date)
    n_before = int(round(n * config.pre_start_user_share))
    before = start - rng.integers(1, config.signup_history_days * DAY, size=n_before)
    during = start + rng.integers(0, config.days * DAY, size=n - n_before)
    signup = np.sort(np.concatenate([before, during]))
    country = rng.choice(len(COUNTRY_CODES), size=n, p=_normalised(vocab.COUNTRY_WEIGHTS))
    city = CITY_OFFSET[country] + (rng.random(n) * CITY_COUNT[country]).astype(int)
    birth_year = rng.integers(1950, 2008, size=n).astype(float)
    birth_year[rng.random(n) < 0.1] = np.nan
    first = rng.integers(0, len(vocab.FIRST_NAMES), n)
    last = rng.integers(0, len(vocab.LAST_NAMES), n)
    email = strings.concat(
        strings.take(vocab.FIRST_NAMES, first),
        ".",
        strings.take(vocab.LAST_NAMES, last),
        rng.integers(1, 9999, n),
        "@",
        strings.take(vocab.EMAIL_DOMAINS, rng.integers(0, len(vocab.EMAIL_DOMAINS), n)),
    )
    prefixes = [prefix for _, prefix in vocab.COUNTRIES.values()]
    phone = strings.concat(
        strings.take(prefixes, country), strings.padded(rng.integers(0, 10**7, n), 7), sep=" "
    )
    gender = strings.take(
        vocab.GENDERS, rng.choice(len(vocab.GENDERS), n, p=_normalised(vocab.GENDER_WEIGHTS))
    )
    return Users(
        ids=strings.prefixed_ids("u", np.arange(1, n + 1), 7),
        signup_s=signup,
        country=country,
        city=city,
        gender=gender,
        birth_year=birth_year,
        email=email,
        phone=phone,
    )


def make_traits(config: ShopConfig) -> Traits:
    """Draw every user's hidden traits (segment first, the rest conditional on it)."""
    rng = static_rng(config.seed, "traits")
    n = config.n_users
    segment = rng.choice(len(behaviour.SEGMENTS), size=n, p=behaviour.SEGMENT_SHARES)
    propensity_noise = rng.normal(0, 0.3, n)
    base_logit = np.array(behaviour.SEGMENT_LOGIT)[segment] + propensity_noise
    log_engagement = (
        np.array(behaviour.SEGMENT_LOG_ENGAGEMENT)[segment]
        + 0.8 * propensity_noise
        + rng.normal(0, 0.3, n)
    )
    response_p = np.array(behaviour.RESPONSE_BY_SEGMENT)[segment]
    response_type = _categorical(rng, response_p)
    persuadable = response_type == behaviour.PERSUADABLE
    price_sensitivity = np.where(persuadable, rng.beta(5, 2, n), rng.beta(2, 4, n))
    sleeping = response_type == behaviour.SLEEPING_DOG
    ad_responsiveness = np.where(sleeping, rng.beta(1.2, 6, n), rng.beta(2, 3, n))
    mood_entry = np.array(behaviour.SEGMENT_MOOD_ENTRY)[segment] * np.exp(rng.normal(0, 0.3, n))
    os = rng.choice(len(vocab.OS_NAMES), size=n, p=_normalised(vocab.OS_WEIGHTS))
    os_logit = np.array([spec[0] for spec in vocab.OPERATING_SYSTEMS.values()])[os]
    preferences = _category_preferences(rng, n)
    category_freq = np.array([spec[2] for spec in vocab.CATEGORIES.values()])
    events_per_session = np.clip(2.5 + np.exp(log_engagement), 2.0, 8.0)
    return Traits(
        segment=segment,
        base_logit=base_logit,
        engagement=np.exp(log_engagement),
        price_sensitivity=price_sensitivity,
        ad_responsiveness=ad_responsiveness,
        response_type=response_type,
        mood_entry=mood_entry,
        os=os,
        os_logit=os_logit,
        preferences=preferences,
        preference_cum=np.cumsum(preferences, axis=1),
        category_logit=preferences @ category_freq,
        events_per_session=events_per_session,
    )


def _category_preferences(rng: np.random.Generator, n: int) -> np.ndarray:
    """1-3 favourite categories carry 85% of the weight, the rest is spread evenly."""
    n_cat = len(vocab.CATEGORY_NAMES)
    gumbel = -np.log(-np.log(rng.random((n, n_cat))))
    keys = np.log(CATEGORY_POPULARITY) + gumbel
    rank = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    n_fav = rng.choice([1, 2, 3], size=n, p=[0.25, 0.45, 0.30])
    favourite = rank < n_fav[:, None]
    weight = rng.gamma(2.0, 1.0, (n, n_cat)) * favourite
    weight = 0.85 * weight / weight.sum(axis=1, keepdims=True)
    return weight + 0.15 / n_cat


def make_devices(config: ShopConfig, users: Users, traits: Traits) -> Devices:
    """One primary device per user at signup (their preferred OS) and 0-2 extra devices
    first seen later."""
    rng = static_rng(config.seed, "devices")
    n = len(users)
    n_extra = rng.choice([0, 1, 2], size=n, p=[0.55, 0.33, 0.12])
    extra_user = np.repeat(np.arange(n), n_extra)
    extra_seen = users.signup_s[extra_user] + (rng.exponential(120, len(extra_user)) * DAY)
    order = np.argsort(extra_seen, kind="stable")
    user = np.concatenate([np.arange(n), extra_user[order]])
    first_seen = np.concatenate(
        [users.signup_s + rng.integers(0, 600, n), extra_seen[order].astype(np.int64)]
    )
    os_weights = _normalised(vocab.OS_WEIGHTS)
    os = np.concatenate([traits.os, rng.choice(len(vocab.OS_NAMES), len(extra_user), p=os_weights)])
    m = len(user)
    specs = list(vocab.OPERATING_SYSTEMS.values())
    browser_options = [b for _, _, browsers, _ in specs for b in browsers]
    browser_offset = np.cumsum([0] + [len(s[2]) for s in specs])[:-1]
    browser_count = np.array([len(s[2]) for s in specs])
    browser = browser_offset[os] + (rng.random(m) * browser_count[os]).astype(int)
    model_options = [model for _, _, _, models in specs for model in models]
    model_offset = np.cumsum([0] + [len(s[3]) for s in specs])[:-1]
    model_count = np.array([len(s[3]) for s in specs])
    model = model_offset[os] + (rng.random(m) * model_count[os]).astype(int)
    is_app = np.array(browser_options)[browser] == "App"
    lag = rng.integers(0, 3, m)
    app_minor = np.where(is_app, np.maximum(app_minor_at(first_seen) - lag, 0), -1)
    return Devices(
        ids=strings.hex_device_ids(rng, m),
        user=user,
        first_seen_s=first_seen,
        os=os,
        browser=strings.take(browser_options, browser),
        is_app=is_app,
        model=strings.take([name for name, _ in model_options], model),
        resolution=strings.take([res for _, res in model_options], model),
        ip=strings.ipv4(rng, m),
        app_minor=app_minor,
    )


def _categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows x options) probability matrix."""
    cum = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probabilities.shape[1] - 1)


def _normalised(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()
