"""Stage-1 LP: one test per constraint family (same names as in formulation.py), plus
hand-computed cases: merit order, equal marginal costs, Hotelling under banking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from model import InfeasibleError, build_model, load_dataset, solve
from tests.conftest import write_dataset

TOY_PV_COST_BN = (490 + 1150 / 1.1 + 1950 / 1.21) / 1e3  # inputs/toy/README.md


def _by_year(results, column):
    return results.years.set_index("year")[column]


def _cell(results, sector, year, column):
    table = results.sector_years.set_index(["sector", "year"])
    return table.loc[(sector, year), column]


# -- the toy case, solved by hand in inputs/toy/README.md ---------------------------------


def test_toy_matches_hand_solution(toy_results):
    assert toy_results.summary["objective_bn_cny"] == pytest.approx(TOY_PV_COST_BN, rel=1e-9)
    assert _by_year(toy_results, "allowance_price_cny_per_t").tolist() == pytest.approx([40, 40, 60])
    assert _by_year(toy_results, "abatement_cost_bn_cny").tolist() == pytest.approx([0.49, 1.15, 1.95])
    steps = toy_results.abatement_steps.set_index(["sector", "step", "year"])["abatement_mt"]
    assert steps[("power", "B", 2025)] == pytest.approx(2.0)
    assert steps[("power", "B", 2026)] == pytest.approx(17.5)
    assert steps[("steel", "B", 2027)] == pytest.approx(5.0)
    assert steps[("rest", "B", 2027)] == pytest.approx(0.0)


def test_national_target(toy_results):
    """Allowances issued plus outside emissions equal the cap when it binds; its dual,
    the national carbon value, equals the allowance price when the ETS cap is chosen."""
    years = toy_results.years.set_index("year")
    outside = toy_results.sector_years.query("phase == 'outside'").groupby("year")["emissions_mt"].sum()
    assert (years["ets_cap_mt"] + outside).tolist() == pytest.approx([170, 152.5, 135])
    assert years["national_carbon_value_cny_per_t"].tolist() == pytest.approx([40, 40, 60])


def test_cap_split(toy_results):
    covered = toy_results.sector_years.query("phase != 'outside'").groupby("year")["cap_mt"].sum()
    assert covered.tolist() == pytest.approx(_by_year(toy_results, "ets_cap_mt").tolist())
    assert _by_year(toy_results, "ets_cap_mt").tolist() == pytest.approx([125, 107.5, 90])


def test_simulation_rule_cap(toy_results):
    """Steel in its 2025 simulation phase gets (1 - 0.06) x 50 Mt, no more, no less."""
    assert _cell(toy_results, "steel", 2025, "phase") == "simulation"
    assert _cell(toy_results, "steel", 2025, "cap_mt") == pytest.approx(47.0)


def test_simulation_compliance(toy_results):
    """Steel meets its own cap with its own cheapest step: own price 20, not the market's 40."""
    assert _cell(toy_results, "steel", 2025, "emissions_mt") == pytest.approx(47.0)
    assert _cell(toy_results, "steel", 2025, "own_price_cny_per_t") == pytest.approx(20.0)
    assert _by_year(toy_results, "allowance_price_cny_per_t")[2025] == pytest.approx(40.0)
    assert np.isnan(_cell(toy_results, "steel", 2026, "own_price_cny_per_t"))


def test_market_balance(toy_results):
    """Trading emissions use up the trading caps exactly (no banking in the toy)."""
    trading = toy_results.sector_years.query("phase == 'trading'").groupby("year")
    assert trading["emissions_mt"].sum().tolist() == pytest.approx(trading["cap_mt"].sum().tolist())
    assert trading["emissions_mt"].sum().tolist() == pytest.approx([78, 107.5, 90])


def test_abatement_cost(toy_results):
    """The objective is the discounted sum of step cost x abatement (million CNY / 1000)."""
    steps = toy_results.abatement_steps
    discount = 1.1 ** -(steps["year"] - 2025)
    assert (steps["abatement_mt"] * steps["cost_cny_per_t"] * discount).sum() / 1e3 == pytest.approx(
        toy_results.summary["objective_bn_cny"]
    )


