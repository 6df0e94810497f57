"""bank: with banking, allowances carried out of a year add to that year's demand and to
the next year's supply; the initial bank is supply in the first year. No rows of its own
(the bank's bounds are its variable's, ``bank_mt``, which it declares: nothing left after
the horizon)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data.fields import DatasetCheck, Field, Inputs
from ..errors import Problem, number_text
from ..lp.blocks import Term, VarBlock
from .bank_limits import BANK_LIMITS
from .base import ALLOWANCE_DEMAND, ALLOWANCE_SUPPLY, Contribution, Family

if TYPE_CHECKING:
    from ..data.inputs import Dataset
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        Field(
            "market.banking",
            "bool",
            "",
            "Whether allowances may be banked for later years (borrowing: market.borrowing_limit_share).",
            False,
        ),
        Field(
            "market.initial_bank_mt",
            "float",
            "Mt CO2",
            "Allowances banked before first_year, for the sectors trading in first_year; without banking they "
            "must be used in first_year, so at most those sectors' BAU emissions then.",
            0.0,
            0.0,
            1e6,
        ),
    ),
    checks=(DatasetCheck(frozenset({
        "settings.market.initial_bank_mt", "settings.market.banking", "settings.first_year", "settings.base_year",
        "sectors.trading_from", "sectors.covered_from", "sectors.output_growth", "sectors.intensity_change",
        "sectors.base_emissions_mt"}), lambda dataset: initial_bank_problems(dataset)),),
)


def initial_bank_problems(dataset: Dataset) -> list[Problem]:
    """An initial bank is spent by the sectors trading in first_year; without banking, what
    first_year cannot use would vanish, so a bank larger than their BAU emissions is refused."""
    settings, sectors = dataset.settings, dataset.sectors
    bank, first = settings.get("market.initial_bank_mt"), settings["first_year"]
    if not bank or settings.get("market.banking", True):  # with banking it is carried to later years
        return []  # (a setting that failed its own check is missing: it is reported already)
    trading_from = sectors["trading_from"].fillna(sectors["covered_from"])
    trades = (trading_from <= first).fillna(False).to_numpy()
    growth = ((1.0 + sectors["output_growth"]) * (1.0 + sectors["intensity_change"])).astype(float)
    bau = float((sectors["base_emissions_mt"].astype(float) * growth ** (first - settings["base_year"]))[trades].sum())
    if bank > bau * (1 + 1e-9):
        return [Problem("scenario.toml", None, "market.initial_bank_mt", number_text(bank),
                        f"at most {bau:.6g}, the BAU emissions of the sectors trading in first_year ({first}): "
                        "without banking the rest could never be used (or market.banking = true to carry it)")]
    return []


def bank_variables(p: Parameters) -> list[VarBlock]:
    """With banking, the bank at each year end (Mt): never negative, empty after the horizon."""
    if not p.banking:
        return []
    n = p.years.size
    limit = p.dataset.settings.get("market.bank_limit_mt")
    upper = np.full(n, np.inf if limit is None else float(limit))  # market.bank_limit_mt: the market's limit
    upper[-1] = 0.0  # nothing is left in the bank after the horizon
    return [VarBlock("bank_mt", p.years.tolist(), np.zeros(n), upper, "allowances banked at year end, Mt")]


def carried_out(p: Parameters) -> Contribution:
    """The bank at the end of each market year, Mt."""
    n = p.market_years.size
    rows = np.arange(n)
    terms = [Term("bank_mt", rows, rows, np.ones(n))] if p.banking else []
    return Contribution(terms, np.zeros(n))


def brought_in(p: Parameters) -> Contribution:
    """The bank brought into each market year from the year before, and the initial bank
    in the first model year, Mt."""
    n = p.market_years.size
    rows = np.arange(n)
    terms = [Term("bank_mt", rows[1:], rows[:-1], np.ones(n - 1))] if p.banking else []
    initial = np.zeros(n)
    if n and p.market_years[0] == p.first_year:
        initial[0] = p.initial_bank_mt
    return Contribution(terms, initial)


FAMILY = Family(
    "bank", None, check=BANK_LIMITS, inputs=INPUTS, variables=bank_variables,
    adds={ALLOWANCE_DEMAND: carried_out, ALLOWANCE_SUPPLY: brought_in}, doc=__doc__,
)
