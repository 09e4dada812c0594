"""Check parsed rows against their contract; split them into typed good rows and rejects.

Checks (vectorised per column): required fields present, values parse as the column's
type, no values below `min`, the day column inside the load window (late arrivals up to the
contract's `late_arrival_days`), and one row per primary key: the last row with a usable key
wins, earlier ones are quarantined as duplicates.

`RowValidator` works chunk by chunk (so the loader can COPY the first rows while later ones
are still being checked); only the duplicate check looks at all rows first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aimass.contracts import SourceContract
from aimass.ingest.errors import SchemaDriftError
from aimass.ingest.parse import ParsedRows
from aimass.ingest.pii import Pseudonymiser, mask_raw_line
from aimass.ingest.values import UTC_MICROS, parse_column

# A typed column whose values all fail to parse (with at least this many values) is drift.
DRIFT_MIN_VALUES = 10
DUPLICATE_REASON = "duplicate primary key in the partition (the last row wins)"
# Rows per chunk handed to the COPY: small enough that the server starts early and the
# client does not wait long for the last chunk, large enough that per-chunk overhead is small.
CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class QuarantineRow:
    uri: str
    line_no: int | None
    reason: str
    raw_line: str
    day: date | None = None


@dataclass
class GoodChunk:
    """Typed good rows of one chunk (contract columns, PII pseudonymised, `_source_uri`)
    and, when splitting by day, each row's UTC day."""

    table: pa.Table
    days: pa.Array | None = None


@dataclass
class ValidatedRows:
    """All good rows and rejects of a load unit."""

    good: pa.Table
    days: pa.Array | None
    rejects: list[QuarantineRow]
    rows_in: int
    warnings: list[str] = field(default_factory=list)

    @property
    def top_reasons(self) -> tuple[tuple[str, int], ...]:
        return top_reasons(self.rejects)

    def bad_fraction(self) -> float:
        return bad_fraction(self.rejects, self.rows_in)


def top_reasons(rejects: list[QuarantineRow], n: int = 5) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(r.reason for r in rejects).most_common(n))


def bad_fraction(rejects: list[QuarantineRow], rows_in: int) -> float:
    """Share of bad rows; superseded duplicates are quarantined but are not bad data."""
    bad = sum(1 for r in rejects if r.reason != DUPLICATE_REASON)
    return bad / rows_in if rows_in else 0.0


def day_window(ds: date, late_arrival_days: int) -> tuple[datetime, datetime]:
    """[ds - late_arrival_days, ds + 1 day) as UTC datetimes."""
    start = datetime.combine(ds, time(), tzinfo=UTC)
    return start - timedelta(days=late_arrival_days), start + timedelta(days=1)


