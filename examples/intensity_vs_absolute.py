"""Intensity-based or absolute caps under output uncertainty: plan each design on expected
output, then realise it under the same drawn output paths with the policy held.

    python examples/intensity_vs_absolute.py [N]      # N draws, default 20

Designs (cap_rules.csv rows built from the default dataset's sectors): "intensity to 2030",
every trading sector rate-based (benchmarks chosen on expected output, then held) until
2030 and absolute from 2031; "absolute from 2027", absolute caps from 2027 (a sector's own
entry year if later). Draws: each ETS sector's BAU emissions and output (bau.csv; BAU
alone where it gives no output) scaled together by a lognormal factor (5% spread, seed
2026), a level shock for the whole horizon.
Prints by design, for 2027, 2030 and 2035: the mean and 5-95% range of the allowance price and
of ETS emissions, how often and by how much the national target is missed, the share of
draws whose held caps cannot be met at all, and the expected PV abatement cost.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's model package, also when another is installed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model import load_dataset  # noqa: E402
from model.studies.designs import compare_designs  # noqa: E402

DATASET = ROOT / "inputs" / "china"
SPREAD, SEED = 0.05, 2026
YEARS = (2027, 2030, 2035)


def designs(sectors: pd.DataFrame) -> dict[str, list[dict]]:
    """The two designs as cap rules: simulation where the dataset simulates, intensity from
    trading, then absolute from 2031 or from 2027."""
    covered = sectors[sectors["covered_from"].notna()]
    out: dict[str, list[dict]] = {}
    for name, absolute_from in (("intensity to 2030", 2031), ("absolute from 2027", 2027)):
        rows = []
        for sector in covered.itertuples():
            trading = int(sector.trading_from) if pd.notna(sector.trading_from) else int(sector.covered_from)
            if trading > sector.covered_from:
                rows.append({"sector": sector.sector, "from_year": int(sector.covered_from), "basis": "simulation",
                             "reduction": sector.simulation_reduction})
            if absolute_from > trading:
                rows.append({"sector": sector.sector, "from_year": trading, "basis": "intensity"})
            rows.append({"sector": sector.sector, "from_year": max(absolute_from, trading), "basis": "absolute"})
        out[name] = rows
    return out


def draws(dataset, n: int) -> pd.DataFrame:
    """One row per draw: each ETS sector's bau.csv BAU (and output, where it gives one)
    scaled by one factor."""
    rng = np.random.default_rng(SEED)
    columns = {}
    with_output = set(dataset.bau.loc[dataset.bau["output"].notna(), "sector"])
    for sector in dataset.sectors.loc[dataset.sectors["covered_from"].notna(), "sector"]:
        factor = rng.lognormal(0.0, SPREAD, size=n)
        columns[f"bau.{sector}.*.bau_mt*"] = factor
        if sector in with_output:
            columns[f"bau.{sector}.*.output*"] = factor
    return pd.DataFrame(columns)


def main(n: int = 20) -> pd.DataFrame:
    dataset = load_dataset(DATASET)
    _, summary = compare_designs(dataset, designs(dataset.sectors), draws(dataset, n))
    table = summary[summary["year"].isin(YEARS)].set_index(["design", "year"])
    pd.set_option("display.width", 200)
    print(f"{n} draws of ETS output (lognormal, {SPREAD:.0%} spread, seed {SEED}), policy planned on expected output\n")
    print(table[["price_mean", "price_p5", "price_p95", "ets_emissions_mean_mt", "ets_emissions_p5_mt",
                 "ets_emissions_p95_mt", "miss_probability", "miss_mean_mt", "infeasible_share",
                 "expected_cost_bn_cny"]].round(1).to_string())
    return table


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
