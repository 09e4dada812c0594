"""What an export in a landing area holds, checked before anything is loaded.

`inspect_export` lists, per file source, the history export (`<landing>/<source>/history/
*.<format>`) and the daily partitions (`<landing>/<source>/<YYYY-MM-DD>/part-*.<format>`),
reads the day column of the history files exactly as the loader will (`aimass.ingest.parse`
and `aimass.ingest.values`), and finds what would make an import wrong:

- problems (nothing is loaded): the required source has no data; files the loader cannot read
  (no header row, another delimiter, required columns missing); rows or daily partitions dated
  after today (UTC); days that are both in `history/` and a daily partition;
- warnings (the import goes on): timestamps without a zone offset (read as UTC), files in
  `history/` the loader ignores, daily folders without `part-*` files, rows without a usable
  day (quarantined), sources that do not come from files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from aimass.contracts import SourceContract
from aimass.ingest.errors import IngestError
from aimass.ingest.landing import (
    HISTORY_FOLDER,
    list_partitions,
    partition_files,
    read_payloads,
    source_folder,
)
from aimass.ingest.parse import parse_payload
from aimass.ingest.values import parse_column

_OFFSET = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
# Files that are not data by convention (hidden files, Spark's _SUCCESS, ...): not reported.
_NOT_DATA_PREFIXES = (".", "_")


class ExportError(ValueError):
    """The export cannot be imported as it is; `problems` lists each reason."""

    def __init__(self, landing_uri: str, problems: list[str]):
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"The export at {landing_uri} cannot be imported:\n{listed}\n"
            "Nothing was loaded. Fix the export and run the import again."
        )


@dataclass
class DayColumnScan:
    """The day column of some files: which days its rows fall on, and what is odd about it."""

    rows: int = 0
    days: set[date] = field(default_factory=set)
    future_rows: int = 0
    latest_future_day: date | None = None
    without_day: int = 0
    without_zone: int = 0
    timestamps: int = 0


@dataclass
class SourceExport:
    """One source's part of the export."""

    source: str
    kind: str
    day_column: str | None
    event_time: bool
    folder: str
    history_files: list[str] = field(default_factory=list)
    history: DayColumnScan = field(default_factory=DayColumnScan)
    daily_days: list[date] = field(default_factory=list)
    newest_partition: DayColumnScan = field(default_factory=DayColumnScan)

    @property
    def days(self) -> set[date]:
        return self.history.days | set(self.daily_days)

    @property
    def first_day(self) -> date | None:
        return min(self.days, default=None)

    @property
    def last_day(self) -> date | None:
        return max(self.days, default=None)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "kind": self.kind,
            "folder": self.folder,
            "history_files": len(self.history_files),
            "history_rows": self.history.rows,
            "daily_partitions": len(self.daily_days),
            "first_day": _iso(self.first_day),
            "last_day": _iso(self.last_day),
            "days_with_data": len(self.days),
        }


@dataclass
class ExportInventory:
    """The whole export: every source, what stops the import and what it warns about."""

    landing_uri: str
    today: date
    sources: dict[str, SourceExport]
    problems: list[str]
    warnings: list[str]

    @property
    def event_sources(self) -> list[SourceExport]:
        return [s for s in self.sources.values() if s.event_time and s.days]

    @property
    def first_day(self) -> date | None:
        return min((s.first_day for s in self.event_sources), default=None)

    @property
    def last_day(self) -> date | None:
        """The export's last day: the newest day with rows of any event-time source."""
        return max((s.last_day for s in self.event_sources), default=None)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ExportError(self.landing_uri, self.problems)

    def as_dict(self) -> dict:
        return {
            "landing_uri": self.landing_uri,
            "today": self.today.isoformat(),
            "first_day": _iso(self.first_day),
            "last_day": _iso(self.last_day),
            "sources": {name: s.as_dict() for name, s in self.sources.items()},
            "warnings": list(self.warnings),
        }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def utc_today() -> date:
    return datetime.now(UTC).date()


def inspect_export(
    landing_uri: str, contracts: dict[str, SourceContract], *, today: date | None = None
) -> ExportInventory:
    """Inventory of the export at `landing_uri` for `contracts`, checked against `today`
    (default: the current UTC day). Reads files; writes nothing."""
    today = today or utc_today()
    problems: list[str] = []
    warnings: list[str] = []
    sources = {}
    for name, contract in contracts.items():
        if contract.kind != "file":
            warnings.append(
                f"{name}: kind {contract.kind!r} in sources.yml, so it does not come from the "
                "export; the daily runs fetch it."
            )
            continue
        sources[name] = _inspect_source(contract, landing_uri, today, problems, warnings)
    required = [c for c in contracts.values() if not c.optional and c.kind == "file"]
    for contract in required:
        found = sources[contract.name]
        if not found.days and not any(p.startswith(f"{contract.name}:") for p in problems):
            problems.append(
                f"{contract.name}: the required source has no data: no rows in "
                f"{found.folder}/{HISTORY_FOLDER}/*.{contract.format} and no daily partition "
                f"{found.folder}/<YYYY-MM-DD>/part-*.{contract.format}. Check the landing URI "
                "and that the export wrote this source."
            )
    return ExportInventory(landing_uri, today, sources, problems, warnings)


