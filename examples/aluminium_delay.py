"""What does delaying real trading for aluminium cost? Trading from 2027 (as planned) to
2032: 0-5 more years of the simulation phase, in which aluminium must meet its own rule
cap (2% below BAU) at its own marginal cost instead of buying and selling allowances.

    python examples/aluminium_delay.py          # or: python run.py sweep examples/aluminium_delay.toml

Prints, for each first trading year, the present value of abatement cost (all sectors,
2025-2060) and its difference from trading in 2027, and, averaged over the extra
simulation years, aluminium's own price (its marginal cost of meeting the rule cap alone)
against the allowance price: the gap is what trading would have saved per tonne.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's model package, also when another is installed

import pandas as pd  # noqa: E402

from model.studies import sweep  # noqa: E402

DATASET = ROOT / "inputs" / "china"
GRID = {"sectors.aluminium.trading_from": [2027, 2028, 2029, 2030, 2031, 2032]}
PLANNED = 2027


def aluminium_delay() -> pd.DataFrame:
    """One row per first trading year: PV cost, its difference from 2027, and the mean own
    price of aluminium and allowance price over the years it simulates beyond 2027."""
    study = sweep(DATASET, GRID)  # a few structural scenarios: in this process is fastest
    if (study.scenarios["status"] != "optimal").any():
        raise SystemExit(study.scenarios.loc[study.scenarios["status"] != "optimal", ["scenario", "message"]])
    key = "sectors.aluminium.trading_from"
    aluminium = study.with_inputs("sector_years").query("sector == 'aluminium'")
    delayed = aluminium[(aluminium["year"] >= PLANNED) & (aluminium["year"] < aluminium[key])]
    prices = study.years[["scenario", "year", "allowance_price_cny_per_t"]]
    delayed = delayed.merge(prices, on=["scenario", "year"])
    gap = delayed.groupby(key)[["own_price_cny_per_t", "allowance_price_cny_per_t"]].mean()
    table = study.scenarios.set_index(key)[["objective_bn_cny"]]
    table.insert(0, "extra simulation years", table.index - PLANNED)
    table["vs 2027 (m CNY)"] = (table["objective_bn_cny"] - table.loc[PLANNED, "objective_bn_cny"]) * 1e3
    table = table.join(gap.rename(columns={"own_price_cny_per_t": "own price (CNY/t)",
                                           "allowance_price_cny_per_t": "allowance price (CNY/t)"}))
    table.index.name = "trading from"
    return table.rename(columns={"objective_bn_cny": "PV cost (bn CNY)"})


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    print(aluminium_delay().to_string(float_format=lambda x: f"{x:,.2f}", na_rep="-"))
