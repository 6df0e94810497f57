"""The solution checks, tested on their own: a correct solution passes every check; the
same tables broken in one place fail the check that restates that economics, with the
worst violation the break made."""

from __future__ import annotations

import pytest

from model import EtscapError, solve
from model.results.checks import failed, run_checks
from tests.conftest import TOY, toy_with_registry


@pytest.fixture(scope="module")
def toy():
    return solve(TOY)


@pytest.fixture(scope="module")
def toy_banking():
    return solve(TOY, overrides={"market.banking": "true"})


def _tables(results):
    return results.years.copy(), results.sector_years.copy(), results.abatement_steps.copy()


def _set(table, column, value, **where):
    """Set ``column`` in the one row of ``table`` matching ``where`` (e.g. sector=, year=)."""
    match = table.index[(table[list(where)] == list(where.values())).all(axis=1)]
    assert len(match) == 1, where
    table.loc[match, column] = value(table.loc[match[0], column]) if callable(value) else value


def _failures(results, years, sector_years, steps):
    report = run_checks(years, sector_years, steps, results.summary["market"])
    return {name: pytest.approx(r["worst_violation"]) for name, r in report.items() if not r["passed"]}


def test_correct_solutions_pass_every_check(toy, toy_banking):
    for results in (toy, toy_banking):
        assert _failures(results, *_tables(results)) == {}


def test_national_target(toy):
    """Issuing 2.5 Mt more allowances in 2026 breaks the national cap (and the cap split, and
    the auction ceiling: the 2.5 Mt not given free would be auctioned where max_auction_share is 0)."""
    years, sector_years, steps = _tables(toy)
    _set(years, "ets_cap_mt", lambda v: v + 2.5, year=2026)
    assert _failures(toy, years, sector_years, steps) == {"national_target": 2.5, "cap_split": 2.5,
                                                          "allocation_bounds": 2.5}


def test_market_balance(toy):
    """Power abates 3 Mt less in 2026: trading emissions exceed the trading caps by 3, so 3 Mt
    more are emitted than the national cap allows."""
    years, sector_years, steps = _tables(toy)
    _set(steps, "abatement_mt", lambda v: v - 3, sector="power", step="B", year=2026)
    _set(sector_years, "emissions_mt", lambda v: v + 3, sector="power", year=2026)
    assert _failures(toy, years, sector_years, steps) == {"market_balance": 3.0, "sector_compliance": 3.0,
                                                         "market_clearing": 3.0, "national_count": 3.0}


def test_simulation_compliance(toy):
    """Steel emits 1 Mt above its 2025 rule cap in its simulation phase: 1 Mt over its
    allowances and over the national cap."""
    years, sector_years, steps = _tables(toy)
    _set(steps, "abatement_mt", lambda v: v - 1, sector="steel", step="A", year=2025)
    _set(sector_years, "emissions_mt", lambda v: v + 1, sector="steel", year=2025)
    assert _failures(toy, years, sector_years, steps) == {"simulation_compliance": 1.0, "sector_compliance": 1.0,
                                                         "national_count": 1.0}


def test_abatement_within_potential(toy):
    years, sector_years, steps = _tables(toy)
    _set(steps, "abatement_mt", lambda v: v + 1, sector="power", step="A", year=2025)
    _set(sector_years, "emissions_mt", lambda v: v - 1, sector="power", year=2025)
    assert _failures(toy, years, sector_years, steps) == {"abatement_within_potential": 1.0,
                                                         "market_clearing": 1.0}


def test_emissions_add_up(toy):
    """The rest of the economy reported 0.5 Mt above BAU minus its abatement (which also
    breaks the national target it counts in)."""
    years, sector_years, steps = _tables(toy)
    _set(sector_years, "emissions_mt", lambda v: v + 0.5, sector="rest", year=2027)
    assert _failures(toy, years, sector_years, steps) == {"emissions_add_up": 0.5, "national_target": 0.5,
                                                         "national_count": 0.5}


def test_bank_limits(toy):
    """1 Mt banked in 2026 although banking is off (and taken from 2026's balance)."""
    years, sector_years, steps = _tables(toy)
    _set(years, "bank_mt", 1.0, year=2026)
    assert _failures(toy, years, sector_years, steps) == {"bank_limits": 1.0, "market_balance": 1.0,
                                                         "market_clearing": 1.0, "sector_compliance": 1.0,
                                                         "national_count": 1.0}


def test_bank_left_after_the_last_year(toy_banking):
    years, sector_years, steps = _tables(toy_banking)
    _set(years, "bank_mt", 2.0, year=2027)
    assert _failures(toy_banking, years, sector_years, steps) == {"bank_limits": 2.0, "market_balance": 2.0,
                                                                 "market_clearing": 2.0, "sector_compliance": 2.0,
                                                                 "national_count": 2.0}


