"""HTTP API connector against the real simulated API server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import socket
from datetime import date

import pandas as pd
import pytest

from aimass.ingest import SourceUnavailableError, run_source
from aimass.ingest.http_api import ApiClient, fetch_records
from aimass.settings import Settings
from aimass.sim.api_server import ApiBehaviour, resources_from_frames, serve_api
from tests.ingest.helpers import DAY, PII_KEY, rows

TOKEN = "test-token-123"


def ad_events_frame() -> pd.DataFrame:
    stamps = pd.to_datetime(
        [
            "2024-03-01 23:00:00",
            "2024-03-02 01:00:00",
            "2024-03-02 02:00:00",
            "2024-03-02 03:00:00",
            "2024-03-02 04:00:00",
            "2024-03-03 00:30:00",
        ],
        utc=True,
    )
    return pd.DataFrame(
        {
            "ad_event_id": [f"a{i}" for i in range(6)],
            "event_ts": stamps,
            "campaign_id": ["c1"] * 6,
            "user_id": ["u1", "u2", "u3", "u4", "u5", "u6"],
            "event_type": ["click"] * 6,
            "item_id": [None, "i1", None, "i2", None, None],
            "cost": [0.5, 0.25, -1.0, 0.1, 0.2, 0.3],
        }
    )


def merchants_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "merchant_id": ["m1", "m1", "m2", "m3"],
            "name": ["Old name", "New name", "Shop 2", "Future"],
            "shop_rating": [4.0, 4.5, 3.5, 5.0],
            "service_score": [4.0, 4.0, 3.0, 5.0],
            "delivery_score": [4.0, 4.0, 3.0, 5.0],
            "review_count": [10, 12, 3, 0],
            "opened_at": pd.to_datetime(["2020-01-01"] * 4, utc=True),
            "updated_at": pd.to_datetime(
                ["2024-02-01 00:00", "2024-03-02 12:00", "2024-01-01 00:00", "2024-03-05 00:00"],
                utc=True,
            ),
        }
    )


@pytest.fixture
def frames():
    return {"ad_events": ad_events_frame(), "merchants": merchants_frame()}


def client(url: str, **overrides) -> ApiClient:
    settings = {
        "endpoint": url,
        "token": TOKEN,
        "page_size": 2,
        "max_retries": 3,
        "backoff_s": 0.05,
        "timeout_s": 5.0,
    }
    return ApiClient(**{**settings, **overrides})


@pytest.mark.parametrize("pagination", ["cursor", "page"])
def test_pagination_returns_every_record_of_the_day(frames, pagination):
    with serve_api(resources_from_frames(frames), token=TOKEN, pagination=pagination) as api:
        records = fetch_records(client(api.url, pagination=pagination), "ad_events", DAY)
    assert [r["ad_event_id"] for r in records] == ["a1", "a2", "a3", "a4"]
    assert [r.status for r in api.requests] == [200, 200]


def test_rate_limit_waits_for_retry_after(frames):
    behaviour = ApiBehaviour(faults=[429], retry_after_s=1)
    with serve_api(resources_from_frames(frames), token=TOKEN, behaviour=behaviour) as api:
        records = fetch_records(client(api.url, page_size=100), "ad_events", DAY)
    assert len(records) == 4
    limited, answered = api.requests
    assert (limited.status, answered.status) == (429, 200)
    assert answered.at - limited.at >= 1.0


def test_rate_limit_per_second_is_honoured(frames):
    behaviour = ApiBehaviour(rate_limit_per_s=4, retry_after_s=1)
    with serve_api(resources_from_frames(frames), token=TOKEN, behaviour=behaviour) as api:
        records = fetch_records(client(api.url, page_size=1), "ad_events", DAY)
    assert len(records) == 4
    assert [r.status for r in api.requests].count(200) == 4


def test_server_errors_are_retried_with_backoff(frames):
    behaviour = ApiBehaviour(faults=[500, 503])
    with serve_api(resources_from_frames(frames), token=TOKEN, behaviour=behaviour) as api:
        records = fetch_records(client(api.url, page_size=100), "ad_events", DAY)
    assert len(records) == 4
    assert [r.status for r in api.requests] == [500, 503, 200]
    gaps = [b.at - a.at for a, b in zip(api.requests, api.requests[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # exponential backoff


def test_retries_are_bounded(frames):
    behaviour = ApiBehaviour(faults=[500] * 10)
    with serve_api(resources_from_frames(frames), token=TOKEN, behaviour=behaviour) as api:
        with pytest.raises(SourceUnavailableError, match="gave up after 3 attempts.*HTTP 500"):
            fetch_records(client(api.url, max_retries=2), "ad_events", DAY)
    assert len(api.requests) == 3


def test_bad_token_fails_at_once_with_a_clear_message(frames):
    with serve_api(resources_from_frames(frames), token=TOKEN) as api:
        with pytest.raises(SourceUnavailableError, match="HTTP 401.*rejected the token"):
            fetch_records(client(api.url, token="wrong"), "ad_events", DAY)
    assert [r.status for r in api.requests] == [401]


def test_unreachable_api_is_retried_then_reported():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailableError, match="gave up after 2 attempts"):
        fetch_records(client(f"http://127.0.0.1:{port}", max_retries=1), "ad_events", DAY)


def test_run_source_loads_an_api_source_through_the_file_path(
    warehouse, contracts, frames, monkeypatch
):
    monkeypatch.setenv("AIMASS_ADS_API_TOKEN", TOKEN)
    monkeypatch.setenv("AIMASS_MERCHANT_API_TOKEN", TOKEN)
    settings = Settings(
        home=None, warehouse_url=None, landing_uri="unused", pii_key=PII_KEY.decode()
    )
    ad_events = dataclasses.replace(contracts["ad_events"], kind="api", max_bad_fraction=0.5)
    merchants = dataclasses.replace(contracts["merchants"], kind="api")
    with serve_api(resources_from_frames(frames), token=TOKEN) as api:
        monkeypatch.setenv("AIMASS_ADS_API_URL", api.url)
        monkeypatch.setenv("AIMASS_MERCHANT_API_URL", api.url)
        (result,) = run_source(warehouse, ad_events, DAY, settings)
        (unchanged,) = run_source(warehouse, ad_events, DAY, settings)
        run_source(warehouse, merchants, DAY, settings)
    assert (result.status, result.rows_in, result.rows_loaded, result.rows_rejected) == (
        "loaded",
        4,
        3,
        1,
    )
    assert unchanged.status == "skipped"
    assert result.source_uri == f"{api.url}/v1/ad_events?ds=2024-03-02"
    assert rows(warehouse, "select ad_event_id, cost::text, _ds from raw.ad_events order by 1") == [
        ("a1", "0.25", DAY),
        ("a3", "0.1", DAY),
        ("a4", "0.2", DAY),
    ]
    assert rows(warehouse, "select _reason from quarantine.ad_events") == [
        ("negative value in cost",)
    ]
    assert rows(warehouse, "select merchant_id, name from raw.merchants order by 1") == [
        ("m1", "New name"),
        ("m2", "Shop 2"),
    ]
    assert rows(
        warehouse,
        "select source, rows_in, rows_loaded + rows_rejected from "
        "raw._load_log where status = 'loaded' order by 1",
    ) == [("ad_events", 4, 4), ("merchants", 2, 2)]


def test_the_server_only_listens_on_loopback(frames):
    with serve_api(resources_from_frames(frames), token=TOKEN) as api:
        assert api.url.startswith("http://127.0.0.1:")
    assert date(2024, 3, 2) == DAY
