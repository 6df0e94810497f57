"""Every check broken term by term: each distinct part of the violation a check returns (a
condition of its ``joined``/``worst`` list, a separate branch, a special case such as "no
floor declared" or a sector without a limit) is broken on its own, from a solved toy's
output tables, by d = 1e-3 (the check's unit: Mt, or relative) and by d = 1e-7. The check
must fail by exactly d at 1e-3 and pass (worst violation d) at 1e-7: a term left out,
a sign flipped, a term read from the wrong column or a tolerance changed is caught.

The numbers are the toy's (tests/test_checks.py, tests/test_check_thresholds.py and each
family's test file give them by hand); each break says what it moves and why only that
term sees it. A case whose ``expected`` is 0 is an exemption (a binding limit lets the
price rise faster): the check must pass however far the tables are moved that way.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from model import solve
from model.results.checks import TOLERANCE_MT, run_checks
from tests.conftest import TOY
from tests.families.test_bank_limits import BASES, INTRA, SALES
from tests.test_check_thresholds import (_add, _stage1_of, toy_adjustment, toy_auctioned,  # noqa: F401
                                         toy_ceiling, toy_deployment, toy_facility, toy_floor, toy_offsets,
                                         toy_reserve, toy_stage2)
from tests.test_checks import toy, toy_banking  # noqa: F401 (fixtures)
from tests.test_facility_study import toy_binding_installation  # noqa: F401 (a fixture)

STAGE2_CASES = ("toy_stage2", "toy_auctioned", "toy_revenue")


@pytest.fixture(scope="module")
def toy_borrowing():
    """2025 borrows 2 Mt from 2026 (prices 40 / 1.1, 40, 60: tests/families/test_borrowing.py)."""
    return solve(TOY, overrides={"market.borrowing_limit_share": 0.1})


@pytest.fixture(scope="module")
def toy_bases():
    """Banks limited to 2 (power) + 1 (steel): 3 Mt banked in 2026, prices 40, 40, 60."""
    return solve(TOY, overrides=BASES)


@pytest.fixture(scope="module")
def toy_sales():
    """Power's bank at most 0.2 x its net sales (10.1667 Mt in 2026: bank 2.0333), steel a net
    buyer at its base of 1 (sales factor 1.5); prices 40, 37.0909, 60."""
    return solve(TOY, overrides=SALES)


@pytest.fixture(scope="module")
def toy_intra():
    """As toy_sales with 5 Mt a year sold between power's entities: power's limit 0.2 x (5 + 10.1667)."""
    return solve(TOY, overrides=INTRA)


@pytest.fixture(scope="module")
def toy_grandfathered(tmp_path_factory):
    """Power on a benchmark (80 Mt), steel grandfathered with reduction 0.6: its cap 0.4 x 45 = 18 Mt."""
    from tests.families.cap_rule_helpers import solved

    return solved(tmp_path_factory.mktemp("rules"), ["power,2025,intensity,,0.8", "steel,2025,grandfathered,0.6,"])


@pytest.fixture(scope="module")
def toy_revenue():
    """Revenue first, burden shares at most 2.2%: 50 Mt free in 2026 (tests/test_stage2_optimum.py)."""
    from tests.test_stage2_optimum import REVENUE

    return solve(TOY, overrides=REVENUE)


@pytest.fixture(scope="module")
def toy_absolute():
    """Absolute caps from 2027: power's 2027 cap (60) at most its 2026 cap (71.667)."""
    return solve(TOY, overrides={"allocation.absolute_cap_from": 2027})


@pytest.fixture(scope="module")
def toy_absolute_2026():
    """Absolute caps from 2026: steel, simulated in 2025, is no incumbent in 2026."""
    return solve(TOY, overrides={"allocation.absolute_cap_from": 2026})


def _set(table, column, value, **where) -> None:
    """Set ``column`` in the one row of ``table`` matching ``where``."""
    match = table.index[(table[list(where)] == list(where.values())).all(axis=1)]
    assert len(match) == 1, where
    table[column] = table[column].astype(float) if table[column].dtype == int else table[column]
    table.loc[match, column] = value


def _get(table, column, **where) -> float:
    match = table.index[(table[list(where)] == list(where.values())).all(axis=1)]
    assert len(match) == 1, where
    return float(table.loc[match[0], column])


def _drop(t, table, column) -> None:
    t[table] = t[table].drop(columns=column)


@dataclass(frozen=True)
class Term:
    check: str
    term: str
    case: str
    breaks: Callable[[dict, float], None]
    expected: Callable[[float], float] = staticmethod(lambda d: d)  # type: ignore[assignment]

    @property
    def id(self) -> str:
        return f"{self.check}-{self.term}"


def _y(t):
    return t["years"]


def _s(t):
    return t["sector_years"]


def _steps(t):
    return t["steps"]


def _sales_factor_short(t, d):
    """Power's 2026 bank (0.2 x 10.1667 = 2.0333) above its limit by d: the factor lowered by d / net sales."""
    net = _get(_s(t), "net_sales_mt", sector="power", year=2026)
    t["market"]["sector_bank_limits"]["power"]["sales_factor"] = 0.2 - d / net


def _intra_short(t, d):
    """Power's limit 0.2 x (5 + 10.1667): the sales between its entities lowered by d / 0.2."""
    t["market"]["sector_bank_limits"]["power"]["intra_sector_sales_mt"] = 5 - d / 0.2


def _power_cancels(t, d, year=2026):
    """Power abates d more in ``year`` and reports cancelling it (sector and year tables)."""
    _add(_s(t), "emissions_mt", -d, sector="power", year=year)
    _add(_s(t), "cancelled_mt", d, sector="power", year=year)
    _add(_y(t), "cancelled_mt", d, year=year)


def _steel_buyer_cancels(t, d):
    """Steel (a net buyer under a sales factor, at its base) abates d more in 2026 and cancels it:
    at its limit it could not bank it, so only the net buyer's rule is broken."""
    _add(_s(t), "emissions_mt", -d, sector="steel", year=2026)
    _add(_s(t), "cancelled_mt", d, sector="steel", year=2026)
    _add(_y(t), "cancelled_mt", d, year=2026)


