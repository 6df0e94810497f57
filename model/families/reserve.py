"""reserve: allowances held back in a reserve (reserve.csv) are sold to the trading sectors
when the price reaches a tier's trigger: up to the tier's yearly volume at the trigger price
(a supply step whose cost, the trigger, is in the objective), so the price stays at the
trigger while the tier lasts and rises past it once the tier is sold out. One row: all
releases over the horizon within the pool ``market.reserve.initial_mt`` (none without one).

Released allowances count as issued under the national target
(``market.reserve.counts_in_national_target``, default true: they add to the national count,
so a binding national cap leaves no room for them); when they do not, the national count may
exceed the national cap by them (``reserve_uncounted_mt``, in ``national_overshoot_mt``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..data.fields import REQUIRED, SOURCE_COLUMN, DatasetCheck, Field, Inputs, TableSpec, year_field
from ..errors import Problem
from .checktools import TOLERANCE_MT, TOLERANCE_PRICE, worst
from ..lp.blocks import RowBlock, Term, VarBlock
from .base import (ALLOWANCE_SUPPLY, NATIONAL_COUNT, Chart, Check, Contribution, Family, Sums, ValueColumn,
                   of_last_parameters)

if TYPE_CHECKING:
    from ..data.inputs import Dataset
    from ..parameters.derive import Parameters


RESERVE_TABLE = TableSpec(
    "reserve.csv",
    "Optional allowance reserve released at trigger prices: from a tier's row's year until its next row, "
    "up to volume_mt a year are sold to the market at the trigger price (a supply step), within the pool "
    "market.reserve.initial_mt.",
    ("tier", "year"),
    (
        year_field("year", "First year of the tier's trigger and volume."),
        Field("tier", "str", "", "Name of the tier (e.g. 1, 2)."),
        Field("trigger_price_cny_per_t", "float", "CNY per t CO2",
              "Allowance price (year-t money) at which the tier's allowances are sold.", REQUIRED, 0.0, 1e5),
        Field("volume_mt", "float", "Mt CO2", "Allowances the tier offers in each year.", REQUIRED, 0.0, 1e5),
        SOURCE_COLUMN,
    ),
    required=False,
)

# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        Field(
            "market.reserve.initial_mt",
            "float",
            "Mt CO2",
            "Allowances the reserve (reserve.csv) holds for the whole horizon; blank: only its yearly "
            "volumes limit it.",
            None,
            0.0,
            1e6,
        ),
        Field(
            "market.reserve.counts_in_national_target",
            "bool",
            "",
            "Whether allowances released from the reserve count as issued under the national target; false: "
            "the national count may exceed the national cap by them (reported as national_overshoot_mt).",
            True,
        ),
    ),
    tables=(RESERVE_TABLE,),
    checks=(DatasetCheck(frozenset({"reserve"}), lambda d: reserve_problems(d)),),
)


def reserve_problems(dataset: Dataset) -> list[Problem]:
    """reserve.csv has one row per tier and year (validation, ``inputs.check_dataset``)."""
    from ..data.inputs import repeated_keys  # the schema imports this module

    return repeated_keys(RESERVE_TABLE.file, dataset.reserve, list(RESERVE_TABLE.key))

_LAST: list = []  # (parameters, offers): the offers of the last parameters asked for (fastpath.forget empties it)


def reserve_offers(p: Parameters) -> pd.DataFrame:
    """Each tier's offer in each market year from its first row: trigger (CNY/t, year-t
    money) and volume (Mt) of its latest row at or before the year."""
    from ..data import fastpath  # here, not at the top: a family file imports only light modules

    def make() -> pd.DataFrame:
        table, market_years = p.dataset.reserve, p.market_years
        # kept for the same frozen reserve table and market years (a study's scenarios mostly share
        # both: a target or BAU changes neither); shared, so read, never changed in place
        return fastpath.cached("reserve offers", (table, market_years), lambda: _offers(table, market_years))

    return of_last_parameters(_LAST, p, make)


def _offers(table: pd.DataFrame, market_years: np.ndarray) -> pd.DataFrame:
    """``reserve_offers`` from reserve.csv and the market years."""
    if table.empty:
        return pd.DataFrame({"tier": [], "year": np.zeros(0, int), "trigger_price_cny_per_t": [], "volume_mt": []})
    tiers = table["tier"].astype(str).unique()  # text of one kind however the table was made
    grid = pd.DataFrame({"tier": np.repeat(tiers, market_years.size).astype(object),
                         "year": np.tile(market_years, tiers.size)})
    rows = table[["tier", "year", "trigger_price_cny_per_t", "volume_mt"]].astype({"tier": str, "year": int})
    rows["tier"] = rows["tier"].to_numpy(dtype=object)
    offers = pd.merge_asof(grid.sort_values("year"), rows.sort_values("year"), on="year", by="tier")
    return offers.dropna(subset=["volume_mt"]).sort_values(["tier", "year"], kind="stable").reset_index(drop=True)


def _counted(p: Parameters) -> bool:
    return bool(p.dataset.settings["market.reserve.counts_in_national_target"])


def reserve_variables(p: Parameters) -> list[VarBlock]:
    """Allowances released by tier and year, Mt: 0 to the tier's volume."""
    offers = reserve_offers(p)
    if offers.empty:
        return []
    return [VarBlock("reserve_release_mt", list(zip(offers["tier"], offers["year"].astype(int))),
                     np.zeros(len(offers)), offers["volume_mt"].to_numpy(dtype=float),
                     "allowances released from the reserve, by tier and year, Mt")]


