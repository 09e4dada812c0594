"""Vectorised text building (ids, fake contact data) on Arrow string arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def as_text(values) -> pa.Array:
    """Integers or strings as an Arrow string array."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return pc.cast(values, pa.string())
    return pc.cast(pa.array(np.asarray(values)), pa.string())


def padded(numbers: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal strings of at least `width` characters."""
    return pc.utf8_lpad(as_text(np.asarray(numbers, dtype=np.int64)), width, "0")


def concat(*parts, sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays and scalar strings."""
    arrays = [pa.scalar(p, pa.string()) if isinstance(p, str) else as_text(p) for p in parts]
    return pc.binary_join_element_wise(*arrays, sep)


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded number, e.g. `u0000042`."""
    return concat(prefix, padded(numbers, width))


def dated_ids(prefix: str, day_numbers: np.ndarray, seq: np.ndarray, width: int) -> pa.Array:
    """`prefix-YYYYMMDD-seq`: ids unique across days, e.g. `evt-20260701-00000042`."""
    return concat(prefix, as_text(day_numbers), padded(seq, width), sep="-")


def take(vocab, index: np.ndarray) -> pa.Array:
    """`vocab[index]` as an Arrow string array (`vocab` a list of strings or an Arrow array)."""
    source = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), pa.string())
    return source.take(pa.array(np.asarray(index, dtype=np.int64)))


def hex_device_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """`n` random 128-bit ids formatted like UUIDs (8-4-4-4-12 lowercase hex)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    chars = np.empty((n, 32), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 15]
    dashed = np.full((n, 36), ord("-"), dtype=np.uint8)
    dashed[:, 0:8] = chars[:, 0:8]
    dashed[:, 9:13] = chars[:, 8:12]
    dashed[:, 14:18] = chars[:, 12:16]
    dashed[:, 19:23] = chars[:, 16:20]
    dashed[:, 24:36] = chars[:, 20:32]
    return pa.array(dashed.view("S36").ravel().astype(str), pa.string())


def ipv4(rng: np.random.Generator, n: int) -> pa.Array:
    """`n` public-looking IPv4 addresses."""
    first = rng.choice(np.array([31, 46, 62, 77, 81, 84, 91, 95, 109, 176, 185, 188, 212, 217]), n)
    rest = rng.integers(0, 256, size=(n, 2))
    last = rng.integers(1, 255, size=n)
    return concat(first, rest[:, 0], rest[:, 1], last, sep=".")


def take_or_null(source: pa.Array, index: np.ndarray) -> pa.Array:
    """`source[index]`, null where `index` is negative."""
    index = np.asarray(index, dtype=np.int64)
    return source.take(pa.array(np.maximum(index, 0), mask=index < 0))
