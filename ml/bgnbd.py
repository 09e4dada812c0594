"""BG/NBD on the feature mart: per-user summaries from the lifetime purchase columns, the fit on
the last training date, the baseline scores and the `bgnbd_expected_purchases` feature.

Summaries at as-of date A, in days: frequency x = purchase_days_lifetime - 1 (purchase days
after the first), T = days_since_first_purchase, recency t_x = T - days_since_last_purchase. A
user without a purchase gets x = 0, t_x = 0, T = tenure_days: a customer who has not come back
since joining, whose expectation falls the longer that lasts. The fit uses purchasers only (the
population BG/NBD describes); the expectation is computed for everyone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ml import btyd
from ml.btyd import BetaGeoParams, GammaGammaParams

FEATURE = "bgnbd_expected_purchases"
PURCHASE_DAYS = "purchase_days_lifetime"
FIRST = "days_since_first_purchase"
LAST = "days_since_last_purchase"
TENURE = "tenure_days"
PURCHASES = "purchases_lifetime"
REVENUE = "revenue_lifetime"
REQUIRED_COLUMNS = (PURCHASE_DAYS, FIRST, LAST, TENURE)


@dataclass(frozen=True)
class BgnbdFit:
    """BG/NBD (and, when it fits, Gamma-Gamma) parameters fitted at one as-of date, and the
    horizon its expectations are for. Stored with the model artifact (without `seconds`, the
    fit's wall time, so that the same data give the same artifact)."""

    params: BetaGeoParams
    horizon_days: int
    fitted_on: date
    customers: int
    spend: GammaGammaParams | None = None
    spend_error: str | None = None
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict:
        return {
            "params": self.params.to_dict(),
            "horizon_days": self.horizon_days,
            "fitted_on": self.fitted_on.isoformat(),
            "customers": self.customers,
            "gamma_gamma": None if self.spend is None else self.spend.to_dict(),
            "gamma_gamma_error": self.spend_error,
        }

    @classmethod
    def from_dict(cls, data: dict) -> BgnbdFit:
        spend = data.get("gamma_gamma")
        return cls(
            params=BetaGeoParams.from_dict(data["params"]),
            horizon_days=int(data["horizon_days"]),
            fitted_on=date.fromisoformat(data["fitted_on"]),
            customers=int(data["customers"]),
            spend=None if spend is None else GammaGammaParams.from_dict(spend),
            spend_error=data.get("gamma_gamma_error"),
        )


def missing_columns(frame: pd.DataFrame) -> list[str]:
    """The lifetime columns BG/NBD needs that `frame` lacks."""
    return [c for c in REQUIRED_COLUMNS if c not in frame.columns]


def summaries(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T, has_purchase) per row from the lifetime columns (see the module doc)."""
    missing = missing_columns(frame)
    if missing:
        raise ValueError(
            f"BG/NBD needs the feature mart columns {missing}; rebuild "
            "marts.fct_user_features_daily with dbt (they are its lifetime purchase columns)."
        )
    days = frame[PURCHASE_DAYS].astype("float64").fillna(0).to_numpy()
    first = frame[FIRST].astype("float64").to_numpy()
    last = frame[LAST].astype("float64").to_numpy()
    bought = days >= 1
    broken = bought & (np.isnan(first) | np.isnan(last) | (last > first))
    if broken.any():
        raise ValueError(
            f"{int(broken.sum())} rows have purchase days but no first/last purchase or a last "
            f"purchase before the first ({FIRST}, {LAST}); check marts.fct_user_features_daily."
        )
    tenure = np.clip(frame[TENURE].astype("float64").fillna(0).to_numpy(), 0, None)
    x = np.where(bought, days - 1, 0.0)
    T = np.where(bought, first, tenure)
    t_x = np.where(bought & (x > 0), first - last, 0.0)
    # a repeat purchase on a later day has t_x >= 1; keep that even where the mart rounds
    t_x = np.where(x > 0, np.maximum(t_x, 1.0), t_x)
    T = np.maximum(T, t_x)
    return x, t_x, T, bought


def fit_at(
    frame: pd.DataFrame, as_of: date, horizon_days: int, min_customers: int
) -> tuple[BgnbdFit | None, str | None]:
    """Fit BG/NBD (and Gamma-Gamma) on the purchasers of `as_of`'s rows; (None, why) when the
    mart lacks the columns or the date has fewer than `min_customers` purchasers."""
    missing = missing_columns(frame)
    if missing:
        return None, (
            f"the feature mart has no {', '.join(missing)} (the lifetime purchase columns); "
            "rebuild it with dbt"
        )
    rows = frame.loc[frame["as_of_date"] == as_of]
    x, t_x, T, bought = summaries(rows)
    customers = int(bought.sum())
    if customers < min_customers:
        return None, (
            f"only {customers} users had purchased before {as_of}, fewer than "
            f"bgnbd.min_customers={min_customers}"
        )
    started = time.perf_counter()
    params = btyd.fit_bgnbd(x[bought], t_x[bought], T[bought])
    seconds = time.perf_counter() - started
    spend, spend_error = None, None
    if PURCHASES in rows.columns and REVENUE in rows.columns:
        count = rows[PURCHASES].astype("float64").fillna(0).to_numpy()
        revenue = rows[REVENUE].astype("float64").fillna(0).to_numpy()
        paid = (count >= 1) & (revenue > 0)
        try:
            spend = btyd.fit_gamma_gamma(count[paid], revenue[paid] / count[paid])
            if spend.q <= 1:
                spend, spend_error = None, f"q = {spend.q:.3f} <= 1: mean spend is infinite"
        except ValueError as exc:
            spend_error = str(exc)
    else:
        spend_error = f"the feature mart has no {PURCHASES} / {REVENUE}"
    fit = BgnbdFit(params, horizon_days, as_of, customers, spend, spend_error, seconds)
    return fit, None


def expected_purchases(fit: BgnbdFit, frame: pd.DataFrame) -> np.ndarray:
    """E[purchase days in [A, A + H)] per row of `frame` (its own as-of date A)."""
    x, t_x, T, _ = summaries(frame)
    return btyd.expected_purchases(fit.params, float(fit.horizon_days), x, t_x, T)


def expected_revenue(fit: BgnbdFit, frame: pd.DataFrame) -> np.ndarray | None:
    """Expected purchases times the Gamma-Gamma expected spend per purchase (None without a
    Gamma-Gamma fit)."""
    if fit.spend is None or PURCHASES not in frame.columns or REVENUE not in frame.columns:
        return None
    count = frame[PURCHASES].astype("float64").fillna(0).to_numpy()
    revenue = frame[REVENUE].astype("float64").fillna(0).to_numpy()
    mean = np.divide(revenue, count, out=np.zeros_like(revenue), where=count > 0)
    return expected_purchases(fit, frame) * btyd.expected_spend(fit.spend, count, mean)


def with_feature(frame: pd.DataFrame, fit: BgnbdFit | None) -> pd.DataFrame:
    """`frame` plus `bgnbd_expected_purchases` (a copy; recomputed if present); the frame
    itself when there is no fit."""
    if fit is None:
        return frame
    out = frame.copy()
    out[FEATURE] = expected_purchases(fit, frame)
    return out
