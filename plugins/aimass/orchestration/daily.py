"""Bodies of the daily pipeline's tasks: plain functions of (warehouse, day, options).

`ds` is the data interval's UTC day: the run for `ds` loads the data of `ds` and everything
earlier not yet loaded; features, scores and the next training as-of date are `ds + 1 day`
(the first moment all of `ds` is known).
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

from aimass.contracts import load_contracts
from aimass.settings import load_settings
from aimass.warehouse import connect, ensure_layout

log = logging.getLogger(__name__)


def as_of_for(ds: date) -> date:
    return ds + timedelta(days=1)


def prepare_warehouse(warehouse_url: str) -> None:
    """Schemas, roles, raw and quarantine tables (idempotent)."""
    with connect(warehouse_url) as conn:
        ensure_layout(conn)


def simulate_shop(warehouse_url: str, ds: date, profile: str) -> dict:
    """Write the simulated shop's landing files up to `ds` and its hidden truth.

    The shop is simulated from its start (it is a stateful process), but only what an earlier
    run did not already write goes out: the landing days not yet landed for this config
    (`landed_days`) and the truth days after the last stored one (`write_truth`). The files
    and tables are the same as a full rewrite's."""
    from aimass.sim.config import load_shop_config
    from aimass.sim.generate import simulate_shop as simulate
    from aimass.sim.landing import landed_days, write_landing
    from aimass.sim.truth import write_truth

    started = time.monotonic()
    config = load_shop_config(profile)
    if not config.start_date <= ds <= config.end_date:
        raise ValueError(
            f"the simulated shop {profile!r} covers {config.start_date} to {config.end_date}; "
            f"a run for {ds} has no simulated data. Trigger a day inside that window (the demo "
            "uses its last day), or turn use_simulated_shop off to load your own landing files."
        )
    shop = simulate(config, until=ds)
    landing_uri = load_settings().landing_uri
    contracts = load_contracts()
    landed = set(landed_days(shop, landing_uri, contracts))
    files = write_landing(
        shop, landing_uri, days=[d for d in shop.days if d not in landed], contracts=contracts
    )
    with connect(warehouse_url) as conn:
        truth = write_truth(shop, conn)
    summary = {
        "profile": profile,
        "days": len(shop.days),
        "rows": {name: len(frame) for name, frame in shop.tables.items()},
        "truth_rows": truth.rows,
        "truth_rows_written": truth.written,
        "truth_rows_kept": truth.kept,
        "truth_full_rewrite": truth.full,
        "files_written": len(files),
        "files_kept": len(landed) * len(contracts),
        "seconds": round(time.monotonic() - started, 1),
    }
    log.info("simulated shop: %s", summary)
    return summary


def ingest_source(warehouse_url: str, source: str, ds: date) -> dict:
    """Bring every landing partition of `source` up to `ds` into `raw.<source>`."""
    from aimass.ingest import run_source

    settings = load_settings()
    contract = load_contracts()[source]
    with connect(warehouse_url) as conn:
        results = run_source(conn, contract, ds, settings)
    totals = {
        "source": source,
        "partitions": len(results),
        "statuses": sorted({r.status for r in results}),
        "rows_in": sum(r.rows_in for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
    }
    log.info("ingested: %s", totals)
    return totals


def build_marts(warehouse_url: str, ds: date, *, full_refresh: bool = False) -> dict:
    """`dbt build` of staging, marts and feature marts (tests included) for the day: a full
    refresh when asked, or when an incremental build would re-read most of `raw` (a catch-up
    after a bulk load, `aimass.build_plan`)."""
    from aimass.build_plan import catch_up_needs_full_refresh
    from aimass.transform import dbt_build

    estimate = None
    if not full_refresh:
        with connect(warehouse_url) as conn:
            full_refresh, estimate = catch_up_needs_full_refresh(conn, list(load_contracts()))
    result = dbt_build(warehouse_url, vars={"run_date": ds.isoformat()}, full_refresh=full_refresh)
    return {
        "seconds": round(result.seconds, 1),
        "full_refresh": full_refresh,
        "reread_share": None if estimate is None else round(estimate.share, 4),
        "nodes": result.nodes,
    }


def quality_gate(warehouse_url: str, suite: str, ds: date) -> dict:
    """Validate a suite; raises `DataQualityError` (failing the run) when data is bad."""
    from aimass.quality.gate import run_gate

    result = run_gate(warehouse_url, suite, ds=ds)
    return {"suite": suite, "success": result.success, "data_docs": str(result.data_docs_index)}


def train_propensity(warehouse_url: str, ds: date, *, force: bool = False) -> dict:
    """Train, evaluate and register a propensity model; promote it if it earns it."""
    from ml.pipeline import train_and_register

    with connect(warehouse_url) as conn:
        return train_and_register(conn, as_of=as_of_for(ds), force=force)


def score_propensity(warehouse_url: str, ds: date) -> dict:
    """Score every active user with the champion as of `ds + 1`."""
    from ml.pipeline import score

    with connect(warehouse_url) as conn:
        return score(conn, score_date=as_of_for(ds))
