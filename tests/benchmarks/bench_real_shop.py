"""Benchmark: a real shop's first export imported end to end — Dunnhumby's "The Complete Journey".

1. The adapter (`tests/benchmarks/real_shop/complete_journey.py`) writes the 2,469 households'
   year (1.47M transaction lines, 155,848 baskets) as a history export into a temporary landing
   folder.
2. For each label horizon (7 and 30 days, the dbt var `label_horizon_days` set through
   `AIMASS_DBT_VARS` as for every dbt run of the platform), a throw-away warehouse imports that
   folder as a new user's first export does, through the history import
   (`aimass.history.import_history`, what `python -m aimass.history --landing DIR` runs): every
   source's history loaded, one full `dbt build`, the data-quality gates, training as of the day
   after the export's last day, scoring as of that day. "Import through scores" is the wall time
   of the whole import (the aim: at most 5 minutes on two cores); the time of each step comes from
   the import's progress messages (the scores' gate and the summary count to `score`).
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


def propensity_config_env(horizon: int, home: Path) -> dict[str, str]:
    """While the propensity config still has its own label horizon (it must equal the dbt var),
    a config file that sets it to the run's (`AIMASS_PROPENSITY_CONFIG`); else nothing."""
    from ml.config import CONFIG_ENV, PropensityConfig

    if "label_horizon_days" not in {f.name for f in dataclasses.fields(PropensityConfig)}:
        return {}
    path = home / "propensity.yml"
    path.write_text(f"label_horizon_days: {horizon}\n")
    return {CONFIG_ENV: str(path)}


class StepTimer:
    """A `progress` callback for `import_history`: each top-level message starts a step (its
    name from `STEPS`, else the message), and each step's seconds add up until the next one;
    indented messages belong to the current step."""

    STEPS = (
        ("Preparing", "prepare"),
        ("Inspecting", "inspect"),
        ("The export covers", "load"),
        ("Raw quality gate", "gates"),
        ("Building the marts", "dbt_build"),
        ("Feature quality gate", "gates"),
        ("Training", "train"),
        ("Scoring", "score"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.messages: list[str] = []
        self._step: str | None = None
        self._since = time.perf_counter()

    def __call__(self, message: str) -> None:
        self.messages.append(message)
        if message[:1].isspace():
            return
        self._close()
        self._step = next(
            (step for prefix, step in self.STEPS if message.startswith(prefix)),
            message.strip(" .")[:40],
        )

    def _close(self) -> None:
        now = time.perf_counter()
        if self._step is not None:
            seconds = self.seconds.get(self._step, 0.0) + now - self._since
            self.seconds[self._step] = round(seconds, 2)
        self._since = now

    def finish(self) -> dict[str, float]:
        self._close()
        self._step = None
        return self.seconds


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


def run_horizon(landing: Path, home: Path, horizon: int) -> dict:
    """One throw-away warehouse importing the landing folder with this label horizon through
    the history import (`aimass.history.import_history`, what `python -m aimass.history` runs)."""
    from aimass.history import import_history

    home.mkdir(parents=True, exist_ok=True)
    dbt_vars = {**vars_from_env(), "label_horizon_days": horizon}
    with temporary_database("aimass_bench_cj") as url:
        env = {
            "AIMASS_HOME": str(home),
            "AIMASS_WAREHOUSE_URL": url,
            "AIMASS_LANDING_URI": landing.as_uri(),
            "AIMASS_PII_KEY": secrets.token_hex(32),
            VARS_ENV: json.dumps(dbt_vars),
            **propensity_config_env(horizon, home),
        }
        timer = StepTimer()
        with platform_env(env):
            started = time.perf_counter()
            summary = import_history(url, landing.as_uri(), progress=timer)
            total = time.perf_counter() - started
        steps = timer.finish()
        scored = (summary.get("scoring") or {}).get("status") == "scored"
        with connect(url) as conn:
            with conn.cursor() as cur:
                cur.execute("select to_regclass('ml.model_registry') is not null")
                row = None
                if cur.fetchone()[0]:  # the registry exists once a model was trained
                    cur.execute(REGISTRY_SQL)
                    row = cur.fetchone()
            conn.rollback()
            scores = published(conn) if scored else None
    trained = summary.get("training") or {}
    out = {
        "label_horizon_days": horizon,
        "steps_s": steps,
        "import_through_scores_s": round(total, 1),
        "within_target": total <= TARGET_S and scored,
        "days": summary["days"],
        "raw_rows": {k: v["raw_rows"] for k, v in summary["warehouse"].items() if v["raw_rows"]},
        "quarantined_rows": sum(v["quarantined"] for v in summary["warehouse"].values()),
        "dbt_nodes": summary["build"]["nodes"],
        "warnings": summary.get("warnings", []),
        "published_scores": scores,
        "not_scored": None if scored else (summary.get("scoring") or {}).get("message"),
    }
    if row is None:  # the guards refused to train: the import says why
        return {**out, "status": trained.get("status"), "not_trained": trained.get("message")}
    version, status, verdict, reason, registry_horizon, windows, metrics = row
    return {
        **out,
        "registry_label_horizon_days": registry_horizon,
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
    }


def run(households: int | None = None, horizons: list[int] | tuple[int, ...] = HORIZONS) -> dict:
    """The adapter's time, then each horizon's import, its step times and its metrics."""
    with tempfile.TemporaryDirectory(prefix="aimass-bench-cj-") as tmp:
        landing = Path(tmp) / "landing"
        adapter = write_landing(landing, households)
        last_day = date.fromisoformat(adapter["last_order_ts"][:10])
        runs = {str(h): run_horizon(landing, Path(tmp) / f"home-{h}", h) for h in horizons}
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
