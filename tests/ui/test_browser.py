"""The platform as a person uses it: real headless Chromium against the real Airflow web server.

Logs in, triggers the daily pipeline from the trigger form with a parameter and a logical date,
waits for the run to succeed, opens the AI Mass page inside the UI, checks what it shows and
saves a screenshot.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

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
    page.goto(f"{server.url}/dags/aimass_daily")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("datetime-input").click()
    picker = page.locator("[data-scope=popover][data-part=content]").last
    picker.get_by_placeholder("YYYY/MM/DD").fill(LOGICAL_DAY[0])
    picker.get_by_placeholder("HH:mm").fill(LOGICAL_DAY[1])
    dialog.get_by_text("Logical Date", exact=True).click()  # closes the picker
    force = dialog.locator("input[name=element_force_retrain]")
    force.locator("xpath=..").click()  # the switch control wrapping the hidden checkbox
    assert force.is_checked()
    dialog.get_by_role("button", name="Trigger").last.click()


def _wait_for_ui_run(server, timeout_s: float = 1200) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = server.api("GET", "/dags/aimass_daily/dagRuns").json()["dag_runs"]
        manual = [r for r in runs if r["logical_date"].startswith("2026-09-28")]
        if manual and manual[0]["state"] in ("success", "failed"):
            return manual[0]
        time.sleep(5)
    raise AssertionError("the run triggered from the UI did not finish")


def test_trigger_from_the_ui_and_open_the_ai_mass_page(page, airflow_server, tmp_path):
    _login(page, airflow_server)
    _trigger_with_parameters(page, airflow_server)
    run = _wait_for_ui_run(airflow_server)
    assert run["state"] == "success", airflow_server.failed_tasks(run["dag_run_id"])
    assert run["conf"]["force_retrain"] is True
    assert run["run_type"] == "manual"

    page.goto(f"{airflow_server.url}/plugin/aimass")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Model registry").wait_for(timeout=60_000)
    assert frame.locator("td.champion").count() >= 1
    assert frame.get_by_text("Latest purchase-propensity scores").is_visible()
    assert frame.locator("#scores + p + table tr").count() >= 2
    shots = Path(os.environ.get("AIMASS_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "ai-mass-page.png"), full_page=True)

    report_link = frame.get_by_role("link", name="open").first
    report_link.click()
    frame.get_by_text("ROC").first.wait_for(timeout=60_000)
