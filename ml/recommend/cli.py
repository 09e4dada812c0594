"""The recommender's `python -m ml` subcommands:

- `recommend-train --as-of D [--force]`: evaluate, register, maybe promote;
- `recommend --score-date D [--top-n N] [--segment S] [--campaign-category C] [--user U ...]`:
  publish lists (with `--user` and `--dry-run` the lists are printed, not written);
- `recommend-report [--version V] [--out FILE]`: rebuild a version's HTML report.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from ml.jsonsafe import jsonable

COMMANDS = ("recommend-train", "recommend", "recommend-report")


def add_commands(commands) -> None:
    """Register the subcommands on `python -m ml`'s subparsers."""
    config_help = "YAML merged over ml/conf/recommendations.yml"
    train = commands.add_parser("recommend-train", help="train, evaluate, register the recommender")
    train.add_argument("--as-of", type=date.fromisoformat, required=True)
    train.add_argument(
        "--force", action="store_true", help="retrain even if the champion is recent"
    )
    train.add_argument("--recommend-config", help=config_help)
    rec = commands.add_parser("recommend", help="publish top-N lists with the recommender champion")
    rec.add_argument("--score-date", type=date.fromisoformat, required=True)
    rec.add_argument("--top-n", type=int)
    rec.add_argument("--segment", help="only users of this marts.mart_user_segments segment")
    rec.add_argument("--campaign-category", help="only items of this category")
    rec.add_argument("--user", action="append", dest="users", help="only this user (repeatable)")
    rec.add_argument("--dry-run", action="store_true", help="print the lists, write nothing")
    rec.add_argument("--recommend-config", help=config_help)
    report = commands.add_parser("recommend-report", help="rebuild a recommender version's report")
    report.add_argument("--version", help="model version (default: the champion)")
    report.add_argument("--out", help="also write the HTML to this file")
    report.add_argument("--recommend-config", help=config_help)


def run(args: argparse.Namespace, conn) -> dict | list:
    from ml.recommend import pipeline
    from ml.recommend.config import load_config
    from ml.recommend.report import build_report
    from ml.registry import get_champion

    config = load_config(args.recommend_config or os.environ.get("AIMASS_RECOMMENDATIONS_CONFIG"))
    if args.command == "recommend-train":
        return pipeline.train_and_register(conn, as_of=args.as_of, config=config, force=args.force)
    if args.command == "recommend":
        dry = args.dry_run or False
        out = pipeline.recommend(
            conn,
            score_date=args.score_date,
            top_n=args.top_n,
            segment=args.segment,
            campaign_category=args.campaign_category,
            user_ids=args.users,
            config=config,
            publish=not dry,
        )
        if dry:
            lists = out.pop("lists")
            out = jsonable({**out, "lists": lists.to_dict(orient="records")})
        return out
    version = args.version
    if version is None:
        champion = get_champion(conn, config.model_name, with_artifact=False)
        if champion is None:
            raise ValueError(f"{config.model_name} has no champion; pass --version.")
        version = champion.model_version
    html = build_report(conn, config.model_name, version)
    out = {"model_name": config.model_name, "model_version": version, "characters": len(html)}
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        out["path"] = str(path)
    return out
