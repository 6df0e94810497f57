"""Facility resolution: installations abate on their own steps and, in the simulation
phase, meet their own share of the rule cap; pooling merges what can be merged exactly."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from model import InfeasibleError, apply_overrides, derive_parameters, load_dataset, solve
from model.cli import cli
from model.data.registry import make_registry
from tests import conftest
from tests.conftest import CHINA

FACILITY = {"model.resolution": "facility"}
UNPOOLED = {"model.resolution": "facility", "model.pool_installations": False}


@pytest.fixture(scope="module")
def toy_with_registry(tmp_path_factory):
    """The toy with five installations whose free shares follow their emissions (no output,
    no benchmarks) and whose costs are their sector's: no installation binds on its own."""
    return load_dataset(conftest.toy_with_registry(tmp_path_factory.mktemp("toy") / "toy"))


def _sector_numbers(results):
    years = results.years[["allowance_price_cny_per_t", "national_carbon_value_cny_per_t", "ets_cap_mt"]]
    sectors = results.sector_years[["emissions_mt", "abatement_mt", "cap_mt", "own_price_cny_per_t"]]
    return years.to_numpy(dtype=float), sectors.to_numpy(dtype=float), results.summary["objective_bn_cny"]


def test_facility_resolution_sums_to_sector_resolution(toy_with_registry):
    """When installations do not bind individually the sector results are the same."""
    by_sector = _sector_numbers(solve(toy_with_registry))
    by_installation = solve(apply_overrides(toy_with_registry, FACILITY))
    ours = _sector_numbers(by_installation)
    assert ours[0] == pytest.approx(by_sector[0], nan_ok=True)
    assert ours[1] == pytest.approx(by_sector[1], nan_ok=True)
    assert ours[2] == pytest.approx(by_sector[2], rel=1e-9)
    installations = by_installation.facilities.set_index(["facility_id", "year"])
    assert installations.loc[("s1", 2025), "abatement_mt"] == pytest.approx(3.0 * 25 / 50)
    assert installations.loc[("s1", 2025), "price_cny_per_t"] == pytest.approx(20.0)  # steel's own price


def test_installation_that_cannot_meet_its_cap(tmp_path, toy_with_registry):
    """s1 given 5% of steel's rule cap would need to cut 22.65 Mt of its 25, with 7.5 Mt of
    potential: the closed form says which installation, which year, how short."""
    folder = tmp_path / "short"
    shutil.copytree(toy_with_registry.path, folder)
    (folder / "facilities.csv").write_text(
        "facility_id,sector,output,emissions_mt,cost_factor\n"
        "p1,power,60,60,1\np2,power,40,40,1\ns1,steel,1,25,1\ns2,steel,10,15,1\ns3,steel,9,10,1\n")
    with pytest.raises(InfeasibleError, match="s1 in 2025: needs 22.65 Mt, can abate 7.5 Mt"):
        solve(load_dataset(folder), overrides=FACILITY)


@pytest.mark.parametrize("overrides", [FACILITY, UNPOOLED], ids=["closed_form", "lp_rows"])
def test_facility_compliance(tmp_path, toy_with_registry, overrides):
    """With s1 allowed only 40% of steel's rule cap in 2025 (output shares), it must cut
    25 - 0.4 x 47 = 6.2 Mt itself: 2.5 Mt on step A (10% of its 25 Mt at 20) and 3.7 Mt on
    step B at 60, so its own price is 60 while s2 and s3 cut little at 20."""
    folder = tmp_path / "binding"
    shutil.copytree(toy_with_registry.path, folder)
    (folder / "facilities.csv").write_text(
        "facility_id,sector,output,emissions_mt,cost_factor\n"
        "p1,power,60,60,1\np2,power,40,40,1\ns1,steel,10,25,1\ns2,steel,9,15,1\ns3,steel,6,10,1\n")
    results = solve(load_dataset(folder), overrides=overrides)
    installations = results.facilities.set_index(["facility_id", "year"])
    s1 = installations.loc[("s1", 2025)]
    assert s1["free_mt"] == pytest.approx(0.4 * 47)
    assert s1["emissions_mt"] == pytest.approx(0.4 * 47)
    assert s1["price_cny_per_t"] == pytest.approx(60.0)
    # s2 may emit 0.36 x 47 = 16.9 Mt > its 15 Mt BAU: no cut, no own price
    assert installations.loc[("s2", 2025), "price_cny_per_t"] == pytest.approx(0.0)
    assert installations.loc[("s2", 2025), "abatement_mt"] == pytest.approx(0.0)
    assert results.summary["checks"]["facility_compliance"]["passed"]
    assert results.summary["checks"]["equal_marginal_cost"]["passed"]


