"""A simulated shop written as a real shop's first export: dates moved years back, one history
file per source (`<landing>/<source>/history/part-0000.<format>`, no simulator manifest), and
daily partitions for the days after the history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from aimass.contracts import load_contracts
from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop
from aimass.sim.landing import partition_path, serialise

# The tiny shop (300 users) over 41 days: 40 days of history up to 2017-03-01, years before
# any DAG's former start date (2026-07-01), and one more day for the first daily run.
START = date(2017, 1, 21)
HISTORY_DAYS = 40
LAST_HISTORY_DAY = date(2017, 3, 1)
NEXT_DAY = date(2017, 3, 2)


def simulated_shop(*, start: date = START, days: int = HISTORY_DAYS + 1, profile: str = "tiny"):
    """The simulated shop of `profile` over `days` days from `start`."""
    return simulate_shop(load_shop_config(profile, start_date=start, days=days))


def write_history(landing: Path, shop, days: list[date]) -> list[Path]:
    """Every source's rows of `days` as one history file per source; returns the paths."""
    written = []
    for name, contract in load_contracts().items():
        rows = pa.concat_tables([shop.landing[name].day(day) for day in days])
        path = landing / name / "history" / f"part-0000.{contract.format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(serialise(rows, contract))
        written.append(path)
    return written


def write_daily(landing: Path, shop, day: date) -> list[Path]:
    """Every source's daily partition of `day` (as the shop's export would land it)."""
    written = []
    for name, contract in load_contracts().items():
        path = partition_path(landing, contract, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(serialise(shop.landing[name].day(day), contract))
        written.append(path)
    return written


def history_export(landing: Path, *, history_days: int = HISTORY_DAYS, **shop_args):
    """The shop with its first `history_days` days written as a history export."""
    shop = simulated_shop(**shop_args)
    write_history(landing, shop, shop.days[:history_days])
    return shop
