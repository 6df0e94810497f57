"""offsets: the trading sectors may surrender offsets (offsets.csv, e.g. CCER credits) for
at most ``offset_limit_share`` of their verified (modelled) emissions. One row per market
year: offsets used <= sum over trading sectors of share x emissions. (Offsets trade freely
among sectors, so this row is the sector limits' sum: any total within it can be shared out
within every sector's own limit; ``offsets_surrendered_mt`` shares it in proportion to the
limits.) Offsets are market supply at their cost (in the objective).

No double counting in the national count: an offset from a sector outside the ETS is that
sector's abatement (its emissions fall by it) and lets the ETS emit as much more, so the
national count is unchanged. An offset from a named source lets the ETS emit more and no
modelled sector less: a removal (``removal``, blank = true for a named source: forestry,
mangroves) is, under [targets] scope "net_ghg", an extra sink of the net count
(``offsets_as_sinks_mt``, netted like ``sinks_mt``), so the count is unchanged; under scope
"co2" it is outside the CO2 count; and a named source that is not a removal (offshore wind
whose reduction the BAU holds) is outside the count in both scopes. Those may take the
national count above the national cap by exactly themselves (``offsets_overshoot_mt``, in
``national_overshoot_mt``). In the national target row each offset is thus an issued
allowance (+1) and a sink, a sector's abatement or an allowed overshoot (-1): net zero, so
offsets add no term to ``NATIONAL_COUNT`` and the checks count them from these columns.

Its dual is the limit's value (``offset_limit_value_cny_per_t``: what one more tonne of
limit would save); an offset then sells for the allowance price less that value
(``offset_price_cny_per_t``), and a tonne a trading sector abates is worth the allowance
price less share x the limit's value (it shrinks the limit too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from ..data.fields import (REQUIRED, SOURCE_COLUMN, DatasetCheck, Field, Inputs, TableSpec, name_positions, share_field,
                           text_codes, year_field)
from ..errors import Problem
from .checktools import values, worst
from ..lp.blocks import RowBlock, Term, VarBlock
from ..parameters.phases import OUTSIDE, TRADING
from .base import (ALLOWANCE_SUPPLY, Chart, Check, Contribution, DualColumn, Family, Sums, ValueColumn,
                   abatement_terms, of_last_parameters)

if TYPE_CHECKING:
    from ..data.inputs import Dataset
    from ..parameters.derive import Parameters


OFFSETS_TABLE = TableSpec(
    "offsets.csv",
    "Optional offset supply (e.g. CCER credits) by origin, step and year, surrendered by the trading sectors "
    "within their offset limit (market.offset_limit_share). Potential and cost are interpolated between an "
    "(origin, step)'s rows and held after its last row; none before its first. An origin that is a sector of "
    "sectors.csv must be outside the ETS: its offsets are its own abatement (its emissions fall; none from the "
    "year the ETS covers it). Any other origin is a named source: the ETS emits more by its offsets and no "
    "modelled sector emits less. A removal (removal = true: forestry, mangroves) is then an extra sink: under "
    "[targets] scope = 'net_ghg' it adds to the net count's sinks, so the national count is unchanged; under "
    "scope = 'co2' it is outside the CO2 count, and the national count may exceed the national cap by it. A "
    "named source that is not a removal (removal = false: e.g. offshore wind whose reduction the BAU already "
    "holds) lets the national count exceed the national cap by it in both scopes (offsets_overshoot_mt, in "
    "national_overshoot_mt).",
    ("origin", "step", "year"),
    (
        year_field("year", "Year of the figures."),
        Field("origin", "str", "", "A sector of sectors.csv outside the ETS, or a named source such as forestry."),
        Field("step", "str", "", "Name of the supply step, unique within the origin and year."),
        Field("potential_mt", "float", "Mt CO2", "Offsets the step can supply in the year.", REQUIRED, 0.0, 1e5),
        Field("cost_cny_per_t", "float", "CNY per t CO2", "Cost of one offset of the step, in year-t money.",
              REQUIRED, 0.0, 1e5),
        Field("removal", "bool", "", "The offset is a removal by a sink (forestry, mangroves), counted as an "
              "extra sink under scope 'net_ghg'; false: a reduction outside the modelled sectors' count. Blank: "
              "true for a named origin, false (the only value allowed) for a sector of sectors.csv.", None),
        SOURCE_COLUMN,
    ),
    required=False,
)

# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        share_field(
            "market.offset_limit_share",
            "Offsets (offsets.csv) a trading sector surrenders are at most this share of its verified "
            "(modelled) emissions, unless sectors.csv gives its own offset_limit_share.",
            0.0,
        ),
    ),
    columns={"sectors.csv": (
        share_field(
            "offset_limit_share",
            "While trading, the sector surrenders offsets for at most this share of its verified "
            "emissions; blank: the scenario's market.offset_limit_share.",
            None,
        ),
    )},
    tables=(OFFSETS_TABLE,),
    checks=(DatasetCheck(frozenset({"offsets", "sectors.sector", "sectors.covered_from"}),
                         lambda d: offset_problems(d)),),
)


def offset_problems(dataset: Dataset) -> list[Problem]:
    """offsets.csv has one row per key; an origin that is a sector is outside the ETS in the
    row's year (a covered sector's abatement is the ETS's own) and never a removal
    (validation, ``inputs.check_dataset``)."""
    from ..data.inputs import repeated_keys  # the schema imports this module

    offsets, file = dataset.offsets, OFFSETS_TABLE.file
    problems = repeated_keys(file, offsets, list(OFFSETS_TABLE.key))
    if offsets.empty:
        return problems
    covered_from = dataset.sectors.set_index("sector")["covered_from"]
    origin_from = offsets["origin"].map(covered_from).astype(float)
    # a float comparison: an origin that is no sector (NaN) compares False
    for row in offsets.index[(offsets["year"].astype(float) >= origin_from).to_numpy()]:
        problems.append(Problem(file, row, "year", str(offsets.at[row, "year"]),
                                f"a year before {offsets.at[row, 'origin']} is covered by the ETS "
                                f"(covered_from {int(origin_from[row])}): its abatement is then the ETS's own, "
                                "not an offset; drop the row"))
    if "removal" in offsets:  # a sector's offset is its abatement, never a sink's removal
        is_sector = offsets["origin"].isin(covered_from.index).to_numpy()
        removal = offsets["removal"].astype(object).eq(True).to_numpy()
        for row in offsets.index[is_sector & removal]:
            problems.append(Problem(file, row, "removal", "true",
                                    f"false or blank, since {offsets.at[row, 'origin']} is a sector of sectors.csv: "
                                    "its offsets are its abatement, not a removal"))
    return problems

_LAST: list = []  # (parameters, supply): the supply of the last parameters asked for (fastpath.forget empties it)


def offset_supply(p: Parameters) -> pd.DataFrame:
    """The offset steps by (origin, step, market year): potential (Mt) and cost (CNY/t, year-t
    money) interpolated between an (origin, step)'s rows and held after its last, none before
    its first; ``row``: the origin's sector-year row (-1 for a named source such as forestry).
    A sector origin offers nothing from the year the ETS covers it (its abatement is then the
    ETS's own)."""
    from ..data import fastpath  # here, not at the top: the schema imports this module

    def make() -> pd.DataFrame:
        if p.dataset.offsets.empty:  # no offsets.csv rows (most datasets): the one empty supply, without
            # the key below (the sectors' names and phases of every scenario: a few % of a sweep's time)
            return fastpath.cached("offset_supply", (), _NO_SUPPLY.copy)
        # the same supply for a study's scenarios that share offsets.csv, the sectors' names and
        # phases: made once, not for each scenario's tables (the LP's offset blocks are its base's)
        key = (p.dataset.offsets, tuple(p.dataset.sectors["sector"]), p.market_years.tobytes(), p.years.tobytes(),
               p.first_year, (np.asarray(p.phase) != OUTSIDE).tobytes())
        return fastpath.cached("offset_supply", key, lambda: _offset_supply(p))

    return of_last_parameters(_LAST, p, make)


def _offset_supply(p: Parameters) -> pd.DataFrame:
    table = p.dataset.offsets  # not empty: offset_supply gives an empty table's supply itself
    years = p.market_years
    # each (origin, step)'s rows by year, the steps in the order they first appear: codes and one
    # sort, then arrays a step (a DataFrame a step, and a MultiIndex's codes, took 6 of a default
    # solve's 300 ms)
    origins, origin_code = text_codes(table["origin"])
    steps, step_code = text_codes(table["step"])
    codes, pairs = pd.factorize(origin_code * len(steps) + step_code)
    year = table["year"].to_numpy(dtype=float)
    order = np.lexsort((year, codes))
    codes, year = codes[order], year[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])  # each step's first row (steps 0, 1, ...)
    ends = np.r_[starts[1:], codes.size]
    at = [years[years >= year[start]] for start in starts]
    counts = np.array([each.size for each in at], dtype=np.intp)
    if not counts.sum():
        return _NO_SUPPLY.copy()

    def interpolated(column: str) -> np.ndarray:
        """The column between each step's given years, held after its last, at its market years."""
        given = table[column].to_numpy(dtype=float)[order]
        return np.concatenate([np.interp(each, year[a:b], given[a:b]) for each, a, b in zip(at, starts, ends)])

    step_of_row = np.repeat(np.arange(starts.size), counts)
    at_year = np.concatenate(at)
    step_origin = origins[pairs // len(steps)]
    step_sector = name_positions(p.dataset.sectors["sector"], step_origin)  # -1: a named source, no sector
    code = step_sector[step_of_row]
    row = np.where(code >= 0, code * p.years.size + (at_year.astype(int) - p.first_year), -1)
    covered = (row >= 0) & (p.phase[np.maximum(row, 0)] != OUTSIDE)  # the ETS's own abatement from then
    # a step's removal flag: as given on its first row, else whether its origin is no sector
    given = table["removal"].to_numpy(dtype=object)[order[starts]] if "removal" in table else np.full(starts.size, None)
    removal = np.where(pd.isna(given), step_sector < 0, given).astype(bool)
    return pd.DataFrame({
        "origin": step_origin[step_of_row],
        "step": steps[pairs % len(steps)][step_of_row],
        "year": at_year,
        "potential_mt": np.where(covered, 0.0, interpolated("potential_mt")),
        "cost_cny_per_t": interpolated("cost_cny_per_t"),
        "row": row,
        "removal": removal[step_of_row] & (row < 0),
    })


_NO_SUPPLY = pd.DataFrame({"origin": [], "step": [], "year": np.zeros(0, int), "potential_mt": [],
                           "cost_cny_per_t": [], "row": np.zeros(0, int), "removal": np.zeros(0, bool)})


def offset_variables(p: Parameters) -> list[VarBlock]:
    """Offsets used by step and year, Mt: 0 to the step's potential."""
    supply = offset_supply(p)
    if supply.empty:
        return []
    keys = list(zip(supply["origin"], supply["step"], supply["year"].astype(int)))
    return [VarBlock("offset_mt", keys, np.zeros(len(supply)), supply["potential_mt"].to_numpy(),
                     "offsets surrendered, by origin, step and year, Mt")]


def offset_costs(p: Parameters) -> list[Term]:
    """Offsets' cost, present value (million CNY)."""
    supply = offset_supply(p)
    if supply.empty:
        return []
    discount = p.discount_factors(supply["year"])
    n = len(supply)
    return [Term("offset_mt", np.zeros(n, dtype=int), np.arange(n), discount * supply["cost_cny_per_t"].to_numpy())]


def offsets_as_supply(p: Parameters) -> Contribution:
    """Offsets surrendered in each market year are supply to the trading sectors, Mt."""
    supply = offset_supply(p)
    n = len(supply)
    terms = [Term("offset_mt", np.searchsorted(p.market_years, supply["year"].to_numpy()), np.arange(n),
                  np.ones(n))] if n else []
    return Contribution(terms, np.zeros(p.market_years.size))


def limit_shares(p: Parameters) -> np.ndarray:
    """Each sector-year row's offset limit share while trading (sectors.csv, else the
    scenario's), 0 outside trading."""
    own = p.dataset.sectors["offset_limit_share"] if "offset_limit_share" in p.dataset.sectors else None
    market = p.dataset.settings["market.offset_limit_share"]
    share = np.full(len(p.dataset.sectors), market, dtype=float) if own is None else (
        own.to_numpy(dtype=float, na_value=np.nan))
    share = np.where(np.isnan(share), market, share)
    return np.where(p.phase == TRADING, np.repeat(share, p.years.size), 0.0)


def define_offset_limit(p: Parameters, sums: Sums) -> RowBlock:
    """Offsets used - sum of share x trading emissions <= 0 in every market year (Mt); no
    rows without offsets.csv."""
    doc = "offsets used - offset_limit_share x trading emissions <= 0 (Mt)"
    supply = offset_supply(p)
    if supply.empty:
        return RowBlock("offsets", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    share = limit_shares(p)
    market_years = p.market_years
    in_market = (p.phase == TRADING) & np.isin(p.year_of_row, market_years)
    row_of = np.where(in_market, np.searchsorted(market_years, p.year_of_row), -1)
    n = len(supply)
    terms = [Term("offset_mt", np.searchsorted(market_years, supply["year"].to_numpy()), np.arange(n), np.ones(n))]
    for term in abatement_terms(p, row_of):  # - share x (BAU - abatement): + share x abatement
        columns = next(c for c in p.abatement if c.name == term.var)
        chosen = np.flatnonzero(row_of[columns.rows] >= 0)
        terms.append(term._replace(coefs=share[columns.rows][chosen]))
    limit_bau = np.bincount(np.maximum(row_of, 0), weights=np.where(row_of >= 0, share * (
        p.sector_years["bau_mt"].to_numpy() - p.presolved_abatement_by_row), 0.0), minlength=market_years.size)
    return RowBlock("offsets", market_years.tolist(), terms, constant=-limit_bau,
                    upper=np.zeros(market_years.size), doc=doc)


def counts_removals_as_sinks(p: Parameters) -> bool:
    """A net-GHG national count nets removals as sinks; a CO2 count does not see them."""
    return p.dataset.settings["targets.scope"] == "net_ghg"


def national_accounting(p: Parameters) -> dict[str, np.ndarray]:
    """Each offset step-year's place in the national count: ``sector`` (an uncovered sector's
    abatement), ``sink`` (a removal netted as a sink, net_ghg), ``overshoot`` (the rest: a
    removal under a CO2 count, or a named source's reduction already in a BAU)."""
    supply = offset_supply(p)
    sector = supply["row"].to_numpy() >= 0
    sink = supply["removal"].to_numpy(dtype=bool) & counts_removals_as_sinks(p)
    return {"sector": sector, "sink": sink, "overshoot": ~sector & ~sink}


def _by_year(p: Parameters, values: np.ndarray, removals_only: bool = False, part: str | None = None) -> np.ndarray:
    supply = offset_supply(p)
    if supply.empty:
        return np.zeros(p.years.size)
    chosen = np.ones(len(supply), dtype=bool)
    if removals_only:
        chosen = supply["removal"].to_numpy(dtype=bool)
    if part is not None:
        chosen = national_accounting(p)[part]
    return np.bincount(supply["year"].to_numpy(int) - p.first_year, weights=np.where(chosen, values, 0.0),
                       minlength=p.years.size)


def offsets_sold(p: Parameters, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """Offsets sold by each sector-year row outside the ETS, Mt (their abatement)."""
    supply = offset_supply(p)
    if supply.empty:
        return np.zeros(len(p.sector_years))
    rows = supply["row"].to_numpy()
    mine = rows >= 0
    return np.bincount(rows[mine], weights=values["offset_mt"][mine], minlength=len(p.sector_years))


def sector_year_columns(p: Parameters, values: Mapping[str, np.ndarray], table: pd.DataFrame) -> dict[str, np.ndarray]:
    """offset_limit_share (trading rows), offsets_surrendered_mt (the year's offsets shared
    in proportion to each trading sector's limit, share x emissions), offsets_sold_mt (by
    sectors outside the ETS)."""
    if offset_supply(p).empty:
        return {}
    share = limit_shares(p)
    trading = p.phase == TRADING
    limit = np.where(trading, share * table["emissions_mt"].to_numpy(dtype=float), 0.0)
    year = p.year_of_row - p.first_year
    limit_total = np.bincount(year, weights=limit, minlength=p.years.size)
    used = _by_year(p, values["offset_mt"])
    surrendered = np.divide(used[year] * limit, limit_total[year], out=np.zeros(limit.size),
                            where=limit_total[year] > 0)
    return {"offset_limit_share": np.where(trading, share, np.nan),
            "offsets_surrendered_mt": np.where(trading, surrendered, np.nan),
            "offsets_sold_mt": offsets_sold(p, values)}


def year_columns(p: Parameters, values: Mapping[str, np.ndarray], years: pd.DataFrame) -> dict[str, np.ndarray]:
    """offset_price_cny_per_t: what an offset sells for, the allowance price less the limit's value."""
    if offset_supply(p).empty:
        return {}
    return {"offset_price_cny_per_t": (years["allowance_price_cny_per_t"].to_numpy(dtype=float)
                                       - years["offset_limit_value_cny_per_t"].to_numpy(dtype=float))}


def offset_limit(years, sector_years, steps, market) -> float:
    """No trading sector surrenders offsets for more than its limit share of its verified
    emissions, and what the sectors surrender is the year's offsets used, Mt over (worst)."""
    if "offsets_surrendered_mt" not in sector_years or "offsets_used_mt" not in years:
        return 0.0
    surrendered = np.nan_to_num(values(sector_years, "offsets_surrendered_mt", float))
    limit = (np.nan_to_num(values(sector_years, "offset_limit_share", float))
             * values(sector_years, "emissions_mt", float))
    position = np.searchsorted(values(years, "year"), values(sector_years, "year"))
    total = np.bincount(position, weights=surrendered, minlength=len(years))
    return worst([*(surrendered - limit), *np.abs(total - values(years, "offsets_used_mt", float)),
                   *(-surrendered)])


OFFSET_LIMIT = Check("offset_limit", offset_limit)


FAMILY = Family(
    "offsets", define_offset_limit, check=OFFSET_LIMIT,
    inputs=INPUTS, reads=("targets.scope",),
    dual=DualColumn("offset_limit_value_cny_per_t", "years", year_of_row=lambda p: p.market_years,
                    optional=True),
    adds={ALLOWANCE_SUPPLY: offsets_as_supply}, variables=offset_variables, costs=offset_costs,
    values=(ValueColumn("offsets_used_mt", "offset_mt", market_supply=True, by_year=_by_year,
                        supply_chart=Chart("Offsets", order=30)),
            ValueColumn("offsets_from_removals_mt", "offset_mt",
                        by_year=lambda p, v: _by_year(p, v, removals_only=True)),
            ValueColumn("offsets_as_sinks_mt", "offset_mt", national_sink=True,
                        by_year=lambda p, v: _by_year(p, v, part="sink")),
            ValueColumn("offsets_overshoot_mt", "offset_mt", beyond_national_cap=True,
                        label="offsets outside the national count",
                        by_year=lambda p, v: _by_year(p, v, part="overshoot"))),
    emission_change=lambda p, values: -offsets_sold(p, values),
    sector_year_columns=sector_year_columns, year_columns=year_columns, doc=__doc__,
)
