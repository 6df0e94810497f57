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
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import fastpath
from .families import beyond_national_cap_columns, market_supply_columns, national_sink_columns
from .phases import OUTSIDE, SIMULATION, TRADING

TOLERANCE_MT = 1e-5  # quantities, Mt
TOLERANCE_PRICE = 1e-5  # relative, on prices and costs


def run_checks(years: pd.DataFrame, sector_years: pd.DataFrame, steps: pd.DataFrame,
               market: dict[str, Any], facilities: pd.DataFrame | None = None,
               stage1: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Every check by name: {"passed": bool, "worst_violation": float, "unit": str}.

    With ``stage1`` (what the least-cost stage decided: ``ets_cap_mt`` and ``bank_mt`` by
    year, ``emissions_mt`` by row of ``sector_years``, ``objective_bn_cny``,
    ``cost_tolerance``) the tables are a stage-2 solution, checked to keep it.

    At facility resolution (``steps`` has a ``facility_id`` column) an installation's own
    steps face its own price in the simulation phase, and its emissions must stay within
    its free allowances (its share of the rule cap); ``facilities`` gives both."""
    market = {**market, "facilities": facilities, "stage1": stage1}
    checks: dict[str, tuple[Callable[..., float], str, float]] = {
        "national_count": (national_count, "Mt", TOLERANCE_MT),
        "sector_compliance": (sector_compliance, "Mt", TOLERANCE_MT),
        "market_clearing": (market_clearing, "Mt", TOLERANCE_MT),
        "national_target": (_national_target, "Mt", TOLERANCE_MT),
        "cap_split": (_cap_split, "Mt", TOLERANCE_MT),
        "market_balance": (_market_balance, "Mt", TOLERANCE_MT),
        "simulation_compliance": (_simulation_compliance, "Mt", TOLERANCE_MT),
        "abatement_within_potential": (_abatement_within_potential, "Mt", TOLERANCE_MT),
        "emissions_add_up": (_emissions_add_up, "Mt", TOLERANCE_MT),
        "bank_limits": (_bank_limits, "Mt", TOLERANCE_MT),
        "offset_limit": (offset_limit, "Mt", TOLERANCE_MT),
        "price_ceiling": (price_ceiling, "relative", TOLERANCE_PRICE),
        "reserve_release": (reserve_release, "Mt", TOLERANCE_MT),
        "supply_adjustment": (supply_adjustment, "Mt", TOLERANCE_MT),
        "equal_marginal_cost": (_equal_marginal_cost, "relative", TOLERANCE_PRICE),
        "hotelling": (_hotelling, "relative", TOLERANCE_PRICE),
        "allocation_bounds": (_allocation_bounds, "Mt", TOLERANCE_MT),
        "facility_compliance": (_facility_compliance, "Mt", TOLERANCE_MT),
        "cap_rules": (cap_rules, "Mt", TOLERANCE_MT),
        "deployment_limits": (deployment_limits, "Mt", TOLERANCE_MT),
    }
    if not market.get("equilibrium", True):  # stage 2 moved abatement within a cost tolerance
        checks.pop("equal_marginal_cost")
    if stage1 is not None:
        checks["stage2_keeps_stage1"] = (stage2_keeps_stage1, "Mt", TOLERANCE_MT)
        checks["stage2_cost_within_tolerance"] = (stage2_cost_within_tolerance, "relative", TOLERANCE_PRICE)
    sector_year_row = _row_of_step(sector_years, steps)
    steps = steps.copy(deep=False)  # the caller's table keeps its columns
    steps["sector_year_row"] = sector_year_row  # joined once for all checks
    report = {}
    _sums.by_year = {} if fastpath.enabled() else None  # yearly sums several checks share, made once per run
    try:
        for name, (check, unit, tolerance) in checks.items():
            worst = float(check(years, sector_years, steps, market))
            report[name] = {"passed": bool(worst <= tolerance), "worst_violation": worst, "unit": unit}
    finally:
        _sums.by_year = None
    return report


_sums = threading.local()  # by_year: {(tables, phases, column): sums} while run_checks runs


def failed(report: dict[str, dict[str, Any]]) -> list[str]:
    return [f"{name} (worst violation {r['worst_violation']:.3g} {r['unit']})"
            for name, r in report.items() if not r["passed"]]


def _worst(violations: Any) -> float:
    values = np.asarray(violations, dtype=float)
    return float(max(0.0, np.nanmax(values))) if values.size else 0.0


def _joined(*parts: Any) -> np.ndarray:
    """The violations of several parts (arrays, Series or numbers) as one array: what
    ``[*a, *b]`` holds, without a Python number per element."""
    return np.concatenate([np.asarray(part, dtype=float).ravel() for part in parts]) if parts else np.zeros(0)


def _by_year(sector_years: pd.DataFrame, phases: tuple[str, ...], column: str,
             years: pd.Series) -> np.ndarray:
    """Sum of ``column`` over the sectors in ``phases``, for each of ``years`` (sorted)."""
    shared = getattr(_sums, "by_year", None)
    key = (id(sector_years), years.to_numpy().tobytes(), phases, column)  # sector_years outlives the run
    if shared is not None and key in shared:
        return shared[key]
    position = np.searchsorted(years.to_numpy(), sector_years["year"].to_numpy())
    phase = sector_years["phase"].to_numpy()
    selected = np.zeros(len(phase), dtype=bool)
    for name in phases:
        selected |= phase == name
    values = np.where(selected, np.nan_to_num(sector_years[column].to_numpy(dtype=float)), 0.0)
    sums = np.bincount(position, weights=values, minlength=len(years))
    if shared is not None:
        shared[key] = sums
    return sums


def _row_of_step(sector_years: pd.DataFrame, steps: pd.DataFrame) -> np.ndarray:
    """For each step row, the position of its (sector, year) in ``sector_years`` (-1: none)."""
    return _rows_of(sector_years, steps, "sector")


def _rows_of(table: pd.DataFrame, keys: pd.DataFrame, name: str) -> np.ndarray:
    """For each row of ``keys``, the position in ``table`` of the row with the same ``name``
    and year (-1: none), joined on one integer key rather than on strings."""
    names = np.concatenate([table[name].to_numpy(dtype=object), keys[name].to_numpy(dtype=object)])
    code = pd.factorize(names)[0].astype(np.int64) * 10_000  # a blank name (-1) matches nothing
    key = code + np.concatenate([table["year"].to_numpy(np.int64), keys["year"].to_numpy(np.int64)])
    return pd.Index(key[:len(table)]).get_indexer(key[len(table):])


def _market_supply_mt(years: pd.DataFrame, sector_years: pd.DataFrame, market: dict[str, Any]) -> np.ndarray:
    """Allowances the trading sectors can surrender or bank each year, Mt: their caps plus
    what any rule adds to the market (``families.market_supply_columns``), without the bank."""
    supply = _by_year(sector_years, (TRADING,), "cap_mt", years["year"])
    for column in (*market_supply_columns(), *market.get("supply_columns", ())):
        if column in years:
            supply = supply + np.nan_to_num(years[column].to_numpy(dtype=float))
    borrowed = _borrowed_mt(years)  # borrowed from next year's allowances, repaid from them
    return supply + borrowed - np.concatenate([[0.0], borrowed[:-1]])


def _borrowed_mt(years: pd.DataFrame) -> np.ndarray:
    return (np.nan_to_num(years["borrowed_mt"].to_numpy(dtype=float)) if "borrowed_mt" in years
            else np.zeros(len(years)))


def _brought_in_mt(years: pd.DataFrame, market: dict[str, Any]) -> np.ndarray:
    """The bank each year starts with, Mt: the initial bank in the first year, else last year's."""
    bank = years["bank_mt"].to_numpy(dtype=float)
    return np.concatenate([[market.get("initial_bank_mt", 0.0) or 0.0], bank[:-1]])


def national_count(years, sector_years, steps, market) -> float:
    """Every tonne emitted in China counts against the national cap, Mt over it (worst year).

    An allowance counts when it is issued, and is later surrendered for a tonne covered by
    the ETS or kept in the bank; a tonne outside the ETS counts when emitted. So in every
    year t, from the emissions of all sectors (``sector_years.emissions_mt``, covered or not)
    and the bank at year end::

        sum_{y <= t} emissions[y] + bank[t]  <=  sum_{y <= t} national_cap[y] + initial_bank

    (without banking, bank = 0: cumulative emissions within cumulative caps). Allowances
    issued but left unused (a simulation sector below its rule cap, a market with a zero
    price) only make the left side smaller. No term of the LP enters: a rule that releases
    allowances beyond the ETS cap raises emissions or the bank and is caught here.

    The targets are read as stated (tables with ``absolute_target_mt``): each year's cap is
    the tighter of the absolute target and the intensity target (intensity x GDP), and a
    net-GHG count adds the exogenous ``non_co2_mt`` and nets ``sinks_mt`` from emissions.
    Allowances a rule declares as not counted under the national target (a price ceiling's
    sales, uncounted reserve releases, offsets outside the national count:
    ``families.beyond_national_cap_columns``) may raise the count above the cap by as much,
    and no more. Removals a rule declares as sinks (``families.national_sink_columns``: CCER
    removals) are netted like ``sinks_mt`` only when ``market["targets.scope"]`` is net_ghg;
    a CO2 count ignores them. Allowances
    borrowed from year t+1 (``borrowed_mt``) are counted in t+1, where they were issued: year
    t may emit that much more than its cumulative cap, and t+1 that much less."""
    emitted = _by_year(sector_years, (OUTSIDE, SIMULATION, TRADING), "emissions_mt", years["year"])
    national_cap = years["national_cap_mt"].to_numpy(dtype=float)
    if "absolute_target_mt" in years:
        national_cap = np.fmin(years["absolute_target_mt"].to_numpy(dtype=float),
                               years["intensity_target_mt"].to_numpy(dtype=float))
        national_cap = np.where(np.isnan(national_cap), np.inf, national_cap)
        emitted = emitted + years["non_co2_mt"].to_numpy(dtype=float) - years["sinks_mt"].to_numpy(dtype=float)
    if market.get("targets.scope") == "net_ghg":
        for column in national_sink_columns():
            if column in years:
                emitted = emitted - np.nan_to_num(years[column].to_numpy(dtype=float))
    for column in beyond_national_cap_columns():
        if column in years:
            national_cap = national_cap + np.nan_to_num(years[column].to_numpy(dtype=float))
    bank = years["bank_mt"].to_numpy(dtype=float)
    initial_bank = market.get("initial_bank_mt", 0.0) or 0.0
    return _worst(np.cumsum(emitted) + bank - _borrowed_mt(years) - np.cumsum(national_cap) - initial_bank)


def sector_compliance(years, sector_years, steps, market) -> float:
    """Each covered sector emits no more than the allowances it holds, Mt over (worst).

    A simulation-phase sector holds its rule cap (``rule_cap_mt``, (1 - simulation_reduction)
    x BAU; ``cap_mt`` in tables without it) and cannot trade; the trading
    sectors hold, as one market, their caps plus what rules add to supply plus the bank
    brought in, less the bank carried out: trading emissions + bank[t] - bank[t-1] <=
    trading caps + added supply."""
    simulation = sector_years["phase"].to_numpy() == SIMULATION
    held = sector_years["rule_cap_mt"] if "rule_cap_mt" in sector_years else sector_years["cap_mt"]
    own = np.where(simulation, sector_years["emissions_mt"].to_numpy(dtype=float) - held.to_numpy(dtype=float), 0.0)
    trading_emissions = _by_year(sector_years, (TRADING,), "emissions_mt", years["year"])
    held = _market_supply_mt(years, sector_years, market) + _brought_in_mt(years, market)
    banked = years["bank_mt"].to_numpy(dtype=float)
    return _worst(_joined(np.nan_to_num(own), trading_emissions + banked - held))


def market_clearing(years, sector_years, steps, market) -> float:
    """Supply = surrendered + banked in every market year, Mt off (worst year).

    Supply is the trading caps, what rules add, and the bank brought in; demand is the
    trading emissions surrendered plus the bank carried out. Demand above supply is never
    allowed; supply above demand only where the allowance price is zero (allowances left
    unused have no value), else the price would fall. When stage 2 moved abatement within a
    cost tolerance (``market["equilibrium"]`` false) only the first part is tested."""
    supply = _market_supply_mt(years, sector_years, market) + _brought_in_mt(years, market)
    demand = (_by_year(sector_years, (TRADING,), "emissions_mt", years["year"])
              + years["bank_mt"].to_numpy(dtype=float))
    price = np.nan_to_num(years["allowance_price_cny_per_t"].to_numpy(dtype=float))
    priced = price > TOLERANCE_PRICE * np.maximum(1.0, np.abs(price).max(initial=0.0))
    if not market.get("equilibrium", True):  # stage 2 moved abatement: stage 1's price no longer clears it
        priced = np.zeros_like(priced)
    market_year = np.isfinite(years["allowance_price_cny_per_t"].to_numpy(dtype=float))
    gap = np.where(priced, np.abs(supply - demand), demand - supply)
    return _worst(np.where(market_year, gap, 0.0))


def offset_limit(years, sector_years, steps, market) -> float:
    """No trading sector surrenders offsets for more than its limit share of its verified
    emissions, and what the sectors surrender is the year's offsets used, Mt over (worst)."""
    if "offsets_surrendered_mt" not in sector_years or "offsets_used_mt" not in years:
        return 0.0
    surrendered = np.nan_to_num(sector_years["offsets_surrendered_mt"].to_numpy(dtype=float))
    limit = (np.nan_to_num(sector_years["offset_limit_share"].to_numpy(dtype=float))
             * sector_years["emissions_mt"].to_numpy(dtype=float))
    position = np.searchsorted(years["year"].to_numpy(), sector_years["year"].to_numpy())
    total = np.bincount(position, weights=surrendered, minlength=len(years))
    return _worst([*(surrendered - limit), *np.abs(total - years["offsets_used_mt"].to_numpy(dtype=float)),
                   *(-surrendered)])


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
    return _worst([*above, *below_when_sold])


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
    return _worst([*(released - may_sell), *((must_sell - released) if pool_left else []), *(-np.nan_to_num(pool))])


def supply_adjustment(years, sector_years, steps, market) -> float:
    """The supply-adjustment rule (``market["supply_adjustment"]``), Mt off (worst year),
    from the years table: from its first year each year's regime follows the bank at the
    end of the year before (intake above upper_mt, release below lower_mt, else neutral;
    either at a threshold exactly, the violation is how far the bank is on the wrong side);
    the intake is intake_rate x that bank in an intake year, else 0; the release is
    min(release_mt, the reserve at the end of the year before) in a release year, else 0;
    the reserve (empty before the first year) adds up, never below 0, with what would be
    above invalidate_above_mt invalidated; the supply the rule adds is release - intake."""
    rule = market.get("supply_adjustment")
    if not rule or "adjustment_regime" not in years:
        return 0.0
    acting = years["year"].to_numpy() >= rule["from_year"]
    bank = _brought_in_mt(years, market)
    regime = years["adjustment_regime"].to_numpy(dtype=object)
    upper, lower, rate = float(rule["upper_mt"]), float(rule["lower_mt"]), float(rule["intake_rate"])
    intake_year, release_year = regime == "intake", regime == "release"
    wrong_regime = np.where(intake_year, upper - bank, bank - upper)  # > 0: on the wrong side of upper_mt
    wrong_regime = np.maximum(wrong_regime, np.where(release_year, bank - lower, lower - bank))
    unknown = ~np.isin(regime, ["intake", "release", "neutral"])
    wrong_regime = np.where(unknown, np.inf, wrong_regime)

    def column(name: str) -> np.ndarray:
        return np.nan_to_num(years[name].to_numpy(dtype=float)) if name in years else np.zeros(len(years))

    intake, release, reserve = column("adjustment_intake_mt"), column("adjustment_release_mt"), \
        column("adjustment_reserve_mt")
    invalidated = column("adjustment_invalidated_mt")
    reserve_before = np.concatenate([[0.0], reserve[:-1]])
    reserve_before = np.where(np.concatenate([[False], acting[:-1]]), reserve_before, 0.0)
    expected_intake = np.where(intake_year, rate * bank, 0.0)
    expected_release = np.where(release_year, np.minimum(float(rule["release_mt"]), reserve_before), 0.0)
    kept = reserve_before + intake - release
    cap = rule.get("invalidate_above_mt")
    expected_invalidated = np.zeros(len(years)) if cap is None else np.maximum(kept - float(cap), 0.0)
    off = _joined(wrong_regime, np.abs(intake - expected_intake), np.abs(release - expected_release),
                  np.abs(invalidated - expected_invalidated), np.abs(reserve - (kept - invalidated)), -reserve,
                  np.abs(column("adjustment_supply_mt") - (release - intake)))
    return _worst(np.where(np.tile(acting, 7), off, 0.0))


def _national_target(years, sector_years, steps, market) -> float:
    outside = _by_year(sector_years, (OUTSIDE,), "emissions_mt", years["year"])
    adjusted = (np.nan_to_num(years["adjustment_supply_mt"].to_numpy(dtype=float)) if "adjustment_supply_mt" in years
                else 0.0)  # a supply adjustment's intake is not issued, its release is
    return _worst(years["ets_cap_mt"].to_numpy() + adjusted + outside - years["national_cap_mt"].to_numpy())


def _cap_split(years, sector_years, steps, market) -> float:
    caps = _by_year(sector_years, (SIMULATION, TRADING), "cap_mt", years["year"])
    return _worst(np.abs(caps - years["ets_cap_mt"].to_numpy()))


def _market_balance(years, sector_years, steps, market) -> float:
    emissions = _by_year(sector_years, (TRADING,), "emissions_mt", years["year"])
    bank = years["bank_mt"].to_numpy()
    return _worst(emissions + bank - _brought_in_mt(years, market) - _market_supply_mt(years, sector_years, market))


def _simulation_compliance(years, sector_years, steps, market) -> float:
    """A simulation-phase sector's cap is its rule cap, (1 - simulation_reduction) x BAU, and
    it emits no more than that on its own (tables without ``rule_cap_mt``: against its cap)."""
    simulation = sector_years["phase"].to_numpy() == SIMULATION
    rule_cap = sector_years["rule_cap_mt" if "rule_cap_mt" in sector_years else "cap_mt"].to_numpy(dtype=float)
    rule_cap = rule_cap[simulation]
    emissions = sector_years["emissions_mt"].to_numpy(dtype=float)[simulation]
    cap = sector_years["cap_mt"].to_numpy(dtype=float)[simulation]
    return _worst(_joined(emissions - rule_cap, np.abs(cap - rule_cap)))


def cap_rules(years, sector_years, steps, market) -> float:
    """Each trading sector's cap follows its rule (``basis``), Mt off (worst): grandfathered,
    (1 - cap_reduction) x its emissions of the year; intensity, benchmark_t_per_unit x its
    output (output = cap / implied benchmark); absolute, no higher than its cap of the year
    before when it traded then. Tables without ``basis``: nothing to test."""
    if "basis" not in sector_years:
        return 0.0
    basis = sector_years["basis"].to_numpy()
    cap = sector_years["cap_mt"].to_numpy(dtype=float)
    emissions = sector_years["emissions_mt"].to_numpy(dtype=float)
    kept = 1.0 - sector_years["cap_reduction"].to_numpy(dtype=float)
    grandfathered = np.where(basis == "grandfathered", np.abs(cap - kept * emissions), 0.0)
    implied = sector_years["implied_benchmark_t_per_unit"].to_numpy(dtype=float)
    benchmark = sector_years["benchmark_t_per_unit"].to_numpy(dtype=float)
    output = np.divide(cap, implied, out=np.full(cap.size, np.nan), where=np.abs(implied) > 0)
    intensity = np.where(basis == "intensity", np.abs(benchmark * output - cap), 0.0)
    previous = np.roll(cap, 1)
    same_sector = np.roll(sector_years["sector"].to_numpy(), 1) == sector_years["sector"].to_numpy()
    traded_before = same_sector & (np.roll(sector_years["phase"].to_numpy(), 1) == TRADING)
    same_sector[0] = traded_before[0] = False
    absolute = np.where((basis == "absolute") & traded_before, cap - previous, 0.0)
    return _worst(np.nan_to_num(np.concatenate([grandfathered, intensity, absolute])))


def _abatement_within_potential(years, sector_years, steps, market) -> float:
    abatement = steps["abatement_mt"].to_numpy(dtype=float)
    return _worst(np.maximum(-abatement, abatement - steps["potential_mt"].to_numpy(dtype=float)))


def _emissions_add_up(years, sector_years, steps, market) -> float:
    abated = np.bincount(steps["sector_year_row"].to_numpy(), weights=steps["abatement_mt"].to_numpy(),
                         minlength=len(sector_years))
    if "offsets_sold_mt" in sector_years:  # an offset sold by a sector outside the ETS is its abatement
        abated = abated + np.nan_to_num(sector_years["offsets_sold_mt"].to_numpy(dtype=float))
    return _worst(np.abs(sector_years["bau_mt"].to_numpy() - abated - sector_years["emissions_mt"].to_numpy()))


def _bank_limits(years, sector_years, steps, market) -> float:
    """The bank is never negative, empty after the horizon, none without banking; with bank
    limits (``market["bank_limit_mt"]``, ``market["sector_bank_limits"]``) never above them, a
    sector's limit being base + factor x (its entities' sales to one another + its net sales;
    base + factor x the former only for a net buyer); and what is cancelled is as computed from
    the tables: each trading sector's allowances (cap + bank brought in) less its emissions,
    bank and net sales, never negative, with what was sold to entities that cancel it
    (``sold_for_cancellation_mt``, never negative, only at a zero price: free disposal, so the
    price is never negative) adding up to the year's ``cancelled_mt``, none by a net buyer, and
    only what cannot be banked (the sector or the market at its limit, or the bank worth
    nothing: the last year or a zero price next year)."""
    bank = years["bank_mt"].to_numpy()
    end = abs(bank[-1]) if bank.size else 0.0
    banked_without_banking = 0.0 if market.get("banking") else float(np.abs(bank).max(initial=0.0))
    borrowed = _borrowed_mt(years)  # never negative, at most the share of the obligation, repaid by the end
    obligation = _by_year(sector_years, (TRADING,), "emissions_mt", years["year"])
    share = market.get("borrowing_limit_share", 0.0) or 0.0
    borrowing = [*(-borrowed), *(borrowed - share * obligation), abs(borrowed[-1]) if borrowed.size else 0.0]
    return _worst([*(-bank), end, banked_without_banking, *borrowing,
                   *_bank_limit_violations(years, sector_years, market)])


def _sector_bank_room(years, sector_years, market) -> tuple[np.ndarray, np.ndarray]:
    """By sector_years row: its limit less its bank (inf without a limit of its own, NaN
    outside trading), and the market's limit less the market's bank by year row."""
    limits = market.get("sector_bank_limits") or {}
    sector = sector_years["sector"].to_numpy()
    base = np.array([limits.get(s, {}).get("base_mt", np.inf) for s in sector], dtype=float)
    factor = np.array([limits.get(s, {}).get("sales_factor", 0.0) for s in sector], dtype=float)
    intra = np.array([limits.get(s, {}).get("intra_sector_sales_mt", 0.0) for s in sector], dtype=float)
    net_sales = sector_years["net_sales_mt"].to_numpy(dtype=float)
    room = base + factor * (intra + np.maximum(net_sales, 0.0)) - sector_years["bank_mt"].to_numpy(dtype=float)
    market_limit = market.get("bank_limit_mt")
    market_room = (np.full(len(years), np.inf) if market_limit is None
                   else market_limit - years["bank_mt"].to_numpy(dtype=float))
    return room, market_room


def _bank_limit_violations(years, sector_years, market) -> list[float]:
    if "net_sales_mt" not in sector_years:
        market_limit = market.get("bank_limit_mt")
        return [] if market_limit is None else list(years["bank_mt"].to_numpy(dtype=float) - market_limit)
    room, market_room = _sector_bank_room(years, sector_years, market)
    held = sector_years["bank_mt"].notna().to_numpy()
    t = sector_years[held]
    bank = t["bank_mt"].to_numpy(dtype=float)
    # the bank brought in: the same sector's bank the year before (0 in its first trading year)
    previous = pd.Series(bank, index=pd.MultiIndex.from_arrays([t["sector"], t["year"] + 1]))
    brought_in = previous.reindex(pd.MultiIndex.from_arrays([t["sector"], t["year"]])).fillna(0.0).to_numpy()
    # the initial bank: brought in by the sectors trading in the first year, in proportion to BAU
    first = np.where(t["year"].to_numpy() == years["year"].iloc[0], t["bau_mt"].to_numpy(dtype=float), 0.0)
    if first.sum() > 0:
        brought_in = brought_in + (market.get("initial_bank_mt", 0.0) or 0.0) * first / first.sum()
    computed = (t["cap_mt"].to_numpy(dtype=float) + brought_in - t["emissions_mt"].to_numpy(dtype=float) - bank
                - t["net_sales_mt"].to_numpy(dtype=float))
    reported = t["cancelled_mt"].to_numpy(dtype=float)
    year_row = np.searchsorted(years["year"].to_numpy(), t["year"].to_numpy())
    price = np.nan_to_num(years["allowance_price_cny_per_t"].to_numpy(dtype=float))
    next_price = np.append(price[1:], 0.0)[year_row]
    worthless = next_price <= TOLERANCE_PRICE * np.maximum(1.0, np.abs(price).max(initial=0.0))
    headroom = np.minimum(room[held], market_room[year_row])
    cannot_bank = np.where(worthless, 0.0, np.minimum(computed, headroom))
    # allowances sold to entities that cancel them (free disposal): at a zero price only, so
    # never a negative price where they may be cancelled
    sold_to_cancel = years["sold_for_cancellation_mt"].to_numpy(dtype=float) if "sold_for_cancellation_mt" in years \
        else np.zeros(len(years))
    priced = price > TOLERANCE_PRICE * np.maximum(1.0, np.abs(price).max(initial=0.0))
    negative_price = np.where(np.isfinite(years["allowance_price_cny_per_t"].to_numpy(dtype=float)), -price, 0.0)
    sums = np.bincount(year_row, weights=computed, minlength=len(years)) + sold_to_cancel
    # a net buyer cancels nothing (it would buy only to lift a seller's limit), but in the
    # last year, when no bank may be left whatever the limits
    net_buyer = ((t["net_sales_mt"].to_numpy(dtype=float) < -TOLERANCE_MT)
                 & (t["year"].to_numpy() < years["year"].iloc[-1]))
    return [*(-room[held]), *(-market_room), *(-computed), *np.abs(computed - reported),
            *np.abs(sums - years["cancelled_mt"].to_numpy(dtype=float)),
            *np.abs(np.bincount(year_row, weights=bank, minlength=len(years)) - years["bank_mt"].to_numpy(dtype=float)),
            *np.where(net_buyer, computed, 0.0), *cannot_bank, *(-sold_to_cancel),
            *np.where(priced, sold_to_cancel, 0.0), *negative_price]


def _equal_marginal_cost(years, sector_years, steps, market) -> float:
    """No used step costs more than the price it faces, no unused step costs less:
    trading sectors face the allowance price, simulation sectors their own price,
    sectors outside the ETS the national carbon value. A seller whose bank is at a limit
    that grows with its sales (base + f x net sales) faces more: a tonne abated is split
    between selling it (price p) and banking f/(1+f) of it, worth next year's price
    discounted, V: (p + f V) / (1 + f)."""
    year_row = np.searchsorted(years["year"].to_numpy(), sector_years["year"].to_numpy())
    phase = sector_years["phase"].to_numpy()
    faced = np.select(
        [phase == TRADING, phase == SIMULATION, phase == OUTSIDE],
        [_trading_price_faced(years, sector_years, market, year_row),
         sector_years["own_price_cny_per_t"].to_numpy(),
         years["national_carbon_value_cny_per_t"].to_numpy()[year_row]],
        np.nan,
    )
    if "basis" in sector_years:  # a grandfathered sector's private price is reduction x the allowance price,
        # but a planner also values its abatement through the ETS cap (a fixed one, or the national target's):
        # its steps are not tested here (cap_rules tests its cap)
        faced = np.where(sector_years["basis"].to_numpy() == "grandfathered", np.nan, faced)
    if "offset_limit_share" in sector_years and "offset_limit_value_cny_per_t" in years:
        # a trading sector's tonne abated also shrinks its offset limit by its share: it is
        # worth the allowance price less that share of the limit's value
        limit_value = np.nan_to_num(years["offset_limit_value_cny_per_t"].to_numpy(dtype=float))[year_row]
        share = np.nan_to_num(sector_years["offset_limit_share"].to_numpy(dtype=float))
        faced = np.where(phase == TRADING, faced - share * limit_value, faced)
    step_price = faced[steps["sector_year_row"].to_numpy()]
    facilities = market.get("facilities")
    if "facility_id" in steps and facilities is not None and len(facilities):
        simulation = facilities[facilities["phase"] == SIMULATION]
        row = _rows_of(simulation, steps, "facility_id")
        # a NaN after the prices: row -1 (no installation in simulation, or none at all) picks it
        own_price = np.append(simulation["price_cny_per_t"].to_numpy(dtype=float), np.nan)[row]
        step_price = np.where(row >= 0, own_price, step_price)
    cost = steps["cost_cny_per_t"].to_numpy()
    build_limited, at_group_limit = _deployment_limited(years, steps, market)
    used = (steps["abatement_mt"].to_numpy() > TOLERANCE_MT) & ~build_limited
    spare = ((steps["potential_mt"].to_numpy() - steps["abatement_mt"].to_numpy() > TOLERANCE_MT)
             & ~build_limited & ~at_group_limit)
    scale = np.maximum(1.0, np.abs(step_price))
    too_dear = np.where(used, (cost - step_price) / scale, 0.0)
    too_cheap = np.where(spare, (step_price - cost) / scale, 0.0)
    return _worst(np.nan_to_num(np.maximum(too_dear, too_cheap), nan=0.0))


def _trading_price_faced(years, sector_years, market, year_row) -> np.ndarray:
    """The allowance price each sector-year faces (see ``_equal_marginal_cost``)."""
    price = years["allowance_price_cny_per_t"].to_numpy(dtype=float)
    faced = price[year_row]
    limits = market.get("sector_bank_limits") or {}
    if "net_sales_mt" not in sector_years or not limits:
        return faced
    room, market_room = _sector_bank_room(years, sector_years, market)
    factor = np.array([limits.get(s, {}).get("sales_factor", 0.0) for s in sector_years["sector"]], dtype=float)
    discount = years["discount_factor"].to_numpy(dtype=float)
    banked_value = np.append(price[1:] * discount[1:] / discount[:-1], np.nan)[year_row]
    selling_at_limit = ((factor > 0) & (sector_years["net_sales_mt"].to_numpy(dtype=float) > TOLERANCE_MT)
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
    price = years["allowance_price_cny_per_t"].to_numpy()
    if market.get("sector_bank_limits"):
        price = np.maximum(price, 0.0)
    growth = years["discount_factor"].to_numpy()[:-1] / years["discount_factor"].to_numpy()[1:]
    banked = years["bank_mt"].to_numpy()[:-1] > TOLERANCE_MT
    expected = price[:-1] * growth
    scale = np.maximum(1.0, np.abs(expected))
    too_slow = (expected - price[1:]) / scale
    too_fast = (price[1:] - expected) / scale
    free_to_bank = np.ones(len(years), dtype=bool)
    if "net_sales_mt" in sector_years:
        room, market_room = _sector_bank_room(years, sector_years, market)
        year_row = np.searchsorted(years["year"].to_numpy(), sector_years["year"].to_numpy())
        some_room = np.bincount(year_row, weights=np.nan_to_num(room, nan=0.0) > TOLERANCE_MT, minlength=len(years))
        free_to_bank = (some_room > 0) & (market_room > TOLERANCE_MT)
    elif market.get("bank_limit_mt") is not None:
        free_to_bank = market["bank_limit_mt"] - years["bank_mt"].to_numpy() > TOLERANCE_MT
    gap = np.where(free_to_bank[:-1], np.maximum(too_slow, too_fast), too_slow)
    adjusted = market.get("supply_adjustment")
    if adjusted:  # from its first year the supply depends on the bank: a banked tonne is worth more than the price
        banked = banked & (years["year"].to_numpy()[1:] < adjusted["from_year"])
    # borrowing from t+1 pays while t's price is above t+1's discounted: never faster, and at
    # the discount rate while the borrowing limit leaves room
    borrowed = _borrowed_mt(years)[:-1]
    share = market.get("borrowing_limit_share", 0.0) or 0.0
    room = share * _by_year(sector_years, (TRADING,), "emissions_mt", years["year"])[:-1] - borrowed > TOLERANCE_MT
    borrowing = np.where(room, np.maximum(too_slow, too_fast), too_fast)
    return _worst([*np.where(banked, np.nan_to_num(gap, nan=0.0), 0.0),
                   *np.where(borrowed > TOLERANCE_MT, np.nan_to_num(borrowing, nan=0.0), 0.0)])


def _abatement_by_step(years: pd.DataFrame, steps: pd.DataFrame, pairs: list) -> np.ndarray:
    """Abatement of each (sector, step) of ``pairs``, summed over its installations and pools,
    by pair x year of ``years`` (Mt; 0 where the step has no row)."""
    years_index = years["year"].to_numpy()
    totals = np.zeros((len(pairs), years_index.size))
    if not pairs or steps.empty:
        return totals
    wanted = pd.MultiIndex.from_tuples([tuple(pair) for pair in pairs])
    pair = wanted.get_indexer(pd.MultiIndex.from_arrays([steps["sector"], steps["step"]]))
    year = np.searchsorted(years_index, steps["year"].to_numpy())
    chosen = pair >= 0
    np.add.at(totals, (pair[chosen], year[chosen]), steps["abatement_mt"].to_numpy(dtype=float)[chosen])
    return totals


def deployment_limits(years, sector_years, steps, market) -> float:
    """No measure grows faster than it can be built, no group beyond its limit, Mt over (worst).

    From the abatement_steps table (a step's abatement summed over its installations and
    pools) and the limits of ``market["deployment_limits"]``: a build-limited step's
    abatement rises by at most its rate from one year to the next (from 0 in base_year,
    ``first_year_build_factor`` years of building before first_year), and a group's steps
    together abate at most the group's max_mt each year."""
    limits = market.get("deployment_limits")
    if not limits:
        return 0.0
    build = limits["max_build_mt_per_year"]
    abated = _abatement_by_step(years, steps, [(row["sector"], row["step"]) for row in build])
    growth = np.diff(abated, axis=1, prepend=0.0)
    allowed = np.array([row["max_mt"] for row in build], dtype=float)[:, None] * np.ones(abated.shape)
    if allowed.size:
        allowed[:, 0] *= limits["first_year_build_factor"]
    violations = [*(growth - allowed).ravel()]
    for group in limits["max_mt"]:
        by_year = pd.Series(group["max_mt"], index=group["years"]).reindex(years["year"]).to_numpy()
        total = _abatement_by_step(years, steps, group["steps"]).sum(axis=0)
        violations += [*(total - by_year)]
    return _worst(np.nan_to_num(violations))


def _deployment_limited(years, steps, market) -> tuple[np.ndarray, np.ndarray]:
    """Masks over the steps table: steps with a build rate (their price couples years: the
    rent of the limit is part of it), and steps whose group is at its limit that year (not
    spare, whatever their cost)."""
    n = len(steps)
    limits = market.get("deployment_limits")
    if not limits or not n:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    pairs = pd.MultiIndex.from_arrays([steps["sector"], steps["step"]])
    build = pd.MultiIndex.from_tuples([(row["sector"], row["step"]) for row in limits["max_build_mt_per_year"]]
                                      or [("", "")])
    build_limited = build.get_indexer(pairs) >= 0
    at_limit = np.zeros(n, dtype=bool)
    year = steps["year"].to_numpy()
    for group in limits["max_mt"]:  # a few groups
        members = pd.MultiIndex.from_tuples([tuple(pair) for pair in group["steps"]]).get_indexer(pairs) >= 0
        total = _abatement_by_step(years, steps, group["steps"]).sum(axis=0)
        limit = pd.Series(group["max_mt"], index=group["years"]).reindex(years["year"]).to_numpy()
        full_years = years["year"].to_numpy()[total >= limit - TOLERANCE_MT]
        at_limit |= members & np.isin(year, full_years)
    return build_limited, at_limit


def _facility_compliance(years, sector_years, steps, market) -> float:
    """At facility resolution an installation in the simulation phase emits no more than its
    free allowances, its share of the rule cap."""
    facilities = market.get("facilities")
    if "facility_id" not in steps or facilities is None or facilities.empty:
        return 0.0
    simulation = facilities[facilities["phase"] == SIMULATION]
    return _worst(simulation["emissions_mt"] - simulation["free_mt"])


def _allocation_bounds(years, sector_years, steps, market) -> float:
    """Free allocation within its share bounds (trading), the whole rule cap free
    (simulation), and the auctioned share of the ETS cap within its minimum and maximum."""
    if "free_mt" not in sector_years:
        return 0.0
    trading = sector_years[sector_years["phase"] == TRADING]
    simulation = sector_years[sector_years["phase"] == SIMULATION]
    free_total = _by_year(sector_years, (SIMULATION, TRADING), "free_mt", years["year"])
    auction_floor = (1 - years["min_auction_share"].to_numpy()) * years["ets_cap_mt"].to_numpy()
    return _worst([
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
    return _worst([*np.abs(years["ets_cap_mt"].to_numpy(dtype=float) - stage1["ets_cap_mt"]),
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
    return _worst((cost_bn - least * (1 + stage1["cost_tolerance"])) / max(1.0, abs(least)))