# -- analytic cases ---------------------------------------------------------------------


def _one_sector(tmp_path, national_cap, steps, banking=False, years=(2025,), **kwargs):
    return write_dataset(
        tmp_path / "case",
        first_year=years[0], last_year=years[-1], banking=banking,
        sectors=[{"sector": "power", "covered_from": years[0], "base_emissions_mt": 100}],
        mac=[{"sector": "power", "step": f"S{i}", "potential_share": share, "cost_cny_per_t": cost}
             for i, (share, cost) in enumerate(steps)],
        targets=[{"year": y, "national_cap_mt": cap} for y, cap in zip(years, national_cap)],
        **kwargs,
    )


def test_merit_order_price_is_cost_of_partly_used_step(tmp_path):
    """Abate 15 Mt from steps 10@10, 10@30, 10@50: price 30, cost 10x10 + 5x30."""
    results = solve(_one_sector(tmp_path, [85], [(0.1, 10), (0.1, 30), (0.1, 50)]))
    used = results.abatement_steps["abatement_mt"].tolist()
    assert used == pytest.approx([10, 5, 0])
    assert results.years["allowance_price_cny_per_t"].iloc[0] == pytest.approx(30.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(0.25)
    assert results.sector_years["marginal_cost_cny_per_t"].iloc[0] == pytest.approx(30.0)


def test_loose_target_gives_zero_price(tmp_path):
    results = solve(_one_sector(tmp_path, [120], [(0.1, 10)]))
    assert results.years["allowance_price_cny_per_t"].iloc[0] == 0.0
    assert results.summary["objective_bn_cny"] == 0.0


def _power_and_rest(tmp_path, mac, targets):
    """Power trading from 2025 (100 Mt BAU) and a rest of the economy outside (50 Mt)."""
    return write_dataset(
        tmp_path / "case",
        sectors=[
            {"sector": "power", "covered_from": 2025, "base_emissions_mt": 100},
            {"sector": "rest", "base_emissions_mt": 50},
        ],
        mac=[{"sector": sector, "step": step, "potential_share": share, "cost_cny_per_t": cost}
             for sector, step, share, cost in mac],
        targets=targets,
    )


def test_ets_price_equals_non_ets_marginal_cost_when_cap_chosen(tmp_path):
    """With the ETS cap left to the model, the cut goes where it is cheapest: here the
    marginal step is outside the ETS (rest B at 35), and the allowance price equals it."""
    folder = _power_and_rest(
        tmp_path, [("power", "A", 0.2, 10), ("power", "B", 0.3, 40), ("rest", "A", 0.1, 30), ("rest", "B", 0.4, 35)],
        [{"year": 2025, "national_cap_mt": 110}])
    results = solve(folder)
    years = results.years.iloc[0]
    assert years["allowance_price_cny_per_t"] == pytest.approx(35.0)
    assert years["national_carbon_value_cny_per_t"] == pytest.approx(35.0)
    assert years["ets_cap_mt"] == pytest.approx(80.0)  # power abates only its 10 CNY/t step
    assert _cell(results, "rest", 2025, "abatement_mt") == pytest.approx(20.0)


def test_fixed_ets_cap_separates_allowance_price_from_national_value(tmp_path):
    """Fixing the ETS cap at 90 Mt leaves power's price at its 10 CNY/t step while the
    rest of the economy carries the remaining cut at 35 CNY/t."""
    folder = _power_and_rest(
        tmp_path, [("power", "A", 0.2, 10), ("rest", "A", 0.1, 30), ("rest", "B", 0.4, 35)],
        [{"year": 2025, "national_cap_mt": 120, "ets_cap_mt": 90}])
    years = solve(folder).years.iloc[0]
    assert years["ets_cap_mt"] == pytest.approx(90.0)
    assert years["allowance_price_cny_per_t"] == pytest.approx(10.0)
    assert years["national_carbon_value_cny_per_t"] == pytest.approx(35.0)


def test_hotelling_price_path_under_banking(tmp_path):
    """Cheap step A (10% at 10) in every year, dear step B (80% at 100) in 2027's deep cut.
    Banking A's surplus from 2025-26 makes B marginal in 2027 at 100, so the price is
    100 / 1.1^2 and 100 / 1.1 before it, and 5 then 10 Mt sit in the bank."""
    folder = _one_sector(tmp_path, [95, 95, 60], [(0.1, 10), (0.8, 100)], banking=True,
                         years=(2025, 2026, 2027))
    results = solve(folder)
    years = results.years.set_index("year")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([100 / 1.21, 100 / 1.1, 100])
    assert years["bank_mt"].tolist() == pytest.approx([5, 10, 0])
    price = years["allowance_price_cny_per_t"].to_numpy()
    assert price[1:] / price[:-1] == pytest.approx([1.1, 1.1])
    assert results.summary["checks"]["hotelling"]["passed"]


def test_banking_off_keeps_years_apart(tmp_path):
    folder = _one_sector(tmp_path, [95, 95, 60], [(0.1, 10), (0.8, 100)], years=(2025, 2026, 2027))
    years = solve(folder).years.set_index("year")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([10, 10, 100])
    assert years["bank_mt"].tolist() == [0, 0, 0]


def test_initial_bank_is_spent(tmp_path):
    """An initial bank of 5 Mt covers part of the 2025 cut: only 10 Mt must be abated."""
    folder = _one_sector(tmp_path, [85], [(0.1, 10), (0.1, 30)], initial_bank_mt=5.0)
    results = solve(folder)
    assert results.years["abatement_mt"].iloc[0] == pytest.approx(10.0)
    assert results.years["allowance_price_cny_per_t"].iloc[0] == pytest.approx(10.0)


def test_infeasible_target_raises(tmp_path):
    folder = _one_sector(tmp_path, [50], [(0.1, 10), (0.1, 30)])
    with pytest.raises(InfeasibleError, match="infeasible"):
        solve(folder)


# -- the model as a public object ----------------------------------------------------------


def test_script_adds_its_own_constraint(toy_path):
    """A script caps the rest of the economy's 2025 emissions at 40 Mt: it must abate 10,
    the extra cut lets power abate less, and the new row's dual is in m.dual."""
    m = build_model(load_dataset(toy_path))
    m.rest_limit = pyo.Constraint(expr=m.emissions_mt["rest", 2025] <= 40)
    results = solve(m)
    assert _cell(results, "rest", 2025, "emissions_mt") == pytest.approx(40.0)
    assert _cell(results, "power", 2025, "abatement_mt") == pytest.approx(17.0)
    # rest B (80 CNY/t) is now used: its dual is 80 - 10 (power's A step becomes marginal)
    assert -m.dual[m.rest_limit] == pytest.approx(80 - 10)
    assert pyo.value(m.emissions_mt["rest", 2025]) == pytest.approx(40.0)


def test_components_have_domain_names(toy_path):
    m = build_model(load_dataset(toy_path))
    for name in ("national_target", "cap_split", "simulation_rule_cap", "simulation_compliance",
                 "market_balance", "abatement_mt", "ets_cap_mt", "sector_cap_mt", "emissions_mt"):
        assert m.find_component(name) is not None, name
    assert ("steel", 2025) in m.simulation_compliance
    assert 2027 in m.market_balance


def test_no_two_rows_state_the_same_thing(china_path):
    """No row of the compiled LP is a multiple of another: duals are never split."""
    m = build_model(load_dataset(china_path))
    compiled = LinearStandardFormCompiler().write(m, mixed_form=True)
    matrix = compiled.A.tocsr()
    seen = set()
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        values = matrix.data[start:end]
        key = (tuple(matrix.indices[start:end]), tuple(np.round(values / values[0], 12)))
        assert key not in seen, compiled.rows[i].constraint.name
        seen.add(key)


def test_abatement_bounds_are_step_potentials(china_path):
    """One abatement variable per available (sector, step, year), bounded by its potential."""
    dataset = load_dataset(china_path)
    m = build_model(dataset)
    assert len(m.abatement_mt) == len(m.parameters.steps)
    potential = pd.Series([v.ub for v in m.abatement_mt.values()])
    assert potential.to_numpy() == pytest.approx(m.parameters.steps["potential_mt"].to_numpy())


# -- absolute caps ---------------------------------------------------------------------------


def _power_flat_steel_growing(tmp_path):
    """Power (100 Mt, flat) and steel (50 Mt in 2025, output +10%/yr) trade from 2025;
    absolute caps from 2027; national caps 145, 140, then loose (1,000) in 2027-28."""
    return write_dataset(
        tmp_path / "case", first_year=2025, last_year=2028,
        sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100},
                 {"sector": "steel", "covered_from": 2025, "base_emissions_mt": 50, "output_growth": 0.1}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.1, "cost_cny_per_t": 10},
             {"sector": "power", "step": "B", "potential_share": 0.1, "cost_cny_per_t": 50},
             {"sector": "steel", "step": "A", "potential_share": 0.1, "cost_cny_per_t": 20},
             {"sector": "steel", "step": "B", "potential_share": 0.5, "cost_cny_per_t": 80}],
        targets=[{"year": 2025, "national_cap_mt": 145}, {"year": 2026, "national_cap_mt": 140},
                 {"year": 2027, "national_cap_mt": 1000}, {"year": 2028, "national_cap_mt": 1000}],
        extra_settings={"allocation": {"absolute_cap_from": 2027}},
    )


