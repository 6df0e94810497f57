"""Verify a solution from its output tables alone, independent of the model code.

Each check returns the worst violation found (0 when it holds exactly); a check passes
when the worst violation is within tolerance. The checks restate the economics:
targets and balances hold, no step is used beyond its potential, equal marginal cost
in every traded year, and the Hotelling rule while the bank is positive.

The policy checks (``national_count``, ``sector_compliance``, ``market_clearing``) test
the policy itself from emissions, caps, the bank and prices, never from how the LP's
rows are written: a rule family that adds allowances to the market without counting
them in the national target passes a check that restates the row (``national_target``
counts ``ets_cap_mt``) but fails ``national_count`` by the overshoot in Mt. A family
that adds allowances to the market supply declares the years-table column reporting them
(``families.ValueColumn(market_supply=True)``; ``market["supply_columns"]`` adds more).

Every check is a ``families.Check`` (name, test, unit, tolerance). The checks of the whole
solution are declared here (``POLICY_CHECKS``, ``STAGE2_CHECKS``); a rule's own check lives
in its family's file (``offsets.OFFSET_LIMIT``, ``reserve.RESERVE_RELEASE``, ...), and so do
the national count and the market clearing (``national_target``, ``market_balance``), which
families reference. ``run_checks`` runs the policy-wide checks, then each listed family's
check once. The sums and joins they share are in ``checktools`` (which imports no family).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..families import checktools
from ..data import fastpath
from ..families.checktools import (BEYOND_NATIONAL_CAP, CHANGES_ISSUED, MARKET_SUPPLY, NATIONAL_SINK, TOLERANCE_MT,
                                   TOLERANCE_PRICE, borrowed_mt, brought_in_mt, by_name, by_year, declared_columns,
                                   joined, market_supply_mt, row_of_step, rows_named, rows_of, values, worst)
from ..families import (FAMILIES, Check, Family, beyond_national_cap_columns, changes_issued_columns,
                        market_supply_columns, national_sink_columns)
from ..families.bank_limits import sector_bank_room
from ..families.deployment_limits import deployment_limited
from ..families.market_balance import MARKET_CLEARING
from ..families.national_target import NATIONAL_COUNT_CHECK
from ..parameters.phases import OUTSIDE, SIMULATION, TRADING

__all__ = ["run_checks", "checks_of", "failed", "TOLERANCE_MT", "TOLERANCE_PRICE", "POLICY_CHECKS", "STAGE2_CHECKS"]


def run_checks(years: pd.DataFrame, sector_years: pd.DataFrame, steps: pd.DataFrame,
               market: dict[str, Any], facilities: pd.DataFrame | None = None,
               stage1: dict[str, Any] | None = None,
               families: list[Family] | None = None) -> dict[str, dict[str, Any]]:
    """Every check by name: {"passed": bool, "worst_violation": float, "unit": str}: the
    policy-wide checks and every listed family's check (``families``, default the
    ``FAMILIES`` list), each once (``checks_of``).

    With ``stage1`` (what the least-cost stage decided: ``ets_cap_mt`` and ``bank_mt`` by
    year, ``emissions_mt`` by row of ``sector_years``, ``objective_bn_cny``,
    ``cost_tolerance``, and ``allocation_objective``) the tables are a stage-2 solution,
    checked to keep it and to be at stage 2's own optimum.

    At facility resolution (``steps`` has a ``facility_id`` column) an installation's own
    steps face its own price in the simulation phase, and its emissions must stay within
    its free allowances (its share of the rule cap); ``facilities`` gives both."""
    families = FAMILIES if families is None else families
    declared = {MARKET_SUPPLY: market_supply_columns(families),
                BEYOND_NATIONAL_CAP: beyond_national_cap_columns(families),
                NATIONAL_SINK: national_sink_columns(families), CHANGES_ISSUED: changes_issued_columns(families)}
    market = {**market, "facilities": facilities, "stage1": stage1, "declared_columns": declared}
    sector_year_row = row_of_step(sector_years, steps)
    steps = _with_column(steps, "sector_year_row", sector_year_row)  # joined once for all checks
    report = {}
    checktools.sums.by_year = {} if fastpath.enabled() else None  # yearly sums several checks share, made once
    try:
        for check in checks_of(families, stage2=stage1 is not None, equilibrium=market.get("equilibrium", True)):
            violation = float(check.test(years, sector_years, steps, market))
            report[check.name] = {"passed": bool(violation <= check.tolerance), "worst_violation": violation,
                                  "unit": check.unit}
    finally:
        checktools.sums.by_year = None
    return report


def _with_column(table: pd.DataFrame, name: str, column: np.ndarray) -> pd.DataFrame:
    """``table`` with ``column`` added as ``name``, the caller's table left as it is: on the fast
    path a new table over the same column arrays with the columns Index kept for a study's
    scenarios (``fastpath.column_names``: a copy and ``__setitem__`` make a new Index, whose name
    lookup pandas builds again at every scenario's first read), else a shallow copy given the column."""
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)  # pandas' private constructor (1.x to 3)
    by_position = getattr(table, "_get_column_array", None)
    names = tuple(table.columns)
    if (fastpath.enabled() and from_arrays is not None and by_position is not None and name not in names
            and table.columns.is_unique and all(isinstance(each, str) for each in names)):
        arrays = [by_position(position) for position in range(len(names))]
        return from_arrays([*arrays, column], columns=fastpath.column_names((*names, name)), index=table.index,
                           verify_integrity=False)
    table = table.copy(deep=False)
    table[name] = column
    return table


