"""Stage 2: sector caps and free allocation (constraint families as in allocation.py)."""

from __future__ import annotations


import numpy as np
import pytest

from model import InfeasibleError, apply_overrides, build_model, load_dataset, solve
from tests.conftest import TOY, write_dataset


def _covered(results):
    return results.sector_years[results.sector_years["phase"] != "outside"]


def _trading(results):
    return results.sector_years[results.sector_years["phase"] == "trading"]


@pytest.mark.parametrize("which", ["toy_results", "china_results"])
def test_free_share_floor_and_ceiling(which, request):
    """free_share_min x cap <= free <= free_share_max x cap in every trading sector-year."""
    trading = _trading(request.getfixturevalue(which))
    assert (trading["free_mt"] >= trading["free_share_min"] * trading["cap_mt"] - 1e-6).all()
    assert (trading["free_mt"] <= trading["free_share_max"] * trading["cap_mt"] + 1e-6).all()
    assert request.getfixturevalue(which).summary["checks"]["allocation_bounds"]["passed"]


def test_simulation_free_allocation(toy_results):
    """Steel in its 2025 simulation phase receives its whole rule cap free and buys nothing."""
    steel = toy_results.sector_years.set_index(["sector", "year"]).loc[("steel", 2025)]
    assert steel["free_mt"] == pytest.approx(47.0)
    assert steel["burden_bn_cny"] == pytest.approx(0.06)  # its own abatement, 3 Mt at 20


@pytest.mark.parametrize("which", ["toy_results", "china_results"])
def test_caps_sum_to_the_ets_cap(which, request):
    results = request.getfixturevalue(which)
    caps = _covered(results).groupby("year")["cap_mt"].sum()
    assert caps.to_numpy() == pytest.approx(results.years.set_index("year")["ets_cap_mt"].reindex(caps.index).to_numpy())


def test_minimum_auction(china_results):
    years = china_results.years.set_index("year")
    auctioned = 1 - years["free_allocation_mt"] / years["ets_cap_mt"]
    assert (auctioned >= years["min_auction_share"] - 1e-9).all()
    assert auctioned[2040] == pytest.approx(0.30, abs=1e-6) or auctioned[2040] > 0.30


def test_trading_cap_shares(toy_results):
    """Before absolute caps (never, in the toy) trading caps follow BAU with one stringency:
    2026 power 100 and steel 50 Mt BAU share a 107.5 Mt cap 2:1."""
    caps = toy_results.sector_years.set_index(["sector", "year"])["cap_mt"]
    assert caps[("power", 2026)] == pytest.approx(107.5 * 2 / 3)
    assert caps[("steel", 2026)] == pytest.approx(107.5 / 3)


def test_absolute_caps(china_results):
    """Under the absolute cap rule (steel, cement, aluminium from 2027, power from 2030: its
    cap_rules.csv rows) no trading sector's cap rises year on year, and the shares are frozen
    at the BAU of each sector's first absolute year: from 2030 steel's cap stays the multiple
    BAU steel 2027 / BAU power 2030 of power's."""
    covered = china_results.sector_years.query("phase != 'outside' and year >= 2026")
    caps = covered.pivot(index="year", columns="sector", values="cap_mt")
    absolute = covered.pivot(index="year", columns="sector", values="basis") == "absolute"
    trading = covered.pivot(index="year", columns="sector", values="phase") == "trading"
    both_years = absolute & trading.shift(1, fill_value=False)  # absolute this year, trading the year before
    rises = caps.diff().where(both_years).loc[2027:]
    assert (rises.fillna(0) <= 1e-6).all().all()
    assert absolute.loc[2029, "power"] == False and absolute.loc[2030, "power"]  # noqa: E712
    ratio = (caps["steel"] / caps["power"]).loc[2030:]
    bau = china_results.sector_years.set_index(["sector", "year"])["bau_mt"]
    assert ratio.to_numpy() == pytest.approx(np.full(len(ratio), bau[("steel", 2027)] / bau[("power", 2030)]))


