"""Facility resolution with deployment limits: a simulation-phase installation keeps in the LP
only the steps a limit can reach (installations.closed_form_steps), and the optimum, prices
and each installation's cut and own price are the unpooled LP's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import InfeasibleError, apply_overrides, derive_parameters, load_dataset, solve
from model.data.registry import make_registry
from tests.conftest import CHINA, TOY

FACILITY = {"model.resolution": "facility"}
UNPOOLED = {"model.resolution": "facility", "model.pool_installations": False}
# s1 gets 10/25 of steel's 2025 rule cap (47 Mt: 50 less 6%), s2 and s3 7.5/25 each
REGISTRY = ("facility_id,sector,output,emissions_mt,cost_factor\n"
            "p1,power,60,60,1\np2,power,40,40,1\ns1,steel,10,25,1\ns2,steel,7.5,15,1\ns3,steel,7.5,10,1\n")


def toy_with_limits(folder: Path, registry: str = REGISTRY, group_2025_mt: float = 2.0, c_cost: float = 90.0,
                    rest_b_cost: float = 80.0, steel_b_build: float | None = None) -> Path:
    """The toy with steel step B in group ccs (deployment_limits.csv: ``group_2025_mt`` in
    2025, 100 Mt from 2026), an unlimited steel step C (20% of BAU at ``c_cost``), and
    ``steel_b_build`` a build limit on steel B instead of the group."""
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(registry)
    lines = (folder / "mac.csv").read_text().replace("rest,B,0.4,80,", f"rest,B,0.4,{rest_b_cost},").splitlines()
    build = "" if steel_b_build is None else str(steel_b_build)
    group = "ccs" if steel_b_build is None else ""
    mac = [lines[0] + ",max_build_mt_per_year,group"]
    mac += [line + (f",{build},{group}" if line.startswith("steel,B") else ",,") for line in lines[1:]]
    mac.append(f"steel,C,0.2,{c_cost},,0,illustrative,,")
    (folder / "mac.csv").write_text("\n".join(mac) + "\n")
    if steel_b_build is None:
        (folder / "deployment_limits.csv").write_text(
            f"group,year,max_mt,source\nccs,2025,{group_2025_mt},illustrative\nccs,2026,100,illustrative\n")
    return folder


def installation_columns(parameters) -> int:
    return sum(len(c) for c in parameters.abatement if c.name == "facility_abatement_mt")


def simulation_rows(results):
    table = results.facilities.query("phase == 'simulation'").set_index(["facility_id", "year"]).sort_index()
    return table["abatement_mt"].to_numpy(), table["price_cny_per_t"].to_numpy()


def assert_same_as_unpooled(dataset, rel: float = 1e-9) -> tuple:
    """Pooled and unpooled solves agree on the objective, the prices, every simulation-phase
    installation's cut and own price, and each year's emissions; returns both results."""
    pooled, full = solve(dataset, overrides=FACILITY, allocation=False), solve(dataset, overrides=UNPOOLED,
                                                                               allocation=False)
    assert pooled.summary["objective_bn_cny"] == pytest.approx(full.summary["objective_bn_cny"], rel=rel)
    for column in ("allowance_price_cny_per_t", "national_carbon_value_cny_per_t"):
        assert pooled.years[column].to_numpy() == pytest.approx(full.years[column].to_numpy(), rel=rel, abs=1e-9)
    # steps of equal cost in different sectors may share a year's cut differently (equally cheap)
    assert pooled.years["emissions_mt"].to_numpy() == pytest.approx(full.years["emissions_mt"].to_numpy(), rel=rel)
    for ours, theirs in zip(simulation_rows(pooled), simulation_rows(full)):
        assert ours == pytest.approx(theirs, rel=rel, abs=1e-9)
    assert [name for name, check in pooled.summary["checks"].items() if not check["passed"]] == []
    return pooled, full


def test_a_group_limit_leaves_only_the_steps_it_reaches_to_the_lp(tmp_path):
    """Steel simulates in 2025; its rule cap is 47 Mt. s1 must cut 25 - 0.4 x 47 = 6.2 Mt,
    s2 15 - 0.3 x 47 = 0.9 Mt, s3 none (10 < 14.1). Step B (60 CNY/t) is in group ccs,
    limited to 2 Mt in 2025; A (20, 10% of BAU) and C (90, 20%) are unlimited.
    s2's cut is within its A (1.5 Mt, cheaper than B): closed form, 0.9 Mt at 20, own price
    20. s3: nothing, own price 0. s1's A (2.5 Mt) cannot make 6.2: A is used in full
    (fixed outside the LP) and only B and C stay columns: B 2 Mt (the limit), C 1.7 Mt, own
    price 90. Two installation columns instead of steel's nine in 2025 (3 installations x 3 steps).
    Steel's 2025 cost: 2.5 x 20 + 2 x 60 + 1.7 x 90 + 0.9 x 20 = 341 million CNY, against the
    toy's 3 Mt of steel A at 20 = 60 at sector level; 2026-27 are the toy's (the limit is
    100 Mt), so the least cost is 3.147024793 + (341 - 60) / 1e3 = 3.428024793 bn CNY."""
    dataset = load_dataset(toy_with_limits(tmp_path / "toy"))
    parameters = derive_parameters(apply_overrides(dataset, FACILITY))
    assert installation_columns(parameters) == 2
    # unpooled: every installation step-year, power's 2 x 2 steps and steel's 3 x 3 over 3 years
    assert installation_columns(derive_parameters(apply_overrides(dataset, UNPOOLED))) == (4 + 9) * 3
    pooled, _ = assert_same_as_unpooled(dataset)
    assert pooled.summary["objective_bn_cny"] == pytest.approx(3.147024793 + 0.281, abs=1e-9)
    steps = pooled.abatement_steps
    steel_2025 = steps[(steps["sector"] == "steel") & (steps["year"] == 2025)]
    # s1 (in the LP) by installation; s2 and s3 (closed form) summed by pool and own price
    s1 = steel_2025[steel_2025["facility_id"] == "s1"].set_index("step")["abatement_mt"]
    assert s1.to_dict() == pytest.approx({"A": 2.5, "B": 2.0, "C": 1.7})
    pools = steel_2025[steel_2025["facility_id"].isna()].set_index(["own_price_cny_per_t", "step"])
    assert pools["abatement_mt"].to_dict() == pytest.approx({(20.0, "A"): 0.9, (20.0, "B"): 0.0, (20.0, "C"): 0.0,
                                                            (0.0, "A"): 0.0, (0.0, "B"): 0.0, (0.0, "C"): 0.0})
    assert pools.loc[(20.0, "A"), "potential_mt"] == pytest.approx(1.5)  # s2's 10% of 15 Mt
    steel_2025 = pooled.sector_years.set_index(["sector", "year"]).loc[("steel", 2025)]
    assert steel_2025["abatement_cost_bn_cny"] == pytest.approx(0.341)
    installations = pooled.facilities.set_index(["facility_id", "year"])
    assert [installations.loc[(f, 2025), "price_cny_per_t"] for f in ("s1", "s2", "s3")] == pytest.approx(
        [90.0, 20.0, 0.0])


def test_a_group_limit_no_installation_reaches_keeps_nothing_in_the_lp(tmp_path):
    """With output in proportion to emissions each installation cuts 6% (s1 25 - 0.5 x 47 =
    1.5 Mt, s2 0.9, s3 10 - 0.2 x 47 = 0.6), within its A (10%): no installation reaches B,
    every simulation year is in closed form."""
    registry = REGISTRY.replace("s1,steel,10,25", "s1,steel,12.5,25").replace("s3,steel,7.5", "s3,steel,5")
    dataset = load_dataset(toy_with_limits(tmp_path / "toy", registry))
    assert installation_columns(derive_parameters(apply_overrides(dataset, FACILITY))) == 0
    assert_same_as_unpooled(dataset)


def test_a_build_limit_keeps_its_installations_in_the_lp(tmp_path):
    """The exchange argument fails for a build limit: steel B may grow 1 Mt a year (B <= 1,
    2, 3 in 2025-27) and 2027 needs 5 Mt of it, the next step being rest B at 300 CNY/t.
    Each tonne of B built in 2025 in place of steel A (40 CNY/t dearer) saves
    (300 - 60) / 1.21 = 198 in 2027, so the LP uses 1 Mt of B in 2025 while A, cheaper,
    has room: a merit order from the cheapest would miss it. The installations (output in
    proportion to emissions: each cuts 6%) keep all their 2025 steps in the LP (A, B, C of
    three: 9 columns). Least cost (the sector solution): 2025: power A 20 x 10 + B 2 x 40,
    steel A 2 x 20 + B 1 x 60, rest A 5 x 30 = 530; 2026: power A 200 + B 15.5 x 40, steel A
    100 + B 2 x 60, rest A 150 = 1,190; 2027: power A 200 + B 1,200, steel A 100 + B 3 x 60,
    rest A 150 + B 2 x 300 = 2,430: 530 + 1,190 / 1.1 + 2,430 / 1.21 million CNY."""
    registry = REGISTRY.replace("s1,steel,10,25", "s1,steel,12.5,25").replace("s3,steel,7.5", "s3,steel,5")
    dataset = load_dataset(toy_with_limits(tmp_path / "toy", registry, c_cost=900.0, rest_b_cost=300.0,
                                           steel_b_build=1.0))
    assert installation_columns(derive_parameters(apply_overrides(dataset, FACILITY))) == 9
    pooled, _ = assert_same_as_unpooled(dataset)
    assert pooled.summary["objective_bn_cny"] == pytest.approx((530 + 1190 / 1.1 + 2430 / 1.21) / 1e3, abs=1e-9)
    steps = pooled.abatement_steps
    steel_2025 = steps[(steps["sector"] == "steel") & (steps["year"] == 2025)].groupby("step")[
        ["abatement_mt", "potential_mt"]].sum()
    assert steel_2025.loc["B", "abatement_mt"] == pytest.approx(1.0)  # built ahead, above A's cost
    assert steel_2025.loc["A", "abatement_mt"] == pytest.approx(2.0)  # while A has 5 Mt
    assert steel_2025.loc["A", "potential_mt"] == pytest.approx(5.0)


def test_a_build_limit_reaches_an_installation_that_needs_no_cut(tmp_path):
    """Steel cuts 1% (rule cap 49.5 Mt); s1 and s2 (2 Mt each, output 0.88 of 25) must cut
    2 - 0.0352 x 49.5 = 0.2576 Mt, s3 (46 Mt, cap 46.015) nothing. Steel B may grow 1.5 Mt a
    year and 2027 needs 5 Mt of it (the next step is rest B at 300), so the LP builds B to
    1.5 in 2025 and 3 in 2026: s1 and s2 make their cuts with B (not A, cheaper), and s3,
    which needs no cut, builds the other 0.9848 Mt. A closed form for s3 would lose them
    (3.514859504 bn). Least cost: 2025: power A 200 + B 4.5 x 40, rest A 150, steel B
    1.5 x 60 = 620; 2026: power A 200 + B 14.5 x 40, steel A 100 + B 3 x 60, rest A 150 =
    1,210; 2027: power A 200 + B 1,200, steel A 100 + B 4.5 x 60, rest A 150 + B 0.5 x 300
    = 2,070: 620 + 1,210 / 1.1 + 2,070 / 1.21 million CNY."""
    registry = ("facility_id,sector,output,emissions_mt,cost_factor\np1,power,60,60,1\np2,power,40,40,1\n"
                "s1,steel,0.88,2,1\ns2,steel,0.88,2,1\ns3,steel,23.24,46,1\n")
    dataset = apply_overrides(load_dataset(toy_with_limits(tmp_path / "toy", registry, c_cost=900.0,
                                                           rest_b_cost=300.0, steel_b_build=1.5)),
                              {"sectors.steel.simulation_reduction": 0.01})
    pooled, _ = assert_same_as_unpooled(dataset)
    assert pooled.summary["objective_bn_cny"] == pytest.approx((620 + 1210 / 1.1 + 2070 / 1.21) / 1e3, abs=1e-9)
    steps = pooled.abatement_steps
    b_2025 = steps[(steps["sector"] == "steel") & (steps["step"] == "B") & (steps["year"] == 2025)]
    assert b_2025.set_index("facility_id")["abatement_mt"].to_dict() == pytest.approx(
        {"s1": 0.2576, "s2": 0.2576, "s3": 0.9848})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outputs=st.tuples(*[st.sampled_from([4.0, 6.0, 7.5, 10.0, 12.5]) for _ in range(3)]),
       group_mt=st.sampled_from([0.0, 0.5, 2.0, 100.0]), c_cost=st.sampled_from([45.0, 60.0, 90.0]),
       build=st.sampled_from([None, None, 1.0, 3.0]), rest_b_cost=st.sampled_from([80.0, 300.0]))
def test_the_reduction_is_the_unpooled_lp(tmp_path_factory, outputs, group_mt, c_cost, build, rest_b_cost):
    """Whatever the installations' cuts, the group's limit (or a build limit on B instead),
    where the unlimited step C ranks against the limited B (below, tied or above) and what
    the step after steel B costs later, pooled = unpooled: objective, prices, each
    installation's cut and own price (or both refuse an installation that cannot make its
    cut)."""
    s1, s2, s3 = outputs
    registry = ("facility_id,sector,output,emissions_mt,cost_factor\np1,power,60,60,1\np2,power,40,40,1\n"
                f"s1,steel,{s1},25,1\ns2,steel,{s2},15,1.2\ns3,steel,{s3},10,0.8\n")
    dataset = load_dataset(toy_with_limits(tmp_path_factory.mktemp("toy") / "toy", registry, group_mt, c_cost,
                                           rest_b_cost, build))
    try:
        solve(dataset, overrides=UNPOOLED, allocation=False)
    except InfeasibleError:  # an installation that cannot make its cut: refused either way
        with pytest.raises(InfeasibleError):
            solve(dataset, overrides=FACILITY, allocation=False)
        return
    assert_same_as_unpooled(dataset)


@pytest.fixture(scope="module")
def small_china_binding(tmp_path_factory):
    """The default dataset with about 200 installations, chemicals and petrochemicals cutting
    8% and 10% in their simulation years (beyond their efficiency steps' 5%) and the
    ccus_other group tightened to 0 Mt in 2025 and 5 in 2030 (2 Mt in 2027, 3 in 2028): the
    CCUS steps they reach are at the group's limit."""
    folder = tmp_path_factory.mktemp("china") / "china"
    shutil.copytree(CHINA, folder)
    make_registry(load_dataset(CHINA), seed=5, scale=0.03).to_csv(folder / "facilities.csv", index=False)
    return apply_overrides(load_dataset(folder), {
        "sectors.chemicals.simulation_reduction": 0.08, "sectors.petrochemicals.simulation_reduction": 0.1,
        "deployment_limits.ccus_other.2025.max_mt": 0, "deployment_limits.ccus_other.2030.max_mt": 5})


def test_the_default_registry_against_the_unpooled_lp(small_china_binding):
    """Only the chemicals' installation-years stay partly in the LP (their efficiency steps,
    5% of BAU, fixed in full; the rest of the 8% from CH2 pure-stream CCS, in the group, or
    dearer steps); petrochemicals' 10% is within its steps cheaper than its CCUS (PC1 and
    PC2, 10.002%), paper and aviation have no limited step: closed form. The group is at
    its limit in 2027-28, and every number equals the unpooled LP's."""
    parameters = derive_parameters(apply_overrides(small_china_binding, FACILITY))
    lp_rows = parameters.facility_simulation_rows
    grid = parameters.facility_years
    assert set(grid["sector"].to_numpy()[lp_rows]) == {"chemicals"}
    unpooled_columns = installation_columns(derive_parameters(apply_overrides(small_china_binding, UNPOOLED)))
    assert 0 < installation_columns(parameters) < unpooled_columns / 50
    pooled, _ = assert_same_as_unpooled(small_china_binding)
    steps = pooled.abatement_steps
    ccus = steps["step"].str.startswith(("CH2_", "PC4_", "C6_", "P8_"))
    by_year = steps[ccus].groupby("year")["abatement_mt"].sum()
    assert by_year.loc[[2027, 2028]].to_numpy() == pytest.approx([2.0, 3.0])


def test_cli_writes_the_closed_form_by_pool(tmp_path):
    """``solve --resolution facility`` on the group-limit case: abatement_steps.csv has s1's
    2025 steps by installation (in the LP: A 2.5, B 2, C 1.7 Mt) and s2 and s3 (closed form)
    in a row per step and own price, facility_id blank: A at 20 with s2's 0.9 Mt of 1.5, A
    at 0 with s3's 1.0 Mt unused; Results.read reads it back the same."""
    from click.testing import CliRunner

    from model.cli import cli
    from model.results.tables import Results

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "solve", str(toy_with_limits(tmp_path / "toy")), "--resolution",
                                      "facility", "--out", str(out)])
    assert result.exit_code == 0, result.output
    steps = Results.read(out).abatement_steps
    steel_2025 = steps[(steps["sector"] == "steel") & (steps["year"] == 2025)]
    by_installation = steel_2025.dropna(subset=["facility_id"])
    assert set(by_installation["facility_id"]) == {"s1"}
    assert by_installation.set_index("step")["abatement_mt"].to_dict() == pytest.approx(
        {"A": 2.5, "B": 2.0, "C": 1.7})
    assert by_installation["own_price_cny_per_t"].isna().all()  # s1's own price is its LP row's dual
    pools = steel_2025[steel_2025["facility_id"].isna() & (steel_2025["step"] == "A")]
    assert pools.set_index("own_price_cny_per_t")[["potential_mt", "abatement_mt"]].to_dict("index") == {
        0.0: pytest.approx({"potential_mt": 1.0, "abatement_mt": 0.0}),
        20.0: pytest.approx({"potential_mt": 1.5, "abatement_mt": 0.9})}
    assert steel_2025["abatement_cost_bn_cny"].sum() == pytest.approx(0.341)


def test_dropping_a_limit_frees_its_steps_in_the_same_process(tmp_path):
    """Which steps a limit reaches is kept for a study's scenarios by the registry's steps and
    the limits' step names: a scenario of the same registry and mac.csv whose deployment_limits.csv
    is empty reaches no step, so s1's 2025 cut (6.2 Mt: A 2.5 at 20, then B 3.7 at 60) is in closed
    form too and no installation column is left; with the limit back, s1's B and C are again the LP's
    (2 columns, as in the test above)."""
    dataset = apply_overrides(load_dataset(toy_with_limits(tmp_path / "toy")), FACILITY)
    unlimited = dataset.replace(deployment_limits=dataset.deployment_limits.iloc[:0])
    assert installation_columns(derive_parameters(dataset)) == 2
    assert installation_columns(derive_parameters(unlimited)) == 0
    assert installation_columns(derive_parameters(dataset)) == 2
    results = solve(unlimited, allocation=False)
    s1 = results.facilities.set_index(["facility_id", "year"]).loc[("s1", 2025)]
    assert s1["abatement_mt"] == pytest.approx(6.2) and s1["price_cny_per_t"] == pytest.approx(60.0)
