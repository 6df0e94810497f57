"""Compare the two allocation objectives on the default dataset (issue 4).

    python examples/allocation_objectives.py

Stage 1 (least cost: abatement, ETS cap, prices) is the same for both; stage 2 chooses
free allocation either to minimise the largest burden share of value added
(`min_max_burden`) or to maximise auction revenue with every burden share at most
`allocation.max_burden_share` (`max_auction_revenue`). Prints, for 2027 and 2030, each
covered sector's cap, free share and burden share under both, and the auction revenue.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from model import load_dataset, solve

DATASET = Path(__file__).resolve().parent.parent / "inputs" / "china"
YEARS = (2027, 2030)


def allocation_table(results, label: str) -> pd.DataFrame:
    table = results.sector_years.query("phase != 'outside' and year in @YEARS")
    return table.set_index(["year", "sector"])[["cap_mt", "free_share", "burden_share_of_value_added"]].rename(
        columns=lambda c: f"{label}: {c}")


def main() -> None:
    dataset = load_dataset(DATASET)
    fair = solve(dataset)
    revenue = solve(dataset, overrides={"allocation.objective": "max_auction_revenue"})
    table = allocation_table(fair, "min_max_burden").join(allocation_table(revenue, "max_auction_revenue"))
    pd.set_option("display.width", 200)
    print(table.round(3).to_string())
    revenue_by_year = pd.DataFrame({
        "min_max_burden": fair.years.set_index("year")["auction_revenue_bn_cny"],
        "max_auction_revenue": revenue.years.set_index("year")["auction_revenue_bn_cny"],
    }).loc[[2027, 2030, 2035, 2040, 2050]]
    print("\nAuction revenue, bn CNY")
    print(revenue_by_year.round(1).to_string())
    largest = pd.DataFrame({
        "min_max_burden": fair.sector_years.groupby("year")["burden_share_of_value_added"].max(),
        "max_auction_revenue": revenue.sector_years.groupby("year")["burden_share_of_value_added"].max(),
        "limit (targets.csv)": revenue.years.set_index("year")["max_burden_share"]
        if "max_burden_share" in revenue.years else float("nan"),
    }).loc[[2027, 2030, 2035, 2040, 2050, 2060]]
    print("\nLargest burden share of value added")
    print(largest.round(4).to_string())


if __name__ == "__main__":
    main()
