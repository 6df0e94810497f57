"""borrowing: up to ``market.borrowing_limit_share`` of a year's obligation (the trading
sectors' emissions) may be met with the next year's allowances, repaid from them: the
allowances borrowed in year t (``borrowed_mt``) add to t's supply and are taken from t+1's.
Nothing is borrowed in the last year (nothing comes after it to repay). Borrowing moves
emissions earlier, so with it a year may emit more than its national cap by what the next
year repays (the ``national_count`` check counts the borrowed allowances)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data.fields import Inputs, share_field
from ..errors import EtscapError
from ..lp.blocks import RowBlock, Term, VarBlock
from ..parameters.phases import TRADING
from .bank_limits import BANK_LIMITS
from .base import ALLOWANCE_SUPPLY, Chart, Contribution, Family, Sums, ValueColumn, abatement_terms

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        share_field(
            "market.borrowing_limit_share",
            "Up to this share of a year's obligation (the trading sectors' emissions) may be met with "
            "the next year's allowances, repaid from them (years.csv borrowed_mt); 0: no borrowing.",
            0.0,
        ),
    ),
)


def share(p: Parameters) -> float:
    return float(p.dataset.settings.get("market.borrowing_limit_share") or 0.0)


def borrowing_variables(p: Parameters) -> list[VarBlock]:
    """Allowances borrowed from the next year, by year (Mt): none in the last year."""
    if share(p) <= 0:
        return []
    if (p.dataset.settings.get("market.bank_limit_mt") is not None
            or p.dataset.sectors["bank_limit_base_mt"].notna().any()):
        raise EtscapError("scenario.toml: market.borrowing_limit_share > 0 cannot be combined with a bank limit "
                          "(market.bank_limit_mt, or sectors.csv bank_limit_base_mt): set one of them to 0 or blank")
    n = p.years.size
    upper = np.full(n, np.inf)
    upper[-1] = 0.0
    upper[~np.isin(p.years, p.market_years)] = 0.0
    if n > 1:  # nothing to borrow from a year without a market
        upper[:-1] = np.where(np.isin(p.years[1:], p.market_years), upper[:-1], 0.0)
    return [VarBlock("borrowed_mt", p.years.tolist(), np.zeros(n), upper, "allowances borrowed from next year, Mt")]


def borrowed_and_repaid(p: Parameters) -> Contribution:
    """Borrowed allowances add to their year's supply and are taken from the next's (Mt)."""
    n = p.market_years.size
    if share(p) <= 0:
        return Contribution([], np.zeros(n))
    position = p.year_position(p.market_years)
    rows = np.arange(n)
    later = position > 0
    return Contribution([Term("borrowed_mt", rows, position, np.ones(n)),
                         Term("borrowed_mt", rows[later], position[later] - 1, -np.ones(int(later.sum())))],
                        np.zeros(n))


def define_borrowing_limit(p: Parameters, sums: Sums) -> RowBlock:
    """borrowed[t] - share x trading emissions[t] <= 0 in every market year (Mt)."""
    if share(p) <= 0:
        return RowBlock("borrowing", [], [], np.zeros(0), None, np.zeros(0), doc="no borrowing")
    market_years = p.market_years
    n = market_years.size
    in_market = (p.phase == TRADING) & np.isin(p.year_of_row, market_years)
    trading_bau = np.where(in_market, p.sector_years["bau_mt"].to_numpy(), 0.0)
    emissions = abatement_terms(p, np.where(in_market, np.searchsorted(market_years, p.year_of_row), -1))
    return RowBlock(
        "borrowing", market_years.tolist(),
        [Term("borrowed_mt", np.arange(n), p.year_position(market_years), np.ones(n)),
         *(term._replace(coefs=-share(p) * term.coefs) for term in emissions)],
        constant=-share(p) * p.sum_by_year(trading_bau)[p.year_position(market_years)], upper=np.zeros(n),
        doc="borrowed - borrowing_limit_share x trading emissions <= 0 (Mt)")


def market_facts(p: Parameters) -> dict:
    """The borrowing limit for the summary's ``market`` (the checks read it), when set."""
    share = p.dataset.settings.get("market.borrowing_limit_share")
    return {"borrowing_limit_share": share} if share else {}


FAMILY = Family(
    "borrowing", define_borrowing_limit, check=BANK_LIMITS, inputs=INPUTS,
    variables=borrowing_variables,
    values=(ValueColumn("borrowed_mt", "borrowed_mt", supply_chart=Chart("Borrowed from next year", order=40),
                        bank_chart=Chart("Borrowed from next year", order=20, color="tab:purple")),
            # repaid in year t from its allowances: what year t-1 borrowed
            ValueColumn("repaid_mt", "borrowed_mt",
                        by_year=lambda p, borrowed: np.concatenate([[0.0], borrowed[:-1]]),
                        supply_chart=Chart("Repaid (borrowed the year before)", order=50, sign=-1.0))),
    adds={ALLOWANCE_SUPPLY: borrowed_and_repaid}, market=market_facts, doc=__doc__,
)
