from aimass.contracts import load_contracts
from aimass.warehouse import SCHEMAS


def test_layout_creates_every_schema_and_raw_table(warehouse):
    with warehouse.cursor() as cur:
        cur.execute("select schema_name from information_schema.schemata")
        schemas = {r[0] for r in cur.fetchall()}
        cur.execute("select table_name from information_schema.tables where table_schema = 'raw'")
        raw_tables = {r[0] for r in cur.fetchall()}
    assert set(SCHEMAS) <= schemas
    assert set(load_contracts()) | {"_load_log"} <= raw_tables


def test_every_raw_table_has_brin_indexes_on_its_load_time_and_day(warehouse):
    with warehouse.cursor() as cur:
        cur.execute(
            """
            select t.relname, a.attname
            from pg_index i
            join pg_class t on t.oid = i.indrelid
            join pg_namespace n on n.oid = t.relnamespace
            join pg_class ix on ix.oid = i.indexrelid
            join pg_am am on am.oid = ix.relam
            join pg_attribute a on a.attrelid = t.oid and a.attnum = any(i.indkey)
            where n.nspname = 'raw' and am.amname = 'brin'
            """
        )
        indexed = set(cur.fetchall())
    assert indexed == {
        (source, column) for source in load_contracts() for column in ("_loaded_at", "_ds")
    }


def test_a_watermark_query_on_a_long_raw_history_reads_the_brin_index(warehouse):
    with warehouse.cursor() as cur:
        cur.execute(
            """
            insert into raw.orders (order_id, _batch_id, _loaded_at, _source_uri, _ds)
            select 'o' || g, 'b' || (g / 1000), timestamptz '2026-07-01' + (g / 1000) * interval
                '1 day', 'file:///x', date '2026-07-01' + (g / 1000)
            from generate_series(1, 200000) g
            """
        )
        cur.execute("analyze raw.orders")
        cur.execute(
            "explain select count(*) from raw.orders "
            "where _loaded_at >= timestamptz '2026-07-01' + 199 * interval '1 day'"
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
    warehouse.rollback()
    assert "orders__loaded_at_brin" in plan, plan
