"""Price containment on the default dataset: a reserve with two trigger tiers and a hard
price ceiling, against none. The tiers and the ceiling are an illustrative design (China has
neither yet; the August 2025 Opinions announce "a quota reserve and market adjustment
mechanism"), in the shape WCI's and NZ's reserves have: tier 1 offers 100 Mt a year at
200 CNY/t, tier 2 200 Mt a year at 300 CNY/t, from a pool of 2,000 Mt over 2025-2060, and
allowances are sold without limit at 400 CNY/t. Released and ceiling allowances are not
counted under the national target, so where they are sold the national target is exceeded,
by as much. A fourth design adds a price floor of 50 CNY/t from 2030 (a corridor; WCI has an
auction floor): auctioned allowances go unsold rather than sell below it, while the year's
auctioned volume (min_auction_share x the cap) lasts.

    python examples/price_containment.py

Prints the allowance price by milestone year for the four designs, what the reserve and the
ceiling sell, what goes unsold at the floor, the national overshoot (Mt CO2 over 2025-2060: those sales, and any offsets
outside the national count the dataset's offsets.csv supplies) and the PV cost.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's model package, also when another is installed

import pandas as pd  # noqa: E402

from model import load_dataset, solve  # noqa: E402

DATASET = ROOT / "inputs" / "china"
TIERS = pd.DataFrame({"year": [2025, 2025], "tier": ["1", "2"], "trigger_price_cny_per_t": [200.0, 300.0],
                      "volume_mt": [100.0, 200.0], "source": ["illustrative design (examples/price_containment.py)"] * 2})
POOL_MT = 2000.0
CEILING_CNY_PER_T = 400.0
FLOOR_CNY_PER_T, FLOOR_FROM = 50.0, 2030
YEARS = [2030, 2035, 2040, 2045, 2050, 2055, 2060]


def designs() -> dict[str, object]:
    """The four datasets: the default, with the reserve, with the reserve and the ceiling, and
    with the reserve, the ceiling and the floor."""
    base = load_dataset(DATASET)
    settings = {**base.settings, "market.reserve.initial_mt": POOL_MT,
                "market.reserve.counts_in_national_target": False}
    reserve = base.replace(reserve=TIERS, settings=settings)
    ceiling = reserve.replace(targets=reserve.targets.assign(price_ceiling_cny_per_t=CEILING_CNY_PER_T))
    floor = ceiling.targets["year"].map(lambda year: FLOOR_CNY_PER_T if year >= FLOOR_FROM else None)
    corridor = ceiling.replace(targets=ceiling.targets.assign(price_floor_cny_per_t=floor.astype(float)))
    return {"none": base, "reserve": reserve, "reserve + ceiling": ceiling, "reserve + ceiling + floor": corridor}


def price_containment() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The price path by design (CNY/t, year-t money) and each design's totals: released,
    sold at the ceiling, unsold at the floor, offsets outside the national count, the national overshoot (Mt over
    the horizon) and the PV cost (bn CNY)."""
    prices, totals = {}, {}
    for name, dataset in designs().items():
        results = solve(dataset, allocation=False)
        years = results.years.set_index("year")
        prices[name] = years.loc[YEARS, "allowance_price_cny_per_t"]
        totals[name] = {
            "reserve released Mt": float(years.get("reserve_released_mt", pd.Series(0.0)).sum()),
            "ceiling sales Mt": float(years.get("ceiling_sales_mt", pd.Series(0.0)).sum()),
            "unsold at the floor Mt": float(years.get("withdrawn_mt", pd.Series(0.0)).sum()),
            "offsets outside the national count Mt": float(years.get("offsets_overshoot_mt", pd.Series(0.0)).sum()),
            "national overshoot Mt": float(results.summary.get("national_overshoot_mt", 0.0)),
            "PV cost bn CNY": float(results.summary["objective_bn_cny"]),
        }
    return pd.DataFrame(prices), pd.DataFrame(totals)


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    prices, totals = price_containment()
    print("Allowance price, CNY/t (year-t money)")
    print(prices.to_string(float_format=lambda x: f"{x:,.1f}"))
    print("\nTotals 2025-2060")
    print(totals.to_string(float_format=lambda x: f"{x:,.1f}"))
