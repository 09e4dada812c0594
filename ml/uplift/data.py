"""The randomized campaigns of `marts.fct_coupon_training_set`: loading, the split by offer
date into train / validation / test campaigns, and the guards before training."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from psycopg2 import sql

from ml.features import _feature_select_list, _frame_dtypes, _read_copy, feature_column_types
from ml.uplift.config import UpliftConfig

TRAINING_SET_TABLE = ("marts", "fct_coupon_training_set")
CAMPAIGN = "coupon_campaign_id"
TREATMENT = "treatment"
VALUE = "coupon_value"
CONVERTED = "converted_in_horizon"
REVENUE = "revenue_in_horizon"
REDEEMED = "redeemed"
HORIZON = "horizon_days"
OUTCOME_COLUMNS = (CAMPAIGN, TREATMENT, VALUE, CONVERTED, REVENUE, REDEEMED, HORIZON)
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class CampaignSplit:
    """Campaign ids per split, oldest first, and their offer dates / outcome-window ends."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]
    offer_dates: dict[str, date]
    window_ends: dict[str, date]

    def campaigns(self, name: str) -> tuple[str, ...]:
        return getattr(self, name)

    @property
    def cutoff(self) -> date:
        """The first day no outcome of any campaign used looks at."""
        return max(self.window_ends.values())

    def as_windows(self) -> dict:
        """The registry's `windows` shape: per split its offer dates (calibration = validation,
        uplift models are not calibrated) and campaigns."""
        out: dict = {"cutoff": self.cutoff.isoformat(), "campaigns": {}}
        for name in SPLITS:
            dates = sorted(self.offer_dates[c] for c in self.campaigns(name))
            out[name] = {
                "start": dates[0].isoformat(),
                "end": dates[-1].isoformat(),
                "dates": [d.isoformat() for d in dates],
            }
            out["campaigns"][name] = list(self.campaigns(name))
        out["calibration"] = dict(out["validation"])
        return out


def load_training_set(conn, before: date | None = None) -> pd.DataFrame:
    """Every row of the coupon training set (features as of the offer date in the columns of
    `marts.fct_user_features_daily`, offer date as `as_of_date`), ordered by offer date,
    campaign and user; only campaigns whose outcome window ends by `before` when given."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_coupon_training_set') is not null")
        if not cur.fetchone()[0]:
            raise ValueError(
                "marts.fct_coupon_training_set does not exist: load the coupon sources and run "
                "dbt build before training the coupon uplift model."
            )
    types = feature_column_types(conn)
    features = _feature_select_list(types)[2:]  # the feature columns, without the keys
    columns = [
        sql.SQL("f.user_id::text as user_id"),
        sql.SQL("f.offer_date as as_of_date"),
        *features,
        sql.SQL("f.coupon_campaign_id::text as {}").format(sql.Identifier(CAMPAIGN)),
        *(
            sql.SQL("f.{} as {}").format(sql.Identifier(c), sql.Identifier(c))
            for c in OUTCOME_COLUMNS[1:]
        ),
    ]
    where = sql.SQL("true")
    params: tuple = ()
    if before is not None:
        where = sql.SQL("f.offer_date + f.horizon_days <= %s")
        params = (before,)
    query = sql.SQL(
        "select {columns} from {table} f where {where} "
        "order by f.offer_date, f.coupon_campaign_id, f.user_id"
    ).format(
        columns=sql.SQL(", ").join(columns),
        table=sql.Identifier(*TRAINING_SET_TABLE),
        where=where,
    )
    dtypes = _frame_dtypes(types) | {
        CAMPAIGN: "str",
        TREATMENT: "int64",
        VALUE: "float64",
        CONVERTED: "int64",
        REVENUE: "float64",
        REDEEMED: "int64",
        HORIZON: "int64",
    }
    return _read_copy(conn, query, params, dtypes)


def feature_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without treatment and outcome columns (what `select_features` may use)."""
    return frame.drop(columns=[c for c in OUTCOME_COLUMNS if c in frame.columns])


