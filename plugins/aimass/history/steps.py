"""The steps of a history import, each a plain function the CLI and the DAG call alike.

Each returns a small JSON-serialisable dict (what its task pushes to XCom). `last_day` is the
export's last day (`ExportInventory.last_day`); the features, the training cut-off and the
scores are as of the day after it.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

from psycopg2 import sql

from aimass.contracts import load_contracts
from aimass.history.inventory import ExportInventory, inspect_export
from aimass.orchestration import daily
from aimass.settings import load_settings
from aimass.warehouse import connect

log = logging.getLogger(__name__)

_NEEDS_DAYS = re.compile(r"needs (\d+) days of data")
_HAS_DAYS = re.compile(r"\((\d+) days\)")


def landing_uri_of(landing: str | None) -> str:
    """The landing area to import: `landing` (a URI, or a local path made absolute as a
    file:// URI, the form the daily runs use) or, when empty, `AIMASS_LANDING_URI`."""
    if not landing or not landing.strip():
        return load_settings().landing_uri
    landing = landing.strip()
    scheme = urlparse(landing).scheme
    if scheme and len(scheme) > 1:  # a URI (a one-letter scheme is a Windows drive)
        return landing
    return Path(landing).expanduser().resolve().as_uri()


def inspect(landing_uri: str, *, today: date | None = None) -> ExportInventory:
    """The export's inventory; raises `ExportError` (nothing loaded) when it has problems."""
    inventory = inspect_export(landing_uri, load_contracts(), today=today)
    for warning in inventory.warnings:
        log.warning("export: %s", warning)
    inventory.raise_for_problems()
    return inventory


def load_source(warehouse_url: str, source: str, landing_uri: str, last_day: date) -> dict:
    """Load one source's history export and its daily partitions up to `last_day`."""
    from aimass.ingest import run_source

    contract = load_contracts()[source]
    if contract.kind != "file":
        return {"source": source, "status": "not_in_export", "kind": contract.kind}
    with connect(warehouse_url) as conn:
        results = run_source(
            conn, contract, last_day, load_settings(), landing_uri=landing_uri, check_missing=False
        )
    loaded = [r for r in results if r.status == "loaded"]
    statuses = sorted({r.status for r in results})
    return {
        "source": source,
        # "no_rows": the export holds files of this source, but no row in them
        "status": "loaded" if loaded else (statuses[0] if statuses else "no_rows"),
        "days_loaded": len({r.ds for r in loaded}),
        "units_skipped": sum(r.status == "skipped" for r in results),
        "rows_in": sum(r.rows_in for r in loaded),
        "rows_loaded": sum(r.rows_loaded for r in loaded),
        "rows_rejected": sum(r.rows_rejected for r in loaded),
    }


def build(warehouse_url: str, last_day: date) -> dict:
    """One full `dbt build` of every model over the whole export."""
    result = daily.build_marts(warehouse_url, last_day, full_refresh=True)
    return {k: v for k, v in result.items() if k != "nodes"} | {"nodes": len(result["nodes"])}


def train(warehouse_url: str, last_day: date) -> dict:
    """Train, evaluate and register a propensity model with cut-off `last_day + 1` (forced).

    Too little history is not an error of the import: the guards' `ValueError` becomes a
    `not_trained` result that says why (and how many more days, when the guard says). A
    configuration that does not load is an error, raised before training."""
    from ml.config import load_config

    load_config()
    try:
        result = daily.train_propensity(warehouse_url, last_day, force=True)
    except ValueError as exc:
        message = str(exc).strip()
        more = more_days_needed(message)
        log.warning("the propensity model was not trained: %s", message)
        return {"status": "not_trained", "message": message, "more_days_needed": more}
    return {"status": "trained", **result}


def more_days_needed(message: str) -> int | None:
    """The days of data a training guard's message says are missing, if it says."""
    needs, has = _NEEDS_DAYS.search(message), _HAS_DAYS.search(message)
    if not needs or not has:
        return None
    return max(int(needs.group(1)) - int(has.group(1)), 0) or None


def score(warehouse_url: str, last_day: date) -> dict:
    """Score every user as of `last_day + 1` with the champion; `not_scored` without one."""
    from ml.config import load_config
    from ml.registry import get_champion

    with connect(warehouse_url) as conn:
        champion = get_champion(conn, load_config().model_name, with_artifact=False)
    if champion is None:
        return {
            "status": "not_scored",
            "message": "there is no champion propensity model yet, so nothing was scored",
        }
    result = daily.score_propensity(warehouse_url, last_day)
    return {"status": "scored", **result}


def gate_scores(warehouse_url: str, last_day: date, scored: dict) -> dict | None:
    """The scores' quality gate; None when nothing was scored (nothing to check)."""
    if scored.get("status") != "scored":
        return None
    return daily.quality_gate(warehouse_url, "scores", daily.as_of_for(last_day))


def warehouse_counts(warehouse_url: str) -> dict[str, dict]:
    """Per file source: rows in raw, rows in quarantine (with the top reasons) and days with a
    successful load, as the warehouse holds them now."""
    contracts = load_contracts()
    out = {}
    with connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(
            "select source, count(distinct ds) from raw._load_log "
            "where status = 'loaded' and rows_loaded > 0 group by source"
        )
        days = dict(cur.fetchall())
        for name in contracts:
            table = sql.Identifier(name)
            cur.execute(sql.SQL("select count(*) from raw.{}").format(table))
            raw_rows = cur.fetchone()[0]
            cur.execute(
                sql.SQL(
                    "select _reason, count(*) from quarantine.{} group by 1 order by 2 desc"
                ).format(table)
            )
            reasons = cur.fetchall()
            out[name] = {
                "days": days.get(name, 0),
                "raw_rows": raw_rows,
                "quarantined": sum(n for _, n in reasons),
                "top_reasons": [[reason, n] for reason, n in reasons[:3]],
            }
    return out


def summarise(
    warehouse_url: str,
    export: dict,
    *,
    loads: list[dict],
    built: dict,
    trained: dict | None,
    scored: dict | None,
) -> dict:
    """What the import did, and the text to show for it (`lines`)."""
    counts = warehouse_counts(warehouse_url)
    last_day = date.fromisoformat(export["last_day"])
    configured = load_settings().landing_uri
    summary = {
        "landing_uri": export["landing_uri"],
        "first_day": export["first_day"],
        "last_day": export["last_day"],
        "days": (last_day - date.fromisoformat(export["first_day"])).days + 1,
        "score_date": daily.as_of_for(last_day).isoformat(),
        "loads": loads,
        "warehouse": counts,
        "build": built,
        "training": trained,
        "scoring": scored,
        "warnings": export.get("warnings", []),
        "landing_is_configured": export["landing_uri"] == configured,
    }
    summary["lines"] = summary_lines(summary, configured)
    return summary


def summary_lines(summary: dict, configured_landing: str) -> list[str]:
    """The summary as lines of text (the CLI prints them, the DAG logs them)."""
    counts = summary["warehouse"]
    lines = [
        f"Imported {summary['landing_uri']}: {summary['first_day']} to {summary['last_day']} "
        f"({summary['days']} days).",
        "",
        f"  {'source':<20} {'days':>6} {'rows in raw':>12} {'quarantined':>12}",
    ]
    for name, c in counts.items():
        if c["raw_rows"] or c["quarantined"]:
            lines.append(
                f"  {name:<20} {c['days']:>6,} {c['raw_rows']:>12,} {c['quarantined']:>12,}"
            )
    for name, c in counts.items():
        for reason, n in c["top_reasons"]:
            lines.append(f"  quarantine.{name}: {n:,} rows: {reason}")
    for warning in summary["warnings"]:
        lines.append(f"  warning: {warning}")
    built = summary["build"]
    lines += [
        "",
        f"Marts: one full dbt build in {built['seconds']:.0f} s ({built['nodes']} nodes).",
    ]
    lines += _training_lines(summary["training"], summary["scoring"], summary["score_date"])
    next_day = (date.fromisoformat(summary["last_day"]) + timedelta(days=1)).isoformat()
    lines += [
        "",
        "Where next:",
        '  psql "$AIMASS_WAREHOUSE_URL" -c \'select * from marts.propensity_latest '
        "order by probability desc limit 20'   (after: set -a; . .aimass/runtime.env; set +a)",
        "  quarantine.<source> holds every rejected row with its reason; raw._load_log one row "
        "per (source, day) load.",
        f"  The daily runs continue with {next_day}: land <landing>/<source>/{next_day}/part-*.csv"
        f" and run aimass_ingest for {next_day} with use_simulated_shop off (scheduled runs: "
        "set AIMASS_USE_SIMULATED_SHOP=false).",
    ]
    if not summary["landing_is_configured"]:
        lines.append(
            f"  Note: the daily runs read AIMASS_LANDING_URI={configured_landing}, not this "
            f"export's landing area; set AIMASS_LANDING_URI={summary['landing_uri']} for them."
        )
    return lines


def _training_lines(trained: dict | None, scored: dict | None, score_date: str) -> list[str]:
    if trained is None:
        return ["Propensity: not trained or scored (asked for: load and build only)."]
    if trained["status"] == "not_trained":
        more = trained.get("more_days_needed")
        head = (
            f"Propensity: NOT trained: training needs {more} more days of history."
            if more
            else "Propensity: NOT trained: the data does not pass the training guards."
        )
        lines = [head, f"  {trained['message']}"]
    else:
        metrics = trained.get("metrics") or {}
        baselines = trained.get("baselines") or {}
        compared = ", ".join(
            f"{name} {b['roc_auc']:.3f}"
            for name, b in baselines.items()
            if b and b.get("roc_auc") is not None
        )
        lines = [
            f"Propensity: model {trained['model_version']} ({trained['status']}): AUC "
            f"{_num(metrics.get('roc_auc'))}, PR AUC {_num(metrics.get('pr_auc'))}"
            + (f"; baselines: {compared}" if compared else "")
            + ".",
            f"  {trained.get('decision_reason') or ''}".rstrip(),
        ]
    if scored is None or scored.get("status") != "scored":
        why = (scored or {}).get("message", "")
        lines.append(f"Scores: none written{': ' + why if why else ''}.")
    else:
        lines.append(
            f"Scores: {scored['rows']:,} users scored as of {score_date} with "
            f"{scored['model_version']} (mean probability {_num(scored.get('mean_probability'))})"
            " in ml.propensity_scores; marts.propensity_latest shows them."
        )
    return [""] + [line for line in lines if line.strip()]


def _num(value) -> str:
    return "n/a" if value is None else f"{float(value):.3f}"