@pytest.fixture(scope="module")
def small_china(tmp_path_factory):
    """The default dataset with a registry of about 200 installations in five cost classes."""
    china = load_dataset(CHINA)
    registry = make_registry(china, seed=5, scale=0.03)
    folder = tmp_path_factory.mktemp("china") / "china"
    shutil.copytree(CHINA, folder)
    registry.to_csv(folder / "facilities.csv", index=False)
    return load_dataset(folder)


@pytest.fixture(scope="module")
def small_china_unlimited(small_china):
    """small_china without deployment limits: the simulation years are solved in closed form."""
    from model.data.inputs import empty_table
    from model.data import schema

    mac = small_china.mac.assign(max_build_mt_per_year=np.nan, group="")
    return small_china.replace(mac=mac, deployment_limits=empty_table(schema.DEPLOYMENT_LIMITS))


def test_pooling_with_deployment_limits_solves_the_simulation_years_outside_the_lp(small_china):
    """The default's CCUS limits cover chemicals and petrochemicals, which simulate in
    2027-28, but every installation's 2% cut is within its efficiency steps (5% of its BAU,
    cheaper than its CCUS step): no limited step is used, so all simulation years are in
    closed form (installations.closed_form_steps), pools merge the rest, and the optimum
    and prices equal the unpooled LP's."""
    pooled_parameters = derive_parameters(apply_overrides(small_china, FACILITY))
    assert pooled_parameters.presolved is not None and pooled_parameters.pooled_members is not None
    assert [c.name for c in pooled_parameters.abatement] == ["abatement_mt", "pooled_abatement_mt"]
    pooled = solve(pooled_parameters.dataset, allocation=False)
    full = solve(apply_overrides(small_china, UNPOOLED), allocation=False)
    assert pooled.summary["objective_bn_cny"] == pytest.approx(full.summary["objective_bn_cny"], rel=1e-7)
    assert pooled.years["allowance_price_cny_per_t"].to_numpy() == pytest.approx(
        full.years["allowance_price_cny_per_t"].to_numpy(), rel=1e-7, abs=1e-6)
    assert pooled.summary["checks"]["deployment_limits"]["passed"]


def test_pooling_gives_the_same_optimum(small_china_unlimited):
    """Merging the steps of installations that face no constraint of their own, and solving
    those in their simulation phase in closed form, changes neither the objective nor any
    price, and shrinks the LP."""
    small_china = small_china_unlimited
    pooled_parameters = derive_parameters(apply_overrides(small_china, FACILITY))
    full_parameters = derive_parameters(apply_overrides(small_china, UNPOOLED))
    pooled_columns = sum(len(c) for c in pooled_parameters.abatement)
    full_columns = sum(len(c) for c in full_parameters.abatement)
    assert pooled_columns < full_columns / 3
    pooled = solve(pooled_parameters.dataset, allocation=False)
    full = solve(full_parameters.dataset, allocation=False)
    assert pooled.summary["objective_bn_cny"] == pytest.approx(full.summary["objective_bn_cny"], rel=1e-7)
    for column in ("allowance_price_cny_per_t", "national_carbon_value_cny_per_t"):
        assert pooled.years[column].to_numpy() == pytest.approx(full.years[column].to_numpy(), rel=1e-7, abs=1e-6)
    # steps of equal cost in different sectors may share the cut differently (equally cheap)
    assert pooled.years["emissions_mt"].to_numpy() == pytest.approx(full.years["emissions_mt"].to_numpy(), rel=1e-7)
    # the closed form's steps by pool (sector, step, cost path, year, own price), not by installation
    by_pool = sum(len(columns) for columns, _, _ in pooled_parameters.presolved.by_pool)
    assert len(pooled.abatement_steps) == pooled_columns + by_pool
    assert by_pool < len(pooled_parameters.presolved.columns) / 3
    # simulation-phase installations: the closed form gives the LP's own cut and own price
    simulation = "phase == 'simulation'"
    closed_form = pooled.facilities.query(simulation).set_index(["facility_id", "year"])
    by_lp = full.facilities.query(simulation).set_index(["facility_id", "year"]).loc[closed_form.index]
    assert closed_form["emissions_mt"].to_numpy() == pytest.approx(by_lp["emissions_mt"].to_numpy(), rel=1e-7)
    assert closed_form["price_cny_per_t"].to_numpy() == pytest.approx(by_lp["price_cny_per_t"].to_numpy(), abs=1e-6)


