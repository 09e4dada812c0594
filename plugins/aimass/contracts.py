"""Source contracts: the typed description of every source, read from `conf/sources.yml`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

COLUMN_TYPES = {
    "text": "text",
    "integer": "integer",
    "bigint": "bigint",
    "numeric": "numeric",
    "boolean": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
}
KINDS = {"file", "api", "sql"}
MISSING_PARTITION_POLICIES = {"warn", "fail"}
PAGINATIONS = {"cursor", "page"}
FORMATS = {"csv", "jsonl", "parquet"}
# Source and column names become table, column and folder names: plain lowercase identifiers.
NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Columns the loader adds to every raw table.
LOAD_COLUMNS = {
    "_batch_id": "text not null",
    "_loaded_at": "timestamptz not null",
    "_source_uri": "text not null",
    "_ds": "date not null",
}
# Load columns a daily run filters `raw` on: the rows loaded since a watermark (dbt's staging
# models, the build plan) and the day a load replaces. Rows are appended load by load, so both
# follow the physical order and a BRIN index (a few kB) turns each scan of the whole history
# into a read of the newest pages.
BRIN_INDEXED_LOAD_COLUMNS = ("_loaded_at", "_ds")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    pii: bool = False
    min: float | None = None

    @property
    def pg_type(self) -> str:
        return COLUMN_TYPES[self.type]


@dataclass(frozen=True)
class ApiSettings:
    """Where and how to fetch a `kind: api` source (an HTTP JSON API)."""

    resource: str
    endpoint: str | None = None
    endpoint_env: str | None = None
    token_env: str | None = None
    conn_id: str | None = None
    pagination: str = "cursor"
    page_size: int = 1000
    max_retries: int = 5
    timeout_s: float = 30.0


@dataclass(frozen=True)
class SqlSettings:
    """Where and how to extract a `kind: sql` source (a table of an OLTP database)."""

    table: str
    dsn_env: str | None = None
    conn_id: str | None = None


@dataclass(frozen=True)
class SourceContract:
    name: str
    kind: str
    format: str
    partition: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    optional: bool = True
    incremental_column: str | None = None
    max_bad_fraction: float = 0.05
    on_missing_partition: str = "warn"
    options: dict = field(default_factory=dict, hash=False, compare=False)
    late_arrival_days: int = 3
    location: str | None = None
    api: ApiSettings | None = None
    sql: SqlSettings | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_snapshot(self) -> bool:
        return self.partition == "snapshot"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"source {self.name!r} has no column {name!r}")

    def raw_table_ddl(self, schema: str = "raw") -> str:
        """`create table if not exists` for `raw.<source>` (all contract columns + load columns)."""
        cols = [f"{_quoted(c.name)} {c.pg_type}" for c in self.columns]
        cols += [f"{name} {decl}" for name, decl in LOAD_COLUMNS.items()]
        return (
            f"create table if not exists {_quoted(schema)}.{_quoted(self.name)} (\n  "
            + ",\n  ".join(cols)
            + "\n)"
        )

    def raw_indexes(self, schema: str = "raw") -> dict[str, str]:
        """Qualified name -> `create index if not exists` of the BRIN index on each of
        `BRIN_INDEXED_LOAD_COLUMNS` of `raw.<source>` (autosummarize: autovacuum also
        summarizes the page ranges loads fill)."""
        table = f"{_quoted(schema)}.{_quoted(self.name)}"
        indexes = {}
        for column in BRIN_INDEXED_LOAD_COLUMNS:
            name = _quoted(f"{self.name}_{column}_brin")
            indexes[f"{_quoted(schema)}.{name}"] = (
                f"create index if not exists {name} on {table} using brin ({column}) "
                "with (autosummarize = on)"
            )
        return indexes


def _parse_source(name: str, spec: dict, defaults: dict) -> SourceContract:
    merged = {**defaults, **spec}
    problems = []
    if not NAME_PATTERN.fullmatch(str(name)):
        problems.append(_bad_name("the source name", name))
    kind = merged.get("kind", "file")
    if kind not in KINDS:
        problems.append(f"kind {kind!r} is not one of {sorted(KINDS)}")
    fmt = merged.get("format", "csv")
    if fmt not in FORMATS:
        problems.append(f"format {fmt!r} is not one of {sorted(FORMATS)}")
    columns = []
    for col_name, col_spec in (merged.get("columns") or {}).items():
        col_spec = col_spec or {}
        if not NAME_PATTERN.fullmatch(str(col_name)):
            problems.append(_bad_name(f"column {col_name!r}", col_name))
            continue
        col_type = col_spec.get("type", "text")
        if col_type not in COLUMN_TYPES:
            problems.append(f"column {col_name!r} has unknown type {col_type!r}")
            continue
        columns.append(
            Column(
                name=col_name,
                type=col_type,
                required=bool(col_spec.get("required", False)),
                pii=bool(col_spec.get("pii", False)),
                min=col_spec.get("min"),
            )
        )
    names = {c.name for c in columns}
    if not columns:
        problems.append("no columns declared")
    pk = tuple(merged.get("primary_key") or ())
    if not pk:
        problems.append("no primary_key declared")
    problems += [f"primary key column {c!r} is not declared" for c in pk if c not in names]
    partition = merged.get("partition", "snapshot")
    if partition != "snapshot" and partition not in names:
        problems.append(f"partition column {partition!r} is not declared")
    if merged.get("on_missing_partition", "warn") not in MISSING_PARTITION_POLICIES:
        problems.append(
            f"on_missing_partition {merged.get('on_missing_partition')!r} is not one of "
            f"{sorted(MISSING_PARTITION_POLICIES)}"
        )
    api = _parse_settings(ApiSettings, merged.get("api"), "api", problems)
    sql_settings = _parse_settings(SqlSettings, merged.get("sql"), "sql", problems)
    if kind == "api" and (api is None or not (api.endpoint or api.endpoint_env or api.conn_id)):
        problems.append(
            "kind api needs an `api:` block with resource and endpoint, endpoint_env or conn_id"
        )
    if api is not None and api.pagination not in PAGINATIONS:
        problems.append(f"api.pagination {api.pagination!r} is not one of {sorted(PAGINATIONS)}")
    if kind == "sql":
        if sql_settings is None or not (sql_settings.dsn_env or sql_settings.conn_id):
            problems.append("kind sql needs a `sql:` block with table and dsn_env or conn_id")
        if not merged.get("incremental_column"):
            problems.append("kind sql needs `incremental_column` (the updated_at watermark)")
    if problems:
        raise ValueError(
            f"sources config: source {name!r} is invalid: "
            + "; ".join(problems)
            + ". Fix its entry in the sources config."
        )
    known = {
        "kind",
        "format",
        "partition",
        "primary_key",
        "columns",
        "optional",
        "incremental_column",
        "max_bad_fraction",
        "on_missing_partition",
        "late_arrival_days",
        "location",
        "api",
        "sql",
    }
    return SourceContract(
        name=name,
        kind=kind,
        format=fmt,
        partition=partition,
        primary_key=pk,
        columns=tuple(columns),
        optional=bool(merged.get("optional", True)),
        incremental_column=merged.get("incremental_column"),
        max_bad_fraction=float(merged.get("max_bad_fraction", 0.05)),
        on_missing_partition=merged.get("on_missing_partition", "warn"),
        options={k: v for k, v in merged.items() if k not in known},
        late_arrival_days=int(merged.get("late_arrival_days", 3)),
        location=merged.get("location"),
        api=api,
        sql=sql_settings,
    )


def _quoted(identifier: str) -> str:
    """A PostgreSQL quoted identifier (embedded double quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


def _bad_name(what: str, name) -> str:
    return (
        f"{what} {name!r} is not a plain lowercase identifier (letters a-z, digits and _, "
        "not starting with a digit, at most 63 characters); it names tables and folders"
    )


def _parse_settings(cls, spec, label: str, problems: list[str]):
    """An `ApiSettings`/`SqlSettings` from a YAML mapping (None when absent)."""
    if spec is None:
        return None
    allowed = set(cls.__dataclass_fields__)
    unknown = sorted(set(spec) - allowed)
    if unknown:
        problems.append(f"{label}: unknown keys {unknown} (allowed: {sorted(allowed)})")
        return None
    try:
        return cls(**spec)
    except TypeError as exc:
        problems.append(f"{label}: {exc}")
        return None


def sources_config_path() -> Path:
    """`AIMASS_SOURCES_CONFIG` if set, else the packaged `conf/sources.yml`."""
    override = os.environ.get("AIMASS_SOURCES_CONFIG")
    if override:
        return Path(override)
    return Path(str(resources.files("aimass") / "conf" / "sources.yml"))


@cache
def _load(path: str) -> dict[str, SourceContract]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    defaults = doc.get("defaults") or {}
    return {
        name: _parse_source(name, spec or {}, defaults)
        for name, spec in (doc.get("sources") or {}).items()
    }


def load_contracts(path: Path | None = None) -> dict[str, SourceContract]:
    """All source contracts by name, in the order the config declares them."""
    return _load(str(path or sources_config_path()))
