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
    landing_uri = load_settings().landing_uri
    contracts = load_contracts()
    check_simulator_owns(landing_uri, contracts)
    shop = simulate(config, until=ds)
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


def check_simulator_owns(landing_uri: str, contracts) -> None:
    """Refuse to write the simulated shop into a landing area that holds other data: one with
    source folders but without the simulator's manifest (a real export, say)."""
    from aimass.sim.landing import MANIFEST_NAME, landing_root

    root = landing_root(landing_uri)
    if not root.is_dir() or (root / MANIFEST_NAME).is_file():
        return
    found = sorted(name for name in contracts if (root / name).exists())
    if found:
        raise ValueError(
            f"the landing area {landing_uri} holds data the simulated shop did not write "
            f"({', '.join(found[:4])}{' ...' if len(found) > 4 else ''}; no {MANIFEST_NAME}), "
            "so the simulator will not write into it. To load those files, turn "
            "use_simulated_shop off (AIMASS_USE_SIMULATED_SHOP=false for scheduled runs); to "
            "run the simulated shop, point AIMASS_LANDING_URI at an empty or simulator-owned "
            "folder."
        )


def ingest_source(warehouse_url: str, source: str, ds: date) -> dict:
    """Bring every landing partition of `source` up to `ds` into `raw.<source>`.

    A day without data for a required source fails (`MissingPartitionError`, per its
    contract's `on_missing_partition`); for an optional source the result lists the day under
    `missing` and the log says so."""
    from aimass.ingest import run_source

    settings = load_settings()
    contract = load_contracts()[source]
    with connect(warehouse_url) as conn:
        results = run_source(conn, contract, ds, settings)
    missing = [r for r in results if r.status == "missing"]
    totals = {
        "source": source,
        "partitions": len(results),
        "statuses": sorted({r.status for r in results}),
        "rows_in": sum(r.rows_in for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "missing": [r.message for r in missing],
    }
    for result in missing:
        log.warning("%s has no data for %s: %s", source, result.ds, result.message)
    log.info("ingested: %s", totals)
    return totals


def build_marts(warehouse_url: str, ds: date, *, full_refresh: bool = False) -> dict:
    """`dbt build` of staging, marts and feature marts (tests included) for the day: a full
    refresh when asked, or when an incremental build would re-read most of `raw` (a catch-up
    after a bulk load). It re-reads only the loads it may not have seen: the overlap comes from
    the load log and the last recorded build (`aimass.build_plan`), and this build is
    recorded in `audit.dbt_builds` for the next one."""
    from aimass.build_plan import database_now, plan_build, record_build
    from aimass.transform import dbt_build

    sources = list(load_contracts())
    with connect(warehouse_url) as conn:
        plan = plan_build(conn, sources, full_refresh=full_refresh)
        requested_at = database_now(conn)
    log.info(
        "dbt build for %s: %s, load overlap %s min (%s)",
        ds,
        "full refresh" if plan.full_refresh else "incremental",
        plan.load_overlap_minutes,
        plan.overlap_reason,
    )
    result = dbt_build(
        warehouse_url,
        vars={"run_date": ds.isoformat(), "load_overlap_minutes": plan.load_overlap_minutes},
        full_refresh=plan.full_refresh,
    )
    with connect(warehouse_url) as conn:
        record_build(
            conn, plan, sources, run_date=ds, requested_at=requested_at, seconds=result.seconds
        )
    return {
        "seconds": round(result.seconds, 1),
        "full_refresh": plan.full_refresh,
        "reread_share": None if plan.estimate is None else round(plan.estimate.share, 4),
        "load_overlap_minutes": plan.load_overlap_minutes,
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
