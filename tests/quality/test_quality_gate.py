"""The gate against real PostgreSQL tables: pass, fail with evidence, audit rows, Data Docs."""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg2
import pytest
from psycopg2.extensions import make_dsn, parse_dsn

from aimass.quality import DataQualityError, run_gate
from aimass.quality.config import expectations_config_path


def audit_rows(url, query="select * from audit.gx_validation_results", params=None):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_clean_feature_mart_passes_and_is_recorded(warehouse_url, clean_features, ds, docs_dir):
    result = run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    assert result.success and result.failed == []
    assert result.rows_validated == 210  # only the latest as_of_date
    assert result.evaluated == result.passed > 60
    rows = audit_rows(warehouse_url)
    assert len(rows) == result.evaluated
    assert {r["run_id"] for r in rows} == {result.run_id}
    assert all(r["success"] and r["suite"] == "features" and r["ds"] == ds for r in rows)
    row_count = next(r for r in rows if r["expectation"] == "expect_table_row_count_to_be_between")
    assert row_count["kwargs"] == {"min_value": 160, "max_value": 240}  # 200 ± 20 %
    assert row_count["observed_value"] is None  # evidence is collected for failing tables only
    index = docs_dir / "index.html"
    assert result.data_docs_index == index
    assert "features.fct_user_features_daily" in index.read_text()


def test_planted_bad_features_fail_with_named_expectations_and_sample_rows(
    warehouse_url, clean_features, ds, docs_dir
):
    latest = ds
    clean_features.execute(
        "update marts.fct_user_features_daily set orders_7d = -3 "
        "where user_id in ('u7', 'u8') and as_of_date = %s",
        latest,
    )
    clean_features.execute(
        "update marts.fct_user_features_daily set view_to_order_rate_90d = 1.7 "
        "where user_id = 'u9' and as_of_date = %s",
        latest,
    )
    clean_features.execute(
        "insert into marts.fct_user_features_daily "
        "select * from marts.fct_user_features_daily where user_id = 'u10' and as_of_date = %s",
        latest,
    )

    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    message = str(caught.value)
    assert "'features' failed" in message
    assert "expect_column_values_to_be_between on column orders_7d" in message
    assert '"user_id": "u7"' in message and '"orders_7d": -3' in message
    assert "on column view_to_order_rate_90d" in message and '"user_id": "u9"' in message
    assert "expect_compound_columns_to_be_unique on column user_id,as_of_date" in message
    assert "u10" in message
    assert (docs_dir / "index.html").as_uri() in message
    result = caught.value.result
    assert not result.success
    assert {(o.expectation, o.column) for o in result.failed} == {
        ("expect_column_values_to_be_between", "orders_7d"),
        ("expect_column_values_to_be_between", "view_to_order_rate_90d"),
        ("expect_compound_columns_to_be_unique", "user_id,as_of_date"),
    }
    failed_rows = audit_rows(
        warehouse_url,
        "select * from audit.gx_validation_results where not success order by expectation_no",
    )
    assert len(failed_rows) == 3
    orders = next(r for r in failed_rows if r["column_name"] == "orders_7d")
    assert orders["unexpected_count"] == 2
    assert {s["user_id"] for s in orders["unexpected_sample"]} == {"u7", "u8"}


def test_sample_is_capped_at_five_rows(warehouse_url, clean_features, ds, docs_dir):
    clean_features.execute("update marts.fct_user_features_daily set tenure_days = -1")
    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)
    (tenure,) = [o for o in caught.value.result.failed if o.column == "tenure_days"]
    assert tenure.unexpected_count == 210
    assert len(tenure.unexpected_sample) == 5


def test_row_count_collapse_against_previous_day_fails(tables, warehouse_url, ds, docs_dir):
    tables.features({ds - timedelta(days=1): 200, ds: 120})

    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    (failed,) = caught.value.result.failed
    assert failed.expectation == "expect_table_row_count_to_be_between"
    assert failed.observed_value == 120
    assert failed.kwargs == {"min_value": 160, "max_value": 240}
    assert "expect_table_row_count_to_be_between" in str(caught.value)


def test_newer_features_from_a_later_load_leave_the_day_checked(
    tables, warehouse_url, ds, docs_dir
):
    # a backfilled day built after the next day was loaded: the next as-of date exists already
    # (with a row count the day's bounds would refuse); the gate checks the day's own as-of date
    tables.features({ds - timedelta(days=1): 200, ds: 210, ds + timedelta(days=1): 20})

    result = run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    assert result.success and result.failed == []
    assert result.rows_validated == 210


def test_stale_feature_mart_fails_freshness(tables, warehouse_url, ds, docs_dir):
    yesterday = ds - timedelta(days=1)
    tables.features({yesterday - timedelta(days=1): 200, yesterday: 200})  # ds is missing

    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    (failed,) = caught.value.result.failed
    assert failed.expectation == "expect_column_max_to_be_between"
    assert failed.column == "as_of_date"
    assert failed.observed_value == yesterday.isoformat()
    assert f'"max_value": "{ds}"' in str(caught.value)


def test_missing_feature_mart_is_an_error(warehouse_url, ds, docs_dir):
    with pytest.raises(DataQualityError, match="marts.fct_user_features_daily does not exist"):
        run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)
    (row,) = audit_rows(warehouse_url)
    assert row["expectation"] == "expect_table_to_exist" and row["success"] is False


def test_raw_partition_passes_and_skips_absent_optional_source(tables, warehouse_url, ds, docs_dir):
    tables.raw_orders(ds, 300)
    tables.raw_orders(ds + timedelta(days=1), 5)  # same ids, another day
    tables.drop("raw", "feedback")

    result = run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)

    assert result.success
    assert result.rows_validated == 300
    assert "raw.feedback does not exist (optional source absent): skipped" in result.notes
    assert "raw.feedback" not in {o.table for o in result.outcomes}
    assert "raw.orders" in {o.table for o in result.outcomes}
    assert "raw.orders" in (docs_dir / "index.html").read_text()