def checks_of(families: list[Family] | None = None, stage2: bool = False, equilibrium: bool = True) -> list[Check]:
    """The checks run on a solution, in the report's order: the policy-wide ones, then each
    listed family's check not yet among them (in the families' order), then stage 2's. A
    ``Check`` shared by several families is run once. ``equilibrium`` false (stage 2 moved
    abatement within a cost tolerance) leaves out equal marginal cost."""
    chosen = [check for check in POLICY_CHECKS if equilibrium or check is not EQUAL_MARGINAL_COST]
    for family in FAMILIES if families is None else families:
        if all(family.check is not check for check in chosen):
            chosen.append(family.check)
    return [*chosen, *(STAGE2_CHECKS if stage2 else ())]


def failed(report: dict[str, dict[str, Any]]) -> list[str]:
    return [f"{name} (worst violation {r['worst_violation']:.3g} {r['unit']})"
            for name, r in report.items() if not r["passed"]]


def sector_compliance(years, sector_years, steps, market) -> float:
    """Each covered sector emits no more than the allowances it holds, Mt over (worst).

    A simulation-phase sector holds its rule cap (``rule_cap_mt``, (1 - simulation_reduction)
    x BAU; ``cap_mt`` in tables without it) and cannot trade; the trading
    sectors hold, as one market, their caps plus what rules add to supply plus the bank
    brought in, less the bank carried out: trading emissions + bank[t] - bank[t-1] <=
    trading caps + added supply."""
    simulation = values(sector_years, "phase") == SIMULATION
    held = sector_years["rule_cap_mt"] if "rule_cap_mt" in sector_years else sector_years["cap_mt"]
    own = np.where(simulation, values(sector_years, "emissions_mt", float) - held.to_numpy(dtype=float), 0.0)
    trading_emissions = by_year(sector_years, (TRADING,), "emissions_mt", values(years, "year"))
    held = market_supply_mt(years, sector_years, market) + brought_in_mt(years, market)
    banked = values(years, "bank_mt", float)
    return worst(joined(np.nan_to_num(own), trading_emissions + banked - held))


def _national_target(years, sector_years, steps, market) -> float:
    """Allowances issued (the ETS cap, changed by the rules that change it: a supply
    adjustment's intake is not issued, its release is) plus emissions outside the ETS stay
    within each year's national cap, Mt over (worst year)."""
    outside = by_year(sector_years, (OUTSIDE,), "emissions_mt", values(years, "year"))
    issued = values(years, "ets_cap_mt", float)
    for column in declared_columns(market, CHANGES_ISSUED):
        if column in years:
            issued = issued + np.nan_to_num(values(years, column, float))
    return worst(issued + outside - values(years, "national_cap_mt"))


def _market_balance(years, sector_years, steps, market) -> float:
    """Trading emissions plus the bank carried out stay within the supply (caps, what rules
    add, the bank brought in), Mt over (worst year)."""
    emissions = by_year(sector_years, (TRADING,), "emissions_mt", values(years, "year"))
    bank = values(years, "bank_mt")
    return worst(emissions + bank - brought_in_mt(years, market) - market_supply_mt(years, sector_years, market))


def _abatement_within_potential(years, sector_years, steps, market) -> float:
    """No step abates less than nothing or more than its potential, Mt over (worst step)."""
    abatement = values(steps, "abatement_mt", float)
    return worst(np.maximum(-abatement, abatement - values(steps, "potential_mt", float)))