def reserve_costs(p: Parameters) -> list[Term]:
    """Released allowances cost their trigger price, present value (million CNY)."""
    offers = reserve_offers(p)
    n = len(offers)
    if not n:
        return []
    discount = p.discount_factors(offers["year"])
    return [Term("reserve_release_mt", np.zeros(n, dtype=int), np.arange(n),
                 discount * offers["trigger_price_cny_per_t"].to_numpy(dtype=float))]


def _terms(p: Parameters, index: np.ndarray) -> list[Term]:
    offers = reserve_offers(p)
    n = len(offers)
    return [Term("reserve_release_mt", np.searchsorted(index, offers["year"].to_numpy()), np.arange(n),
                 np.ones(n))] if n else []


def releases_as_supply(p: Parameters) -> Contribution:
    """Released allowances are supply to the trading sectors in their year, Mt."""
    return Contribution(_terms(p, p.market_years), np.zeros(p.market_years.size))


def releases_counted(p: Parameters) -> Contribution:
    """Released allowances count as issued in their year (unless the scenario says not), Mt."""
    return Contribution(_terms(p, p.years) if _counted(p) else [], np.zeros(p.years.size))


def define_reserve_pool(p: Parameters, sums: Sums) -> RowBlock:
    """All releases over the horizon <= the pool (Mt); no row without a pool or a reserve."""
    doc = "sum of releases over the horizon <= market.reserve.initial_mt (Mt)"
    pool = p.dataset.settings["market.reserve.initial_mt"]
    n = len(reserve_offers(p))
    if pool is None or not n:
        return RowBlock("reserve", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    return RowBlock("reserve", ["pool"], [Term("reserve_release_mt", np.zeros(n, dtype=int), np.arange(n), np.ones(n))],
                    constant=np.zeros(1), upper=np.full(1, float(pool)), doc=doc)


def released_by_year(p: Parameters, values: np.ndarray, uncounted_only: bool = False) -> np.ndarray:
    """Releases summed over tiers by model year, Mt."""
    offers = reserve_offers(p)
    if uncounted_only and _counted(p):
        return np.zeros(p.years.size)
    return np.bincount(offers["year"].to_numpy(int) - p.first_year, weights=values, minlength=p.years.size)


def year_columns(p: Parameters, values: Mapping[str, np.ndarray], years: pd.DataFrame) -> dict[str, np.ndarray]:
    """reserve_pool_mt: what the pool holds at each year end (NaN without a pool)."""
    if reserve_offers(p).empty:
        return {}
    pool = p.dataset.settings["market.reserve.initial_mt"]
    released = years["reserve_released_mt"].to_numpy(dtype=float)
    return {"reserve_pool_mt": np.full(p.years.size, np.nan) if pool is None else pool - np.cumsum(released)}


def market_facts(p: Parameters) -> dict[str, Any]:
    """The reserve's offers, for the check (by year: trigger and volume of each tier), and
    whether releases count under the national target."""
    offers = reserve_offers(p)
    if offers.empty:
        return {}
    return {"reserve_offers": {"year": offers["year"].astype(int).tolist(),
                               "trigger_price_cny_per_t": offers["trigger_price_cny_per_t"].astype(float).tolist(),
                               "volume_mt": offers["volume_mt"].astype(float).tolist()},
            "reserve_initial_mt": p.dataset.settings["market.reserve.initial_mt"], "reserve_counted": _counted(p)}


def reserve_release(years, sector_years, steps, market) -> float:
    """The reserve sells a tier's allowances only when the price reaches its trigger, and
    every tier whose trigger is below the price in full while the pool lasts (a pool used
    up may leave the price above a trigger; a release counted under the national target is
    worth the price less the national carbon value); the pool never goes below zero. Mt off (worst
    year), from the years table and the offers (``market["reserve_offers"]``)."""
    offers = market.get("reserve_offers")
    if not offers or "reserve_released_mt" not in years:
        return 0.0
    position = np.searchsorted(years["year"].to_numpy(), np.asarray(offers["year"]))
    price = np.nan_to_num(years["allowance_price_cny_per_t"].to_numpy(dtype=float))[position]
    trigger, volume = np.asarray(offers["trigger_price_cny_per_t"]), np.asarray(offers["volume_mt"])
    slack = TOLERANCE_PRICE * np.maximum(1.0, trigger)
    may_sell = np.bincount(position, weights=np.where(trigger <= price + slack, volume, 0.0), minlength=len(years))
    if market.get("reserve_counted") and "national_carbon_value_cny_per_t" in years:
        # a counted release also uses a tonne of the national cap: worth the price less its value
        price = price - np.nan_to_num(years["national_carbon_value_cny_per_t"].to_numpy(dtype=float))[position]
    must_sell = np.bincount(position, weights=np.where(trigger < price - slack, volume, 0.0), minlength=len(years))
    released = years["reserve_released_mt"].to_numpy(dtype=float)
    pool = years["reserve_pool_mt"].to_numpy(dtype=float) if "reserve_pool_mt" in years else np.full(len(years), np.nan)
    pool_left = np.isnan(pool[-1]) or pool[-1] > TOLERANCE_MT
    return worst([*(released - may_sell), *((must_sell - released) if pool_left else []), *(-np.nan_to_num(pool))])


RESERVE_RELEASE = Check("reserve_release", reserve_release)


FAMILY = Family(
    "reserve", define_reserve_pool, check=RESERVE_RELEASE,
    inputs=INPUTS,
    variables=reserve_variables, costs=reserve_costs,
    adds={ALLOWANCE_SUPPLY: releases_as_supply, NATIONAL_COUNT: releases_counted},
    values=(ValueColumn("reserve_released_mt", "reserve_release_mt", market_supply=True, by_year=released_by_year,
                        supply_chart=Chart("Reserve releases", order=10)),
            ValueColumn("reserve_uncounted_mt", "reserve_release_mt", beyond_national_cap=True,
                        label="reserve releases not counted under the national target",
                        by_year=lambda p, v: released_by_year(p, v, uncounted_only=True))),
    year_columns=year_columns, market=market_facts, doc=__doc__,
)
