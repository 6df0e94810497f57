"""deployment_limits on the toy: a step's abatement grows by at most its build rate a year
(from 0 in base_year), a group's steps abate at most its max_mt; each case computed by hand.

The toy without limits: prices 40, 40, 60 and a least cost of 3.147024793 bn CNY (power's
step B, 30 Mt at 40, is the margin in 2025 and 2026; steel's B at 60 in 2027)."""

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import EtscapError, load_dataset, solve
from model.results.checks import run_checks
from model.data.overrides import apply_overrides
from tests.conftest import TOY
from tests.families.helpers import rows_of, toy_parameters

POWER_B_BUILD = {"mac.power.B.max_build_mt_per_year": 5}
STEEL_A_BUILD = {"mac.steel.A.max_build_mt_per_year": 2}
# installations in proportion (output and emissions alike): facility resolution = sector resolution
PROPORTIONAL_REGISTRY = ("facility_id,sector,output,emissions_mt,cost_factor\n"
                         "p1,power,60,60,1\np2,power,40,40,1\ns1,steel,12.5,25,1\ns2,steel,7.5,15,1\n"
                         "s3,steel,5,10,1\n")


def prices(results):
    return results.years["allowance_price_cny_per_t"].tolist()


def abated(results, sector, step):
    steps = results.abatement_steps
    chosen = steps[(steps["sector"] == sector) & (steps["step"] == step)]
    return chosen.groupby("year")["abatement_mt"].sum().tolist()


def test_build_rows():
    """power B at 5 Mt/yr: B[2025] <= 5 (base_year = first_year: one year of building),
    B[2026] - B[2025] <= 5, B[2027] - B[2026] <= 5."""
    rows = rows_of(toy_parameters(POWER_B_BUILD), "deployment_limits")
    assert list(rows) == [("max_build", "power.B", 2025), ("max_build", "power.B", 2026),
                          ("max_build", "power.B", 2027)]
    assert [r["upper"] for r in rows.values()] == [5.0, 5.0, 5.0]
    assert rows[("max_build", "power.B", 2026)]["coefs"] == {"abatement_mt[('power', 'B', 2026)]": 1.0,
                                                             "abatement_mt[('power', 'B', 2025)]": -1.0}


def test_no_limits_no_rows_and_nothing_in_the_summary():
    assert rows_of(toy_parameters(), "deployment_limits") == {}
    results = solve(TOY, allocation=False)
    assert "deployment_limits" not in results.summary["market"]
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793, abs=1e-9)


def test_a_build_limit_raises_later_prices_to_the_next_steps_and_prebuilds():
    """power B may grow 5 Mt a year, so at most 5, 10, 15 Mt. 2026 needs 47.5 Mt: A 20,
    steel A 5, rest A 5, B 10, and 7.5 of steel B at 60 (the price); 2027 needs 65: B 15,
    steel B 10, and 10 of rest B at 80 (the price). Every tonne of B in 2025 raises the
    ceilings of 2026 and 2027, worth (60 - 40) x 0.909 + (80 - 40) x 0.826 > 10 more than
    rest A at 30, so B is built to 5 in 2025 and rest A gives only 2: the 2025 price is
    rest A's 30, below B's cost. Cost: 520 + 1,300 / 1.1 + 2,450 / 1.21 million CNY =
    3.726611570 bn CNY."""
    results = solve(TOY, overrides=POWER_B_BUILD, allocation=False)
    assert prices(results) == pytest.approx([30.0, 60.0, 80.0])
    assert abated(results, "power", "B") == pytest.approx([5.0, 10.0, 15.0])
    assert abated(results, "rest", "A") == pytest.approx([2.0, 5.0, 5.0])
    assert results.summary["objective_bn_cny"] == pytest.approx(0.52 + 1.3 / 1.1 + 2.45 / 1.21, abs=1e-9)
    assert [name for name, check in results.summary["checks"].items() if not check["passed"]] == []


