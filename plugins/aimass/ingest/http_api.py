"""HTTP JSON API connector (ad platform, merchant platform) into the one load path.

`fetch_records` pulls one day of a resource page by page: bearer-token auth, cursor or page
pagination, HTTP 429 waits for `Retry-After`, 5xx and connection errors are retried with
bounded exponential backoff, 401/403 fail at once. `load_api_day` hands the records, as JSON
lines, to `load_unit`, the same validation/quarantine/COPY path files take.

The API contract (served by `aimass.sim.api_server`):
`GET {endpoint}/v1/{resource}?ds=YYYY-MM-DD&limit=N[&cursor=C | &page=P]` returns
`{"data": [...], "next_cursor": C | null}` or `{"data": [...], "page": P, "total_pages": T}`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from aimass.contracts import SourceContract
from aimass.ingest.errors import IngestError, SourceUnavailableError
from aimass.ingest.load import load_unit
from aimass.ingest.payload import Payload
from aimass.ingest.result import LoadResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiClient:
    """How to talk to one API: base URL, token, paging and retry policy."""

    endpoint: str
    token: str
    pagination: str = "cursor"
    page_size: int = 1000
    max_retries: int = 5
    timeout_s: float = 30.0
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0


def client_for(
    contract: SourceContract, *, endpoint: str | None = None, token: str | None = None
) -> ApiClient:
    """An `ApiClient` from the contract's `api:` settings; explicit arguments win, then the
    environment (`endpoint_env`, `token_env`), then the Airflow connection `conn_id`."""
    api = contract.api
    if api is None:
        raise IngestError(
            f"source {contract.name!r} has no `api:` settings; add them in sources.yml "
            "(resource, endpoint_env, token_env or conn_id)."
        )
    endpoint = endpoint or api.endpoint or _env(api.endpoint_env)
    token = token or _env(api.token_env)
    if (not endpoint or not token) and api.conn_id:
        conn_endpoint, conn_token = _airflow_connection(api.conn_id)
        endpoint, token = endpoint or conn_endpoint, token or conn_token
    if not endpoint:
        raise IngestError(
            f"source {contract.name!r}: no API endpoint; set ${api.endpoint_env} or the "
            f"Airflow connection {api.conn_id!r} (host, port, schema=http|https)."
        )
    if not token:
        raise SourceUnavailableError(
            f"source {contract.name!r}: no API token; set ${api.token_env} or the password of "
            f"the Airflow connection {api.conn_id!r}."
        )
    return ApiClient(
        endpoint=endpoint.rstrip("/"),
        token=token,
        pagination=api.pagination,
        page_size=api.page_size,
        max_retries=api.max_retries,
        timeout_s=api.timeout_s,
    )


def fetch_records(
    client: ApiClient, resource: str, ds: date, *, sleep: Callable[[float], None] = time.sleep
) -> list[dict]:
    """All records of `resource` for day `ds`, following the pagination to the end."""
    records: list[dict] = []
    params: dict[str, str | int] = {"ds": ds.isoformat(), "limit": client.page_size}
    if client.pagination == "page":
        params["page"] = 1
    while True:
        url = f"{client.endpoint}/v1/{resource}?{urllib.parse.urlencode(params)}"
        body = request_json(client, url, sleep=sleep)
        data = body.get("data")
        if not isinstance(data, list):
            raise IngestError(f"{url}: the response has no `data` list; is this the right API?")
        records.extend(data)
        if client.pagination == "page":
            if int(params["page"]) >= int(body.get("total_pages") or 0):
                return records
            params["page"] = int(params["page"]) + 1
        else:
            cursor = body.get("next_cursor")
            if not cursor:
                return records
            params["cursor"] = cursor


def request_json(
    client: ApiClient, url: str, *, sleep: Callable[[float], None] = time.sleep
) -> dict:
    """GET one URL with auth, retries and rate-limit handling; the decoded JSON body."""
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {client.token}", "Accept": "application/json"}
    )
    failures = 0
    while True:
        try:
            with urllib.request.urlopen(request, timeout=client.timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = _error_body(exc)
            if exc.code in (401, 403):
                raise SourceUnavailableError(
                    f"{url}: HTTP {exc.code} ({detail}); the API rejected the token. Check the "
                    "token in the environment variable or Airflow connection named in "
                    "sources.yml; retrying will not help."
                ) from exc
            if exc.code == 429:
                wait = _retry_after(exc.headers.get("Retry-After"), client)
            elif exc.code >= 500:
                wait = _backoff(client, failures)
            else:
                raise SourceUnavailableError(
                    f"{url}: HTTP {exc.code} ({detail}); check the resource name and "
                    "parameters in sources.yml."
                ) from exc
            reason = f"HTTP {exc.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            wait = _backoff(client, failures)
            reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        except json.JSONDecodeError as exc:
            raise IngestError(f"{url}: the response is not JSON ({exc}).") from exc
        failures += 1
        if failures > client.max_retries:
            raise SourceUnavailableError(
                f"{url}: gave up after {failures} attempts (last: {reason}). Check that the "
                "API is up; the run can be retried later."
            )
        log.warning("%s: %s; retry %d/%d in %.1fs", url, reason, failures, client.max_retries, wait)
        sleep(wait)


def records_payload(records: list[dict], uri: str) -> Payload:
    """JSON lines of the records, so they take the same parse path as a landed file."""
    lines = (json.dumps(r, separators=(",", ":"), default=str) for r in records)
    return Payload(uri=uri, format="jsonl", data="\n".join(lines).encode("utf-8"))


def load_api_day(
    conn,
    contract: SourceContract,
    ds: date,
    *,
    pii_key: bytes,
    client: ApiClient | None = None,
    force: bool = False,
) -> list[LoadResult]:
    """Fetch one day of an API source and load it as the unit (source, ds)."""
    client = client or client_for(contract)
    resource = contract.api.resource if contract.api else contract.name
    records = fetch_records(client, resource, ds)
    uri = f"{client.endpoint}/v1/{resource}?ds={ds.isoformat()}"
    return [
        load_unit(
            conn,
            contract,
            [records_payload(records, uri)],
            ds=ds,
            pii_key=pii_key,
            unit_uri=uri,
            force=force,
        )
    ]


def _backoff(client: ApiClient, failures: int) -> float:
    return min(client.max_backoff_s, client.backoff_s * 2**failures)


def _retry_after(value: str | None, client: ApiClient) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if value is None:
        return client.backoff_s
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is None:
            return client.backoff_s
        seconds = (parsed - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), client.max_retry_after_s)


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read().decode("utf-8", errors="replace")
    except OSError:
        return exc.reason or ""
    try:
        return str(json.loads(text).get("error", text))[:200]
    except (ValueError, AttributeError):
        return text[:200]


def _env(name: str | None) -> str | None:
    return os.environ.get(name) or None if name else None


def _airflow_connection(conn_id: str) -> tuple[str | None, str | None]:
    """(base URL, token) from an Airflow connection (its password is the token)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None, None
    if not conn.host:
        return None, conn.password
    scheme = conn.schema or "https"
    host = conn.host if "://" in conn.host else f"{scheme}://{conn.host}"
    port = f":{conn.port}" if conn.port else ""
    return f"{host}{port}", conn.password
