"""The landing area, read through Airflow's `ObjectStoragePath` (local folders, `file://`,
`s3://`, ... behave the same).

Layout: `<landing>/<source>/<YYYY-MM-DD>/part-*.<format>` per daily partition and
`<landing>/<source>/history/*.<format>` for a multi-day export. `<source>` is the contract's
`location` option when set, else its name.
"""

from __future__ import annotations

import re
from datetime import date

from aimass.contracts import SourceContract
from aimass.ingest.payload import Payload

HISTORY_FOLDER = "history"
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


def partition_files(folder, fmt: str, pattern: str = "part-*") -> list:
    """The data files of one partition folder, by name."""
    return sorted(folder.glob(f"{pattern}.{fmt}"), key=lambda p: p.name)


def read_payloads(files, fmt: str) -> list[Payload]:
    return [Payload(uri=str(f), format=fmt, data=f.read_bytes()) for f in files]
