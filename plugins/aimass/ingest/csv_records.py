"""Record boundaries of RFC 4180 CSV bytes, found with numpy (no per-row Python).

A newline ends a record unless it sits inside a quoted field (an odd number of quote
characters before it). Each record keeps its byte span and the physical line it starts on,
so a rejected row can be quarantined with its exact text and line number.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import numpy as np

NEWLINE, CARRIAGE_RETURN, QUOTE, COMMA = 0x0A, 0x0D, 0x22, 0x2C
_UTF8_CHUNK = 4096


@dataclass(frozen=True)
class Records:
    """Non-empty records: content span `[starts, ends)` (no terminator), the start of the
    next record `next_starts`, and the 1-based physical line number `line_no`."""

    starts: np.ndarray
    ends: np.ndarray
    next_starts: np.ndarray
    line_no: np.ndarray

    def __len__(self) -> int:
        return int(self.starts.size)

    def take(self, index) -> Records:
        return Records(
            self.starts[index], self.ends[index], self.next_starts[index], self.line_no[index]
        )


def split_records(buf: np.ndarray) -> Records:
    """Split CSV bytes (a uint8 array) into records; blank lines are dropped."""
    newlines = np.flatnonzero(buf == NEWLINE)
    quotes = np.flatnonzero(buf == QUOTE)
    if quotes.size:
        outside = (np.searchsorted(quotes, newlines) & 1) == 0
        terminators = newlines[outside]
        terminator_index = np.flatnonzero(outside)
    else:
        terminators = newlines
        terminator_index = np.arange(newlines.size)
    starts = np.concatenate(([0], terminators + 1)).astype(np.int64)
    next_starts = np.concatenate((terminators + 1, [buf.size])).astype(np.int64)
    ends = np.concatenate((terminators, [buf.size])).astype(np.int64)
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == CARRIAGE_RETURN)
    ends = ends - has_cr
    # the record after the k-th newline starts on physical line k + 2
    line_no = np.concatenate(([1], terminator_index + 2)).astype(np.int64)
    non_empty = ends > starts
    return Records(starts, ends, next_starts, line_no).take(non_empty)


def field_counts(buf: np.ndarray, records: Records) -> np.ndarray:
    """Number of fields of every record (commas outside quotes, plus one)."""
    commas = np.flatnonzero(buf == COMMA)
    quotes = np.flatnonzero(buf == QUOTE)
    if quotes.size and commas.size:
        commas = commas[(np.searchsorted(quotes, commas) & 1) == 0]
    return np.searchsorted(commas, records.ends) - np.searchsorted(commas, records.starts) + 1


def invalid_utf8(data: bytes, records: Records) -> np.ndarray:
    """True for every record whose bytes are not valid UTF-8."""
    bad = np.zeros(len(records), dtype=bool)
    view = memoryview(data)
    try:
        codecs.utf_8_decode(view, "strict", True)
        return bad
    except UnicodeDecodeError:
        pass
    starts, ends = records.starts, records.ends
    for lo in range(0, len(records), _UTF8_CHUNK):
        hi = min(lo + _UTF8_CHUNK, len(records))
        try:
            codecs.utf_8_decode(view[starts[lo] : ends[hi - 1]], "strict", True)
            continue
        except UnicodeDecodeError:
            pass
        for k in range(lo, hi):
            try:
                codecs.utf_8_decode(view[starts[k] : ends[k]], "strict", True)
            except UnicodeDecodeError:
                bad[k] = True
    return bad


def record_text(data: bytes, records: Records, i: int) -> str:
    """The text of record `i` (invalid bytes shown as `\\xNN`)."""
    return data[records.starts[i] : records.ends[i]].decode("utf-8", errors="backslashreplace")


def without_records(buf: np.ndarray, records: Records, drop: np.ndarray, offset: int) -> bytes:
    """The bytes from `offset` on with the records flagged in `drop` cut out."""
    keep = np.ones(buf.size, dtype=bool)
    for i in np.flatnonzero(drop):
        keep[records.starts[i] : records.next_starts[i]] = False
    keep[:offset] = False
    return buf[keep].tobytes()