def _inspect_source(
    contract: SourceContract,
    landing_uri: str,
    today: date,
    problems: list[str],
    warnings: list[str],
) -> SourceExport:
    folder = source_folder(landing_uri, contract)
    day_column = contract.incremental_column if contract.is_snapshot else contract.partition
    found = SourceExport(
        source=contract.name,
        kind=contract.kind,
        day_column=day_column,
        event_time=not contract.is_snapshot,
        folder=str(folder),
    )
    if not folder.exists():
        return found
    history = folder / HISTORY_FOLDER
    if history.exists():
        files = partition_files(history, contract.format, pattern="*")
        found.history_files = [str(f) for f in files]
        ignored = [
            c.name
            for c in history.iterdir()
            if c.is_file()
            and not c.name.endswith(f".{contract.format}")
            and not c.name.startswith(_NOT_DATA_PREFIXES)
        ]
        if ignored:
            warnings.append(
                f"{contract.name}: {history} holds files the loader ignores ({', '.join(ignored)})"
                f": history files must end in .{contract.format} (uncompressed). Rename or "
                "convert them if they hold data."
            )
        if files and day_column is None:
            problems.append(
                f"{contract.name}: a snapshot source needs `incremental_column` in sources.yml "
                "to place the rows of a history export on days."
            )
        elif files:
            found.history = _scan_files(contract, files, day_column, today, problems)
        elif not ignored:
            warnings.append(f"{contract.name}: {history} holds no .{contract.format} file.")
    partitions = list_partitions(folder)
    empty = []
    for day, path in partitions.items():
        if partition_files(path, contract.format):
            found.daily_days.append(day)
        else:
            empty.append(day.isoformat())
    if empty:
        warnings.append(
            f"{contract.name}: daily folders without part-*.{contract.format} files are "
            f"skipped: {_listing(empty)}."
        )
    if found.daily_days and day_column is not None:
        newest = partitions[found.daily_days[-1]]
        files = partition_files(newest, contract.format)
        found.newest_partition = _scan_files(contract, files, day_column, today, problems)
    _check_source(found, contract, today, problems, warnings)
    return found


def _check_source(
    found: SourceExport,
    contract: SourceContract,
    today: date,
    problems: list[str],
    warnings: list[str],
) -> None:
    scan, name = found.history, contract.name
    future_partitions = [d.isoformat() for d in found.daily_days if d > today]
    if scan.future_rows or future_partitions:
        what = []
        if scan.future_rows:
            what.append(
                f"{scan.future_rows:,} rows of the history export have {found.day_column} after "
                f"today ({today}), up to {scan.latest_future_day}"
            )
        if future_partitions:
            what.append(f"daily partitions are dated after today: {_listing(future_partitions)}")
        problems.append(
            f"{name}: {'; '.join(what)}. Dates in the future usually mean a wrong format or "
            "time zone (timestamps are read as ISO 8601, UTC unless they carry an offset): "
            "fix them or leave those rows out of the export."
        )
    overlap = sorted(scan.days & set(found.daily_days))
    if overlap:
        problems.append(
            f"{name}: {len(overlap)} day(s) are both in {found.folder}/{HISTORY_FOLDER}/ and in "
            f"daily partitions: {_listing([d.isoformat() for d in overlap])}. Each day must come "
            "from one place: delete those daily folders if the history holds the whole days, "
            "or leave those days out of the history export (a daily partition replaces the "
            "history's rows of its day)."
        )
    newest = found.daily_days[-1] if found.daily_days else None
    for part, where in ((scan, "the history export"), (found.newest_partition, f"day {newest}")):
        if part.without_zone:
            warnings.append(
                f"{name}: {part.without_zone:,} of {part.timestamps:,} {found.day_column} values "
                f"in {where} have no zone offset and are read as UTC. If they are local "
                "time, export them in UTC or with their offset (e.g. 2017-03-01T10:00:00+01:00)."
            )
    if scan.without_day:
        warnings.append(
            f"{name}: {scan.without_day:,} rows of the history export have no usable "
            f"{found.day_column} (empty or not ISO 8601); they go to quarantine.{name}."
        )


def _scan_files(
    contract: SourceContract, files: list, day_column: str, today: date, problems: list[str]
) -> DayColumnScan:
    """Read the day column of `files` as the loader does; unreadable files become problems."""
    scan = DayColumnScan()
    column_type = contract.column(day_column).type
    for payload in read_payloads(files, contract.format):
        try:
            parsed = parse_payload(payload, contract)
        except IngestError as exc:
            problems.append(f"{contract.name}: {exc}")
            continue
        strings = parsed.columns.get(day_column)
        scan.rows += parsed.rows_in
        scan.without_day += len(parsed.rejects)
        if strings is None or parsed.num_rows == 0:
            scan.without_day += parsed.num_rows
            continue
        _add_day_values(scan, strings, column_type, today)
    return scan


def _add_day_values(scan: DayColumnScan, strings, column_type: str, today: date) -> None:
    values = parse_column(strings, column_type)
    days = values.values if column_type == "date" else values.values.cast(pa.date32())
    scan.without_day += int((~values.present | values.invalid).sum())
    known = pc.drop_null(days)
    if len(known):
        scan.days |= set(pc.unique(known).to_pylist())
        future = pc.filter(known, pc.greater(known, pa.scalar(today, pa.date32())))
        if len(future):
            scan.future_rows += len(future)
            latest = pc.max(future).as_py()
            if scan.latest_future_day is None or latest > scan.latest_future_day:
                scan.latest_future_day = latest
    if column_type == "timestamp":
        trimmed = pc.utf8_trim_whitespace(strings)
        usable = values.present & ~values.invalid
        zoned = _mask(pc.fill_null(pc.match_substring_regex(trimmed, _OFFSET), False))
        scan.timestamps += int(usable.sum())
        scan.without_zone += int((usable & ~zoned).sum())


def _mask(values) -> object:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _listing(items: Iterable[str], limit: int = 5) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
