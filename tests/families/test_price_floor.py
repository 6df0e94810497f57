"""price_floor on the toy, with the ETS cap fixed at 127.5 Mt a year, the national cap out of
the way (1,000 Mt) and 10% of the cap auctioned (12.75 Mt a year may go unsold).

Without a floor: in 2025 only power trades (BAU 100); steel is in its simulation phase with
a rule cap of 47 (BAU 50 x 0.94), so power's cap is 127.5 - 47 = 80.5 and it abates 19.5 of
its step A (10 CNY/t): price 10. In 2026-27 power and steel trade (BAU 150) and abate 22.5:
power's A (20) and 2.5 of steel's A (20 CNY/t): price 20. Power's B costs 40, steel's B 60.

With a floor of 30: the market uses every step cheaper than 30: power's A in 2025 (emits 80,
0.5 of its 80.5 unsold), power's and steel's A in 2026-27 (emit 125, 2.5 unsold); the price
is the floor. Cost (million CNY, PV at 10%): 2025 power 20 x 10 + steel's simulation 3 x 20 =
260; 2026-27 each 20 x 10 + 5 x 20 = 300, so 260 + 300/1.1 + 300/1.21 = 780.661 (without
the floor: 255 + 250/1.1 + 250/1.21 = 688.884)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import build_model, load_dataset, solve
from model.errors import EtscapError, InputError
from model.data.overrides import apply_overrides
from tests.conftest import TOY
from tests.families.helpers import discount, toy_parameters

FIXED_CAP = {"targets.*.national_cap_mt": 1000, "targets.*.ets_cap_mt": 127.5, "targets.*.min_auction_share": 0.1}


def with_floor(floor_2025, floor_2027="same", reserve=None, **overrides):
    """The toy with FIXED_CAP (and ``overrides``) and a floor in 2025 and 2027 (2026 between
    them; a blank 2027 leaves 2026 without one), and ``reserve`` as its reserve.csv if given
    (in the same change: unsold_to = "reserve" is refused with a floor and no reserve)."""
    dataset = apply_overrides(load_dataset(TOY), {**FIXED_CAP, **overrides})
    floor_2027 = floor_2025 if floor_2027 == "same" else floor_2027
    tables = {} if reserve is None else {"reserve": reserve}
    return dataset.replace(targets=dataset.targets.assign(price_floor_cny_per_t=[floor_2025, floor_2027]), **tables)


def tier_from(year):
    """A reserve tier offering 5 Mt a year at 15 CNY/t from ``year``."""
    return pd.DataFrame({"year": [year], "tier": ["A"], "trigger_price_cny_per_t": [15.0], "volume_mt": [5.0],
                         "source": ["test"]})


def failed(results):
    return [name for name, check in results.summary["checks"].items() if not check["passed"]]


def by_year(results):
    return results.years.set_index("year")


def test_a_floor_above_the_market_price_withdraws_the_surplus_at_the_floor():
    results = solve(with_floor(30.0))
    year = by_year(results)
    assert year["allowance_price_cny_per_t"].tolist() == pytest.approx([30.0, 30.0, 30.0])
    assert year["withdrawn_mt"].tolist() == pytest.approx([0.5, 2.5, 2.5])
    assert year["ets_emissions_mt"].tolist() == pytest.approx([127.0, 125.0, 125.0])
    assert year["withdrawal_limit_mt"].tolist() == pytest.approx([12.75, 12.75, 12.75])
    assert year["below_floor"].tolist() == [False, False, False]
    # the trading sectors' steps cheaper than 30 used in full, none dearer (steel simulates in 2025)
    steps = results.abatement_steps
    steps = steps[(steps["sector"] == "power") | ((steps["sector"] == "steel") & (steps["year"] >= 2026))]
    used = steps[steps["cost_cny_per_t"] < 30]
    assert (used["abatement_mt"] - used["potential_mt"]).abs().max() == pytest.approx(0.0, abs=1e-9)
    assert steps.loc[steps["cost_cny_per_t"] > 30, "abatement_mt"].abs().max() == pytest.approx(0.0, abs=1e-9)
    # the objective is the cost of the steps used, never the device term (-30 x 5.5 Mt)
    assert results.summary["objective_bn_cny"] == pytest.approx((260 + 300 * discount(2026) + 300 * discount(2027))
                                                                / 1e3, abs=1e-12)
    # unsold allowances earn nothing: 2025 auctions 12.75, sells 12.25 at 30
    assert year.loc[2025, "auction_revenue_bn_cny"] == pytest.approx(12.25 * 30 / 1e3)
    assert failed(results) == []


def test_the_objective_is_the_cost_of_the_steps_used():
    """objective = sum over steps of abatement x cost x discount factor (the steps table)."""
    results = solve(with_floor(30.0), allocation=False)
    steps = results.abatement_steps
    cost = (steps["abatement_mt"] * steps["cost_cny_per_t"] * discount(steps["year"].to_numpy())).sum()
    assert results.summary["objective_bn_cny"] == pytest.approx(cost / 1e3, abs=1e-12)


def test_a_floor_below_the_market_price_changes_nothing():
    """A floor of 5 (prices 10, 20, 20) withdraws nothing: objective and prices as without one."""
    without = solve(apply_overrides(load_dataset(TOY), FIXED_CAP))
    results = solve(with_floor(5.0))
    assert by_year(results)["withdrawn_mt"].tolist() == [0.0, 0.0, 0.0]
    assert results.summary["objective_bn_cny"] == pytest.approx(without.summary["objective_bn_cny"], abs=1e-9)
    for column in ("allowance_price_cny_per_t", "national_carbon_value_cny_per_t"):
        assert results.years[column].to_numpy() == pytest.approx(without.years[column].to_numpy(), abs=1e-9)
    assert results.sector_years["free_mt"].fillna(-1).to_numpy() == pytest.approx(
        without.sector_years["free_mt"].fillna(-1).to_numpy(), abs=1e-9)


def test_too_little_auctioned_volume_leaves_the_price_below_the_floor():
    """1% auctioned: 1.275 Mt may go unsold. 2025 needs 0.5 (price 30); 2026-27 need 2.5, so
    all 1.275 go unsold, the ETS emits 126.225 and abates 23.775 = power's 20 + 3.775 of
    steel's A: the price stays at 20, reported below the floor. Cost 260 + 275.5/1.1 + 275.5/1.21."""
    results = solve(with_floor(30.0, **{"targets.*.min_auction_share": 0.01}))
    year = by_year(results)
    assert year["withdrawn_mt"].tolist() == pytest.approx([0.5, 1.275, 1.275])
    assert year["allowance_price_cny_per_t"].tolist() == pytest.approx([30.0, 20.0, 20.0])
    assert year["below_floor"].tolist() == [False, True, True]
    assert year["ets_emissions_mt"].tolist() == pytest.approx([127.0, 126.225, 126.225])
    assert results.summary["objective_bn_cny"] == pytest.approx(
        (260 + 275.5 * discount(2026) + 275.5 * discount(2027)) / 1e3, abs=1e-12)
    assert year.loc[2026, "auction_revenue_bn_cny"] == pytest.approx(0.0, abs=1e-12)  # all of it unsold
    assert failed(results) == []


