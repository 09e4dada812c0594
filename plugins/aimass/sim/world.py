"""The fixed part of a simulated shop: every entity, trait and campaign a config implies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimass.sim.campaigns import (
    AdCampaigns,
    CouponCampaigns,
    make_ad_campaigns,
    make_coupon_campaigns,
)
from aimass.sim.catalog import (
    Items,
    Merchants,
    Suppliers,
    make_items,
    make_merchants,
    make_suppliers,
)
from aimass.sim.config import ShopConfig
from aimass.sim.population import (
    Devices,
    Traits,
    Users,
    make_devices,
    make_traits,
    make_users,
)
from aimass.sim.updates import MutableState


@dataclass(frozen=True)
class World:
    config: ShopConfig
    users: Users
    traits: Traits
    devices: Devices
    merchants: Merchants
    suppliers: Suppliers
    items: Items
    ad_campaigns: AdCampaigns
    coupon_campaigns: CouponCampaigns

    def initial_state(self) -> MutableState:
        return MutableState(
            item_price=self.items.price.copy(),
            item_stock=self.items.stock.copy(),
            item_active=self.items.is_active.copy(),
            merchant_rating=self.merchants.shop_rating.copy(),
            merchant_service=self.merchants.service_score.copy(),
            merchant_delivery=self.merchants.delivery_score.copy(),
            merchant_reviews=self.merchants.review_count.copy(),
            supplier_stores=self.suppliers.store_count.copy(),
            user_city=self.users.city.copy(),
            device_app_minor=self.devices.app_minor.copy(),
        )

    @property
    def item_quality(self) -> np.ndarray:
        """Hidden quality of each item (its merchant's quality)."""
        return self.merchants.quality[self.items.merchant]


def build_world(config: ShopConfig) -> World:
    users = make_users(config)
    traits = make_traits(config)
    merchants = make_merchants(config)
    return World(
        config=config,
        users=users,
        traits=traits,
        devices=make_devices(config, users, traits),
        merchants=merchants,
        suppliers=make_suppliers(config),
        items=make_items(config, merchants),
        ad_campaigns=make_ad_campaigns(config),
        coupon_campaigns=make_coupon_campaigns(config),
    )