def test_stage_2_keeps_stage_1_abatement_and_prices(toy_path):
    """Free allocation changes who pays, not what is abated: with and without stage 2 the
    abatement and prices are the same, and so is the total cost."""
    allocated = solve(toy_path)
    least_cost = solve(toy_path, allocation=False)
    assert allocated.abatement_steps["abatement_mt"].to_numpy() == pytest.approx(
        least_cost.abatement_steps["abatement_mt"].to_numpy())
    assert allocated.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 60])
    assert "free_mt" not in least_cost.sector_years


def test_moving_free_shares_leaves_abatement_and_price_unchanged(toy_path):
    """Forcing power to auction 60% of its cap shifts the burden onto power; what is abated,
    the price and the ETS cap do not move (max_auction_share 1: the targets allow the auction)."""
    base = solve(toy_path)
    shifted = solve(toy_path, overrides={"sectors.power.free_share_max": 0.4, "targets.*.max_auction_share": 1.0})
    assert shifted.abatement_steps["abatement_mt"].to_numpy() == pytest.approx(
        base.abatement_steps["abatement_mt"].to_numpy())
    for column in ("allowance_price_cny_per_t", "ets_cap_mt"):
        assert shifted.years[column].to_numpy() == pytest.approx(base.years[column].to_numpy())
    power = shifted.sector_years.query("sector == 'power'")
    assert (power["free_share"] <= 0.4 + 1e-9).all()
    assert power["burden_bn_cny"].sum() > base.sector_years.query("sector == 'power'")["burden_bn_cny"].sum()


def test_cost_tolerance_bounds_stage_1_cost(toy_path):
    """With a 10% tolerance stage 2 may move abatement, but the cost stays within 10%."""
    results = solve(toy_path, overrides={"allocation.cost_tolerance": 0.1})
    steps = results.abatement_steps
    cost_pv = (steps["abatement_mt"] * steps["cost_cny_per_t"] * 1.1 ** -(steps["year"] - 2025)).sum() / 1e3
    assert cost_pv <= results.summary["objective_bn_cny"] * 1.1 + 1e-9
    assert results.summary["market"]["equilibrium"] is False


def _brute_force_min_max(cap, emissions, abatement_cost, price, value_added, floor, ceiling, auction_min):
    """Smallest achievable largest burden share over every free share on a 1% grid."""
    grid = np.linspace(0, 1, 101)
    shares = np.stack(np.meshgrid(*[grid] * len(cap), indexing="ij"), axis=-1).reshape(-1, len(cap))
    allowed = ((shares >= floor - 1e-12) & (shares <= ceiling + 1e-12)).all(axis=1)
    free = shares * cap
    allowed &= free.sum(axis=1) <= (1 - auction_min) * cap.sum() + 1e-9
    burden_share = (abatement_cost + price * (emissions - free)) / value_added
    return burden_share[allowed].max(axis=1).min()


def test_min_max_burden_is_optimal_by_brute_force(tmp_path):
    """Three trading sectors, one year: the LP's largest burden share equals the smallest
    found by trying every free share on a 1% grid (within the grid's resolution)."""
    folder = write_dataset(
        tmp_path / "case",
        sectors=[
            {"sector": "a", "covered_from": 2025, "base_emissions_mt": 100, "value_added_bn_cny": 50,
             "free_share_min": 0.2, "free_share_max": 0.9},
            {"sector": "b", "covered_from": 2025, "base_emissions_mt": 60, "value_added_bn_cny": 10},
            {"sector": "c", "covered_from": 2025, "base_emissions_mt": 40, "value_added_bn_cny": 80,
             "free_share_min": 0.5},
        ],
        mac=[{"sector": s, "step": "A", "potential_share": 0.3, "cost_cny_per_t": c}
             for s, c in (("a", 20), ("b", 40), ("c", 70))],
        targets=[{"year": 2025, "national_cap_mt": 170, "min_auction_share": 0.3}],
    )
    results = solve(folder)
    table = results.sector_years.set_index("sector")
    price = results.years["allowance_price_cny_per_t"].iloc[0]
    lp_best = table["burden_share_of_value_added"].max()
    value_added = np.array([50e3, 10e3, 80e3])
    brute = _brute_force_min_max(
        table["cap_mt"].to_numpy(), table["emissions_mt"].to_numpy(),
        table["abatement_cost_bn_cny"].to_numpy() * 1e3, price, value_added,
        np.array([0.2, 0.0, 0.5]), np.array([0.9, 1.0, 1.0]), 0.3,
    )
    grid_resolution = 0.01 * price * table["cap_mt"].max() / value_added.min()
    assert brute - grid_resolution <= lp_best <= brute + 1e-12


