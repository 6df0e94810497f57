"""bank_limits: with banking, a trading sector's bank at a year end is at most
``bank_limit_base_mt + bank_limit_sales_factor x`` its net sales of allowances that year
(sectors.csv; a net buyer may bank the base only), and the market's bank at most
``market.bank_limit_mt``; what cannot be banked is cancelled. China's rule for the 2019-24
vintages is of this shape (10,000 t + 1.5 x net sales per entity).

Where a limit is given the bank is held sector by sector (``sector_bank_mt``; the market's
``bank_mt`` is their sum) and each trading sector's allowances add up::

    emissions + bank[t] - bank[t-1] + net sales + cancelled = cap      (Mt, each sector-year)

Cancellations are demand in the market (``ALLOWANCE_DEMAND``), and so are the allowances sold
to entities that cancel them (``sold_for_cancellation_mt``, by year): free disposal, so the
price is never negative (without it a seller whose sales earn bank room would pay buyers to
take allowances, and in a year with one trading sector nobody could; without a sales factor
a sector's own cancellation is free disposal already). Nobody buys allowances
only to cancel them at a positive price, so these sales happen at a zero price only.

A sector holds many entities, each under the rule; summed over them the sector's bank is at most
``entities x base + factor x`` the entities' own positive net sales, at least ``factor x``
(the sector's net sales to other sectors + the sales between its own entities). So
``bank_limit_base_mt`` is the sector's (entities x the entity base) and
``intra_sector_sales_mt`` (blank: 0) the sales between its own entities: the limit is
``base + factor x (intra_sector_sales + max(net sales, 0))``. "A net buyer banks the base
only" makes the rule not convex: with a sales factor, a binary ``net_seller`` per trading
sector-year says which regime holds (seller: net sales >= 0, bank <= base + factor x net
sales, may cancel; buyer: net sales <= 0, bank <= base, cancels nothing itself: what it buys
only to cancel is ``sold_for_cancellation_mt``, at a zero price). Stage 1 is solved exactly as a
MIP, then as the LP with the regimes fixed, so prices are that LP's duals (``solve.run_highs``).
Without a factor the rule is an LP (no binaries). Hotelling then holds only while no limit
binds (the ``hotelling`` check knows).

Stage 2 keeps the sectors' banks, net sales and cancellations at stage 1's values even with a
cost tolerance (``values_held_in_stage2``): the prices are stage 1's, and they price stage 1's
banks (a bank moved under a binding limit would leave a price path no bank could explain)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.fields import Field, Inputs
from .checktools import (TOLERANCE_MT, TOLERANCE_PRICE, borrowed_mt, by_name, by_year, joined, previous_year_rows,
                         shared, values, worst)
from ..lp.blocks import RowBlock, Term, VarBlock
from ..parameters.phases import TRADING
from .base import (ALLOWANCE_DEMAND, Chart, Check, Contribution, Family, Sums, ValueColumn, abatement_terms,
                   numbered, of_last_parameters)

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        Field(
            "market.bank_limit_mt",
            "float",
            "Mt CO2",
            "With banking, the most the whole market may bank at each year end; what it cannot bank "
            "is cancelled (years.csv cancelled_mt). Blank: no limit.",
            None,
            0.0,
            1e6,
        ),
    ),
    columns={"sectors.csv": (
        Field(
            "bank_limit_base_mt",
            "float",
            "Mt CO2",
            "With banking, a trading sector's bank at a year end is at most this plus "
            "bank_limit_sales_factor x its net sales of allowances that year; what it cannot bank "
            "is cancelled. Blank: the sector's bank has no limit of its own.",
            None,
            0.0,
            1e6,
        ),
        Field(
            "bank_limit_sales_factor",
            "float",
            "t banked per t sold",
            "See bank_limit_base_mt: the bank allowed per tonne of net sales (a net buyer may bank "
            "the base only). Blank: 0.",
            None,
            0.0,
            100.0,
        ),
        Field(
            "intra_sector_sales_mt",
            "float",
            "Mt CO2 per year",
            "With bank_limit_base_mt and bank_limit_sales_factor: allowances the sector's own entities "
            "sell to one another each year, which the sector's net sales hide; each earns its seller "
            "bank room, so the sector's limit is base + factor x (these sales + its net sales to other "
            "sectors, if positive). Blank: 0.",
            None,
            0.0,
            1e5,
        ),
    )},
    after={"sectors.csv": "simulation_reduction"},
)


def active(p: Parameters) -> bool:
    """Whether any bank limit applies: banking on and a sector or market limit given."""
    return _rule(p).active


def trading_rows(p: Parameters) -> np.ndarray:
    """Sector-year rows of the trading sectors (the rows the bank is held in)."""
    return _rule(p).rows


def limits(p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Each trading row's base (Mt, inf: no limit of its own), with the bank room its entities'
    sales to one another earn (factor x ``intra_sector_sales_mt``), and sales factor."""
    rule = _rule(p)
    return rule.base_mt, rule.sales_factor


