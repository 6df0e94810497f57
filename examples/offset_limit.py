"""The offset limit on the default dataset: what CCER offsets do to the allowance price and
the cost when the trading sectors may surrender them for 0, 5 (China's rule since the January
2024 relaunch) or 10% of their verified emissions. The offset supply is the dataset's
offsets.csv (sources in inputs/china/SOURCES.md).

    python examples/offset_limit.py              # or: python run.py sweep examples/offset_limit.toml

Prints the allowance price and the offsets used by milestone year for each limit, and the
PV cost (abatement plus offsets, 2025-2060) and its difference from no offsets.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's model package, also when another is installed

import pandas as pd  # noqa: E402

from model import load_dataset  # noqa: E402
from model.studies.study import sweep  # noqa: E402

DATASET = ROOT / "inputs" / "china"
KEY = "market.offset_limit_share"
GRID = {KEY: [0.0, 0.05, 0.1]}
YEARS = [2027, 2030, 2035, 2040, 2050, 2060]


def offset_limit() -> tuple[pd.DataFrame, pd.Series]:
    """Allowance price (CNY/t) and offsets used (Mt) by year for each limit, and the PV cost (bn CNY)."""
    if load_dataset(DATASET).offsets.empty:
        raise SystemExit(f"{DATASET}/offsets.csv is missing: the limit has no offsets to limit")
    study = sweep(DATASET, GRID)  # one LP re-solved: only coefficients of the limit's rows change
    if (study.scenarios["status"] != "optimal").any():
        raise SystemExit(study.scenarios.loc[study.scenarios["status"] != "optimal", ["scenario", "message"]])
    label = {s: f"{share:.0%}" for s, share in zip(study.scenarios["scenario"], study.scenarios[KEY])}
    years = study.years.assign(limit=study.years["scenario"].map(label)).query("year in @YEARS")
    table = pd.concat({name: years.pivot(index="year", columns="limit", values=column)[list(label.values())]
                       for column, name in (("allowance_price_cny_per_t", "price CNY/t"),
                                            ("offsets_used_mt", "offsets Mt"))}, axis=1)
    cost = study.scenarios.set_index(study.scenarios["scenario"].map(label))["objective_bn_cny"]
    return table, cost


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    table, cost = offset_limit()
    print(table.to_string(float_format=lambda x: f"{x:,.1f}"))
    print("PV cost 2025-2060 (bn CNY): " + ", ".join(
        f"{name} {value:,.1f} ({value - cost.iloc[0]:+,.1f})" for name, value in cost.items()))
