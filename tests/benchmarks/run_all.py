"""Every benchmark stage at each shop size; a Markdown report and the raw numbers as JSON.

    .venv/bin/python -m tests.benchmarks.run_all [--size small|medium|large|xlarge] [--stage NAME ...]

Without `--size`, the three sizes small, medium and large run; xlarge only when named.
Each stage runs in its own process (its own throw-away databases and temp dirs, its own peak
memory) and reports measured numbers next to the reference measured in the same run.
Nothing here passes or fails on a number: a stage that breaks is reported as broken.
Results go to `tests/benchmarks/results/report.json` (one entry per size; running one size
replaces that size's entry and keeps the others) and `report.md`, rendered from all entries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks.common import DEFAULT_SIZES, SIZES, BenchSize, git_revision, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
STAGE_TIMEOUT_S = 3 * 3600
# The Airflow DAG's `shop_profile` parameter offers the shop sizes up to `medium`.
AIRFLOW_PROFILES = {"tiny", "demo", "small", "midsize", "medium"}
# The real shop (The Complete Journey) is the same at every size: it runs once, with the small
# size, and is left out of the growth table.
REAL_SHOP_SIZE = "small"
REAL_SHOP_HORIZONS = [7, 30]


def stage_plan(size: BenchSize) -> list[tuple[str, str, dict | None, str]]:
    """(stage, module, kwargs, note) in run order; kwargs None = skipped, note says why."""
    recommendations = Path(__file__).with_name("bench_recommendations.py").exists()
    airflow = size.profile in AIRFLOW_PROFILES
    return [
        ("simulator", "bench_simulator", {"profile": size.profile}, ""),
        ("ingest", "bench_ingest", {"rows": size.day_events, "repeat": size.repeat}, ""),
        (
            "raw_history",
            "bench_raw_history",
            {"days": size.days, "day_events": size.day_events, "users": size.users},
            "",
        ),
        (
            "dbt",
            "bench_dbt",
            {"profile": size.profile, "days": size.days, "build": True},
            "",
        ),
        ("gx", "bench_gx", {"rows": size.users, "repeat": 2}, ""),
        (
            "train_score",
            "bench_train_score",
            {"train_users": size.train_users, "score_users": size.users, "repeat": 2},
            "",
        ),
        (
            "airflow",
            "bench_airflow",
            {"profile": size.profile} if airflow else None,
            "" if airflow else "the DAG's shop_profile parameter stops at medium",
        ),
        (
            "recommendations",
            "bench_recommendations",
            {"size": size.profile} if recommendations else None,
            ""
            if recommendations
            else "tests/benchmarks/bench_recommendations.py does not exist yet",
        ),
        (
            "real_shop",
            "bench_real_shop",
            {"horizons": REAL_SHOP_HORIZONS} if size.name == REAL_SHOP_SIZE else None,
            ""
            if size.name == REAL_SHOP_SIZE
            else f"the real shop does not depend on the size: measured with {REAL_SHOP_SIZE}",
        ),
    ]


# Imported once before the stages, so no stage times Python compiling these from source.
WARM_IMPORTS = (
    "import pyarrow.compute, pyarrow.csv, pandas, psycopg2, sklearn.ensemble, lightgbm, "
    "great_expectations, airflow.sdk, dbt.cli.main, aimass.ingest, aimass.sim.generate, "
    "ml.score, ml.train"
)


def stage_env(pycache: Path) -> dict[str, str]:
    """The environment of every stage process: bytecode cached in `pycache` (an installed
    platform has its bytecode; without a cache every new Python process, e.g. each dbt call
    or Airflow task, compiles its imports from source again)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def warm_up(env: dict[str, str]) -> float:
    """Seconds to import (and so compile into the cache) the packages every stage uses."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", WARM_IMPORTS], env=env, check=True)
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "--version"],
        env=env,
        capture_output=True,
        check=False,
    )
    return round(time.perf_counter() - started, 1)


def run_stage(module: str, kwargs: dict, log_dir: Path, env: dict[str, str]) -> dict:
    """Run one stage in a child process; its JSON result (ok, numbers or error, peak RSS)."""
    out = log_dir / f"{module}.json"
    log = log_dir / f"{module}.log"
    cmd = [sys.executable, "-m", "tests.benchmarks.stage", module, json.dumps(kwargs), str(out)]
    started = time.perf_counter()
    try:
        with log.open("w") as fh:
            subprocess.run(
                cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, timeout=STAGE_TIMEOUT_S
            )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {STAGE_TIMEOUT_S} s"}
    if not out.exists():
        tail = log.read_text(errors="replace")[-1500:]
        return {"ok": False, "error": f"the stage process died:\n{tail}"}
    result = json.loads(out.read_text())
    result["wall_s"] = round(time.perf_counter() - started, 1)
    if not result["ok"]:
        result["log_tail"] = log.read_text(errors="replace")[-1500:]
    return result


def run_size(size: BenchSize, only: set[str] | None, env: dict[str, str], cpu: str, save) -> dict:
    """Every stage of one size; `save(entry)` after each stage keeps what is done so far."""
    entry = {
        "size": size.as_dict(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": git_revision(),
        "cpu": cpu,
        "stages": {},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"aimass-bench-{size.name}-") as tmp:
        for stage, module, kwargs, note in stage_plan(size):
            if only and stage not in only:
                continue
            if kwargs is None:
                entry["stages"][stage] = {"ok": False, "skipped": note}
                print(f"[{size.name}] {stage}: skipped ({note})", flush=True)
                continue
            print(f"[{size.name}] {stage} {kwargs} ...", flush=True)
            result = run_stage(module, kwargs, Path(tmp), env)
            result.update(revision=entry["revision"], measured_at=entry["measured_at"], cpu=cpu)
            entry["stages"][stage] = result
            entry["total_s"] = round(time.perf_counter() - started, 1)
            save(entry)
            status = "ok" if result["ok"] else "FAILED: " + result["error"].splitlines()[0]
            print(f"[{size.name}] {stage}: {result.get('wall_s', '?')} s, {status}", flush=True)
    entry["total_s"] = round(time.perf_counter() - started, 1)
    return entry


# --- rendering ---------------------------------------------------------------------------


def _n(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}"


def _mb(value) -> str:
    return (
        "–" if value is None else f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:.0f} MB"
    )


def headline(stage: str, n: dict) -> dict:
    """The figures of one stage that the report tables show (name -> value)."""
    if stage == "simulator":
        return {"simulator events/s": n["events_per_s"], "simulated events": n["events"]}
    if stage == "ingest":
        return {
            "ingest loader rows/s": n["loader_rows_per_s"],
            "ingest psql \\copy rows/s": n["psql_copy_rows_per_s"],
            "ingest ratio loader/psql": n["ratio_loader_to_psql"],
        }
    if stage == "raw_history":
        return {
            "raw watermark count ms (BRIN)": n["watermark_count_brin_s"] * 1000,
            "raw watermark count ms (seq scan)": n["watermark_count_seq_scan_s"] * 1000,
            "raw day delete ms (BRIN)": n["delete_day_brin_s"] * 1000,
        }
    if stage == "dbt":
        return {
            "dbt full build s": n.get("full_build_s") or n["full_refresh_s"],
            "dbt incremental day s": n["incremental_day_s"],
            "dbt ratio incremental/full": n["ratio_incremental_to_full"],
        }
    if stage == "gx":
        run = n["runs"][0]
        return {
            "gx gate s per checkpoint": run["gate_s"],
            "gx rows validated/s": run["gate_rows_per_s"],
        }
    if stage == "train_score":
        t, s = n["training"], n["scoring"]
        return {
            "train LightGBM s": t["lightgbm_fit_s"],
            "train LightGBM AUC": t["lightgbm_auc"],
            "train HistGBM s": t["hist_gbm_fit_s"],
            "score users/s (incl. write)": s["users_per_s"],
        }
    if stage == "airflow":
        d = n["daily_run"]
        return {
            "daily run wall s": d["wall_s"],
            "daily run task sum s": d["task_sum_s"],
            "daily run overhead ratio": d["overhead_ratio"],
        }
    if stage == "recommendations":
        return {
            "recommender training s": n["train_seconds"],
            "recommendations users/s": n["users_per_second"],
        }
    if stage == "real_shop":
        out = {}
        for h, run in n["horizons"].items():
            out[f"real shop import through scores s ({h}d)"] = run["import_through_scores_s"]
            if "propensity" in run:
                out[f"real shop propensity AUC ({h}d)"] = run["propensity"]["roc_auc"]
        return out
    return {k: v for k, v in n.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def stage_rows(stage: str, n: dict) -> tuple[str, str, str]:
    """(stage label, measured number, the reference it is compared with)."""
    if stage == "simulator":
        return (
            f"simulator ({n['users']:,} users × {n['days']} days)",
            f"{_n(n['events_per_s'])} events/s ({_n(n['events'])} events in {n['simulate_s']} s)",
            "—",
        )
    if stage == "ingest":
        return (
            f"ingestion of one day of events ({_n(n['rows'])} rows, {n['file_mb']} MB CSV)",
            f"{_n(n['loader_rows_per_s'])} rows/s ({n['loader_s']} s, best of {n['repeat']}); "
            f"replacing the day {_n(n['loader_replace_day_rows_per_s'])} rows/s",
            f"`psql \\copy` of the same file into the same table: "
            f"{_n(n['psql_copy_rows_per_s'])} rows/s ({n['psql_copy_s']} s) — "
            f"ratio **{n['ratio_loader_to_psql']:.2f}×**",
        )
    if stage == "raw_history":
        return (
            f"a daily run's scans of `raw.events` ({_n(n['rows'])} rows, {n['days']} daily "
            f"loads, {_n(n['table_mb'])} MB)",
            f"rows loaded since the watermark: {n['watermark_count_brin_s'] * 1000:.1f} ms; "
            f"delete of one day: {n['delete_day_brin_s'] * 1000:.1f} ms (BRIN indexes)",
            f"the same as sequential scans: {n['watermark_count_seq_scan_s'] * 1000:.0f} ms and "
            f"{n['delete_day_seq_scan_s'] * 1000:.0f} ms — **{n['watermark_count_speedup']:.0f}× "
            f"and {n['delete_day_speedup']:.0f}×** faster",
        )
    if stage == "dbt":
        return (
            f"{n.get('command', 'dbt run')} ({_n(n['raw_rows'].get('events'))} events, {_n(n['feature_rows'])} "
            "feature rows)",
            dbt_full_build(n) + f"; one incremental day {n['incremental_day_s']} s",
            f"ratio incremental/full **{n['ratio_incremental_to_full']:.2f}** "
            f"({n['ratio_without_startup']:.2f} without dbt's {n['dbt_startup_s']} s start-up)",
        )
    if stage == "gx":
        run = n["runs"][0]
        return (
            f"Great Expectations feature gate ({_n(run['rows_per_as_of_date'])} rows, "
            f"{run['expectations']} expectations)",
            f"{run['gate_s']} s per checkpoint, {_n(run['gate_rows_per_s'])} rows validated/s; "
            f"3-expectation checkpoint {run['three_expectation_checkpoint_s']} s",
            "—",
        )
    if stage == "train_score":
        t = n["training"]
        return (
            f"training ({_n(t['train_rows'])} rows × {t['features']} features)",
            f"LightGBM {t['lightgbm_fit_s']} s, AUC {t['lightgbm_auc']:.4f}",
            f"HistGradientBoosting {t['hist_gbm_fit_s']} s, AUC {t['hist_gbm_auc']:.4f}: "
            f"time ratio **{t['time_ratio_lightgbm_to_hist_gbm']:.2f}**, "
            f"AUC difference **{t['auc_lightgbm_minus_hist_gbm']:+.4f}**",
        )
    if stage == "airflow":
        d, h = n["daily_run"], n["history_run"]
        marts = (
            f"; `build_marts` {d['build_marts_s']} s against {h['build_marts_s']} s for the "
            f"history's full build"
            if "build_marts_s" in d
            else ""
        )
        c = n.get("catch_up_run")
        catch_up = (
            f"; catch-up run {c['wall_s']} s, `build_marts` {c['build_marts_s']} s" if c else ""
        )
        return (
            f"whole daily run through Airflow ({n['day']}, {d['dags']} DAGs, {d['tasks']} tasks)",
            f"{d['wall_s']} s wall (history run {h['wall_s']} s{marts}{catch_up})",
            f"sum of task durations {d['task_sum_s']} s — overhead ratio "
            f"**{d['overhead_ratio']:.2f}**",
        )
    if stage == "recommendations":
        return (
            f"recommendations ({_n(n['users'])} users, {_n(n['items'])} items)",
            f"training {n['train_seconds']} s; {_n(n['users_per_second'])} users/s, "
            f"{_n(n['recommendations_per_second'])} recommendations/s written",
            "—",
        )
    if stage == "real_shop":
        return real_shop_rows(n)[0]
    figures = ", ".join(f"{k} {v}" for k, v in headline(stage, n).items())
    return stage, figures, "—"


BASELINE_NAMES = {
    "bgnbd": "BG/NBD",
    "rfm": "RFM rule",
    "logistic_regression": "logistic regression",
}
STEP_NAMES = (
    ("inspect", "inspect"),
    ("load", "load"),
    ("dbt_build", "dbt build"),
    ("gates", "gates"),
    ("train", "train"),
)


def real_shop_rows(n: dict) -> list[tuple[str, str, str]]:
    """The real shop's rows: the import's time per horizon, then each horizon's propensity
    metrics next to the baselines on the same test window (margin, DeLong standard error)."""
    rows_in = n["rows"]
    timings = []
    for h, run in n["horizons"].items():
        steps = run["steps_s"]
        parts = ", ".join(f"{label} {steps[key]:.0f}" for key, label in STEP_NAMES if key in steps)
        scored = f", score {steps['score']:.0f}" if "score" in steps else ", not scored"
        timings.append(f"{h} days: **{run['import_through_scores_s']:.0f} s** ({parts}{scored})")
    rows = [
        (
            f"real shop: The Complete Journey imported end to end ({n['households']:,} "
            f"households, {_n(rows_in['orders'])} orders, {_n(rows_in['order_items'])} lines, "
            f"{n['first_order_ts'][:10]} to {n['last_order_ts'][:10]}; scored as of {n['as_of']})",
            "; ".join(timings),
            f"aim: import through scores ≤ {n['target_s']} s; the adapter wrote the export "
            f"in {n['adapter_s']:.0f} s",
        )
    ]
    for h, run in n["horizons"].items():
        if "propensity" not in run:
            rows.append(
                (
                    f"real shop propensity, {h}-day horizon",
                    "not trained",
                    run.get("not_trained") or "the import trained no model",
                )
            )
            continue
        p = run["propensity"]
        status = run["status"] if run["published_scores"] else f"{run['status']}, not scored"
        compared = []
        for name, b in p["baselines"].items():
            se = b["auc_margin_se"]
            noise = "" if se is None else f", SE {se:.3f}: {b['margin_in_se']:+.1f} SE"
            compared.append(
                f"{BASELINE_NAMES.get(name, name)} AUC {b['roc_auc']:.3f}, PR AUC "
                f"{b['pr_auc']:.3f} (margin {b['auc_margin']:+.3f}{noise})"
            )
        if not any("nbd" in name for name in p["baselines"]):
            compared.append("BG/NBD: not among this revision's baselines")
        rows.append(
            (
                f"real shop propensity, {h}-day horizon (test window {_n(p['test_rows'])} rows, "
                f"purchase rate {p['base_rate']:.3f})",
                f"AUC **{p['roc_auc']:.3f}**, PR AUC {p['pr_auc']:.3f}; mean prediction "
                f"{p['mean_predicted']:.3f}; {status}",
                "; ".join(compared),
            )
        )
    return rows


def dbt_full_build(n: dict) -> str:
    """The full build a dbt stage measured: on the empty warehouse (N - 1 days) or, in entries
    written before it measured that, a `--full-refresh` of every day."""
    if n.get("full_build_s") is None:
        return f"full refresh {n['full_refresh_s']} s"
    text = f"full build of {n['full_build_days']} days {n['full_build_s']} s"
    if n.get("full_refresh_s"):
        text += f" (`--full-refresh` of every day {n['full_refresh_s']} s)"
    return text


def scoring_row(n: dict) -> tuple[str, str, str]:
    s = n["scoring"]
    return (
        f"scoring ({_n(s['score_users'])} users)",
        f"{_n(s['users_per_s'])} users/s including the write to PostgreSQL "
        f"({s['score_propensity_s']} s)",
        "—",
    )


def render(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# AI Mass benchmark report",
        "",
        f"Machine of the latest run: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, PostgreSQL "
        f"{m['postgres']}, Python {m['python']}, {m['os']}.",
        "Written by `make bench` (`python -m tests.benchmarks.run_all`); each line is a measured "
        "number next to the reference it is compared with, measured in the same run. Peak RSS is "
        "the largest resident set of the stage's process or any process it waited for (dbt, "
        "Airflow), not the PostgreSQL server's. Stages run with a bytecode cache warmed once "
        "up front, as an installed platform has; the 1-minute load average before → after "
        f"each stage shows how busy the {m['cores']}-core machine was.",
        "",
    ]
    sizes = [s for s in SIZES if s in report["sizes"]]
    for name in sizes:
        entry = report["sizes"][name]
        size = entry["size"]
        lines += [
            f"## {name}: {size['users']:,} users × {size['days']} days",
            "",
            measured_line(entry, m["cpu"]) + (f" {entry['note']}" if entry.get("note") else ""),
            "",
            "| stage | number | compared with, in the same run | peak RSS |",
            "|---|---|---|---|",
        ]
        for stage, result in entry["stages"].items():
            if not result["ok"]:
                error = result.get("error", "")
                why = result.get("skipped") or (
                    error if error.startswith("not ") else "failed: " + error.splitlines()[0]
                )
                lines.append(f"| {stage} | {'skipped' if 'skipped' in result else '–'} | {why} | |")
                continue
            n = result["numbers"]
            rss = _mb(result.get("peak_rss_mb"))
            label, number, reference = stage_rows(stage, n)
            load = result.get("load_average")
            if load:
                reference += f" <br>load avg {load[0]}→{load[1]}"
            lines.append(f"| {label} | {number} | {reference} | {rss} |")
            if stage == "train_score":
                label, number, reference = scoring_row(n)
                lines.append(f"| {label} | {number} | {reference} | (same process) |")
            if stage == "real_shop":
                for label, number, reference in real_shop_rows(n)[1:]:
                    lines.append(f"| {label} | {number} | {reference} | (same process) |")
        lines.append("")
        lines += earlier_table(entry)
    for name in DEFAULT_SIZES:
        if name not in report["sizes"]:
            size = SIZES[name]
            lines += [
                f"## {name}: {size.users:,} users × {size.days} days",
                "",
                f"Not measured yet: `make bench BENCH_ARGS='--size {name}'`.",
                "",
            ]
    # xlarge runs only on request, usually at another revision: it is not in the growth table
    lines += growth_table(report, [s for s in sizes if s in DEFAULT_SIZES])
    return "\n".join(lines) + "\n"


def growth_table(report: dict, sizes: list[str]) -> list[str]:
    figures: dict[str, dict[str, float]] = {}
    for name in sizes:
        for stage, result in report["sizes"][name]["stages"].items():
            if result["ok"] and stage != "real_shop":
                for figure, value in headline(stage, result["numbers"]).items():
                    figures.setdefault(figure, {})[name] = value
                figures.setdefault(f"{stage} peak RSS MB", {})[name] = result.get("peak_rss_mb")
    if len(sizes) < 2:
        return []
    header = " | ".join(sizes)
    steps = list(zip(sizes, sizes[1:], strict=False))
    lines = [
        "## How each figure grows with size",
        "",
        f"| figure | {header} | " + " | ".join(f"{b}/{a}" for a, b in steps) + " |",
        "|---|" + "---|" * (len(sizes) + len(steps)),
    ]
    users = {name: report["sizes"][name]["size"]["users"] for name in sizes}
    lines.append(
        "| users | "
        + " | ".join(f"{users[s]:,}" for s in sizes)
        + " | "
        + " | ".join(f"{users[b] / users[a]:.1f}×" for a, b in steps)
        + " |"
    )
    for figure, values in figures.items():
        cells = [_fmt(values.get(s)) for s in sizes]
        growth = [
            f"{values[b] / values[a]:.2f}×" if values.get(a) and values.get(b) else "–"
            for a, b in steps
        ]
        lines.append(f"| {figure} | " + " | ".join(cells + growth) + " |")
    return lines + [""]


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and abs(value) < 10:
        return f"{value:.3g}"
    return f"{round(value):,}"


def kept_stages(entry: dict) -> dict:
    """The stages of an earlier entry, each with the revision and time it was measured at."""
    return {
        stage: {
            "revision": entry.get("revision"),
            "measured_at": entry.get("measured_at"),
            "cpu": entry.get("cpu"),
            **result,
        }
        for stage, result in entry.get("stages", {}).items()
    }


def with_earlier(stage: str, result: dict, old: dict | None) -> dict:
    """`result` with the headline figures of the run it replaces (`earlier`), so the report
    shows every figure next to its previous measurement; a re-run at the same revision keeps
    the comparison with the revision before."""
    if old is None or not result.get("ok"):
        return result
    if old.get("revision") == result.get("revision") and "earlier" in old:
        return {**result, "earlier": old["earlier"]}
    if not old.get("ok"):
        return result
    earlier = {key: old.get(key) for key in ("revision", "measured_at", "cpu")}
    return {**result, "earlier": {**earlier, "figures": headline(stage, old["numbers"])}}


def earlier_table(entry: dict) -> list[str]:
    """Each stage's headline figures next to those of its previous run (`with_earlier`)."""
    rows = []
    for stage, result in entry["stages"].items():
        earlier = result.get("earlier")
        if not result.get("ok") or not earlier:
            continue
        now = headline(stage, result["numbers"])
        when = f"{earlier['revision']}, {str(earlier['measured_at'])[:10]}"
        if earlier.get("cpu") != result.get("cpu"):
            when += f", {earlier.get('cpu') or 'CPU not recorded'}"
        for figure, before in earlier["figures"].items():
            value = now.get(figure)
            ratio = f"{value / before:.2f}×" if value is not None and before else "–"
            rows.append(f"| {figure} | {_fmt(before)} ({when}) | {_fmt(value)} | {ratio} |")
    if not rows:
        return []
    return [
        "Against the previous measurement of each stage (its CPU named where it was another):",
        "",
        "| figure | before (revision, date) | now | now/before |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


def measured_line(entry: dict, machine_cpu: str) -> str:
    """When, at which revision and, where it was another, on which CPU the size's stages were
    measured (several runs, after --stage)."""
    runs: dict[tuple, list[str]] = {}
    for stage, result in entry["stages"].items():
        key = (
            result.get("measured_at", entry["measured_at"]),
            result.get("revision", entry["revision"]),
            result.get("cpu", entry.get("cpu")),
        )
        runs.setdefault(key, []).append(stage)

    def where(revision: str, cpu: str | None) -> str:
        if cpu is None:
            return f"at revision {revision} (CPU not recorded)"
        if cpu != machine_cpu:
            return f"at revision {revision} on {cpu}"
        return f"at revision {revision}"

    if len(runs) == 1:
        ((_, revision, cpu),) = runs
        return (
            f"Measured {entry['measured_at']} {where(revision, cpu)} in "
            f"{entry['total_s'] / 60:.1f} min."
        )
    parts = [
        f"{', '.join(stages)} measured {when} {where(revision, cpu)}"
        for (when, revision, cpu), stages in sorted(runs.items(), key=lambda item: str(item[0][0]))
    ]
    return "; ".join(parts) + "."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=list(SIZES), action="append", help=f"default: {', '.join(DEFAULT_SIZES)}"
    )
    parser.add_argument("--stage", action="append", help="only these stages (default: all)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output directory")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite report.md from report.json"
    )
    args = parser.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "report.json"
    report = json.loads(path.read_text()) if path.exists() else {"sizes": {}}
    if args.render_only:
        (args.results / "report.md").write_text(render(report))
        return 0
    started = time.perf_counter()
    pycache = tempfile.TemporaryDirectory(prefix="aimass-bench-pycache-")
    env = stage_env(Path(pycache.name))
    print(f"warm-up imports: {warm_up(env)} s", flush=True)
    report["machine"] = machine_info()
    cpu = report["machine"]["cpu"]
    for name in args.size or DEFAULT_SIZES:
        previous = kept_stages(report["sizes"].get(name, {}))
        kept = previous if args.stage else {}

        def save(entry: dict, name: str = name, kept: dict = kept, previous=previous) -> None:
            # stages not run this time (--stage) keep their earlier numbers
            stages = {
                stage: with_earlier(stage, result, previous.get(stage))
                for stage, result in entry["stages"].items()
            }
            report["sizes"][name] = {**entry, "stages": {**kept, **stages}}
            path.write_text(json.dumps(report, indent=2, default=str) + "\n")
            (args.results / "report.md").write_text(render(report))

        only = set(args.stage) if args.stage else None
        save(run_size(SIZES[name], only, env, cpu, save))
    pycache.cleanup()
    print(f"benchmarks done in {(time.perf_counter() - started) / 60:.1f} min: {path}")
    print((args.results / "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
