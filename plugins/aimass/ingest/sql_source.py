"""SQL connector: incremental extract of an OLTP table by its `updated_at` watermark.

The watermark of each source lives in the warehouse (`raw._watermarks`): the exclusive upper
bound, always a UTC midnight, of what was extracted. A run for day `ds` extracts the rows with
`watermark <= updated_at < ds + 1 day` (everything on the first run) with `COPY ... TO
STDOUT` and loads them through the same validation/quarantine/COPY path as files, one unit
per UTC day of `updated_at` (whole days only, so replacing a day is always complete; days of
the window that no longer have rows are emptied). The watermark then moves to `ds + 1 day`,
or to today's midnight when `ds` is still running. `force` re-extracts from the beginning,
so raw then holds exactly what one first extract would give.
"""

from __future__ import annotations

import io
import logging
import os
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from aimass.contracts import SourceContract
from aimass.ingest.errors import IngestError, SchemaDriftError, SourceUnavailableError
from aimass.ingest.load import load_history_unit
from aimass.ingest.payload import Payload
from aimass.ingest.result import LoadResult
from aimass.ingest.unit_tx import transaction

log = logging.getLogger(__name__)

WATERMARKS_DDL = """
create table if not exists raw._watermarks (
    source text primary key,
    watermark timestamptz not null,
    updated_at timestamptz not null default now()
)
"""


def source_dsn(contract: SourceContract, dsn: str | None = None) -> str:
    """The source database DSN: explicit, else `$dsn_env`, else the Airflow connection."""
    settings = contract.sql
    if settings is None:
        raise IngestError(
            f"source {contract.name!r} has no `sql:` settings; add table and dsn_env or "
            "conn_id in sources.yml."
        )
    dsn = dsn or (os.environ.get(settings.dsn_env) if settings.dsn_env else None)
    if not dsn and settings.conn_id:
        dsn = _airflow_dsn(settings.conn_id)
    if not dsn:
        raise IngestError(
            f"source {contract.name!r}: no source database; set ${settings.dsn_env} or the "
            f"Airflow connection {settings.conn_id!r}."
        )
    return dsn


def extract_changes(
    dsn: str, contract: SourceContract, *, since: datetime | None, until: datetime
) -> tuple[Payload, list[str]]:
    """CSV of the contract columns of rows with `since <= updated_at < until`, and warnings."""
    table = contract.sql.table
    column = contract.incremental_column
    conn = connect_source(dsn, contract)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("set timezone to 'UTC'")
            present = _table_columns(cur, table)
            if not present:
                raise IngestError(
                    f"source {contract.name!r}: table {table} does not exist in the source "
                    f"database ({_where(dsn)}); check `sql.table` in sources.yml."
                )
            missing = [c.name for c in contract.columns if c.name not in present]
            required = [c.name for c in contract.columns if c.required and c.name in missing]
            if required or column in missing:
                raise SchemaDriftError(
                    f"source {contract.name!r}: table {table} lacks columns "
                    f"{sorted(set(required) | ({column} & set(missing)))}; fix the source or the "
                    "contract in sources.yml."
                )
            warnings = [f"{table}: columns {missing} absent; loaded as null."] if missing else []
            select = sql.SQL(", ").join(
                sql.Identifier(c.name)
                if c.name not in missing
                else sql.SQL("null::text as {}").format(sql.Identifier(c.name))
                for c in contract.columns
            )
            bounds = sql.SQL("{col} < %(until)s").format(col=sql.Identifier(column))
            if since is not None:
                bounds = (
                    sql.SQL("{col} >= %(since)s and ").format(col=sql.Identifier(column)) + bounds
                )
            query = sql.SQL("select {} from {} where {} order by {}").format(
                select,
                _qualified(table),
                bounds,
                sql.SQL(", ").join(sql.Identifier(c) for c in (column, *contract.primary_key)),
            )
            query_text = cur.mogrify(query, {"since": since, "until": until}).decode()
            out = io.BytesIO()
            cur.copy_expert(f"copy ({query_text}) to stdout with (format csv, header true)", out)
    except psycopg2.OperationalError as exc:
        raise _unavailable(contract, dsn, exc) from exc
    finally:
        conn.close()
    uri = f"{_where(dsn)}/{table}?since={since.isoformat() if since else ''}&until={until.isoformat()}"
    return Payload(uri=uri, format="csv", data=out.getvalue()), warnings


