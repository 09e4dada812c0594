"""Write a simulated shop into a landing area: `<landing>/<source>/<YYYY-MM-DD>/part-0000.<fmt>`.

Event-time sources: partition d holds the rows of day d plus the late rows of day d-1.
Snapshot sources: partition d holds the rows created or updated on day d (the first day also
everything that existed before the start date). Every source gets a file every day (possibly
only a header). Files are written atomically and re-writing a day gives identical bytes.
Formats follow the source contract: csv (header, ISO-8601 UTC timestamps `...Z`, `true`/
`false`, empty = null), jsonl (one object per line), parquet.

A manifest, `<landing>/_simulated_shop.json`, records the fingerprint of what the files were
written from (`landing_fingerprint`: the shop's config and simulator code, the sources'
formats and columns) and the days written under it. A day's rows never depend on how far
the shop was simulated, so a day the manifest lists, with a file for every source, would get
the same bytes again: `landed_days` tells which, and a daily run writes only the others.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from aimass.contracts import SourceContract, load_contracts
from aimass.sim.config import canonical_config, canonical_json, shop_fingerprint

PARQUET_TYPES = {"integer": pa.int32(), "bigint": pa.int64()}
MANIFEST_NAME = "_simulated_shop.json"


def landing_root(landing_uri: str) -> Path:
    """The local directory behind a `file://` URI or a plain path."""
    parsed = urlparse(landing_uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise ValueError(
            f"landing URI {landing_uri!r} has scheme {parsed.scheme!r}; the simulator writes "
            "local landing areas only: pass a file:// URI or a plain path."
        )
    return Path(landing_uri)


def partition_path(root: Path, contract: SourceContract, day: date) -> Path:
    return root / contract.name / day.isoformat() / f"part-0000.{contract.format}"


def landing_fingerprint(shop, contracts: dict[str, SourceContract]) -> str:
    """sha256 (hex) of what the landing files' bytes depend on: the shop's fingerprint (config
    and simulator code) and each source's format and columns."""
    doc = {
        "shop": shop_fingerprint(shop.config),
        "sources": {
            name: {"format": c.format, "columns": [[col.name, col.type] for col in c.columns]}
            for name, c in contracts.items()
        },
    }
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def landed_days(
    shop, landing_uri: str, contracts: dict[str, SourceContract] | None = None
) -> list[date]:
    """The shop's days already in the landing area exactly as `write_landing` would write them:
    listed in the manifest under the shop's `landing_fingerprint` and with a file for every
    source. Anything else (no manifest, another config or format, a missing file) is not."""
    contracts = contracts or load_contracts()
    root = landing_root(landing_uri)
    manifest = _read_manifest(root)
    if manifest.get("fingerprint") != landing_fingerprint(shop, contracts):
        return []
    listed = set(manifest.get("days") or [])
    return [
        day
        for day in shop.days
        if day.isoformat() in listed
        and all(partition_path(root, c, day).is_file() for c in contracts.values())
    ]


def write_landing(
    shop,
    landing_uri: str,
    days: Iterable[date] | None = None,
    contracts: dict[str, SourceContract] | None = None,
) -> list[str]:
    """Write one file per source per day (default: every simulated day); returns the paths
    written. Always writes every day asked for; to write only what is new, pass the days
    `landed_days` does not return.

    The manifest then lists these days (and, under the same fingerprint, the days it listed
    before). Before overwriting files another fingerprint vouched for, the manifest is reset,
    so an interrupted write never leaves it listing a file it does not describe."""
    contracts = contracts or load_contracts()
    root = landing_root(landing_uri)
    days = list(shop.days if days is None else days)
    outside = [d for d in days if d not in set(shop.days)]
    if outside:
        raise ValueError(
            f"days {[d.isoformat() for d in outside]} were not simulated "
            f"({shop.days[0]}..{shop.days[-1]}); simulate further with simulate_shop(until=...)."
        )
    missing = [name for name in contracts if name not in shop.landing]
    if missing:
        raise ValueError(f"the simulated shop has no source {missing[0]!r} to land.")
    fingerprint = landing_fingerprint(shop, contracts)
    manifest = _read_manifest(root)
    listed = set()
    if manifest.get("fingerprint") == fingerprint:
        listed = set(manifest.get("days") or [])
    elif manifest:
        _write_manifest(root, shop, fingerprint, listed)
    written = []
    for name, contract in contracts.items():
        for day in days:
            path = partition_path(root, contract, day)
            _write_atomic(path, serialise(shop.landing[name].day(day), contract))
            written.append(str(path))
    now_listed = listed | {d.isoformat() for d in days}
    if now_listed != listed or manifest.get("fingerprint") != fingerprint:
        _write_manifest(root, shop, fingerprint, now_listed)
    return written


def _read_manifest(root: Path) -> dict:
    """The manifest's content; {} when there is none or it is unreadable (vouches for nothing)."""
    try:
        doc = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write_manifest(root: Path, shop, fingerprint: str, days: set[str]) -> None:
    doc = {
        "fingerprint": fingerprint,
        "config": canonical_config(shop.config),
        "days": sorted(days),
    }
    _write_atomic(root / MANIFEST_NAME, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


def serialise(rows: pa.Table, contract: SourceContract) -> bytes:
    """The bytes of one landing file in the contract's format."""
    if contract.format == "csv":
        return _csv(rows)
    if contract.format == "jsonl":
        return _jsonl(rows)
    if contract.format == "parquet":
        return _parquet(rows, contract)
    raise ValueError(f"source {contract.name!r}: unsupported landing format {contract.format!r}")


def _as_text(rows: pa.Table, dates: bool = False) -> pa.Table:
    """Timestamps as `YYYY-MM-DDTHH:MM:SSZ` strings (and dates as `YYYY-MM-DD` if asked)."""
    columns = []
    for column, field in zip(rows.columns, rows.schema, strict=True):
        if pa.types.is_timestamp(field.type):
            seconds = pc.cast(column, pa.timestamp("s", tz="UTC"))
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        elif dates and pa.types.is_date(field.type):
            column = pc.cast(column, pa.string())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=rows.column_names)


def _csv(rows: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pa_csv.write_csv(_as_text(rows), buffer, pa_csv.WriteOptions(quoting_style="needed"))
    return buffer.getvalue()


def _jsonl(rows: pa.Table) -> bytes:
    if rows.num_rows == 0:
        return b""
    frame = _as_text(rows, dates=True).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    text = frame.to_json(orient="records", lines=True, double_precision=10, date_format="iso")
    return text.encode("utf-8")


def _parquet(rows: pa.Table, contract: SourceContract) -> bytes:
    schema = pa.schema(
        [
            (c.name, PARQUET_TYPES.get(c.type, rows.schema.field(c.name).type))
            for c in contract.columns
        ]
    )
    buffer = io.BytesIO()
    pq.write_table(rows.cast(schema).replace_schema_metadata(None), buffer)
    return buffer.getvalue()


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