@pytest.mark.parametrize("floor, withdrawn, banked, price_2025", [
    (12.0, 0.0, 0.5, 20 / 1.1),  # floor below the discounted 2026 price: the surplus is banked
    (20.0, 0.5, 0.0, 20.0),  # above it: withdrawn, worth more unsold at the floor than banked
])
def test_with_banking_the_floor_is_compared_with_the_discounted_later_price(floor, withdrawn, banked, price_2025):
    """Banking at 10%, a floor in 2025 only. Power's surplus of 0.5 in 2025 (it abates its
    step A at 10) can be banked for 2026, where it sells at 20, worth 20/1.1 = 18.18 today, or
    go unsold at the floor. At 12 it is banked (2026 then abates 22: price 20, cost 260 +
    240/1.1 + 250/1.21 = 684.79); at 20 it goes unsold (2026 abates 22.5: cost 260 + 250/1.1 +
    250/1.21 = 693.88), the 2025 price is the floor and nothing is banked."""
    results = solve(with_floor(floor, None, **{"market.banking": True}))
    year = by_year(results)
    assert year.loc[2025, "withdrawn_mt"] == pytest.approx(withdrawn)
    assert year.loc[2025, "bank_mt"] == pytest.approx(banked)
    assert year["allowance_price_cny_per_t"].tolist() == pytest.approx([price_2025, 20.0, 20.0])
    assert year["price_floor_cny_per_t"].isna().tolist() == [False, True, True]
    cost_2026 = 240 if banked else 250
    assert results.summary["objective_bn_cny"] == pytest.approx(
        (260 + cost_2026 * discount(2026) + 250 * discount(2027)) / 1e3, abs=1e-12)
    assert failed(results) == []


