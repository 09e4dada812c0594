"""The platform as a person uses it: real headless Chromium against the real Airflow web server.

Logs in, triggers `aimass_ingest` from the trigger form with a parameter (the simulated shop's
size, picked from its drop-down) and a logical date, waits for it and for the asset-triggered `aimass_marts` and
`aimass_propensity` runs to succeed, opens the AI Mass page inside the UI, checks what it shows
(model registry with the champion and a report, the latest gate results and the Data Docs, the
score distribution, segment sizes) and saves a screenshot: `tests/ui/ai-mass-page.png` when
`AIMASS_SCREENSHOT_DIR=tests/ui`, else the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psycopg2
import pytest

from aimass.sim.config import load_shop_config

pytestmark = pytest.mark.slow

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOGICAL_DAY = ("2026/09/28", "00:00")  # the demo shop's last day
# the smallest shop with enough history to train on (tiny's 40 days are too few for the
# propensity model's windows)
SHOP_PROFILE = "demo"


def _chromium() -> str:
    for name in CHROMIUM_CANDIDATES:
        path = os.environ.get("AIMASS_CHROMIUM") or shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no Chromium on this machine: install Debian's package (`apt-get install chromium`, "
        "which `make test` does when run as root) or set AIMASS_CHROMIUM to a Chromium binary"
    )


@pytest.fixture
def page(airflow_server):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def _login(page, server) -> None:
    page.goto(f"{server.url}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/", timeout=60_000)


def _trigger_with_parameters(page, server) -> None:
    page.goto(f"{server.url}/dags/aimass_ingest")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("datetime-input").click()
    picker = page.locator("[data-scope=popover][data-part=content]").last
    picker.get_by_placeholder("YYYY/MM/DD").fill(LOGICAL_DAY[0])
    picker.get_by_placeholder("HH:mm").fill(LOGICAL_DAY[1])
    dialog.get_by_text("Logical Date", exact=True).click()  # closes the picker
    dialog.locator("#element_shop_profile").click()  # the parameter's drop-down
    page.get_by_role("option", name=SHOP_PROFILE, exact=True).click()
    assert dialog.locator("input[name=element_shop_profile]").input_value() == SHOP_PROFILE
    dialog.get_by_role("button", name="Trigger").last.click()


def _wait_for_ui_run(server, timeout_s: float = 600) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = server.api("GET", "/dags/aimass_ingest/dagRuns").json()["dag_runs"]
        manual = [r for r in runs if (r["logical_date"] or "").startswith("2026-09-28")]
        if manual and manual[0]["state"] in ("success", "failed"):
            return manual[0]
        time.sleep(5)
    raise AssertionError("the run triggered from the UI did not finish")


def _loaded_users(server) -> int:
    with psycopg2.connect(server.env["AIMASS_WAREHOUSE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("select count(distinct user_id) from raw.users")
        return cur.fetchone()[0]


def test_trigger_from_the_ui_and_open_the_ai_mass_page(page, airflow_server, tmp_path):
    _login(page, airflow_server)
    _trigger_with_parameters(page, airflow_server)
    run = _wait_for_ui_run(airflow_server)
    assert run["state"] == "success", airflow_server.failed_tasks(run["dag_run_id"])
    assert run["conf"]["shop_profile"] == SHOP_PROFILE
    assert run["run_type"] == "manual"
    assert _loaded_users(airflow_server) == load_shop_config(SHOP_PROFILE).n_users
    # the raw gate's asset event starts the marts, whose feature gate starts the model
    for dag_id in ("aimass_marts", "aimass_propensity"):
        follow = airflow_server.wait_for_asset_triggered_run(dag_id, after=run["queued_at"])
        assert follow["state"] == "success", (
            dag_id,
            airflow_server.failed_tasks(follow["dag_run_id"], dag_id),
        )

    page.goto(f"{airflow_server.url}/plugin/aimass")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Model registry").wait_for(timeout=60_000)
    assert frame.locator("td.champion").count() >= 1
    gates = frame.locator("#quality + table")
    for suite in ("raw", "features", "scores"):
        assert gates.get_by_role("cell", name=suite, exact=True).count() == 1, suite
    assert frame.get_by_role("link", name="Open the Data Docs").is_visible()
    assert frame.get_by_text("Latest purchase-propensity scores").is_visible()
    assert frame.get_by_text("Score date 2026-09-29").is_visible()
    assert frame.locator("#scores + p + table tr").count() >= 2
    assert frame.locator("#segments + table tr").count() >= 2
    shots = Path(os.environ.get("AIMASS_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "ai-mass-page.png"), full_page=True)

    frame.get_by_role("link", name="Open the Data Docs").click()
    # Static text of the Data Docs index: its tables are drawn by scripts from CDNs, which a
    # machine without internet access cannot load.
    frame.get_by_text("Data Docs autogenerated using").first.wait_for(timeout=60_000)
    page.goto(f"{airflow_server.url}/plugin/aimass")
    frame = page.frame_locator("iframe").first
    report_link = frame.get_by_role("link", name="open").first
    report_link.click()
    frame.get_by_text("ROC").first.wait_for(timeout=60_000)
