"""A study at facility resolution: scenarios re-solved on one kept HiGHS LP equal their own
solves, including the cost of the installations solved in closed form (the objective's
constant, which a re-solve must push into HiGHS like any other number)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from model import apply_overrides, load_dataset, solve
from model.studies.study import sweep
from tests.conftest import TOY

# Steel's free allowances follow output: s1 may emit 10/25 of steel's 2025 rule cap of 47 Mt,
# 18.8 Mt of its 25 Mt BAU, so it must cut 6.2 Mt on its own in the simulation phase; s2
# (16.92 Mt allowed, 15 Mt BAU) and s3 (11.28 allowed, 10 BAU) need not cut.
BINDING_REGISTRY = ("facility_id,sector,output,emissions_mt,cost_factor\n"
                    "p1,power,60,60,1\np2,power,40,40,1\ns1,steel,10,25,1\ns2,steel,9,15,1\ns3,steel,6,10,1\n")
FACILITY = {"model.resolution": "facility"}


@pytest.fixture(scope="module")
def toy_binding_installation(tmp_path_factory):
    """The toy at facility resolution with BINDING_REGISTRY."""
    folder = tmp_path_factory.mktemp("toy") / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(BINDING_REGISTRY)
    return apply_overrides(load_dataset(folder), FACILITY)


def test_facility_resolution_sweep_equals_individual_solves(toy_binding_installation):
    """Steel's step A at 20 and at 30 CNY/t. In 2025 s1 cuts 2.5 Mt on step A (10% of 25 Mt)
    and 3.7 Mt on step B at 60, in closed form: 50 + 222 = 272 million CNY at 20, 75 + 222
    = 297 at 30, so the objective's constant moves by 0.025 bn CNY between the scenarios
    (2025 is undiscounted). Each scenario's objective and tables equal its own solve."""
    study = sweep(toy_binding_installation, {"mac.steel.A.cost_cny_per_t": [20.0, 30.0]})
    assert study.info["reuse_model"] and (study.scenarios["status"] == "optimal").all()
    for scenario, cost in enumerate([20.0, 30.0]):
        single = solve(toy_binding_installation, overrides={"mac.steel.A.cost_cny_per_t": cost}, allocation=False)
        assert study.scenarios.at[scenario, "objective_bn_cny"] == pytest.approx(
            single.summary["objective_bn_cny"], rel=1e-9)
        for name in ("years", "sector_years"):
            rows = getattr(study, name)
            rows = rows[rows["scenario"] == scenario].drop(columns="scenario").reset_index(drop=True)
            pd.testing.assert_frame_equal(rows, getattr(single, name), check_exact=False, rtol=1e-7, atol=1e-6)
        s1 = single.facilities.set_index(["facility_id", "year"]).loc[("s1", 2025)]
        assert s1["abatement_mt"] == pytest.approx(6.2)
        assert s1["price_cny_per_t"] == pytest.approx(60.0)
    objectives = study.scenarios["objective_bn_cny"].to_numpy()
    assert objectives == pytest.approx([3.3590248, 3.4708017], abs=1e-7)


def test_a_sweep_of_a_cap_rule_equals_individual_solves(tmp_path):
    """Steel's 2025 simulation rule from cap_rules.csv at reduction 0.06 and 0.1: its rule cap
    is 47 or 45 Mt, of which s1 may emit 10/25 (18.8 or 18 Mt of its 25 Mt BAU): it cuts 6.2
    or 7 Mt on its own. The kept installations (closed form) must follow a change of cap_rules.csv
    alone: each scenario equals its own solve, and a solve after the study is not given the
    study's installations (it failed facility_compliance by 2 Mt when they were kept by the
    sector and registry tables only)."""
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(BINDING_REGISTRY)
    (folder / "cap_rules.csv").write_text("sector,from_year,basis,reduction,benchmark_t_per_unit,source\n"
                                          "steel,2025,simulation,0.06,,x\nsteel,2026,intensity,,,x\n")
    dataset = apply_overrides(load_dataset(folder), FACILITY)
    key = "cap_rules.steel.2025.reduction"
    study = sweep(dataset, {key: [0.06, 0.1]})
    for scenario, (reduction, cut) in enumerate([(0.06, 6.2), (0.1, 7.0)]):
        single = solve(dataset, overrides={key: reduction}, allocation=False)
        assert study.scenarios.at[scenario, "objective_bn_cny"] == pytest.approx(
            single.summary["objective_bn_cny"], rel=1e-9)
        assert single.facilities.set_index(["facility_id", "year"]).at[("s1", 2025), "abatement_mt"] == (
            pytest.approx(cut))
    assert study.scenarios["objective_bn_cny"].tolist() == pytest.approx([3.359024793, 3.327024793])