@pytest.mark.parametrize("route", ["blocks", "pyomo"])
def test_caps_chosen_by_the_model_are_not_inflated_for_a_gain(route):
    """The toy as it is (caps chosen under the national target: prices 40, 40, 60) with a
    floor of 50 and 10% auctioned. Pass 1 chooses the same caps as without the floor (125,
    107.5, 90); the market then leaves 10% of them unsold in 2025-26 (12.5, 10.75: the bound,
    so the price stays below the floor), emitting less than the caps. On either route: the
    numpy blocks straight to HiGHS, or a model from build_model through Pyomo's compiler
    (which holds the caps by their compiled columns; tests/test_blocks.py has the hand case
    where holding them decides the answer)."""
    dataset = apply_overrides(load_dataset(TOY), {"targets.*.min_auction_share": 0.1})
    without = solve(dataset)
    floored = dataset.replace(targets=dataset.targets.assign(price_floor_cny_per_t=[50.0, 50.0]))
    results = solve(floored if route == "blocks" else build_model(floored))
    year = by_year(results)
    assert year["ets_cap_mt"].tolist() == pytest.approx(without.years["ets_cap_mt"].tolist())
    assert year["withdrawn_mt"].tolist() == pytest.approx([12.5, 10.75, 0.0])
    assert year["below_floor"].tolist() == [True, True, False]
    assert year["ets_emissions_mt"].tolist() == pytest.approx([112.5, 96.75, 90.0])
    assert results.summary["objective_bn_cny"] > without.summary["objective_bn_cny"]
    assert failed(results) == []