def test_installation_abatement_adds_up(small_china):
    results = solve(small_china, overrides=FACILITY)
    by_sector_year = results.facilities.groupby(["sector", "year"])[["abatement_mt", "free_mt"]].sum()
    sectors = results.sector_years.set_index(["sector", "year"]).loc[by_sector_year.index]
    assert by_sector_year["abatement_mt"].to_numpy() == pytest.approx(sectors["abatement_mt"].to_numpy(), rel=1e-7)
    assert by_sector_year["free_mt"].to_numpy() == pytest.approx(sectors["free_mt"].to_numpy(), rel=1e-7)
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_cli_resolution_flag(tmp_path, toy_with_registry):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "solve", str(toy_with_registry.path), "--resolution", "facility",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "facility_years.parquet")
    assert set(table["facility_id"]) == {"p1", "p2", "s1", "s2", "s3"}
    assert np.allclose(table.groupby("year")["emissions_mt"].sum().to_numpy(),
                       pd.read_csv(out / "years.csv")["ets_emissions_mt"].to_numpy())


def test_cost_paths_by_hand():
    """Three installation steps of power's step a: two at cost 10 (one path), one at 12;
    and one of b at 5 (rows b 5, a 12, a 10, a 10). Sorted (sector, step, cost):
    (power, a, 10) path 0 (pool 0), (power, a, 12) path 1 (pool 1), (power, b, 5) path 2
    (pool 0 of b)."""
    from model.parameters.installations import _cost_paths

    steps = pd.DataFrame({"sector": ["power", "power", "power", "power"], "step": ["b", "a", "a", "a"],
                          "base_cost": [5.0, 12.0, 10.0, 10.0], "cost_change": [0.0] * 4,
                          "available_from": [-np.inf] * 4})
    path_id, paths, pool, first = _cost_paths(steps, list(steps.columns))
    assert path_id.tolist() == [2, 1, 0, 0]
    assert first.tolist() == [2, 1, 0]  # (a, 10) first at row 2, (a, 12) at row 1, (b, 5) at row 0
    assert paths["step"].tolist() == ["a", "a", "b"] and paths["base_cost"].tolist() == [10.0, 12.0, 5.0]
    assert pool.tolist() == [0, 1, 0]


def test_cost_paths_split_where_a_later_number_differs():
    """Rows 0 and 1 share (power, a, cost 10) but not the cost change (0 and 0.01: an own
    step): two paths, as pandas' groupby gives; row 2 repeats row 0's path."""
    from model.parameters.installations import _cost_paths

    steps = pd.DataFrame({"sector": ["power"] * 3, "step": ["a"] * 3, "base_cost": [10.0, 10.0, 10.0],
                          "cost_change": [0.0, 0.01, 0.0], "available_from": [-np.inf] * 3})
    path_id, paths, pool, first = _cost_paths(steps, list(steps.columns))
    assert path_id.tolist() == [0, 1, 0]
    assert paths["cost_change"].tolist() == [0.0, 0.01] and pool.tolist() == [0, 1] and first.tolist() == [0, 1]


def test_cost_paths_of_codes_past_int64_are_numbered():
    """Text ranks up to 2**40 (a registry's codes as given) with three distinct costs: the
    mixed-radix number would need 2**40 x 2**40 x 3 values, past int64; the tuple so far is
    renumbered first (before: an AssertionError). Paths in sorted order: (0, 2**40, 1.0),
    (0, 2**40, 2.0), (2**40, 0, 3.0)."""
    from model.parameters.installations import _cost_paths

    big = 2**40
    steps = pd.DataFrame({"sector_rank": [big, 0, 0, big], "step_rank": [0, big, big, 0],
                          "sector": ["s", "r", "r", "s"], "step": ["a", "b", "b", "a"],
                          "base_cost": [3.0, 2.0, 1.0, 3.0], "cost_change": [0.0] * 4, "available_from": [2030.0] * 4})
    path_id, paths, pool, first = _cost_paths(steps, ["sector", "step", "base_cost", "cost_change", "available_from"])
    assert path_id.tolist() == [2, 1, 0, 2]
    assert first.tolist() == [2, 1, 0] and paths["base_cost"].tolist() == [1.0, 2.0, 3.0] and pool.tolist() == [0, 1, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["steel", "power", "cement"]), st.sampled_from(["s1", "s2", "t"]),
                          st.sampled_from([1.0, 2.5, 3.0]), st.sampled_from([0.0, -0.0, -0.01]),
                          st.sampled_from([-np.inf, 2030.0])), min_size=1, max_size=40))
