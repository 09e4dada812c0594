"""`simulate_shop`: run the simulated shop day by day and collect its sources and truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aimass.contracts import load_contracts
from aimass.sim.assemble import Assembler
from aimass.sim.config import ShopConfig
from aimass.sim.daily import Simulation, simulate_day
from aimass.sim.truth import TruthFrames
from aimass.sim.warmup import warm_up
from aimass.sim.world import build_world


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow rows as pandas: text as `str`, integers as nullable `Int64`, timestamps as
    `datetime64[us, UTC]`, dates as `datetime.date` objects, numerics as float64."""
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


@dataclass(frozen=True)
class LandingRows:
    """A source's exported rows (`table`: every row or version ever exported) and the rows
    each landing day carries."""

    table: pa.Table
    first_day: date
    order: np.ndarray
    bounds: np.ndarray

    @classmethod
    def index(cls, table: pa.Table, landing_day: np.ndarray, first_day: date, n_days: int):
        order = np.argsort(landing_day, kind="stable")
        bounds = np.searchsorted(landing_day[order], np.arange(n_days + 1))
        return cls(table, first_day, order, bounds)

    def day(self, day: date) -> pa.Table:
        """The rows of `day`'s partition (empty outside the simulated days)."""
        k = (day - self.first_day).days
        if not 0 <= k < len(self.bounds) - 1:
            return self.table.slice(0, 0)
        return self.table.take(pa.array(self.order[self.bounds[k] : self.bounds[k + 1]]))


@dataclass(frozen=True)
class Shop:
    """A simulated shop up to its last day.

    `tables[source]` has exactly the contract columns: every row of an event-time source, the
    latest version of every entity of a snapshot source. `truth[name]` holds the hidden truth
    (`sim_truth` tables). `landing[source]` is what each day's landing partition carries."""

    config: ShopConfig
    days: list[date]
    tables: dict[str, pd.DataFrame]
    truth: Mapping[str, pd.DataFrame]
    landing: dict[str, LandingRows]


def simulate_shop(config: ShopConfig, until: date | None = None) -> Shop:
    """Simulate days [config.start_date, until] (default: the whole configured window).

    Day d's rows depend only on the config, never on `until`."""
    until = config.end_date if until is None else until
    if isinstance(until, str):
        until = date.fromisoformat(until)
    if not config.start_date <= until <= config.end_date:
        raise ValueError(
            f"until={until} is outside the simulated window {config.start_date}.."
            f"{config.end_date}; pick a day inside it or raise `days` in the profile."
        )
    n_days = (until - config.start_date).days + 1
    world = build_world(config)
    sim = Simulation.start(world)
    warm_up(sim)
    records = [simulate_day(sim, day) for day in range(n_days)]
    contracts = load_contracts()
    sources = Assembler(world, records, contracts).build()
    tables, landing = {}, {}
    for name, (table, landing_day) in sources.items():
        landing[name] = LandingRows.index(table, landing_day, config.start_date, n_days)
        if contracts[name].is_snapshot:
            table = table.take(pa.array(_latest_versions(table, contracts[name].primary_key)))
        tables[name] = to_frame(table)
    days = [config.start_date + timedelta(days=k) for k in range(n_days)]
    return Shop(config, days, tables, TruthFrames(world, records), landing)


def _latest_versions(table: pa.Table, primary_key: tuple[str, ...]) -> np.ndarray:
    """Row index of the last version of each key (rows are in time order), in key order."""
    key = pc.binary_join_element_wise(*(table.column(c) for c in primary_key), "\x1f")
    values = key.to_numpy(zero_copy_only=False)
    _, last_from_end = np.unique(values[::-1], return_index=True)
    return len(values) - 1 - last_from_end