def load_sql_changes(
    conn,
    contract: SourceContract,
    ds: date,
    *,
    pii_key: bytes,
    dsn: str | None = None,
    force: bool = False,
) -> list[LoadResult]:
    """Extract what changed since the watermark up to the end of `ds` and load it by day.

    `force` re-extracts from the beginning (every day is replaced)."""
    started = time.monotonic()
    dsn = source_dsn(contract, dsn)
    ensure_watermarks(conn)
    watermark = None if force else get_watermark(conn, contract.name)
    until = datetime.combine(ds + timedelta(days=1), dtime(), tzinfo=UTC)
    if watermark is not None and watermark >= until:
        return [
            LoadResult(
                contract.name,
                ds,
                None,
                "skipped",
                source_uri=_where(dsn),
                duration_s=time.monotonic() - started,
                message=f"already extracted up to {watermark.isoformat()}",
            )
        ]
    payload, warnings = extract_changes(dsn, contract, since=watermark, until=until)
    for message in warnings:
        log.warning("%s: %s", contract.name, message)
    results = load_history_unit(
        conn,
        contract,
        [payload],
        pii_key=pii_key,
        unit_uri=payload.uri.split("?")[0],
        day_column=contract.incremental_column,
        also_replace=loaded_days(conn, contract.name, since=watermark, until=until),
    )
    today = datetime.combine(datetime.now(UTC).date(), dtime(), tzinfo=UTC)
    set_watermark(conn, contract.name, min(until, max(today, watermark or today)))
    if not results:
        results = [
            LoadResult(
                contract.name,
                ds,
                None,
                "skipped",
                source_uri=payload.uri,
                duration_s=time.monotonic() - started,
                message="no changes since the watermark",
            )
        ]
    return results


def loaded_days(conn, source: str, *, since: datetime | None, until: datetime) -> list[date]:
    """Days of `raw.<source>` inside the extract window: the extract replaces all of them."""
    with transaction(conn) as cur:
        cur.execute(
            sql.SQL("select distinct _ds from raw.{} where _ds >= %s and _ds < %s").format(
                sql.Identifier(source)
            ),
            ((since or datetime.min.replace(tzinfo=UTC)).date(), until.date()),
        )
        return sorted(r[0] for r in cur.fetchall())


def ensure_watermarks(conn) -> None:
    with transaction(conn) as cur:
        cur.execute(WATERMARKS_DDL)


def get_watermark(conn, source: str) -> datetime | None:
    with transaction(conn) as cur:
        cur.execute("select watermark from raw._watermarks where source = %s", (source,))
        row = cur.fetchone()
        return row[0] if row else None


def set_watermark(conn, source: str, watermark: datetime) -> None:
    """Move the watermark forward (never back)."""
    with transaction(conn) as cur:
        cur.execute(
            """insert into raw._watermarks (source, watermark) values (%s, %s)
               on conflict (source) do update
               set watermark = greatest(raw._watermarks.watermark, excluded.watermark),
                   updated_at = now()""",
            (source, watermark),
        )


def connect_source(dsn: str, contract: SourceContract):
    """A connection to the source database, or a `SourceUnavailableError` saying why not."""
    try:
        return psycopg2.connect(dsn, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise _unavailable(contract, dsn, exc) from exc


def _unavailable(contract, dsn, exc) -> SourceUnavailableError:
    env = contract.sql.dsn_env if contract.sql else None
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SourceUnavailableError(
        f"source {contract.name!r}: cannot reach the source database at {_where(dsn)} "
        f"({first_line}). Check that it is running and that "
        f"{'$' + env if env else 'its DSN'} points to it; the run can be retried."
    )


def _table_columns(cur, table: str) -> set[str]:
    schema, _, name = table.rpartition(".")
    cur.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema or "public", name),
    )
    return {r[0] for r in cur.fetchall()}


def _qualified(table: str) -> sql.Composable:
    return sql.SQL(".").join(sql.Identifier(p) for p in table.split("."))


def _where(dsn: str) -> str:
    """host:port/dbname of a DSN, without credentials."""
    params = parse_dsn(dsn)
    return (
        f"postgresql://{params.get('host', 'localhost')}:{params.get('port', '5432')}/"
        f"{params.get('dbname', '')}"
    )


def _airflow_dsn(conn_id: str) -> str | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    params = {
        "host": conn.host,
        "port": str(conn.port) if conn.port else None,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema,
    }
    return make_dsn(**{k: v for k, v in params.items() if v})
