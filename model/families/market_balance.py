"""market_balance: the trading sectors' allowance demand stays within the supply in every
market year. Trading emissions add to ``ALLOWANCE_DEMAND``, the trading sectors' caps to
``ALLOWANCE_SUPPLY``; other families (the bank, a reserve) add their own terms. Its dual is
the allowance price."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .checktools import TOLERANCE_PRICE, brought_in_mt, by_year, market_supply_mt, values, worst
from ..lp.blocks import RowBlock, Term
from ..parameters.phases import TRADING
from . import bank_limits
from .base import (ALLOWANCE_DEMAND, ALLOWANCE_SUPPLY, Check, Contribution, DualColumn, Family, Sums,
                   abatement_terms, negated)

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


def trading_emissions(p: Parameters) -> Contribution:
    """Emissions of the trading sectors in each market year, Mt: all surrendered."""
    market_years = p.market_years
    in_market = (p.phase == TRADING) & np.isin(p.year_of_row, market_years)
    trading_bau = np.where(p.phase == TRADING, p.sector_years["bau_mt"].to_numpy(), 0.0)
    return Contribution(
        abatement_terms(p, np.where(in_market, np.searchsorted(market_years, p.year_of_row), -1)),
        p.sum_by_year(trading_bau)[p.year_position(market_years)])


def trading_caps(p: Parameters) -> Contribution:
    """The trading sectors' caps in each market year, Mt: allowances issued to the market."""
    trading = np.flatnonzero(p.phase[p.covered_rows] == TRADING)
    cap_years = p.year_of_row[p.covered_rows][trading]
    return Contribution(
        [Term("sector_cap_mt", np.searchsorted(p.market_years, cap_years), trading, np.ones(cap_years.size))],
        np.zeros(p.market_years.size))


def define_market_balance(p: Parameters, sums: Sums) -> RowBlock:
    """Allowance demand - supply <= 0 in every market year (Mt); = 0 under a bank limit,
    where every sector's allowances add up (``bank_limits``): an allowance supplied is then
    surrendered, banked or cancelled (or sold to entities that cancel it, at a zero price: see
    ``bank_limits``), so the price is never negative."""
    demand, supply = sums.of(ALLOWANCE_DEMAND), sums.of(ALLOWANCE_SUPPLY)
    n = p.market_years.size
    return RowBlock(
        "market_balance", p.market_years.tolist(), [*demand.terms, *negated(supply.terms)],
        constant=demand.constant - supply.constant, upper=np.zeros(n),
        lower=np.zeros(n) if bank_limits.active(p) else None,
        doc="trading emissions + bank[t] - bank[t-1] - trading caps <= 0 (Mt)",
    )


def market_clearing(years, sector_years, steps, market) -> float:
    """Supply = surrendered + banked in every market year, Mt off (worst year).

    Supply is the trading caps, what rules add, and the bank brought in; demand is the
    trading emissions surrendered plus the bank carried out. Demand above supply is never
    allowed; supply above demand only where the allowance price is zero (allowances left
    unused have no value), else the price would fall. When stage 2 moved abatement within a
    cost tolerance (``market["equilibrium"]`` false) only the first part is tested."""
    supply = market_supply_mt(years, sector_years, market) + brought_in_mt(years, market)
    demand = (by_year(sector_years, (TRADING,), "emissions_mt", values(years, "year"))
              + values(years, "bank_mt", float))
    price = np.nan_to_num(values(years, "allowance_price_cny_per_t", float))
    priced = price > TOLERANCE_PRICE * np.maximum(1.0, np.abs(price).max(initial=0.0))
    if not market.get("equilibrium", True):  # stage 2 moved abatement: stage 1's price no longer clears it
        priced = np.zeros_like(priced)
    market_year = np.isfinite(values(years, "allowance_price_cny_per_t", float))
    gap = np.where(priced, np.abs(supply - demand), demand - supply)
    return worst(np.where(market_year, gap, 0.0))


MARKET_CLEARING = Check("market_clearing", market_clearing)


FAMILY = Family(
    "market_balance", define_market_balance, check=MARKET_CLEARING,
    reads=("sectors.trading_from", "mac.cost_cny_per_t", "mac.potential_share"),
    dual=DualColumn("allowance_price_cny_per_t", "years", year_of_row=lambda p: p.market_years),
    adds={ALLOWANCE_DEMAND: trading_emissions, ALLOWANCE_SUPPLY: trading_caps}, doc=__doc__,
)
