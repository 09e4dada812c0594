"""`python -m aimass.history --landing PATH_OR_URI`: import a first export of any period.

Loads every day of the export, builds the marts once, trains the propensity model and scores
as of the day after the export's last day, then prints what it did (see `aimass.history`).
Exit codes: 0 imported (also when the history is still too short to train: the message says
how much more is needed), 2 the export or the settings are wrong (nothing loaded), 1 a later
step failed (its message says which; what was loaded stays loaded, a re-run continues).
"""

from __future__ import annotations

import argparse
import json
import sys

from aimass.history import ExportError, import_history
from aimass.ingest.errors import IngestError
from aimass.quality.gate import DataQualityError
from aimass.settings import ConfigError, load_settings
from aimass.transform import DbtError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aimass.history", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--landing",
        default=None,
        help="the landing area: a local folder or a URI (file://, s3://); "
        "default AIMASS_LANDING_URI",
    )
    parser.add_argument(
        "--no-train",
        action="store_true",
        help="load and build the marts only; no training and scoring",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        warehouse_url = load_settings().require_warehouse_url()
        summary = import_history(
            warehouse_url,
            args.landing,
            train_and_score=not args.no_train,
            progress=lambda line: print(line, flush=True),
        )
    except (ExportError, ConfigError) as exc:
        print(f"aimass history import: {exc}", file=sys.stderr)
        return 2
    except (IngestError, DataQualityError, DbtError) as exc:  # each says what to do
        print(f"aimass history import failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print()
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "lines"}, indent=1))
    else:
        print("\n".join(summary["lines"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