def test_cost_paths_equal_pandas_groupby(rows):
    """The integer-code cost paths are pandas' groupby(sort=True).ngroup() numbering, the
    distinct key rows in that order and their cumcount within (sector, step)."""
    from model.parameters.installations import _cost_paths

    key = ["sector", "step", "base_cost", "cost_change", "available_from"]
    steps = pd.DataFrame(rows, columns=key)
    path_id, paths, pool, first = _cost_paths(steps, key)
    expected = steps[key].drop_duplicates().sort_values(key, ignore_index=True)
    assert path_id.tolist() == steps.groupby(key, sort=True).ngroup().tolist()
    pd.testing.assert_frame_equal(paths, expected)
    assert pool.tolist() == expected.groupby(["sector", "step"]).cumcount().tolist()
    assert first.tolist() == np.unique(path_id, return_index=True)[1].tolist()


def test_installation_steps_inherited_and_own(tmp_path):
    """The toy's installations with cost factors (s2 x2, s3 x0.5) and s1 with its own two
    steps (facility_mac.csv, listed Z then A): rows by installation, then step name;
    inherited costs are the sector's x the factor (steel A 20, B 60: s2 40 and 120, s3 10
    and 30), own steps keep their own costs and years (Z 5 from 2030, A 7 from any year)."""
    from model.parameters.installations import _installation_steps

    folder = conftest.toy_with_registry(tmp_path / "toy", conftest.FIVE_INSTALLATIONS_WITH_OUTPUT)
    (folder / "facility_mac.csv").write_text("facility_id,step,potential_share,cost_cny_per_t,available_from,"
                                             "cost_change\ns1,Z,0.3,5,2030,0.01\ns1,A,0.1,7,,0\n")
    steps = _installation_steps(load_dataset(folder))
    assert steps["facility"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert steps["sector"].tolist() == ["power"] * 4 + ["steel"] * 6
    assert steps["step"].tolist() == ["A", "B", "A", "B", "A", "Z", "A", "B", "A", "B"]
    assert steps["base_cost"].tolist() == [10, 40, 10, 40, 7, 5, 40, 120, 10, 30]
    assert steps["potential_share"].tolist() == [0.2, 0.3, 0.2, 0.3, 0.1, 0.3, 0.1, 0.2, 0.1, 0.2]
    assert steps["available_from"].tolist() == [-np.inf] * 5 + [2030] + [-np.inf] * 4
    assert steps["cost_change"].tolist() == [0, 0, 0, 0, 0, 0.01, 0, 0, 0, 0]
    # ranks of the text among mac.csv's and the own steps' names, sorted (power < rest <
    # steel; A < B < Z)
    assert steps["sector_rank"].tolist() == [0] * 4 + [2] * 6
    assert steps["step_rank"].tolist() == [0, 1, 0, 1, 0, 2, 0, 1, 0, 1]


def test_facility_abatement_spreads_pools_by_hand():
    """Two installations, two years, two cost paths. Members: installation 0 in path 0
    (share 0.2) and path 1 (0.3), installation 1 in path 0 (0.2). Pooled columns: path 0 in
    years 0 and 1 (potential 10 each), path 1 only in year 1 (potential 5); the LP uses 5,
    0 and 5, so the used shares are path 0: 0.5 then 0, path 1: - then 1. Installation 0
    abates 0.2 x 0.5 x BAU 100 = 10 in year 0 and 0.3 x 1 x 200 = 60 in year 1;
    installation 1 0.2 x 0.5 x 50 = 5, then 0 (its only pool unused)."""
    from types import SimpleNamespace

    from model.parameters.installations import AbatementColumns, PooledMembers
    from model.results.tables import facility_abatement

    pooled = AbatementColumns("pooled_abatement_mt", pd.MultiIndex.from_arrays([[0, 1, 2]]),
                              np.array([10.0, 10.0, 5.0]), np.zeros(3), np.zeros(3, dtype=int))
    members = PooledMembers(facility=np.array([0, 0, 1]), pool_path=np.array([0, 1, 0]),
                            potential_share=np.array([0.2, 0.3, 0.2]), column_of=np.array([[0, 1], [-1, 2]]))
    p = SimpleNamespace(facility_years=pd.DataFrame({"bau_mt": [100.0, 200.0, 50.0, 60.0]}), presolved=None,
                        installation_columns=(pooled,), pooled_members=members, years=np.array([2025, 2026]))
    solution = SimpleNamespace(values={"pooled_abatement_mt": np.array([5.0, 0.0, 5.0])})
    assert facility_abatement(p, solution) == pytest.approx([10.0, 60.0, 5.0, 0.0], abs=1e-12)


def test_inherited_steps_sorted_by_name_without_own_steps(tmp_path):
    """No facility_mac.csv, mac.csv listing each sector's steps B before A: every
    installation's rows still come by step name (A 10 then B 40 for power, A 20 x factor
    then B 60 x factor for steel: s2 x2 gives 40, 120)."""
    from model.parameters.installations import _installation_steps

    folder = conftest.toy_with_registry(tmp_path / "toy", conftest.FIVE_INSTALLATIONS_WITH_OUTPUT)
    mac = pd.read_csv(folder / "mac.csv")
    mac.iloc[::-1].to_csv(folder / "mac.csv", index=False)  # rest B, rest A, steel B, steel A, power B, power A
    steps = _installation_steps(load_dataset(folder))
    assert steps["facility"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert steps["step"].tolist() == ["A", "B"] * 5
    assert steps["base_cost"].tolist() == [10, 40, 10, 40, 20, 60, 40, 120, 10, 30]


@pytest.mark.parametrize("overrides", [FACILITY, UNPOOLED, {}])
def test_mac_rows_of_columns_equal_their_text_lookup(small_china, overrides):
    """deployment_limits finds each abatement column's mac.csv row from its keys' integer
    codes (an installation's sector from its sector-year row): the same rows as looking up
    every column's (sector, step) text, for sector steps, pools and installations' own steps."""
    from model.families.deployment_limits import _mac_rows

    p = derive_parameters(apply_overrides(small_china, overrides))
    mac_key = pd.MultiIndex.from_frame(p.dataset.mac[["sector", "step"]])
    assert len(p.abatement) >= (2 if overrides else 1)
    for columns in p.abatement:
        keys = columns.key_arrays
        sector = keys["sector"] if "sector" in keys else p.facility_years["sector"].to_numpy()[columns.facility_rows]
        expected = mac_key.get_indexer(pd.MultiIndex.from_arrays([sector, keys["step"]])) if len(columns) else []
        assert _mac_rows(p, columns, mac_key).tolist() == list(expected), columns.name


def test_facility_grid_on_integer_codes_by_hand(tmp_path):
    """The toy's five installations (p1 60, p2 40 Mt in power; s1 25, s2 15, s3 10 in steel;
    no output, so allowances follow emissions), 2025-2027, BAU constant (power 100, steel
    50). s1 holds 25/50 = 0.5 of steel: BAU 25 Mt; in 2025 steel simulates with a 6% cut,
    so s1's own cap is 0.5 x 47 = 23.5 Mt, NaN once steel trades (2026). Its rows are
    sector row 1 x 3 + year position; every text is a code (sector, phase), rows int32."""
    from model.parameters.installations import facility_grid, installation_shares
    from model.parameters.phases import PHASES

    dataset = apply_overrides(load_dataset(conftest.toy_with_registry(tmp_path / "toy")),
                              {"model.resolution": "facility"})
    p = derive_parameters(dataset)
    grid = facility_grid(dataset, p.sector_years, p.years)
    assert len(grid) == 15 and grid["sector_row"].dtype == np.int32 and grid["phase_code"].dtype == np.int8
    s1 = grid.loc["s1"]
    assert s1.index.tolist() == [2025, 2026, 2027]
    assert s1["sector_row"].tolist() == [3, 4, 5]
    emission_share, _ = installation_shares(dataset, p.years)  # by installation, not repeated by year
    assert "emission_share" not in grid and emission_share[grid.index.levels[0].get_loc("s1")] == pytest.approx(0.5)
    assert s1["bau_mt"].tolist() == pytest.approx([25.0] * 3)
    assert s1["cap_mt"].iloc[0] == pytest.approx(23.5) and s1["cap_mt"].iloc[1:].isna().all()
    assert [PHASES[code] for code in s1["phase_code"]] == ["simulation", "trading", "trading"]
    assert emission_share[grid.index.levels[0].get_loc("p1")] == pytest.approx(0.6)
    sector = grid["sector"].array
    assert isinstance(sector, pd.Categorical) and sector.categories.tolist() == ["power", "steel", "rest"]
    assert sector.codes.tolist() == [0] * 6 + [1] * 9
    assert grid["phase"].tolist()[6:9] == ["simulation", "trading", "trading"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([1.0, 2.5, 0.0, -0.0, np.inf, 3.0])),
                max_size=40))