def test_a_build_limit_in_first_year_counts_the_years_since_base_year():
    """With base_year 2023 two years of building precede 2025: B[2025] <= 10."""
    rows = rows_of(toy_parameters({**POWER_B_BUILD, "base_year": 2023}), "deployment_limits")
    assert [r["upper"] for r in rows.values()] == [10.0, 5.0, 5.0]


def group_dataset(tmp_path, limits: str):
    """The toy with power B and steel B in group ccs and deployment_limits.csv ``limits``."""
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    mac = (folder / "mac.csv").read_text().splitlines()
    mac = [mac[0] + ",group"] + [line + (",ccs" if line.split(",")[1] == "B" and line.split(",")[0] != "rest"
                                         else ",") for line in mac[1:]]
    (folder / "mac.csv").write_text("\n".join(mac) + "\n")
    (folder / "deployment_limits.csv").write_text("group,year,max_mt,source\n" + limits)
    return folder


def test_a_group_limit_binds(tmp_path):
    """power B + steel B at most 32 Mt a year: 2027 needs 35 of them (B 30, steel B 5), so
    B 30, steel B 2 and 3 Mt of rest B at 80, the price; 2027 costs 60 more (3 x 80 - 3 x 60):
    3.147024793 + 0.06 / 1.21 bn CNY. Steel B at 60 is left spare below the price: its group
    is full, which the equal-marginal-cost check allows."""
    results = solve(group_dataset(tmp_path, "ccs,2025,32,test\n"), allocation=False)
    assert prices(results) == pytest.approx([40.0, 40.0, 80.0])
    assert abated(results, "steel", "B")[-1] == pytest.approx(2.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793 + 0.06 / 1.21, abs=1e-9)
    assert [name for name, check in results.summary["checks"].items() if not check["passed"]] == []


def test_a_group_limit_is_interpolated_and_held(tmp_path):
    """Rows 2024: 0 and 2026: 40 give 20 in 2025 (interpolated) and 40 in 2027 (held)."""
    dataset = load_dataset(group_dataset(tmp_path, "ccs,2024,0,test\nccs,2026,40,test\n"))
    from model.parameters.derive import derive_parameters
    from model.lp.formulation import formulate

    block = next(b for b in formulate(derive_parameters(dataset)).rows if b.name == "deployment_limits")
    assert list(block.keys) == [("max_mt", "ccs", 2025), ("max_mt", "ccs", 2026), ("max_mt", "ccs", 2027)]
    assert block.upper.tolist() == [20.0, 40.0, 40.0]


def test_an_unknown_group_is_refused(tmp_path):
    folder = group_dataset(tmp_path, "cc,2025,32,test\n")
    with pytest.raises(EtscapError, match=r"deployment_limits.csv.*row 2.*group.*'cc'.*mac.csv's group column"):
        load_dataset(folder)


@pytest.fixture(scope="module")
def proportional(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy") / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(PROPORTIONAL_REGISTRY)
    return load_dataset(folder)


@pytest.mark.parametrize("resolution", [{}, {"model.resolution": "facility"},
                                        {"model.resolution": "facility", "model.pool_installations": "false"}],
                         ids=["sector", "facility-pooled", "facility-full-lp"])
def test_a_build_limit_on_a_simulation_sector_at_every_resolution(proportional, resolution):
    """steel A at 2 Mt/yr while steel is in its simulation phase (2025): steel must cut 3 Mt
    on its own, A gives 2, B 1 at 60, its own price; in 2026 A <= 4, so power B gives 1 Mt
    more at 40 instead of steel A's 20. Cost 3.147024793 + 0.04 + 0.02 / 1.1 bn CNY at
    sector resolution and at facility resolution, pooled (the simulation year's closed form
    cannot see the limit, so those columns stay in the LP) or not: every installation's own
    price in 2025 is 60 (20 + the limit's rent of 40)."""
    results = solve(apply_overrides(proportional, {**STEEL_A_BUILD, **resolution}), allocation=False)
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793 + 0.04 + 0.02 / 1.1, abs=1e-9)
    assert abated(results, "steel", "A") == pytest.approx([2.0, 4.0, 5.0])
    own = results.sector_years.set_index(["sector", "year"])["own_price_cny_per_t"]
    assert own[("steel", 2025)] == pytest.approx(60.0)
    assert prices(results) == pytest.approx([40.0, 40.0, 60.0])
    if resolution:
        facilities = results.facilities
        in_2025 = facilities[(facilities["sector"] == "steel") & (facilities["year"] == 2025)]
        assert in_2025["price_cny_per_t"].tolist() == pytest.approx([60.0, 60.0, 60.0])
    assert [name for name, check in results.summary["checks"].items() if not check["passed"]] == []