def _emissions_add_up(years, sector_years, steps, market) -> float:
    """Each sector-year emits its BAU less its steps' abatement (and the offsets it sells), Mt off."""
    abated = np.bincount(values(steps, "sector_year_row"), weights=values(steps, "abatement_mt"),
                         minlength=len(sector_years))
    if "offsets_sold_mt" in sector_years:  # an offset sold by a sector outside the ETS is its abatement
        abated = abated + np.nan_to_num(values(sector_years, "offsets_sold_mt", float))
    return worst(np.abs(values(sector_years, "bau_mt") - abated - values(sector_years, "emissions_mt")))


def _equal_marginal_cost(years, sector_years, steps, market) -> float:
    """No used step costs more than the price it faces, no unused step costs less:
    trading sectors face the allowance price, simulation sectors their own price,
    sectors outside the ETS the national carbon value. A seller whose bank is at a limit
    that grows with its sales (base + f x net sales) faces more: a tonne abated is split
    between selling it (price p) and banking f/(1+f) of it, worth next year's price
    discounted, V: (p + f V) / (1 + f)."""
    year_row = np.searchsorted(values(years, "year"), values(sector_years, "year"))
    phase = values(sector_years, "phase")
    faced = np.select(
        [phase == TRADING, phase == SIMULATION, phase == OUTSIDE],
        [_trading_price_faced(years, sector_years, market, year_row),
         values(sector_years, "own_price_cny_per_t"),
         values(years, "national_carbon_value_cny_per_t")[year_row]],
        np.nan,
    )
    if "basis" in sector_years:  # a grandfathered sector's private price is reduction x the allowance price,
        # but a planner also values its abatement through the ETS cap (a fixed one, or the national target's):
        # its steps are not tested here (cap_rules tests its cap)
        faced = np.where(values(sector_years, "basis") == "grandfathered", np.nan, faced)
    if "offset_limit_share" in sector_years and "offset_limit_value_cny_per_t" in years:
        # a trading sector's tonne abated also shrinks its offset limit by its share: it is
        # worth the allowance price less that share of the limit's value
        limit_value = np.nan_to_num(values(years, "offset_limit_value_cny_per_t", float))[year_row]
        share = np.nan_to_num(values(sector_years, "offset_limit_share", float))
        faced = np.where(phase == TRADING, faced - share * limit_value, faced)
    step_price = faced[values(steps, "sector_year_row")]
    facilities = market.get("facilities")
    if "facility_id" in steps and facilities is not None and len(facilities):
        # the simulation rows' keys and prices only (not a copy of the table's rows)
        in_simulation = rows_named(facilities, "phase", SIMULATION)
        row = rows_of(facilities, steps, "facility_id", table_rows=in_simulation)
        # a NaN after the prices: row -1 (no installation in simulation, or none at all) picks it
        own_price = np.append(values(facilities, "price_cny_per_t", float)[in_simulation], np.nan)[row]
        step_price = np.where(row >= 0, own_price, step_price)
    if "own_price_cny_per_t" in steps:  # a pool of installations in closed form: the price they face
        pooled_price = values(steps, "own_price_cny_per_t", float)
        step_price = np.where(np.isnan(pooled_price), step_price, pooled_price)
    cost = values(steps, "cost_cny_per_t")
    build_limited, at_group_limit = deployment_limited(years, steps, market)
    used = (values(steps, "abatement_mt") > TOLERANCE_MT) & ~build_limited
    spare = ((values(steps, "potential_mt") - values(steps, "abatement_mt") > TOLERANCE_MT)
             & ~build_limited & ~at_group_limit)
    scale = np.maximum(1.0, np.abs(step_price))
    too_dear = np.where(used, (cost - step_price) / scale, 0.0)
    too_cheap = np.where(spare, (step_price - cost) / scale, 0.0)
    return worst(np.nan_to_num(np.maximum(too_dear, too_cheap), nan=0.0))


def _trading_price_faced(years, sector_years, market, year_row) -> np.ndarray:
    """The allowance price each sector-year faces (see ``_equal_marginal_cost``)."""
    price = values(years, "allowance_price_cny_per_t", float)
    faced = price[year_row]
    limits = market.get("sector_bank_limits") or {}
    if "net_sales_mt" not in sector_years or not limits:
        return faced
    room, market_room = sector_bank_room(years, sector_years, market)
    factor = by_name(sector_years, "sector", limits, "sales_factor", 0.0)
    discount = values(years, "discount_factor", float)
    banked_value = np.append(price[1:] * discount[1:] / discount[:-1], np.nan)[year_row]
    selling_at_limit = ((factor > 0) & (values(sector_years, "net_sales_mt", float) > TOLERANCE_MT)
                        & (np.nan_to_num(room, nan=1.0) <= TOLERANCE_MT) & (market_room[year_row] > TOLERANCE_MT)
                        & np.isfinite(banked_value))
    return np.where(selling_at_limit, (faced + factor * banked_value) / (1 + factor), faced)


