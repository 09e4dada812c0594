"""The landing area, read through Airflow's `ObjectStoragePath` (local folders, `file://`,
`s3://`, ... behave the same).

Layout: `<landing>/<source>/<YYYY-MM-DD>/<files>` per daily partition and
`<landing>/<source>/history/<files>` for a multi-day export. `<source>` is the contract's
`location` option when set, else its name.

Every file of a folder is data, except names starting with `.` or `_` (hidden files, markers
such as Spark's `_SUCCESS`), which are ignored. A data file ends in `.csv`, `.csv.gz`,
`.jsonl`, `.jsonl.gz` or `.parquet`, in a format the contract allows (`format`, or the list
`formats`); any other file fails its folder's load with an error naming it.
"""

from __future__ import annotations

import gzip
import re
import zlib
from datetime import date

from aimass.contracts import SourceContract
from aimass.ingest.errors import UnreadableFileError
from aimass.ingest.payload import Payload

HISTORY_FOLDER = "history"
NOT_DATA_PREFIXES = (".", "_")
# file name ending -> (format, compressed)
SUFFIXES = {
    ".csv": ("csv", False),
    ".csv.gz": ("csv", True),
    ".jsonl": ("jsonl", False),
    ".jsonl.gz": ("jsonl", True),
    ".parquet": ("parquet", False),
}
GZIP_MAGIC = b"\x1f\x8b"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def storage_path(uri: str):
    """An `ObjectStoragePath` for a URI or a plain local path."""
    from airflow.sdk import ObjectStoragePath  # imported on use: Airflow is slow to import

    return ObjectStoragePath(uri)


def source_folder(landing_uri: str, contract: SourceContract):
    """The landing folder of one source."""
    return storage_path(landing_uri) / (contract.location or contract.name)


def list_partitions(folder) -> dict[date, object]:
    """Daily partition folders under a source folder, by day."""
    partitions = {}
    for child in folder.iterdir():
        if _DAY.match(child.name) and child.is_dir():
            partitions[date.fromisoformat(child.name)] = child
    return dict(sorted(partitions.items()))


def data_files(folder) -> list:
    """The files of a folder that are data (not hidden, not markers), by name."""
    files = [
        f for f in folder.iterdir() if not f.name.startswith(NOT_DATA_PREFIXES) and f.is_file()
    ]
    return sorted(files, key=lambda f: f.name)


def file_kind(name: str) -> tuple[str, bool] | None:
    """(format, gzip-compressed) of a file name, or None for an unsupported ending."""
    lower = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return SUFFIXES[suffix]
    return None


def read_payloads(files) -> list[Payload]:
    """The bytes of `files` as landed (format from the name, "" when unsupported)."""
    payloads = []
    for f in files:
        kind = file_kind(f.name)
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise UnreadableFileError(f"{f}: cannot be read ({exc}).") from exc
        payloads.append(Payload(uri=str(f), format=kind[0] if kind else "", data=data))
    return payloads


def open_payloads(payloads: list[Payload], contract: SourceContract) -> list[Payload]:
    """The payloads ready to parse (gzip decompressed); raises `UnreadableFileError` naming
    the first file of an unsupported type, a format the contract does not allow, or bytes
    that do not match the file's name."""
    return [_open(p, contract) for p in payloads]


def _open(payload: Payload, contract: SourceContract) -> Payload:
    allowed = contract.allowed_formats
    kind = file_kind(payload.name)
    if kind is None:
        raise UnreadableFileError(
            f"{payload.uri}: not a data file the loader reads (supported endings: "
            f"{', '.join(SUFFIXES)}). Remove it from the folder, rename it to start with '_' "
            "if it is not data, or re-export it in a supported format."
        )
    fmt, compressed = kind
    if fmt not in allowed:
        raise UnreadableFileError(
            f"{payload.uri}: a {fmt} file, but source {contract.name!r} takes "
            f"{' or '.join(allowed)}. Re-export it, or add {fmt} to the source's `formats` in "
            "sources.yml."
        )
    data = payload.data
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnreadableFileError(
                f"{payload.uri}: not a valid gzip file ({exc}); re-export or re-compress it."
            ) from exc
    elif data.startswith(GZIP_MAGIC):
        raise UnreadableFileError(
            f"{payload.uri}: the file is gzip-compressed but its name does not end in .gz; "
            f"rename it to {payload.name}.gz."
        )
    return Payload(uri=payload.uri, format=fmt, data=data)
