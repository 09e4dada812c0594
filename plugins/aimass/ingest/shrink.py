"""The shrink guard: a re-delivery never replaces a loaded day with far fewer rows silently.

A day already loaded with `previous` rows may be replaced by a delivery of `rows` rows only
if `rows >= previous * (1 - max_shrink_fraction)` (the contract's key, default 0.5), or if
the run allows shrinking (`allow_shrink`, the DAG's *allow_shrink* parameter). An empty or
header-only file for a loaded day is the extreme case: it is refused, and the day keeps
its rows.
"""

from __future__ import annotations

from datetime import date

from aimass.contracts import SourceContract
from aimass.ingest.errors import ShrinkingDeliveryError

# starts the load-log message of a load that was allowed to shrink its day
ALLOWED_SHRINK_NOTE = "allow_shrink:"


def check_shrink(
    contract: SourceContract,
    ds: date,
    *,
    previous: int | None,
    rows: int,
    rows_in: int,
    unit_uri: str,
    allow_shrink: bool = False,
) -> str | None:
    """Raise `ShrinkingDeliveryError` when `rows` would replace `previous` rows of `ds`
    with more shrinkage than the contract allows; a note when an allowed shrink happens."""
    if previous is None or previous == 0:
        return None
    limit = contract.max_shrink_fraction
    if rows >= previous * (1 - limit):
        return None
    if allow_shrink:
        return f"{ALLOWED_SHRINK_NOTE} replaced the day's {previous} rows with {rows}"
    what = {0: "no rows", 1: "1 row"}.get(rows, f"{rows} rows")
    if rows_in == 0:
        what += " (an empty or header-only delivery)"
    error = ShrinkingDeliveryError(
        f"{contract.name} {ds}: the delivery at {unit_uri} has {what}, but the day is loaded "
        f"with {previous} rows; replacing it would drop {1 - rows / previous:.0%} of them, "
        f"more than max_shrink_fraction {limit:.0%}. Nothing was replaced: the day keeps its "
        f"{previous} rows. Re-deliver the complete day, or, if the smaller day is right, "
        "re-run with allow_shrink (DAG parameter) or raise max_shrink_fraction in sources.yml."
    )
    error.rows_in = rows_in
    raise error
