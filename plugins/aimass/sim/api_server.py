"""A small real HTTP JSON API serving the simulated ad and merchant platforms.

Loopback only (127.0.0.1), port 0 picks a free port. Bearer-token auth, cursor or page
pagination, and optional misbehaviour for tests and demos: a rate limit (HTTP 429 with
`Retry-After`) and scripted faults (e.g. `[500, 429]` for the first two requests).

    with serve_api(resources_from_frames(frames), token="t") as api:
        api.url  # http://127.0.0.1:<port>

    python -m aimass.sim.api_server --profile tiny --token secret --port 8765
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pandas as pd

from aimass.contracts import SourceContract, load_contracts

LOOPBACK = "127.0.0.1"
API_SOURCES = ("ad_campaigns", "ad_events", "merchants")
MAX_PAGE_SIZE = 10_000

DayRecords = Callable[[date], list[dict]]


@dataclass
class ApiBehaviour:
    """Misbehaviour: `faults` are status codes answered to the first requests, in order;
    `rate_limit_per_s` answers 429 when requests come faster; `retry_after_s` is the
    `Retry-After` sent with every 429."""

    faults: list[int] = field(default_factory=list)
    rate_limit_per_s: float | None = None
    retry_after_s: int = 1


@dataclass(frozen=True)
class RequestRecord:
    at: float
    path: str
    status: int


class ApiServer:
    """A running API server; `url`, `requests` (what it answered) and `stop()`."""

    def __init__(
        self,
        resources: Mapping[str, DayRecords],
        *,
        token: str,
        port: int = 0,
        behaviour: ApiBehaviour | None = None,
        pagination: str = "cursor",
    ):
        if pagination not in ("cursor", "page"):
            raise ValueError("pagination must be 'cursor' or 'page'")
        self.resources = dict(resources)
        self.token = token
        self.behaviour = behaviour or ApiBehaviour()
        self.pagination = pagination
        self.requests: list[RequestRecord] = []
        self._faults = list(self.behaviour.faults)
        self._last_request = -math.inf
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, date], list[dict]] = {}
        self._httpd = ThreadingHTTPServer((LOOPBACK, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def answer(self, path: str, query: dict[str, list[str]], auth: str | None):
        """(status, headers, body) for one GET request."""
        with self._lock:
            if auth != f"Bearer {self.token}":
                return 401, {}, {"error": "missing or invalid bearer token"}
            if self._faults:
                status = self._faults.pop(0)
                if status == 429:
                    return 429, self._retry_after(), {"error": "rate limited"}
                return status, {}, {"error": f"injected fault {status}"}
            now = time.monotonic()
            limit = self.behaviour.rate_limit_per_s
            if limit and now - self._last_request < 1.0 / limit:
                return 429, self._retry_after(), {"error": "rate limited"}
            self._last_request = now
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "v1" or parts[1] not in self.resources:
            return 404, {}, {"error": f"unknown resource {path}; have {sorted(self.resources)}"}
        try:
            ds = date.fromisoformat(query["ds"][0])
            limit_rows = min(int(query.get("limit", ["1000"])[0]), MAX_PAGE_SIZE)
            if limit_rows <= 0:
                raise ValueError("limit must be positive")
        except (KeyError, ValueError) as exc:
            return 400, {}, {"error": f"bad query ({exc}); need ds=YYYY-MM-DD and limit>0"}
        records = self._records(parts[1], ds)
        if self.pagination == "page":
            page = int(query.get("page", ["1"])[0])
            start = (page - 1) * limit_rows
            total_pages = max(1, math.ceil(len(records) / limit_rows))
            body = {
                "data": records[start : start + limit_rows],
                "page": page,
                "total_pages": total_pages,
            }
        else:
            start = _decode_cursor(query.get("cursor", [None])[0])
            end = start + limit_rows
            body = {
                "data": records[start:end],
                "next_cursor": _encode_cursor(end) if end < len(records) else None,
            }
        return 200, {}, body

    def _records(self, resource: str, ds: date) -> list[dict]:
        key = (resource, ds)
        if key not in self._cache:
            self._cache[key] = self.resources[resource](ds)
        return self._cache[key]

    def _retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(self.behaviour.retry_after_s)}


@contextmanager
def serve_api(
    resources: Mapping[str, DayRecords],
    *,
    token: str,
    port: int = 0,
    behaviour: ApiBehaviour | None = None,
    pagination: str = "cursor",
) -> Iterator[ApiServer]:
    """Run an `ApiServer` for the duration of the block."""
    server = ApiServer(
        resources, token=token, port=port, behaviour=behaviour, pagination=pagination
    ).start()
    try:
        yield server
    finally:
        server.stop()


def resources_from_frames(
    frames: Mapping[str, pd.DataFrame],
    contracts: Mapping[str, SourceContract] | None = None,
) -> dict[str, DayRecords]:
    """Serve each frame by day: event sources the rows of that UTC day (partition column);
    snapshot sources the latest version per key of everything updated by the day's end."""
    contracts = contracts or load_contracts()
    return {name: _day_records(frame, contracts[name]) for name, frame in frames.items()}


def _day_records(frame: pd.DataFrame, contract: SourceContract) -> DayRecords:
    def records(ds: date) -> list[dict]:
        start = pd.Timestamp(ds, tz="UTC")
        end = start + timedelta(days=1)
        if contract.is_snapshot:
            column = contract.incremental_column
            rows = frame[frame[column] < end] if column else frame
            rows = rows.sort_values(column, kind="stable") if column else rows
            rows = rows.drop_duplicates(list(contract.primary_key), keep="last")
        else:
            stamps = frame[contract.partition]
            rows = frame[(stamps >= start) & (stamps < end)]
        return json.loads(rows.to_json(orient="records", date_format="iso", date_unit="us"))

    return records


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o:"))
    except ValueError:
        return 0


def _handler_for(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlparse(self.path)
            status, headers, body = server.answer(
                url.path, parse_qs(url.query), self.headers.get("Authorization")
            )
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            with server._lock:
                server.requests.append(RequestRecord(time.monotonic(), self.path, status))

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
            pass

    return Handler


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a simulated shop's ad and merchant platforms until interrupted."""
    from aimass.sim.config import load_shop_config
    from aimass.sim.generate import simulate_shop

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--until", type=date.fromisoformat, default=None)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pagination", choices=("cursor", "page"), default="cursor")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    parser.add_argument("--faults", default="", help="comma-separated statuses, e.g. 500,429")
    args = parser.parse_args(argv)
    from aimass.sim.generate import to_frame

    shop = simulate_shop(load_shop_config(args.profile), until=args.until)
    frames = {name: to_frame(shop.landing[name].table) for name in API_SOURCES}
    behaviour = ApiBehaviour(
        faults=[int(s) for s in args.faults.split(",") if s.strip()],
        rate_limit_per_s=args.rate_limit,
    )
    with serve_api(
        resources_from_frames(frames),
        token=args.token,
        port=args.port,
        behaviour=behaviour,
        pagination=args.pagination,
    ) as api:
        print(f"serving {', '.join(API_SOURCES)} at {api.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
