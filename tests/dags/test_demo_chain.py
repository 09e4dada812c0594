"""The demo runs the DAG chain in order, hands each `--conf` key to the DAGs that declare it,
and skips a DAG of the chain that is not in dags/ instead of failing."""

from __future__ import annotations

import pytest

from aimass.demo import DEMO_CHAIN, plan

PARAMS = {
    "aimass_ingest": {"use_simulated_shop", "shop_profile"},
    "aimass_marts": {"day", "full_refresh"},
    "aimass_propensity": {"day", "force_retrain"},
    "aimass_model_admin": {"action"},
}


def test_chain_starts_with_ingestion_and_follows_the_assets():
    assert DEMO_CHAIN[:3] == ("aimass_ingest", "aimass_marts", "aimass_propensity")


def test_the_coupon_campaign_is_planned_last_after_the_models_it_reads():
    assert DEMO_CHAIN[-1] == "aimass_coupon_campaign"
    assert DEMO_CHAIN.index("aimass_propensity") < DEMO_CHAIN.index("aimass_coupon_campaign")


def test_conf_keys_go_to_the_dags_that_declare_them():
    runs, missing = plan(
        {"shop_profile": "tiny", "force_retrain": True, "full_refresh": False},
        PARAMS,
        ("aimass_ingest", "aimass_marts", "aimass_propensity"),
    )
    assert missing == []
    assert runs == [
        ("aimass_ingest", {"shop_profile": "tiny"}),
        ("aimass_marts", {"full_refresh": False}),
        ("aimass_propensity", {"force_retrain": True}),
    ]


def test_a_dag_missing_from_the_folder_is_skipped_not_fatal():
    runs, missing = plan({}, PARAMS, ("aimass_ingest", "aimass_recommendations", "aimass_marts"))
    assert [dag_id for dag_id, _ in runs] == ["aimass_ingest", "aimass_marts"]
    assert missing == ["aimass_recommendations"]


def test_a_key_no_dag_of_the_chain_declares_is_refused():
    with pytest.raises(ValueError, match="shop_size"):
        plan({"shop_size": "tiny"}, PARAMS, ("aimass_ingest", "aimass_marts"))


def test_model_admin_parameters_do_not_leak_into_the_chain():
    with pytest.raises(ValueError, match="action"):
        plan({"action": "promote"}, PARAMS, ("aimass_ingest", "aimass_marts"))