def test_the_check_fails_a_solution_that_ignores_the_limits():
    """The unlimited toy's steps against power B's 5 Mt/yr: B grows 2, 15.5, 12.5 Mt, so
    2026 is 10.5 Mt over (2, 15.5 and 12.5 against 5, 5, 5)."""
    limited = solve(TOY, overrides=POWER_B_BUILD, allocation=False)
    free = solve(TOY, allocation=False)
    report = run_checks(free.years, free.sector_years, free.abatement_steps, limited.summary["market"])
    assert report["deployment_limits"]["worst_violation"] == pytest.approx(10.5)
    assert not report["deployment_limits"]["passed"]
    assert np.isclose(run_checks(limited.years, limited.sector_years, limited.abatement_steps,
                                 limited.summary["market"])["deployment_limits"]["worst_violation"], 0.0)


def test_stage_2_keeps_the_limits():
    """Stage 2 holds the rows: with a 5% cost tolerance it may move power B's abatement
    within the tolerance, but never grows it by more than 5 Mt a year, and the least cost
    stays 3.726611570 bn CNY."""
    results = solve(TOY, overrides={**POWER_B_BUILD, "allocation.cost_tolerance": 0.05})
    built = abated(results, "power", "B")
    assert np.diff([0.0, *built]).max() <= 5.0 + 1e-6
    assert results.summary["objective_bn_cny"] == pytest.approx(0.52 + 1.3 / 1.1 + 2.45 / 1.21, abs=1e-9)
    assert results.summary["checks"]["deployment_limits"]["passed"]


def test_pair_of_step_by_hand():
    """Rows (power, A), (steel, B), (-, A), (power, -), (cement, A) against the pairs
    (steel, B), (power, A), (cement, A): positions 1, 0, none, none, 2; a second table of
    the same length is looked up afresh (the codes are kept for one table only)."""
    from model.families.deployment_limits import _pair_of_step

    wanted = pd.MultiIndex.from_tuples([("steel", "B"), ("power", "A"), ("cement", "A")])
    steps = pd.DataFrame({"sector": ["power", "steel", None, "power", "cement"],
                          "step": ["A", "B", "A", None, "A"]}, dtype=object)
    assert _pair_of_step(steps, wanted).tolist() == [1, 0, -1, -1, 2]
    other = pd.DataFrame({"sector": ["cement"] * 5, "step": ["A", "B", "A", "A", "A"]}, dtype=object)
    assert _pair_of_step(other, wanted).tolist() == [2, -1, 2, 2, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["power", "steel", None]), st.sampled_from(["A", "B", "C", None])),
                min_size=1, max_size=30),
       st.lists(st.tuples(st.sampled_from(["power", "steel", "cement"]), st.sampled_from(["A", "B", "D"])),
                min_size=1, max_size=5, unique=True))
def test_pair_of_step_equals_multiindex_lookup(rows, pairs):
    """The lookup through the distinct pairs equals pandas' MultiIndex.get_indexer on every row."""
    from model.families.deployment_limits import _pair_of_step

    steps = pd.DataFrame(rows, columns=["sector", "step"], dtype=object)
    wanted = pd.MultiIndex.from_tuples(pairs)
    expected = wanted.get_indexer(pd.MultiIndex.from_arrays([steps["sector"], steps["step"]]))
    assert _pair_of_step(steps, wanted).tolist() == expected.tolist()