def test_absolute_cap_incumbents_bounds_every_sector_in_the_first_absolute_year(tmp_path):
    """BAU: power 100 throughout; steel 50, 55, 60.5, 66.55. Shares follow the year's BAU
    until 2026 (power 100/155, steel 55/155 of 140 Mt: 90.32 and 49.68) and are frozen at
    2027's BAU from then on (100/160.5 and 60.5/160.5). Steel's cap may not rise in 2027:
    T27 x 60.5/160.5 <= 140 x 55/155, so T27 <= 140 k with k = 55 x 160.5 / (155 x 60.5)
    = 0.941349 (power's row allows 140 x 160.5/155, more): T27 = T28 = 131.7889 Mt. (The sum
    alone, T27 <= 140, would let steel's cap rise to 140 x 60.5/160.5 = 52.77 Mt.)

    Abatement by merit order (power A 10% at 10, steel A 10% at 20, power B 10% at 50, steel
    B 50% at 80): 2025 5 Mt (power A: price 10); 2026 15 Mt (power A 10, steel A 5: price
    20); 2027 160.5 - 131.7889 = 28.7111 Mt (power A and B 20, steel A 6.05, steel B 2.6611:
    price 80); 2028 34.7611 Mt (steel B 8.1111: price 80). 2026's national carbon value is
    20 plus what one more Mt in 2026 is worth through the bound on 2027 and 2028:
    20 + 80 k (1/1.1 + 1/1.21) = 150.6997. PV cost (bn CNY): [50 + 200/1.1
    + (100 + 121 + 500 + 80 x 2.6611)/1.21 + (100 + 133.1 + 500 + 80 x 8.1111)/1.331] / 1e3."""
    results = solve(_power_flat_steel_growing(tmp_path))
    k = 55 * 160.5 / (155 * 60.5)
    capped = 140 * k
    steel_b = [160.5 - capped - 26.05, 166.55 - capped - 26.655]
    expected_cost = (50 + 200 / 1.1 + (100 + 121 + 500 + 80 * steel_b[0]) / 1.21
                     + (100 + 133.1 + 500 + 80 * steel_b[1]) / 1.331) / 1e3
    years = results.years.set_index("year")
    assert years["ets_cap_mt"].tolist() == pytest.approx([145, 140, capped, capped], rel=1e-9)
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([10, 20, 80, 80], rel=1e-9)
    assert years["national_carbon_value_cny_per_t"].tolist() == pytest.approx(
        [10, 20 + 80 * k * (1 / 1.1 + 1 / 1.21), 0, 0], rel=1e-9, abs=1e-9)
    assert results.summary["objective_bn_cny"] == pytest.approx(expected_cost, rel=1e-9)
    caps = results.sector_years.pivot(index="year", columns="sector", values="cap_mt")
    assert caps.loc[2026:, "steel"].tolist() == pytest.approx([140 * 55 / 155] * 3, rel=1e-9)
    assert caps.loc[2026:, "power"].tolist() == pytest.approx(
        [140 * 100 / 155, capped * 100 / 160.5, capped * 100 / 160.5], rel=1e-9)
    assert (caps.loc[2027:].to_numpy() - caps.loc[2026:2027].to_numpy() <= 1e-9).all()  # no cap rises


