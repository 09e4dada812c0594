"""Run the daily pipeline's task functions in order, and digest warehouse tables.

The same functions the DAGs call (`aimass.orchestration.daily`), without the scheduler: a
test can run a day, crash or repeat a step, and compare table checksums with a clean run.
"""

from __future__ import annotations

import time
from datetime import date

from aimass.contracts import load_contracts
from aimass.orchestration import daily

PROFILE = "tiny"  # 300 users, 40 days from 2026-07-01
LAST_DAY = date(2026, 8, 9)


def ingest_all(url: str, ds: date) -> dict[str, dict]:
    return {source: daily.ingest_source(url, source, ds) for source in load_contracts()}


def run_day(url: str, ds: date, *, train: bool = True, force_retrain: bool = False) -> dict:
    """simulate -> ingest every source -> raw gate -> dbt build -> feature gate -> train ->
    score -> score gate, as the ingest, marts and propensity DAGs do; returns seconds per step
    and what each step returned (what its task pushes to XCom)."""
    steps: dict[str, float] = {}
    outputs: dict[str, object] = {}

    def step(name, fn, *args, **kwargs):
        started = time.monotonic()
        out = outputs[name] = fn(*args, **kwargs)
        steps[name] = round(time.monotonic() - started, 1)
        return out

    step("prepare", daily.prepare_warehouse, url)
    step("simulate", daily.simulate_shop, url, ds, PROFILE)
    step("ingest", ingest_all, url, ds)
    step("gate_raw", daily.quality_gate, url, "raw", ds)
    step("dbt", daily.build_marts, url, ds)
    step("gate_features", daily.quality_gate, url, "features", daily.as_of_for(ds))
    if train:
        step("train", daily.train_propensity, url, ds, force=force_retrain)
        step("score", daily.score_propensity, url, ds)
        step("gate_scores", daily.quality_gate, url, "scores", daily.as_of_for(ds))
    return {"seconds": steps, "outputs": outputs}


# Schemas whose every table and view a re-run must leave identical. `audit` keeps one row per
# validation run by design and is left out.
DIGEST_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "marts", "ml", "sim_truth")
# Columns that record when, by which dbt invocation or in which batch a row was written, not
# what it says.
RUN_COLUMNS = frozenset(
    {
        "_batch_id",
        "_loaded_at",
        "_quarantined_at",
        "source_loaded_at",
        "refreshed_by_invocation",
        "scored_at",
        "computed_at",
        "happened_at",
    }
)
# Tables that log every run by design (one row per load, event or report build).
RUN_LOG_TABLES = frozenset({"raw._load_log", "ml.model_registry_events"})


def relations(conn, schemas=DIGEST_SCHEMAS) -> list[str]:
    """Every table and view (schema.name) in `schemas`."""
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema = any(%s) order by 1",
            (list(schemas),),
        )
        found = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return found


def relation_digest(conn, relation: str, where: str = "", exclude=RUN_COLUMNS) -> tuple:
    """(rows, md5 over the sorted rows) of a relation, without per-run columns."""
    schema, name = relation.split(".", 1)
    with conn.cursor() as cur:
        cur.execute(
            "select column_name from information_schema.columns where table_schema = %s "
            "and table_name = %s order by ordinal_position",
            (schema, name),
        )
        columns = [c for (c,) in cur.fetchall() if c not in exclude]
        select = ", ".join(f'"{c}"' for c in columns)
        cur.execute(
            f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) "
            f'from (select {select} from "{schema}"."{name}" {where}) r'
        )
        found = cur.fetchone()
    conn.rollback()
    return found


def warehouse_digests(conn) -> dict[str, tuple]:
    """Digest of every relation a re-run must leave identical."""
    return {
        relation: relation_digest(conn, relation)
        for relation in relations(conn)
        if relation not in RUN_LOG_TABLES
    }