def test_steps_limited_without_a_year_in_the_years_table():
    """deployment_limited on a years table cut to no year (a script checking a slice): power B's
    three step-years still have a build rate, none is at a group limit (none is given), and
    nothing is read from the empty years (deployment_limits.deployment_limited_57, the guard on
    an empty years table dropped, survived a mutation run)."""
    from model.families.deployment_limits import deployment_limited

    results = solve(TOY, overrides=POWER_B_BUILD, allocation=False)
    steps = results.abatement_steps
    build_limited, at_limit = deployment_limited(results.years.iloc[:0], steps, results.summary["market"])
    power_b = ((steps["sector"] == "power") & (steps["step"] == "B")).to_numpy()
    assert build_limited.tolist() == power_b.tolist() and power_b.sum() == 3
    assert not at_limit.any() and at_limit.size == len(steps) == 18


def test_year_positions_and_pairs_are_kept_for_one_steps_table_and_one_years_index():
    """Steps in 2026, 2025, 2027: positions 1, 0, 2 among [2025, 2026, 2027], the same array again
    for the same table and years; other years ([2026, 2027]: 0, 0, 1) or another table with the
    same years are looked up afresh. The pairs' codes: the same pair for the same table, the
    other table's own."""
    from model.families.deployment_limits import _step_pairs, _year_of_step

    steps = pd.DataFrame({"sector": ["power", "steel", "power"], "step": ["A", "B", "A"], "year": [2026, 2025, 2027]})
    years = np.array([2025, 2026, 2027])
    first = _year_of_step(years, steps)
    assert first.tolist() == [1, 0, 2] and _year_of_step(years.copy(), steps) is first
    assert _year_of_step(np.array([2026, 2027]), steps).tolist() == [0, 0, 1]
    other = steps.assign(year=[2027, 2027, 2025])
    assert _year_of_step(years, other).tolist() == [2, 2, 0]
    code, pairs = _step_pairs(steps)
    assert code.tolist() == [0, 1, 0] and pairs == [("power", "A"), ("steel", "B")]
    assert _step_pairs(steps)[0] is code and not code.flags.writeable
    assert _step_pairs(other.assign(sector=["steel", "steel", "power"]))[1] == [("steel", "A"), ("steel", "B"),
                                                                               ("power", "A")]


def test_abatement_by_step_sums_rows_of_each_wanted_pair_by_year_and_limits_by_year_fill_gaps():
    """Steps rows (power A 2025: 1), (power A 2025: 2), (steel B 2026: 4), (power A 2027: 8) over
    2025-2027, wanted (steel B), (cement A), (power A): [0, 4, 0], [0, 0, 0], [3, 0, 8]; none
    wanted or no steps: an empty or zero table. A group's limits by year: given for the model's
    years as they are, else NaN in a year without one."""
    from model.families.deployment_limits import _abatement_by_step, _by_year

    years = pd.DataFrame({"year": [2025, 2026, 2027]})
    steps = pd.DataFrame({"sector": ["power", "power", "steel", "power"], "step": ["A", "A", "B", "A"],
                          "year": [2025, 2025, 2026, 2027], "abatement_mt": [1.0, 2.0, 4.0, 8.0]})
    wanted = [("steel", "B"), ("cement", "A"), ("power", "A")]
    assert _abatement_by_step(years, steps, wanted).tolist() == [[0, 4, 0], [0, 0, 0], [3, 0, 8]]
    assert _abatement_by_step(years, steps, []).shape == (0, 3)
    assert _abatement_by_step(years, steps.iloc[:0], wanted).tolist() == [[0, 0, 0]] * 3
    assert _by_year([5, 6, 7], [2025, 2026, 2027], np.array([2025, 2026, 2027])).tolist() == [5.0, 6.0, 7.0]
    gaps = _by_year([5, 7], [2025, 2027], np.array([2025, 2026, 2027]))
    assert gaps[0] == 5 and np.isnan(gaps[1]) and gaps[2] == 7