def _hotelling(years, sector_years, steps, market) -> float:
    """While allowances are banked, the price rises at the discount rate: never more slowly
    (holders would sell the bank instead), and never faster while some sector could bank
    more (no bank limit binds on it, nor the market's): a binding limit lets the price rise
    faster, the un-bankable surplus being used or cancelled. A bank is never worth less
    than nothing to a holder who may cancel it: a negative price (a seller's sales earning
    bank room under a sales-linked limit, in a year of cancellations) counts as 0."""
    if not market.get("banking") and not market.get("borrowing_limit_share"):
        return 0.0
    price = values(years, "allowance_price_cny_per_t")
    if market.get("sector_bank_limits"):
        price = np.maximum(price, 0.0)
    growth = values(years, "discount_factor")[:-1] / values(years, "discount_factor")[1:]
    banked = values(years, "bank_mt")[:-1] > TOLERANCE_MT
    expected = price[:-1] * growth
    scale = np.maximum(1.0, np.abs(expected))
    too_slow = (expected - price[1:]) / scale
    too_fast = (price[1:] - expected) / scale
    free_to_bank = np.ones(len(years), dtype=bool)
    if "net_sales_mt" in sector_years:
        room, market_room = sector_bank_room(years, sector_years, market)
        year_row = np.searchsorted(values(years, "year"), values(sector_years, "year"))
        some_room = np.bincount(year_row, weights=np.nan_to_num(room, nan=0.0) > TOLERANCE_MT, minlength=len(years))
        free_to_bank = (some_room > 0) & (market_room > TOLERANCE_MT)
    elif market.get("bank_limit_mt") is not None:
        free_to_bank = market["bank_limit_mt"] - values(years, "bank_mt") > TOLERANCE_MT
    gap = np.where(free_to_bank[:-1], np.maximum(too_slow, too_fast), too_slow)
    adjusted = market.get("supply_adjustment")
    if adjusted:  # from its first year the supply depends on the bank: a banked tonne is worth more than the price
        banked = banked & (values(years, "year")[1:] < adjusted["from_year"])
    # borrowing from t+1 pays while t's price is above t+1's discounted: never faster, and at
    # the discount rate while the borrowing limit leaves room
    borrowed = borrowed_mt(years)[:-1]
    share = market.get("borrowing_limit_share", 0.0) or 0.0
    emitted = by_year(sector_years, (TRADING,), "emissions_mt", values(years, "year"))
    room = share * emitted[:-1] - borrowed > TOLERANCE_MT
    borrowing = np.where(room, np.maximum(too_slow, too_fast), too_fast)
    return worst(joined(np.where(banked, np.nan_to_num(gap, nan=0.0), 0.0),
                        np.where(borrowed > TOLERANCE_MT, np.nan_to_num(borrowing, nan=0.0), 0.0)))


def _allocation_bounds(years, sector_years, steps, market) -> float:
    """Free allocation within its share bounds (trading), the whole rule cap free
    (simulation), and the auctioned share of the ETS cap within its minimum and maximum."""
    if "free_mt" not in sector_years:
        return 0.0
    trading = sector_years[sector_years["phase"] == TRADING]
    simulation = sector_years[sector_years["phase"] == SIMULATION]
    free_total = by_year(sector_years, (SIMULATION, TRADING), "free_mt", values(years, "year"))
    auction_floor = (1 - years["min_auction_share"].to_numpy()) * years["ets_cap_mt"].to_numpy()
    return worst([
        *(trading["free_share_min"] * trading["cap_mt"] - trading["free_mt"]),
        *(trading["free_mt"] - trading["free_share_max"] * trading["cap_mt"]),
        *np.abs(simulation["free_mt"] - simulation["cap_mt"]),
        *(free_total - auction_floor),
        *((1 - years["max_auction_share"].to_numpy()) * years["ets_cap_mt"].to_numpy() - free_total),
    ])


