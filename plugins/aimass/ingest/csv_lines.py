"""CSV read line by line, for files whose quoting is broken: one bad line costs one line.

Each record starts on a physical line and is read with Python's strict CSV reader. A record
that breaks quoting (a stray quote after a closing one, a quoted field that never closes)
is rejected as its first line alone, and reading resumes on the next line; a quoted field
may span lines (embedded newlines) when the record it completes has the header's field
count and at most `MAX_RECORD_LINES` lines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_RECORD_LINES = 100
BROKEN_QUOTING = "broken CSV quoting (a stray or unbalanced quote)"


@dataclass
class LineRecords:
    """Good records (fields, first line number, raw text) and rejects (line, reason, text)."""

    fields: list[list[str]] = field(default_factory=list)
    line_no: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)


def read_lines(data: bytes, n_fields: int, first_line: int = 2) -> LineRecords:
    """Records of `data` (the body after the header, which was line `first_line - 1`)."""
    lines = data.split(b"\n")
    out = LineRecords()
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip(b"\r")
        line_no = first_line + i
        if not raw:
            i += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.rejects.append((line_no, "invalid UTF-8", raw.decode("utf-8", "backslashreplace")))
            i += 1
            continue
        fields, used = _record(lines, i) if '"' in text else (text.split(","), 1)
        record_text = "\n".join(
            ln.rstrip(b"\r").decode("utf-8", "backslashreplace") for ln in lines[i : i + used]
        )
        if fields is None or (used > 1 and len(fields) != n_fields):
            out.rejects.append((line_no, BROKEN_QUOTING, text))
            i += 1
            continue
        if len(fields) != n_fields:
            out.rejects.append(
                (line_no, f"wrong column count: expected {n_fields}, got {len(fields)}", text)
            )
        else:
            out.fields.append(fields)
            out.line_no.append(line_no)
            out.text.append(record_text)
        i += used
    return out


def _record(lines: list[bytes], start: int) -> tuple[list[str] | None, int]:
    """The fields of the record starting at `lines[start]` and the lines it used; None when
    it breaks quoting."""
    used = 0

    def feed() -> Iterator[str]:
        nonlocal used
        for raw in lines[start : start + MAX_RECORD_LINES]:
            used += 1
            yield raw.decode("utf-8") + "\n"

    try:
        return next(csv.reader(feed(), strict=True)), used
    except (csv.Error, UnicodeDecodeError, StopIteration):
        return None, 1
