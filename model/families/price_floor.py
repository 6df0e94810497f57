"""price_floor: where targets.csv gives ``price_floor_cny_per_t``, the allowance price of
that year is never below the floor while auctioned allowances remain: where the market
would clear below it, auctioned allowances go unsold (``withdrawn_mt``) until it clears at
the floor, so the ETS uses every measure cheaper than the floor. Only the year's auctioned
volume can go unsold (at least ``min_auction_share`` x the ETS cap, what stage 2 auctions);
where that is not enough the price stays below the floor (``below_floor``).

Withdrawals are the market's response to the caps, not a choice of the regulator, so they
are a market pass (``base.MarketPass``): pass 1 chooses the caps with no withdrawals; pass 2
holds the caps and frees ``withdrawn_mt`` at a device cost of -floor x discount factor (an
unsold allowance is worth the floor to the market), which gives exactly the equilibrium:
price >= floor while withdrawals are below their bound, withdrawals only at price = floor
(below it only at the bound), banking only where the discounted later price is at least the
floor. The device term is no cost: ``objective_bn_cny`` is the cost of abatement and backstop
supply alone. ``[market] unsold_to``: "cancel" (they leave the market) or "reserve" (they
enter the reserve of reserve.csv; only one without a pool limit for now, whose yearly
volumes alone limit its releases, so that it changes nothing else: see ``check_unsold_to``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..data.fields import DatasetCheck, Field, Inputs
from ..errors import InputError, Problem
from ..lp.blocks import RowBlock, Term, VarBlock
from .base import ALLOWANCE_SUPPLY, Chart, Check, Contribution, Family, MarketPass, Sums, ValueColumn
from .checktools import TOLERANCE_MT, TOLERANCE_PRICE

if TYPE_CHECKING:
    from ..data.inputs import Dataset
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        Field(
            "market.unsold_to",
            "str",
            "",
            "Where auctioned allowances unsold at a price floor (targets.csv price_floor_cny_per_t) go: cancel "
            "(they leave the market) or reserve (into reserve.csv's reserve; for now one without a pool, "
            "market.reserve.initial_mt blank).",
            "cancel",
            choices=("cancel", "reserve"),
        ),
    ),
    columns={"targets.csv": (
        Field(
            "price_floor_cny_per_t",
            "float",
            "CNY per t CO2",
            "Auctioned allowances go unsold (withdrawn_mt) rather than sell below this price (year-t money), so "
            "the allowance price is at least the floor while the year's auctioned volume (min_auction_share x "
            "the ETS cap) lasts (below_floor: it ran out). Interpolated between two rows that both give it; "
            "blank: no floor.",
            None,
            0.0,
            1e5,
        ),
    )},
    checks=(DatasetCheck(frozenset({"settings.market.unsold_to", "settings.market.reserve.initial_mt",
                                    "settings.last_year", "targets.price_floor_cny_per_t", "reserve"}),
                         lambda dataset: unsold_to_problems(dataset)),),
)


def floor_by_year(p: Parameters) -> np.ndarray:
    """The price floor of each model year (CNY/t, year-t money), NaN where none: a year's
    row, or between two rows that both give one."""
    from ..data.inputs import optional_by_year  # the schema imports this module

    return optional_by_year(p.dataset.targets, "price_floor_cny_per_t", p.years)


def _market_floor(p: Parameters) -> np.ndarray:
    """The floor of each market year (CNY/t, year-t money), NaN where none."""
    return floor_by_year(p)[p.year_position(p.market_years)]


def _in_use(p: Parameters) -> bool:
    return bool(np.isfinite(_market_floor(p)).any())


NO_RESERVE = Problem("scenario.toml", None, "market.unsold_to", "reserve",
                     "cancel, or a reserve (reserve.csv) to take the allowances unsold at the price floor")
RESERVE_WITH_POOL = Problem("scenario.toml", None, "market.unsold_to", "reserve",
                            "cancel while the reserve has a pool (market.reserve.initial_mt): not supported yet, the "
                            "pool's value would make an unsold allowance worth more than the floor; or leave "
                            "market.reserve.initial_mt blank")


def check_unsold_to(p: Parameters) -> None:
    """``unsold_to = "reserve"`` needs a reserve (reserve.csv) without a pool limit: its yearly
    volumes alone then limit its releases, so allowances entering it change nothing else. With
    a pool (``market.reserve.initial_mt``) the pool's value would make an unsold allowance worth
    more than the floor in the LP, which no auction offers: refused until the pool is modelled
    as the regulator's (InputError). ``unsold_to_problems`` refuses the same on validation."""
    if p.dataset.settings["market.unsold_to"] != "reserve" or not _in_use(p):
        return
    offered_from = p.dataset.reserve["year"].to_numpy(dtype=int)  # the reserve's input: no other family's module
    if not p.market_years.size or not (offered_from <= p.market_years.max()).any():  # no tier offers in a market year
        raise InputError(NO_RESERVE)
    if p.dataset.settings["market.reserve.initial_mt"] is not None:
        raise InputError(RESERVE_WITH_POOL)


