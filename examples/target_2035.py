"""The 2035 national target 7% or 10% below the peak: what it does to the allowance price,
the ETS cap and the cost. The default targets are economy-wide net GHG ([targets] scope =
"net_ghg": the model's CO2 + 2,000 Mt non-CO2 - 1,100 Mt sinks); their peak is 12,900 Mt CO2e
(2025-30, the observed 2024 CO2 level); the default dataset's 2035 row (11,803.5 Mt, 8.5%
below) lies between the two. Both leave more CO2 than the current-policy BAU of 2035
(10,440 Mt), so neither binds in 2035.

    python examples/target_2035.py              # or: python run.py sweep examples/target_2035.toml

Prints the allowance price and the ETS cap by year (the targets between 2030 and 2040 are
interpolated, so those years move) and the present value of abatement cost (2025-2060)
for both targets.
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
BELOW_PEAK = {"7% below peak": 0.07, "10% below peak": 0.10}
YEARS = [2025, 2030, 2032, 2035, 2038, 2040, 2050, 2060]


def targets_2035_mt() -> dict[str, float]:
    """The 2035 national targets (Mt, in the dataset's scope): the peak of the target path less 7% and 10%."""
    peak = load_dataset(DATASET).targets["national_cap_mt"].max()
    return {name: round(peak * (1 - cut), 1) for name, cut in BELOW_PEAK.items()}


def target_2035() -> tuple[pd.DataFrame, pd.Series]:
    """Allowance price (CNY/t) and ETS cap (Mt) by year, and the PV cost (bn CNY), for both targets."""
    caps = targets_2035_mt()
    study = sweep(DATASET, {"targets.2035.national_cap_mt": list(caps.values())})
    if (study.scenarios["status"] != "optimal").any():
        raise SystemExit(study.scenarios.loc[study.scenarios["status"] != "optimal", ["scenario", "message"]])
    target = dict(enumerate(caps))  # scenario -> name, in the order of the sweep
    years = study.years.assign(target=study.years["scenario"].map(target)).query("year in @YEARS")
    table = pd.concat({label: years.pivot(index="year", columns="target", values=column)[list(caps)]
                       for column, label in (("allowance_price_cny_per_t", "price CNY/t"), ("ets_cap_mt", "ETS cap Mt"))},
                      axis=1)
    cost = study.scenarios.set_index(study.scenarios["scenario"].map(target))["objective_bn_cny"]
    return table, cost


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    print("2035 national cap (Mt CO2):", ", ".join(f"{name} {cap:,.0f}" for name, cap in targets_2035_mt().items()))
    table, cost = target_2035()
    print(table.to_string(float_format=lambda x: f"{x:,.1f}"))
    print("PV abatement cost 2025-2060 (bn CNY): " + ", ".join(f"{name} {value:,.1f}" for name, value in cost.items())
          + f"; difference {cost.iloc[1] - cost.iloc[0]:,.1f}")