def test_unsold_allowances_into_a_reserve_without_a_pool_limit():
    """A reserve whose yearly volume alone limits it (5 Mt at 15 from 2026, no initial_mt):
    unsold allowances entering it change nothing. With the floor of 30 in 2025 only, 2025
    leaves 0.5 unsold; 2026-27 would clear at 20 without releases and at 10 with all 5, so the
    reserve releases 2.5: the ETS abates power's A (20) alone and the price is the trigger, 15."""
    dataset = with_floor(30.0, None, reserve=tier_from(2026), **{"market.unsold_to": "reserve"})
    results = solve(dataset)
    year = by_year(results)
    assert year["withdrawn_mt"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert year["reserve_released_mt"].tolist() == pytest.approx([0.0, 2.5, 2.5])
    assert year["allowance_price_cny_per_t"].tolist() == pytest.approx([30.0, 15.0, 15.0])
    assert failed(results) == []
    with pytest.raises(InputError, match="scenario.toml, column market.unsold_to: found 'reserve'.*initial_mt"):
        dataset.replace(settings={**dataset.settings, "market.reserve.initial_mt": 10.0})


def test_unsold_to_reserve_without_a_reserve_is_refused():
    """No reserve.csv, or one whose only tier starts in 2030, after the toy's last year (2027):
    refused when the dataset is made (as validate does), before any solve."""
    with pytest.raises(InputError, match="market.unsold_to: found 'reserve', expected cancel, or a reserve"):
        with_floor(30.0, **{"market.unsold_to": "reserve"})
    with pytest.raises(InputError, match="market.unsold_to: found 'reserve', expected cancel, or a reserve"):
        with_floor(30.0, reserve=tier_from(2030), **{"market.unsold_to": "reserve"})
    assert with_floor(30.0, reserve=tier_from(2027), **{"market.unsold_to": "reserve"}).reserve["year"].tolist() == [2027]


def test_the_solve_refuses_unsold_to_reserve_without_a_reserve_too():
    """A dataset that skipped the load's checks (made in Python) is still refused by the solve's own
    check, with the same problem: no tier offers in a market year (2025-2027)."""
    import dataclasses

    dataset = with_floor(30.0)
    unchecked = dataclasses.replace(dataset, settings={**dataset.settings, "market.unsold_to": "reserve"})
    with pytest.raises(InputError, match="market.unsold_to: found 'reserve', expected cancel, or a reserve"):
        solve(unchecked)


def test_validate_refuses_unsold_to_reserve_naming_the_file_the_key_and_the_fix(tmp_path):
    """`validate` reads the rule's own check (declared with its inputs): a toy copy with a floor
    of 30 in 2025 and unsold_to = "reserve" but no reserve.csv fails with exit code 2 and the
    problem at scenario.toml's key; with unsold_to = "cancel" it is valid."""
    import shutil

    from click.testing import CliRunner

    from model.cli import cli

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    targets = pd.read_csv(folder / "targets.csv", dtype=str, keep_default_na=False)
    targets.insert(len(targets.columns) - 1, "price_floor_cny_per_t", ["30", ""])
    targets.to_csv(folder / "targets.csv", index=False)
    for unsold_to, code in (("reserve", 2), ("cancel", 0)):
        text = (TOY / "scenario.toml").read_text().replace("[market]\n", f'[market]\nunsold_to = "{unsold_to}"\n')
        (folder / "scenario.toml").write_text(text)
        result = CliRunner().invoke(cli, ["validate", str(folder)])
        assert result.exit_code == code, result.output
    (folder / "scenario.toml").write_text((TOY / "scenario.toml").read_text().replace(
        "[market]\n", '[market]\nunsold_to = "reserve"\n'))
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert "scenario.toml, column market.unsold_to: found 'reserve', expected cancel, or a reserve (reserve.csv)" \
        in result.output


def test_a_model_a_script_changed_solves_the_floor_the_same_way():
    """The Pyomo route (a model from build_model) runs the same two passes: the same answer
    as the dataset's; a script's constraint counts: power's 2026 emissions <= 79 (1 Mt of its
    step B at 40), steel still uses all its A (cheaper than 30), so the ETS emits 124 and
    127.5 - 124 = 3.5 go unsold."""
    import pyomo.environ as pyo

    from model.lp.formulation import build_model

    direct = solve(with_floor(30.0))
    pyomo_route = solve(build_model(with_floor(30.0)))
    assert pyomo_route.summary["objective_bn_cny"] == pytest.approx(direct.summary["objective_bn_cny"], abs=1e-9)
    for column in ("withdrawn_mt", "allowance_price_cny_per_t"):
        assert pyomo_route.years[column].to_numpy() == pytest.approx(direct.years[column].to_numpy(), abs=1e-9)
    m = build_model(with_floor(30.0))
    m.power_2026 = pyo.Constraint(expr=m.emissions_mt["power", 2026] <= 79)
    scripted = by_year(solve(m))
    assert scripted.loc[2026, "withdrawn_mt"] == pytest.approx(3.5)
    assert scripted.loc[2026, "ets_emissions_mt"] == pytest.approx(124.0)


def test_a_sweep_of_the_floor_re_solves():
    """The Resolver (studies' re-solve) gives the same answer as a solve for floors in any order."""
    from model.parameters.derive import derive_parameters
    from model.solving.resolve import Resolver

    resolver = Resolver(derive_parameters(with_floor(30.0)))
    for floor in (30.0, 5.0, 25.0, 30.0):
        fast = resolver.solve(derive_parameters(with_floor(floor)))
        slow = solve(with_floor(floor), allocation=False)
        assert fast.summary["objective_bn_cny"] == pytest.approx(slow.summary["objective_bn_cny"], abs=1e-9)
        assert fast.years["withdrawn_mt"].to_numpy() == pytest.approx(slow.years["withdrawn_mt"].to_numpy(), abs=1e-9)
        assert fast.years["allowance_price_cny_per_t"].to_numpy() == pytest.approx(
            slow.years["allowance_price_cny_per_t"].to_numpy(), abs=1e-9)
    assert by_year(fast).loc[2026, "withdrawn_mt"] == pytest.approx(2.5)


def test_without_a_floor_no_variable_no_rows_no_column():
    from model.families import price_floor

    p = toy_parameters()
    assert price_floor.FAMILY.variables(p) == []
    assert price_floor.FAMILY.market_pass(p) is None
    assert len(price_floor.FAMILY.rows(p, None).keys) == 0
    assert "withdrawn_mt" not in solve(TOY, allocation=False).years


def test_the_check_fails_a_price_below_the_floor_with_volume_left():
    """A price of 24 under a floor of 30 while 0.5 of 12.75 Mt went unsold: 20% below it;
    withdrawals at a price of 33 above the floor: 10% over."""
    from model.families.price_floor import price_floor_check

    results = solve(with_floor(30.0), allocation=False)
    assert price_floor_check(results.years, results.sector_years, results.abatement_steps, {}) == pytest.approx(
        0.0, abs=1e-9)
    below = results.years.assign(allowance_price_cny_per_t=[24.0, 30.0, 30.0])
    assert price_floor_check(below, results.sector_years, results.abatement_steps, {}) == pytest.approx(0.2)
    above = results.years.assign(allowance_price_cny_per_t=[33.0, 30.0, 30.0])
    assert price_floor_check(above, results.sector_years, results.abatement_steps, {}) == pytest.approx(0.1)
    too_much = results.years.assign(withdrawn_mt=[0.5, 2.5, 13.75])  # 1 Mt over 12.75
    assert price_floor_check(too_much, results.sector_years, results.abatement_steps, {}) == pytest.approx(1 / 12.75)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(floor=st.floats(0.0, 100.0), later=st.one_of(st.none(), st.floats(0.0, 100.0)),
       share=st.sampled_from([0.0, 0.01, 0.1]), banking=st.booleans())
def test_the_price_is_at_least_the_floor_or_withdrawals_are_at_their_bound(floor, later, share, banking):
    """Random floors (2025, and 2027 or none), auctioned shares and banking: in every year
    with a floor the price is at least it or all the auctioned volume went unsold, and never
    more than that volume; every check passes."""
    dataset = with_floor(floor, later, **{"targets.*.min_auction_share": share, "market.banking": banking})
    results = solve(dataset, allocation=False)
    year = results.years
    price, withdrawn = year["allowance_price_cny_per_t"].to_numpy(), year["withdrawn_mt"].to_numpy()
    bound, floors = year["withdrawal_limit_mt"].to_numpy(), year["price_floor_cny_per_t"].to_numpy()
    has_floor = np.isfinite(floors)
    assert has_floor[0] and has_floor[1:].tolist() == [later is not None] * 2
    floors = np.nan_to_num(floors)
    assert np.all(~has_floor | (price >= floors - 1e-6 * np.maximum(1.0, floors)) | (withdrawn >= bound - 1e-6))
    assert np.all(has_floor | (withdrawn == 0.0))
    assert np.all(withdrawn <= bound + 1e-6)
    assert failed(results) == []


def test_a_rule_solved_as_a_mip_is_refused_with_a_floor():
    """A sales-linked bank limit fixes each sector's regime in pass 1; pass 2 would not follow it."""
    overrides = {"market.banking": True, "sectors.power.bank_limit_base_mt": 0,
                 "sectors.power.bank_limit_sales_factor": 0.2}
    with pytest.raises(EtscapError, match="MIP"):
        solve(with_floor(30.0, **overrides), allocation=False)


def test_stage2_within_a_cost_tolerance_keeps_the_withdrawals():
    """With allocation.cost_tolerance > 0 stage 2 may move abatement, but not the market's
    withdrawals: they stay as pass 2 left them (0.5, 2.5, 2.5)."""
    results = solve(with_floor(30.0, **{"allocation.cost_tolerance": 0.01}))
    assert by_year(results)["withdrawn_mt"].tolist() == pytest.approx([0.5, 2.5, 2.5])
    assert failed(results) == []


def test_the_supply_chart_draws_the_withdrawals_below_zero():
    from model.report.plots import plot_supply_by_source
    from tests.test_supply_report import bar_heights

    heights = bar_heights(plot_supply_by_source(solve(with_floor(30.0), allocation=False)))
    assert heights["Withdrawn (unsold at the floor)"] == pytest.approx([-0.5, -2.5, -2.5])
    assert heights["Cap (allowances issued)"] == pytest.approx([127.5, 127.5, 127.5])


def test_the_floor_from_the_command_line(tmp_path):
    """`solve --set` gives the toy a floor of 30 (a column its targets.csv does not have)."""
    from click.testing import CliRunner

    from model.cli import cli

    out = tmp_path / "floor"
    sets = [f"{key}={value}" for key, value in {**FIXED_CAP, "targets.*.price_floor_cny_per_t": 30}.items()]
    result = CliRunner().invoke(cli, ["solve", str(TOY), "--out", str(out), *[a for s in sets for a in ("--set", s)]])
    assert result.exit_code == 0, result.output
    years = pd.read_csv(out / "years.csv")
    assert years["withdrawn_mt"].tolist() == pytest.approx([0.5, 2.5, 2.5])
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([30.0, 30.0, 30.0])
    assert years["below_floor"].tolist() == [False, False, False]


def test_on_the_default_dataset_a_floor_below_the_price_changes_nothing():
    """China's dataset (no floor of its own) with a floor of 10 CNY/t from 2045, where the
    price is above 100: nothing goes unsold, and cost and prices are as without it."""
    from tests.conftest import ROOT

    dataset = load_dataset(ROOT / "inputs" / "china")
    without = solve(dataset, allocation=False)
    floor = np.where(dataset.targets["year"] >= 2045, 10.0, np.nan)
    results = solve(dataset.replace(targets=dataset.targets.assign(price_floor_cny_per_t=floor)), allocation=False)
    assert results.years["withdrawn_mt"].abs().max() == 0.0
    assert results.summary["objective_bn_cny"] == pytest.approx(without.summary["objective_bn_cny"], abs=1e-9)
    for column in ("allowance_price_cny_per_t", "national_carbon_value_cny_per_t"):
        assert results.years[column].to_numpy() == pytest.approx(without.years[column].to_numpy(), abs=1e-9,
                                                                  nan_ok=True)


def test_the_floor_check_by_hand_at_each_clause():
    """A years table of three years, floor 0.5 (scaled by 1, not by 0.5), 50 and none:
    - 2025: price 0.4 below the 0.5 floor with room to withdraw: (0.5 - 0.4) / 1 = 0.1;
    - 2026: 2 Mt withdrawn at 55 above the 50 floor: (55 - 50) / 50 = 0.1; bound 2 Mt, met;
    - 2027: no floor, 0.3 Mt withdrawn: 0.3.
    Withdrawals within 1e-5 Mt of their bound leave no room (a price below the floor is then
    fine), and above it count relative to the volume (1 Mt at least); negative ones count."""
    import numpy as np
    import pandas as pd

    from model.families.price_floor import price_floor_check

    def check(**columns):
        years = pd.DataFrame({"year": [2025], "price_floor_cny_per_t": [50.0], "allowance_price_cny_per_t": [50.0],
                              "withdrawn_mt": [0.0], "withdrawal_limit_mt": [2.0]}).assign(**columns)
        return price_floor_check(years, None, None, {})

    assert check(price_floor_cny_per_t=[0.5], allowance_price_cny_per_t=[0.4]) == pytest.approx(0.1)
    assert check(withdrawn_mt=[2.0], allowance_price_cny_per_t=[55.0]) == pytest.approx(0.1)
    assert check(price_floor_cny_per_t=[np.nan], withdrawn_mt=[0.3]) == pytest.approx(0.3)
    assert check(withdrawn_mt=[2.0 - 5e-6], allowance_price_cny_per_t=[40.0]) == 0.0  # at its bound: no room
    assert check(withdrawn_mt=[2.0 - 2e-5], allowance_price_cny_per_t=[40.0]) == pytest.approx(0.2)
    assert check(withdrawn_mt=[3.0]) == pytest.approx(0.5)  # 1 Mt over a 2 Mt volume
    assert check(withdrawn_mt=[0.5], withdrawal_limit_mt=[0.0]) == pytest.approx(0.5)  # volume at least 1
    assert check(withdrawn_mt=[-0.25], allowance_price_cny_per_t=[60.0]) == pytest.approx(0.25)
    assert check(withdrawn_mt=[5e-6], allowance_price_cny_per_t=[60.0]) == 0.0  # not withdrawing: any price
    assert price_floor_check(pd.DataFrame({"year": [2025]}), None, None, {}) == 0.0



def test_a_resolver_whose_second_pass_failed_solves_the_next_scenario_afresh(monkeypatch):
    """A market pass that fails (a time limit, say) leaves pass 2's LP in HiGHS: the caps held
    at the failed scenario's values, the withdrawals freed at their device cost. The next
    re-solve from the previous basis must not push its numbers into that LP. The toy with the
    caps chosen by the model and a floor of 50 (10% auctioned); after its pass 2 fails, the same
    toy with every national cap 5% lower must choose its own, lower caps, as solved alone."""
    from model.parameters.derive import derive_parameters
    from model.solving import highs
    from model.solving.resolve import Resolver

    def floored(national_cap_factor):
        dataset = apply_overrides(load_dataset(TOY), {"targets.*.min_auction_share": 0.1,
                                                      "targets.*.national_cap_mt*": national_cap_factor})
        return dataset.replace(targets=dataset.targets.assign(price_floor_cny_per_t=[50.0, 50.0]))

    resolver = Resolver(derive_parameters(floored(1.0)))
    passes = []

    def second_pass_fails(h, name):
        passes.append(name)
        raise EtscapError(f"model {name!r}: the time limit was reached")

    with monkeypatch.context() as patched:
        patched.setattr(highs, "raise_unless_optimal", second_pass_fails)
        with pytest.raises(EtscapError, match="time limit"):
            resolver.solve(derive_parameters(floored(1.0)))
    assert len(passes) == 1
    after = resolver.solve(derive_parameters(floored(0.95)), start="previous")
    alone = solve(floored(0.95), allocation=False)
    assert by_year(alone)["ets_cap_mt"].to_numpy() == pytest.approx(
        0.95 * by_year(solve(floored(1.0), allocation=False))["ets_cap_mt"].to_numpy(), rel=0.1)
    assert by_year(after)["ets_cap_mt"].to_numpy() == pytest.approx(by_year(alone)["ets_cap_mt"].to_numpy(), abs=1e-9)
    assert after.summary["objective_bn_cny"] == pytest.approx(alone.summary["objective_bn_cny"], abs=1e-12)
    assert by_year(after)["withdrawn_mt"].to_numpy() == pytest.approx(by_year(alone)["withdrawn_mt"].to_numpy(),
                                                                      abs=1e-9)
