"""The one lifecycle around a model's spec, with a toy model on a real warehouse: register,
promote by the rule, keep a recent champion, store the report; the registry keeps only the
windows a model has and migrates an older table."""

from __future__ import annotations

import json
from datetime import date, timedelta

from ml.core import lifecycle
from ml.core.lifecycle import Candidate, Evaluation, ModelSpec
from ml.core.promotion import Rule
from ml.core.registry import REGISTRY_DDL, ensure_registry, get_champion, get_model, list_models
from ml.core.report import page, store_report

AS_OF = date(2026, 9, 29)


def _spec(score: float, retrain_after_days: int = 7, baseline: float = 0.5) -> ModelSpec:
    """A toy model whose 'fit' is a number: its score on the window."""

    def evaluate(conn, data, fitted, champion):
        record = None if champion is None else get_model(conn, "toy", champion.model_version)
        on_window = lifecycle.champion_section(
            record, lambda r: {"score": json.loads(r.verified_artifact())["score"]}
        )
        model = {"score": fitted}
        return Evaluation(
            model=model,
            baselines={"constant": {"score": baseline}, "oracle": {"score": 1.0}},
            champion=on_window,
            metrics={"model": model},
            verdict=f"toy scores {fitted}",
            summary={"data": data},
        )

    def candidate(data, fitted):
        day = timedelta(days=1)
        return Candidate(
            artifact=json.dumps({"score": fitted}).encode(),
            windows={
                "cutoff": data,
                "train": {"start": data - 30 * day, "end": data - 8 * day, "dates": []},
                "test": {"start": data - 7 * day, "end": data - day, "dates": []},
            },
            label_horizon_days=7,
            params={},
            features={},
        )

    return ModelSpec(
        name="toy",
        retrain_after_days=retrain_after_days,
        rule=Rule("score", "score", margin=0.01),
        load=lambda conn, as_of, champion: as_of,
        fit=lambda data: score,
        evaluate=evaluate,
        candidate=candidate,
        report=lambda conn, name, version: store_report(
            conn, name, version, lambda record: page(version, record.verdict or "")
        ),
    )


def test_a_first_model_that_beats_its_baselines_becomes_champion_with_a_report(warehouse):
    summary = lifecycle.train_and_register(warehouse, _spec(0.8), AS_OF)
    assert summary["status"] == "champion" and summary["promoted"], summary
    assert summary["data"] == AS_OF.isoformat()
    record = get_model(warehouse, "toy", summary["model_version"], with_artifact=False)
    assert (
        record.report_html.startswith("<!DOCTYPE html>") and "toy scores 0.8" in record.report_html
    )
    assert record.windows["test"]["start"] == "2026-09-22" and "validation" not in record.windows
    with warehouse.cursor() as cur:
        cur.execute("select validation_start, calibration_end, test_end from ml.model_registry")
        assert cur.fetchone() == (None, None, date(2026, 9, 28))


def test_a_recent_champion_stays_unless_forced_and_a_weaker_one_is_kept_as_candidate(warehouse):
    first = lifecycle.train_and_register(warehouse, _spec(0.8), AS_OF)
    kept = lifecycle.train_and_register(warehouse, _spec(0.9), AS_OF + timedelta(days=3))
    assert kept["status"] == "skipped" and kept["model_version"] == first["model_version"]
    weaker = lifecycle.train_and_register(
        warehouse, _spec(0.7), AS_OF + timedelta(days=3), force=True
    )
    assert weaker["status"] == "candidate" and weaker["decision_reason"].startswith("Kept")
    assert get_champion(warehouse, "toy").model_version == first["model_version"]
    lost = lifecycle.train_and_register(warehouse, _spec(0.4), AS_OF + timedelta(days=9))
    assert lost["status"] == "rejected"
    assert [m.status for m in list_models(warehouse, "toy")] == [
        "rejected",
        "candidate",
        "champion",
    ]


def test_an_older_registry_with_required_windows_is_migrated(warehouse):
    old = REGISTRY_DDL[: REGISTRY_DDL.index("-- a model has only")]
    for window in ("validation", "calibration", "test"):
        old = old.replace(f"{window}_start date,", f"{window}_start date not null,")
        old = old.replace(f"{window}_end date,", f"{window}_end date not null,")
    with warehouse.cursor() as cur:
        cur.execute(old)
    warehouse.commit()
    ensure_registry(warehouse)
    ensure_registry(warehouse)  # idempotent
    with warehouse.cursor() as cur:
        cur.execute(
            "select column_name, is_nullable from information_schema.columns "
            "where table_schema = 'ml' and table_name = 'model_registry' "
            "and column_name like any (array['train_%%', 'validation_%%', 'test_%%'])"
        )
        nullable = dict(cur.fetchall())
    assert nullable["train_start"] == "NO" and nullable["validation_start"] == "YES"
    assert nullable["test_end"] == "YES"
