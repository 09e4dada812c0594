"""Turn landed bytes (CSV, JSON lines, Parquet) into string columns plus per-row provenance.

Every input row ends up either as a row of `ParsedRows.columns` or as a `Reject` (wrong
column count, invalid UTF-8, invalid JSON). Values stay strings here; `validate` types them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from aimass.contracts import SourceContract
from aimass.ingest.csv_records import (
    Records,
    field_counts,
    invalid_utf8,
    record_text,
    split_records,
    without_records,
)
from aimass.ingest.errors import IngestError, SchemaDriftError
from aimass.ingest.payload import Payload

log = logging.getLogger(__name__)
_BLANK = re.compile(rb"\s*\Z")

# Arrow types a Parquet column may have for each contract type (strings are always accepted
# and parsed like CSV values).
_PARQUET_COMPATIBLE: dict[str, Callable[[pa.DataType], bool]] = {
    "text": lambda t: False,
    "integer": pa.types.is_integer,
    "bigint": pa.types.is_integer,
    "numeric": lambda t: (
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    ),
    "boolean": pa.types.is_boolean,
    "timestamp": pa.types.is_timestamp,
    "date": lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t),
}


@dataclass(frozen=True)
class Reject:
    """One input row that does not go to `raw`, with its raw text and why."""

    uri: str
    line_no: int | None
    reason: str
    raw_line: str
    structured: bool  # False when the row could not be split into named fields


@dataclass
class ParsedRows:
    """The rows of one payload as string columns (contract columns present in the file)."""

    uri: str
    format: str
    header: tuple[str, ...]
    columns: dict[str, pa.Array | pa.ChunkedArray]
    num_rows: int
    line_of: Callable[[int], int]
    raw_text: Callable[[int], str]
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return self.num_rows + len(self.rejects)


def parse_payload(payload: Payload, contract: SourceContract) -> ParsedRows:
    """Parse one payload according to its format."""
    parser = {"csv": parse_csv, "jsonl": parse_jsonl, "parquet": parse_parquet}.get(payload.format)
    if parser is None:
        raise IngestError(
            f"{payload.uri}: unsupported format {payload.format!r}; use csv, jsonl or parquet "
            "in the source's `format`."
        )
    return parser(payload, contract)


def check_header(
    names: list[str],
    contract: SourceContract,
    uri: str,
    *,
    warn_absent: bool = True,
    header_row: bool = False,
) -> tuple[list[str], list[str]]:
    """Contract columns present in `names`, and warnings; raises on drift. With `header_row`
    (CSV), a first line that names no contract column is reported as a missing header."""
    seen, duplicates = set(), set()
    for name in names:
        (duplicates if name in seen else seen).add(name)
    known = {c.name for c in contract.columns}
    if header_row and not seen & known:
        raise SchemaDriftError(f"{uri}: {_not_a_header(names, contract)}")
    if duplicates:
        raise SchemaDriftError(
            f"{uri}: duplicate column names {sorted(duplicates)} in the header. Fix the export "
            "so that every column appears once."
        )
    missing_required = [c.name for c in contract.columns if c.required and c.name not in seen]
    if missing_required:
        raise SchemaDriftError(
            f"{uri}: required columns {missing_required} of source {contract.name!r} are "
            f"missing (file has {names}). Fix the export, or change the contract in sources.yml "
            "if the source really changed."
        )
    warnings = []
    unexpected = [n for n in names if n not in {c.name for c in contract.columns}]
    if unexpected:
        warnings.append(
            f"{uri}: unexpected columns {unexpected} dropped; add them to the contract of "
            f"{contract.name!r} in sources.yml to keep them."
        )
    absent = [c.name for c in contract.columns if c.name not in seen]
    if absent and warn_absent:
        warnings.append(f"{uri}: optional columns {absent} absent; loaded as null.")
    return [n for n in names if n not in unexpected], warnings


def _not_a_header(names: list[str], contract: SourceContract) -> str:
    """Why a first line naming none of the contract's columns is not a usable header."""
    expected = ",".join(contract.column_names)
    if len(names) == 1:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in names[0]:
                return (
                    f"the header is one field separated by {label} ({names[0][:80]!r}); "
                    f"files must be comma separated. Re-export with ',' as the delimiter "
                    f"(header: {expected})."
                )
    return (
        f"the first line ({', '.join(names)[:120]!r}) names none of the columns of source "
        f"{contract.name!r}: every file needs a header row naming its columns, such as "
        f"{expected}. Add the header (column order does not matter) and load again."
    )


