"""Check parsed rows against their contract; split them into typed good rows and rejects.

Checks (vectorised per column): required fields present, values parse as the column's
type, no values below `min`, the day column inside the load window (late arrivals up to the
contract's `late_arrival_days`), and one row per primary key (the last one wins).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aimass.contracts import SourceContract
from aimass.ingest.errors import SchemaDriftError
from aimass.ingest.parse import ParsedRows
from aimass.ingest.pii import mask_raw_line, pseudonymise_array
from aimass.ingest.values import UTC_MICROS, parse_column

# A typed column whose values all fail to parse (with at least this many values) is drift.
DRIFT_MIN_VALUES = 10
DUPLICATE_REASON = "duplicate primary key in the partition (the last row wins)"


@dataclass(frozen=True)
class QuarantineRow:
    uri: str
    line_no: int | None
    reason: str
    raw_line: str
    day: date | None = None


@dataclass
class ValidatedRows:
    """Typed good rows (contract columns, PII pseudonymised, plus `_source_uri`) and rejects."""

    good: pa.Table
    days: pa.Array | None
    rejects: list[QuarantineRow]
    rows_in: int
    warnings: list[str] = field(default_factory=list)

    @property
    def top_reasons(self) -> tuple[tuple[str, int], ...]:
        return tuple(Counter(r.reason for r in self.rejects).most_common(5))

    def bad_fraction(self) -> float:
        """Share of bad rows; superseded duplicates are quarantined but are not bad data."""
        bad = sum(1 for r in self.rejects if r.reason != DUPLICATE_REASON)
        return bad / self.rows_in if self.rows_in else 0.0


def day_window(ds: date, late_arrival_days: int) -> tuple[datetime, datetime]:
    """[ds - late_arrival_days, ds + 1 day) as UTC datetimes."""
    start = datetime.combine(ds, time(), tzinfo=UTC)
    return start - timedelta(days=late_arrival_days), start + timedelta(days=1)


def validate_rows(
    parts: list[ParsedRows],
    contract: SourceContract,
    *,
    pii_key: bytes,
    day_column: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    split_by_day: bool = False,
) -> ValidatedRows:
    """Validate the rows of one load unit (one or more files, in order)."""
    n = sum(p.num_rows for p in parts)
    part_of_row = np.repeat(np.arange(len(parts)), [p.num_rows for p in parts])
    offsets = np.concatenate(([0], np.cumsum([p.num_rows for p in parts])))
    checks: list[tuple[np.ndarray, str]] = []
    typed: dict[str, pa.Array] = {}
    required = {c.name for c in contract.columns if c.required} | set(contract.primary_key)
    for col in contract.columns:
        strings = _concat_column(parts, col.name)
        parsed = parse_column(strings, col.type)
        _raise_on_type_drift(parts, contract, col, parsed, strings)
        typed[col.name] = parsed.values
        if col.name in required:
            checks.append((~parsed.present, f"missing required field {col.name}"))
        if col.type == "text":
            checks.append((parsed.invalid, f"NUL character in {col.name}"))
        else:
            checks.append((parsed.invalid, f"unparsable {col.type} in {col.name}"))
        if col.min is not None and col.type in ("integer", "bigint", "numeric"):
            ok = parsed.present & ~parsed.invalid
            below = ok & _fill(pc.less(parsed.values.cast(pa.float64()), col.min), False)
            label = "negative value" if col.min == 0 else f"value below {col.min}"
            checks.append((below, f"{label} in {col.name}"))
    days = None
    if day_column is not None:
        stamps = typed[day_column]
        if window is not None:
            lo, hi = (pa.scalar(t, UTC_MICROS) for t in window)
            outside = _fill(pc.or_(pc.less(stamps, lo), pc.greater_equal(stamps, hi)), False)
            checks.append(
                (
                    outside,
                    f"{day_column} outside the load window [{window[0]:%Y-%m-%d}, "
                    f"{window[1]:%Y-%m-%d}) (late_arrival_days in sources.yml)",
                )
            )
        if split_by_day:
            days = stamps.cast(pa.date32()) if stamps.type != pa.date32() else stamps
            no_day = ~_fill(pc.is_valid(days), False)
            checks.append((no_day, f"no {day_column} to place the row on a day"))
    bad = np.zeros(n, dtype=bool)
    for mask, _ in checks:
        bad |= mask
    key_columns = list(contract.primary_key) + (["__day"] if days is not None else [])
    key_values = {**typed, "__day": days} if days is not None else typed
    duplicate = _earlier_duplicates(key_values, key_columns, ~bad)
    checks.append((duplicate, DUPLICATE_REASON))
    bad |= duplicate

    good_index = np.flatnonzero(~bad)
    good = {}
    for col in contract.columns:
        values = typed[col.name].take(good_index)
        good[col.name] = pseudonymise_array(pii_key, values) if col.pii else values
    uris = pa.array([p.uri for p in parts], pa.string())
    good["_source_uri"] = uris.take(pa.array(part_of_row[good_index]))
    table = pa.table(good)

    rejects = _parse_rejects(parts, contract, pii_key)
    rejects += _validation_rejects(
        parts, contract, pii_key, checks, bad, part_of_row, offsets, days
    )
    warnings = [w for p in parts for w in p.warnings]
    return ValidatedRows(
        good=table,
        days=days.take(pa.array(good_index)) if days is not None else None,
        rejects=rejects,
        rows_in=n + sum(len(p.rejects) for p in parts),
        warnings=warnings,
    )


def _concat_column(parts: list[ParsedRows], name: str) -> pa.Array:
    arrays = [
        p.columns[name] if name in p.columns else pa.nulls(p.num_rows, pa.string()) for p in parts
    ]
    if not arrays:
        return pa.array([], pa.string())
    return pa.concat_arrays([a.cast(pa.string()) for a in arrays])


def _raise_on_type_drift(parts, contract, col, parsed, strings) -> None:
    if col.type == "text":
        return
    present = int(parsed.present.sum())
    if present >= DRIFT_MIN_VALUES and bool(parsed.invalid[parsed.present].all()):
        sample = strings.filter(pa.array(parsed.invalid))[0].as_py()
        uris = sorted({p.uri for p in parts if col.name in p.columns})
        raise SchemaDriftError(
            f"column {col.name!r} of source {contract.name!r} changed type: none of its {present} values parse as {col.type} "
            f"(e.g. {sample!r}) in {uris}. Fix the export, or change the column's type in "
            "sources.yml if the source really changed."
        )


def _earlier_duplicates(typed: dict, key_columns: list[str], candidate: np.ndarray) -> np.ndarray:
    """True for candidate rows whose key appears again in a later candidate row."""
    index = np.flatnonzero(candidate)
    duplicate = np.zeros(candidate.size, dtype=bool)
    if index.size < 2:
        return duplicate
    take = pa.array(index)
    if index.size == candidate.size:
        keys = {name: typed[name] for name in key_columns}
    else:
        keys = {name: typed[name].take(take) for name in key_columns}
    if len(keys) == 1:
        (only,) = keys.values()
        if pc.count_distinct(only).as_py() == len(only):
            return duplicate
    table = pa.table({**{f"k{i}": v for i, v in enumerate(keys.values())}, "row": take})
    last = table.group_by([f"k{i}" for i in range(len(keys))], use_threads=False).aggregate(
        [("row", "max")]
    )
    keep = np.zeros(candidate.size, dtype=bool)
    keep[last.column("row_max").to_numpy()] = True
    duplicate[index] = ~keep[index]
    return duplicate


def _parse_rejects(parts, contract, pii_key) -> list[QuarantineRow]:
    pii = frozenset(c.name for c in contract.columns if c.pii)
    return [
        QuarantineRow(
            uri=r.uri,
            line_no=r.line_no,
            reason=r.reason,
            raw_line=mask_raw_line(
                pii_key,
                r.raw_line,
                fmt=p.format,
                header=p.header,
                pii_columns=pii,
                structured=r.structured,
            ),
        )
        for p in parts
        for r in p.rejects
    ]


def _validation_rejects(
    parts, contract, pii_key, checks, bad, part_of_row, offsets, days
) -> list[QuarantineRow]:
    rows = np.flatnonzero(bad)
    if not rows.size:
        return []
    reasons: dict[int, list[str]] = {int(i): [] for i in rows}
    for mask, reason in checks:
        for i in np.flatnonzero(mask):
            reasons[int(i)].append(reason)
    pii = frozenset(c.name for c in contract.columns if c.pii)
    day_values = days.to_pylist() if days is not None else None
    out = []
    for i in rows:
        part = parts[part_of_row[i]]
        local = int(i - offsets[part_of_row[i]])
        out.append(
            QuarantineRow(
                uri=part.uri,
                line_no=part.line_of(local),
                reason="; ".join(reasons[int(i)]),
                raw_line=mask_raw_line(
                    pii_key,
                    part.raw_text(local),
                    fmt=part.format,
                    header=part.header,
                    pii_columns=pii,
                    structured=True,
                ),
                day=day_values[i] if day_values is not None else None,
            )
        )
    return out


def _fill(values, default: bool) -> np.ndarray:
    filled = pc.fill_null(values, default)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return filled.to_numpy(zero_copy_only=False).astype(bool, copy=False)
