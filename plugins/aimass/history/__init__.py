"""Import a first export of any period with one call: `import_history(warehouse_url, landing)`.

The export lies in a landing area as the daily runs read it: `<landing>/<source>/history/
*.<format>` (one or more files covering many days, split into days by their timestamp) and/or
`<landing>/<source>/<YYYY-MM-DD>/part-*.<format>` (daily partitions). The import

1. prepares the warehouse (schemas, raw and quarantine tables);
2. inspects the export (`inventory`): nothing is loaded when the required source has no data,
   a file cannot be read, rows are dated after today or a day is both in `history/` and a
   daily partition; timestamps without a zone are read as UTC, with a warning;
3. loads every source (history first, then the daily partitions up to the export's last day),
   each day replaced in its own transaction, so a re-run loads nothing twice;
4. runs the raw gate, ONE full `dbt build`, and the feature gate;
5. trains the propensity model with cut-off `last_day + 1` (forced) and scores every user as
   of that day; too little history ends with a message saying how much more is needed, with
   the data loaded and the marts built;
6. summarises: days and rows per source, quarantined rows, the model's metrics, the scores.

The build is recorded (`audit.dbt_builds`), so the next daily run (day `last_day + 1`) is an
ordinary incremental build. `python -m aimass.history --help` for the command line; the DAG
`aimass_history_import` runs the same steps as tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from aimass.contracts import load_contracts
from aimass.history import steps
from aimass.history.inventory import ExportError, ExportInventory, inspect_export
from aimass.orchestration import daily

log = logging.getLogger(__name__)

__all__ = ["ExportError", "ExportInventory", "import_history", "inspect_export"]


def import_history(
    warehouse_url: str,
    landing: str | None = None,
    *,
    train_and_score: bool = True,
    today: date | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict:
    """Import the export at `landing` (a URI or path; empty: `AIMASS_LANDING_URI`) into the
    warehouse, build the marts once, train and score (unless `train_and_score` is off);
    returns the summary (`steps.summarise`). Raises `ExportError` before loading anything
    when the export has problems."""
    landing_uri = steps.landing_uri_of(landing)
    progress("Preparing the warehouse ...")
    daily.prepare_warehouse(warehouse_url)
    progress(f"Inspecting the export at {landing_uri} ...")
    inventory = steps.inspect(landing_uri, today=today)
    last_day = inventory.last_day
    progress(f"The export covers {inventory.first_day} to {last_day}; loading ...")
    loads = []
    for source in load_contracts():
        loads.append(steps.load_source(warehouse_url, source, landing_uri, last_day))
        progress(f"  {source}: {loads[-1]['status']}")
    progress("Raw quality gate ...")
    daily.quality_gate(warehouse_url, "raw", last_day)
    progress("Building the marts (one full dbt build) ...")
    built = steps.build(warehouse_url, last_day)
    progress("Feature quality gate ...")
    daily.quality_gate(warehouse_url, "features", daily.as_of_for(last_day))
    trained = scored = None
    if train_and_score:
        progress("Training the propensity model ...")
        trained = steps.train(warehouse_url, last_day)
        progress("Scoring ...")
        scored = steps.score(warehouse_url, last_day)
        steps.gate_scores(warehouse_url, last_day, scored)
    return steps.summarise(
        warehouse_url,
        inventory.as_dict(),
        loads=loads,
        built=built,
        trained=trained,
        scored=scored,
    )
