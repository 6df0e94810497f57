"""The solution checks, tested on their own: a correct solution passes every check; the
same tables broken in one place fail the check that restates that economics, with the
worst violation the break made."""

from __future__ import annotations

import pytest

from model import EtscapError, solve
from model.checks import failed, run_checks
from tests.conftest import TOY


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
    """Power abates 3 Mt less in 2026: trading emissions exceed the trading caps by 3."""
    years, sector_years, steps = _tables(toy)
    _set(steps, "abatement_mt", lambda v: v - 3, sector="power", step="B", year=2026)
    _set(sector_years, "emissions_mt", lambda v: v + 3, sector="power", year=2026)
    assert _failures(toy, years, sector_years, steps) == {"market_balance": 3.0}


def test_simulation_compliance(toy):
    """Steel emits 1 Mt above its 2025 rule cap in its simulation phase."""
    years, sector_years, steps = _tables(toy)
    _set(steps, "abatement_mt", lambda v: v - 1, sector="steel", step="A", year=2025)
    _set(sector_years, "emissions_mt", lambda v: v + 1, sector="steel", year=2025)
    assert _failures(toy, years, sector_years, steps) == {"simulation_compliance": 1.0}


def test_abatement_within_potential(toy):
    years, sector_years, steps = _tables(toy)
    _set(steps, "abatement_mt", lambda v: v + 1, sector="power", step="A", year=2025)
    _set(sector_years, "emissions_mt", lambda v: v - 1, sector="power", year=2025)
    assert _failures(toy, years, sector_years, steps) == {"abatement_within_potential": 1.0}


def test_emissions_add_up(toy):
    """The rest of the economy reported 0.5 Mt above BAU minus its abatement (which also
    breaks the national target it counts in)."""
    years, sector_years, steps = _tables(toy)
    _set(sector_years, "emissions_mt", lambda v: v + 0.5, sector="rest", year=2027)
    assert _failures(toy, years, sector_years, steps) == {"emissions_add_up": 0.5, "national_target": 0.5}


def test_bank_limits(toy):
    """1 Mt banked in 2026 although banking is off (and taken from 2026's balance)."""
    years, sector_years, steps = _tables(toy)
    _set(years, "bank_mt", 1.0, year=2026)
    assert _failures(toy, years, sector_years, steps) == {"bank_limits": 1.0, "market_balance": 1.0}


def test_bank_left_after_the_last_year(toy_banking):
    years, sector_years, steps = _tables(toy_banking)
    _set(years, "bank_mt", 2.0, year=2027)
    assert _failures(toy_banking, years, sector_years, steps) == {"bank_limits": 2.0, "market_balance": 2.0}


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
    assert failed(report) == ["market_balance (worst violation 1 Mt)", "bank_limits (worst violation 1 Mt)"]


def test_a_failed_check_stops_the_run(monkeypatch):
    """pipeline.solve raises rather than return (or write) a solution that fails a check."""
    import model.results

    def failing(*args):
        return {"hotelling": {"passed": False, "worst_violation": 0.5, "unit": "relative"}}

    monkeypatch.setattr(model.results, "run_checks", failing)
    with pytest.raises(EtscapError) as caught:
        solve(TOY)
    assert str(caught.value) == ("the solution failed verification: hotelling (worst violation 0.5 "
                                 "relative) (please report this with the dataset)")


def _toy_with_registry(folder):
    """The toy with five installations whose free shares follow their emissions."""
    import shutil

    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(
        "facility_id,sector,output,emissions_mt,cost_factor\n"
        "p1,power,,60,1\np2,power,,40,1\ns1,steel,,25,1\ns2,steel,,15,1\ns3,steel,,10,1\n")
    return folder


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
