"""market_balance: the trading sectors' allowance demand stays within the supply in every
market year. Trading emissions add to ``ALLOWANCE_DEMAND``, the trading sectors' caps to
``ALLOWANCE_SUPPLY``; other families (the bank, a reserve) add their own terms. Its dual is
the allowance price."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock, Term
from ..parameters import Parameters
from ..phases import TRADING
from . import bank_limits
from .base import (ALLOWANCE_DEMAND, ALLOWANCE_SUPPLY, Contribution, DualColumn, Family, Sums,
                   abatement_terms, negated)


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
    surrendered, banked or cancelled (or sold to entities that cancel it, at a zero price:
    ``bank_limits.sold_for_cancellation_mt``), so the price is never negative."""
    demand, supply = sums.of(ALLOWANCE_DEMAND), sums.of(ALLOWANCE_SUPPLY)
    n = p.market_years.size
    return RowBlock(
        "market_balance", p.market_years.tolist(), [*demand.terms, *negated(supply.terms)],
        constant=demand.constant - supply.constant, upper=np.zeros(n),
        lower=np.zeros(n) if bank_limits.active(p) else None,
        doc="trading emissions + bank[t] - bank[t-1] - trading caps <= 0 (Mt)",
    )


FAMILY = Family(
    "market_balance", define_market_balance, check="market_clearing",
    reads=("sectors.trading_from", "mac.cost_cny_per_t", "mac.potential_share"),
    dual=DualColumn("allowance_price_cny_per_t", "years", year_of_row=lambda p: p.market_years),
    adds={ALLOWANCE_DEMAND: trading_emissions, ALLOWANCE_SUPPLY: trading_caps}, doc=__doc__,
)