def test_equal_marginal_cost_used_step_dearer_than_price(toy):
    """Power's step B, used in 2026, costs 50 against a price of 40: 25% too dear."""
    years, sector_years, steps = _tables(toy)
    _set(steps, "cost_cny_per_t", 50.0, sector="power", step="B", year=2026)
    assert _failures(toy, years, sector_years, steps) == {"equal_marginal_cost": 0.25}


def test_equal_marginal_cost_unused_step_cheaper_than_price(toy):
    """The rest of the economy's unused step B at 45 against its national carbon value of 60."""
    years, sector_years, steps = _tables(toy)
    _set(steps, "cost_cny_per_t", 45.0, sector="rest", step="B", year=2027)
    assert _failures(toy, years, sector_years, steps) == {"equal_marginal_cost": 0.25}


def test_hotelling(toy_banking):
    """With 5 Mt banked from 2026, the 2027 price must be 40 x 1.1 = 44; 48.4 is 10% off."""
    years, sector_years, steps = _tables(toy_banking)
    assert years["bank_mt"].tolist() == pytest.approx([0, 5, 0])
    _set(years, "allowance_price_cny_per_t", 48.4, year=2027)
    assert _failures(toy_banking, years, sector_years, steps) == {"hotelling": 0.1}


def test_failed_names_the_check_and_its_worst_violation(toy):
    years, sector_years, steps = _tables(toy)
    _set(years, "bank_mt", 1.0, year=2026)
    report = run_checks(years, sector_years, steps, toy.summary["market"])
    assert failed(report) == ["national_count (worst violation 1 Mt)", "sector_compliance (worst violation 1 Mt)",
                              "market_clearing (worst violation 1 Mt)", "market_balance (worst violation 1 Mt)",
                              "bank_limits (worst violation 1 Mt)"]


def test_a_failed_check_stops_the_run(monkeypatch):
    """pipeline.solve raises rather than return (or write) a solution that fails a check."""
    import model.results.tables

    def failing(*args):
        return {"hotelling": {"passed": False, "worst_violation": 0.5, "unit": "relative"}}

    monkeypatch.setattr(model.results.tables, "run_checks", failing)
    with pytest.raises(EtscapError) as caught:
        solve(TOY)
    assert str(caught.value) == ("the solution failed verification: hotelling (worst violation 0.5 "
                                 "relative) (please report this with the dataset)")


def _toy_with_registry(folder):
    """The toy with five installations whose free shares follow their emissions."""
    return toy_with_registry(folder)


def test_equal_marginal_cost_at_facility_resolution_with_no_installation_in_simulation(tmp_path):
    """Steel trading from 2025: no installation is in its simulation phase, so every step
    faces the allowance price (40 in 2026); power's used pooled step B at 50 is 25% too dear."""
    folder = _toy_with_registry(tmp_path / "toy")
    results = solve(folder, overrides={"model.resolution": "facility", "sectors.steel.trading_from": 2025})
    assert set(results.facilities["phase"]) == {"trading"}
    years, sector_years, steps = _tables(results)
    report = run_checks(years, sector_years, steps, results.summary["market"], results.facilities)
    assert failed(report) == []
    _set(steps, "cost_cny_per_t", 50.0, sector="power", step="B", year=2026)
    report = run_checks(years, sector_years, steps, results.summary["market"], results.facilities)
    assert report["equal_marginal_cost"]["worst_violation"] == pytest.approx(0.25)
    assert failed(report) == ["equal_marginal_cost (worst violation 0.25 relative)"]


# -- a deliberately broken rule family: a reserve that releases allowances into the market
# without counting them in the national target (the half-done price ceiling of issue 12)

RESERVE_MT = 5.0  # released in the last year, at no cost, so the market uses all of it


def _with_unbudgeted_reserve(formulate):
    """``formulate`` plus a reserve variable whose release adds supply to market_balance
    and appears in no other row: the national target does not count it."""
    import numpy as np

    from model.lp.blocks import Term, VarBlock

    def broken(p):
        lp = formulate(p)
        upper = np.zeros(p.years.size)
        upper[-1] = RESERVE_MT
        lp.variables["reserve_release_mt"] = VarBlock("reserve_release_mt", p.years.tolist(),
                                                      np.zeros(p.years.size), upper, "released, Mt")
        market = next(block for block in lp.rows if block.name == "market_balance")
        year_of_market_row = np.searchsorted(p.years, p.market_years)
        market.terms.append(Term("reserve_release_mt", np.arange(p.market_years.size), year_of_market_row,
                                 -np.ones(p.market_years.size)))  # supply: demand - release <= caps
        return lp

    return broken


