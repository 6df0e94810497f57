"""What an optimum fixes, for tests that compare two solves of one scenario (README, bank limits).

With bank limits the market's bank may be held by any sector with room under its limit (any
split is as cheap): each sector's ``bank_mt``, ``net_sales_mt`` and ``cancelled_mt`` are not
unique, the market's bank and cancellations (years.csv) are. While the allowance price is 0
a surplus is as well banked, cancelled or not issued: in those years neither the ETS cap,
the bank, the cancellations nor the allocation that follows them is unique. The prices,
emissions, abatement and the cost always are."""

from __future__ import annotations

import pandas as pd

SECTOR_SPLIT = ("bank_mt", "net_sales_mt", "cancelled_mt")  # sector_years columns: which sector holds the bank


def without_sector_split(sector_years: pd.DataFrame) -> pd.DataFrame:
    """sector_years without the columns saying which sector holds the market's bank."""
    return sector_years.drop(columns=[c for c in SECTOR_SPLIT if c in sector_years])


def priced(table: pd.DataFrame, years: pd.DataFrame, tolerance_cny_per_t: float = 1e-6) -> pd.DataFrame:
    """The rows of ``table`` in years with a positive allowance price (``years``: the years table)."""
    price = years.set_index("year")["allowance_price_cny_per_t"]
    positive = price.index[price > tolerance_cny_per_t]
    return table[table["year"].isin(positive)].reset_index(drop=True)