def test_merit_order_is_lexsort(columns):
    """Columns sorted by facility-year row, then cost, ties in their order: the ranked
    integer key gives np.lexsort's permutation (-0.0 and 0.0 tie, as the sort compares them)."""
    from model.parameters.installations import _merit_order

    rows = np.array([row for row, _ in columns], dtype=np.int64)
    cost = np.array([cost for _, cost in columns], dtype=float)
    assert _merit_order(rows, cost).tolist() == np.lexsort((cost, rows)).tolist()


def test_grid_and_step_indexes_are_pandas_own():
    """The sector-year and step indexes built from codes are those from_product and from_arrays
    make: levels sorted (text inferred as pandas infers it), codes alike; mac row 2 (cement's
    b) is never available, so its step name b is no level of the steps index."""
    from model.parameters.derive import _grid_index, _steps_index

    sectors = ("steel", "power", "cement")
    pd.testing.assert_index_equal(_grid_index(sectors, 2025, 2027), pd.MultiIndex.from_product(
        [np.array(sectors, dtype=object), np.arange(2025, 2028)], names=["sector", "year"]), exact=True)
    mac_sectors, mac_steps = ("steel", "power", "cement", "steel"), ("a", "c", "b", "c")
    years = np.arange(2025, 2028)
    available = np.tile(years, 4) >= np.repeat([2025, 2026, 2099, 2027], 3)
    built = _steps_index(mac_sectors, mac_steps, available.tobytes(), 2025, 2027)
    expected = pd.MultiIndex.from_arrays([np.repeat(np.array(mac_sectors, dtype=object), 3)[available],
                                          np.repeat(np.array(mac_steps, dtype=object), 3)[available],
                                          np.tile(years, 4)[available]], names=["sector", "step", "year"])
    pd.testing.assert_index_equal(built, expected, exact=True)
    assert list(built.levels[1]) == ["a", "c"] and all((a == b).all() for a, b in zip(built.codes, expected.codes))