def stage2_keeps_stage1(years, sector_years, steps, market) -> float:
    """Stage 2 only shares out the allowances: with no cost tolerance, the ETS cap, the bank
    and every sector's emissions are stage 1's, Mt off (worst). With a tolerance stage 2
    may move abatement (``stage2_cost_within_tolerance`` bounds it) but not the ETS cap a
    targets.csv fixed: only the national count then binds, tested on its own."""
    stage1 = market["stage1"]
    if stage1["cost_tolerance"] > 0:
        return 0.0
    return worst([*np.abs(years["ets_cap_mt"].to_numpy(dtype=float) - stage1["ets_cap_mt"]),
                   *np.abs(years["bank_mt"].to_numpy(dtype=float) - stage1["bank_mt"]),
                   *np.abs(sector_years["emissions_mt"].to_numpy(dtype=float) - stage1["emissions_mt"])])


def stage2_cost_within_tolerance(years, sector_years, steps, market) -> float:
    """Stage 2's abatement cost (present value, from the steps and the discount factors)
    exceeds stage 1's least cost by no more than the cost tolerance; relative excess."""
    stage1 = market["stage1"]
    discount = years.set_index("year")["discount_factor"]
    cost_bn = float(np.sum(steps["abatement_cost_bn_cny"].to_numpy()
                           * discount.reindex(steps["year"]).to_numpy()))
    least = stage1["objective_bn_cny"]
    return worst((cost_bn - least * (1 + stage1["cost_tolerance"])) / max(1.0, abs(least)))


def stage2_at_its_optimum(years, sector_years, steps, market) -> float:
    """Stage 2's first goal cannot be bettered by sharing out the year's free allowances
    otherwise, stage 1's decisions (emissions, abatement cost, caps, prices) kept; relative
    gap, worst year. Free allowances move a trading sector's burden by the price: a tonne
    more free lowers its burden share by price / value added.

    ``min_max_burden``: each year's largest burden share of value added is the least any
    allocation within the bounds reaches (free_share_min/max x cap for each trading sector,
    at most (1 - min_auction_share) x ETS cap free in all), found by water-filling: the
    least level M at which giving every trading sector the free allowances that bring it
    down to M (at least its floor) fits the year's free allowances, and no sector at its
    ceiling or in the simulation phase (whose burden free allowances do not move) stays
    above M. ``max_auction_revenue``: each year's free allowances are the fewest that keep
    every burden share within max_burden_share (and at least (1 - max_auction_share) x ETS
    cap): more free is revenue lost. Stage 2's optimum over the years is each year's (with
    caps and abatement held the years do not interact), so a stage 2 that fell short in any
    year fails. The value added is the tables' burden / burden share; a sector whose burden
    is 0 (or in a year without a price) keeps its free allowances in the test."""
    if "free_mt" not in sector_years or "burden_share_of_value_added" not in sector_years:
        return 0.0
    stage1 = market.get("stage1") or {}
    t = sector_years
    year_row = np.searchsorted(years["year"].to_numpy(), t["year"].to_numpy())
    n_years = len(years)
    cap = t["cap_mt"].to_numpy(dtype=float)
    covered = np.isfinite(cap)
    trading = covered & (t["phase"].to_numpy() == TRADING)
    price = np.nan_to_num(years["allowance_price_cny_per_t"].to_numpy(dtype=float))[year_row]
    free = np.nan_to_num(t["free_mt"].to_numpy(dtype=float))
    reported = t["burden_share_of_value_added"].to_numpy(dtype=float)
    value_added = np.divide(t["burden_bn_cny"].to_numpy(dtype=float), reported, out=np.full(len(t), np.nan),
                            where=np.abs(np.nan_to_num(reported)) > 0)
    movable = trading & np.isfinite(value_added) & (value_added > 0) & (price > TOLERANCE_PRICE)
    burden = (np.nan_to_num(t["abatement_cost_bn_cny"].to_numpy(dtype=float))
              + np.where(trading, price * (t["emissions_mt"].to_numpy(dtype=float) - free) / 1e3, 0.0))
    share = np.where(movable, burden / np.where(movable, value_added, 1.0), reported)
    per_mt = np.where(movable, price / (1e3 * np.where(movable, value_added, 1.0)), 1.0)  # share less per Mt free
    floor = np.where(movable, np.nan_to_num(t["free_share_min"].to_numpy(dtype=float)) * cap, 0.0)
    ceiling = np.where(movable, np.nan_to_num(t["free_share_max"].to_numpy(dtype=float), nan=np.inf) * cap, 0.0)
    ets_cap = years["ets_cap_mt"].to_numpy(dtype=float)
    kept_free = np.bincount(year_row, weights=np.where(covered & ~movable, free, 0.0), minlength=n_years)

    def free_needed(level: np.ndarray) -> np.ndarray:
        """Free allowances, Mt by year, that bring every movable sector's share down to
        ``level`` (by year), each at least its floor (ceilings aside)."""
        need = np.maximum(floor, free + (share - level[year_row]) / per_mt)
        return np.bincount(year_row, weights=np.where(movable, need, 0.0), minlength=n_years)

    if stage1.get("allocation_objective") == "max_auction_revenue":
        limit = years["max_burden_share"].to_numpy(dtype=float)
        fewest = np.maximum(free_needed(limit),
                            (1 - years["max_auction_share"].to_numpy(dtype=float)) * ets_cap - kept_free)
        given = np.bincount(year_row, weights=np.where(movable, free, 0.0), minlength=n_years)
        priced = np.bincount(year_row, weights=movable, minlength=n_years) > 0
        return worst(np.where(priced, (given - fewest) / np.maximum(1.0, np.abs(fewest)), 0.0))
    budget = (1 - years["min_auction_share"].to_numpy(dtype=float)) * ets_cap - kept_free + 1e-9
    largest = np.full(n_years, -np.inf)
    np.maximum.at(largest, year_row[covered], share[covered])
    lowest = np.full(n_years, -np.inf)  # no level below what free allowances cannot move
    np.maximum.at(lowest, year_row[covered], np.where(movable, share - per_mt * (ceiling - free), share)[covered])
    has = np.isfinite(largest)
    lowest, largest = np.where(has, lowest, 0.0), np.where(has, largest, 0.0)
    high = np.maximum(lowest, largest)
    low = lowest.copy()
    reachable = free_needed(high) <= budget  # else the tables break the bounds (allocation_bounds says so)
    for _ in range(80):  # bisection on the level, all years at once
        middle = (low + high) / 2
        fits = free_needed(middle) <= budget
        high, low = np.where(fits, middle, high), np.where(fits, low, middle)
    least = np.where(free_needed(lowest) <= budget, lowest, high)
    gap = np.where(has & reachable, (largest - least) / np.maximum(np.abs(least), 1e-6), 0.0)
    return worst(gap)


