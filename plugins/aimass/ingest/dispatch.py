"""`run_source`: load one day of any source, whatever its `kind`."""

from __future__ import annotations

from datetime import date

from aimass.contracts import SourceContract
from aimass.ingest.errors import IngestError
from aimass.ingest.result import LoadResult
from aimass.settings import Settings, load_settings
from aimass.warehouse import summarize_raw_indexes


def run_source(
    conn,
    contract: SourceContract,
    ds: date,
    settings: Settings | None = None,
    *,
    pii_key: bytes | None = None,
    force: bool = False,
    landing_uri: str | None = None,
    api_client=None,
    source_dsn: str | None = None,
    check_missing: bool = True,
) -> list[LoadResult]:
    """Bring `raw.<source>` up to day `ds` from wherever the contract says it comes from.

    file: every new or changed landing partition up to `ds` (`sync_source`); api: the day's
    records from the HTTP API (`load_api_day`); sql: the rows changed since the watermark
    (`load_sql_changes`). The PII key and landing URI default to `settings`. Then the BRIN
    indexes of `raw.<source>` summarize what was loaded (`summarize_raw_indexes`).
    `check_missing=False`: a file source's day `ds` may have no data (a history import).
    """
    settings = settings or load_settings()
    pii_key = pii_key or settings.require_pii_key()
    if contract.kind == "file":
        from aimass.ingest.sync import sync_source

        results = sync_source(
            conn,
            contract,
            landing_uri or settings.landing_uri,
            up_to=ds,
            pii_key=pii_key,
            force=force,
            check_missing=check_missing,
        )
    elif contract.kind == "api":
        from aimass.ingest.http_api import load_api_day

        results = load_api_day(conn, contract, ds, pii_key=pii_key, client=api_client, force=force)
    elif contract.kind == "sql":
        from aimass.ingest.sql_source import load_sql_changes

        results = load_sql_changes(conn, contract, ds, pii_key=pii_key, dsn=source_dsn, force=force)
    else:
        raise IngestError(f"source {contract.name!r} has unknown kind {contract.kind!r}.")
    summarize_raw_indexes(conn, contract)
    return results
