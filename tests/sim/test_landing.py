"""Landing files land where and how the contracts say, atomically and reproducibly; a daily
run writes only the days not yet landed, with the same result as a full write."""

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import psycopg2
import pyarrow.parquet as pq
import pytest
from psycopg2 import sql

from aimass.sim import landing
from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop
from aimass.sim.landing import (
    MANIFEST_NAME,
    landed_days,
    landing_fingerprint,
    landing_root,
    partition_path,
    write_landing,
)


@pytest.fixture(scope="module")
def other_shop():
    """`tiny` with another seed: same days and sources, other rows."""
    return simulate_shop(load_shop_config("tiny", seed=8))


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _inodes(root: Path) -> dict[str, int]:
    """Every file's inode: a file replaced atomically gets a new one."""
    return {str(p.relative_to(root)): p.stat().st_ino for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def landed(tiny_shop, tmp_path_factory):
    root = tmp_path_factory.mktemp("landing")
    files = write_landing(tiny_shop, root.as_uri())
    return root, files


def test_one_file_per_source_per_day(landed, tiny_shop, contracts):
    root, files = landed
    expected = {
        str(root / name / day.isoformat() / f"part-0000.{c.format}")
        for name, c in contracts.items()
        for day in tiny_shop.days
    }
    assert set(files) == expected
    assert sorted(p.name for p in root.rglob("*") if p.is_file() and p.name.startswith(".")) == []


def test_csv_partitions_hold_the_rows_of_their_day(landed, tiny_shop, contracts):
    root, _ = landed
    start = tiny_shop.days[0]
    for name, contract in contracts.items():
        total = 0
        for k, day in enumerate(tiny_shop.days):
            frame = pd.read_csv(root / name / day.isoformat() / "part-0000.csv", dtype=str)
            assert list(frame.columns) == contract.column_names
            total += len(frame)
            if contract.is_snapshot:
                stamp = pd.to_datetime(frame["updated_at"], utc=True)
                days = (stamp - pd.Timestamp(start, tz="UTC")).dt.days
                assert ((days == k) | ((k == 0) & (days < 0))).all(), f"{name} {day}"
            else:
                stamp = pd.to_datetime(frame[contract.partition], utc=True)
                days = (stamp - pd.Timestamp(start, tz="UTC")).dt.days
                allowed = [k - 1, k] if name in ("events", "ad_events") else [k]
                assert days.isin(allowed).all(), f"{name} {day}"
        if not contract.is_snapshot and name not in ("events", "ad_events"):
            assert total == len(tiny_shop.tables[name]), name


def test_snapshot_exports_rebuild_the_latest_state(landed, tiny_shop, contracts):
    root, _ = landed
    for name, contract in contracts.items():
        if not contract.is_snapshot:
            continue
        frames = [
            pd.read_csv(root / name / day.isoformat() / "part-0000.csv", dtype=str)
            for day in tiny_shop.days
        ]
        history = pd.concat(frames, ignore_index=True)
        history["_ts"] = pd.to_datetime(history["updated_at"], utc=True)
        latest = history.sort_values("_ts").drop_duplicates(list(contract.primary_key), keep="last")
        assert len(latest) == len(tiny_shop.tables[name]), name
        key = contract.primary_key[0]
        expected = tiny_shop.tables[name].set_index(key)["updated_at"]
        got = latest.set_index(key)["_ts"].reindex(expected.index)
        assert (got == expected).all(), name


def test_rewriting_a_day_gives_identical_bytes(landed, tiny_shop):
    root, files = landed
    before = {f: open(f, "rb").read() for f in files}
    day = tiny_shop.days[5]
    rewritten = write_landing(tiny_shop, str(root), days=[day])
    assert len(rewritten) == 14
    for path in rewritten:
        assert open(path, "rb").read() == before[path]


def test_jsonl_and_parquet_formats(tiny_shop, contracts, tmp_path):
    jsonl = {n: dataclasses.replace(c, format="jsonl") for n, c in contracts.items()}
    parquet = {n: dataclasses.replace(c, format="parquet") for n, c in contracts.items()}
    day = tiny_shop.days[14]
    write_landing(tiny_shop, str(tmp_path / "j"), days=[day], contracts=jsonl)
    write_landing(tiny_shop, str(tmp_path / "p"), days=[day], contracts=parquet)
    for name in ("orders", "coupon_assignments", "coupon_campaigns"):
        expected = tiny_shop.landing[name].day(day).num_rows
        lines = (
            (tmp_path / "j" / name / day.isoformat() / "part-0000.jsonl").read_text().splitlines()
        )
        assert len(lines) == expected
        if lines:
            assert list(json.loads(lines[0])) == contracts[name].column_names
        table = pq.read_table(tmp_path / "p" / name / day.isoformat() / "part-0000.parquet")
        assert table.num_rows == expected
        assert table.column_names == contracts[name].column_names
    assert (
        str(
            pq.read_schema(tmp_path / "p" / "order_items" / day.isoformat() / "part-0000.parquet")
            .field("line_no")
            .type
        )
        == "int32"
    )


def test_bad_uri_and_unsimulated_days_are_refused(tiny_shop, tmp_path):
    with pytest.raises(ValueError, match="local landing areas only"):
        landing_root("s3://bucket/landing")
    with pytest.raises(ValueError, match="were not simulated"):
        write_landing(tiny_shop, str(tmp_path), days=[tiny_shop.days[-1] + timedelta(days=1)])


def test_csv_files_load_into_postgres_with_contract_types(
    landed, tiny_shop, contracts, empty_db_url
):
    """Every source's CSV parses in PostgreSQL COPY with the contract's column types."""
    root, _ = landed
    conn = psycopg2.connect(empty_db_url)
    try:
        with conn.cursor() as cur:
            for name, contract in contracts.items():
                table = sql.Identifier(name)
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type))
                    for c in contract.columns
                )
                cur.execute(sql.SQL("create table {} ({})").format(table, columns))
                for day in tiny_shop.days:
                    with open(root / name / day.isoformat() / "part-0000.csv", "rb") as fh:
                        cur.copy_expert(
                            sql.SQL("copy {} from stdin with (format csv, header true)").format(
                                table
                            ),
                            fh,
                        )
                cur.execute(sql.SQL("select count(*) from {}").format(table))
                loaded = cur.fetchone()[0]
                assert loaded == sum(
                    tiny_shop.landing[name].day(d).num_rows for d in tiny_shop.days
                )
            cur.execute("select count(*) from orders where coupon_id is null")
            assert cur.fetchone()[0] == tiny_shop.tables["orders"]["coupon_id"].isna().sum()
            cur.execute("select min(event_ts) >= timestamptz '2026-07-01 00:00+00' from events")
            assert cur.fetchone()[0] is True
    finally:
        conn.close()


