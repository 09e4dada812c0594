"""Vectorised parsing of string columns into contract types (pyarrow.compute, no row loops).

`parse_column` returns the typed values (what is COPY'd into `raw`) and a mask of values that
were present but could not be parsed. Empty and whitespace-only values count as missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_INTEGER = r"^[+-]?\d+(\.0*)?$"
_NUMERIC = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?)?$"
_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_TRUE = ["true", "t", "yes", "y", "1", "on"]
_FALSE = ["false", "f", "no", "n", "0", "off"]
_CHUNK = 4096
UTC_MICROS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class ParsedColumn:
    """Typed values (null where missing or invalid) and which values were invalid."""

    values: pa.Array
    present: np.ndarray
    invalid: np.ndarray


def parse_column(strings: pa.Array | pa.ChunkedArray, column_type: str) -> ParsedColumn:
    """Parse a string array (chunked or not) as `column_type` (a contract type name)."""
    if column_type == "text":
        empty = pc.equal(strings, "")
        if pc.any(empty).as_py():
            strings = pc.if_else(empty, pa.scalar(None, pa.string()), strings)
        present = _mask(pc.is_valid(strings))
        has_nul = _mask(pc.fill_null(pc.match_substring(strings, "\x00"), False))
        return ParsedColumn(strings, present, has_nul)
    trimmed = pc.utf8_trim_whitespace(strings)
    empty = pc.equal(trimmed, "")
    if pc.any(empty).as_py():
        trimmed = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
    present = _mask(pc.is_valid(trimmed))
    parser = _PARSERS[column_type]
    values, ok = parser(trimmed)
    invalid = present & ~ok
    return ParsedColumn(values, present, invalid)


def _integer(strings: pa.Array, bits: int) -> tuple[pa.Array, np.ndarray]:
    values, ok = _direct_cast(strings, pa.int64())
    if values is None:
        ok = _matches(strings, _INTEGER)
        digits = pc.replace_substring_regex(strings, r"^\+|\.0*$", "")
        values, ok = _cast_where(digits, ok, pa.int64())
    if bits == 32:
        in_range = _mask(
            pc.fill_null(
                pc.and_(pc.greater_equal(values, INT32_MIN), pc.less_equal(values, INT32_MAX)),
                False,
            )
        )
        ok &= in_range
        values = _null_where(values, ~ok)
    return values, ok


def _numeric(strings: pa.Array) -> tuple[pa.Array, np.ndarray]:
    ok = _matches(strings, _NUMERIC)
    return _null_where(strings, ~ok), ok


def _boolean(strings: pa.Array) -> tuple[pa.Array, np.ndarray]:
    lowered = pc.utf8_lower(strings)
    is_true = _mask(pc.fill_null(pc.is_in(lowered, pa.array(_TRUE)), False))
    is_false = _mask(pc.fill_null(pc.is_in(lowered, pa.array(_FALSE)), False))
    ok = is_true | is_false
    values = pa.array(is_true, type=pa.bool_())
    return _null_where(values, ~ok), ok


def _date(strings: pa.Array) -> tuple[pa.Array, np.ndarray]:
    values, ok = _direct_cast(strings, pa.date32())
    if values is not None and _matches(strings, _DATE)[ok].all():
        return values, ok
    ok = _matches(strings, _DATE)
    return _cast_where(strings, ok, pa.date32())


def _timestamp(strings: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """ISO 8601 timestamps; a missing offset means UTC; a bare date means midnight UTC."""
    values, ok = _direct_cast(strings, UTC_MICROS)
    if values is not None:
        return values, ok
    ok = _matches(strings, _TIMESTAMP)
    text = pc.replace_substring_regex(strings, r"^(\d{4}-\d{2}-\d{2})$", r"\1T00:00:00")
    text = pc.replace_substring_regex(text, r"(\.\d{6})\d+", r"\1")
    text = pc.replace_substring_regex(text, r"\s+(Z|[+-]\d)", r"\1")
    has_offset = pc.fill_null(pc.match_substring_regex(text, _OFFSET), False)
    text = pc.if_else(has_offset, text, pc.binary_join_element_wise(text, "Z", ""))
    return _cast_where(text, ok, UTC_MICROS)


_PARSERS = {
    "integer": lambda s: _integer(s, 32),
    "bigint": lambda s: _integer(s, 64),
    "numeric": _numeric,
    "boolean": _boolean,
    "date": _date,
    "timestamp": _timestamp,
}


def numeric_as_float(values: pa.Array) -> pa.Array:
    """Float view of parsed numeric/integer values, for range checks."""
    return values.cast(pa.float64())


def _mask(booleans: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(booleans, pa.ChunkedArray):
        booleans = booleans.combine_chunks()
    return booleans.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _matches(strings: pa.Array, pattern: str) -> np.ndarray:
    return _mask(pc.fill_null(pc.match_substring_regex(strings, pattern), False))


def _null_where(values: pa.Array, drop: np.ndarray) -> pa.Array:
    if not drop.any():
        return values
    return pc.if_else(pa.array(drop), pa.scalar(None, values.type), values)


def _direct_cast(strings: pa.Array, target: pa.DataType):
    """The cast of every value when all of them are well-formed (the common case)."""
    try:
        return strings.cast(target), np.ones(len(strings), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None, None


def _cast_where(
    strings: pa.Array, ok: np.ndarray, target: pa.DataType
) -> tuple[pa.Array, np.ndarray]:
    """Cast the `ok` strings to `target`; values the cast refuses become invalid too."""
    candidates = _null_where(strings, ~ok)
    try:
        return candidates.cast(target), ok
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = ok.copy()
    pieces = []
    for lo in range(0, len(candidates), _CHUNK):
        chunk = candidates.slice(lo, _CHUNK)
        try:
            pieces.append(chunk.cast(target))
            continue
        except pa.ArrowInvalid:
            pass
        values = []
        for j, value in enumerate(chunk):
            try:
                values.append(pa.array([value.as_py()], pa.string()).cast(target)[0].as_py())
            except pa.ArrowInvalid:
                ok[lo + j] = False
                values.append(None)
        pieces.append(pa.array(values, type=target))
    chunks = [c for p in pieces for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    return pa.chunked_array(chunks, type=target), ok
