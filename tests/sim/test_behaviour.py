"""The hidden truth behaves as documented: randomized coupons, heterogeneous effects,
predictable purchases, calendar effects, late events."""

from datetime import timedelta

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from aimass.sim.config import load_shop_config


def _day(ts: pd.Series, start) -> pd.Series:
    return (ts - pd.Timestamp(start, tz="UTC")).dt.days


def test_coupon_assignment_is_randomized_and_balanced(crowded_shop):
    t, config = crowded_shop.tables, crowded_shop.config
    assignments = t["coupon_assignments"]
    assert len(assignments) > 3000
    assert abs(assignments["treatment"].mean() - config.coupon_treatment_share) < 0.01
    treated = assignments[assignments["treatment"]]
    shares = treated["coupon_value"].value_counts(normalize=True)
    assert set(shares.index) == set(config.coupon_values)
    assert (abs(shares - 1 / len(config.coupon_values)) < 0.01).all()
    assert (assignments.loc[~assignments["treatment"], "coupon_value"] == 0).all()

    offer = pd.Timestamp(t["coupon_campaigns"]["offer_date"].iloc[0], tz="UTC")
    orders = t["orders"]
    before = orders[
        (orders["order_ts"] < offer) & (orders["order_ts"] >= offer - pd.Timedelta(days=14))
    ]
    bought = assignments["user_id"].isin(before["user_id"])
    rates = bought.groupby(assignments["treatment"]).mean()
    assert abs(rates[True] - rates[False]) < 0.03, rates
    traits = crowded_shop.truth["user_traits"].set_index("user_id")
    segment_mix = pd.crosstab(
        assignments["treatment"], assignments["user_id"].map(traits["segment"]), normalize="index"
    )
    assert (abs(segment_mix.loc[True] - segment_mix.loc[False]) < 0.03).all()


def test_coupon_effects_follow_the_response_types(crowded_shop):
    effect = crowded_shop.truth["coupon_effect"]
    uplift = effect["p_purchase_treated"] - effect["p_purchase_control"]
    by_type = effect.assign(uplift=uplift).groupby(["response_type", "coupon_value"])["uplift"]
    assert (uplift[effect["response_type"] == "sleeping_dog"] < 0).all()
    assert (uplift[effect["response_type"] == "persuadable"] > 0).all()
    assert (uplift[effect["response_type"] == "lost_cause"].abs() < 1e-12).all()
    mean = by_type.mean()
    assert mean["persuadable", 10.0] > mean["persuadable", 5.0] > 0.02
    assert mean["sleeping_dog", 10.0] < mean["sleeping_dog", 5.0] < 0
    assert effect[["p_purchase_control", "p_purchase_treated"]].stack().between(0, 1).all()


def test_treated_persuadables_convert_more_in_the_horizon(crowded_shop):
    t, config = crowded_shop.tables, crowded_shop.config
    assignments = t["coupon_assignments"]
    offer = pd.Timestamp(t["coupon_campaigns"]["offer_date"].iloc[0], tz="UTC")
    horizon = offer + pd.Timedelta(days=config.coupon_horizon_days)
    orders = t["orders"]
    converted = orders[
        (orders["order_ts"] >= offer)
        & (orders["order_ts"] < horizon)
        & (orders["status"] != "cancelled")
    ]["user_id"]
    types = crowded_shop.truth["user_traits"].set_index("user_id")["response_type"]
    frame = assignments.assign(
        converted=assignments["user_id"].isin(converted),
        response_type=assignments["user_id"].map(types),
    )
    persuadable = frame[frame["response_type"] == "persuadable"]
    rate = persuadable.groupby("treatment")["converted"].mean()
    assert rate[True] > rate[False]
    assert (
        t["coupon_redemptions"]["user_id"]
        .isin(assignments.loc[assignments["treatment"], "user_id"])
        .all()
    )


def test_next_week_purchases_are_predictable_from_the_past(tiny_shop):
    t, start = tiny_shop.tables, tiny_shop.days[0]
    orders = t["orders"][t["orders"]["status"] != "cancelled"]
    order_day = _day(orders["order_ts"], start)
    daily = tiny_shop.truth["user_daily_purchase_prob"]
    prob_day = (pd.to_datetime(daily["day"]) - pd.Timestamp(start)).dt.days
    horizon = tiny_shop.truth["user_horizon_purchase_prob"]
    horizon_day = (pd.to_datetime(horizon["as_of_date"]) - pd.Timestamp(start)).dt.days
    labels, oracle, oracle_now, recent = [], [], [], []
    for as_of in range(30, len(tiny_shop.days) - 7):
        users = daily.loc[prob_day == as_of, "user_id"]
        window = (prob_day >= as_of) & (prob_day < as_of + 7)
        p7 = 1 - daily[window].groupby("user_id")["p_purchase"].apply(lambda p: np.prod(1 - p))
        bought = set(orders.loc[(order_day >= as_of) & (order_day < as_of + 7), "user_id"])
        past = orders[(order_day < as_of) & (order_day >= as_of - 30)]["user_id"].value_counts()
        now = horizon[horizon_day == as_of].set_index("user_id")["p_purchase"]
        labels += list(users.isin(bought))
        oracle += list(users.map(p7))
        oracle_now += list(users.map(now))
        recent += list(users.map(past).fillna(0))
    assert 0.05 < np.mean(labels) < 0.4
    assert roc_auc_score(labels, oracle) > 0.75
    assert roc_auc_score(labels, oracle_now) > 0.7
    assert roc_auc_score(labels, recent) > 0.6