def with_regimes(p: Parameters) -> bool:
    """Whether a sales factor makes the rule a MIP (binaries for the regimes)."""
    return _rule(p).regimes


@dataclass(frozen=True)
class _Rule:
    """The rule as a scenario's parameters give it (read by its rows, variables, result
    columns and summary many times a scenario: made once, ``of_last_parameters``)."""

    active: bool
    rows: np.ndarray  # the trading sector-year rows (none when no limit applies)
    base_mt: np.ndarray  # by trading row
    sales_factor: np.ndarray  # by trading row

    @property
    def regimes(self) -> bool:
        return bool(self.rows.size) and bool((self.sales_factor > 0).any())


_LAST: list = []  # (parameters, _Rule) of the last parameters asked for (fastpath.forget empties it)


def _rule(p: Parameters) -> _Rule:
    def make() -> _Rule:
        sectors = p.dataset.sectors
        active = p.banking and (p.dataset.settings.get("market.bank_limit_mt") is not None
                                or bool(sectors["bank_limit_base_mt"].notna().any()))
        if not active:  # most datasets: nothing to read
            return _Rule(False, np.zeros(0, dtype=int), np.zeros(0), np.zeros(0))
        rows = np.flatnonzero(p.phase == TRADING)
        sector = rows // p.years.size
        base = sectors["bank_limit_base_mt"].to_numpy(dtype=float, na_value=np.nan)[sector]
        factor = sectors["bank_limit_sales_factor"].to_numpy(dtype=float, na_value=np.nan)[sector]
        factor = np.where(np.isnan(base) | np.isnan(factor), 0.0, factor)
        intra = np.nan_to_num(sectors["intra_sector_sales_mt"].to_numpy(dtype=float, na_value=np.nan)[sector])
        base = np.where(np.isnan(base), np.inf, base + factor * intra)
        for array in (rows, base, factor):
            array.flags.writeable = False  # shared by the rule's readers
        return _Rule(active, rows, base, factor)

    return of_last_parameters(_LAST, p, make)


def big_m(p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (Mt) on each trading row's sales and cancellations (allowances it can hold: all
    issued up to its year, with the initial bank) and on a buyer's purchases (its BAU
    emissions and its base), which no solution reaches: the regimes' big-M's."""
    rows = trading_rows(p)
    issued = np.fmax(p.targets["national_cap_mt"].to_numpy(), np.nan_to_num(p.targets["ets_cap_mt"].to_numpy()))
    held = (np.cumsum(issued) + p.initial_bank_mt)[p.year_of_row[rows] - p.first_year] + 1.0
    base = limits(p)[0]
    bought = p.sector_years["bau_mt"].to_numpy()[rows] + np.where(np.isfinite(base), base, 0.0) + 1.0
    return held, bought


def initial_shares(p: Parameters) -> np.ndarray:
    """The initial bank each trading row brings in (Mt): ``market.initial_bank_mt`` shared by
    the sectors trading in first_year in proportion to their BAU emissions then."""
    rows = trading_rows(p)
    first = p.year_of_row[rows] == p.first_year
    bau = np.where(first, p.sector_years["bau_mt"].to_numpy()[rows], 0.0)
    return p.initial_bank_mt * bau / bau.sum() if bau.sum() > 0 else np.zeros(rows.size)


def limit_variables(p: Parameters) -> list[VarBlock]:
    """The sectors' banks, net sales, cancellations and, with a sales factor, their regimes."""
    rows = trading_rows(p)
    if not rows.size:
        return []
    n, keys = rows.size, p.sector_years.index[rows]
    last = p.year_of_row[rows] == p.years[-1]
    blocks = [
        VarBlock("sector_bank_mt", keys, np.zeros(n), np.where(last, 0.0, np.inf), "bank at year end by sector, Mt"),
        VarBlock("net_sales_mt", keys, np.full(n, -np.inf), np.full(n, np.inf),
                 "allowances sold less bought, by sector, Mt"),
        # a sector without a limit of its own banks what it does not use (it cancels only in the
        # last year, when the bank must be empty): so nobody buys allowances to cancel them
        VarBlock("sector_cancelled_mt", keys, np.zeros(n),
                 np.where(np.isfinite(limits(p)[0]) | last
                          | (p.dataset.settings.get("market.bank_limit_mt") is not None),
                          np.inf, 0.0), "allowances cancelled, by sector, Mt"),
    ]
    if with_regimes(p):
        limited = np.isfinite(limits(p)[0])
        blocks.append(VarBlock("net_seller", p.sector_years.index[rows[limited]], np.zeros(int(limited.sum())),
                               np.ones(int(limited.sum())), "1: the sector is a net seller in the year (its regime)",
                               integer=True))
        # free disposal where sales earn bank room (without a sales factor a sector's own
        # cancellation is the same thing, and the price is never negative anyway)
        n_years = p.market_years.size
        blocks.append(VarBlock("sold_for_cancellation_mt", p.market_years.tolist(), np.zeros(n_years),
                               np.full(n_years, np.inf), "allowances sold to entities that cancel them, Mt"))
    return blocks


