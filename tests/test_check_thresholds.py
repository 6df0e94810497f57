"""Every check at its threshold: the toy's tables broken by 1e-3 (Mt, or relative for the
price checks) fail that check with that worst violation, and broken by 1e-7 pass, so a
tolerance made 100x looser or tighter than the documented 1e-5 is caught."""

from __future__ import annotations

from typing import Callable

import pytest

from model import solve
from model.results.checks import TOLERANCE_MT, TOLERANCE_PRICE, checks_of, run_checks
from model.families import FAMILIES
from tests.conftest import TOY
from tests.test_checks import toy, toy_banking  # noqa: F401, F811 (fixtures: the toy solved, with and without banking)
from tests.test_facility_study import toy_binding_installation  # noqa: F401 (a fixture)

BREAKS = (1e-3, 1e-7)  # 100x above and below the tolerance
STAGE2_CASES = ("toy_stage2", "toy_auctioned")  # solved cases whose tables are checked as stage 2's




@pytest.fixture(scope="module")
def toy_facility(toy_binding_installation):  # noqa: F811
    return solve(toy_binding_installation)


def _add(table, column, amount: float, relative: bool = False, **where) -> None:
    """Add ``amount`` (a share of the value if ``relative``) to ``column`` in the one row of
    ``table`` matching ``where``."""
    match = table.index[(table[list(where)] == list(where.values())).all(axis=1)]
    assert len(match) == 1, where
    value = table.loc[match[0], column]
    table.loc[match, column] = value * (1 + amount) if relative else value + amount


