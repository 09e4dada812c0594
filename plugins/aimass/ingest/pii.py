"""Keyed pseudonyms for PII columns: `hmac_sha256(key, value).hexdigest()`.

The same key gives the same pseudonym on every run (joins keep working); another key gives
other pseudonyms. Null and empty values stay null.
"""

from __future__ import annotations

import csv
import hmac
import io
import json

import pyarrow as pa
import pyarrow.compute as pc


def pseudonymise_value(key: bytes, value: str) -> str:
    """The pseudonym of one clear-text value."""
    return hmac.digest(key, value.encode("utf-8"), "sha256").hex()


def pseudonymise_array(key: bytes, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Pseudonymise a string array; hashes each distinct value once."""
    return Pseudonymiser(key).array(values)


class Pseudonymiser:
    """Pseudonymises arrays with one key, remembering the values it has hashed (across the
    chunks of a load): each call hashes only values it has not seen, and finds the others
    with one vectorised lookup instead of a Python loop over every distinct value."""

    MAX_CACHED = 500_000

    def __init__(self, key: bytes):
        _require_key(key)
        self.key = bytes(key)
        self._known = pa.array([], pa.string())  # values hashed so far
        self._hashed = pa.array([], pa.string())  # their pseudonyms, same order

    def array(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        values = values.cast(pa.string())
        empty = pc.equal(values, "")
        if pc.any(empty).as_py():
            values = pc.if_else(empty, pa.scalar(None, pa.string()), values)
        encoded = values.dictionary_encode()
        distinct = encoded.dictionary
        if len(self._known) > self.MAX_CACHED:
            self._known, self._hashed = self._known.slice(0, 0), self._hashed.slice(0, 0)
        position = pc.index_in(distinct, value_set=self._known)
        new = distinct.filter(pc.is_null(position)).to_pylist()
        if new:
            key, digest = self.key, hmac.digest
            hashed = [digest(key, value.encode("utf-8"), "sha256").hex() for value in new]
            self._known = pa.concat_arrays([self._known, pa.array(new, pa.string())])
            self._hashed = pa.concat_arrays([self._hashed, pa.array(hashed, pa.string())])
            position = pc.index_in(distinct, value_set=self._known)
        return pc.take(pc.take(self._hashed, position), encoded.indices)


def _require_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ValueError(
            "the PII key must be at least 16 bytes; pass "
            "aimass.settings.load_settings().require_pii_key()"
        )


def mask_raw_line(
    key: bytes,
    text: str,
    *,
    fmt: str,
    header: tuple[str, ...],
    pii_columns: frozenset[str],
    structured: bool,
) -> str:
    """The raw text of a rejected row with its PII values pseudonymised.

    CSV rows keep their text with the PII fields replaced; JSON rows are re-serialised with
    the PII keys replaced. A row of a PII source that cannot be split into named fields
    (wrong column count, invalid JSON) is withheld: only its pseudonym is kept, the landed
    file still holds the original.
    """
    if not pii_columns:
        return text
    if fmt == "csv":
        fields = next(csv.reader([text]), [])
        if len(fields) == len(header):
            for i, name in enumerate(header):
                if name in pii_columns and fields[i] != "":
                    fields[i] = pseudonymise_value(key, fields[i])
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(fields)
            return out.getvalue()
    elif structured:
        record = json.loads(text)
        for name in pii_columns & record.keys():
            if record[name] not in (None, ""):
                record[name] = pseudonymise_value(key, str(record[name]))
        return json.dumps(record)
    return (
        "[withheld: this row of a source with PII columns could not be split into fields; "
        f"pseudonym of the line {pseudonymise_value(key, text)}]"
    )
