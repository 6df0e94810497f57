"""How uncertain is the 2030 allowance price when the verified emissions of the newly
covered sectors may be off by 5%? Each of steel, cement, aluminium, chemicals,
petrochemicals, paper and aviation has its BAU emissions path (bau.csv, every year; its
output unchanged) multiplied by its own draw from uniform[0.95, 1.05]; 1,000 draws, solved
on a local Dask cluster. (sectors.csv base_emissions_mt would not do: bau.csv's paths
replace the growth path made from it, and such a key is refused.)

    python examples/measurement_uncertainty.py [--serial]   # or: python run.py montecarlo examples/measurement_uncertainty.toml

Prints the allowance price in 2030 (and some years around it for comparison) without
measurement error and its mean, 5th, 50th and 95th percentiles across the draws, and the
same for the present value of abatement cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's model package, also when another is installed

import pandas as pd  # noqa: E402

from model import solve  # noqa: E402
from model.studies.study import monte_carlo  # noqa: E402

DATASET = ROOT / "inputs" / "china"
NEWLY_COVERED = ("steel", "cement", "aluminium", "chemicals", "petrochemicals", "paper", "aviation")
DISTRIBUTIONS = {f"bau.{sector}.*.bau_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}
                 for sector in NEWLY_COVERED}
DRAWS, SEED, YEAR = 1000, 42, 2030
YEARS = [2027, 2030, 2032, 2035, 2040, 2050]  # 2030 and, for comparison, years around it
PERCENTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}


def measurement_uncertainty(client: str | None = "local") -> tuple[pd.DataFrame, pd.Series, dict]:
    """The allowance price by year without measurement error and across the draws (mean and
    percentiles, CNY/t), the same for the PV abatement cost (bn CNY), and the study's info."""
    study = monte_carlo(DATASET, DRAWS, DISTRIBUTIONS, SEED, client=client)
    solved = study.scenarios["status"] == "optimal"
    if not solved.any():
        raise SystemExit(study.scenarios[["scenario", "status", "message"]].head())
    central = solve(DATASET, allocation=False).years.set_index("year")["allowance_price_cny_per_t"]
    price = study.years[study.years["year"].isin(YEARS)].groupby("year")["allowance_price_cny_per_t"]
    table = pd.concat({"no error": central[YEARS], "mean": price.mean(),
                       **{name: price.quantile(q) for name, q in PERCENTILES.items()}}, axis=1)
    cost = study.scenarios.loc[solved, "objective_bn_cny"]
    cost = pd.Series({"mean": cost.mean(), **{name: cost.quantile(q) for name, q in PERCENTILES.items()}})
    return table, cost, study.info | {"optimal": int(solved.sum())}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serial", action="store_true", help="Solve in this process instead of a local cluster.")
    args = parser.parse_args()
    started = time.perf_counter()
    price, cost, info = measurement_uncertainty(None if args.serial else "local")
    elapsed = time.perf_counter() - started
    print(f"Allowance price, CNY/t, without measurement error and across {info['optimal']} of {DRAWS} draws:")
    print(price.to_string(float_format=lambda x: f"{x:,.1f}"))
    print("PV abatement cost 2025-2060, bn CNY: " + ", ".join(f"{name} {value:,.0f}" for name, value in cost.items()))
    print(f"{DRAWS} scenarios in {elapsed:.1f} s on {info['run_on']}: {info['scenarios_per_second']:.1f} scenarios/s "
          f"once started ({info['seconds']['start']:.1f} s to start)")
