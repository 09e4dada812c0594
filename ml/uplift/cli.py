"""The coupon subcommands of `python -m ml`: coupon-train, coupon-plan, coupon-report."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

import psycopg2

from ml import registry
from ml.uplift.config import load_uplift_config
from ml.uplift.pipeline import plan_campaign, train_and_register_uplift
from ml.uplift.policy import CampaignRequest
from ml.uplift.report import build_uplift_report, write_qini_svg


def _values(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"coupon values must be numbers: {text!r}") from exc


def add_coupon_commands(commands) -> None:
    train = commands.add_parser("coupon-train", help="train, evaluate, register the uplift model")
    train.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="use only campaigns whose outcome window ended before this day (default: all)",
    )
    train.add_argument(
        "--force", action="store_true", help="retrain even if the champion is recent"
    )
    train.add_argument("--uplift-config", help="YAML merged over ml/conf/coupon_uplift.yml")
    plan = commands.add_parser("coupon-plan", help="plan a coupon campaign's target list")
    plan.add_argument("--name", required=True, help="campaign name")
    plan.add_argument("--date", type=date.fromisoformat, required=True, help="offer date")
    plan.add_argument("--values", type=_values, required=True, help="allowed values, e.g. 5,10")
    plan.add_argument("--budget-coupons", type=int, help="at most this many coupons")
    plan.add_argument("--budget-amount", type=float, help="at most this face value in total")
    plan.add_argument("--out", help="write the selected users to this CSV file")
    plan.add_argument("--version", help="model version (default: the champion)")
    plan.add_argument("--uplift-config", help="YAML merged over ml/conf/coupon_uplift.yml")
    report = commands.add_parser("coupon-report", help="rebuild a version's HTML report")
    report.add_argument("--version", help="model version (default: the champion)")
    report.add_argument("--out", help="also write the HTML to this file")
    report.add_argument("--qini-svg", help="also write the Qini chart to this SVG file")
    report.add_argument("--uplift-config", help="YAML merged over ml/conf/coupon_uplift.yml")


def run_coupon_command(args: argparse.Namespace) -> dict:
    config = load_uplift_config(args.uplift_config)
    conn = psycopg2.connect(args.database_url or os.environ["AIMASS_WAREHOUSE_URL"])
    try:
        if args.command == "coupon-train":
            return train_and_register_uplift(
                conn, as_of=args.as_of, config=config, force=args.force
            )
        if args.command == "coupon-plan":
            request = CampaignRequest(
                name=args.name,
                campaign_date=args.date,
                coupon_values=args.values,
                budget_coupons=args.budget_coupons,
                budget_amount=args.budget_amount,
            )
            return plan_campaign(
                conn, request, config=config, model_version=args.version, export_path=args.out
            )
        version = args.version
        if version is None:
            champion = registry.get_champion(conn, config.model_name, with_artifact=False)
            if champion is None:
                raise ValueError(f"{config.model_name} has no champion; pass --version.")
            version = champion.model_version
        html = build_uplift_report(conn, config.model_name, version)
        out: dict = {"model_name": config.model_name, "model_version": version}
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(html, encoding="utf-8")
            out["path"] = args.out
        if args.qini_svg:
            out["qini_svg"] = str(write_qini_svg(conn, config.model_name, version, args.qini_svg))
        return out
    finally:
        conn.close()