def test_bad_raw_rows_fail_with_primary_keys_in_the_sample(tables, warehouse_url, ds, docs_dir):
    tables.raw_orders(ds, 50)
    tables.execute("update raw.orders set user_id = null where order_id = 'o3'")
    tables.execute("update raw.orders set total_amount = -1 where order_id = 'o4'")
    tables.execute("update raw.orders set order_id = 'o5' where order_id = 'o6'")

    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)

    failed = {(o.table, o.expectation, o.column): o for o in caught.value.result.failed}
    assert set(failed) == {
        ("raw.orders", "expect_column_values_to_not_be_null", "user_id"),
        ("raw.orders", "expect_column_values_to_be_between", "total_amount"),
        ("raw.orders", "expect_column_values_to_be_unique", "order_id"),
    }
    null_user = failed["raw.orders", "expect_column_values_to_not_be_null", "user_id"]
    assert null_user.unexpected_sample == [{"order_id": "o3", "user_id": None}]
    assert '"order_id": "o4"' in str(caught.value)


def test_absent_required_source_fails(tables, warehouse_url, ds, docs_dir):
    tables.drop("raw", "orders")
    with pytest.raises(DataQualityError, match="raw.orders does not exist but source 'orders'"):
        run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)


def test_raw_schema_drift_fails(tables, warehouse_url, ds, docs_dir):
    tables.execute("alter table raw.items drop column category")
    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)
    columns = next(
        o
        for o in caught.value.result.failed
        if o.expectation == "expect_table_columns_to_match_set"
    )
    assert columns.table == "raw.items"
    assert columns.unexpected_sample[0]["missing"] == ["category"]


def test_scores_gate(tables, warehouse_url, ds, docs_dir):
    tables.scores(ds, 100)
    assert run_gate(warehouse_url, "scores", ds=ds, data_docs_dir=docs_dir).success

    tables.execute("update ml.propensity_scores set probability = 1.2 where user_id = 'u1'")
    tables.execute("update ml.propensity_scores set decile = 0 where user_id = 'u2'")
    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "scores", ds=ds, data_docs_dir=docs_dir)
    assert {o.column for o in caught.value.result.failed} == {"probability", "decile"}

    with pytest.raises(DataQualityError, match="expect_table_row_count_to_be_between"):
        run_gate(warehouse_url, "scores", ds=ds + timedelta(days=1), data_docs_dir=docs_dir)


def test_rerun_keeps_history_and_latest_view_shows_last_run(
    warehouse_url, clean_features, ds, docs_dir
):
    first = run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)
    second = run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    history = audit_rows(warehouse_url, "select run_id from audit.gx_validation_results")
    latest = audit_rows(warehouse_url, "select run_id from audit.gx_validation_results_latest")
    assert len(history) == first.evaluated + second.evaluated
    assert {r["run_id"] for r in latest} == {second.run_id}
    assert len(latest) == second.evaluated


def test_password_never_reaches_gx_files(warehouse_url, clean_features, ds, docs_dir):
    url_with_password = make_dsn(**{**parse_dsn(warehouse_url), "password": "s3cret-pw-123"})
    run_gate(url_with_password, "features", ds=ds, data_docs_dir=docs_dir)
    gx_dir = docs_dir.parent
    written = [p for p in gx_dir.rglob("*") if p.is_file() and p.suffix in (".json", ".html")]
    assert written
    assert not [p for p in written if "s3cret-pw-123" in p.read_text(errors="ignore")]


def test_unknown_suite_lists_the_configured_ones(warehouse_url, ds):
    with pytest.raises(ValueError, match=r"unknown data-quality suite 'nope'.*'features'"):
        run_gate(warehouse_url, "nope", ds=ds)


def test_evidence_always_records_observed_values_of_passing_expectations(
    warehouse_url, clean_features, ds, docs_dir, tmp_path, monkeypatch
):
    packaged = expectations_config_path().read_text()
    assert "evidence: on_failure" in packaged
    config = tmp_path / "expectations.yml"
    config.write_text(packaged.replace("evidence: on_failure", "evidence: always"))
    monkeypatch.setenv("AIMASS_EXPECTATIONS_CONFIG", str(config))

    result = run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    assert result.success
    observed = {(o.expectation, o.column): o.observed_value for o in result.outcomes}
    assert observed["expect_table_row_count_to_be_between", None] == 210
    assert observed["expect_column_max_to_be_between", "as_of_date"] == ds.isoformat()
    assert observed["expect_column_values_to_not_be_null", "tenure_days"]["unexpected_count"] == 0


def test_small_previous_population_does_not_bound_the_change(tables, warehouse_url, ds, docs_dir):
    tables.features({ds - timedelta(days=1): 50, ds: 80})  # +60 %, but only 50 rows before

    result = run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)

    assert result.success
    assert any("has 50 rows, fewer than 100" in note for note in result.notes)


def test_gate_leaves_no_session_open(warehouse_url, clean_features, ds, docs_dir):
    run_gate(warehouse_url, "features", ds=ds, data_docs_dir=docs_dir)
    deadline = time.monotonic() + 10  # a closed session's backend exits asynchronously
    while True:
        with clean_features.conn.cursor() as cur:
            cur.execute(
                "select count(*), string_agg(state || ': ' || left(query, 80), ' | ') "
                "from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and backend_type = 'client backend'"
            )
            sessions, queries = cur.fetchone()
        clean_features.conn.rollback()
        if sessions == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sessions == 0, queries