def test_name_positions_of_object_text():
    """Each name's position among the distinct names, -1 for one not there."""
    from model.data.fields import name_positions

    assert name_positions(np.array(["power", "steel"], dtype=object), ["steel", "cement", "power"]).tolist() == [
        1, -1, 0]


def test_unique_of_integers_is_numpys_unique_with_first_positions_and_inverse():
    """[7, 3, 7, 9, 3]: distinct sorted [3, 7, 9], first at positions [1, 0, 3], each value's rank
    [1, 0, 1, 2, 0]; nothing: three empty arrays."""
    from model.parameters.installations import _unique

    distinct, first, inverse = _unique(np.array([7, 3, 7, 9, 3]))
    assert (distinct.tolist(), first.tolist(), inverse.tolist()) == ([3, 7, 9], [1, 0, 3], [1, 0, 1, 2, 0])
    assert [part.size for part in _unique(np.zeros(0, dtype=np.int64))] == [0, 0, 0]


def test_keys_from_codes_are_the_multiindex_from_arrays_with_only_the_values_present():
    """A categorical's names (b, a, c: c never used) and numbers (5, 2, 9: 9 never used) spread to
    positions: the MultiIndex from_arrays makes, levels [a, b] and [2, 5] sorted and without the
    unused values; a missing name (code -1) is passed to from_arrays as it is."""
    from model.parameters.installations import _keys_from_codes

    names = pd.Categorical(["b", "a", "c"], categories=["b", "a", "c"])
    numbers = np.array([5, 2, 9])
    at = [np.array([0, 1, 0]), np.array([1, 0, 0])]
    keys = _keys_from_codes([names, numbers], at, ["sector", "pool"])
    expected = pd.MultiIndex.from_arrays([np.array(["b", "a", "b"], dtype=object), [2, 5, 5]], names=["sector", "pool"])
    assert keys.equals(expected) and keys.names == ["sector", "pool"]
    assert keys.levels[0].tolist() == ["a", "b"] and keys.levels[1].tolist() == [2, 5]
    assert keys.codes[0].tolist() == [1, 0, 1] and keys.codes[1].tolist() == [0, 1, 1]
    missing = pd.Categorical(["b", None], categories=["b"])
    with_missing = _keys_from_codes([missing], [np.array([0, 1])], ["sector"])
    assert with_missing.get_level_values(0)[0] == "b" and pd.isna(with_missing.get_level_values(0)[1])