def test_max_auction_revenue_respects_burden_limit(toy_path):
    results = solve(toy_path, overrides={"allocation.objective": "max_auction_revenue",
                                         "allocation.max_burden_share": 0.025})
    covered = _covered(results)
    assert (covered["burden_share_of_value_added"] <= 0.025 + 1e-9).all()
    revenue = results.years["auction_revenue_bn_cny"].sum()
    default = solve(toy_path).years["auction_revenue_bn_cny"].sum()
    assert revenue >= default - 1e-9


def test_burden_limit_that_cannot_hold_is_named(toy_path):
    """Steel's 2027 burden is at least 0.4 + 60 x (40 - 30) / 1000 = 1.0 bn CNY = 2% of its
    value added even with all of its cap free, so a 1.5% limit fails in 2027."""
    with pytest.raises(InfeasibleError, match="burden_limit fails in 2027"):
        solve(toy_path, overrides={"allocation.objective": "max_auction_revenue",
                                   "allocation.max_burden_share": 0.015})


def test_phase_out_schedule_is_followed(tmp_path, toy_path):
    """An allocation.csv schedule cuts power's free share to at most 0.5 in 2026 and 0 in
    2027 (interpolated from 1 in 2025): the allocation follows it."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    (folder / "allocation.csv").write_text(
        "sector,year,free_share_min,free_share_max,source\n"
        "power,2025,0,1,test\npower,2027,0,0,test\n")
    results = solve(folder, overrides={"targets.*.max_auction_share": 1.0})  # the targets allow the auction
    power = results.sector_years.query("sector == 'power'").set_index("year")
    assert power["free_share_max"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert power.loc[2026, "free_share"] <= 0.5 + 1e-9
    assert power.loc[2027, "free_mt"] == pytest.approx(0.0, abs=1e-7)


def test_leakage_floor_survives_a_phase_out(tmp_path, toy_path):
    """Steel is leakage-exposed with a 0.5 floor: a schedule cannot push it lower."""
    import shutil

    from model import InputError

    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    (folder / "allocation.csv").write_text(
        "sector,year,free_share_min,free_share_max\nsteel,2025,0,1\nsteel,2027,0,0.2\n")
    with pytest.raises(InputError, match="at least the leakage floor 0.5"):
        load_dataset(folder) and solve(folder)


def test_infeasible_allocation_names_rule_and_year(toy_path):
    """Auctioning 80% of the cap is impossible when steel must keep half of its cap free
    in the years it trades."""
    with pytest.raises(InfeasibleError) as caught:
        solve(toy_path, overrides={"targets.*.min_auction_share": 0.9})
    message = str(caught.value)
    assert "minimum_auction fails in 2025, 2026, 2027" in message or "free_share_floor fails in" in message
    assert "min_auction_share" in message


@pytest.mark.parametrize("overrides, message", [
    ({"targets.*.min_auction_share": 0.9},
     "the allocation rules cannot all be met: minimum_auction fails in 2025, 2026, 2027; lower min_auction_share in "
     "targets.csv or the free-share floors of leakage-exposed sectors"),
    ({"allocation.objective": "max_auction_revenue", "allocation.max_burden_share": 0.015},
     "the allocation rules cannot all be met: burden_limit fails in 2027; raise max_burden_share in targets.csv (or "
     "allocation.max_burden_share) or use objective = 'min_max_burden'"),
    ({"targets.*.max_auction_share": 0.1, "sectors.power.free_share_max": 0.3},
     "the allocation rules cannot all be met: maximum_auction fails in 2025, 2026, 2027; raise max_auction_share in "
     "targets.csv (blank means min_auction_share) or free_share_max in sectors.csv or allocation.csv"),
    # two rules broken at once: no single rule's removal makes stage 2 feasible
    ({"targets.*.min_auction_share": 0.9, "allocation.objective": "max_auction_revenue",
      "allocation.max_burden_share": 0.001},
     "the allocation rules cannot all be met together (check free-share bounds in sectors.csv and allocation.csv, "
     "min_auction_share in targets.csv and allocation.max_burden_share)"),
])
def test_infeasible_allocation_message_in_full(toy_path, overrides, message):
    """What a user reads when stage 2 fails: the first rule whose removal makes it feasible,
    the years it fails in and the input to change; or, when no one rule is to blame, the
    inputs to check."""
    with pytest.raises(InfeasibleError) as caught:
        solve(toy_path, overrides=overrides)
    assert str(caught.value) == message


def test_china_2027_and_2030_allocation(china_results):
    """Headline numbers of the closing note: sector caps, free shares, burden shares."""
    table = china_results.sector_years.set_index(["sector", "year"])
    for year in (2027, 2030):
        covered = table.xs(year, level="year").query("phase != 'outside'")
        assert covered["cap_mt"].sum() == pytest.approx(
            china_results.years.set_index("year").loc[year, "ets_cap_mt"])
        assert covered["burden_share_of_value_added"].max() < 0.05


def test_free_share_schedule_is_held_after_its_last_row(tmp_path, toy_path):
    """allocation.csv gives power 0.5 to 0.8 in 2026 only: sectors.csv's 0 to 1 apply in
    2025, before the schedule's first row; 2027, after its last row, keeps 2026's 0.5 to 0.8
    (a phase-out stays out rather than jumping back to sectors.csv's bounds)."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    (folder / "allocation.csv").write_text("sector,year,free_share_min,free_share_max\npower,2026,0.5,0.8\n")
    results = solve(folder, overrides={"targets.*.max_auction_share": 1.0})  # the targets allow the auction
    power = results.sector_years.query("sector == 'power'").set_index("year")
    assert power["free_share_min"].tolist() == pytest.approx([0.0, 0.5, 0.5])
    assert power["free_share_max"].tolist() == pytest.approx([1.0, 0.8, 0.8])
    assert (power.loc[2026:, "free_share"] >= 0.5 - 1e-9).all() and (power.loc[2026:, "free_share"] <= 0.8 + 1e-9).all()


def test_stage2_explanation_and_diagnosis_share_one_elastic_transform(toy_path, monkeypatch):
    """The stage-2 explanation relaxes its rule with ``lp.add_elastic_slack``, as the
    diagnosis does its targets (one elastic transform)."""
    import importlib

    from model import build_model, load_dataset

    allocation, diagnose = importlib.import_module("model.solving.allocation"), importlib.import_module("model.solving.diagnose")
    real = importlib.import_module("model.lp.blocks").add_elastic_slack
    used = []

    def recording(m, name, rows, **kwargs):
        used.append((name, len(rows)))
        return real(m, name, rows, **kwargs)

    monkeypatch.setattr(allocation, "add_elastic_slack", recording)
    monkeypatch.setattr(diagnose, "add_elastic_slack", recording)
    with pytest.raises(InfeasibleError):
        solve(toy_path, overrides={"targets.*.min_auction_share": 0.9})
    assert used and used[0][0] == "allocation_slack"
    m = build_model(load_dataset(toy_path))
    for year in m.years:  # a 100 Mt national cap every year: more than the potential can meet
        m.national_target[year].set_value((None, m.national_target[year].body, 100.0))
    with pytest.raises(InfeasibleError, match="smallest relaxation"):
        solve(m)
    assert used[-1] == ("target_relaxation_mt", 4)  # 3 national caps and steel's 2025 rule cap


def test_nothing_auctioned_beyond_policy(toy_results):
    """The toy's min_auction_share is 0 and max_auction_share blank (= the minimum): the
    tie-break "then auction as much as possible" may not auction anything, so every
    allowance of every year is free (it used to auction 10 Mt in 2026 and 20 Mt in 2027)."""
    years = toy_results.years.set_index("year")
    assert years["max_auction_share"].tolist() == [0.0, 0.0, 0.0]
    assert years["free_allocation_mt"].to_numpy() == pytest.approx(years["ets_cap_mt"].to_numpy())
    assert toy_results.summary["checks"]["allocation_bounds"]["passed"]


def test_auction_within_min_and_max_share(toy_path):
    """min 0.2, max 0.5: the auctioned share of each year's cap is within [0.2, 0.5]; with
    max 0.1 the tie-break stops at 0.1 x 90 = 9 Mt in 2027, below the 20 Mt it would
    auction unbounded."""
    results = solve(toy_path, overrides={"targets.*.min_auction_share": 0.2, "targets.*.max_auction_share": 0.5})
    years = results.years.set_index("year")
    auctioned = years["ets_cap_mt"] - years["free_allocation_mt"]
    assert (auctioned >= 0.2 * years["ets_cap_mt"] - 1e-6).all()
    assert (auctioned <= 0.5 * years["ets_cap_mt"] + 1e-6).all()
    capped = solve(toy_path, overrides={"targets.*.max_auction_share": 0.1}).years.set_index("year")
    auctioned = capped["ets_cap_mt"] - capped["free_allocation_mt"]
    assert auctioned[2027] == pytest.approx(9.0, abs=1e-6)
    assert (auctioned <= 0.1 * capped["ets_cap_mt"] + 1e-6).all()


def test_max_auction_share_below_min_is_refused(tmp_path, toy_path):
    import shutil

    from model import InputError

    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    (folder / "targets.csv").write_text("year,national_cap_mt,min_auction_share,max_auction_share\n"
                                        "2025,170,0.2,0.1\n2027,135,0,\n")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert ("targets.csv, row 2, column max_auction_share: found '0.1', expected at least min_auction_share "
            "(0.2) of the same row, or blank (auction exactly min_auction_share)") in str(caught.value)


def test_china_auctions_nothing_before_2030(china_results):
    years = china_results.years.set_index("year")
    assert years.loc[:2029, "free_allocation_mt"].to_numpy() == pytest.approx(years.loc[:2029, "ets_cap_mt"].to_numpy())
    auctioned = 1 - years["free_allocation_mt"] / years["ets_cap_mt"]
    assert auctioned[2030] == pytest.approx(years.loc[2030, "min_auction_share"], abs=1e-9)


@pytest.mark.parametrize("objective", ["min_max_burden", "max_auction_revenue"])
def test_the_pyomo_route_keeps_the_second_goal_as_the_blocks_route_does(objective):
    """The toy with 10% auctioned: auction revenue 1.47 bn CNY and the largest burden share
    2.0% of value added either way round. Revenue first, the burden comes second and the
    uniform-share goal third: a model from build_model (stage 2 on Pyomo) must hold the
    second goal at its optimum as tightly as the blocks route, the same free allowances."""
    dataset = apply_overrides(load_dataset(TOY), {"targets.*.min_auction_share": 0.1,
                                                  "allocation.objective": objective})
    direct, through_pyomo = solve(dataset, installations=False), solve(build_model(dataset), installations=False)
    for results in (direct, through_pyomo):
        assert results.years["auction_revenue_bn_cny"].sum() == pytest.approx(1.47, abs=1e-9)
        assert results.sector_years["burden_share_of_value_added"].max() == pytest.approx(0.02, abs=1e-9)
    np.testing.assert_allclose(through_pyomo.sector_years["free_mt"], direct.sector_years["free_mt"], atol=1e-6)


def test_verbose_shows_the_solver_log_of_every_solve_of_a_scripts_model(capfd):
    """``solve(build_model(toy), verbose=True)``: HiGHS's log of each of the four solves
    (stage 1, then stage 2's first goal, second goal and the uniform share), each ending
    "Model status : Optimal"; without verbose, none."""
    solve(build_model(load_dataset(TOY)), verbose=True)
    shown = capfd.readouterr().out
    assert shown.count("Model status        : Optimal") == 4
    solve(build_model(load_dataset(TOY)))
    assert "Model status" not in capfd.readouterr().out