def test_absolute_cap_incumbents_has_a_row_per_sector_and_year(tmp_path):
    m = build_model(load_dataset(_power_flat_steel_growing(tmp_path)))
    assert list(m.absolute_cap_incumbents.keys()) == [("power", 2027), ("power", 2028),
                                                     ("steel", 2027), ("steel", 2028)]


def test_trading_cap_shares_frozen_before_the_horizon_starts(tmp_path):
    """absolute_cap_from 2027 with the horizon starting in 2028: the shares are still frozen at
    2027's BAU (power 100, steel 50 x 1.1^2 = 60.5), as when the horizon starts in 2025, not at
    2028's (66.55): where the horizon starts does not change the cap rule."""
    from model import apply_overrides, derive_parameters

    dataset = load_dataset(_power_flat_steel_growing(tmp_path))
    late = apply_overrides(dataset, {"base_year": 2025, "first_year": 2028})
    shares = derive_parameters(late).sector_years["cap_share"]
    assert shares[("power", 2028)] == pytest.approx(100 / 160.5, rel=1e-12)
    assert shares[("steel", 2028)] == pytest.approx(60.5 / 160.5, rel=1e-12)
    full = derive_parameters(dataset).sector_years["cap_share"]
    assert shares.to_numpy() == pytest.approx(full.loc[shares.index].to_numpy(), rel=1e-12)