def parse_csv(payload: Payload, contract: SourceContract) -> ParsedRows:
    """CSV with a header row; all values read as strings, empty fields as null.

    Clean files take the fast path (pyarrow's multi-threaded reader, record positions only
    computed if a row is later rejected); files with broken rows are split into records
    first so that each broken row is quarantined with its line number and text.
    """
    data = payload.data
    newline = data.find(b"\n")
    header_end = newline if newline >= 0 else len(data)
    first_line = data[:header_end].rstrip(b"\r")
    if _BLANK.match(data):
        return _empty(payload, [f"{payload.uri}: empty file (no header); loaded no rows."])
    if first_line.count(b'"') % 2 == 0:
        header = _header(first_line.decode("utf-8", errors="replace"))
        kept_columns, warnings = check_header(header, contract, payload.uri, header_row=True)
        offset = min(header_end + 1, len(data))
        table = _read_csv_strings(pa.py_buffer(data)[offset:], header, kept_columns, None)
        if table is not None:
            buf = np.frombuffer(data, dtype=np.uint8)
            body = _lazy_body_records(buf, table.num_rows, payload.uri)
            return ParsedRows(
                uri=payload.uri,
                format="csv",
                header=tuple(header),
                columns={name: table.column(name) for name in kept_columns},
                num_rows=table.num_rows,
                line_of=lambda i: int(body().line_no[i]),
                raw_text=lambda i: record_text(data, body(), i),
                warnings=warnings,
            )
    return _parse_csv_by_records(payload, contract)


def _parse_csv_by_records(payload: Payload, contract: SourceContract) -> ParsedRows:
    data = payload.data
    buf = np.frombuffer(data, dtype=np.uint8)
    records = split_records(buf)
    header = _header(record_text(data, records, 0))
    kept_columns, warnings = check_header(header, contract, payload.uri, header_row=True)
    body = records.take(slice(1, None))
    counts = field_counts(buf, body)
    bad_count = counts != len(header)
    bad_utf8 = invalid_utf8(data, body)
    rejects = []
    for i in np.flatnonzero(bad_count | bad_utf8):
        reason = (
            "invalid UTF-8"
            if bad_utf8[i]
            else f"wrong column count: expected {len(header)}, got {counts[i]}"
        )
        rejects.append(
            Reject(payload.uri, int(body.line_no[i]), reason, record_text(data, body, i), False)
        )
    drop = bad_count | bad_utf8
    kept = body.take(~drop)
    offset = int(records.next_starts[0])
    body_bytes = (
        without_records(buf, body, drop, offset) if drop.any() else pa.py_buffer(data)[offset:]
    )
    table = _read_csv_strings(body_bytes, header, kept_columns, payload.uri) if len(kept) else None
    if table is not None and table.num_rows != len(kept):
        raise _layout_error(payload.uri, table.num_rows, len(kept))
    columns = (
        {name: table.column(name) for name in kept_columns}
        if table is not None
        else {name: pa.array([], pa.string()) for name in kept_columns}
    )
    return ParsedRows(
        uri=payload.uri,
        format="csv",
        header=tuple(header),
        columns=columns,
        num_rows=len(kept),
        line_of=lambda i: int(kept.line_no[i]),
        raw_text=lambda i: record_text(data, kept, i),
        rejects=rejects,
        warnings=warnings,
    )


def _header(text: str) -> list[str]:
    return [h.strip() for h in next(csv.reader([text.lstrip("\ufeff")]), [])]


def _lazy_body_records(buf: np.ndarray, num_rows: int, uri: str) -> Callable[[], Records]:
    """Record positions of the body, computed on first use (only rejected rows need them)."""

    @cache
    def body() -> Records:
        records = split_records(buf).take(slice(1, None))
        if len(records) != num_rows:
            raise _layout_error(uri, num_rows, len(records))
        return records

    return body


