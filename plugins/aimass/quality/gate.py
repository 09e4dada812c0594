"""The data-quality gate: validate one suite for one day with GX, record it, stop on failure."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from aimass.contracts import load_contracts
from aimass.quality.audit import ensure_audit_table, write_outcomes
from aimass.quality.config import RawSourcesSuite, SuiteConfig, get_suite
from aimass.quality.context import DATA_DOCS_SITE, DATASOURCE, build_context, sqlalchemy_url
from aimass.quality.outcomes import ExpectationOutcome, failure_message
from aimass.quality.runner import run_targets
from aimass.quality.targets import Plan, plan_raw, plan_table
from aimass.settings import load_settings
from aimass.warehouse import connect

log = logging.getLogger(__name__)


class DataQualityError(ValueError):
    """A data-quality gate failed; the message lists each failed expectation with evidence."""

    def __init__(self, message: str, result: GateResult):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class GateResult:
    suite: str
    ds: date
    run_id: str
    success: bool
    evaluated: int
    passed: int
    failed: list[ExpectationOutcome]
    outcomes: list[ExpectationOutcome]
    tables_validated: int
    rows_validated: int
    duration_s: float
    gx_duration_s: float
    checkpoint_s: dict[str, float]
    data_docs_index: Path | None
    notes: list[str] = field(default_factory=list)

    @property
    def failed_count(self) -> int:
        return len(self.failed)


def default_data_docs_dir() -> Path:
    return load_settings().home / "gx" / "data_docs"


def plan(warehouse_url: str, suite: SuiteConfig, ds: date) -> Plan:
    """Read what the suite's expectations need from the warehouse (see `targets`)."""
    with connect(warehouse_url) as conn, conn.cursor() as cur:
        if isinstance(suite, RawSourcesSuite):
            return plan_raw(cur, suite, load_contracts(), ds)
        return plan_table(cur, suite, ds)


def _build_docs(context, identifiers: list, data_docs_dir: Path) -> Path:
    context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=identifiers or None)
    return data_docs_dir / "index.html"


def run_gate(
    warehouse_url: str,
    suite: str,
    *,
    ds: date,
    data_docs_dir: Path | None = None,
    raise_on_failure: bool = True,
) -> GateResult:
    """Validate `suite` (a name in conf/expectations.yml) for day `ds`, write every result to
    `audit.gx_validation_results`, build Data Docs in `data_docs_dir` (default
    `<AIMASS_HOME>/gx/data_docs`), and raise `DataQualityError` if any expectation failed."""
    started = time.perf_counter()
    config = get_suite(suite)
    data_docs_dir = Path(data_docs_dir or default_data_docs_dir()).resolve()
    run_id = f"{suite}-{ds.isoformat()}-{uuid.uuid4().hex[:12]}"
    work = plan(warehouse_url, config, ds)
    for note in work.notes:
        log.info("gate %s ds=%s: %s", suite, ds, note)

    gx_started = time.perf_counter()
    outcomes, data_docs_index, checkpoint_s = list(work.outcomes), None, {}
    if work.targets:
        context = build_context(data_docs_dir)
        # Each partition is copied once into a temp table, so the ~2-6 metric queries per
        # table scan only its rows, not the whole history behind the partition filter.
        datasource = context.data_sources.add_postgres(
            DATASOURCE, connection_string=sqlalchemy_url(warehouse_url), create_temp_table=True
        )
        try:
            ran = run_targets(
                context,
                work.targets,
                run_name=f"{suite}-{ds.isoformat()}",
                sample_size=config.sample_size,
                evidence=config.evidence,
            )
        finally:  # close GX's pooled connections (and the temp tables with them)
            datasource.get_execution_engine().close()
            datasource.get_engine().dispose()
        outcomes += ran.outcomes
        checkpoint_s = ran.checkpoint_s
        data_docs_index = _build_docs(context, ran.identifiers, data_docs_dir)
    gx_duration = time.perf_counter() - gx_started

    validated_at = datetime.now(UTC)
    with connect(warehouse_url) as conn:
        ensure_audit_table(conn)
        write_outcomes(
            conn, run_id=run_id, suite=suite, ds=ds, outcomes=outcomes, validated_at=validated_at
        )

    failed = [o for o in outcomes if not o.success]
    result = GateResult(
        suite=suite,
        ds=ds,
        run_id=run_id,
        success=not failed,
        evaluated=len(outcomes),
        passed=len(outcomes) - len(failed),
        failed=failed,
        outcomes=outcomes,
        tables_validated=len(work.targets),
        rows_validated=sum(t.rows for t in work.targets),
        duration_s=time.perf_counter() - started,
        gx_duration_s=gx_duration,
        checkpoint_s=checkpoint_s,
        data_docs_index=data_docs_index,
        notes=list(work.notes),
    )
    log.info(
        "gate %s ds=%s: %d/%d expectations passed on %d rows of %d tables in %.2fs",
        suite,
        ds,
        result.passed,
        result.evaluated,
        result.rows_validated,
        result.tables_validated,
        result.duration_s,
    )
    if failed and raise_on_failure:
        raise DataQualityError(failure_message(suite, ds, outcomes, data_docs_index), result)
    return result
