"""The catalogue: merchants, suppliers and items (with hidden appeal), and item choice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aimass.sim import strings, vocab
from aimass.sim.clock import DAY, epoch_seconds
from aimass.sim.config import ShopConfig
from aimass.sim.population import CATEGORY_POPULARITY
from aimass.sim.rng import static_rng

N_CATEGORIES = len(vocab.CATEGORY_NAMES)
CHEAP_LEAN = 3.0  # how strongly price sensitivity pulls item choice to a category's cheap end


@dataclass(frozen=True)
class Merchants:
    ids: pa.Array
    name: pa.Array
    category: np.ndarray
    quality: np.ndarray
    shop_rating: np.ndarray
    service_score: np.ndarray
    delivery_score: np.ndarray
    review_count: np.ndarray
    opened_s: np.ndarray

    def __len__(self) -> int:
        return len(self.category)


@dataclass(frozen=True)
class Suppliers:
    ids: pa.Array
    name: pa.Array
    description: pa.Array
    business_scope: pa.Array
    tags: pa.Array
    store_count: np.ndarray
    contact_email: pa.Array
    created_s: np.ndarray

    def __len__(self) -> int:
        return len(self.created_s)


@dataclass(frozen=True)
class Items:
    """Items sorted by listing time; `price`, `stock`, `is_active` are the initial values."""

    ids: pa.Array
    merchant: np.ndarray
    supplier: np.ndarray
    category: np.ndarray
    brand: pa.Array
    title: pa.Array
    price: np.ndarray
    stock: np.ndarray
    is_active: np.ndarray
    created_s: np.ndarray
    appeal: np.ndarray

    def __len__(self) -> int:
        return len(self.category)


def make_merchants(config: ShopConfig) -> Merchants:
    rng = static_rng(config.seed, "merchants")
    n = config.n_merchants
    first, second = vocab.MERCHANT_WORDS
    name = strings.concat(
        strings.take(first, rng.integers(0, len(first), n)),
        strings.take(second, rng.integers(0, len(second), n)),
        strings.take(vocab.MERCHANT_SUFFIXES, rng.integers(0, len(vocab.MERCHANT_SUFFIXES), n)),
        sep=" ",
    )
    quality = rng.beta(5, 2, n)
    return Merchants(
        ids=strings.prefixed_ids("m", np.arange(1, n + 1), 5),
        name=name,
        category=rng.choice(N_CATEGORIES, n, p=CATEGORY_POPULARITY / CATEGORY_POPULARITY.sum()),
        quality=quality,
        shop_rating=np.round(np.clip(3 + 2 * quality + rng.normal(0, 0.15, n), 1, 5), 2),
        service_score=np.round(np.clip(55 + 45 * quality + rng.normal(0, 4, n), 0, 100), 1),
        delivery_score=np.round(np.clip(50 + 50 * quality + rng.normal(0, 6, n), 0, 100), 1),
        review_count=rng.poisson(np.exp(rng.normal(5, 1, n))),
        opened_s=epoch_seconds(config.start_date) - rng.integers(60, 2500, n) * DAY,
    )


def make_suppliers(config: ShopConfig) -> Suppliers:
    rng = static_rng(config.seed, "suppliers")
    n = config.n_suppliers
    word = strings.take(vocab.SUPPLIER_WORDS, rng.integers(0, len(vocab.SUPPLIER_WORDS), n))
    kind = strings.take(vocab.SUPPLIER_KINDS, rng.integers(0, len(vocab.SUPPLIER_KINDS), n))
    legal = strings.take(["Co.", "Ltd", "GmbH", "B.V.", "S.A."], rng.integers(0, 5, n))
    name = strings.concat(word, kind, legal, sep=" ")
    categories = strings.take(vocab.CATEGORY_NAMES, rng.integers(0, N_CATEGORIES, (2, n)).ravel())
    since = rng.integers(1985, 2022, n)
    description = strings.concat(
        name,
        " supplies ",
        pc.utf8_lower(kind),
        " to ",
        categories[:n],
        " and ",
        categories[n:],
        " retailers since ",
        since,
        ".",
    )
    scopes = vocab.SUPPLIER_SCOPES
    picks = np.argsort(rng.random((n, len(scopes))), axis=1)
    business_scope = strings.concat(
        strings.take(scopes, picks[:, 0]), strings.take(scopes, picks[:, 1]), sep="; "
    )
    tag_picks = np.argsort(rng.random((n, len(vocab.SUPPLIER_TAGS))), axis=1)
    two = strings.concat(
        *(strings.take(vocab.SUPPLIER_TAGS, tag_picks[:, k]) for k in (0, 1)), sep=","
    )
    three = strings.concat(two, strings.take(vocab.SUPPLIER_TAGS, tag_picks[:, 2]), sep=",")
    tags = pc.if_else(pa.array(rng.random(n) < 0.5), two, three)
    slug = pc.utf8_lower(strings.concat(word, kind, sep="-"))
    contact_email = strings.concat("sales", np.arange(1, n + 1), "@", slug, ".example.com")
    return Suppliers(
        ids=strings.prefixed_ids("s", np.arange(1, n + 1), 5),
        name=name,
        description=description,
        business_scope=business_scope,
        tags=tags,
        store_count=1 + rng.poisson(6, n),
        contact_email=contact_email,
        created_s=epoch_seconds(config.start_date) - rng.integers(100, 2000, n) * DAY,
    )


def make_items(config: ShopConfig, merchants: Merchants) -> Items:
    """Items in every category, priced lognormally by category, listed over time."""
    rng = static_rng(config.seed, "items")
    n = config.n_items
    popularity = CATEGORY_POPULARITY / CATEGORY_POPULARITY.sum()
    category = np.concatenate(
        [np.arange(N_CATEGORIES), rng.choice(N_CATEGORIES, n - N_CATEGORIES, p=popularity)]
    )
    specs = np.array([vocab.CATEGORIES[c][:2] for c in vocab.CATEGORY_NAMES])
    price = np.round(
        np.maximum(np.exp(rng.normal(specs[category, 0], specs[category, 1])), 0.99), 2
    )
    brands = [b for c in vocab.CATEGORY_NAMES for b in vocab.BRANDS[c]]
    products = [p for c in vocab.CATEGORY_NAMES for p in vocab.PRODUCTS[c]]
    brand = strings.take(brands, category * 5 + rng.integers(0, 5, n))
    title = strings.concat(
        brand,
        strings.take(vocab.ADJECTIVES, rng.integers(0, len(vocab.ADJECTIVES), n)),
        strings.take(products, category * 10 + rng.integers(0, 10, n)),
        sep=" ",
    )
    start = epoch_seconds(config.start_date)
    is_new = rng.random(n) < config.new_item_share
    is_new[:N_CATEGORIES] = False
    created = np.where(
        is_new,
        start + rng.integers(0, config.days * DAY, n),
        start - rng.integers(DAY, 720 * DAY, n),
    )
    merchant = _merchant_for(rng, category, merchants.category)
    supplier = np.where(rng.random(n) < 0.05, -1, rng.integers(0, config.n_suppliers, n))
    stock = np.where(rng.random(n) < 0.03, 0, rng.poisson(60, n))
    is_active = rng.random(n) >= 0.03
    is_active[:N_CATEGORIES] = True
    order = np.argsort(created, kind="stable")
    return Items(
        ids=strings.prefixed_ids("i", np.arange(1, n + 1), 6),
        merchant=merchant[order],
        supplier=supplier[order],
        category=category[order],
        brand=brand.take(pa.array(order)),
        title=title.take(pa.array(order)),
        price=price[order],
        stock=stock[order],
        is_active=is_active[order],
        created_s=created[order],
        appeal=np.exp(rng.normal(0, 1.0, n))[order],
    )


def _merchant_for(rng, item_category: np.ndarray, merchant_category: np.ndarray) -> np.ndarray:
    """A random merchant of the item's category (any merchant if none sells the category)."""
    n = len(item_category)
    by_category = np.argsort(merchant_category, kind="stable")
    counts = np.bincount(merchant_category, minlength=N_CATEGORIES)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    u = rng.random(n)
    own = by_category[
        np.minimum(
            offsets[item_category] + (u * counts[item_category]).astype(int), len(by_category) - 1
        )
    ]
    anyone = (u * len(merchant_category)).astype(int)
    return np.where(counts[item_category] > 0, own, anyone)


