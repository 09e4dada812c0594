"""Benchmark: a real shop's first export imported end to end — Dunnhumby's "The Complete Journey".

1. The adapter (`tests/benchmarks/real_shop/complete_journey.py`) writes the 2,469 households'
   year (1.47M transaction lines, 155,848 baskets) as a history export into a temporary landing
   folder.
2. For each label horizon (7 and 30 days, the dbt var `label_horizon_days` set through
   `AIMASS_DBT_VARS` as for every dbt run of the platform), a throw-away warehouse imports that
   folder as a new user's first export does: every source's history loaded, one full `dbt build`,
   the data-quality gates, training as of the day after the export's last day, scoring as of that
   day. Each step is timed; "import through scores" is their sum (the aim: at most 5 minutes on
   two cores).
3. The propensity metrics come from the registry entry the training wrote: the model's AUC and
   PR AUC on its test window next to every baseline the platform evaluated on the same rows
   (BG/NBD where the platform has it, the RFM rule, the logistic regression), with the AUC margin
   and its DeLong standard error (`ml.evaluate.auc_difference_se`, stored by the evaluation), and
   whether the model was promoted.

    .venv/bin/python -m tests.benchmarks.bench_real_shop [--households N] [--horizons 7 30]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from aimass.contracts import load_contracts
from aimass.testing import temporary_database
from aimass.transform import VARS_ENV, vars_from_env
from aimass.warehouse import connect
from tests.benchmarks.common import peak_rss_mb
from tests.benchmarks.real_shop.complete_journey import write_landing

HORIZONS = (7, 30)
TARGET_S = 300
REGISTRY_SQL = """
select model_version, status, verdict, decision_reason, label_horizon_days, windows, metrics
from ml.model_registry
where model_name = 'propensity'
order by trained_at desc
limit 1
"""
SCORES_SQL = """
select count(*), count(distinct probability), avg(probability), min(score_date)
from marts.propensity_latest
"""


@contextmanager
def platform_env(values: dict[str, str]) -> Iterator[None]:
    """Set the platform's environment variables for the block, then restore them."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def propensity_config(horizon: int):
    """The packaged propensity config, with its own label horizon set to the run's while it
    still has one (the dbt var is the horizon; the model reads it from the labels mart)."""
    from ml.config import PropensityConfig, load_config

    names = {f.name for f in dataclasses.fields(PropensityConfig)}
    return load_config(label_horizon_days=horizon) if "label_horizon_days" in names else None


def timed(steps: dict, name: str, fn, *args, **kwargs):
    """Run `fn`, add its wall seconds to `steps[name]`, return its result."""
    started = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        steps[name] = round(steps.get(name, 0.0) + time.perf_counter() - started, 2)


def import_export(warehouse_url: str, last_day: date, horizon: int) -> tuple[dict, dict]:
    """Load every source's history, build the marts once, gate, train and score as of the day
    after `last_day`, through the platform's task functions; (seconds per step, summaries)."""
    from aimass.orchestration import daily
    from ml.pipeline import train_and_register

    as_of = daily.as_of_for(last_day)
    steps: dict[str, float] = {}
    out: dict = {}
    timed(steps, "prepare", daily.prepare_warehouse, warehouse_url)
    loads = {
        source: timed(steps, "load", daily.ingest_source, warehouse_url, source, last_day)
        for source in load_contracts()
    }
    out["loaded_rows"] = {s: r["rows_loaded"] for s, r in loads.items() if r["rows_loaded"]}
    out["rejected_rows"] = sum(r["rows_rejected"] for r in loads.values())
    timed(steps, "gates", daily.quality_gate, warehouse_url, "raw", last_day)
    build = timed(steps, "dbt_build", daily.build_marts, warehouse_url, last_day, full_refresh=True)
    out["dbt_nodes"] = len(build["nodes"])
    timed(steps, "gates", daily.quality_gate, warehouse_url, "features", as_of)
    with connect(warehouse_url) as conn:
        out["training"] = timed(
            steps,
            "train",
            train_and_register,
            conn,
            as_of=as_of,
            config=propensity_config(horizon),
            force=True,
        )
    if out["training"]["status"] != "champion":
        out["scoring"] = None
        out["not_scored"] = (
            "no champion to score with: the model was not promoted "
            f"({out['training']['decision_reason']})"
        )
        return steps, out
    out["scoring"] = timed(steps, "score", daily.score_propensity, warehouse_url, last_day)
    timed(steps, "gates", daily.quality_gate, warehouse_url, "scores", as_of)
    return steps, out


