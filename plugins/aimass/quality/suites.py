"""Expectation lists for each validated table, and their conversion into GX suites."""

from __future__ import annotations

import math
from datetime import date

from aimass.contracts import SourceContract
from aimass.quality.config import ExpectationSpec, RowCount, TableSuite


def raw_source_expectations(
    contract: SourceContract, checks: frozenset[str]
) -> tuple[ExpectationSpec, ...]:
    """Schema, completeness, key uniqueness and minimums that a source contract promises."""
    specs: list[ExpectationSpec] = []
    if "columns_exist" in checks:
        specs.append(
            ExpectationSpec(
                "expect_table_columns_to_match_set",
                {"column_set": contract.column_names, "exact_match": False},
            )
        )
    if "required_not_null" in checks:
        specs += [
            ExpectationSpec("expect_column_values_to_not_be_null", {"column": c.name})
            for c in contract.columns
            if c.required
        ]
    if "primary_key_unique" in checks:
        if len(contract.primary_key) == 1:
            specs.append(
                ExpectationSpec(
                    "expect_column_values_to_be_unique", {"column": contract.primary_key[0]}
                )
            )
        else:
            specs.append(
                ExpectationSpec(
                    "expect_compound_columns_to_be_unique",
                    {"column_list": list(contract.primary_key)},
                )
            )
    if "min_values" in checks:
        specs += [
            ExpectationSpec(
                "expect_column_values_to_be_between", {"column": c.name, "min_value": c.min}
            )
            for c in contract.columns
            if c.min is not None
        ]
    return tuple(specs)


def row_count_bounds(rule: RowCount, previous_rows: int | None) -> tuple[int, int | None]:
    """(min, max) rows for a partition: the configured minimum, tightened to within
    `max_change_vs_previous` of the previous partition's count when that partition has at least
    `min_previous_rows` rows (small populations swing by more than any sensible ratio)."""
    if (
        rule.max_change_vs_previous is None
        or previous_rows is None
        or previous_rows < rule.min_previous_rows
    ):
        return rule.min, None
    change = rule.max_change_vs_previous
    low = math.floor(previous_rows * (1 - change))
    high = math.ceil(previous_rows * (1 + change))
    return max(rule.min, low), high


def table_expectations(
    suite: TableSuite,
    *,
    row_bounds: tuple[int, int | None],
    expected_partition: date | None,
) -> tuple[ExpectationSpec, ...]:
    """The configured expectations plus the run-time ones: row-count bounds and freshness."""
    low, high = row_bounds
    count_kwargs = {"min_value": low} | ({"max_value": high} if high is not None else {})
    specs = [ExpectationSpec("expect_table_row_count_to_be_between", count_kwargs)]
    if suite.freshness is not None and expected_partition is not None:
        # the validated partition is never after the expected one (see `allow_newer`)
        fresh_kwargs = {
            "column": suite.partition_column,
            "min_value": expected_partition,
            "max_value": expected_partition,
        }
        specs.append(ExpectationSpec("expect_column_max_to_be_between", fresh_kwargs))
    return (*specs, *suite.expectations)


def gx_expectation_class(expectation_type: str):
    """The GX class for a snake_case expectation type, with a clear error when unknown."""
    import great_expectations as gx

    class_name = "".join(part.capitalize() for part in expectation_type.split("_"))
    cls = getattr(gx.expectations, class_name, None)
    if cls is None:
        raise ValueError(
            f"unknown expectation type {expectation_type!r} (no great_expectations.expectations."
            f"{class_name}); use a type from the GX gallery, e.g. "
            "expect_column_values_to_not_be_null."
        )
    return cls


def to_gx_suite(name: str, specs: tuple[ExpectationSpec, ...]):
    """A `gx.ExpectationSuite` holding one expectation per spec, in order (not yet saved)."""
    import great_expectations as gx

    expectations = []
    for spec in specs:
        try:
            expectations.append(gx_expectation_class(spec.type)(**spec.kwargs))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"suite {name!r}: expectation {spec.type} with {spec.kwargs} is invalid: {exc}"
            ) from exc
    return gx.ExpectationSuite(name=name, expectations=expectations)