def _headroom_then_cancel(t, d):
    """Power's base raised from 2 to 3 (1 Mt of room), then it cancels d in 2026 it could have banked."""
    t["market"]["sector_bank_limits"]["power"]["base_mt"] = 3.0
    _power_cancels(t, d)


def _power_overdraws(t, d):
    """Power emits d more in 2026 than it holds, the cancellation reported as -d (consistent):
    only "never negative" sees it."""
    _add(_s(t), "emissions_mt", d, sector="power", year=2026)
    _add(_s(t), "cancelled_mt", -d, sector="power", year=2026)
    _add(_y(t), "cancelled_mt", -d, year=2026)


def _intake_only(t, d):
    """The 2025 intake d above 0.5 x 60, the reserve (30, 20, 10) and the supply (-30) kept consistent with it."""
    _add(_y(t), "adjustment_intake_mt", d, year=2025)
    _add(_y(t), "adjustment_supply_mt", -d, year=2025)
    for year in (2025, 2026, 2027):
        _add(_y(t), "adjustment_reserve_mt", d, year=year)


def _release_only(t, d):
    """The 2027 release d above min(10, 20), the reserve and the supply consistent with it."""
    _add(_y(t), "adjustment_release_mt", d, year=2027)
    _add(_y(t), "adjustment_reserve_mt", -d, year=2027)
    _add(_y(t), "adjustment_supply_mt", d, year=2027)


def _invalidated_only(t, d):
    """d invalidated in 2025 without a threshold, the reserve lowered by as much every year after."""
    _y(t)["adjustment_invalidated_mt"] = 0.0
    _set(_y(t), "adjustment_invalidated_mt", d, year=2025)
    for year in (2025, 2026, 2027):
        _add(_y(t), "adjustment_reserve_mt", -d, year=year)


def _group_limit(t, d):
    """A group of power's B alone, at most 5, 10 - d, 15 Mt: B abates 10 in 2026."""
    t["market"]["deployment_limits"]["max_mt"].append(
        {"group": "g", "steps": [["power", "B"]], "years": [2025, 2026, 2027], "max_mt": [5.0, 10.0 - d, 15.0]})