def cancelled_as_demand(p: Parameters) -> Contribution:
    """Allowances the sectors cancel, or sell to entities that cancel them, leave the market in
    their year, Mt."""
    rows = trading_rows(p)
    n = p.market_years.size
    terms = ([Term("sector_cancelled_mt", np.searchsorted(p.market_years, p.year_of_row[rows]),
                   np.arange(rows.size), np.ones(rows.size))] if rows.size else [])
    if with_regimes(p):
        terms.append(Term("sold_for_cancellation_mt", np.arange(n), np.arange(n), np.ones(n)))
    return Contribution(terms, np.zeros(n))


def define_bank_limits(p: Parameters, sums: Sums) -> RowBlock:
    """Per trading sector-year: its allowances add up (= 0), its bank within its limit, its
    regime's rows; per year: the sectors' banks make the market's (= 0). ``market_balance``
    becomes an equality: every allowance supplied is surrendered, banked or cancelled (by a
    sector, or by the entities it was sold to: its dual, the price, is never negative)."""
    rows = trading_rows(p)
    n = rows.size
    if not n:
        return RowBlock("bank_limits", [], [], np.zeros(0), np.zeros(0), np.zeros(0), doc="no bank limit given")
    at = np.arange(n)
    sector = p.sector_years.index.get_level_values("sector").to_numpy()[rows]
    year = p.year_of_row[rows]
    base, factor = limits(p)
    lookup = numbered(rows, len(p.sector_years))
    previous = lookup[np.maximum(rows - 1, 0)]
    has_previous = (year > p.first_year) & (previous >= 0)
    keys: list[tuple[str, str, int]] = []
    terms: list[Term] = []
    constant: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []

    def add(kind: str, ks, ys, parts, low, up, const=None) -> None:
        start = len(keys)
        keys.extend((kind, str(s), int(y)) for s, y in zip(ks, ys))
        for var, row, position, coef in parts:
            terms.append(Term(var, start + np.asarray(row, dtype=int), np.asarray(position, dtype=int),
                              np.asarray(coef, dtype=float)))
        constant.append(np.zeros(len(ks)) if const is None else np.asarray(const, dtype=float))
        lower.append(np.asarray(low, dtype=float))
        upper.append(np.asarray(up, dtype=float))

    add("allowances", sector, year, [
        *((t.var, t.rows, t.positions, t.coefs) for t in abatement_terms(p, lookup)),
        ("sector_bank_mt", at, at, np.ones(n)),
        ("sector_bank_mt", at[has_previous], previous[has_previous], -np.ones(int(has_previous.sum()))),
        ("net_sales_mt", at, at, np.ones(n)),
        ("sector_cancelled_mt", at, at, np.ones(n)),
        ("sector_cap_mt", at, p.covered_position(rows), -np.ones(n))],
        np.zeros(n), np.zeros(n), const=p.sector_years["bau_mt"].to_numpy()[rows] - initial_shares(p))
    limited = np.flatnonzero(np.isfinite(base))
    held, bought = big_m(p)
    k = np.arange(limited.size)
    if with_regimes(p):
        f, h, b = factor[limited], held[limited], bought[limited]
        # seller: bank - factor x net sales <= base (loose for a buyer, whose net sales >= -bought)
        add("limit", sector[limited], year[limited], [
            ("sector_bank_mt", k, limited, np.ones(k.size)), ("net_sales_mt", k, limited, -f),
            ("net_seller", k, k, f * b)], np.full(k.size, -np.inf), base[limited] + f * b)
        # buyer: bank <= base (loose for a seller)
        add("buyer_limit", sector[limited], year[limited], [
            ("sector_bank_mt", k, limited, np.ones(k.size)), ("net_seller", k, k, -f * h)],
            np.full(k.size, -np.inf), base[limited])
        # a seller's net sales are >= 0, a buyer's <= 0; only a seller cancels
        add("seller_sells", sector[limited], year[limited], [
            ("net_sales_mt", k, limited, np.ones(k.size)), ("net_seller", k, k, -h)], np.full(k.size, -np.inf),
            np.zeros(k.size))
        add("buyer_buys", sector[limited], year[limited], [
            ("net_sales_mt", k, limited, np.ones(k.size)), ("net_seller", k, k, -b)], -b, np.full(k.size, np.inf))
        add("buyer_keeps", sector[limited], year[limited], [
            ("sector_cancelled_mt", k, limited, np.ones(k.size)), ("net_seller", k, k, -h)],
            np.full(k.size, -np.inf), np.zeros(k.size))
    else:
        add("limit", sector[limited], year[limited], [("sector_bank_mt", k, limited, np.ones(k.size))],
            np.full(k.size, -np.inf), base[limited])
    ny = p.years.size
    y = np.arange(ny)
    add("market_bank", np.full(ny, ""), p.years, [("bank_mt", y, y, np.ones(ny)),
                                                  ("sector_bank_mt", year - p.first_year, at, -np.ones(n))],
        np.zeros(ny), np.zeros(ny))
    return RowBlock("bank_limits", keys, terms, np.concatenate(constant), np.concatenate(lower),
                    np.concatenate(upper), doc="a trading sector's allowances add up; its bank within its limit")