def unsold_to_problems(dataset: Dataset) -> list[Problem]:
    """``check_unsold_to`` on a dataset (``validate``, a load, ``Dataset.replace``): with a floor
    given in targets.csv, ``unsold_to = "reserve"`` needs a reserve tier offering by last_year
    and no pool (market.reserve.initial_mt blank)."""
    settings = dataset.settings
    floors = dataset.targets.get("price_floor_cny_per_t")
    if settings.get("market.unsold_to") != "reserve" or floors is None or not floors.notna().any():
        return []
    if not (dataset.reserve["year"].to_numpy(dtype=float) <= settings["last_year"]).any():
        return [NO_RESERVE]
    return [RESERVE_WITH_POOL] if settings.get("market.reserve.initial_mt") is not None else []


def withdrawn_variables(p: Parameters) -> list[VarBlock]:
    """Auctioned allowances left unsold at the floor in each market year, Mt: fixed at 0 in
    the LP (pass 1, which chooses the caps), freed by the market pass."""
    if not _in_use(p):
        return []
    check_unsold_to(p)
    n = p.market_years.size
    return [VarBlock("withdrawn_mt", p.market_years.tolist(), np.zeros(n), np.zeros(n),
                     "auctioned allowances unsold at the price floor, Mt")]


def floor_pass(p: Parameters) -> MarketPass | None:
    """Pass 2: withdrawals free where a floor is given (their row bounds them by the
    auctioned volume), each worth the floor in present value (a device, not a cost)."""
    if not _in_use(p):
        return None
    floor = _market_floor(p)
    discount = p.discount_factors(p.market_years)
    return MarketPass("withdrawn_mt", np.where(np.isfinite(floor), np.inf, 0.0), -np.nan_to_num(floor) * discount)


def withdrawn_from_supply(p: Parameters) -> Contribution:
    """Unsold allowances leave the trading sectors' supply of their year, Mt."""
    n = p.market_years.size
    terms = [Term("withdrawn_mt", np.arange(n), np.arange(n), -np.ones(n))] if _in_use(p) else []
    return Contribution(terms, np.zeros(n))


def define_price_floor(p: Parameters, sums: Sums) -> RowBlock:
    """withdrawn[t] - min_auction_share[t] x ets_cap[t] <= 0: only auctioned allowances go
    unsold (Mt, by market year)."""
    doc = "withdrawn <= min_auction_share x ets_cap (Mt)"
    if not _in_use(p):
        return RowBlock("price_floor", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    n = p.market_years.size
    share = p.targets["min_auction_share"].to_numpy(dtype=float)[p.year_position(p.market_years)]
    return RowBlock("price_floor", p.market_years.tolist(),
                    [Term("withdrawn_mt", np.arange(n), np.arange(n), np.ones(n)),
                     Term("ets_cap_mt", np.arange(n), p.year_position(p.market_years), -share)],
                    constant=np.zeros(n), upper=np.zeros(n), doc=doc)


def withdrawn_by_year(p: Parameters, values: np.ndarray) -> np.ndarray:
    """Withdrawals by model year (0 in years without a market), Mt."""
    by_year = np.zeros(p.years.size)
    by_year[p.year_position(p.market_years)] = np.where(np.abs(values) < 1e-9, 0.0, values)
    return by_year


def year_columns(p: Parameters, values: Mapping[str, np.ndarray], years: pd.DataFrame) -> dict[str, Any]:
    """price_floor_cny_per_t (NaN: none); withdrawal_limit_mt: the auctioned volume that may go
    unsold (min_auction_share x ets_cap_mt); below_floor: that volume ran out before
    the price reached the floor; the allowance price at least the floor wherever
    withdrawals are below their bound (the dual is then the floor, to rounding); auction
    revenue without the unsold allowances."""
    if not _in_use(p):
        return {}
    floor = floor_by_year(p)
    price = years["allowance_price_cny_per_t"].to_numpy(dtype=float)
    withdrawn = years["withdrawn_mt"].to_numpy(dtype=float)
    bound = p.targets["min_auction_share"].to_numpy(dtype=float) * years["ets_cap_mt"].to_numpy(dtype=float)
    has_floor = np.isfinite(floor) & np.isfinite(price)
    at_bound = withdrawn >= bound - 1e-6
    below = has_floor & at_bound & (price < floor - 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(floor))))
    columns: dict[str, Any] = {
        "price_floor_cny_per_t": floor, "withdrawal_limit_mt": bound, "below_floor": below,
        "allowance_price_cny_per_t": np.where(has_floor & ~at_bound, np.fmax(price, floor), price)}
    if "auction_revenue_bn_cny" in years:  # unsold allowances earn nothing
        sold_price = np.nan_to_num(columns["allowance_price_cny_per_t"])
        revenue = years["auction_revenue_bn_cny"].to_numpy(dtype=float) - sold_price * withdrawn / 1e3
        columns["auction_revenue_bn_cny"] = np.where(np.abs(revenue) < 1e-12, 0.0, revenue)
    return columns


