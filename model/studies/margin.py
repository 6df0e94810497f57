"""What sets the price: the abatement steps at the margin in a year, read from the results.

A year's price is the cost of the step at the margin (used, with potential left) when one
faces it; otherwise the price lies between the dearest step used and the cheapest step
left unused (a cap at the end of a step), or above a cheaper step that a deployment limit
holds back (a full group, a build rate). ``marginal_steps`` lists those steps for the
trading sectors and the sectors outside the ETS (which face the allowance price and the
national carbon value; they are equal while the ETS cap is chosen). The report's
``price_setters`` (model/report/plots.py) lists the same margins row by row for the report's
tables; this module adds the steps held back by a limit, sums installations and pools,
and covers the sectors outside the ETS in the between-steps case.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..parameters.phases import OUTSIDE, TRADING
from ..results.tables import Results

TOLERANCE_MT = 1e-6
TOLERANCE_PRICE = 1e-6  # relative


def marginal_steps(results: Results, years: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per step that explains a year's price: ``role`` is "sets the price" (used,
    potential left, cost = price), "dearest used" and "cheapest unused" (the price lies
    between them), or "held back by a limit" (cost below the price, potential left, not
    used further: a deployment limit binds). Columns: year, price_cny_per_t, role, sector,
    step, cost_cny_per_t, abatement_mt, potential_mt. Steps summed over installations and
    pools. Years without a positive price give no rows."""
    prices = results.years.set_index("year")["allowance_price_cny_per_t"]
    values = results.years.set_index("year")["national_carbon_value_cny_per_t"]
    wanted = prices.index if years is None else pd.Index(list(years))
    steps = results.abatement_steps
    steps = (steps.groupby(["sector", "step", "year"], sort=False)
             .agg(cost_cny_per_t=("cost_cny_per_t", "mean"), abatement_mt=("abatement_mt", "sum"),
                  potential_mt=("potential_mt", "sum")).reset_index())
    phase = results.sector_years.set_index(["sector", "year"])["phase"]
    steps["phase"] = phase.reindex(pd.MultiIndex.from_frame(steps[["sector", "year"]])).to_numpy()
    steps = steps[steps["year"].isin(wanted) & steps["phase"].isin([TRADING, OUTSIDE])]
    faced = np.where(steps["phase"] == TRADING, prices.reindex(steps["year"]).to_numpy(),
                     values.reindex(steps["year"]).to_numpy())
    steps = steps.assign(price_cny_per_t=faced)
    steps = steps[np.nan_to_num(steps["price_cny_per_t"].to_numpy()) > 0]
    price, cost = steps["price_cny_per_t"].to_numpy(), steps["cost_cny_per_t"].to_numpy()
    used = steps["abatement_mt"].to_numpy() > TOLERANCE_MT
    spare = steps["potential_mt"].to_numpy() - steps["abatement_mt"].to_numpy() > TOLERANCE_MT
    equal = np.abs(cost - price) <= TOLERANCE_PRICE * np.maximum(1.0, price)
    role = np.full(len(steps), "", dtype=object)
    role[used & spare & equal] = "sets the price"
    role[spare & (cost < price) & ~equal] = "held back by a limit"
    steps = steps.assign(role=role)
    setting = steps[steps["role"] == "sets the price"]
    unexplained = steps[~steps["year"].isin(setting["year"])]
    below = unexplained[(unexplained["abatement_mt"] > TOLERANCE_MT)
                        & (unexplained["cost_cny_per_t"] <= unexplained["price_cny_per_t"])]
    above = unexplained[(unexplained["potential_mt"] - unexplained["abatement_mt"] > TOLERANCE_MT)
                        & (unexplained["cost_cny_per_t"] >= unexplained["price_cny_per_t"])]
    dearest = below.loc[below.groupby("year")["cost_cny_per_t"].idxmax()].assign(role="dearest used")
    cheapest = above.loc[above.groupby("year")["cost_cny_per_t"].idxmin()].assign(role="cheapest unused")
    held = steps[steps["role"] == "held back by a limit"]
    order = {"sets the price": 0, "dearest used": 1, "cheapest unused": 2, "held back by a limit": 3}
    table = pd.concat([setting, dearest, cheapest, held], ignore_index=True)
    table = table.assign(rank=table["role"].map(order)).sort_values(["year", "rank", "cost_cny_per_t"],
                                                                     kind="stable")
    columns = ["year", "price_cny_per_t", "role", "sector", "step", "cost_cny_per_t", "abatement_mt", "potential_mt"]
    return table[columns].reset_index(drop=True)


def describe(table: pd.DataFrame) -> str:
    """The table as text, a line per step, grouped by year."""
    lines = []
    for year, rows in table.groupby("year", sort=True):
        lines.append(f"{year}: price {rows['price_cny_per_t'].iloc[0]:,.1f} CNY/t")
        for row in rows.itertuples(index=False):
            lines.append(f"  {row.role:<21} {row.sector}.{row.step} at {row.cost_cny_per_t:,.1f} CNY/t "
                         f"({row.abatement_mt:,.1f} of {row.potential_mt:,.1f} Mt)")
    return "\n".join(lines)


def price_dips(years: pd.DataFrame, factor: float = 3.0) -> list[int]:
    """Years whose allowance price falls below 1/``factor`` of both neighbours' (both positive):
    the artefact of a curve with a gap (a single cheap step that one year can use), which an
    analyst expects only where a rule explains it."""
    price = years.sort_values("year")["allowance_price_cny_per_t"].to_numpy(dtype=float)
    year = years.sort_values("year")["year"].to_numpy()
    if price.size < 3:
        return []
    before, here, after = price[:-2], price[1:-1], price[2:]
    dip = (before > 0) & (after > 0) & (np.nan_to_num(here) * factor < np.minimum(before, after))
    return [int(y) for y in year[1:-1][dip]]
