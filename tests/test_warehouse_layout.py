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
