"""Ingestion: every source into `raw.<source>`, rejected rows into `quarantine.<source>`.

Three ways data arrives, one load path (parse -> validate -> pseudonymise -> COPY):

- **file** (default): landing partitions `<landing>/<source>/<YYYY-MM-DD>/part-*.<format>`
  (csv, jsonl or parquet), read through Airflow's `ObjectStoragePath`, so a local folder,
  `file://` and `s3://` behave alike. `sync_source` loads every partition up to a day whose
  checksum changed since its last successful load.
- **api**: an HTTP JSON API (`http_api`): bearer token, pagination, 429/5xx handling.
- **sql**: an OLTP table extracted by its `updated_at` watermark (`sql_source`).

`run_source(conn, contract, ds, settings)` dispatches on the contract's `kind`. To switch a
source, change its `kind` in `conf/sources.yml`; the settings are already beside it:

    ad_events:
      kind: api        # was: file
      api: {resource: ad_events, endpoint_env: AIMASS_ADS_API_URL,
            token_env: AIMASS_ADS_API_TOKEN, conn_id: aimass_ads_api}

    users:
      kind: sql
      sql: {table: shop.users, dsn_env: AIMASS_SHOP_DB_URL, conn_id: aimass_shop_db}

and provide the endpoint/token (environment variables or the Airflow connection: host,
port, schema http|https, password = token) or the source DSN. `kind: sql` needs the
contract's `incremental_column`.

**History export.** Files under `<landing>/<source>/history/` (any name ending in the
source's format) may cover many days. `sync_source` loads them first (or call
`load_history`): each row's `_ds` is the UTC day of its partition column (snapshot sources:
of `incremental_column`) and each day is replaced in its own transaction, so the load is
idempotent per day; an unchanged export is skipped. Load the history once, then land daily
partitions for the days after it. A day that has a daily partition is loaded from it, never
from the history, whichever changed last; a day within the history's days is not reported
missing. `python -m aimass.history` (`aimass.history`) imports a first export with one
command: it checks the export, loads it, builds the marts once, trains and scores.

**Guarantees.** One transaction per (source, day) under `pg_advisory_xact_lock`: the day's
rows in raw and quarantine are replaced and `raw._load_log` gets one row (rows_in =
rows_loaded + rows_rejected). Every input row lands in raw or quarantine with a reason
(wrong column count, invalid UTF-8, missing required field, unparsable value, negative
value, event time outside [ds - late_arrival_days, ds + 1 day), duplicate primary key: the
last row wins). Above `max_bad_fraction` nothing is loaded (`TooManyBadRowsError`). PII
columns are replaced by `hmac_sha256(key, value)` before COPY; quarantined lines of PII
sources are stored with their PII fields pseudonymised (or withheld when the line cannot be
split into fields).
"""

from aimass.ingest.dispatch import run_source
from aimass.ingest.errors import (
    ConnectionStateError,
    IngestError,
    MissingPartitionError,
    SchemaDriftError,
    SourceUnavailableError,
    TooManyBadRowsError,
)
from aimass.ingest.load import load_history_unit, load_unit
from aimass.ingest.payload import Payload
from aimass.ingest.pii import pseudonymise_value
from aimass.ingest.result import LoadResult
from aimass.ingest.sync import load_history, sync_source

__all__ = [
    "ConnectionStateError",
    "IngestError",
    "LoadResult",
    "MissingPartitionError",
    "Payload",
    "SchemaDriftError",
    "SourceUnavailableError",
    "TooManyBadRowsError",
    "load_history",
    "load_history_unit",
    "load_unit",
    "pseudonymise_value",
    "run_source",
    "sync_source",
]
