"""Names that users supply (sources and columns in config, DAG params, model-admin params) never
run as SQL: they are refused by validation or bound as values, and nothing is dropped."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from aimass.contracts import SourceContract, load_contracts
from aimass.orchestration import daily, model_admin
from aimass.orchestration.run_day import run_day
from aimass.warehouse import ensure_layout
from ml.registry import ensure_registry

EVIL = "x'; drop table ml.model_registry; --"
EVIL_IDENTIFIER = 'x" (a int); drop table ml.model_registry; --'


def _exists(conn, relation: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (relation,))
        found = cur.fetchone()[0]
    conn.rollback()
    return found


@pytest.fixture
def registry(warehouse):
    """A warehouse with one champion in `ml.model_registry`."""
    ensure_registry(warehouse)
    with warehouse.cursor() as cur:
        cur.execute(
            """insert into ml.model_registry (model_name, model_version, status, trained_at,
                   training_cutoff, train_start, train_end, validation_start, validation_end,
                   calibration_start, calibration_end, test_start, test_end,
                   label_horizon_days, windows, params, features, metrics, artifact,
                   artifact_sha256, promoted_at)
               values ('propensity', 'v1', 'champion', now(), %(d)s, %(d)s, %(d)s, %(d)s, %(d)s,
                   %(d)s, %(d)s, %(d)s, %(d)s, 7, '{}', '{}', '{}', '{}', '\\x00', 'x', now())""",
            {"d": date(2026, 9, 1)},
        )
    warehouse.commit()
    return warehouse


def _registry_rows(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select model_name, model_version, status from ml.model_registry")
        found = cur.fetchall()
    conn.rollback()
    return found


@pytest.mark.parametrize(
    ("action", "model_name", "model_version", "message"),
    [
        ("promote", "propensity", EVIL, "not in ml.model_registry"),
        ("promote", EVIL, "v1", "not in ml.model_registry"),
        ("rollback", EVIL, None, "has no champion to roll back"),
        (EVIL, "propensity", "v1", "action must be one of"),
    ],
)
def test_model_admin_params_are_values_not_sql(
    registry, warehouse_url, action, model_name, model_version, message
):
    before = _registry_rows(registry)
    with pytest.raises(ValueError, match=message):
        model_admin.change_champion(warehouse_url, action, model_name, model_version, True)
    assert _exists(registry, "ml.model_registry")
    assert _registry_rows(registry) == before == [("propensity", "v1", "champion")]


def test_day_param_must_be_a_date():
    with pytest.raises(ValueError, match="Invalid isoformat"):
        run_day({"params": {"day": "2026-09-28'; drop table ml.model_registry; --"}})


def test_shop_profile_param_must_be_a_known_profile(registry, warehouse_url):
    with pytest.raises(ValueError, match="is not defined in"):
        daily.simulate_shop(warehouse_url, date(2026, 9, 28), EVIL)
    assert _registry_rows(registry) == [("propensity", "v1", "champion")]


def _sources_file(tmp_path, name: str, column: str = "id"):
    doc = {
        "sources": {
            name: {
                "format": "csv",
                "partition": "snapshot",
                "primary_key": [column],
                "columns": {column: {"type": "text", "required": True}},
            }
        }
    }
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("source", "column"),
    [
        (EVIL_IDENTIFIER, "id"),
        ("orders", EVIL_IDENTIFIER),
        ("../../etc", "id"),
        ("Orders", "id"),
    ],
)
def test_source_and_column_names_from_config_are_validated(tmp_path, source, column):
    path = _sources_file(tmp_path, source, column)
    with pytest.raises(ValueError, match="is not a plain lowercase identifier"):
        load_contracts(path)


def test_a_good_config_still_loads(tmp_path):
    contracts = load_contracts(_sources_file(tmp_path, "shop_orders_v2", "order_id"))
    assert list(contracts) == ["shop_orders_v2"]


def test_table_ddl_quotes_names_even_without_validation(registry):
    """Defence in depth: a contract built in code with a hostile name creates a table of that
    (odd) name and runs nothing else."""
    good = load_contracts()["orders"]
    hostile = SourceContract(
        name=EVIL_IDENTIFIER,
        kind="file",
        format="csv",
        partition="snapshot",
        primary_key=("id",),
        columns=good.columns[:1],
    )
    ensure_layout(registry, {hostile.name: hostile})
    assert _exists(registry, "ml.model_registry")
    assert _registry_rows(registry) == [("propensity", "v1", "champion")]
    with registry.cursor() as cur:
        cur.execute(
            "select count(*) from information_schema.tables where table_schema in "
            "('raw', 'quarantine') and table_name = %s",
            (EVIL_IDENTIFIER,),
        )
        assert cur.fetchone()[0] == 2
    registry.rollback()
