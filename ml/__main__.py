"""`python -m ml train|score|promote|rollback|report ...` — the propensity model from a shell;
`recommend-train|recommend|recommend-report` — the recommender (see `ml.recommend.cli`);
`coupon-train|coupon-plan|coupon-report` — the coupon uplift model (see `ml.uplift.cli`).

Every command prints a JSON summary on stdout; errors go to stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date

import psycopg2

from ml import pipeline, registry
from ml.config import load_config
from ml.features import FeatureMismatchError
from ml.recommend import cli as recommend_cli
from ml.report import build_report, write_report
from ml.uplift.cli import add_coupon_commands, run_coupon_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AIMASS_WAREHOUSE_URL"),
        help="warehouse DSN (default: $AIMASS_WAREHOUSE_URL)",
    )
    parser.add_argument(
        "--config",
        help="YAML merged over the packaged ml/conf/propensity.yml "
        "(default: $AIMASS_PROPENSITY_CONFIG, if set)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train, evaluate, register, maybe promote")
    train.add_argument(
        "--as-of",
        type=date.fromisoformat,
        required=True,
        help="training cut-off (YYYY-MM-DD): only data before it is used",
    )
    train.add_argument(
        "--force", action="store_true", help="retrain even if the champion is recent"
    )
    score = commands.add_parser("score", help="score all users with the champion")
    score.add_argument("--score-date", type=date.fromisoformat, required=True)
    promote = commands.add_parser("promote", help="make a version the champion")
    promote.add_argument("--version", required=True)
    promote.add_argument("--force", action="store_true", help="also promote a rejected version")
    commands.add_parser("rollback", help="put the previous champion back")
    report = commands.add_parser("report", help="rebuild a version's HTML report")
    report.add_argument("--version", help="model version (default: the champion)")
    report.add_argument("--out", help="also write the HTML to this file")
    commands.add_parser("list", help="list registered versions")
    recommend_cli.add_commands(commands)
    add_coupon_commands(commands)
    return parser


def run(args: argparse.Namespace) -> dict | list:
    if not args.database_url:
        raise ValueError("No database: pass --database-url or set AIMASS_WAREHOUSE_URL.")
    if args.command.startswith("coupon-"):
        return run_coupon_command(args)
    config = load_config(args.config)
    name = config.model_name
    conn = psycopg2.connect(args.database_url)
    try:
        if args.command in recommend_cli.COMMANDS:
            return recommend_cli.run(args, conn)
        if args.command == "train":
            return pipeline.train_and_register(
                conn, as_of=args.as_of, config=config, force=args.force
            )
        if args.command == "score":
            return pipeline.score(conn, score_date=args.score_date, config=config)
        if args.command == "promote":
            registry.promote(conn, name, args.version, reason="promoted by hand", force=args.force)
            return {"model_name": name, "champion": args.version}
        if args.command == "rollback":
            return {"model_name": name, "champion": registry.rollback(conn, name)}
        if args.command == "list":
            return [
                {
                    "model_version": m.model_version,
                    "status": m.status,
                    "trained_at": m.trained_at.isoformat(),
                    "roc_auc": (m.metrics.get("model") or {}).get("roc_auc"),
                }
                for m in registry.list_models(conn, name)
            ]
        version = args.version
        if version is None:
            champion = registry.get_champion(conn, name, with_artifact=False)
            if champion is None:
                raise ValueError(f"{name} has no champion; pass --version.")
            version = champion.model_version
        out = {"model_name": name, "model_version": version}
        if args.out:
            out["path"] = str(write_report(conn, name, version, args.out))
        else:
            out["characters"] = len(build_report(conn, name, version))
        return out
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = run(args)
    except (ValueError, FeatureMismatchError, FileNotFoundError, psycopg2.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