def cancelled_by_sector(p: Parameters, values) -> np.ndarray:
    """Each trading row's cancellation (Mt): its cap, bank brought in and initial share less
    its emissions, bank and net sales (the residual holder's: what the market left unused)."""
    rows = trading_rows(p)
    lookup = numbered(rows, len(p.sector_years))
    abated = sum((np.bincount(c.rows, weights=values[c.name], minlength=len(p.sector_years)) for c in p.abatement),
                 np.zeros(len(p.sector_years)))[rows]
    bank = values["sector_bank_mt"]
    previous = lookup[np.maximum(rows - 1, 0)]
    brought_in = np.where((p.year_of_row[rows] > p.first_year) & (previous >= 0), bank[np.maximum(previous, 0)], 0.0)
    cap = values["sector_cap_mt"][p.covered_position(rows)]
    emissions = p.sector_years["bau_mt"].to_numpy()[rows] - abated
    cancelled = cap + brought_in + initial_shares(p) - emissions - bank - values["net_sales_mt"]
    return np.where(np.abs(cancelled) < 1e-9, 0.0, cancelled)


def cancelled_by_year(p: Parameters, values) -> np.ndarray:
    """Allowances cancelled in each model year (Mt): by the sectors, and by the entities they
    were sold to."""
    if "sector_bank_mt" not in values:
        return np.zeros(p.years.size)
    return (np.bincount(p.year_of_row[trading_rows(p)] - p.first_year, weights=cancelled_by_sector(p, values),
                        minlength=p.years.size) + sold_for_cancellation_by_year(p, values))


def sold_for_cancellation_by_year(p: Parameters, values) -> np.ndarray:
    """Allowances sold to entities that cancel them, by model year (Mt)."""
    sold = np.zeros(p.years.size)
    if "sold_for_cancellation_mt" in values:
        sold[p.market_years - p.first_year] = values["sold_for_cancellation_mt"]
    return np.where(np.abs(sold) < 1e-9, 0.0, sold)


def _rows_of_trading(p: Parameters) -> np.ndarray:
    return trading_rows(p)


