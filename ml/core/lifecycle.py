"""The one model lifecycle: train → evaluate against baselines and the champion → register →
promote by the rule → report; and score with the champion. Each model supplies a `ModelSpec`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ml.core.jsonsafe import jsonable
from ml.core.promotion import Decision, Rule, decide
from ml.core.registry import RegisteredModel, get_champion, promote, register, resolve_model
from ml.core.tx import transaction


@dataclass
class Evaluation:
    """What a model's `evaluate` hands back: the candidate's metrics, the baselines' and the
    champion's on the same window, and what the registry and the summary keep."""

    model: dict
    baselines: dict[str, dict | None]
    champion: dict | None
    metrics: dict  # the registry's metrics document
    verdict: str
    summary: dict = field(default_factory=dict)  # model-specific fields of the run's summary


@dataclass
class Candidate:
    """A fitted model ready to register."""

    artifact: bytes
    windows: dict  # {"cutoff": date, <window name>: {"start", "end", "dates"}, ...}
    label_horizon_days: int
    params: dict
    features: dict


@dataclass(frozen=True)
class ModelSpec:
    """What one model supplies to the lifecycle.

    `load(conn, as_of, champion)` reads the training data (run inside a transaction that ends
    before fitting); `fit(data)` fits without the database; `evaluate(conn, data, fitted,
    champion)` scores the candidate, the baselines and the champion on the same window;
    `candidate(data, fitted)` gives what is registered; `report(conn, name, version)` stores the
    version's HTML report; `stale(conn, champion)` says why a recent champion must still be
    retrained (or None). For `score`: `load_model(record)` turns the verified artifact into the
    model, `publish(conn, record, model, score_date, **options)` writes its output (score table,
    `*_latest` view) and returns the summary; `how_to_train` is the advice when there is no
    champion; `headline(metrics)` picks the summary's metrics of a kept champion."""

    name: str
    retrain_after_days: int
    rule: Rule
    load: Callable[[Any, date | None, RegisteredModel | None], Any]
    fit: Callable[[Any], Any]
    evaluate: Callable[[Any, Any, Any, RegisteredModel | None], Evaluation]
    candidate: Callable[[Any, Any], Candidate]
    report: Callable[[Any, str, str], str]
    stale: Callable[[Any, RegisteredModel], str | None] | None = None
    load_model: Callable[[RegisteredModel], Any] | None = None
    publish: Callable[..., dict] | None = None
    how_to_train: str = "train one first"
    headline: Callable[[dict | None], dict | None] = lambda metrics: metrics


def recent_champion(
    conn, spec: ModelSpec, as_of: date | None
) -> tuple[RegisteredModel | None, str | None]:
    """(the champion, None) when it may stay without retraining: trained less than
    `retrain_after_days` before `as_of` and not stale; else (None, why it is retrained, or None)."""
    champion = get_champion(conn, spec.name, with_artifact=False)
    if champion is None or as_of is None:
        return None, None
    if not 0 <= (as_of - champion.training_cutoff).days < spec.retrain_after_days:
        return None, None
    reason = spec.stale(conn, champion) if spec.stale else None
    return (None, reason) if reason else (champion, None)


def skipped(spec: ModelSpec, champion: RegisteredModel, as_of: date) -> dict:
    """The summary of a run that keeps a recent champion."""
    return jsonable(
        {
            "model_name": spec.name,
            "model_version": champion.model_version,
            "status": "skipped",
            "promoted": False,
            "decision_reason": (
                f"Champion {champion.model_version} was trained with cut-off "
                f"{champion.training_cutoff}, less than retrain_after_days="
                f"{spec.retrain_after_days} before {as_of}; it stays. Use force to retrain."
            ),
            "verdict": champion.verdict,
            "metrics": spec.headline((champion.metrics or {}).get("model")),
        }
    )


def register_candidate(
    conn, spec: ModelSpec, candidate: Candidate, evaluation: Evaluation, decision: Decision
) -> str:
    """Register the version, promote it when the rule says so, store its report (one
    transaction); returns the version id."""
    with transaction(conn):
        version = register(
            conn,
            model_name=spec.name,
            artifact=candidate.artifact,
            windows=candidate.windows,
            label_horizon_days=candidate.label_horizon_days,
            params=candidate.params,
            features=candidate.features,
            metrics=evaluation.metrics,
            status=decision.status,
            verdict=evaluation.verdict,
            decision_reason=decision.reason,
        )
        if decision.promoted:
            promote(conn, spec.name, version, reason=decision.reason)
        spec.report(conn, spec.name, version)
    return version


def train_and_register(conn, spec: ModelSpec, as_of: date | None, force: bool = False) -> dict:
    """Train, evaluate against the baselines and the champion, register, and promote when the
    rule allows. `as_of` is the training cut-off: no data on or after it is used. A champion
    trained less than `retrain_after_days` before `as_of` is kept (status "skipped") unless
    `force` or the model finds it stale."""
    with transaction(conn):  # the read transaction ends here: no locks held while fitting
        recent, retrain_reason = (None, None) if force else recent_champion(conn, spec, as_of)
        if recent is not None:
            return skipped(spec, recent, as_of)
        champion = get_champion(conn, spec.name, with_artifact=False)
        data = spec.load(conn, as_of, champion)
    fitted = spec.fit(data)
    with transaction(conn):
        evaluation = spec.evaluate(conn, data, fitted, champion)
    decision = decide(evaluation.model, evaluation.baselines, evaluation.champion, spec.rule)
    version = register_candidate(conn, spec, spec.candidate(data, fitted), evaluation, decision)
    with transaction(conn):
        final = get_champion(conn, spec.name, with_artifact=False)
    return jsonable(
        {
            "model_name": spec.name,
            "model_version": version,
            "status": ("champion" if final and final.model_version == version else decision.status),
            "promoted": decision.promoted,
            "decision_reason": decision.reason,
            "verdict": evaluation.verdict,
            "retrain_reason": retrain_reason,
            **evaluation.summary,
        }
    )


def champion_section(
    champion: RegisteredModel | None, evaluate: Callable[[RegisteredModel], dict]
) -> dict | None:
    """The champion's metrics on the candidate's window (`evaluate(record)` with the artifact
    loaded), or why it could not be evaluated."""
    if champion is None:
        return None
    section: dict = {"model_version": champion.model_version, "metrics": None}
    try:
        section["metrics"] = evaluate(champion)
    except ValueError as exc:
        section["error"] = str(exc)
    return section


def score(conn, spec: ModelSpec, score_date: date, **options) -> dict:
    """Publish the champion's output for `score_date`: the champion is looked up and its
    artifact checked and loaded, then `spec.publish` writes the model's table and view."""
    with transaction(conn):  # the read transaction ends here
        record = resolve_model(conn, spec.name, None, how_to_train=spec.how_to_train)
    return spec.publish(conn, record, spec.load_model(record), score_date, **options)