@pytest.mark.parametrize("gap", [1, 6])
def test_landing_day_by_day_equals_a_full_write(
    landed, tiny_shop, tiny_shop_until, contracts, tmp_path, gap
):
    """Days up to D - gap landed first, then the run of D writes only the new days' files
    (and the manifest); the landing area is then byte for byte a fresh full write up to D."""
    full_root, _ = landed
    earlier = tiny_shop_until(tiny_shop.days[-1 - gap])
    root = tmp_path / "landing"
    write_landing(earlier, root.as_uri())
    before = _inodes(root)
    already = landed_days(tiny_shop, root.as_uri())
    assert already == earlier.days
    new_days = [d for d in tiny_shop.days if d not in already]
    assert new_days == tiny_shop.days[-gap:]
    files = write_landing(tiny_shop, root.as_uri(), days=new_days)
    new_files = {str(partition_path(root, c, d)) for c in contracts.values() for d in new_days}
    assert set(files) == new_files
    assert _tree(root) == _tree(full_root)
    after = _inodes(root)
    replaced = {path for path, inode in after.items() if before.get(path) != inode}
    assert replaced == {str(Path(f).relative_to(root)) for f in new_files} | {MANIFEST_NAME}
    assert landed_days(tiny_shop, root.as_uri()) == tiny_shop.days


def test_landing_the_same_day_again_changes_nothing(tiny_shop, tiny_shop_until, tmp_path):
    root = tmp_path / "landing"
    write_landing(tiny_shop, str(root))
    tree, inodes = _tree(root), _inodes(root)
    assert landed_days(tiny_shop, str(root)) == tiny_shop.days
    assert write_landing(tiny_shop, str(root), days=[]) == []
    assert _tree(root) == tree and _inodes(root) == inodes
    earlier = tiny_shop_until(tiny_shop.days[10])
    assert landed_days(earlier, str(root)) == earlier.days


def test_another_config_rewrites_every_day(tiny_shop, other_shop, contracts, tmp_path):
    root = tmp_path / "landing"
    write_landing(tiny_shop, str(root))
    assert landed_days(other_shop, str(root)) == []
    files = write_landing(other_shop, str(root))
    assert len(files) == len(contracts) * len(other_shop.days)
    write_landing(other_shop, str(tmp_path / "fresh"))
    assert _tree(root) == _tree(tmp_path / "fresh")
    assert landed_days(other_shop, str(root)) == other_shop.days
    assert landed_days(tiny_shop, str(root)) == []


def test_an_interrupted_overwrite_vouches_for_no_day(tiny_shop, other_shop, tmp_path, monkeypatch):
    """Files of another config half overwritten: the manifest lists no day of either."""
    root = tmp_path / "landing"
    write_landing(tiny_shop, str(root))
    serialise, calls = landing.serialise, []

    def failing(rows, contract):
        calls.append(contract.name)
        if len(calls) > 20:
            raise OSError("No space left on device")
        return serialise(rows, contract)

    monkeypatch.setattr(landing, "serialise", failing)
    with pytest.raises(OSError, match="No space"):
        write_landing(other_shop, str(root))
    assert landed_days(tiny_shop, str(root)) == []
    assert landed_days(other_shop, str(root)) == []


def test_a_missing_file_or_another_format_is_not_landed(tiny_shop, contracts, tmp_path):
    root = tmp_path / "landing"
    write_landing(tiny_shop, str(root))
    day = tiny_shop.days[7]
    partition_path(root, contracts["orders"], day).unlink()
    assert landed_days(tiny_shop, str(root)) == [d for d in tiny_shop.days if d != day]
    parquet = {n: dataclasses.replace(c, format="parquet") for n, c in contracts.items()}
    assert landed_days(tiny_shop, str(root), contracts=parquet) == []
    # a contract change that keeps the file names (format, columns) changes the fingerprint
    orders = contracts["orders"]
    for changed in (
        dataclasses.replace(orders, format="jsonl"),
        dataclasses.replace(orders, columns=orders.columns[:-1]),
    ):
        other = landing_fingerprint(tiny_shop, {**contracts, "orders": changed})
        assert other != landing_fingerprint(tiny_shop, contracts)
    (root / MANIFEST_NAME).write_text("{not json")
    assert landed_days(tiny_shop, str(root)) == []
