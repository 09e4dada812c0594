"""aimass.transform: connection settings for dbt, project discovery, failures as DbtError."""

from __future__ import annotations

import pytest

from aimass import transform
from aimass.transform import DbtError, dbt_env, dbt_var, project_dir, run_dbt
from tests.dbt.dbt_raw_loader import load_raw
from tests.dbt.dbt_shop_fixture import build_shop


def test_dbt_env_from_a_url():
    env = dbt_env("postgresql://analyst:s3cret@db.example.internal:6543/shop")
    assert env == {
        "AIMASS_DBT_HOST": "db.example.internal",
        "AIMASS_DBT_PORT": "6543",
        "AIMASS_DBT_USER": "analyst",
        "AIMASS_DBT_PASSWORD": "s3cret",
        "AIMASS_DBT_DBNAME": "shop",
    }


def test_dbt_env_from_a_key_value_dsn_defaults_port_and_password():
    env = dbt_env("host=127.0.0.1 user=postgres dbname=aimass")
    assert env["AIMASS_DBT_PORT"] == "5432"
    assert env["AIMASS_DBT_PASSWORD"] == ""
    assert env["AIMASS_DBT_DBNAME"] == "aimass"


@pytest.mark.parametrize(
    ("url", "message"),
    [("postgresql://localhost:5432", "names no dbname"), ("not a dsn", "cannot parse")],
)
def test_dbt_env_rejects_unusable_urls(url, message):
    with pytest.raises(ValueError, match=message):
        dbt_env(url)


def test_profiles_read_only_environment_variables():
    profiles = (project_dir() / "profiles.yml").read_text()
    for name in ("HOST", "PORT", "USER", "PASSWORD", "DBNAME"):
        assert f"env_var('AIMASS_DBT_{name}'" in profiles
    assert "password: \"{{ env_var('AIMASS_DBT_PASSWORD', '') }}\"" in profiles


def test_project_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv(transform.PROJECT_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="AIMASS_DBT_PROJECT_DIR"):
        project_dir()
    (tmp_path / "dbt_project.yml").write_text("name: other\n")
    assert project_dir() == tmp_path


def test_dbt_var_reads_the_project_default(monkeypatch, tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: other\nvars:\n  lookback_days: 4\n")
    monkeypatch.setenv(transform.PROJECT_DIR_ENV, str(tmp_path))
    assert dbt_var("lookback_days") == 4


def test_aimass_dbt_vars_set_a_var_for_every_run(monkeypatch, tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: other\nvars:\n  lookback_days: 4\n")
    monkeypatch.setenv(transform.PROJECT_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(transform.VARS_ENV, '{"lookback_days": 2}')
    assert dbt_var("lookback_days") == 2


@pytest.mark.parametrize("value", ["lookback_days=2", "[2]", '{"lookback_days": 2'])
def test_aimass_dbt_vars_that_are_not_a_json_object_are_refused(monkeypatch, value):
    monkeypatch.setenv(transform.VARS_ENV, value)
    with pytest.raises(ValueError, match="AIMASS_DBT_VARS must be a JSON object of dbt vars"):
        dbt_var("lookback_days")


@pytest.mark.slow
def test_aimass_dbt_vars_reach_dbt_under_the_vars_of_the_call(monkeypatch, empty_db_url):
    monkeypatch.setenv(transform.VARS_ENV, '{"lookback_days": 9, "label_horizon_days": 3}')
    inline = "select {{ var('lookback_days') }} as lb, {{ var('label_horizon_days') }} as h"
    compiled = run_dbt(
        ["compile", "--inline", inline], empty_db_url, vars={"label_horizon_days": 5}
    )
    assert "select 9 as lb, 5 as h" in compiled.output


@pytest.mark.slow
def test_a_failing_model_raises_dbt_error_naming_the_node(empty_db_url):
    """fct_events alone on a database without its staging model fails, and says why."""
    with pytest.raises(DbtError) as raised:
        run_dbt(["run", "--select", "fct_events"], empty_db_url)
    error = raised.value
    assert [f["unique_id"] for f in error.failures] == ["model.aimass.fct_events"]
    assert "stg_events__events" in str(error) and "does not exist" in str(error)
    assert "model.aimass.fct_events [error]" in str(error)


@pytest.mark.slow
def test_a_failing_data_test_names_the_rows_kept_in_audit(warehouse_url, warehouse):
    """An event type outside the contract fails fct_events' accepted_values test; the error
    names the test and the audit table that keeps the offending rows."""
    events = build_shop()["events"].head(3).copy()
    events.loc[events.index[0], "event_type"] = "page_view"
    load_raw(warehouse, {"events": events})
    with pytest.raises(DbtError) as raised:
        run_dbt(
            ["build", "--select", "+fct_events", "--indirect-selection", "cautious"],
            warehouse_url,
        )
    message = str(raised.value)
    assert "accepted_values_fct_events_event_type" in message
    assert "failing rows in" in message and '"audit"' in message
    with warehouse.cursor() as cur:
        failed_test = next(f["relation_name"] for f in raised.value.failures)
        cur.execute(f"select * from {failed_test}")  # (value, occurrences)
        assert cur.fetchall() == [("page_view", 1)]
