"""price_ceiling: where targets.csv gives ``price_ceiling_cny_per_t``, allowances are sold to
the trading sectors without limit at that price (a backstop supply whose cost, the ceiling,
is in the objective), so the allowance price never exceeds it. The sales are not issued
under the national target: where the ceiling binds the national count exceeds the national
cap by exactly the sales (``ceiling_sales_mt``, in ``national_overshoot_mt``). No rows of
its own: its variable adds to the market's supply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from ..data.fields import Field, Inputs
from .checktools import TOLERANCE_MT, TOLERANCE_PRICE, worst
from ..lp.blocks import Term, VarBlock
from .base import ALLOWANCE_SUPPLY, Chart, Check, Contribution, Family, ValueColumn

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    columns={"targets.csv": (
        Field(
            "price_ceiling_cny_per_t",
            "float",
            "CNY per t CO2",
            "Allowances are sold without limit at this price (year-t money), so the allowance price never "
            "exceeds it; the sales are not counted under the national target (national_overshoot_mt says by "
            "how much it is exceeded). Interpolated between two rows that both give it; blank: no ceiling.",
            None,
            0.0,
            1e5,
        ),
    )},
)


def ceiling_by_year(p: Parameters) -> np.ndarray:
    """The price ceiling of each model year (CNY/t, year-t money), NaN where none: a year's
    row, or between two rows that both give one."""
    from ..data.inputs import optional_by_year  # the schema imports this module

    return optional_by_year(p.dataset.targets, "price_ceiling_cny_per_t", p.years)


def _in_use(p: Parameters) -> bool:
    return bool(np.isfinite(ceiling_by_year(p)).any())


def ceiling_variables(p: Parameters) -> list[VarBlock]:
    """Allowances sold at the ceiling in each market year, Mt: unbounded where a ceiling is
    given, none elsewhere (kept, so that a ceiling added or dropped changes only a bound)."""
    if not _in_use(p):
        return []
    ceiling = ceiling_by_year(p)[p.year_position(p.market_years)]
    n = p.market_years.size
    return [VarBlock("ceiling_sales_mt", p.market_years.tolist(), np.zeros(n),
                     np.where(np.isfinite(ceiling), np.inf, 0.0), "allowances sold at the price ceiling, Mt")]


def ceiling_costs(p: Parameters) -> list[Term]:
    """Sales at the ceiling cost the ceiling, present value (million CNY)."""
    if not _in_use(p):
        return []
    ceiling = np.nan_to_num(ceiling_by_year(p)[p.year_position(p.market_years)])
    n = p.market_years.size
    return [Term("ceiling_sales_mt", np.zeros(n, dtype=int), np.arange(n),
                 p.discount_factors(p.market_years) * ceiling)]


def sales_as_supply(p: Parameters) -> Contribution:
    """The sales are supply to the trading sectors in their year, Mt."""
    n = p.market_years.size
    terms = [Term("ceiling_sales_mt", np.arange(n), np.arange(n), np.ones(n))] if _in_use(p) else []
    return Contribution(terms, np.zeros(n))


def sales_by_year(p: Parameters, values: np.ndarray) -> np.ndarray:
    """The sales by model year (0 in years without a market), Mt."""
    by_year = np.zeros(p.years.size)
    by_year[p.year_position(p.market_years)] = values
    return by_year


def year_columns(p: Parameters, values: Mapping[str, np.ndarray], years: pd.DataFrame) -> dict[str, np.ndarray]:
    """price_ceiling_cny_per_t: the ceiling of each year (NaN: none), for the check."""
    return {"price_ceiling_cny_per_t": ceiling_by_year(p)} if _in_use(p) else {}


def price_ceiling(years, sector_years, steps, market) -> float:
    """The allowance price is never above the year's price ceiling, and allowances are sold
    at the ceiling only when the price is the ceiling (relative gap, worst year)."""
    if "price_ceiling_cny_per_t" not in years:
        return 0.0
    ceiling = years["price_ceiling_cny_per_t"].to_numpy(dtype=float)
    price = years["allowance_price_cny_per_t"].to_numpy(dtype=float)
    scale = np.maximum(1.0, np.abs(np.nan_to_num(ceiling)))
    above = np.where(np.isfinite(ceiling) & np.isfinite(price), (price - ceiling) / scale, 0.0)
    sold = np.nan_to_num(years["ceiling_sales_mt"].to_numpy(dtype=float)) > TOLERANCE_MT
    below_when_sold = np.where(sold, np.nan_to_num((ceiling - price) / scale, nan=1.0), 0.0)
    return worst([*above, *below_when_sold])


PRICE_CEILING = Check("price_ceiling", price_ceiling, unit="relative", tolerance=TOLERANCE_PRICE)


FAMILY = Family(
    "price_ceiling", None, check=PRICE_CEILING, inputs=INPUTS,
    variables=ceiling_variables, costs=ceiling_costs, adds={ALLOWANCE_SUPPLY: sales_as_supply},
    values=(ValueColumn("ceiling_sales_mt", "ceiling_sales_mt", market_supply=True, by_year=sales_by_year,
                        beyond_national_cap=True, label="allowances sold at the price ceiling",
                        supply_chart=Chart("Sales at the price ceiling", order=20)),),
    year_columns=year_columns, doc=__doc__,
)
