"""Data-quality suite definitions, read from `conf/expectations.yml`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

RAW_CHECKS = ("columns_exist", "required_not_null", "primary_key_unique", "min_values")
PARTITION_SELECTS = ("latest", "ds")
# on_failure: check everything in one bundled pass, then re-run only failing tables for observed
# values and sample rows (fast); always: collect them for every expectation (~2 queries each).
EVIDENCE = ("on_failure", "always")


@dataclass(frozen=True)
class ExpectationSpec:
    """One GX expectation: its snake_case type and keyword arguments."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RawSourcesSuite:
    """Checks derived from every source contract, on one `_ds` partition of each raw table."""

    name: str
    checks: frozenset[str]
    sample_size: int = 5
    evidence: str = "on_failure"


@dataclass(frozen=True)
class Freshness:
    days_after_ds: int = 0
    allow_newer: bool = False


@dataclass(frozen=True)
class RowCount:
    min: int = 1
    max_change_vs_previous: float | None = None
    min_previous_rows: int = 0


@dataclass(frozen=True)
class TableSuite:
    """Expectations on one partition (the latest, or the validated day) of one table."""

    name: str
    schema: str
    table: str
    partition_column: str
    partition_select: str
    expectations: tuple[ExpectationSpec, ...]
    row_count: RowCount = RowCount()
    freshness: Freshness | None = None
    index_columns: tuple[str, ...] = ()
    sample_size: int = 5
    evidence: str = "on_failure"

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


SuiteConfig = RawSourcesSuite | TableSuite


def expand_expectations(entries: list) -> tuple[ExpectationSpec, ...]:
    """Turn YAML entries `{type: {kwargs}}` into specs; `columns: [...]` repeats per column."""
    specs = []
    for entry in entries or []:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError(
                f"expectation entry {entry!r} must be a mapping with exactly one key, the GX "
                "expectation type, e.g. `- expect_column_values_to_not_be_null: {column: x}`."
            )
        ((etype, kwargs),) = entry.items()
        kwargs = dict(kwargs or {})
        columns = kwargs.pop("columns", None)
        if columns is None:
            specs.append(ExpectationSpec(etype, kwargs))
        else:
            specs += [ExpectationSpec(etype, {"column": col, **kwargs}) for col in columns]
    return tuple(specs)


def _parse_table_suite(name: str, spec: dict, sample_size: int, evidence: str) -> TableSuite:
    qualified = spec.get("table") or ""
    if qualified.count(".") != 1:
        raise ValueError(f"table {qualified!r} must be written as <schema>.<table>")
    schema, table = qualified.split(".")
    partition = spec.get("partition") or {}
    if not partition.get("column"):
        raise ValueError("partition.column is required")
    select = partition.get("select", "latest")
    if select not in PARTITION_SELECTS:
        raise ValueError(f"partition.select {select!r} is not one of {list(PARTITION_SELECTS)}")
    freshness = spec.get("freshness")
    row_count = spec.get("row_count") or {}
    return TableSuite(
        name=name,
        schema=schema,
        table=table,
        partition_column=partition["column"],
        partition_select=select,
        expectations=expand_expectations(spec.get("expectations")),
        row_count=RowCount(
            min=int(row_count.get("min", 1)),
            max_change_vs_previous=row_count.get("max_change_vs_previous"),
            min_previous_rows=int(row_count.get("min_previous_rows", 0)),
        ),
        freshness=Freshness(**freshness) if freshness else None,
        index_columns=tuple(spec.get("index_columns") or ()),
        sample_size=sample_size,
        evidence=evidence,
    )


def _parse_suite(name: str, spec: dict, defaults: dict) -> SuiteConfig:
    sample_size = int(spec.get("sample_size", defaults.get("sample_size", 5)))
    evidence = spec.get("evidence", defaults.get("evidence", "on_failure"))
    kind = spec.get("kind")
    try:
        if evidence not in EVIDENCE:
            raise ValueError(f"evidence {evidence!r} is not one of {list(EVIDENCE)}")
        if kind == "raw_sources":
            checks = spec.get("checks") or dict.fromkeys(RAW_CHECKS, True)
            unknown = set(checks) - set(RAW_CHECKS)
            if unknown:
                raise ValueError(f"unknown checks {sorted(unknown)}; known: {list(RAW_CHECKS)}")
            return RawSourcesSuite(
                name=name,
                checks=frozenset(k for k, on in checks.items() if on),
                sample_size=sample_size,
                evidence=evidence,
            )
        if kind == "table":
            return _parse_table_suite(name, spec, sample_size, evidence)
        raise ValueError(f"kind {kind!r} is not one of ['raw_sources', 'table']")
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"expectations config: suite {name!r} is invalid: {exc}. Fix its entry in "
            f"{expectations_config_path()}."
        ) from exc


def expectations_config_path() -> Path:
    """`AIMASS_EXPECTATIONS_CONFIG` if set, else the packaged `conf/expectations.yml`."""
    override = os.environ.get("AIMASS_EXPECTATIONS_CONFIG")
    if override:
        return Path(override)
    return Path(str(resources.files("aimass") / "conf" / "expectations.yml"))


@cache
def _load(path: str) -> dict[str, SuiteConfig]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    defaults = doc.get("defaults") or {}
    return {name: _parse_suite(name, spec or {}, defaults) for name, spec in doc["suites"].items()}


def load_suites(path: Path | None = None) -> dict[str, SuiteConfig]:
    """Every configured suite by name."""
    return _load(str(path or expectations_config_path()))


def get_suite(name: str, path: Path | None = None) -> SuiteConfig:
    """One suite by name; a ValueError lists the configured ones when it is unknown."""
    suites = load_suites(path)
    if name not in suites:
        raise ValueError(
            f"unknown data-quality suite {name!r}; configured suites: {sorted(suites)} "
            f"(in {path or expectations_config_path()})."
        )
    return suites[name]