def test_weekends_and_the_promotion_lift_purchases(tiny_shop):
    config = tiny_shop.config
    daily = tiny_shop.truth["user_daily_purchase_prob"]
    day = (pd.to_datetime(daily["day"]) - pd.Timestamp(config.start_date)).dt.days
    mean = daily.groupby(day)["p_purchase"].mean()
    promo = range(config.promo_start_day, config.promo_start_day + config.promo_days)
    weekday = [
        d
        for d in mean.index
        if (config.start_date + timedelta(days=int(d))).weekday() < 5 and d not in promo
    ]
    weekend = [
        d
        for d in mean.index
        if (config.start_date + timedelta(days=int(d))).weekday() >= 5 and d not in promo
    ]
    assert mean[weekend].mean() > 1.15 * mean[weekday].mean()
    assert mean[list(promo)].mean() > 1.5 * mean[weekday].mean()


def test_about_one_percent_of_events_arrive_late(crowded_shop):
    config = crowded_shop.config
    for source in ("events", "ad_events"):
        late, total = 0, 0
        for k, day in enumerate(crowded_shop.days):
            rows = crowded_shop.landing[source].day(day).to_pandas()
            event_day = _day(rows["event_ts"], config.start_date)
            assert event_day.isin([k - 1, k]).all(), f"{source} {day}"
            late += int((event_day == k - 1).sum())
            total += len(rows)
        assert 0.006 < late / total < 0.014, source


def test_views_follow_preferences_and_appeal(tiny_shop):
    events = tiny_shop.tables["events"]
    views = events[events["event_type"] == "view"]
    items = tiny_shop.tables["items"].set_index("item_id")
    prefs = tiny_shop.truth["user_preferences"]
    weight = prefs.set_index(["user_id", "category"])["weight"]
    viewed = pd.MultiIndex.from_arrays([views["user_id"], views["item_id"].map(items["category"])])
    chance = 1 / items["category"].nunique()
    assert weight.reindex(viewed).mean() > 2 * chance
    appeal = tiny_shop.truth["item_appeal"].set_index("item_id")["appeal"]
    popularity = views["item_id"].value_counts().reindex(appeal.index, fill_value=0)
    assert popularity.corr(appeal, method="spearman") > 0.3


def test_profiles_change_sizes_not_rules():
    demo = load_shop_config("demo")
    assert demo.late_event_fraction == load_shop_config("tiny").late_event_fraction


def _per_user_day(frame, ts, users, start, n_days):
    """(users x days) counts of rows."""
    day = _day(frame[ts], start).to_numpy()
    row = pd.Index(users).get_indexer(frame["user_id"])
    counts = np.zeros((len(users), n_days + 1))
    np.add.at(counts, (row, np.minimum(day, n_days)), 1)
    return counts[:, :n_days]