def test_an_installation_that_cannot_meet_its_rule_cap_is_named(tmp_path):
    """Reduction 0.2: steel's rule cap 40 Mt, s1 may emit 16 of its 25 Mt and must cut 9,
    but its steps hold 10% + 20% of 25 = 7.5 Mt: refused, naming s1, the year and both numbers."""
    from model.errors import InfeasibleError

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(BINDING_REGISTRY)
    dataset = apply_overrides(load_dataset(folder), FACILITY)
    with pytest.raises(InfeasibleError) as refused:
        solve(dataset, overrides={"sectors.steel.simulation_reduction": 0.2}, allocation=False)
    assert str(refused.value).startswith(
        "installations in their simulation phase cannot meet their share of the rule cap on their own: "
        "s1 in 2025: needs 9 Mt, can abate 7.5 Mt (lower the sector's simulation reduction")


def test_a_simulation_sector_outside_the_registry_keeps_its_own_price(tmp_path):
    """At facility resolution, rest (covered and simulating in 2025, no installation in the
    registry) meets its own rule cap as a sector: 12% of its 50 Mt, 6 Mt, on its step A (5 Mt
    at 30) and 1 Mt of B at 80 CNY/t, so its own price is 80; steel's is its installations'
    mean weighted by BAU: s1's 60 x 25 Mt, s2 and s3 at 0, over 50 Mt, 30 CNY/t."""
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(BINDING_REGISTRY)
    dataset = apply_overrides(load_dataset(folder), {**FACILITY, "sectors.rest.covered_from": 2025,
                                                     "sectors.rest.trading_from": 2026,
                                                     "sectors.rest.simulation_reduction": 0.12})
    rows = solve(dataset, allocation=False).sector_years.set_index(["sector", "year"])
    assert rows.at[("rest", 2025), "phase"] == "simulation"
    assert rows.at[("rest", 2025), "own_price_cny_per_t"] == pytest.approx(80.0)
    assert rows.at[("rest", 2025), "emissions_mt"] == pytest.approx(44.0)
    assert rows.at[("steel", 2025), "own_price_cny_per_t"] == pytest.approx(30.0)


def test_a_resolver_warm_started_from_the_last_scenario_pushes_the_closed_form_cost(toy_binding_installation):
    """A script's Resolver re-solving steel's step A at 20, then 30, then 20 CNY/t from the last
    scenario's basis (``start="previous"``, the default: only the numbers that differ are pushed
    into HiGHS): the closed-form installations' cost is the objective's constant, 272 then
    297 million CNY in 2025, so each objective is its own solve's (3.3590248, 3.4708017 bn CNY)
    and not the one before's constant with this scenario's LP."""
    from model.solving.resolve import Resolver

    resolver = Resolver(toy_binding_installation, installations=False)
    for cost, expected in [(20.0, 3.3590248), (30.0, 3.4708017), (20.0, 3.3590248)]:
        scenario = apply_overrides(toy_binding_installation, {"mac.steel.A.cost_cny_per_t": cost})
        assert resolver.solve(scenario).summary["objective_bn_cny"] == pytest.approx(expected, abs=1e-7)
    assert resolver.solves == 3
