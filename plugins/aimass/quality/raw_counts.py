"""Row-count bounds of one raw day, from `raw._load_log`: what the day's loads promise.

- **the current load**: the day holds at least the rows its last successful load wrote (a
  day emptied or cut by anything but a load fails);
- **the previous delivery**: the last load kept at least `1 - max_shrink_fraction` of the
  load before it, unless that load was allowed to shrink (`allow_shrink`);
- **recent days** (event sources): at least `1 - max_drop_vs_recent` of the median rows of
  the last `recent_days` loaded days, once that median reaches `min_recent_rows`.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from aimass.contracts import SourceContract
from aimass.ingest.shrink import ALLOWED_SHRINK_NOTE
from aimass.quality.config import RawRowCount


def raw_min_rows(
    cur, contract: SourceContract, ds: date, rule: RawRowCount
) -> tuple[int, list[str]]:
    """The fewest rows `raw.<source>` may hold for `ds`, and notes saying why."""
    cur.execute(
        "select rows_loaded, coalesce(message, '') from raw._load_log where source = %s "
        "and ds = %s and status = 'loaded' order by finished_at desc limit 2",
        (contract.name, ds),
    )
    loads = cur.fetchall()
    if not loads:
        return 0, []
    (latest, message), *earlier = loads
    bounds = {f"its last load wrote {latest}": latest}
    if earlier and ALLOWED_SHRINK_NOTE not in message:
        previous = earlier[0][0]
        bounds[f"the previous delivery had {previous}"] = math.ceil(
            previous * (1 - contract.max_shrink_fraction)
        )
    if not contract.is_snapshot:
        cur.execute(
            """select percentile_cont(0.5) within group (order by rows_loaded), count(*)
               from (select distinct on (ds) ds, rows_loaded from raw._load_log
                     where source = %s and status = 'loaded' and ds < %s and ds >= %s
                     order by ds, finished_at desc) as days""",
            (contract.name, ds, ds - timedelta(days=rule.recent_days)),
        )
        median, days = cur.fetchone()
        if days and median >= rule.min_recent_rows:
            bounds[f"the median of {days} recent days is {median:g}"] = math.ceil(
                median * (1 - rule.max_drop_vs_recent)
            )
    reason, low = max(bounds.items(), key=lambda item: item[1])
    return low, [f"raw.{contract.name}: at least {low} rows for _ds = {ds} ({reason})"]