TERMS = [
    # --- national_count (national_target.py): cumulative emissions + bank - borrowed <= cumulative cap + initial bank
    Term("national_count", "emissions", "toy", lambda t, d: _add(_s(t), "emissions_mt", d, sector="rest", year=2025)),
    Term("national_count", "absolute_target", "toy",
         lambda t, d: _add(_y(t), "absolute_target_mt", -d, year=2027)),
    # the 2027 intensity target (NaN: none) set d below the absolute 135: the tighter one counts
    Term("national_count", "intensity_target", "toy",
         lambda t, d: _set(_y(t), "intensity_target_mt", 135.0 - d, year=2027)),
    # tables without the stated targets: the national cap column
    Term("national_count", "national_cap_without_targets", "toy", lambda t, d: (
        _drop(t, "years", "absolute_target_mt"), _add(_y(t), "national_cap_mt", -d, year=2027))),
    Term("national_count", "non_co2", "toy", lambda t, d: _add(_y(t), "non_co2_mt", d, year=2026)),
    # 1 Mt more emitted against 1 - d Mt more of sinks: d over (1 if sinks were not netted)
    Term("national_count", "sinks", "toy", lambda t, d: (
        _add(_s(t), "emissions_mt", 1.0, sector="rest", year=2025), _add(_y(t), "sinks_mt", 1.0 - d, year=2025))),
    # 5 Mt banked from 2026: 170 + 147.5 + 5 = 322.5, the cumulative cap
    Term("national_count", "bank", "toy_banking", lambda t, d: _add(_y(t), "bank_mt", d, year=2026)),
    # 2 Mt borrowed in 2025 (emitted 172 against 170): borrowing reported d less
    Term("national_count", "borrowed", "toy_borrowing", lambda t, d: _add(_y(t), "borrowed_mt", -d, year=2025)),
    # an initial bank of 1 Mt and 1 + d more emitted in 2025: d over (1 + d without the initial bank)
    Term("national_count", "initial_bank", "toy", lambda t, d: (
        t["market"].update(initial_bank_mt=1.0), _add(_s(t), "emissions_mt", 1.0 + d, sector="rest", year=2025))),
    # 5 Mt sold at the 2027 ceiling raise the count above the cap by as much: reported d less
    Term("national_count", "beyond_national_cap", "toy_ceiling",
         lambda t, d: _add(_y(t), "ceiling_sales_mt", -d, year=2027)),
    # under net GHG 1 Mt of removals counted as sinks, 1 + d more emitted
    Term("national_count", "net_ghg_sinks", "toy_offsets", lambda t, d: (
        t["market"].update({"targets.scope": "net_ghg"}), _set(_y(t), "offsets_as_sinks_mt", 1.0, year=2025),
        _add(_s(t), "emissions_mt", 1.0 + d, sector="rest", year=2025))),
    # under a CO2 count the same removals are not netted: d more emitted is d over
    Term("national_count", "co2_ignores_sinks", "toy_offsets", lambda t, d: (
        _set(_y(t), "offsets_as_sinks_mt", 1.0, year=2025), _add(_s(t), "emissions_mt", d, sector="rest", year=2025))),

    # --- sector_compliance (checks.py): simulation sectors within their rule cap; the trading market
    Term("sector_compliance", "simulation_rule_cap", "toy",
         lambda t, d: _add(_s(t), "rule_cap_mt", -d, sector="steel", year=2025)),
    Term("sector_compliance", "simulation_cap_without_rule_cap", "toy", lambda t, d: (
        _drop(t, "sector_years", "rule_cap_mt"), _add(_s(t), "cap_mt", -d, sector="steel", year=2025))),
    Term("sector_compliance", "trading_caps", "toy", lambda t, d: _add(_s(t), "cap_mt", -d, sector="power", year=2026)),
    Term("sector_compliance", "trading_emissions", "toy",
         lambda t, d: _add(_s(t), "emissions_mt", d, sector="steel", year=2027)),
    Term("sector_compliance", "bank_carried_out", "toy_banking", lambda t, d: _add(_y(t), "bank_mt", d, year=2026)),
    Term("sector_compliance", "initial_bank", "toy", lambda t, d: (
        t["market"].update(initial_bank_mt=1.0), _add(_s(t), "emissions_mt", 1.0 + d, sector="power", year=2025))),
    # the reserve's 3 Mt sold in 2027 are supply: reported d less
    Term("sector_compliance", "added_supply", "toy_reserve",
         lambda t, d: _add(_y(t), "reserve_released_mt", -d, year=2027)),

    # --- market_clearing (market_balance.py)
    Term("market_clearing", "priced_surplus", "toy", lambda t, d: _add(_s(t), "cap_mt", d, sector="power", year=2026)),
    Term("market_clearing", "priced_shortfall", "toy",
         lambda t, d: _add(_s(t), "cap_mt", -d, sector="power", year=2026)),
    # at a zero price 1 Mt unused in 2025 is allowed, d short in 2026 is not
    Term("market_clearing", "unpriced_surplus_allowed_shortfall_not", "toy", lambda t, d: (
        _set(_y(t), "allowance_price_cny_per_t", 0.0, year=2025),
        _set(_y(t), "allowance_price_cny_per_t", 0.0, year=2026),
        _add(_s(t), "cap_mt", 1.0, sector="power", year=2025), _add(_s(t), "cap_mt", -d, sector="power", year=2026))),
    # a year without a market (no price) is not tested: 1 Mt short there, d unused at a price in 2027
    Term("market_clearing", "not_a_market_year", "toy", lambda t, d: (
        _set(_y(t), "allowance_price_cny_per_t", np.nan, year=2025),
        _add(_s(t), "cap_mt", -1.0, sector="power", year=2025),
        _add(_s(t), "cap_mt", d, sector="power", year=2027))),
    # stage 2 out of equilibrium: 1 Mt unused at a price is allowed, d short is not
    Term("market_clearing", "out_of_equilibrium", "toy", lambda t, d: (
        t["market"].update(equilibrium=False), _add(_s(t), "cap_mt", 1.0, sector="power", year=2026),
        _add(_s(t), "cap_mt", -d, sector="power", year=2027))),

    # --- national_target (checks.py): issued + outside <= national cap
    Term("national_target", "issued", "toy", lambda t, d: _add(_y(t), "ets_cap_mt", d, year=2026)),
    Term("national_target", "outside", "toy", lambda t, d: _add(_s(t), "emissions_mt", d, sector="rest", year=2026)),
    Term("national_target", "national_cap", "toy", lambda t, d: _add(_y(t), "national_cap_mt", -d, year=2026)),
    # the 2025 intake (30 Mt) is not issued: 115 - 30 + outside 50 = 135, the cap set d below it
    Term("national_target", "changes_issued", "toy_adjustment",
         lambda t, d: _set(_y(t), "national_cap_mt", 135.0 - d, year=2025)),

    # --- market_balance (checks.py): trading emissions + bank - brought in <= supply
    Term("market_balance", "emissions", "toy", lambda t, d: _add(_s(t), "emissions_mt", d, sector="power", year=2026)),
    Term("market_balance", "caps", "toy", lambda t, d: _add(_s(t), "cap_mt", -d, sector="steel", year=2026)),
    Term("market_balance", "bank_carried_out", "toy_banking", lambda t, d: _add(_y(t), "bank_mt", d, year=2026)),
    Term("market_balance", "initial_bank", "toy", lambda t, d: (
        t["market"].update(initial_bank_mt=1.0), _add(_s(t), "emissions_mt", 1.0 + d, sector="power", year=2025))),
    Term("market_balance", "added_supply", "toy_reserve",
         lambda t, d: _add(_y(t), "reserve_released_mt", -d, year=2027)),
    # borrowing 2 Mt is 2025's supply: reported d less (2026 repays d less: a surplus, allowed)
    Term("market_balance", "borrowed", "toy_borrowing", lambda t, d: _add(_y(t), "borrowed_mt", -d, year=2025)),

    # --- abatement_within_potential (checks.py)
    Term("abatement_within_potential", "above_potential", "toy",
         lambda t, d: _add(_steps(t), "abatement_mt", d, sector="power", step="A", year=2025)),
    Term("abatement_within_potential", "negative", "toy",
         lambda t, d: _set(_steps(t), "abatement_mt", -d, sector="steel", step="B", year=2025)),

    # --- emissions_add_up (checks.py): |BAU - abatement - offsets sold - emissions|
    Term("emissions_add_up", "below", "toy", lambda t, d: _add(_s(t), "emissions_mt", -d, sector="power", year=2026)),
    Term("emissions_add_up", "above", "toy", lambda t, d: _add(_s(t), "emissions_mt", d, sector="steel", year=2027)),
    # rest sells 1 Mt of offsets in 2025 (its abatement): it emits 44, reported 44 + d
    Term("emissions_add_up", "offsets_sold", "toy_offsets", lambda t, d: (
        _set(_s(t), "offsets_sold_mt", 1.0, sector="rest", year=2025),
        _add(_s(t), "emissions_mt", d - 1.0, sector="rest", year=2025))),

    # --- equal_marginal_cost (checks.py, relative to the price)
    # power's B in 2026, 17.5 of 30 Mt at 40 = the price: used and spare
    Term("equal_marginal_cost", "used_step_too_dear", "toy", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", d, relative=True, sector="power", step="B", year=2026)),
    Term("equal_marginal_cost", "spare_step_too_cheap", "toy", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", -d, relative=True, sector="power", step="B", year=2026)),
    # steel's A in its simulation year, 3 of 5 Mt at 20 = its own price (the allowance price is 40)
    Term("equal_marginal_cost", "simulation_own_price", "toy", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", d, relative=True, sector="steel", step="A", year=2025)),
    # outside the ETS the national carbon value, 0 under the adjusted toy's slack cap (the price is
    # 20): rest's A, unused, reported at a cost of -d
    Term("equal_marginal_cost", "outside_national_value", "toy_adjustment",
         lambda t, d: _set(_steps(t), "cost_cny_per_t", -d, sector="rest", step="A", year=2025)),
    # a trading tonne abated in 2027 also shrinks the offset limit: 61.579 - 0.05 x 31.579 = 60, steel B's cost
    Term("equal_marginal_cost", "offset_limit_value", "toy_offsets", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", d, relative=True, sector="steel", step="B", year=2027)),
    # at facility resolution s1 faces its own price, 60 in 2025: its step B (3.7 of 5 Mt) at 60, in
    # closed form, so in the table's row of the installations whose own price is 60 (s1 alone)
    Term("equal_marginal_cost", "installation_own_price", "toy_facility", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", d, relative=True, sector="steel", step="B", year=2025,
        own_price_cny_per_t=60.0)),
    # power B is build-limited (its price couples years: not tested, 40 < 60 though spare); steel B at 60 is
    Term("equal_marginal_cost", "build_limited_untested", "toy_deployment", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", d, relative=True, sector="steel", step="B", year=2026)),
    # a seller at its sales-linked limit faces (37.0909 + 0.2 x 60 / 1.1) / 1.2 = 40, power B's cost
    Term("equal_marginal_cost", "sales_factor", "toy_sales", lambda t, d: _add(
        _steps(t), "cost_cny_per_t", d, relative=True, sector="power", step="B", year=2026)),

    # grandfathered steel's private price is 0.6 x 40 (its cap is tested by cap_rules): its B at 60, unused,
    # reported at 40 x (1 - 1000 d) is not tested
    Term("equal_marginal_cost", "grandfathered_untested", "toy_grandfathered", lambda t, d: _set(
        _steps(t), "cost_cny_per_t", 40 * (1 - 1000 * d), sector="steel", step="B", year=2026),
        expected=lambda d: 0.0),
    # steel's B (0, 7.5, 10 of 10 Mt) in a group at its limit each year: spare but not free to use,
    # whatever its cost
    Term("equal_marginal_cost", "group_at_limit_untested", "toy_deployment", lambda t, d: (
        t["market"]["deployment_limits"]["max_mt"].append(
            {"group": "g", "steps": [["steel", "B"]], "years": [2025, 2026, 2027], "max_mt": [0.0, 7.5, 10.0]}),
        _add(_steps(t), "cost_cny_per_t", -1000 * d, relative=True, sector="steel", step="B", year=2026)),
        expected=lambda d: 0.0),

    # --- hotelling (checks.py, relative): 5 Mt banked from 2026 at 40: 44 in 2027
    Term("hotelling", "too_fast", "toy_banking",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", d, relative=True, year=2027)),
    Term("hotelling", "too_slow", "toy_banking",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", -d, relative=True, year=2027)),
    # the sector limits bind in 2026 (3 Mt banked): 60 > 44 allowed, 44 x (1 - d) is too slow
    Term("hotelling", "sector_limits_too_slow", "toy_bases",
         lambda t, d: _set(_y(t), "allowance_price_cny_per_t", 44.0 * (1 - d), year=2027)),
    # a market limit of 5 Mt binds on the 5 Mt bank: the price may rise 1000 d faster
    Term("hotelling", "market_limit_binding_exempt", "toy_banking", lambda t, d: (
        t["market"].update(bank_limit_mt=5.0),
        _add(_y(t), "allowance_price_cny_per_t", 1000 * d, relative=True, year=2027)), expected=lambda d: 0.0),
    # a market limit of 6 Mt leaves room: too fast again
    Term("hotelling", "market_limit_with_room", "toy_banking", lambda t, d: (
        t["market"].update(bank_limit_mt=6.0), _add(_y(t), "allowance_price_cny_per_t", d, relative=True, year=2027))),
    # under the supply adjustment (from 2025) a banked tonne changes the supply: 20 -> 54.5 -> 60 is no
    # Hotelling path, and not tested
    Term("hotelling", "supply_adjustment_exempt", "toy_adjustment",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", 1000 * d, relative=True, year=2026),
         expected=lambda d: 0.0),
    # 2 Mt borrowed from 2026 at 40 / 1.1: 2026's 40 rising faster
    Term("hotelling", "borrowing_too_fast", "toy_borrowing",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", d, relative=True, year=2026)),
    # the limit (0.1 x 80 = 8 Mt) leaves room: more slowly fails too
    Term("hotelling", "borrowing_with_room_too_slow", "toy_borrowing",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", -d, relative=True, year=2026)),

    # --- allocation_bounds (checks.py): power's 78 Mt all free in 2025, nothing auctioned (max share 0)
    Term("allocation_bounds", "free_share_max", "toy",
         lambda t, d: _set(_s(t), "free_share_max", 1.0 - d / 78.0, sector="power", year=2025)),
    Term("allocation_bounds", "free_share_min", "toy",
         lambda t, d: _set(_s(t), "free_share_min", 1.0 + d / (107.5 / 3), sector="steel", year=2026)),
    # steel's 2025 rule cap (47) reported d above what it gets free
    Term("allocation_bounds", "simulation_all_free", "toy",
         lambda t, d: _add(_s(t), "cap_mt", d, sector="steel", year=2025)),
    Term("allocation_bounds", "min_auction_share", "toy",
         lambda t, d: _set(_y(t), "min_auction_share", d / 107.5, year=2026)),
    Term("allocation_bounds", "max_auction_share", "toy", lambda t, d: _add(_y(t), "ets_cap_mt", d, year=2026)),

    # --- stage 2 (checks.py), the toy's tables against its own stage 1
    Term("stage2_keeps_stage1", "ets_cap", "toy_stage2", lambda t, d: _add(_y(t), "ets_cap_mt", d, year=2026)),
    Term("stage2_keeps_stage1", "bank", "toy_stage2", lambda t, d: _add(_y(t), "bank_mt", d, year=2026)),
    Term("stage2_keeps_stage1", "emissions", "toy_stage2",
         lambda t, d: _add(_s(t), "emissions_mt", d, sector="power", year=2026)),
    # with a cost tolerance stage 2 may move abatement: the ETS cap 1000 d off is not this check's
    Term("stage2_keeps_stage1", "cost_tolerance_exempt", "toy_stage2", lambda t, d: (
        t["stage1"].update(cost_tolerance=0.1), _add(_y(t), "ets_cap_mt", 1000 * d, year=2026)),
        expected=lambda d: 0.0),
    # power B's 2026 cost (discount 1 / 1.1) raised by a share d of stage 1's 3.147 bn CNY
    Term("stage2_cost_within_tolerance", "cost", "toy_stage2", lambda t, d: _add(
        _steps(t), "abatement_cost_bn_cny", d * 3.147024793388429 * 1.1, sector="power", step="B", year=2026)),
    # with a 10% tolerance: 10% + d more
    Term("stage2_cost_within_tolerance", "tolerance", "toy_stage2", lambda t, d: (
        t["stage1"].update(cost_tolerance=0.1),
        _add(_steps(t), "abatement_cost_bn_cny", (0.1 + d) * 1.1 * 3.147024793388429, sector="power", step="B",
             year=2026))),

    # 20% auctioned: in 2027 steel (all its 30 Mt cap free) has the largest burden share, 2%; d / 0.06 Mt of it
    # given to power raise it by 60 x d / 0.06 / 1e3 / 50 = 0.02 d, a share d (tests/test_check_thresholds.py)
    Term("stage2_at_its_optimum", "min_max_burden", "toy_auctioned", lambda t, d: (
        _add(_s(t), "free_mt", -d / 0.06, sector="steel", year=2027),
        _add(_s(t), "free_mt", d / 0.06, sector="power", year=2027))),
    # revenue first: 50 Mt free in 2026 are the fewest; 50 d more are a share d too many
    Term("stage2_at_its_optimum", "max_auction_revenue", "toy_revenue",
         lambda t, d: _add(_s(t), "free_mt", 50 * d, sector="power", year=2026)),

    # --- simulation_compliance (simulation_compliance.py): emissions <= rule cap; cap = rule cap
    Term("simulation_compliance", "emissions_over_rule_cap", "toy",
         lambda t, d: _add(_s(t), "emissions_mt", d, sector="steel", year=2025)),
    Term("simulation_compliance", "cap_is_rule_cap", "toy",
         lambda t, d: _add(_s(t), "cap_mt", -d, sector="steel", year=2025)),
    Term("simulation_compliance", "without_rule_cap_column", "toy", lambda t, d: (
        _drop(t, "sector_years", "rule_cap_mt"), _add(_s(t), "emissions_mt", d, sector="steel", year=2025))),

    # --- facility_compliance: s1 within its 18.8 Mt free in 2025
    Term("facility_compliance", "emissions_over_free", "toy_facility",
         lambda t, d: _add(t["facilities"], "emissions_mt", d, facility_id="s1", year=2025)),
    # s2 emits 15 of its 16.92 Mt free: d more free breaks only the sharing-out of steel's 47 Mt rule cap
    Term("facility_compliance", "free_adds_up_to_rule_cap", "toy_facility",
         lambda t, d: _add(t["facilities"], "free_mt", d, facility_id="s2", year=2025)),
    # the tables without the rule cap: only the installations' own compliance
    Term("facility_compliance", "without_rule_cap_column", "toy_facility", lambda t, d: (
        _drop(t, "sector_years", "rule_cap_mt"), _add(t["facilities"], "free_mt", -d, facility_id="s1", year=2025))),

    # --- cap_split: |sector caps - ETS cap|
    Term("cap_split", "caps_above", "toy", lambda t, d: _add(_s(t), "cap_mt", d, sector="power", year=2026)),
    Term("cap_split", "caps_below", "toy", lambda t, d: _add(_s(t), "cap_mt", -d, sector="steel", year=2027)),

    # --- cap_rules (grandfathered_allocation.py)
    # steel's cap 18 = (1 - 0.6) x 45: the reduction reported d / 45 lower
    Term("cap_rules", "grandfathered", "toy_grandfathered",
         lambda t, d: _set(_s(t), "cap_reduction", 0.6 - d / 45.0, sector="steel", year=2026)),
    Term("cap_rules", "intensity", "toy",
         lambda t, d: _add(_s(t), "benchmark_t_per_unit", -d / 100, sector="power", year=2026)),
    # power's 2027 cap raised to its 2026 cap + d
    Term("cap_rules", "absolute_no_higher", "toy_absolute",
         lambda t, d: _set(_s(t), "cap_mt", 71.66666666666667 + d, sector="power", year=2027)),
    # steel did not trade in 2025 (its rule cap 47): its 2026 cap may be above it
    Term("cap_rules", "absolute_only_after_trading", "toy_absolute_2026",
         lambda t, d: _set(_s(t), "cap_mt", 47.0 + 1000 * d, sector="steel", year=2026), expected=lambda d: 0.0),

    # --- offset_limit (offsets.py): power surrenders 2.5 = 0.05 x 50 in 2027, steel 2.2368 of 4.7368
    Term("offset_limit", "above_limit", "toy_offsets",
         lambda t, d: _set(_s(t), "offset_limit_share", 0.05 - d / 50.0, sector="power", year=2027)),
    Term("offset_limit", "total_is_used", "toy_offsets", lambda t, d: _add(_y(t), "offsets_used_mt", d, year=2027)),
    # power surrenders -d in 2026 and steel d (within its 0.05 x 45): the total still 0
    Term("offset_limit", "negative", "toy_offsets", lambda t, d: (
        _set(_s(t), "offsets_surrendered_mt", -d, sector="power", year=2026),
        _set(_s(t), "offsets_surrendered_mt", d, sector="steel", year=2026))),

    # --- price_ceiling (price_ceiling.py, relative): the 2027 price at the ceiling of 50, 5 Mt sold
    Term("price_ceiling", "above", "toy_ceiling",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", d, relative=True, year=2027)),
    Term("price_ceiling", "sold_below", "toy_ceiling",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", -d, relative=True, year=2027)),
    # d Mt sold in 2026, a year without a ceiling: a share 1 off when d is above TOLERANCE_MT
    Term("price_ceiling", "sold_without_ceiling", "toy_ceiling",
         lambda t, d: _set(_y(t), "ceiling_sales_mt", d, year=2026),
         expected=lambda d: 1.0 if d > TOLERANCE_MT else 0.0),

    # --- price_floor (price_floor.py, relative): the price at the floor of 30, 2.5 of 12.75 Mt withdrawn in 2026
    Term("price_floor", "below_with_room", "toy_floor",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", -d, relative=True, year=2026)),
    Term("price_floor", "above_when_withdrawn", "toy_floor",
         lambda t, d: _add(_y(t), "allowance_price_cny_per_t", d, relative=True, year=2026)),
    Term("price_floor", "withdrawn_without_floor", "toy_floor", lambda t, d: (
        _set(_y(t), "price_floor_cny_per_t", np.nan, year=2026), _set(_y(t), "withdrawn_mt", d, year=2026))),
    Term("price_floor", "above_the_volume", "toy_floor",
         lambda t, d: _set(_y(t), "withdrawn_mt", 12.75 * (1 + d), year=2026)),
    Term("price_floor", "negative", "toy_floor", lambda t, d: _set(_y(t), "withdrawn_mt", -d, year=2026)),
    # all 12.75 Mt auctioned withdrawn: the price may stay below the floor
    Term("price_floor", "below_at_the_bound_allowed", "toy_floor", lambda t, d: (
        _set(_y(t), "withdrawn_mt", 12.75, year=2026),
        _add(_y(t), "allowance_price_cny_per_t", -1000 * d, relative=True, year=2026)), expected=lambda d: 0.0),

    # --- reserve_release (reserve.py): a 3 Mt tier at 50, all sold at 60 in 2027 (40 before)
    Term("reserve_release", "above_what_may_sell", "toy_reserve",
         lambda t, d: _add(_y(t), "reserve_released_mt", d, year=2027)),
    Term("reserve_release", "below_what_must_sell", "toy_reserve",
         lambda t, d: _add(_y(t), "reserve_released_mt", -d, year=2027)),
    Term("reserve_release", "below_trigger", "toy_reserve",
         lambda t, d: _set(_y(t), "reserve_released_mt", d, year=2026)),
    # a counted release is worth 60 - 60 = 0 < 50: 2 of 3 sold is allowed; d at 40 in 2026 is not
    Term("reserve_release", "counted_worth_price_less_value", "toy_reserve", lambda t, d: (
        t["market"].update(reserve_counted=True), _set(_y(t), "reserve_released_mt", 2.0, year=2027),
        _set(_y(t), "reserve_released_mt", d, year=2026))),
    Term("reserve_release", "pool_negative", "toy_reserve", lambda t, d: (
        _y(t).__setitem__("reserve_pool_mt", [np.nan, np.nan, -d]))),
    # a pool used up by the end (3, 3, 0 Mt left) may leave the price above a trigger: less sold is allowed
    Term("reserve_release", "pool_used_up_allowed", "toy_reserve", lambda t, d: (
        _y(t).__setitem__("reserve_pool_mt", [3.0, 3.0, 0.0]),
        _add(_y(t), "reserve_released_mt", -1000 * d, year=2027)), expected=lambda d: 0.0),

    # --- supply_adjustment (supply_adjustment.py): intake 30 = 0.5 x 60 in 2025; releases of 10
    # in 2026 (the bank brought in, 20, at lower_mt) and 2027; reserve 30, 20, 10
    Term("supply_adjustment", "wrong_regime", "toy_adjustment", lambda t, d: _add(_y(t), "bank_mt", d, year=2025)),
    Term("supply_adjustment", "intake", "toy_adjustment", _intake_only),
    Term("supply_adjustment", "release", "toy_adjustment", _release_only),
    Term("supply_adjustment", "invalidated", "toy_adjustment", _invalidated_only),
    Term("supply_adjustment", "reserve_adds_up", "toy_adjustment",
         lambda t, d: _add(_y(t), "adjustment_reserve_mt", d, year=2027)),
    Term("supply_adjustment", "supply_is_release_less_intake", "toy_adjustment",
         lambda t, d: _add(_y(t), "adjustment_supply_mt", d, year=2027)),
    # a regime the rule does not name fails outright (an infinite violation), whatever d
    Term("supply_adjustment", "unknown_regime", "toy_adjustment",
         lambda t, d: _set(_y(t), "adjustment_regime", "withheld", year=2026), expected=lambda d: np.inf),

    # --- bank_limits (bank_limits.py)
    Term("bank_limits", "negative_bank", "toy_banking", lambda t, d: _set(_y(t), "bank_mt", -d, year=2025)),
    Term("bank_limits", "bank_after_the_horizon", "toy_banking", lambda t, d: _set(_y(t), "bank_mt", d, year=2027)),
    Term("bank_limits", "bank_without_banking", "toy", lambda t, d: _set(_y(t), "bank_mt", d, year=2026)),
    Term("bank_limits", "negative_borrowing", "toy_borrowing", lambda t, d: _set(_y(t), "borrowed_mt", -d, year=2026)),
    # 2 Mt borrowed against 0.1 x power's 80 Mt (steel simulates in 2025): the share lowered to (2 - d) / 80
    Term("bank_limits", "borrowing_above_share", "toy_borrowing",
         lambda t, d: t["market"].update(borrowing_limit_share=(2.0 - d) / 80.0)),
    Term("bank_limits", "borrowed_in_the_last_year", "toy_borrowing",
         lambda t, d: _set(_y(t), "borrowed_mt", d, year=2027)),
    Term("bank_limits", "market_limit", "toy_banking", lambda t, d: t["market"].update(bank_limit_mt=5.0 - d)),
    # power banks its base of 2 in 2026: the base lowered by d
    Term("bank_limits", "sector_base", "toy_bases",
         lambda t, d: t["market"]["sector_bank_limits"]["power"].update(base_mt=2.0 - d)),
    Term("bank_limits", "sales_factor", "toy_sales", _sales_factor_short),
    Term("bank_limits", "intra_sector_sales", "toy_intra", _intra_short),
    # steel, a net buyer, banks its base of 1 only (its negative net sales earn no room)
    Term("bank_limits", "net_buyer_base_only", "toy_sales",
         lambda t, d: t["market"]["sector_bank_limits"]["steel"].update(base_mt=1.0 - d)),
    Term("bank_limits", "market_limit_with_sector_limits", "toy_sales",
         lambda t, d: t["market"].update(bank_limit_mt=_get(_y(t), "bank_mt", year=2026) - d)),
    Term("bank_limits", "holds_less_than_it_uses", "toy_bases", _power_overdraws),
    Term("bank_limits", "sector_cancellation_as_computed", "toy_bases",
         lambda t, d: _add(_s(t), "cancelled_mt", d, sector="power", year=2026)),
    Term("bank_limits", "year_cancellation_adds_up", "toy_bases",
         lambda t, d: _add(_y(t), "cancelled_mt", d, year=2026)),
    Term("bank_limits", "sector_banks_add_up", "toy_bases", lambda t, d: _add(_y(t), "bank_mt", d, year=2026)),
    Term("bank_limits", "net_buyer_cancels_nothing", "toy_sales", _steel_buyer_cancels),
    Term("bank_limits", "cancelled_what_could_be_banked", "toy_bases", _headroom_then_cancel),
    Term("bank_limits", "negative_sale_for_cancellation", "toy_sales", lambda t, d: (
        _set(_y(t), "sold_for_cancellation_mt", -d, year=2026), _add(_y(t), "cancelled_mt", -d, year=2026))),
    Term("bank_limits", "sale_for_cancellation_at_a_price", "toy_sales", lambda t, d: (
        _set(_y(t), "sold_for_cancellation_mt", d, year=2026), _add(_y(t), "cancelled_mt", d, year=2026))),
    # the bank is worth nothing when next year's price is 0: power (1 Mt of room) may cancel 1000 d
    Term("bank_limits", "cancelled_when_worthless", "toy_bases", lambda t, d: (
        _set(_y(t), "allowance_price_cny_per_t", 0.0, year=2027), _headroom_then_cancel(t, 1000 * d)),
        expected=lambda d: 0.0),
    # in the last year no bank may be left: steel, a net buyer under a sales factor, may cancel there
    Term("bank_limits", "net_buyer_cancels_in_the_last_year", "toy_sales", lambda t, d: (
        _add(_s(t), "emissions_mt", -1000 * d, sector="steel", year=2027),
        _add(_s(t), "cancelled_mt", 1000 * d, sector="steel", year=2027),
        _add(_y(t), "cancelled_mt", 1000 * d, year=2027)), expected=lambda d: 0.0),
    # without a sales factor a net buyer (steel, at its base of 1) cancels only at a zero price (40 here)
    Term("bank_limits", "net_buyer_without_factor_at_a_price", "toy_bases", lambda t, d: (
        _add(_s(t), "emissions_mt", -d, sector="steel", year=2026),
        _add(_s(t), "cancelled_mt", d, sector="steel", year=2026),
        _add(_y(t), "cancelled_mt", d, year=2026))),
    Term("bank_limits", "negative_price", "toy_sales",
         lambda t, d: _set(_y(t), "allowance_price_cny_per_t", -d, year=2025)),

    # --- deployment_limits (deployment_limits.py): power B built at 5 Mt/yr: 5, 10, 15
    Term("deployment_limits", "growth", "toy_deployment",
         lambda t, d: _add(_steps(t), "abatement_mt", d, sector="power", step="B", year=2026)),
    # the first year builds first_year_build_factor (1) years: lowered to (5 - d) / 5
    Term("deployment_limits", "first_year_build_factor", "toy_deployment",
         lambda t, d: t["market"]["deployment_limits"].update(first_year_build_factor=(5.0 - d) / 5.0)),
    Term("deployment_limits", "group_limit", "toy_deployment", _group_limit),
]


def _tables(results, case: str) -> dict:
    return {"years": results.years.copy(), "sector_years": results.sector_years.copy(),
            "steps": results.abatement_steps.copy(), "facilities": results.facilities.copy(),
            "market": copy.deepcopy(results.summary["market"]),
            "stage1": ({**_stage1_of(results), "allocation_objective": results.summary.get("allocation", {}).get(
                "objective", "min_max_burden")} if case in STAGE2_CASES else None)}


def _report(t: dict) -> dict:
    return run_checks(t["years"], t["sector_years"], t["steps"], t["market"], t["facilities"], stage1=t["stage1"])


def test_every_check_is_broken_term_by_term(toy):  # noqa: F811
    """Each check the report runs (stage 2's too) has its terms here."""
    assert set(toy.summary["checks"]) | {"stage2_at_its_optimum"} <= {term.check for term in TERMS}
    assert len({term.id for term in TERMS}) == len(TERMS)


@pytest.mark.parametrize("d", (1e-3, 1e-7), ids=["1e-3", "1e-7"])
@pytest.mark.parametrize("term", TERMS, ids=lambda term: term.id)
def test_check_term_at_its_threshold(request, term, d):
    results = request.getfixturevalue(term.case)
    tables = _tables(results, term.case)
    assert _report(tables)[term.check]["worst_violation"] <= 1e-9  # the unbroken tables hold
    term.breaks(tables, d)
    report = _report(tables)[term.check]
    expected = term.expected(d)
    assert report["worst_violation"] == pytest.approx(expected, rel=1e-3, abs=1e-9)  # 1e-9: the solve's rounding
    assert report["passed"] is (expected <= 1e-5)


# --- the price a trading sector faces under sales-linked bank limits (checks._trading_price_faced)

ONE_LIMITED = {"market.banking": "true", "sectors.power.bank_limit_base_mt": 0,
               "sectors.power.bank_limit_sales_factor": 0.2}


def test_a_sector_without_a_limit_banks_what_the_limited_one_cannot():
    """Power's bank at most 0.2 x its net sales, steel unlimited. Steel, a net buyer, may bank
    freely, so the market banks as without limits: 5 Mt from 2026 to 2027 at 40 and 40 x 1.1 =
    44 CNY/t (tests/families/test_bank.py). Steel faces the allowance price: its step A at 20
    is used and B at 60 is not in 2026; in 2027 steel B (60) is unused at 44. Power, wherever
    it sits at its limit, faces (p + 0.2 x V) / 1.2 with V = 44 / 1.1 = 40 = p: the same 40."""
    results = solve(TOY, overrides=ONE_LIMITED)
    years = results.years
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 40.0, 44.0])
    assert years["bank_mt"].tolist() == pytest.approx([0.0, 5.0, 0.0], abs=1e-9)
    assert results.summary["market"]["sector_bank_limits"] == {
        "power": {"base_mt": 0.0, "sales_factor": 0.2, "intra_sector_sales_mt": 0.0}}
    assert all(check["passed"] for check in results.summary["checks"].values())
    # steel's marginal step in 2026 is checked against the allowance price: A (20 < 40) used in
    # full, B at 60 unused; reported at 40 x (1 - 0.01) with A's potential left spare, it fails by 1%
    tables = _tables(results, "one_limited")
    _set(tables["steps"], "cost_cny_per_t", 40 * 0.99, sector="steel", step="A", year=2026)
    _add(tables["steps"], "abatement_mt", -1.0, sector="steel", step="A", year=2026)
    _add(tables["sector_years"], "emissions_mt", 1.0, sector="steel", year=2026)
    assert _report(tables)["equal_marginal_cost"]["worst_violation"] == pytest.approx(0.01)


def test_a_limit_given_without_a_sales_factor_has_none(toy_bases):
    """A market written by a script may give a sector's limit as its base only: it has no sales
    factor (as ``bank_limits.sector_bank_room`` and the bank_limits check read it). Power, at
    its base of 2 in 2026 and selling 10.1667 Mt, then faces the allowance price, 40 (its step
    B, 20.5 of 30 Mt at 40, is marginal): equal marginal cost holds. Were a missing factor read
    as 1, power would face (40 + 1 x 60 / 1.1) / 2 = 47.27 and step B, spare at 40, would be too
    cheap by (47.27 - 40) / 47.27 = 0.154."""
    tables = _tables(toy_bases, "toy_bases")
    limits = tables["market"]["sector_bank_limits"]
    assert limits["power"]["sales_factor"] == 0.0 and limits["steel"]["sales_factor"] == 0.0
    for limit in limits.values():
        del limit["sales_factor"]
    report = _report(tables)
    assert report["equal_marginal_cost"] == {"passed": True, "worst_violation": pytest.approx(0.0, abs=1e-9),
                                             "unit": "relative"}
    assert report["bank_limits"]["passed"] and report["hotelling"]["passed"]
    # and with the factor given (0.2): power at its limit of 0.2 x 10.1667 faces more than 40
    limits["power"]["sales_factor"] = 0.2
    limits["power"]["base_mt"] = 2.0 - 0.2 * _get(tables["sector_years"], "net_sales_mt", sector="power", year=2026)
    faced = (40 + 0.2 * 60 / 1.1) / 1.2
    assert _report(tables)["equal_marginal_cost"]["worst_violation"] == pytest.approx((faced - 40) / faced)


def test_hotelling_counts_a_negative_price_as_zero_only_under_sector_bank_limits():
    """A bank of 10 Mt carried from a year priced at -5 CNY/t (a seller earning bank room
    under a sales-linked limit) into one at 0, at a 10% discount rate: under sector bank
    limits the -5 counts as 0 and the price path is exact (gap 0); without them the price
    should have risen to -5.5, and 0 is 5.5 above it: a relative gap of 1."""
    import pandas as pd

    from model.results.checks import _hotelling
    years = pd.DataFrame({"year": [2025, 2026], "allowance_price_cny_per_t": [-5.0, 0.0],
                          "discount_factor": [1.0, 1 / 1.1], "bank_mt": [10.0, 0.0]})
    sector_years = pd.DataFrame({"sector": ["power", "power"], "year": [2025, 2026], "emissions_mt": [90.0, 90.0],
                                 "phase": ["trading", "trading"]})
    limits = {"power": {"base_mt": 20.0, "sales_factor": 0.2, "intra_sector_sales_mt": 0.0}}
    assert _hotelling(years, sector_years, None, {"banking": True, "sector_bank_limits": limits}) == 0.0
    assert _hotelling(years, sector_years, None, {"banking": True}) == pytest.approx(1.0)


def test_a_column_read_for_a_check_takes_the_type_asked_for():
    """Outside run_checks (a check called on its own) a column is read as asked: whole
    numbers asked as floats are floats (a years.csv of whole prices reads as int64), a
    nullable column's blank is NaN."""
    import pandas as pd

    from model.families import checktools
    table = pd.DataFrame({"price": [40, 60], "bank_mt": pd.array([10, None], dtype="Int64")})
    price = checktools.values(table, "price", float)
    assert price.dtype == np.float64 and price.tolist() == [40.0, 60.0]
    bank = checktools.values(table, "bank_mt", float)
    assert bank.dtype == np.float64 and bank[0] == 10.0 and np.isnan(bank[1])
    assert checktools.values(table, "price").dtype == np.int64  # no type asked: the column's