def test_a_model_on_history_gets_close_to_the_oracle(crowded_shop):
    """LightGBM on recency/frequency/engagement features vs the true horizon probability."""
    import lightgbm as lgb

    t, start, n_days = crowded_shop.tables, crowded_shop.days[0], len(crowded_shop.days)
    users = t["users"]["user_id"].to_numpy()
    orders = t["orders"][t["orders"]["status"] != "cancelled"]
    events = t["events"]
    counts = {
        "orders": _per_user_day(orders, "order_ts", users, start, n_days),
        "sessions": _per_user_day(
            events.drop_duplicates("session_id"), "event_ts", users, start, n_days
        ),
        "carts": _per_user_day(
            events[events["event_type"] == "add_to_cart"], "event_ts", users, start, n_days
        ),
        "clicks": _per_user_day(
            t["ad_events"][t["ad_events"]["event_type"] == "click"],
            "event_ts",
            users,
            start,
            n_days,
        ),
    }
    signup = _day(t["users"]["signup_at"], start).to_numpy()
    horizon = crowded_shop.truth["user_horizon_purchase_prob"]
    oracle = horizon.pivot(index="user_id", columns="as_of_date", values="p_purchase")

    def rows(as_of):
        exists = signup < as_of
        feats = {"tenure": as_of - signup}
        for name, c in counts.items():
            for window in (3, 7, 14, 28):
                feats[f"{name}_{window}"] = c[:, max(as_of - window, 0) : as_of].sum(axis=1)
            seen = np.where(c[:, :as_of] > 0, np.arange(as_of), -1000).max(axis=1)
            feats[f"days_since_{name}"] = as_of - seen
        label = counts["orders"][:, as_of : as_of + 7].sum(axis=1) > 0
        truth = oracle.reindex(users)[start + timedelta(days=as_of)].to_numpy()
        return pd.DataFrame(feats)[exists], label[exists], truth[exists]

    train = [rows(a) for a in range(28, n_days - 13)]
    x_test, y_test, oracle_test = rows(n_days - 7)
    model = lgb.LGBMClassifier(
        n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=100, verbose=-1
    )
    model.fit(pd.concat([r[0] for r in train]), np.concatenate([r[1] for r in train]))
    model_auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    oracle_auc = roc_auc_score(y_test, oracle_test)
    assert oracle_auc > 0.8
    print(f"model AUC {model_auc:.3f}, oracle AUC {oracle_auc:.3f}")
    assert model_auc > oracle_auc - 0.07, (model_auc, oracle_auc)


def test_the_coupon_response_type_shows_in_observable_behaviour(crowded_shop):
    """Deal seekers (persuadables) save more favourites, view cheaper items of a category and
    apply their coupons more often; sleeping dogs rate recommendations and service lower."""
    t = crowded_shop.tables
    kind = crowded_shop.truth["user_traits"].set_index("user_id")["response_type"]
    events = t["events"]
    looked = events[events["event_type"].isin(["view", "favorite"])]
    favorite_share = (looked["event_type"] == "favorite").groupby(looked["user_id"]).mean()
    by_kind = favorite_share.groupby(favorite_share.index.map(kind)).mean()
    assert by_kind["persuadable"] > 2 * by_kind.drop("persuadable").max(), by_kind

    items = t["items"].set_index("item_id")
    views = events[events["event_type"] == "view"]
    price = views["item_id"].map(items["price"]).astype(float)
    category = views["item_id"].map(items["category"])
    relative = np.log(price / price.groupby(category).transform("median"))
    cheapness = relative.groupby(views["user_id"].map(kind)).mean()
    assert cheapness["persuadable"] < cheapness.drop("persuadable").min() - 0.05, cheapness

    feedback = t["feedback"]
    service = feedback[feedback["kind"].isin(["recommendation", "after_sales"])]
    rating = service["rating"].astype(float).groupby(service["user_id"].map(kind)).mean()
    assert rating["sleeping_dog"] < rating.drop("sleeping_dog").min() - 0.5, rating

    # of the coupon holders who bought while the coupon was valid, who applied it
    campaigns = t["coupon_campaigns"].set_index("coupon_campaign_id")
    holders = t["coupon_assignments"][t["coupon_assignments"]["treatment"]]
    opens = pd.to_datetime(holders["coupon_campaign_id"].map(campaigns["offer_date"]))
    opens = opens.dt.tz_localize("UTC")
    valid = pd.Timedelta(days=crowded_shop.config.coupon_horizon_days)
    holders = holders.assign(opens=opens, closes=opens + valid)
    orders = t["orders"][t["orders"]["status"] != "cancelled"][["user_id", "order_ts"]]
    bought = holders.merge(orders, on="user_id")
    bought = bought[
        (bought["order_ts"] >= bought["opens"]) & (bought["order_ts"] < bought["closes"])
    ]
    bought = bought.drop_duplicates("coupon_id")
    used = bought["coupon_id"].isin(t["coupon_redemptions"]["coupon_id"])
    redeem_rate = used.groupby(bought["user_id"].map(kind)).mean()
    assert redeem_rate["persuadable"] > redeem_rate.drop("persuadable").max() + 0.05, redeem_rate


def test_coupon_responses_come_soon_after_the_offer(crowded_shop):
    """The coupon's effect fades after the offer day: most redemptions happen early."""
    t, config = crowded_shop.tables, crowded_shop.config
    campaigns = t["coupon_campaigns"].set_index("coupon_campaign_id")
    redemptions = t["coupon_redemptions"]
    campaign = redemptions["coupon_id"].str.split("-").str[1]
    offer = pd.to_datetime(campaign.map(campaigns["offer_date"])).dt.tz_localize("UTC")
    day = (redemptions["redeemed_at"] - offer).dt.days
    assert day.between(0, config.coupon_horizon_days - 1).all()
    share = day.value_counts(normalize=True).sort_index()
    assert share.iloc[0] > share.iloc[1] > share.iloc[-1], share