NATIONAL_TARGET = Check("national_target", _national_target)
SECTOR_COMPLIANCE = Check("sector_compliance", sector_compliance)
MARKET_BALANCE = Check("market_balance", _market_balance)
ABATEMENT_WITHIN_POTENTIAL = Check("abatement_within_potential", _abatement_within_potential)
EMISSIONS_ADD_UP = Check("emissions_add_up", _emissions_add_up)
EQUAL_MARGINAL_COST = Check("equal_marginal_cost", _equal_marginal_cost, unit="relative", tolerance=TOLERANCE_PRICE)
HOTELLING = Check("hotelling", _hotelling, unit="relative", tolerance=TOLERANCE_PRICE)
ALLOCATION_BOUNDS = Check("allocation_bounds", _allocation_bounds)
STAGE2_KEEPS_STAGE1 = Check("stage2_keeps_stage1", stage2_keeps_stage1)
STAGE2_COST_WITHIN_TOLERANCE = Check("stage2_cost_within_tolerance", stage2_cost_within_tolerance, unit="relative",
                                     tolerance=TOLERANCE_PRICE)

# The checks of the whole solution, in the report's order (the national count, compliance and
# clearing first: they test the policy itself); NATIONAL_COUNT_CHECK and MARKET_CLEARING are declared
# in the files of the rules whose policy they test (national_target, market_balance)
POLICY_CHECKS: tuple[Check, ...] = (
    NATIONAL_COUNT_CHECK, SECTOR_COMPLIANCE, MARKET_CLEARING, NATIONAL_TARGET, MARKET_BALANCE,
    ABATEMENT_WITHIN_POTENTIAL, EMISSIONS_ADD_UP, EQUAL_MARGINAL_COST, HOTELLING, ALLOCATION_BOUNDS)
STAGE2_AT_ITS_OPTIMUM = Check("stage2_at_its_optimum", stage2_at_its_optimum, unit="relative",
                              tolerance=TOLERANCE_PRICE)
STAGE2_CHECKS: tuple[Check, ...] = (STAGE2_KEEPS_STAGE1, STAGE2_COST_WITHIN_TOLERANCE, STAGE2_AT_ITS_OPTIMUM)
