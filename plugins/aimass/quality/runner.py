"""Run validation targets in GX: one checkpoint per table partition, under one run id."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aimass.quality.context import DATASOURCE
from aimass.quality.outcomes import ExpectationOutcome, outcome_from_gx
from aimass.quality.suites import to_gx_suite
from aimass.quality.targets import ValidationTarget

FAST_RESULT_FORMAT = {"result_format": "BOOLEAN_ONLY"}


@dataclass
class RunOutput:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    identifiers: list = field(default_factory=list)
    checkpoint_s: dict[str, float] = field(default_factory=dict)


def detailed_result_format(target: ValidationTarget, sample_size: int) -> dict:
    """Observed values, counts and up to `sample_size` unexpected rows with their keys."""
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": sample_size}
    if target.index_columns:
        result_format["unexpected_index_column_names"] = list(target.index_columns)
    return result_format


def add_evidence(suite_result, batch_definition, result_format: dict) -> None:
    """Re-validate only the failed expectations of `suite_result` with `result_format` and put
    their detailed results in place of the boolean ones."""
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=batch_definition, result_format=result_format)
    for position, result in enumerate(suite_result.results):
        if not result.success:
            expectation = result.expectation_config.to_domain_obj()
            suite_result.results[position] = validator.validate_expectation(expectation)


def run_targets(
    context,
    targets: tuple[ValidationTarget, ...],
    *,
    run_name: str,
    sample_size: int,
    evidence: str,
) -> RunOutput:
    """Validate each target with its suite. With `evidence="on_failure"` a target is first
    checked with bundled boolean-only metrics; only the expectations that failed are then
    re-validated for observed values and sample rows (stored for the Data Docs too)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    datasource = context.data_sources.get(DATASOURCE)
    run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
    output = RunOutput()
    for target in targets:
        started = time.perf_counter()
        asset = datasource.add_query_asset(name=target.name, query=target.query)
        batch = asset.add_batch_definition_whole_table(name="partition")
        suite = context.suites.add_or_update(to_gx_suite(target.name, target.expectations))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=target.name, data=batch, suite=suite)
        )
        detailed = detailed_result_format(target, sample_size)
        first = detailed if evidence == "always" else FAST_RESULT_FORMAT
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=target.name,
                validation_definitions=[definition],
                actions=[],
                result_format=first,
            )
        )
        ((identifier, result),) = checkpoint.run(run_id=run_id).run_results.items()
        if not result.success and first is not detailed:
            add_evidence(result, batch, detailed)
            context.validation_results_store.set(key=identifier, value=result)
        output.identifiers.append(identifier)
        output.outcomes += [
            outcome_from_gx(target.table, r.to_json_dict(), sample_size) for r in result.results
        ]
        output.checkpoint_s[target.name] = time.perf_counter() - started
    return output