def summary(p: Parameters) -> dict:
    """The limits for the summary's ``market`` (which the checks read): the market's, and
    each limited sector's base (Mt) and sales factor; nothing when no limit applies."""
    if not active(p):
        return {}
    from ..data import fastpath  # here, not at the top: the schema imports this module

    sectors, market_limit = p.dataset.sectors, p.dataset.settings.get("market.bank_limit_mt")

    def make() -> dict:
        limited = sectors[sectors["bank_limit_base_mt"].notna().to_numpy()]
        factor = limited["bank_limit_sales_factor"].to_numpy(dtype=float, na_value=0.0)
        intra = limited["intra_sector_sales_mt"].to_numpy(dtype=float, na_value=0.0)
        return {"bank_limit_mt": market_limit,
                "sector_bank_limits": {str(name): {"base_mt": float(base), "sales_factor": float(f),
                                                   "intra_sector_sales_mt": float(i)} for name, base, f, i
                                       in zip(limited["sector"], limited["bank_limit_base_mt"].astype(float), factor,
                                              intra)}}

    # the same sectors table (a study's scenarios of other inputs share it): made once; a copy
    # for each summary (a caller may change its summary's dictionaries)
    return copy.deepcopy(fastpath.cached("bank limits summary", (sectors, market_limit), make))


def bank_limits(years, sector_years, steps, market) -> float:
    """The bank is never negative, empty after the horizon, none without banking; with bank
    limits (``market["bank_limit_mt"]``, ``market["sector_bank_limits"]``) never above them, a
    sector's limit being base + factor x (its entities' sales to one another + its net sales;
    base + factor x the former only for a net buyer); and what is cancelled is as computed from
    the tables: each trading sector's allowances (cap + bank brought in) less its emissions,
    bank and net sales, never negative, with what was sold to entities that cancel it
    (``sold_for_cancellation_mt``, never negative, only at a zero price: free disposal, so the
    price is never negative) adding up to the year's ``cancelled_mt``, none by a net buyer under
    a sales factor (without one, only at a zero price: free disposal), and
    only what cannot be banked (the sector or the market at its limit, or the bank worth
    nothing: the last year or a zero price next year)."""
    bank = values(years, "bank_mt")
    end = abs(bank[-1]) if bank.size else 0.0
    banked_without_banking = 0.0 if market.get("banking") else float(np.abs(bank).max(initial=0.0))
    borrowed = borrowed_mt(years)  # never negative, at most the share of the obligation, repaid by the end
    obligation = by_year(sector_years, (TRADING,), "emissions_mt", values(years, "year"))
    share = market.get("borrowing_limit_share", 0.0) or 0.0
    borrowing = joined(-borrowed, borrowed - share * obligation, abs(borrowed[-1]) if borrowed.size else 0.0)
    return worst(joined(-bank, end, banked_without_banking, borrowing,
                        _bank_limit_violations(years, sector_years, market)))


def sector_bank_room(years, sector_years, market) -> tuple[np.ndarray, np.ndarray]:
    """By sector_years row: its limit less its bank (inf without a limit of its own, NaN
    outside trading), and the market's limit less the market's bank by year row (made once
    per ``run_checks``: several checks read it)."""
    return shared(("sector_bank_room", id(years), id(sector_years)),
                  lambda: _sector_bank_room(years, sector_years, market))


def _sector_bank_room(years, sector_years, market) -> tuple[np.ndarray, np.ndarray]:
    limits = market.get("sector_bank_limits") or {}
    base = by_name(sector_years, "sector", limits, "base_mt", np.inf)
    factor = by_name(sector_years, "sector", limits, "sales_factor", 0.0)
    intra = by_name(sector_years, "sector", limits, "intra_sector_sales_mt", 0.0)
    net_sales = values(sector_years, "net_sales_mt", float)
    room = base + factor * (intra + np.maximum(net_sales, 0.0)) - values(sector_years, "bank_mt", float)
    market_limit = market.get("bank_limit_mt")
    market_room = (np.full(len(years), np.inf) if market_limit is None
                   else market_limit - values(years, "bank_mt", float))
    room.flags.writeable = market_room.flags.writeable = False  # shared by the checks
    return room, market_room