# check: (solved case, break by d, checks that then fail, in the toy's numbers)
CASES: dict[str, tuple[str, Callable, set[str]]] = {
    # national cap 152.5 Mt in 2026, lowered by d: allowances plus outside emissions exceed it by d
    "national_target": ("toy", lambda t, d: _add(t["years"], "national_cap_mt", -d, year=2026),
                        {"national_target"}),
    # the stated 2026 target lowered by d: cumulative emissions to 2026 and 2027 exceed the
    # cumulative national cap by d
    "national_count": ("toy", lambda t, d: _add(t["years"], "absolute_target_mt", -d, year=2026),
                       {"national_count"}),
    # power's 2026 cap (71.67 Mt) raised by d: sector caps add up to d more than the ETS cap
    "cap_split": ("toy", lambda t, d: _add(t["sector_years"], "cap_mt", d, sector="power", year=2026),
                  {"cap_split", "market_clearing"}),  # d of supply unused at a price of 40
    # power abates d less in 2026 (step B, 17.5 of 30 Mt): trading emissions exceed the caps by d
    "market_balance": ("toy", lambda t, d: (_add(t["steps"], "abatement_mt", -d, sector="power", step="B", year=2026),
                                            _add(t["sector_years"], "emissions_mt", d, sector="power", year=2026)),
                       {"market_balance", "market_clearing", "sector_compliance", "national_count"}),
    # the same break: demand exceeds supply by d in 2026
    "market_clearing": ("toy", lambda t, d: (_add(t["steps"], "abatement_mt", -d, sector="power", step="B", year=2026),
                                             _add(t["sector_years"], "emissions_mt", d, sector="power", year=2026)),
                        {"market_balance", "market_clearing", "sector_compliance", "national_count"}),
    # steel abates d less in 2025 (step A, 3 of 5 Mt): it emits d above its rule cap of 47 Mt
    "simulation_compliance": ("toy", lambda t, d: (
        _add(t["steps"], "abatement_mt", -d, sector="steel", step="A", year=2025),
        _add(t["sector_years"], "emissions_mt", d, sector="steel", year=2025)),
        {"simulation_compliance", "sector_compliance", "national_count"}),
    # the same break: steel emits d more than the allowances it holds
    "sector_compliance": ("toy", lambda t, d: (
        _add(t["steps"], "abatement_mt", -d, sector="steel", step="A", year=2025),
        _add(t["sector_years"], "emissions_mt", d, sector="steel", year=2025)),
        {"simulation_compliance", "sector_compliance", "national_count"}),
    # power's step A (20 of 20 Mt in 2025) used d beyond its potential
    "abatement_within_potential": ("toy", lambda t, d: (
        _add(t["steps"], "abatement_mt", d, sector="power", step="A", year=2025),
        _add(t["sector_years"], "emissions_mt", -d, sector="power", year=2025)),
        {"abatement_within_potential", "market_clearing"}),  # d of supply left unused at a price of 40
    # power's 2026 emissions reported d below BAU minus its abatement
    "emissions_add_up": ("toy", lambda t, d: _add(t["sector_years"], "emissions_mt", -d, sector="power", year=2026),
                         {"emissions_add_up", "market_clearing"}),
    # d left in the bank after 2027 (taken from 2027's market balance)
    "bank_limits": ("toy_banking", lambda t, d: _add(t["years"], "bank_mt", d, year=2027),
                    {"bank_limits", "market_balance", "market_clearing", "sector_compliance", "national_count"}),
    # power's step B, used in 2026, costs 40 x (1 + d) against the price of 40
    "equal_marginal_cost": ("toy", lambda t, d: _add(t["steps"], "cost_cny_per_t", d, relative=True,
                                                     sector="power", step="B", year=2026), {"equal_marginal_cost"}),
    # with 5 Mt banked from 2026 the 2027 price must be 44; 44 x (1 + d) is a share d off
    "hotelling": ("toy_banking", lambda t, d: _add(t["years"], "allowance_price_cny_per_t", d, relative=True,
                                                   year=2027), {"hotelling"}),
    # power gets all its 78 Mt cap free in 2025 (free share at most 1, nothing auctioned): d more breaks both
    "allocation_bounds": ("toy", lambda t, d: _add(t["sector_years"], "free_mt", d, sector="power", year=2025),
                          {"allocation_bounds"}),
    # s1 emits d above its free allowances (0.4 x 47 = 18.8 Mt) in steel's simulation year
    "facility_compliance": ("toy_facility", lambda t, d: _add(t["facilities"], "emissions_mt", d,
                                                              facility_id="s1", year=2025), {"facility_compliance"}),
    # power's 2026 benchmark (chosen: its 71.67 Mt cap / 100 TWh) reported d / 100 t/MWh higher:
    # the benchmark x its 100 TWh output is d above its cap
    "cap_rules": ("toy", lambda t, d: _add(t["sector_years"], "benchmark_t_per_unit", d / 100, sector="power",
                                           year=2026), {"cap_rules"}),
    # power's B, built at 5 Mt/yr to 10 Mt in 2026, reported d higher: it grew 5 + d that year
    "deployment_limits": ("toy_deployment", lambda t, d: (
        _add(t["steps"], "abatement_mt", d, sector="power", step="B", year=2026),
        _add(t["sector_years"], "emissions_mt", -d, sector="power", year=2026)),
        {"deployment_limits", "market_clearing"}),  # d of supply left unused at a price of 60
    # stage 2 reported 2026's ETS cap d above what stage 1 decided (sector caps and auctioning no longer add up)
    "stage2_keeps_stage1": ("toy_stage2", lambda t, d: _add(t["years"], "ets_cap_mt", d, year=2026),
                            {"stage2_keeps_stage1", "cap_split", "national_target", "allocation_bounds"}),
    # power B's 2026 cost raised so that the present value exceeds stage 1's 3.147 bn CNY by a share d
    "stage2_cost_within_tolerance": ("toy_stage2", lambda t, d: _add(
        t["steps"], "abatement_cost_bn_cny", d * 3.147024793388429 * 1.1, sector="power", step="B", year=2026),
        {"stage2_cost_within_tolerance"}),
    # power surrenders d more offsets in 2027 than its limit (2.5 of 4.737 Mt, the limit binding) and the year's total
    "offset_limit": ("toy_offsets", lambda t, d: _add(t["sector_years"], "offsets_surrendered_mt", d,
                                                      sector="power", year=2027), {"offset_limit"}),
    # the 2027 price at the ceiling of 50 raised by a share d
    "price_ceiling": ("toy_ceiling", lambda t, d: _add(t["years"], "allowance_price_cny_per_t", d, relative=True,
                                                       year=2027), {"price_ceiling"}),
    # the 2026 price at the floor of 30 (2.5 of 12.75 Mt unsold) lowered by a share d
    "price_floor": ("toy_floor", lambda t, d: _add(t["years"], "allowance_price_cny_per_t", -d, relative=True,
                                                   year=2026), {"price_floor"}),
    # the reserve's 3 Mt tier (all sold at 60 > 50 in 2027) reported selling d more (supply d above demand)
    "reserve_release": ("toy_reserve", lambda t, d: _add(t["years"], "reserve_released_mt", d, year=2027),
                        {"reserve_release", "market_clearing"}),
    # 20% auctioned: in 2027 steel, all its 30 Mt cap free, has the largest burden share, 2%; d / 0.06
    # Mt of it given to power raise that share by 60 x d / 0.06 / 1e3 / 50 = 0.02 d, a share d
    "stage2_at_its_optimum": ("toy_auctioned", lambda t, d: (
        _add(t["sector_years"], "free_mt", -d / 0.06, sector="steel", year=2027),
        _add(t["sector_years"], "free_mt", d / 0.06, sector="power", year=2027)), {"stage2_at_its_optimum"}),
    # the supply adjustment's 2025 intake (0.5 x the initial bank of 60 = 30 Mt) reported d larger
    "supply_adjustment": ("toy_adjustment", lambda t, d: _add(t["years"], "adjustment_intake_mt", d, year=2025),
                          {"supply_adjustment"}),
}