def test_a_rule_without_rows_still_says_what_it_is():
    """On the toy (no offsets.csv, reserve or bank limits) those families write no row, yet a
    script's model names each in words, as with rows: offsets' doc is its rule, the default
    dataset's (which has offsets) the same."""
    from model.lp.formulation import formulate
    from model.parameters.derive import derive_parameters
    from tests.conftest import CHINA, TOY

    empty = {block.name: block for block in formulate(derive_parameters(load_dataset(TOY))).rows}
    assert len(empty["offsets"].keys) == 0
    assert [name for name, block in empty.items() if not block.doc.strip()] == []
    with_rows = {block.name: block for block in formulate(derive_parameters(load_dataset(CHINA))).rows}
    assert len(with_rows["offsets"].keys) > 0
    assert empty["offsets"].doc == with_rows["offsets"].doc == (
        "offsets used - offset_limit_share x trading emissions <= 0 (Mt)")
    assert build_model(load_dataset(TOY)).offsets.doc == empty["offsets"].doc


def test_every_row_and_variable_of_the_default_model_says_what_it_is():
    """A script reading the model (``m.offsets.doc``, the LP's blocks) finds each of the 17
    constraint families, 9 variable blocks and the objective described in words: a doc that
    is a non-empty string, the same on the blocks and the Pyomo model."""
    from model.lp.formulation import formulate
    from model.parameters.derive import derive_parameters
    from tests.conftest import CHINA

    dataset = load_dataset(CHINA)
    lp = formulate(derive_parameters(dataset))
    docs = {block.name: block.doc for block in lp.rows} | {name: block.doc for name, block in lp.variables.items()}
    assert len(lp.rows) == 17 and len(lp.variables) == 9
    assert [name for name, doc in docs.items() if not (isinstance(doc, str) and doc.strip())] == []
    m = build_model(dataset)
    components = [*m.component_objects(pyo.Constraint), *m.component_objects(pyo.Var),
                  *m.component_objects(pyo.Objective)]
    assert len(components) == 27
    assert [c.name for c in components if not (isinstance(c.doc, str) and c.doc.strip())] == []
    assert {c.name: c.doc for c in components if c.name in docs} == docs