class RowValidator:
    """Validate the rows of one load unit (one or more parsed files, in order).

    Iterate `chunks()` for the good rows; afterwards `rejects` holds every rejected row
    (parse rejects first) and `rows_in` counts every input row.
    """

    def __init__(
        self,
        parts: list[ParsedRows],
        contract: SourceContract,
        *,
        pii_key: bytes,
        day_column: str | None = None,
        window: tuple[datetime, datetime] | None = None,
        split_by_day: bool = False,
        chunk_rows: int = CHUNK_ROWS,
    ):
        self.parts, self.contract = parts, contract
        self.day_column, self.window, self.split_by_day = day_column, window, split_by_day
        self.chunk_rows = chunk_rows
        self.pseudonymiser = Pseudonymiser(pii_key)
        self.n = sum(p.num_rows for p in parts)
        self.rows_in = self.n + sum(len(p.rejects) for p in parts)
        self.warnings = [w for p in parts for w in p.warnings]
        self.part_of_row = np.repeat(np.arange(len(parts)), [p.num_rows for p in parts])
        self.offsets = np.concatenate(([0], np.cumsum([p.num_rows for p in parts])))
        self.strings = {c.name: _concat_column(parts, c.name) for c in contract.columns}
        self.required = {c.name for c in contract.columns if c.required} | set(contract.primary_key)
        self.pii = frozenset(c.name for c in contract.columns if c.pii)
        self.uris = pa.array([p.uri for p in parts], pa.string())
        self.rejects = self._parse_rejects()
        self.bad_rows = len(self.rejects)  # rejects other than superseded duplicates
        self._present = Counter()
        self._invalid = Counter()
        self._sample: dict[str, str] = {}
        self.duplicate = self._earlier_duplicates()

    def chunks(self) -> Iterator[GoodChunk]:
        """Good rows chunk by chunk; raises `SchemaDriftError` at the end if a typed column
        had no parsable value at all."""
        for lo in range(0, self.n, self.chunk_rows):
            yield self._validate(lo, min(self.n, lo + self.chunk_rows))
        self._raise_on_type_drift()

    def bad_fraction(self) -> float:
        return self.bad_rows / self.rows_in if self.rows_in else 0.0

    @property
    def top_reasons(self) -> tuple[tuple[str, int], ...]:
        return top_reasons(self.rejects)

    def _validate(self, lo: int, hi: int) -> GoodChunk:
        checks: list[tuple[np.ndarray, str]] = []
        typed: dict[str, pa.Array] = {}
        for col in self.contract.columns:
            strings = self.strings[col.name].slice(lo, hi - lo)
            parsed = parse_column(strings, col.type)
            self._count(col, parsed, strings)
            typed[col.name] = parsed.values
            if col.name in self.required:
                checks.append((~parsed.present, f"missing required field {col.name}"))
            label = "NUL character" if col.type == "text" else f"unparsable {col.type}"
            checks.append((parsed.invalid, f"{label} in {col.name}"))
            if col.min is not None and col.type in ("integer", "bigint", "numeric"):
                ok = parsed.present & ~parsed.invalid
                below = ok & _fill(pc.less(parsed.values.cast(pa.float64()), col.min))
                label = "negative value" if col.min == 0 else f"value below {col.min}"
                checks.append((below, f"{label} in {col.name}"))
        days = None
        if self.day_column is not None:
            stamps = typed[self.day_column]
            if self.window is not None:
                low, high = (pa.scalar(t, UTC_MICROS) for t in self.window)
                outside = _fill(pc.or_(pc.less(stamps, low), pc.greater_equal(stamps, high)))
                checks.append(
                    (
                        outside,
                        f"{self.day_column} outside the load window [{self.window[0]:%Y-%m-%d}, "
                        f"{self.window[1]:%Y-%m-%d}) (late_arrival_days in sources.yml)",
                    )
                )
            if self.split_by_day:
                days = _as_days(stamps)
                no_day = ~_fill(pc.is_valid(days))
                checks.append((no_day, f"no {self.day_column} to place the row on a day"))
        checks.append((self.duplicate[lo:hi], DUPLICATE_REASON))
        bad = np.zeros(hi - lo, dtype=bool)
        for mask, _ in checks:
            bad |= mask
        rejects = self._rejects(lo, checks, bad, days)
        self.rejects += rejects
        self.bad_rows += sum(1 for r in rejects if r.reason != DUPLICATE_REASON)
        good_index = np.flatnonzero(~bad)
        everything = good_index.size == hi - lo

        def keep(values):
            return values if everything else values.take(good_index)

        good = {}
        for col in self.contract.columns:
            if col.pii:  # per chunk, so the COPY starts early; the pseudonymiser caches
                good[col.name] = self.pseudonymiser.array(
                    keep(self.strings[col.name].slice(lo, hi - lo))
                )
            else:
                good[col.name] = keep(typed[col.name])
        good["_source_uri"] = self.uris.take(pa.array(self.part_of_row[lo:hi][good_index]))
        return GoodChunk(pa.table(good), keep(days) if days is not None else None)

    def _earlier_duplicates(self) -> np.ndarray:
        """True for rows whose key (plus day when splitting) appears again in a later row.

        Only rows whose key values are usable take part."""
        key_columns = list(self.contract.primary_key)
        keys, usable = {}, np.ones(self.n, dtype=bool)
        for name in key_columns:
            parsed = parse_column(self.strings[name], self.contract.column(name).type)
            keys[name], usable = parsed.values, usable & parsed.present & ~parsed.invalid
        if self.split_by_day and self.day_column is not None:
            parsed = parse_column(
                self.strings[self.day_column], self.contract.column(self.day_column).type
            )
            keys["__day"] = _as_days(parsed.values)
            usable &= parsed.present & ~parsed.invalid
        duplicate = np.zeros(self.n, dtype=bool)
        index = np.flatnonzero(usable)
        if index.size < 2:
            return duplicate
        take = pa.array(index)
        if index.size != self.n:
            keys = {name: values.take(take) for name, values in keys.items()}
        table = pa.table({**{f"k{i}": v for i, v in enumerate(keys.values())}, "row": take})
        last = table.group_by([f"k{i}" for i in range(len(keys))], use_threads=False).aggregate(
            [("row", "max")]
        )
        if last.num_rows == index.size:  # every usable key once (one hash pass, no sort)
            return duplicate
        is_last = np.zeros(self.n, dtype=bool)
        is_last[last.column("row_max").to_numpy()] = True
        duplicate[index] = ~is_last[index]
        return duplicate

    def _count(self, col, parsed, strings) -> None:
        if col.type == "text":
            return
        self._present[col.name] += int(parsed.present.sum())
        invalid = int(parsed.invalid.sum())
        self._invalid[col.name] += invalid
        if invalid and col.name not in self._sample:
            self._sample[col.name] = strings.filter(pa.array(parsed.invalid))[0].as_py()

    def _raise_on_type_drift(self) -> None:
        for col in self.contract.columns:
            present = self._present[col.name]
            if present >= DRIFT_MIN_VALUES and self._invalid[col.name] == present:
                uris = sorted({p.uri for p in self.parts if col.name in p.columns})
                raise SchemaDriftError(
                    f"column {col.name!r} of source {self.contract.name!r} changed type: none "
                    f"of its {present} values parse as {col.type} (e.g. "
                    f"{self._sample[col.name]!r}) in {uris}. Fix the export, or change the "
                    "column's type in sources.yml if the source really changed."
                )

    def _parse_rejects(self) -> list[QuarantineRow]:
        return [
            QuarantineRow(
                uri=r.uri,
                line_no=r.line_no,
                reason=r.reason,
                raw_line=self._mask(p, r.raw_line, r.structured),
            )
            for p in self.parts
            for r in p.rejects
        ]

    def _rejects(self, lo, checks, bad, days) -> list[QuarantineRow]:
        rows = np.flatnonzero(bad)
        if not rows.size:
            return []
        reasons: dict[int, list[str]] = {int(i): [] for i in rows}
        for mask, reason in checks:
            for i in np.flatnonzero(mask):
                reasons[int(i)].append(reason)
        day_values = days.to_pylist() if days is not None else None
        out = []
        for i in rows:
            row = lo + int(i)
            part = self.parts[self.part_of_row[row]]
            local = int(row - self.offsets[self.part_of_row[row]])
            out.append(
                QuarantineRow(
                    uri=part.uri,
                    line_no=part.line_of(local),
                    reason="; ".join(reasons[int(i)]),
                    raw_line=self._mask(part, part.raw_text(local), True),
                    day=day_values[i] if day_values is not None else None,
                )
            )
        return out

    def _mask(self, part: ParsedRows, text: str, structured: bool) -> str:
        return mask_raw_line(
            self.pseudonymiser.key,
            text,
            fmt=part.format,
            header=part.header,
            pii_columns=self.pii,
            structured=structured,
        )


