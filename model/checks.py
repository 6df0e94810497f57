"""Verify a solution from its output tables alone, independent of the model code.

Each check returns the worst violation found (0 when it holds exactly); a check passes
when the worst violation is within tolerance. The checks restate the economics:
targets and balances hold, no step is used beyond its potential, equal marginal cost
in every traded year, and the Hotelling rule while the bank is positive.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from .phases import OUTSIDE, SIMULATION, TRADING

TOLERANCE_MT = 1e-5  # quantities, Mt
TOLERANCE_PRICE = 1e-5  # relative, on prices and costs


def run_checks(years: pd.DataFrame, sector_years: pd.DataFrame, steps: pd.DataFrame,
               market: dict[str, Any], facilities: pd.DataFrame | None = None) -> dict[str, dict[str, Any]]:
    """Every check by name: {"passed": bool, "worst_violation": float, "unit": str}.

    At facility resolution (``steps`` has a ``facility_id`` column) an installation's own
    steps face its own price in the simulation phase, and its emissions must stay within
    its free allowances (its share of the rule cap); ``facilities`` gives both."""
    market = {**market, "facilities": facilities}
    checks: dict[str, tuple[Callable[..., float], str, float]] = {
        "national_target": (_national_target, "Mt", TOLERANCE_MT),
        "cap_split": (_cap_split, "Mt", TOLERANCE_MT),
        "market_balance": (_market_balance, "Mt", TOLERANCE_MT),
        "simulation_compliance": (_simulation_compliance, "Mt", TOLERANCE_MT),
        "abatement_within_potential": (_abatement_within_potential, "Mt", TOLERANCE_MT),
        "emissions_add_up": (_emissions_add_up, "Mt", TOLERANCE_MT),
        "bank_limits": (_bank_limits, "Mt", TOLERANCE_MT),
        "equal_marginal_cost": (_equal_marginal_cost, "relative", TOLERANCE_PRICE),
        "hotelling": (_hotelling, "relative", TOLERANCE_PRICE),
        "allocation_bounds": (_allocation_bounds, "Mt", TOLERANCE_MT),
        "facility_compliance": (_facility_compliance, "Mt", TOLERANCE_MT),
    }
    if not market.get("equilibrium", True):  # stage 2 moved abatement within a cost tolerance
        checks.pop("equal_marginal_cost")
    steps = steps.assign(sector_year_row=_row_of_step(sector_years, steps))  # joined once for all checks
    report = {}
    for name, (check, unit, tolerance) in checks.items():
        worst = float(check(years, sector_years, steps, market))
        report[name] = {"passed": bool(worst <= tolerance), "worst_violation": worst, "unit": unit}
    return report


def failed(report: dict[str, dict[str, Any]]) -> list[str]:
    return [f"{name} (worst violation {r['worst_violation']:.3g} {r['unit']})"
            for name, r in report.items() if not r["passed"]]


def _worst(violations: Any) -> float:
    values = np.asarray(violations, dtype=float)
    return float(max(0.0, np.nanmax(values))) if values.size else 0.0


def _by_year(sector_years: pd.DataFrame, phases: tuple[str, ...], column: str,
             years: pd.Series) -> np.ndarray:
    """Sum of ``column`` over the sectors in ``phases``, for each of ``years`` (sorted)."""
    position = np.searchsorted(years.to_numpy(), sector_years["year"].to_numpy())
    selected = np.isin(sector_years["phase"].to_numpy(), phases)
    values = np.where(selected, np.nan_to_num(sector_years[column].to_numpy(dtype=float)), 0.0)
    return np.bincount(position, weights=values, minlength=len(years))


def _row_of_step(sector_years: pd.DataFrame, steps: pd.DataFrame) -> np.ndarray:
    """For each step row, the position of its (sector, year) in ``sector_years`` (-1: none)."""
    return _rows_of(sector_years, steps, "sector")


def _rows_of(table: pd.DataFrame, keys: pd.DataFrame, name: str) -> np.ndarray:
    """For each row of ``keys``, the position in ``table`` of the row with the same ``name``
    and year (-1: none), joined on one integer key rather than on strings."""
    names = pd.concat([table[name], keys[name]], ignore_index=True)
    code = pd.factorize(names)[0].astype(np.int64) * 10_000  # a blank name (-1) matches nothing
    key = code + np.concatenate([table["year"].to_numpy(np.int64), keys["year"].to_numpy(np.int64)])
    return pd.Index(key[:len(table)]).get_indexer(key[len(table):])


def _national_target(years, sector_years, steps, market) -> float:
    outside = _by_year(sector_years, (OUTSIDE,), "emissions_mt", years["year"])
    return _worst(years["ets_cap_mt"].to_numpy() + outside - years["national_cap_mt"].to_numpy())


def _cap_split(years, sector_years, steps, market) -> float:
    caps = _by_year(sector_years, (SIMULATION, TRADING), "cap_mt", years["year"])
    return _worst(np.abs(caps - years["ets_cap_mt"].to_numpy()))


def _market_balance(years, sector_years, steps, market) -> float:
    emissions = _by_year(sector_years, (TRADING,), "emissions_mt", years["year"])
    caps = _by_year(sector_years, (TRADING,), "cap_mt", years["year"])
    bank = years["bank_mt"].to_numpy()
    brought_in = np.concatenate([[market.get("initial_bank_mt", 0.0)], bank[:-1]])
    return _worst(emissions + bank - brought_in - caps)


def _simulation_compliance(years, sector_years, steps, market) -> float:
    """A simulation-phase sector's cap is its rule cap, (1 - simulation_reduction) x BAU, and
    it emits no more than that on its own (tables without ``rule_cap_mt``: against its cap)."""
    simulation = sector_years[sector_years["phase"] == SIMULATION]
    rule_cap = simulation["rule_cap_mt"] if "rule_cap_mt" in simulation else simulation["cap_mt"]
    return _worst([*(simulation["emissions_mt"] - rule_cap), *np.abs(simulation["cap_mt"] - rule_cap)])


def _abatement_within_potential(years, sector_years, steps, market) -> float:
    return _worst(np.maximum(-steps["abatement_mt"], steps["abatement_mt"] - steps["potential_mt"]))


def _emissions_add_up(years, sector_years, steps, market) -> float:
    abated = np.bincount(steps["sector_year_row"].to_numpy(), weights=steps["abatement_mt"].to_numpy(),
                         minlength=len(sector_years))
    return _worst(np.abs(sector_years["bau_mt"].to_numpy() - abated - sector_years["emissions_mt"].to_numpy()))


def _bank_limits(years, sector_years, steps, market) -> float:
    bank = years["bank_mt"].to_numpy()
    end = abs(bank[-1]) if bank.size else 0.0
    banked_without_banking = 0.0 if market.get("banking") else float(np.abs(bank).max(initial=0.0))
    return _worst([*(-bank), end, banked_without_banking])


def _equal_marginal_cost(years, sector_years, steps, market) -> float:
    """No used step costs more than the price it faces, no unused step costs less:
    trading sectors face the allowance price, simulation sectors their own price,
    sectors outside the ETS the national carbon value."""
    year_row = np.searchsorted(years["year"].to_numpy(), sector_years["year"].to_numpy())
    phase = sector_years["phase"].to_numpy()
    faced = np.select(
        [phase == TRADING, phase == SIMULATION, phase == OUTSIDE],
        [years["allowance_price_cny_per_t"].to_numpy()[year_row],
         sector_years["own_price_cny_per_t"].to_numpy(),
         years["national_carbon_value_cny_per_t"].to_numpy()[year_row]],
        np.nan,
    )
    step_price = faced[steps["sector_year_row"].to_numpy()]
    facilities = market.get("facilities")
    if "facility_id" in steps and facilities is not None and len(facilities):
        simulation = facilities[facilities["phase"] == SIMULATION]
        row = _rows_of(simulation, steps, "facility_id")
        # a NaN after the prices: row -1 (no installation in simulation, or none at all) picks it
        own_price = np.append(simulation["price_cny_per_t"].to_numpy(dtype=float), np.nan)[row]
        step_price = np.where(row >= 0, own_price, step_price)
    cost = steps["cost_cny_per_t"].to_numpy()
    used = steps["abatement_mt"].to_numpy() > TOLERANCE_MT
    spare = steps["potential_mt"].to_numpy() - steps["abatement_mt"].to_numpy() > TOLERANCE_MT
    scale = np.maximum(1.0, np.abs(step_price))
    too_dear = np.where(used, (cost - step_price) / scale, 0.0)
    too_cheap = np.where(spare, (step_price - cost) / scale, 0.0)
    return _worst(np.nan_to_num(np.maximum(too_dear, too_cheap), nan=0.0))


def _hotelling(years, sector_years, steps, market) -> float:
    """While allowances are banked, the price rises at the discount rate."""
    if not market.get("banking"):
        return 0.0
    price = years["allowance_price_cny_per_t"].to_numpy()
    growth = years["discount_factor"].to_numpy()[:-1] / years["discount_factor"].to_numpy()[1:]
    banked = years["bank_mt"].to_numpy()[:-1] > TOLERANCE_MT
    expected = price[:-1] * growth
    gap = np.abs(price[1:] - expected) / np.maximum(1.0, np.abs(expected))
    return _worst(np.where(banked, np.nan_to_num(gap, nan=0.0), 0.0))


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
    (simulation), and at least the minimum share of the ETS cap auctioned."""
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
    ])
