"""`inspect_export`: what an export holds and what stops its import, before anything is loaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from aimass.contracts import load_contracts
from aimass.history.inventory import ExportError, inspect_export

TODAY = date(2026, 12, 7)
ORDERS_HEADER = (
    "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
)


def order_line(i: int, ts: str) -> str:
    return f"o{i},u{i % 3},{ts},completed,{10 + i}.50,,,,"


def write(landing: Path, source: str, folder: str, name: str, lines: list[str], header: str):
    path = landing / source / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


@pytest.fixture
def contracts():
    return {name: c for name, c in load_contracts().items() if name in ("orders", "events")}


@pytest.fixture
def landing(tmp_path) -> Path:
    path = tmp_path / "landing"
    history = [order_line(i, f"2017-03-{1 + i % 5:02d}T10:00:00Z") for i in range(20)]
    write(path, "orders", "history", "part-0000.csv", history, ORDERS_HEADER)
    write(
        path,
        "orders",
        "2017-03-06",
        "part-0000.csv",
        [order_line(99, "2017-03-06T09:00:00Z")],
        ORDERS_HEADER,
    )
    return path


def test_a_clean_export_gives_its_days_and_no_problem(landing, contracts):
    inventory = inspect_export(landing.as_uri(), contracts, today=TODAY)
    assert inventory.problems == [] and inventory.warnings == []
    assert (inventory.first_day, inventory.last_day) == (date(2017, 3, 1), date(2017, 3, 6))
    orders = inventory.as_dict()["sources"]["orders"]
    assert orders["history_rows"] == 20 and orders["daily_partitions"] == 1
    assert orders["days_with_data"] == 6
    assert inventory.as_dict()["sources"]["events"]["days_with_data"] == 0
    inventory.raise_for_problems()


def test_rows_dated_after_today_stop_the_import_naming_count_and_date(landing, contracts):
    write(
        landing,
        "orders",
        "history",
        "part-0001.csv",
        [order_line(50, "2030-01-02T10:00:00Z"), order_line(51, "2031-05-01 08:00:00+00:00")],
        ORDERS_HEADER,
    )
    write(landing, "orders", "2027-01-01", "part-0000.csv", [], ORDERS_HEADER)
    inventory = inspect_export(landing.as_uri(), contracts, today=TODAY)
    (problem,) = inventory.problems
    assert "2 rows of the history export have order_ts after today (2026-12-07)" in problem
    assert "up to 2031-05-01" in problem
    assert "daily partitions are dated after today: 2027-01-01" in problem
    with pytest.raises(ExportError, match="Nothing was loaded"):
        inventory.raise_for_problems()


def test_a_day_both_in_history_and_in_a_daily_partition_stops_the_import(landing, contracts):
    write(
        landing,
        "orders",
        "2017-03-02",
        "part-0000.csv",
        [order_line(70, "2017-03-02T09:00:00Z")],
        ORDERS_HEADER,
    )
    (problem,) = inspect_export(landing.as_uri(), contracts, today=TODAY).problems
    assert problem.startswith("orders: 1 day(s) are both in")
    assert "2017-03-02" in problem and "Each day must come from one place" in problem


def test_timestamps_without_a_zone_are_read_as_utc_with_a_warning(tmp_path, contracts):
    landing = tmp_path / "landing"
    lines = [order_line(1, "2017-03-01 10:00:00"), order_line(2, "2017-03-01T11:00:00+01:00")]
    write(landing, "orders", "history", "orders.csv", lines, ORDERS_HEADER)
    inventory = inspect_export(landing.as_uri(), contracts, today=TODAY)
    assert inventory.problems == []
    (warning,) = inventory.warnings
    assert "1 of 2 order_ts values in the history export have no zone offset" in warning
    assert "read as UTC" in warning


def test_a_csv_without_header_row_is_refused_with_what_to_do(tmp_path, contracts):
    landing = tmp_path / "landing"
    path = landing / "orders" / "history" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        order_line(1, "2017-03-01T10:00:00Z") + "\n" + order_line(2, "2017-03-01T11:00:00Z") + "\n"
    )
    problems = inspect_export(landing.as_uri(), contracts, today=TODAY).problems
    assert len(problems) == 1
    assert "names none of the columns of source 'orders'" in problems[0]
    assert "every file needs a header row" in problems[0] and ORDERS_HEADER in problems[0]


def test_a_semicolon_separated_csv_is_refused_naming_the_delimiter(tmp_path, contracts):
    landing = tmp_path / "landing"
    lines = [order_line(1, "2017-03-01T10:00:00Z").replace(",", ";")]
    write(landing, "orders", "history", "orders.csv", lines, ORDERS_HEADER.replace(",", ";"))
    (problem,) = inspect_export(landing.as_uri(), contracts, today=TODAY).problems
    assert "separated by semicolons" in problem and "comma separated" in problem


def test_no_orders_at_all_is_refused(tmp_path, contracts):
    landing = tmp_path / "landing"
    (landing / "events" / "history").mkdir(parents=True)
    (problem,) = inspect_export(landing.as_uri(), contracts, today=TODAY).problems
    assert problem.startswith("orders: the required source has no data")


def test_files_the_loader_ignores_and_rows_without_a_day_are_reported(landing, contracts):
    (landing / "orders" / "history" / "more.csv.gz").write_bytes(b"\x1f\x8b")
    (landing / "orders" / "history" / "_SUCCESS").write_text("")
    (landing / "orders" / "2017-03-07").mkdir()
    write(landing, "orders", "history", "part-0002.csv", [order_line(80, "")], ORDERS_HEADER)
    inventory = inspect_export(landing.as_uri(), contracts, today=TODAY)
    assert inventory.problems == []
    ignored, empty_folder, no_day = inventory.warnings
    assert "ignores (more.csv.gz)" in ignored and "_SUCCESS" not in ignored
    assert "daily folders without part-*.csv files are skipped: 2017-03-07" in empty_folder
    assert "1 rows of the history export have no usable order_ts" in no_day