def _broken_solution():
    from model.lp.formulation import formulate
    from model.data.inputs import load_dataset
    from model.parameters.derive import derive_parameters
    from model.results.tables import build_results
    from model.solving.highs import solve_lp

    p = derive_parameters(load_dataset(TOY))
    solution = solve_lp(_with_unbudgeted_reserve(formulate)(p), "toy")
    return solution, build_results(p, solution, None, seconds={})


def test_an_unbudgeted_reserve_is_caught_by_the_national_count_even_when_its_supply_is_declared():
    """The reserve family reports its release (a years column declared as market supply),
    so the market clears and every sector complies, and the restating national_target
    (ETS cap + outside emissions) holds: only national_count sees 2027's emissions run
    5 Mt over the national cap."""
    solution, results = _broken_solution()
    assert solution.values["reserve_release_mt"].tolist() == pytest.approx([0, 0, RESERVE_MT])
    years = results.years.assign(reserve_release_mt=solution.values["reserve_release_mt"])
    market = {**results.summary["market"], "supply_columns": ("reserve_release_mt",)}
    report = run_checks(years, results.sector_years, results.abatement_steps, market)
    assert report["national_target"]["passed"]
    assert failed(report) == ["national_count (worst violation 5 Mt)"]
    assert report["national_count"]["worst_violation"] == pytest.approx(RESERVE_MT)


def test_an_unbudgeted_reserve_stops_the_run(monkeypatch):
    """Through the pipeline (the reserve not reported at all) the run is refused, the
    national count named first with the 5 Mt overshoot."""
    import model.solving.pipeline

    monkeypatch.setattr(model.solving.pipeline, "formulate", _with_unbudgeted_reserve(model.solving.pipeline.formulate))
    with pytest.raises(EtscapError) as caught:
        solve(TOY, allocation=False)
    assert str(caught.value) == (
        "the solution failed verification: national_count (worst violation 5 Mt); sector_compliance "
        "(worst violation 5 Mt); market_clearing (worst violation 5 Mt); market_balance (worst violation "
        "5 Mt) (please report this with the dataset)")


def _stage1_of(results, **changes):
    """The stage-1 outcome the tables were allocated from, as build_results passes it."""
    years, sector_years = results.years, results.sector_years
    return {"ets_cap_mt": years["ets_cap_mt"].to_numpy(), "bank_mt": years["bank_mt"].to_numpy(),
            "emissions_mt": sector_years["emissions_mt"].to_numpy().copy(),
            "objective_bn_cny": results.summary["objective_bn_cny"], "cost_tolerance": 0.0, **changes}


def test_stage2_keeps_stage1(toy):
    """Stage 1 had steel emit 2 Mt less in 2026 than the allocated tables show."""
    stage1 = _stage1_of(toy)
    row = toy.sector_years.index[(toy.sector_years["sector"] == "steel") & (toy.sector_years["year"] == 2026)][0]
    report = run_checks(*_tables(toy), toy.summary["market"], stage1=stage1)
    assert failed(report) == []
    stage1["emissions_mt"][row] -= 2.0
    report = run_checks(*_tables(toy), toy.summary["market"], stage1=stage1)
    assert failed(report) == ["stage2_keeps_stage1 (worst violation 2 Mt)"]


def test_stage2_cost_within_tolerance(toy):
    """Stage 2 costs 3.147 bn CNY (PV); stage 1's least cost 2.8 with a 5% tolerance allows
    2.94: (3.147 - 2.94) / 2.94 relative over (divided by max(1, least cost))."""
    cost = toy.summary["objective_bn_cny"]
    stage1 = _stage1_of(toy, objective_bn_cny=2.8, cost_tolerance=0.05)
    report = run_checks(*_tables(toy), {**toy.summary["market"], "equilibrium": False}, stage1=stage1)
    assert cost == pytest.approx(3.147024793, abs=1e-9)
    assert report["stage2_cost_within_tolerance"]["worst_violation"] == pytest.approx((cost - 2.94) / 2.8)
    assert failed(report) == [f"stage2_cost_within_tolerance (worst violation {(cost - 2.94) / 2.8:.3g} relative)"]


def test_sector_compliance_holds_a_simulation_sector_to_its_rule_cap(toy):
    """Steel's 2025 cap reported 2 Mt above its rule cap of 47, emissions at 48.5: 1.5 Mt
    over the allowances the rule gives it, although within the reported cap."""
    years, sector_years, steps = _tables(toy)
    _set(sector_years, "cap_mt", 49.0, sector="steel", year=2025)
    _set(sector_years, "emissions_mt", 48.5, sector="steel", year=2025)
    report = run_checks(years, sector_years, steps, toy.summary["market"])
    assert report["sector_compliance"]["worst_violation"] == pytest.approx(1.5)