@pytest.fixture(scope="module")
def toy_deployment():
    return solve(TOY, overrides={"mac.power.B.max_build_mt_per_year": 5}, allocation=False)


@pytest.fixture(scope="module")
def toy_offsets():
    from tests.families.test_offsets import with_offsets

    return solve(with_offsets())


@pytest.fixture(scope="module")
def toy_ceiling():
    from tests.families.test_price_ceiling import with_ceiling

    return solve(with_ceiling(50.0))


@pytest.fixture(scope="module")
def toy_floor():
    from tests.families.test_price_floor import with_floor

    return solve(with_floor(30.0))


@pytest.fixture(scope="module")
def toy_reserve():
    from tests.families.test_reserve import with_reserve

    return solve(with_reserve([3.0]))


@pytest.fixture(scope="module")
def toy_adjustment():
    from tests.families.test_supply_adjustment import adjusted_toy

    return solve(adjusted_toy())


@pytest.fixture(scope="module")
def toy_stage2(toy):
    return toy


@pytest.fixture(scope="module")
def toy_auctioned():
    from tests.test_stage2_optimum import AUCTIONED

    return solve(TOY, overrides=AUCTIONED)


def _stage1_of(results):
    """Stage 1's outcome as build_results passes it: the unbroken toy's (no cost tolerance)."""
    return {"ets_cap_mt": results.years["ets_cap_mt"].to_numpy().copy(),
            "bank_mt": results.years["bank_mt"].to_numpy().copy(),
            "emissions_mt": results.sector_years["emissions_mt"].to_numpy().copy(),
            "objective_bn_cny": results.summary["objective_bn_cny"], "cost_tolerance": 0.0}


def test_every_check_has_a_threshold_case(toy):
    assert set(CASES) == set(toy.summary["checks"])
    assert (TOLERANCE_MT, TOLERANCE_PRICE) == (1e-5, 1e-5)


def test_each_check_is_run_once_by_name():
    """Families sharing a policy share one Check object; no two checks carry one name."""
    names = [check.name for check in checks_of(stage2=True)]
    assert len(names) == len(set(names))
    assert {family.check.name for family in FAMILIES} <= set(names)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_every_family_check_fails_on_a_broken_solution(request, family):
    """The Check a family declares is among those run_checks runs, and its case's tables
    broken by 1e-3 make it fail by 1e-3: a family whose check cannot fail is caught."""
    assert any(check is family.check for check in checks_of())
    case, breaks, _ = CASES[family.check.name]
    results = request.getfixturevalue(case)
    tables = {"years": results.years.copy(), "sector_years": results.sector_years.copy(),
              "steps": results.abatement_steps.copy(), "facilities": results.facilities.copy()}
    breaks(tables, 1e-3)
    report = run_checks(*_arguments(results, tables), stage1=_stage1_of(results) if case in STAGE2_CASES else None)
    assert report[family.check.name] == {"passed": False, "worst_violation": pytest.approx(1e-3, rel=1e-4),
                                         "unit": family.check.unit}


@pytest.mark.parametrize("check", list(CASES))
@pytest.mark.parametrize("d", BREAKS, ids=["1e-3", "1e-7"])
def test_check_at_its_threshold(request, check, d):
    case, breaks, failing = CASES[check]
    results = request.getfixturevalue(case)
    tables = {"years": results.years.copy(), "sector_years": results.sector_years.copy(),
              "steps": results.abatement_steps.copy(), "facilities": results.facilities.copy()}
    stage1 = _stage1_of(results) if case in STAGE2_CASES else None
    assert all(r["passed"] for r in run_checks(*_arguments(results, tables), stage1=stage1).values())
    breaks(tables, d)
    report = run_checks(*_arguments(results, tables), stage1=stage1)
    assert report[check]["worst_violation"] == pytest.approx(d, rel=1e-4)
    assert {name for name, r in report.items() if not r["passed"]} == (failing if d > 1e-5 else set())


def _arguments(results, tables):
    return (tables["years"], tables["sector_years"], tables["steps"], results.summary["market"],
            tables["facilities"])


def test_equal_marginal_cost_is_checked_unless_stage_2_left_the_equilibrium(toy):
    """A market that does not say (a script's own dict, without ``equilibrium``) is held to
    equal marginal cost; only a stage 2 that moved abatement within a cost tolerance
    (``equilibrium`` false) leaves the check out."""
    steps = toy.abatement_steps.copy()
    _add(steps, "cost_cny_per_t", 0.25, relative=True, sector="power", step="B", year=2026)
    market = {key: value for key, value in toy.summary["market"].items() if key != "equilibrium"}
    report = run_checks(toy.years, toy.sector_years, steps, market)
    assert report["equal_marginal_cost"] == {"passed": False, "worst_violation": pytest.approx(0.25),
                                             "unit": "relative"}
    assert "equal_marginal_cost" not in run_checks(toy.years, toy.sector_years, steps,
                                                   {**market, "equilibrium": False})