def market_facts(p: Parameters) -> dict[str, Any]:
    """Where unsold allowances go, for the summary."""
    return {"unsold_to": p.dataset.settings["market.unsold_to"]} if _in_use(p) else {}


def price_floor_check(years: pd.DataFrame, sector_years: pd.DataFrame, steps: pd.DataFrame,
                      market: dict[str, Any]) -> float:
    """From the years table (relative, worst year): the price is at least the floor in every
    year where withdrawals are below their bound (``withdrawal_limit_mt``, the auctioned volume:
    ``min_auction_share`` x ``ets_cap_mt``), withdrawals are positive only where the price is at most the floor (so
    at it, unless the bound is reached), none in a year without a floor, and never more than
    the auctioned volume nor negative (Mt over, relative to the volume)."""

    if not {"price_floor_cny_per_t", "withdrawn_mt", "withdrawal_limit_mt"} <= set(years):
        return 0.0
    floor = years["price_floor_cny_per_t"].to_numpy(dtype=float)
    price = years["allowance_price_cny_per_t"].to_numpy(dtype=float)
    withdrawn = np.nan_to_num(years["withdrawn_mt"].to_numpy(dtype=float))
    bound = years["withdrawal_limit_mt"].to_numpy(dtype=float)
    scale = np.maximum(1.0, np.abs(np.nan_to_num(floor)))
    priced = np.isfinite(floor) & np.isfinite(price)
    room = withdrawn < bound - TOLERANCE_MT
    below = np.where(priced & room, (floor - price) / scale, 0.0)
    withdrawing = withdrawn > TOLERANCE_MT
    above_when_withdrawn = np.where(withdrawing & priced, (price - floor) / scale, 0.0)
    without_floor = np.where(~np.isfinite(floor), withdrawn, 0.0)
    volume = np.maximum(1.0, np.abs(bound))
    return float(np.max([0.0, *below, *above_when_withdrawn, *without_floor, *((withdrawn - bound) / volume),
                         *(-withdrawn)]))


PRICE_FLOOR = Check("price_floor", price_floor_check, unit="relative", tolerance=TOLERANCE_PRICE)

FAMILY = Family(
    "price_floor", define_price_floor, check=PRICE_FLOOR,
    inputs=INPUTS, reads=("targets.min_auction_share",),
    variables=withdrawn_variables, market_pass=floor_pass,
    adds={ALLOWANCE_SUPPLY: withdrawn_from_supply},
    values=(ValueColumn("withdrawn_mt", "withdrawn_mt", by_year=withdrawn_by_year,
                        label="auctioned allowances unsold at the price floor",
                        supply_chart=Chart("Withdrawn (unsold at the floor)", order=70, sign=-1.0),
                        bank_chart=Chart("Withdrawn (unsold at the floor)", order=30, color="tab:orange")),
            ValueColumn("floor_supply_mt", "withdrawn_mt", market_supply=True,
                        by_year=lambda p, v: -withdrawn_by_year(p, v),
                        label="the change unsold allowances make to the market's supply (-withdrawn_mt)")),
    year_columns=year_columns, market=market_facts, doc=__doc__,
)