class ItemChooser:
    """Picks items: category from the user's preferences, then an item of that category with
    probability proportional to appeal (only available items). Price-sensitive users lean
    towards the cheaper items of a category."""

    def __init__(self, category: np.ndarray, price: np.ndarray, appeal: np.ndarray):
        self.order = np.lexsort((price, category))
        self.sorted_category = category[self.order]
        self.appeal = appeal
        self.shifted_cum = np.zeros(len(category))

    def refresh(self, listed: np.ndarray, available: np.ndarray) -> None:
        """Recompute choice weights after items were listed, delisted or ran out of stock.

        Items not listed yet are never picked; listed but unavailable ones almost never (a
        category whose items are all unavailable still yields one)."""
        weight = (self.appeal * np.where(available, 1.0, 1e-6) * listed)[self.order]
        cum = np.cumsum(weight)
        starts = np.searchsorted(self.sorted_category, np.arange(N_CATEGORIES), side="left")
        ends = np.searchsorted(self.sorted_category, np.arange(N_CATEGORIES), side="right")
        before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
        total = cum[ends - 1] - before
        c = self.sorted_category
        shifted = c + (cum - before[c]) / total[c]
        shifted[ends - 1] = np.arange(N_CATEGORIES) + 1.0
        self.shifted_cum = shifted

    def choose(self, category: np.ndarray, u: np.ndarray, price_sensitivity: np.ndarray):
        """Item index per (category, uniform draw, price sensitivity)."""
        biased = u ** (1.0 + CHEAP_LEAN * price_sensitivity)
        position = np.searchsorted(self.shifted_cum, category + biased * (1 - 1e-12), side="right")
        return self.order[np.minimum(position, len(self.order) - 1)]


def choose_category(preference_cum: np.ndarray, users: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category per row, drawn from each row's user preference weights."""
    cum = preference_cum[users]
    return np.minimum((u[:, None] * cum[:, -1:] >= cum).sum(axis=1), N_CATEGORIES - 1)