def _bank_limit_violations(years, sector_years, market) -> np.ndarray:
    if "net_sales_mt" not in sector_years:
        market_limit = market.get("bank_limit_mt")
        return np.zeros(0) if market_limit is None else values(years, "bank_mt", float) - market_limit
    room, market_room = sector_bank_room(years, sector_years, market)
    held = ~np.isnan(values(sector_years, "bank_mt", float))

    def of_held(name: str, dtype: Any = float) -> np.ndarray:
        """The column ``name`` of the rows with a bank (the trading sectors')."""
        return values(sector_years, name, dtype)[held]

    bank = of_held("bank_mt")
    # the bank brought in: the same sector's bank the year before (0 in its first trading year)
    previous = previous_year_rows(sector_years, "sector", held)
    brought_in = np.append(bank, 0.0)[previous]  # row -1 (no bank the year before) picks the 0 after
    # the initial bank: brought in by the sectors trading in the first year, in proportion to BAU
    held_year = of_held("year", None)
    first = np.where(held_year == years["year"].iloc[0], of_held("bau_mt"), 0.0)
    if first.sum() > 0:
        brought_in = brought_in + (market.get("initial_bank_mt", 0.0) or 0.0) * first / first.sum()
    computed = (of_held("cap_mt") + brought_in - of_held("emissions_mt") - bank - of_held("net_sales_mt"))
    reported = of_held("cancelled_mt")
    year_row = np.searchsorted(values(years, "year"), held_year)
    price = np.nan_to_num(values(years, "allowance_price_cny_per_t", float))
    next_price = np.append(price[1:], 0.0)[year_row]
    worthless = next_price <= TOLERANCE_PRICE * np.maximum(1.0, np.abs(price).max(initial=0.0))
    headroom = np.minimum(room[held], market_room[year_row])
    cannot_bank = np.where(worthless, 0.0, np.minimum(computed, headroom))
    # allowances sold to entities that cancel them (free disposal): at a zero price only, so
    # never a negative price where they may be cancelled
    sold_to_cancel = values(years, "sold_for_cancellation_mt", float) if "sold_for_cancellation_mt" in years \
        else np.zeros(len(years))
    priced = price > TOLERANCE_PRICE * np.maximum(1.0, np.abs(price).max(initial=0.0))
    negative_price = np.where(np.isfinite(values(years, "allowance_price_cny_per_t", float)), -price, 0.0)
    sums = np.bincount(year_row, weights=computed, minlength=len(years)) + sold_to_cancel
    # with a sales factor a net buyer cancels nothing (it would buy only to lift a seller's
    # limit), but in the last year, when no bank may be left whatever the limits; without
    # one its cancellation is free disposal, at a zero price only (as every cancellation is
    # where the next year's price is positive: cannot_bank)
    limits = market.get("sector_bank_limits") or {}
    factor = by_name(sector_years, "sector", limits, "sales_factor", 0.0)[held]
    net_buyer = ((of_held("net_sales_mt") < -TOLERANCE_MT)
                 & (held_year < years["year"].iloc[-1]) & ((factor > 0) | priced[year_row]))
    return joined(-room[held], -market_room, -computed, np.abs(computed - reported),
                  np.abs(sums - values(years, "cancelled_mt", float)),
                  np.abs(np.bincount(year_row, weights=bank, minlength=len(years))
                         - values(years, "bank_mt", float)),
                  np.where(net_buyer, computed, 0.0), cannot_bank, -sold_to_cancel,
                  np.where(priced, sold_to_cancel, 0.0), negative_price)


BANK_LIMITS = Check("bank_limits", bank_limits)


FAMILY = Family(
    "bank_limits", define_bank_limits, check=BANK_LIMITS,
    inputs=INPUTS,
    variables=limit_variables, market=summary, values_held_in_stage2=True,
    values=(ValueColumn("cancelled_mt", "sector_bank_mt", compute=cancelled_by_year,
                        supply_chart=Chart("Cancelled (not bankable)", order=60, sign=-1.0),
                        bank_chart=Chart("Cancelled (not bankable)", order=10, color="tab:red")),
            ValueColumn("sold_for_cancellation_mt", "sold_for_cancellation_mt", compute=sold_for_cancellation_by_year),
            ValueColumn("bank_mt", "sector_bank_mt", table="sector_years", rows=_rows_of_trading),
            ValueColumn("net_sales_mt", "net_sales_mt", table="sector_years", rows=_rows_of_trading),
            ValueColumn("cancelled_mt", "sector_bank_mt", table="sector_years", rows=_rows_of_trading,
                        compute=cancelled_by_sector)),
    adds={ALLOWANCE_DEMAND: cancelled_as_demand}, doc=__doc__,
)