def _layout_error(uri: str, found: int, expected: int) -> IngestError:
    return IngestError(
        f"{uri}: the CSV reader found {found} rows where {expected} were expected; the file "
        "mixes line endings or quoting styles. Re-export it as RFC 4180 CSV (comma "
        "separated, double-quote quoting, LF or CRLF line ends)."
    )


def _read_csv_strings(body, header: list[str], columns: list[str], uri: str | None):
    """All columns as strings. With `uri=None` (the fast path) returns None instead of
    raising when a row is broken, so the caller can fall back to record splitting."""
    broken: list[str] = []

    def on_invalid_row(row) -> str:
        broken.append(row.text)
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.BufferReader(body),
            read_options=pa_csv.ReadOptions(column_names=header, block_size=16 << 20),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid_row if uri is None else None
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                include_columns=columns,
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        if uri is None:
            return None
        raise IngestError(
            f"{uri}: the CSV reader rejected the file ({exc}). Re-export it as RFC 4180 CSV."
        ) from exc
    return None if broken else table


def parse_jsonl(payload: Payload, contract: SourceContract) -> ParsedRows:
    """One JSON object per line; scalars become strings, nested values JSON text."""
    lines = payload.data.split(b"\n")
    rejects, records, line_nos, texts = [], [], [], []
    for n, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="backslashreplace")
            rejects.append(Reject(payload.uri, n, "invalid UTF-8", text, False))
            continue
        try:
            record = json.loads(text)
        except ValueError:
            rejects.append(Reject(payload.uri, n, "invalid JSON", text, False))
            continue
        if not isinstance(record, dict):
            rejects.append(Reject(payload.uri, n, "not a JSON object", text, False))
            continue
        records.append(record)
        line_nos.append(n)
        texts.append(text)
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    if not records:
        kept_columns, warnings = [], []
    else:
        # JSON producers often leave out null keys: absent optional keys are not worth a warning
        kept_columns, warnings = check_header(list(keys), contract, payload.uri, warn_absent=False)
    columns = {
        name: pa.array([_json_scalar(r.get(name)) for r in records], type=pa.string())
        for name in kept_columns
    }
    return ParsedRows(
        uri=payload.uri,
        format="jsonl",
        header=tuple(keys),
        columns=columns,
        num_rows=len(records),
        line_of=line_nos.__getitem__,
        raw_text=texts.__getitem__,
        rejects=rejects,
        warnings=warnings,
    )


def _json_scalar(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def parse_parquet(payload: Payload, contract: SourceContract) -> ParsedRows:
    """A Parquet file; column types must be compatible with the contract (else drift)."""
    try:
        table = pq.read_table(io.BytesIO(payload.data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(
            f"{payload.uri}: not a readable Parquet file ({exc}); re-export it."
        ) from exc
    kept_columns, warnings = check_header(table.column_names, contract, payload.uri)
    changed = []
    for name in kept_columns:
        arrow_type = table.schema.field(name).type
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            continue
        if pa.types.is_null(arrow_type):
            continue
        if pa.types.is_dictionary(arrow_type) and pa.types.is_string(arrow_type.value_type):
            continue
        if not _PARQUET_COMPATIBLE[contract.column(name).type](arrow_type):
            changed.append(f"{name}: {arrow_type} (contract: {contract.column(name).type})")
    if changed:
        raise SchemaDriftError(
            f"{payload.uri}: column types changed: {changed}. Fix the export, or change the "
            "contract in sources.yml if the source really changed."
        )
    columns = {name: table.column(name).combine_chunks().cast(pa.string()) for name in kept_columns}
    return ParsedRows(
        uri=payload.uri,
        format="parquet",
        header=tuple(table.column_names),
        columns=columns,
        num_rows=table.num_rows,
        line_of=lambda i: i + 1,
        raw_text=lambda i: json.dumps({n: columns[n][i].as_py() for n in kept_columns}),
        rejects=[],
        warnings=warnings,
    )


def _empty(payload: Payload, warnings: list[str]) -> ParsedRows:
    return ParsedRows(
        uri=payload.uri,
        format=payload.format,
        header=(),
        columns={},
        num_rows=0,
        line_of=lambda i: i + 1,
        raw_text=lambda i: "",
        warnings=warnings,
    )