def test_steps_named_marks_the_steps_of_the_pairs_given():
    """Steps (power, A) (steel, A) (power, B) (steel, B) and the pairs {(steel, A), (power, B)}:
    rows 1 and 2; no pairs: none."""
    from model.parameters.installations import _steps_named

    steps = pd.DataFrame({"sector": ["power", "steel", "power", "steel"], "step": ["A", "A", "B", "B"]})
    assert _steps_named(steps, frozenset({("steel", "A"), ("power", "B")})).tolist() == [False, True, True, False]
    assert _steps_named(steps, frozenset()).tolist() == [False] * 4


def test_same_along_compares_each_row_with_its_numbers_first_row_nan_as_nan():
    """Numbers [0, 1, 0, 1] with first rows [0, 1]: [1, NaN, 1, NaN] holds its first rows'
    values (NaN equal to NaN); [1, NaN, 2, NaN] does not (row 2: 2 against 1)."""
    from model.parameters.installations import _same_along

    number, first = np.array([0, 1, 0, 1]), np.array([0, 1])
    assert _same_along(np.array([1.0, np.nan, 1.0, np.nan]), number, first)
    assert not _same_along(np.array([1.0, np.nan, 2.0, np.nan]), number, first)
    assert not _same_along(np.array([1.0, np.nan, 1.0, 3.0]), number, first)


def test_closed_form_steps_by_hand():
    """Three installation-years. Row 0 needs 2 Mt (BAU 10, cap 8): its unlimited steps cheaper
    than its cheapest limited one (20) hold 1 + 3 Mt, enough: all its steps are solved here.
    Row 1 needs 8: only the 1 CNY/t step (2 Mt) is cheaper than its limited 5: that one is fixed,
    the rest left to the LP. Row 2 needs nothing but has a build-limited step: all in the LP.
    Without any limit every step is solved here."""
    from model.parameters.installations import AbatementColumns, closed_form_steps

    rows = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2])
    cost = np.array([10.0, 20.0, 5.0, 10.0, 5.0, 30.0, 1.0, 1.0, 2.0])
    potential = np.array([1.0, 5.0, 3.0, 1.0, 10.0, 1.0, 2.0, 5.0, 1.0])
    limited = np.array([False, True, False, False, True, False, False, True, False])
    build_limited = np.array([False] * 7 + [True, False])
    columns = AbatementColumns("facility_abatement_mt", None, potential, cost, rows, rows)
    grid = pd.DataFrame({"bau_mt": [10.0, 10.0, 10.0], "cap_mt": [8.0, 2.0, 12.0]})
    assert closed_form_steps(columns, grid, limited, build_limited).tolist() == [
        True, True, True, False, False, False, True, False, False]
    assert closed_form_steps(columns, grid, limited, np.zeros(9, dtype=bool)).tolist() == [
        True, True, True, False, False, False, True, True, True]  # row 2 needs no cut: closed
    assert closed_form_steps(columns, grid, np.zeros(9, dtype=bool), np.zeros(9, dtype=bool)).all()
    exact = grid.assign(cap_mt=[6.0, 2.0, 12.0])  # row 0 needs 4 = its cheap 1 + 3: still closed
    assert closed_form_steps(columns, exact, limited, build_limited)[:3].tolist() == [True, True, True]
    short = grid.assign(cap_mt=[5.9, 2.0, 12.0])  # 4.1 > 4: its cheap steps fixed, the limited one to the LP
    assert closed_form_steps(columns, short, limited, build_limited)[:3].tolist() == [True, False, True]


