"""Back-test: the model's allowance price for 2021-2025 next to the observed CEA price.

The dataset is solved over 2021-2025 with the rules of those years as far as the model
has them: power trades from 2021, steel, cement and aluminium from 2025 (their
``covered_from``), and China's pre-peak targets are intensity targets, so no absolute
national cap binds (the first target row's cap is held back to 2021). It is a test of the
data, not a fit: no number is tuned to the observed prices. The rules that set those
prices and that the model does not have are listed in ``MISSING_RULES``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..data.inputs import Dataset
from ..parameters.phases import TRADING

FIRST_YEAR, LAST_YEAR = 2021, 2025

# The observed CEA price of each year (CNY/t) and where it comes from; a blank year was not retrieved.
OBSERVED = pd.DataFrame([
    (2021, 42.85, "average of the first compliance period's trades in 2021 (179 Mt, CNY 7.661 bn); launch 48 on "
                  "16 July 2021, close 54.22 on 31 Dec 2021 (Zhoutai Law; SEEE via CM Group)"),
    (2022, 55.00, "close of 2022 (30 Dec 2022; 61.38 high in Jan 2022) (MVGX weekly update, 3 Jan 2023)"),
    (2023, np.nan, "not retrieved"),
    (2024, 97.49, "close of 2024; record 105.66 on 13 Nov 2024 (issue 15; SEEE)"),
    (2025, 57.50, "midpoint of about 45-70 through 2025 (issue 15; estimate of the range's midpoint)"),
], columns=["year", "observed_cny_per_t", "observed_source"])

MISSING_RULES = (
    "the intensity benchmarks of 2021-2026 (rate-based allocation) tightened each year below the "
    "entities' own intensity (an allowance deficit whatever the absolute level; the default's "
    "cap_rules.csv starts power's intensity rule in 2027, so before it the model caps absolute emissions)",
    "the banking limits as they bind entity by entity (the dataset's limits sum them by sector "
    "with the sales taken as given)",
    "two-year compliance periods with one surrender deadline each (the model clears every year)",
    "CCER offsets before 2025 (offsets.csv starts in 2025)",
)


def backtest_dataset(dataset: Dataset, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> Dataset:
    """``dataset`` over ``first_year``-``last_year``. Before the targets' first row there is no
    absolute national cap (China's pre-peak targets are intensity targets): a row in
    ``first_year`` puts the cap at the national BAU of those years, rounded up to 10 Mt, so it
    never binds (as the current_policy scenario does); later rows unchanged. base_year moves
    back to ``first_year`` if it is later (bau.csv's paths are then held at their first row's
    values before it)."""
    from ..parameters.derive import derive_parameters

    settings = {**dataset.settings, "first_year": first_year, "last_year": last_year,
                "base_year": min(dataset.settings["base_year"], first_year)}
    targets = dataset.targets.sort_values("year", ignore_index=True)
    first_target = int(targets["year"].iloc[0])
    if first_target <= first_year:
        return dataset.replace(settings=settings)
    held = targets.iloc[[0]].assign(year=first_year, ets_cap_mt=np.nan, source="")
    trial = dataset.replace(settings=settings, targets=pd.concat([held, targets], ignore_index=True))
    p = derive_parameters(trial)
    before = p.years < first_target
    national_bau = p.sum_by_year(p.sector_years["bau_mt"].to_numpy())[before].max()
    held = held.assign(national_cap_mt=max(float(np.ceil(national_bau / 10.0) * 10.0),
                                           float(targets["national_cap_mt"].iloc[0])),
                       source="back-test: no absolute national cap before the targets' first row (pre-peak "
                              "targets are intensity targets): the national BAU rounded up to 10 Mt")
    return dataset.replace(settings=settings, targets=pd.concat([held, targets], ignore_index=True))


def backtest(dataset: Dataset, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> pd.DataFrame:
    """The model's price by year next to the observed one: year, model_cny_per_t,
    observed_cny_per_t, gap_cny_per_t (model - observed), abatement_at_observed_mt (what the
    trading sectors' steps costing at most the observed price could abate, Mt, before any
    deployment limit: the cut the observed price would buy), observed_source."""
    from ..solving.pipeline import solve

    results = solve(backtest_dataset(dataset, first_year, last_year), allocation=False, installations=False)
    model = results.years[["year", "allowance_price_cny_per_t"]].rename(
        columns={"allowance_price_cny_per_t": "model_cny_per_t"})
    table = model.merge(OBSERVED, on="year", how="left")
    table["gap_cny_per_t"] = table["model_cny_per_t"] - table["observed_cny_per_t"]
    # what the abatement curves offer at the observed price: the trading sectors' steps costing
    # no more than it (their potential, before any deployment limit)
    steps = results.abatement_steps
    phase = results.sector_years.set_index(["sector", "year"])["phase"]
    trading = phase.reindex(pd.MultiIndex.from_frame(steps[["sector", "year"]])).to_numpy() == TRADING
    observed = table.set_index("year")["observed_cny_per_t"].reindex(steps["year"]).to_numpy()
    cheap = trading & (steps["cost_cny_per_t"].to_numpy() <= np.nan_to_num(observed, nan=-np.inf))
    offered = pd.Series(np.where(cheap, steps["potential_mt"].to_numpy(), 0.0)).groupby(steps["year"].to_numpy()).sum()
    table["abatement_at_observed_mt"] = np.where(table["observed_cny_per_t"].notna(),
                                                 offered.reindex(table["year"]).fillna(0.0).to_numpy(), np.nan)
    return table[["year", "model_cny_per_t", "observed_cny_per_t", "gap_cny_per_t", "abatement_at_observed_mt",
                  "observed_source"]]


def describe(table: pd.DataFrame, missing: Sequence[str] = MISSING_RULES) -> str:
    """The back-test as text: a line per year, then the rules the model lacks."""
    def number(value: Any) -> str:
        return "n/a" if pd.isna(value) else f"{value:,.1f}"

    lines = [f"{'year':<6}{'model':>10}{'observed':>10}{'gap':>10}{'Mt at observed':>16}  observed: source"]
    for row in table.itertuples(index=False):
        lines.append(f"{row.year:<6}{number(row.model_cny_per_t):>10}{number(row.observed_cny_per_t):>10}"
                     f"{number(row.gap_cny_per_t):>10}{number(row.abatement_at_observed_mt):>16}  "
                     f"{row.observed_source if isinstance(row.observed_source, str) else ''}")
    lines.append("prices in CNY/t; rules the model does not have: " + "; ".join(missing))
    return "\n".join(lines)


__all__ = ["backtest", "backtest_dataset", "describe", "OBSERVED", "MISSING_RULES"]