def validate_rows(
    parts: list[ParsedRows],
    contract: SourceContract,
    *,
    pii_key: bytes,
    day_column: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    split_by_day: bool = False,
) -> ValidatedRows:
    """Validate a whole load unit at once (all good rows in one table)."""
    validator = RowValidator(
        parts,
        contract,
        pii_key=pii_key,
        day_column=day_column,
        window=window,
        split_by_day=split_by_day,
    )
    chunks = list(validator.chunks())
    if chunks:
        good = pa.concat_tables(c.table for c in chunks)
    else:
        empty = {c.name: pa.array([], _arrow_type(c.type)) for c in contract.columns}
        good = pa.table({**empty, "_source_uri": pa.array([], pa.string())})
    days = None
    if split_by_day:
        days = pa.chunked_array([c.days for c in chunks], type=pa.date32())
    return ValidatedRows(good, days, validator.rejects, validator.rows_in, validator.warnings)


def _arrow_type(column_type: str) -> pa.DataType:
    return {
        "integer": pa.int64(),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
        "timestamp": UTC_MICROS,
        "date": pa.date32(),
    }.get(column_type, pa.string())


def _as_days(stamps) -> pa.Array:
    return stamps if stamps.type == pa.date32() else stamps.cast(pa.date32())


def _concat_column(parts: list[ParsedRows], name: str) -> pa.ChunkedArray:
    """One column over all parts (absent columns are nulls), without copying the data."""
    chunks = []
    for p in parts:
        column = p.columns.get(name)
        if column is None:
            chunks.append(pa.nulls(p.num_rows, pa.string()))
        elif isinstance(column, pa.ChunkedArray):
            chunks.extend(column.cast(pa.string()).chunks)
        else:
            chunks.append(column.cast(pa.string()))
    return pa.chunked_array(chunks, type=pa.string())


def _fill(values) -> np.ndarray:
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return filled.to_numpy(zero_copy_only=False).astype(bool, copy=False)
