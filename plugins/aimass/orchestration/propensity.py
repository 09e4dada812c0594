"""Bodies of the propensity tasks: train (or keep a recent champion) and score as of `ds + 1`."""

from __future__ import annotations

from datetime import date

from aimass.orchestration.daily import as_of_for
from aimass.warehouse import connect


def train_propensity(warehouse_url: str, ds: date, *, force: bool = False) -> dict:
    """Train, evaluate and register a propensity model; promote it if it earns it."""
    from ml.propensity.pipeline import train_and_register

    with connect(warehouse_url) as conn:
        return train_and_register(conn, as_of=as_of_for(ds), force=force)


def score_propensity(warehouse_url: str, ds: date) -> dict:
    """Score every active user with the champion as of `ds + 1`."""
    from ml.propensity.pipeline import score

    with connect(warehouse_url) as conn:
        return score(conn, score_date=as_of_for(ds))
