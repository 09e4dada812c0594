"""Expectation outcomes: GX results flattened into plain records, and the failure message."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from aimass.quality.config import expectations_config_path

# Keys of a GX column-map result that summarise it when there is no single observed value.
SUMMARY_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count")


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation on one table partition."""

    table: str
    expectation: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_sample: list = field(default_factory=list)
    note: str | None = None


def _column_of(kwargs: dict) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def _sample(result: dict, size: int) -> list:
    """Up to `size` unexpected rows (with their index columns) or values, or the mismatch
    details of a table-level expectation."""
    for key in ("partial_unexpected_index_list", "partial_unexpected_list"):
        if result.get(key):
            return list(result[key])[:size]
    mismatched = (result.get("details") or {}).get("mismatched")
    return [mismatched] if mismatched else []


def outcome_from_gx(table: str, result: dict, sample_size: int) -> ExpectationOutcome:
    """Flatten one GX `ExpectationValidationResult.to_json_dict()`."""
    config = result["expectation_config"]
    kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
    body = result.get("result") or {}
    exception = result.get("exception_info") or {}
    note = None
    if exception.get("raised_exception"):
        observed: Any = {"error": exception.get("exception_message")}
        note = f"GX could not evaluate the expectation: {exception.get('exception_message')}"
    elif "observed_value" in body:
        observed = body["observed_value"]
    else:  # a column-map summary, or nothing when only success was computed
        observed = {k: body[k] for k in SUMMARY_KEYS if k in body} or None
    return ExpectationOutcome(
        table=table,
        expectation=config["type"],
        column=_column_of(kwargs),
        kwargs=kwargs,
        success=bool(result.get("success")),
        observed_value=observed,
        unexpected_count=body.get("unexpected_count"),
        unexpected_sample=_sample(body, sample_size),
        note=note,
    )


def _compact(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, default=str, sort_keys=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(outcome: ExpectationOutcome) -> str:
    """One line per failure: table, expectation, column, arguments, observed value, sample."""
    args = {k: v for k, v in outcome.kwargs.items() if k not in ("column", "column_list")}
    column = f" on column {outcome.column}" if outcome.column else ""
    parts = [
        f"- {outcome.table}: {outcome.expectation}{column} {_compact(args, 200)}",
        f"observed {_compact(outcome.observed_value)}",
    ]
    if outcome.unexpected_sample:
        parts.append(f"sample unexpected: {_compact(outcome.unexpected_sample)}")
    if outcome.note:
        parts.append(outcome.note)
    return "; ".join(parts)


def failure_message(
    suite: str,
    ds: date,
    outcomes: list[ExpectationOutcome],
    data_docs_index: Path | None,
) -> str:
    """The DataQualityError text: what failed, with evidence, and where to look next."""
    failed = [o for o in outcomes if not o.success]
    lines = [
        f"Data-quality gate {suite!r} failed for ds={ds}: {len(failed)} of {len(outcomes)} "
        "expectations failed."
    ]
    lines += [describe(o) for o in failed]
    if data_docs_index is not None:
        lines.append(f"Data Docs: {data_docs_index.as_uri()}")
    lines.append(
        "Fix the data upstream and rerun, or, if a rule is wrong, tune it in "
        f"{expectations_config_path()}. All results: audit.gx_validation_results."
    )
    return "\n".join(lines)
