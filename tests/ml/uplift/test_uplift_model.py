"""The uplift model on randomized campaigns: beats propensity and random targeting, is compared
with the oracle, plans budgeted lists exactly and repeatably, and refuses bad input."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from ml.registry import get_model
from ml.uplift.config import load_uplift_config
from ml.uplift.data import check_campaigns
from ml.uplift.metrics import ipw_policy_value, uplift_metrics
from ml.uplift.pipeline import plan_campaign
from ml.uplift.policy import CampaignRequest

INJECTION = "x'; drop table ml.model_registry; --"


def _request(shop, **kw):
    base = dict(
        name="spring coupons",
        campaign_date=shop.plan_date,
        coupon_values=(5.0, 10.0),
        budget_coupons=150,
    )
    return CampaignRequest(**(base | kw))


def _targets(conn, campaign_id):
    with conn.cursor() as cur:
        cur.execute(
            "select user_id, coupon_value::float8, rank, selected, predicted_uplift "
            "from ml.coupon_targets where campaign_id = %s order by rank",
            (campaign_id,),
        )
        return cur.fetchall()


def test_uplift_beats_propensity_and_random_and_reports_its_share_of_the_oracle(uplift_db):
    conn, summary = uplift_db
    assert summary["status"] == "champion", summary["decision_reason"]
    qini = summary["metrics"]["qini"]
    baselines = summary["baselines"]
    assert qini > baselines["propensity"]["qini"] + 0.02
    assert qini > baselines["random"]["qini"] + 0.02
    assert summary["metrics"]["qini_true"] > baselines["propensity"]["qini_true"]
    assert 0 < summary["qini_vs_oracle"] < 1
    assert summary["learner"] == max(summary["validation_qini"], key=summary["validation_qini"].get)
    gains = {k: v["gain_per_1000_users"] for k, v in summary["policy_values"].items()}
    assert gains["model"] > gains["propensity"] and gains["model"] > gains["random"]
    record = get_model(conn, "coupon_uplift", summary["model_version"], with_artifact=False)
    assert "of the simulator oracle" in record.report_html
    assert "Qini curve" in record.report_html and "<svg" in record.report_html


def test_metrics_agree_with_a_hand_worked_example():
    # 4 treated, 4 control; the score puts the two treated buyers first
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0])
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    score = np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.05, 0.4, 0.35])
    m = uplift_metrics(y, score, t, k_values=(0.5,), curve_points=5)
    assert m["ate"] == pytest.approx(0.5 - 0.25)
    # top half by score: treated 0.9, 0.8 (both buy), control 0.4, 0.35 (none buy)
    assert m["uplift_at_50"] == pytest.approx(1.0 - 0.0)
    assert m["qini"] > 0
    # IPW: policy "coupon 5 to users 0 and 1, nothing to the rest"; arms 5 (p=.5), none (p=.5)
    received = np.array([5, 5, 5, 5, 0, 0, 0, 0])
    policy = np.array([5, 5, 0, 0, 0, 0, 0, 0])
    net = np.array([10.0, 8.0, -1.0, -1.0, 0.0, 6.0, 0.0, 0.0])
    # matches: users 0, 1 (weight 2) and 4..7 (weight 2): mean of 10, 8, 0, 6, 0, 0
    assert ipw_policy_value(policy, received, net, {5.0: 0.5, 0.0: 0.5}) == pytest.approx(4.0)


def test_budget_in_coupons_is_exact_and_only_positive_effects_are_chosen(uplift_db, coupon_shop):
    conn, _ = uplift_db
    plan = plan_campaign(
        conn, _request(coupon_shop), config=load_uplift_config(economics={"margin": 0.6})
    )
    assert plan["selected_users"] == 150
    rows = _targets(conn, plan["campaign_id"])
    selected = [r for r in rows if r[3]]
    assert len(selected) == 150
    assert all(r[4] > 0 for r in selected)
    assert [r[2] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r[3] for r in rows[:150]) and not any(r[3] for r in rows[150:])


def test_money_budget_is_never_exceeded(uplift_db, coupon_shop):
    conn, _ = uplift_db
    request = _request(coupon_shop, name="money", budget_coupons=None, budget_amount=777.0)
    plan = plan_campaign(conn, request, config=load_uplift_config(economics={"margin": 0.6}))
    assert 777.0 - 10.0 < plan["face_value_sent"] <= 777.0


def test_same_inputs_same_list_and_replanning_replaces_rows(uplift_db, coupon_shop, tmp_path):
    conn, _ = uplift_db
    config = load_uplift_config(economics={"margin": 0.6})
    first = plan_campaign(
        conn, _request(coupon_shop), config=config, export_path=tmp_path / "a.csv"
    )
    rows = _targets(conn, first["campaign_id"])
    again = plan_campaign(
        conn, _request(coupon_shop), config=config, export_path=tmp_path / "b.csv"
    )
    assert again["campaign_id"] == first["campaign_id"]
    assert _targets(conn, first["campaign_id"]) == rows
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    with (tmp_path / "a.csv").open() as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == first["selected_users"]
    assert {r["coupon_value"] for r in exported} <= {"5", "10"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget_coupons": 0}, "budget_coupons must be > 0"),
        ({"budget_coupons": None, "budget_amount": -5.0}, "budget_amount must be > 0"),
        ({"budget_coupons": None}, "has no budget"),
        ({"coupon_values": (5.0, 7.5)}, "Unknown coupon value(s) [7.5]"),
        ({"campaign_date": "far"}, "has no rows for as_of_date"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(uplift_db, coupon_shop, change, message):
    conn, _ = uplift_db
    if change.get("campaign_date") == "far":
        change = {"campaign_date": coupon_shop.plan_date + timedelta(days=400)}
    request = _request(coupon_shop, name=f"bad {message}", **change)
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.coupon_targets') is not null")
        before = cur.fetchone()[0] and _count(conn)
    with pytest.raises(
        ValueError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        plan_campaign(conn, request)
    conn.rollback()
    assert not before or _count(conn) == before


def _count(conn):
    with conn.cursor() as cur:
        cur.execute("select count(*) from ml.coupon_targets")
        return cur.fetchone()[0]


def test_training_refuses_campaigns_without_control_or_with_too_few_treated(coupon_shop):
    config = load_uplift_config()
    frame = coupon_shop.training_set.rename(columns={"offer_date": "as_of_date"})
    no_control = frame[~((frame.coupon_campaign_id == "cc001") & (frame.treatment == 0))]
    with pytest.raises(ValueError, match="Campaign cc001 .* has no control group"):
        check_campaigns(no_control, config)
    few = frame[
        ~((frame.coupon_campaign_id == "cc002") & (frame.coupon_value == 10))
        | (frame.index % 50 == 0)
    ]
    with pytest.raises(ValueError, match="Campaign cc002 has too few treated users"):
        check_campaigns(few, replace(config, guards=replace(config.guards, min_treated_users=100)))


def test_a_hostile_campaign_name_is_stored_as_text(uplift_db, coupon_shop):
    conn, _ = uplift_db
    plan = plan_campaign(conn, _request(coupon_shop, name=INJECTION, budget_coupons=5))
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.model_registry') is not null")
        assert cur.fetchone()[0]
        cur.execute(
            "select distinct campaign_name from marts.coupon_targets_latest where campaign_id = %s",
            (plan["campaign_id"],),
        )
        assert cur.fetchall() == [(INJECTION,)]
