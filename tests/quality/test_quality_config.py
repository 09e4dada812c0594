"""Suite definitions, generated expectations, outcome flattening and messages (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aimass.contracts import load_contracts
from aimass.quality.config import (
    RAW_CHECKS,
    RowCount,
    TableSuite,
    expand_expectations,
    get_suite,
    load_suites,
)
from aimass.quality.context import sqlalchemy_url
from aimass.quality.outcomes import ExpectationOutcome, failure_message, outcome_from_gx
from aimass.quality.suites import (
    raw_source_expectations,
    row_count_bounds,
    table_expectations,
    to_gx_suite,
)


def test_columns_expand_to_one_expectation_per_column():
    specs = expand_expectations(
        [{"expect_column_values_to_be_between": {"columns": ["a", "b"], "min_value": 0}}]
    )
    assert [(s.type, s.kwargs) for s in specs] == [
        ("expect_column_values_to_be_between", {"column": "a", "min_value": 0}),
        ("expect_column_values_to_be_between", {"column": "b", "min_value": 0}),
    ]


@pytest.mark.parametrize("entry", ["expect_x", {"a": {}, "b": {}}])
def test_malformed_expectation_entries_are_rejected(entry):
    with pytest.raises(ValueError, match="exactly one key"):
        expand_expectations([entry])


def test_every_packaged_suite_builds_into_gx():
    suites = load_suites()
    assert {"raw", "features", "scores"} <= set(suites)
    for suite in suites.values():
        if isinstance(suite, TableSuite):
            specs = table_expectations(suite, row_bounds=(1, 10), expected_partition=date.today())
            assert len(to_gx_suite(suite.name, specs).expectations) == len(specs)
    features = suites["features"]
    assert features.qualified_table == "marts.fct_user_features_daily"
    assert (features.partition_column, features.partition_select) == ("as_of_date", "latest")
    assert suites["scores"].partition_select == "ds"
    assert suites["raw"].checks == frozenset(RAW_CHECKS)


def test_raw_expectations_follow_the_source_contract():
    contracts = load_contracts()
    orders = {
        (s.type, s.kwargs.get("column")): s.kwargs
        for s in raw_source_expectations(contracts["orders"], frozenset(RAW_CHECKS))
    }
    assert orders["expect_table_columns_to_match_set", None]["column_set"][:2] == [
        "order_id",
        "user_id",
    ]
    assert ("expect_column_values_to_not_be_null", "status") in orders
    assert ("expect_column_values_to_not_be_null", "coupon_id") not in orders
    assert ("expect_column_values_to_be_unique", "order_id") in orders
    assert orders["expect_column_values_to_be_between", "total_amount"] == {
        "column": "total_amount",
        "min_value": 0,
    }
    order_items = raw_source_expectations(
        contracts["order_items"], frozenset({"primary_key_unique"})
    )
    assert [(s.type, s.kwargs) for s in order_items] == [
        ("expect_compound_columns_to_be_unique", {"column_list": ["order_id", "line_no"]})
    ]
    every_source = [
        to_gx_suite(f"raw.{name}", raw_source_expectations(contract, frozenset(RAW_CHECKS)))
        for name, contract in contracts.items()
    ]
    assert all(len(suite.expectations) >= 3 for suite in every_source)


@pytest.mark.parametrize(
    ("rule", "previous", "bounds"),
    [
        (RowCount(min=1, max_change_vs_previous=0.2), 200, (160, 240)),
        (RowCount(min=1, max_change_vs_previous=0.2), None, (1, None)),
        (RowCount(min=5, max_change_vs_previous=0.5), 4, (5, 6)),
        (RowCount(min=1), 1000, (1, None)),
        (RowCount(min=1, max_change_vs_previous=0.2, min_previous_rows=100), 99, (1, None)),
        (RowCount(min=1, max_change_vs_previous=0.2, min_previous_rows=100), 100, (80, 120)),
    ],
)
def test_row_count_bounds(rule, previous, bounds):
    assert row_count_bounds(rule, previous) == bounds


def test_freshness_and_row_count_come_first():
    suite = get_suite("features")
    specs = table_expectations(suite, row_bounds=(160, 240), expected_partition=date(2024, 3, 10))
    assert specs[0].kwargs == {"min_value": 160, "max_value": 240}
    assert specs[1].type == "expect_column_max_to_be_between"
    assert specs[1].kwargs == {
        "column": "as_of_date",
        "min_value": date(2024, 3, 10),
        "max_value": date(2024, 3, 10),
    }


def test_unknown_expectation_type_is_named():
    specs = expand_expectations([{"expect_column_values_to_be_purple": {"column": "a"}}])
    with pytest.raises(
        ValueError, match="unknown expectation type 'expect_column_values_to_be_purple'"
    ):
        to_gx_suite("s", specs)


def test_invalid_suite_config_names_the_suite(tmp_path: Path):
    path = tmp_path / "expectations.yml"
    path.write_text("suites:\n  broken:\n    kind: table\n    table: no_schema\n")
    with pytest.raises(ValueError, match="suite 'broken' is invalid: table 'no_schema'"):
        load_suites(path)


def test_config_path_override(tmp_path: Path, monkeypatch):
    path = tmp_path / "mine.yml"
    path.write_text(
        "suites:\n  orders_only:\n    kind: raw_sources\n    checks: {primary_key_unique: true}\n"
    )
    monkeypatch.setenv("AIMASS_EXPECTATIONS_CONFIG", str(path))
    assert get_suite("orders_only").checks == frozenset({"primary_key_unique"})


def test_outcome_from_a_failed_column_map_result():
    result = {
        "success": False,
        "expectation_config": {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"batch_id": "b", "column": "user_id"},
        },
        "result": {
            "element_count": 10,
            "unexpected_count": 7,
            "unexpected_percent": 70.0,
            "partial_unexpected_index_list": [
                {"order_id": f"o{i}", "user_id": None} for i in range(7)
            ],
        },
        "exception_info": {"raised_exception": False},
    }
    outcome = outcome_from_gx("raw.orders", result, sample_size=5)
    assert outcome.column == "user_id" and outcome.kwargs == {"column": "user_id"}
    assert outcome.observed_value == {
        "element_count": 10,
        "unexpected_count": 7,
        "unexpected_percent": 70.0,
    }
    assert len(outcome.unexpected_sample) == 5 and outcome.unexpected_count == 7


def test_outcome_of_an_expectation_gx_could_not_evaluate():
    result = {
        "success": False,
        "expectation_config": {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "nope"},
        },
        "result": {},
        "exception_info": {"raised_exception": True, "exception_message": "column nope missing"},
    }
    outcome = outcome_from_gx("marts.t", result, sample_size=5)
    assert outcome.observed_value == {"error": "column nope missing"}
    assert "could not evaluate" in outcome.note


def test_failure_message_lists_each_failure_with_evidence_and_docs(tmp_path: Path):
    outcomes = [
        ExpectationOutcome("marts.t", "expect_table_row_count_to_be_between", None, {"min_value": 160}, False, 12),
        ExpectationOutcome(
            "marts.t", "expect_column_values_to_be_between", "orders_7d", {"column": "orders_7d", "min_value": 0},
            False, {"unexpected_count": 1}, 1, [{"user_id": "u1", "orders_7d": -1}],
        ),
        ExpectationOutcome("marts.t", "expect_column_values_to_not_be_null", "user_id", {}, True),
    ]  # fmt: skip
    message = failure_message("features", date(2024, 3, 10), outcomes, tmp_path / "index.html")
    lines = message.splitlines()
    assert (
        lines[0]
        == "Data-quality gate 'features' failed for ds=2024-03-10: 2 of 3 expectations failed."
    )
    assert lines[1].startswith("- marts.t: expect_table_row_count_to_be_between")
    assert "observed 12" in lines[1]
    assert 'on column orders_7d {"min_value": 0}' in lines[2]
    assert '[{"user_id": "u1", "orders_7d": -1}]' in lines[2]
    assert (tmp_path / "index.html").as_uri() in message
    assert "user_id" not in lines[1]


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("user=postgres dbname=wh host=127.0.0.1 port=5432", "postgresql+psycopg2://postgres@127.0.0.1:5432/wh"),
        ("postgresql://a:p%40ss@db:6432/wh?sslmode=require", "postgresql+psycopg2://a:p%40ss@db:6432/wh?sslmode=require"),
        ("dbname=wh host=/var/run/postgresql", "postgresql+psycopg2:///wh?host=%2Fvar%2Frun%2Fpostgresql"),
    ],
)  # fmt: skip
def test_sqlalchemy_url_from_libpq_forms(dsn, expected):
    url = sqlalchemy_url(dsn)
    assert url == expected
    assert make_url(url).drivername == "postgresql+psycopg2"