def comparison(metrics: dict) -> dict:
    """The model's test-window AUC and PR AUC next to each baseline's, with the AUC margin, its
    DeLong standard error and the margin in standard errors."""
    model = metrics["model"]
    rows = {}
    for name, baseline in (metrics.get("baselines") or {}).items():
        if not baseline or baseline.get("roc_auc") is None or name == "oracle":
            continue
        margin = model["roc_auc"] - baseline["roc_auc"]
        se = baseline.get("roc_auc_difference_se")
        rows[name] = {
            "roc_auc": round(baseline["roc_auc"], 4),
            "pr_auc": round(baseline["pr_auc"], 4),
            "auc_margin": round(margin, 4),
            "auc_margin_se": None if se is None else round(se, 4),
            "margin_in_se": None if not se else round(margin / se, 2),
        }
    return {
        "roc_auc": round(model["roc_auc"], 4),
        "pr_auc": round(model["pr_auc"], 4),
        "test_rows": model["rows"],
        "test_positives": model["positives"],
        "base_rate": round(model["base_rate"], 4),
        "mean_predicted": round(model["mean_predicted"], 4),
        "baselines": rows,
    }


def published(conn) -> dict:
    """What the champion published: scored users, distinct probabilities, mean probability."""
    with conn.cursor() as cur:
        cur.execute(SCORES_SQL)
        users, distinct, mean, score_date = cur.fetchone()
    conn.rollback()
    return {
        "users": users,
        "distinct_probabilities": distinct,
        "mean_probability": None if mean is None else round(float(mean), 4),
        "score_date": None if score_date is None else score_date.isoformat(),
    }


def run_horizon(landing: Path, home: Path, last_day: date, horizon: int) -> dict:
    """One throw-away warehouse importing the landing folder with this label horizon."""
    dbt_vars = {**vars_from_env(), "label_horizon_days": horizon}
    with temporary_database("aimass_bench_cj") as url:
        env = {
            "AIMASS_HOME": str(home),
            "AIMASS_WAREHOUSE_URL": url,
            "AIMASS_LANDING_URI": landing.as_uri(),
            "AIMASS_PII_KEY": secrets.token_hex(32),
            VARS_ENV: json.dumps(dbt_vars),
        }
        home.mkdir(parents=True, exist_ok=True)
        with platform_env(env):
            steps, out = import_export(url, last_day, horizon)
        with connect(url) as conn:
            with conn.cursor() as cur:
                cur.execute(REGISTRY_SQL)
                version, status, verdict, reason, mart_horizon, windows, metrics = cur.fetchone()
            conn.rollback()
            scores = published(conn) if out["scoring"] else None
    total = sum(s for name, s in steps.items() if name != "prepare")
    return {
        "label_horizon_days": horizon,
        "registry_label_horizon_days": mart_horizon,
        "steps_s": steps,
        "import_through_scores_s": round(total, 1),
        "within_target": total <= TARGET_S and scores is not None,
        "loaded_rows": out["loaded_rows"],
        "rejected_rows": out["rejected_rows"],
        "dbt_nodes": out["dbt_nodes"],
        "model_version": version,
        "status": status,
        "verdict": verdict,
        "decision_reason": reason,
        "windows": {
            name: {"start": w["start"], "end": w["end"], "dates": len(w["dates"])}
            for name, w in windows.items()
            if isinstance(w, dict)
        },
        "propensity": comparison(metrics),
        "published_scores": scores,
        "not_scored": out.get("not_scored"),
    }


def run(households: int | None = None, horizons: list[int] | tuple[int, ...] = HORIZONS) -> dict:
    """The adapter's time, then each horizon's import, its step times and its metrics."""
    with tempfile.TemporaryDirectory(prefix="aimass-bench-cj-") as tmp:
        landing = Path(tmp) / "landing"
        adapter = write_landing(landing, households)
        last_day = date.fromisoformat(adapter["last_order_ts"][:10])
        runs = {
            str(h): run_horizon(landing, Path(tmp) / f"home-{h}", last_day, h) for h in horizons
        }
    return {
        "households": adapter["households"],
        "rows": adapter["rows"],
        "first_order_ts": adapter["first_order_ts"],
        "last_order_ts": adapter["last_order_ts"],
        "as_of": (last_day + timedelta(days=1)).isoformat(),
        "adapter_s": adapter["seconds"],
        "target_s": TARGET_S,
        "horizons": runs,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=None, help="default: all 2,469")
    parser.add_argument("--horizons", type=int, nargs="+", default=list(HORIZONS))
    args = parser.parse_args()
    print(json.dumps(run(args.households, args.horizons), indent=2, default=str))


if __name__ == "__main__":
    main()