def campaign_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per campaign: offer date, horizon, users, control users and treated users per value."""
    rows = []
    for campaign, part in frame.groupby(CAMPAIGN, sort=False):
        treated = part[part[TREATMENT] == 1]
        rows.append(
            {
                CAMPAIGN: campaign,
                "offer_date": part["as_of_date"].iloc[0],
                HORIZON: int(part[HORIZON].max()),
                "users": len(part),
                "control": int((part[TREATMENT] == 0).sum()),
                "treated": len(treated),
                "treated_by_value": {
                    float(v): int(n) for v, n in treated[VALUE].value_counts().sort_index().items()
                },
            }
        )
    return pd.DataFrame(rows)


def split_campaigns(frame: pd.DataFrame, config: UpliftConfig) -> CampaignSplit:
    """The latest `test_campaigns` campaigns are the test, the `validation_campaigns` before
    them the validation, all earlier ones train; ValueError when there are too few."""
    if frame.empty:
        raise ValueError(
            "marts.fct_coupon_training_set has no campaign with a complete outcome window: run "
            "randomized coupon campaigns (with a control group) and rebuild the marts."
        )
    summary = campaign_summary(frame).sort_values(["offer_date", CAMPAIGN], kind="stable")
    ids = summary[CAMPAIGN].tolist()
    c = config.campaigns
    needed = c.min_train_campaigns + c.validation_campaigns + c.test_campaigns
    if len(ids) < needed:
        raise ValueError(
            f"The coupon training set holds {len(ids)} completed campaign(s) ({', '.join(ids)}); "
            f"training needs at least {needed}: {c.min_train_campaigns} to train on, "
            f"{c.validation_campaigns} to choose the learner and {c.test_campaigns} held out "
            "for the test. Wait for more campaigns to finish, or lower campaigns.* in "
            "ml/conf/coupon_uplift.yml."
        )
    n_test, n_val = c.test_campaigns, c.validation_campaigns
    offer = dict(zip(summary[CAMPAIGN], summary["offer_date"], strict=True))
    ends = {
        cid: offer[cid] + timedelta(days=int(h))
        for cid, h in zip(summary[CAMPAIGN], summary[HORIZON], strict=True)
    }
    return CampaignSplit(
        train=tuple(ids[: len(ids) - n_test - n_val]),
        validation=tuple(ids[len(ids) - n_test - n_val : len(ids) - n_test]),
        test=tuple(ids[len(ids) - n_test :]),
        offer_dates=offer,
        window_ends=ends,
    )


def split_frames(frame: pd.DataFrame, split: CampaignSplit) -> dict[str, pd.DataFrame]:
    """The rows of each split, in the frame's order."""
    return {
        name: frame[frame[CAMPAIGN].isin(set(split.campaigns(name)))].reset_index(drop=True)
        for name in SPLITS
    }


def check_campaigns(frame: pd.DataFrame, config: UpliftConfig) -> None:
    """Every campaign must be a usable randomized experiment: a control group, and enough
    control and treated users per coupon value."""
    g = config.guards
    for row in campaign_summary(frame).itertuples(index=False):
        cid = getattr(row, CAMPAIGN)
        if row.control == 0:
            raise ValueError(
                f"Campaign {cid} (offer date {row.offer_date}) has no control group: every user "
                "got a coupon, so what the coupon changed cannot be measured. Only randomized "
                "campaigns with a control share can train the uplift model; leave this one out "
                "or rerun it with a control group."
            )
        if row.treated == 0:
            raise ValueError(
                f"Campaign {cid} (offer date {row.offer_date}) has no treated user: nobody got a "
                "coupon. Leave it out of marts.fct_coupon_training_set."
            )
        if row.control < g.min_control_users:
            raise ValueError(
                f"Campaign {cid} has {row.control} control users, fewer than "
                f"guards.min_control_users={g.min_control_users}: too few to measure the effect. "
                "Run campaigns with a larger control group or lower the guard with care."
            )
        small = {v: n for v, n in row.treated_by_value.items() if n < g.min_treated_users}
        if small:
            detail = ", ".join(f"value {v:g}: {n}" for v, n in small.items())
            raise ValueError(
                f"Campaign {cid} has too few treated users ({detail}; guards.min_treated_users="
                f"{g.min_treated_users}). Treat more users per coupon value or lower the guard "
                "with care."
            )


def check_train_frame(train: pd.DataFrame, config: UpliftConfig) -> None:
    """Enough conversions in each arm of the training campaigns."""
    minimum = config.guards.min_train_conversions
    for arm, label in ((0, "control"), (1, "treated")):
        conversions = int(train.loc[train[TREATMENT] == arm, CONVERTED].sum())
        if conversions < minimum:
            raise ValueError(
                f"The training campaigns hold {conversions} conversions of {label} users, fewer "
                f"than guards.min_train_conversions={minimum}. Train on more campaigns "
                "(campaigns.* in ml/conf/coupon_uplift.yml) or wait for more data."
            )


def coupon_values(frame: pd.DataFrame) -> tuple[float, ...]:
    """The coupon values the treated users of `frame` received, ascending."""
    values = frame.loc[frame[TREATMENT] == 1, VALUE].to_numpy(dtype="float64")
    return tuple(float(v) for v in np.unique(values))