def _presolve_grid(cap_0: float = 7.0) -> pd.DataFrame:
    """Installation-years i1 2030 (BAU 10, cap ``cap_0``), i2 2030 (BAU 10, cap 12: no cut), both
    simulating, and i3 2030 outside the ETS."""
    index = pd.MultiIndex.from_tuples([("i1", 2030), ("i2", 2030), ("i3", 2030)], names=["facility_id", "year"])
    return pd.DataFrame({"bau_mt": [10.0, 10.0, 10.0], "cap_mt": [cap_0, 12.0, np.nan], "phase_code": [1, 1, 0]},
                        index=index)


def test_presolve_uses_an_installations_steps_from_the_cheapest_until_its_cut_is_made():
    """i1 needs 3 Mt: its steps at 30 (2 Mt), 10 (2 Mt) and 20 (5 Mt) are used 0, 2 and 1 Mt, its own
    price the dearest used, 20; i2 needs nothing: none used, own price 0; i3 is outside: NaN.
    With the 20 and 30 CNY/t steps left to the LP (not fixed), i1's fixed step (10, too small for
    the cut) is used in full, 2 Mt, and its own price is the LP's (NaN here)."""
    from model.parameters.installations import AbatementColumns, presolve

    rows = np.array([0, 0, 0, 1])
    columns = AbatementColumns("facility_abatement_mt", pd.RangeIndex(4), np.array([2.0, 2.0, 5.0, 1.0]),
                               np.array([30.0, 10.0, 20.0, 5.0]), rows, rows)
    solved = presolve(columns, _presolve_grid())
    assert solved.abatement_mt.tolist() == [0.0, 2.0, 1.0, 0.0]
    assert solved.own_price_cny_per_t[:2].tolist() == [20.0, 0.0] and np.isnan(solved.own_price_cny_per_t[2])
    partly = presolve(columns, _presolve_grid(), fixed=np.array([False, True, False, True]))
    assert partly.lp_rows.tolist() == [0] and partly.abatement_mt.tolist() == [2.0, 0.0]
    assert partly.lp_rows_presolved_mt.tolist() == [2.0] and np.isnan(partly.own_price_cny_per_t[0])
    assert partly.own_price_cny_per_t[1] == 0.0


def test_presolve_refuses_an_installation_that_cannot_make_its_cut_naming_it():
    """i1 needs 9.5 Mt (cap 0.5) and can abate 9 (2 + 2 + 5): refused with its numbers and the fix;
    needing exactly 9 it is solved (every step in full)."""
    from model import InfeasibleError
    from model.parameters.installations import AbatementColumns, presolve

    rows = np.array([0, 0, 0])
    columns = AbatementColumns("facility_abatement_mt", pd.RangeIndex(3), np.array([2.0, 2.0, 5.0]),
                               np.array([30.0, 10.0, 20.0]), rows, rows)
    with pytest.raises(InfeasibleError) as refused:
        presolve(columns, _presolve_grid(0.5))
    assert str(refused.value) == (
        "installations in their simulation phase cannot meet their share of the rule cap on their own: i1 in 2030: "
        "needs 9.5 Mt, can abate 9 Mt (lower the sector's simulation reduction: simulation_reduction in "
        "sectors.csv, or reduction in its cap_rules.csv row; or give them more abatement potential in "
        "facility_mac.csv)")
    assert presolve(columns, _presolve_grid(1.0)).abatement_mt.tolist() == [2.0, 2.0, 5.0]


def test_merit_order_is_by_row_then_cost_ties_in_their_order():
    """Columns on rows [1, 0, 1, 0, 1] costing [5, 7, -0.0, 7, 0.0]: row 0's two 7s in their order
    (1, 3), then row 1 from the cheapest, its 0 and -0 tied in their order (2, 4), then 5 (0) — as
    np.lexsort((cost, rows)); a missing cost takes lexsort's own order."""
    from model.parameters.installations import _merit_order

    rows, cost = np.array([1, 0, 1, 0, 1]), np.array([5.0, 7.0, -0.0, 7.0, 0.0])
    assert _merit_order(rows, cost).tolist() == [1, 3, 2, 4, 0] == np.lexsort((cost, rows)).tolist()
    missing = np.array([5.0, np.nan, 1.0, 7.0, 0.0])
    assert _merit_order(rows, missing).tolist() == np.lexsort((missing, rows)).tolist() == [3, 1, 4, 2, 0]
