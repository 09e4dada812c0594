"""What a gate run validates: one query per table partition, with its expectations.

Reads only what the expectations need to be parameterised (whether a table exists, its
latest partition, the previous partition's row count); the data checks themselves run in GX.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from psycopg2 import sql

from aimass.contracts import SourceContract
from aimass.quality.config import ExpectationSpec, RawSourcesSuite, TableSuite
from aimass.quality.outcomes import ExpectationOutcome
from aimass.quality.suites import raw_source_expectations, row_count_bounds, table_expectations


@dataclass(frozen=True)
class ValidationTarget:
    """One table partition to validate: the GX suite name, the rows (as a query), the checks."""

    name: str
    table: str
    query: str
    rows: int
    expectations: tuple[ExpectationSpec, ...]
    index_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Targets to run in GX, plus outcomes decided before GX (absent tables) and notes."""

    targets: tuple[ValidationTarget, ...]
    outcomes: tuple[ExpectationOutcome, ...] = ()
    notes: tuple[str, ...] = ()


def table_exists(cur, schema: str, table: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f'"{schema}"."{table}"',))
    return bool(cur.fetchone()[0])


def _partition_query(cur, schema: str, table: str, column: str, value: date) -> str:
    return (
        sql.SQL("select * from {}.{} where {} = {}")
        .format(
            sql.Identifier(schema),
            sql.Identifier(table),
            sql.Identifier(column),
            sql.Literal(value),
        )
        .as_string(cur.connection)
    )


def _count(cur, query: str) -> int:
    cur.execute(sql.SQL("select count(*) from ({}) as partition_rows").format(sql.SQL(query)))
    return int(cur.fetchone()[0])


def missing_table_outcome(table: str, why: str) -> ExpectationOutcome:
    return ExpectationOutcome(
        table=table,
        expectation="expect_table_to_exist",
        column=None,
        kwargs={},
        success=False,
        observed_value={"exists": False},
        note=why,
    )


def plan_raw(cur, suite: RawSourcesSuite, contracts: dict[str, SourceContract], ds: date) -> Plan:
    """One target per raw source table: its rows with `_ds = ds`. Absent optional tables are
    skipped with a note; an absent required source fails."""
    targets, outcomes, notes = [], [], []
    for contract in contracts.values():
        table = f"raw.{contract.name}"
        if not table_exists(cur, "raw", contract.name):
            if contract.optional:
                notes.append(f"{table} does not exist (optional source absent): skipped")
            else:
                outcomes.append(
                    missing_table_outcome(
                        table,
                        f"{table} does not exist but source {contract.name!r} is required; "
                        "run the ingestion for this day (it creates and loads the table).",
                    )
                )
            continue
        query = _partition_query(cur, "raw", contract.name, "_ds", ds)
        rows = _count(cur, query)
        if rows == 0:
            notes.append(f"{table} has no rows for _ds = {ds}")
        targets.append(
            ValidationTarget(
                name=f"{suite.name}.{contract.name}",
                table=table,
                query=query,
                rows=rows,
                expectations=raw_source_expectations(contract, suite.checks),
                index_columns=contract.primary_key,
            )
        )
    return Plan(tuple(targets), tuple(outcomes), tuple(notes))


def _max_partition(
    cur, suite: TableSuite, below: date | None = None, *, inclusive: bool = False
) -> date | None:
    """The newest partition value (before `below`, or up to it when `inclusive`)."""
    where = sql.SQL("")
    if below is not None:
        where = sql.SQL(" where {} {} {}").format(
            sql.Identifier(suite.partition_column),
            sql.SQL("<=" if inclusive else "<"),
            sql.Literal(below),
        )
    cur.execute(
        sql.SQL("select max({}) from {}.{}{}").format(
            sql.Identifier(suite.partition_column),
            sql.Identifier(suite.schema),
            sql.Identifier(suite.table),
            where,
        )
    )
    return cur.fetchone()[0]


def _bounds_from_previous(
    cur, suite: TableSuite, partition: date
) -> tuple[tuple[int, int | None], str]:
    """Row-count bounds from the partition before `partition`, and a note saying which."""
    table, column = suite.qualified_table, suite.partition_column
    previous = _max_partition(cur, suite, below=partition)
    if previous is None:
        return row_count_bounds(suite.row_count, None), f"{table}: no {column} before {partition}"
    rows = _count(cur, _partition_query(cur, suite.schema, suite.table, column, previous))
    bounds = row_count_bounds(suite.row_count, rows)
    if bounds[1] is None:
        return bounds, (
            f"{table}: {column} {previous} has {rows} rows, fewer than "
            f"{suite.row_count.min_previous_rows}: row count change not bounded"
        )
    return bounds, f"{table}: rows of {column} {partition} bounded by {previous} ({rows} rows)"


def plan_table(cur, suite: TableSuite, ds: date) -> Plan:
    """One target: the latest partition (or the `ds` partition) of the suite's table, with
    row-count bounds from the previous partition and the expected freshness."""
    table = suite.qualified_table
    if not table_exists(cur, suite.schema, suite.table):
        return Plan(
            (),
            (
                missing_table_outcome(
                    table,
                    f"{table} does not exist; build it first (dbt build for marts, the scoring "
                    "step for ml tables), then rerun the gate.",
                ),
            ),
        )
    notes = []
    expected = ds + timedelta(days=suite.freshness.days_after_ds) if suite.freshness else None
    partition = ds
    if suite.partition_select == "latest":
        # with allow_newer, partitions after the expected one (a backfilled day built after
        # later days were loaded) belong to their own day's run: validate the newest up to it
        newer_allowed = suite.freshness is not None and suite.freshness.allow_newer
        partition = _max_partition(cur, suite, expected if newer_allowed else None, inclusive=True)
        if partition is None:
            notes.append(f"{table} is empty")
            partition = expected or ds
    row_bounds = row_count_bounds(suite.row_count, None)
    if suite.row_count.max_change_vs_previous is not None:
        row_bounds, note = _bounds_from_previous(cur, suite, partition)
        notes.append(note)
    query = _partition_query(cur, suite.schema, suite.table, suite.partition_column, partition)
    target = ValidationTarget(
        name=f"{suite.name}.{suite.table}",
        table=table,
        query=query,
        rows=_count(cur, query),
        expectations=table_expectations(
            suite,
            row_bounds=row_bounds,
            expected_partition=expected,
        ),
        index_columns=suite.index_columns,
    )
    return Plan((target,), (), tuple(notes))
