"""Studies: sweeps and Monte Carlo equal their individual solves, serially and on Dask.

The toy dataset keeps most tests fast; a few use the China dataset where its size or its
many equally cheap optima matter. One 2-worker LocalCluster serves the module.
"""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from model import InputError, load_dataset, solve
from model.cli import cli
from model.report.plots import write_report
from model.studies.study import (Study, monte_carlo, read_study_file, run_scenarios, study_file_reference,
                                 sweep)
from tests.conftest import CHINA, ROOT, TOY
from tests.unique_outcome import without_sector_split

TABLES = ("years", "sector_years")


@pytest.fixture(scope="module")
def toy():
    return load_dataset(TOY)


@pytest.fixture(scope="module")
def china():
    return load_dataset(CHINA)


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 single-threaded worker processes, shut down after the module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


def _rows(study: Study, scenario: int, table: str) -> pd.DataFrame:
    rows = getattr(study, table)
    return rows[rows["scenario"] == scenario].drop(columns="scenario").reset_index(drop=True)


def _same_tables(a, b, exact: bool = False):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=exact, rtol=1e-7, atol=1e-6)


# -- sweeps ------------------------------------------------------------------------------------


def test_sweep_rows_equal_individual_solves(toy):
    """Every scenario of a product grid, numbers-only and structural keys mixed, equals its own solve.

    The values avoid the toy's degenerate points, where the optimum is not unique and the
    two paths may report different, equally right, numbers: a cap of 140 Mt in 2027 ends
    power's step B exactly (any price from 40 to 60 CNY/t is right), and power's costs
    x1.5 put its step B at steel's 60 CNY/t (any split of that abatement is as cheap)."""
    grid = {"targets.2027.national_cap_mt": [130, 138], "sectors.steel.trading_from": [2025, 2026, 2027],
            "mac.power.*.cost_cny_per_t*": [1.0, 1.2]}
    study = sweep(toy, grid)
    assert len(study.scenarios) == 12 and (study.scenarios["status"] == "optimal").all()
    for row in study.scenarios.itertuples(index=False):
        overrides = {key: study.scenarios.at[row.scenario, key] for key in grid}
        single = solve(toy, overrides=overrides, allocation=False)
        assert row.objective_bn_cny == pytest.approx(single.summary["objective_bn_cny"], rel=1e-9)
        for name in TABLES:
            pd.testing.assert_frame_equal(_rows(study, row.scenario, name), getattr(single, name),
                                          check_exact=False, rtol=1e-7, atol=1e-6)


def test_product_and_zip_grids(toy):
    caps, years = [130.0, 140.0], [2026, 2027]
    product = sweep(toy, {"targets.2027.national_cap_mt": caps, "sectors.steel.trading_from": years})
    assert product.scenarios[["targets.2027.national_cap_mt", "sectors.steel.trading_from"]].values.tolist() == [
        [130, 2026], [130, 2027], [140, 2026], [140, 2027]]  # the first key varies slowest
    zipped = sweep(toy, {"targets.2027.national_cap_mt": caps, "sectors.steel.trading_from": years}, mode="zip")
    assert zipped.scenarios[["targets.2027.national_cap_mt", "sectors.steel.trading_from"]].values.tolist() == [
        [130, 2026], [140, 2027]]
    assert zipped.info["parameters"] == ["targets.2027.national_cap_mt", "sectors.steel.trading_from"]
    _same_tables(Study(zipped.info, zipped.scenarios, _rows_of(product, [0, 3], "years"),
                       _rows_of(product, [0, 3], "sector_years")), zipped)
    with pytest.raises(InputError, match="lists of one length"):
        sweep(toy, {"targets.2027.national_cap_mt": caps, "sectors.steel.trading_from": [2026]}, mode="zip")


def _rows_of(study: Study, scenarios: list[int], table: str) -> pd.DataFrame:
    """Rows of some scenarios, renumbered 0, 1, ... as a study of only them would number them."""
    rows = getattr(study, table)
    rows = rows[rows["scenario"].isin(scenarios)].copy()
    rows["scenario"] = rows["scenario"].map({s: i for i, s in enumerate(scenarios)})
    return rows.reset_index(drop=True)


def test_infeasible_and_bad_scenarios_are_recorded(toy):
    """An infeasible target and an invalid value keep their rows, with status and message;
    the other scenarios still solve, and only they have rows in the tables."""
    study = sweep(toy, {"targets.2027.national_cap_mt": [50, 135, 140], "sectors.steel.trading_from": [2020, 2026, 2026]},
                  mode="zip")
    scenarios = study.scenarios.set_index("scenario")
    assert scenarios["status"].tolist() == ["error", "optimal", "optimal"]
    assert "trading_from" in scenarios.at[0, "message"] and "not before covered_from (2025)" in scenarios.at[0, "message"]
    infeasible = sweep(toy, {"targets.2027.national_cap_mt": [50, 135]}).scenarios
    assert infeasible["status"].tolist() == ["infeasible", "optimal"]
    assert infeasible.at[0, "message"].startswith("model 'toy' is infeasible")
    assert np.isnan(infeasible.at[0, "objective_bn_cny"]) and infeasible.at[1, "message"] == ""
    assert sorted(study.years["scenario"].unique()) == [1, 2]
    assert list(study.scenarios.columns) == ["scenario", "status", "message", "targets.2027.national_cap_mt",
                                             "sectors.steel.trading_from", "objective_bn_cny"]


def test_structural_change_in_a_sweep(china):
    """Later trading for aluminium changes the LP's rows; each scenario still equals its own solve."""
    study = sweep(china, {"sectors.aluminium.trading_from": [2027, 2030]})
    for scenario, year in enumerate([2027, 2030]):
        single = solve(china, overrides={"sectors.aluminium.trading_from": year}, allocation=False)
        assert study.scenarios.at[scenario, "objective_bn_cny"] == pytest.approx(single.summary["objective_bn_cny"])
        phases = _rows(study, scenario, "sector_years").query("sector == 'aluminium'").set_index("year")["phase"]
        assert phases[year - 1] == "simulation" and phases[year] == "trading"


def test_resolve_path_equals_rebuild(china):
    """Re-solving one kept LP gives the numbers of rebuilding every scenario through Pyomo."""
    grid = {"targets.2035.national_cap_mt": [9_900.0, 10_350.0, 10_800.0], "discount_rate": [0.03, 0.05]}
    reused, rebuilt = sweep(china, grid), sweep(china, grid, reuse_model=False)
    assert reused.info["reuse_model"] and not rebuilt.info["reuse_model"]
    # which sector holds the market's bank is not unique under bank limits (tests/unique_outcome.py)
    _same_tables(Study(reused.info, reused.scenarios, reused.years, without_sector_split(reused.sector_years)),
                 Study(rebuilt.info, rebuilt.scenarios, rebuilt.years, without_sector_split(rebuilt.sector_years)))
    np.testing.assert_allclose(reused.scenarios["objective_bn_cny"], rebuilt.scenarios["objective_bn_cny"], rtol=1e-9)


def test_allocation_study(toy):
    """allocation=True solves stage 2 in every scenario: free allocation columns appear."""
    study = sweep(toy, {"targets.2027.national_cap_mt": [135, 140]}, allocation=True)
    single = solve(toy, overrides={"targets.2027.national_cap_mt": 140})
    pd.testing.assert_frame_equal(_rows(study, 1, "sector_years"), single.sector_years, check_exact=False)
    assert "free_share" in study.sector_years


# -- Monte Carlo ------------------------------------------------------------------------------

DRAWN = {"mac.*.*.cost_cny_per_t*": {"kind": "lognormal", "mean": 0.0, "sigma": 0.2},
         "targets.2027.national_cap_mt+": {"kind": "normal", "mean": 0.0, "sd": 5.0},
         "sectors.steel.trading_from": {"kind": "triangular", "low": 2025, "mode": 2026, "high": 2027}}


def test_monte_carlo_is_reproducible_with_a_seed(toy):
    first, again = monte_carlo(toy, 15, DRAWN, seed=11), monte_carlo(toy, 15, DRAWN, seed=11)
    pd.testing.assert_frame_equal(first.scenarios, again.scenarios)
    _same_tables(first, again, exact=True)
    other = monte_carlo(toy, 15, DRAWN, seed=12)
    assert not np.allclose(other.scenarios["mac.*.*.cost_cny_per_t*"], first.scenarios["mac.*.*.cost_cny_per_t*"])
    years = first.scenarios["sectors.steel.trading_from"]
    assert years.dtype == np.int64 and set(years) <= {2025, 2026, 2027}  # a year gets whole draws
    rng = np.random.default_rng(11)  # drawn key by key, in the order given
    np.testing.assert_array_equal(first.scenarios["mac.*.*.cost_cny_per_t*"], rng.lognormal(0.0, 0.2, 15))
    assert first.info["seed"] == 11 and first.info["distributions"]["targets.2027.national_cap_mt+"] == {
        "kind": "normal", "mean": 0.0, "sd": 5.0}


def test_monte_carlo_scenarios_equal_individual_solves(toy):
    study = monte_carlo(toy, 4, DRAWN, seed=3)
    for scenario in range(4):
        overrides = {key: study.scenarios.at[scenario, key] for key in DRAWN}
        single = solve(toy, overrides=overrides, allocation=False)
        pd.testing.assert_frame_equal(_rows(study, scenario, "years"), single.years, check_exact=False)


def test_serial_equals_two_worker_cluster(toy, china, client):
    """The same study serially and on 2 worker processes: identical tables, to the bit."""
    serial, parallel = (monte_carlo(toy, 30, DRAWN, seed=5, client=c, scenarios_per_task=4) for c in (None, client))
    assert parallel.info["workers"] == 2 and parallel.info["run_on"] == "2 Dask workers"
    pd.testing.assert_frame_equal(serial.scenarios, parallel.scenarios)
    _same_tables(serial, parallel, exact=True)
    caps = {"targets.2035.national_cap_mt": np.linspace(9_800, 10_900, 8)}  # China's many equal-cost optima
    serial, parallel = (sweep(china, caps, client=c, scenarios_per_task=3) for c in (None, client))
    pd.testing.assert_frame_equal(serial.scenarios, parallel.scenarios)
    _same_tables(serial, parallel, exact=True)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda d: sweep(d, {"discount_rat": [0.1]}),
     'sweep grid, key "discount_rat": expected a scenario key or TABLE.ROW.COLUMN'),
    (lambda d: sweep(d, {"sectors.stel.trading_from": [2026]}), "did you mean 'steel'?"),
    (lambda d: sweep(d, {"sectors.steel.trading_from": [2026]}, mode="cross"), "expected one of 'product', 'zip'"),
    (lambda d: monte_carlo(d, 10, {"discount_rate": {"kind": "gaussian", "mean": 0.05, "sd": 0.01}}, 1),
     "kind: found 'gaussian', expected one of 'normal', 'lognormal', 'uniform', 'triangular'"),
    (lambda d: monte_carlo(d, 10, {"discount_rate": {"kind": "normal", "mean": 0.05}}, 1),
     'key "discount_rate".sd: expected a number of at least 0'),
    (lambda d: monte_carlo(d, 10, {"market.banking": {"kind": "uniform", "low": 0, "high": 1}}, 1),
     "a numeric input (market.banking is bool)"),
    (lambda d: run_scenarios(d, pd.DataFrame({"mac.power.BB.cost_cny_per_t": [1.0]})), "(did you mean"),
])
def test_key_and_design_errors(toy, call, message):
    with pytest.raises(InputError) as caught:
        call(toy)
    assert message in str(caught.value)


STUDY_FILE = """dataset = "{dataset}"
[sweep]
"targets.2027.national_cap_mt" = [50, 135, 140]
[montecarlo]
n = 6
seed = 4
[montecarlo.distributions]
"mac.*.*.cost_cny_per_t*" = {{ kind = "uniform", low = 0.9, high = 1.1 }}
"""


def _study_file(tmp_path, text: str = STUDY_FILE, name: str = "study.toml"):
    path = tmp_path / name
    path.write_text(text.format(dataset=TOY.as_posix()))
    return path


@pytest.mark.parametrize("kind, change, message", [
    ("montecarlo", ('kind = "uniform"', 'kind = "gausian"'),
     'key montecarlo.distributions."mac.*.*.cost_cny_per_t*".kind: found \'gausian\', expected one of'),
    ("montecarlo", ("n = 6\n", ""), "key montecarlo.n: expected a whole number from 1 to 1000000"),
    ("montecarlo", ("seed = 4", "seed = -1"), "key montecarlo.seed: found '-1', expected a whole number from 0"),
    ("montecarlo", ("low = 0.9, high = 1.1", "low = 1.1, high = 0.9"), '.high: found \'0.9\', expected at least low'),
    ("sweep", ('"targets.2027.national_cap_mt"', '"targets.2026.national_cap_mt"'),
     'study.toml, [sweep], key "targets.2026.national_cap_mt": expected a year of targets.csv (did you mean'),
    ("sweep", ("[50, 135, 140]", "140"), 'key sweep."targets.2027.national_cap_mt": found \'140\', expected a list'),
    ("sweep", ('dataset =', 'datset ='), "key datset: found"),
    ("sweep", ("[sweep]", '[sweep]\nmode = "cross"'), "key sweep.mode: found 'cross', expected one of 'product', 'zip'"),
    ("sweep", ("[sweep]\n\"targets.2027.national_cap_mt\" = [50, 135, 140]", ""), "expected a [sweep] table"),
])
def test_study_file_errors_name_file_and_key(tmp_path, kind, change, message):
    path = _study_file(tmp_path, STUDY_FILE.replace(*change))
    from model.studies.study import run_study_file

    with pytest.raises(InputError) as caught:
        run_study_file(read_study_file(path, kind), kind, client=None)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_study_file_reads_unquoted_keys_and_relative_paths(tmp_path):
    (tmp_path / "studies").mkdir()
    path = tmp_path / "studies" / "s.toml"
    path.write_text('dataset = "../data"\nout = "../results/s"\n[sweep]\nsectors.steel.trading_from = [2026]\n')
    spec = read_study_file(path, "sweep")
    assert spec.grid == {"sectors.steel.trading_from": [2026]}
    assert (spec.dataset, spec.out) == (tmp_path / "data", tmp_path / "results" / "s")


# -- writing, reading, the report, the command line ---------------------------------------------


def test_write_read_and_report(tmp_path, toy):
    study = sweep(toy, {"targets.2027.national_cap_mt": [50, 135, 140]})
    folder = study.write(tmp_path / "sweep", csv=True)
    assert sorted(p.name for p in folder.iterdir()) == [
        "scenarios.csv", "sector_years.csv", "sector_years.parquet", "study.json", "years.csv", "years.parquet"]
    back = Study.read(folder)
    _same_tables(study, back, exact=True)
    pd.testing.assert_frame_equal(back.scenarios.fillna({"message": ""}), study.scenarios, check_dtype=False)
    assert back.info == json.loads(json.dumps(study.info))
    written = write_report(folder)
    assert [p.relative_to(folder).as_posix() for p in written] == [
        "plots/price_fan.png", "plots/price_distribution.png", "plots/sweep.png", "report.html", "results.xlsx"]
    with pytest.raises(Exception, match="already exists"):
        study.write(folder)


def test_abatement_steps_kept_on_request(tmp_path, toy):
    study = sweep(toy, {"targets.2027.national_cap_mt": [135]}, abatement_steps=True)
    assert study.abatement_steps.columns[0] == "scenario" and len(study.abatement_steps) == 18
    assert (study.write(tmp_path / "s") / "abatement_steps.parquet").is_file()


def test_cli_sweep_serial(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["sweep", str(_study_file(tmp_path)), "--serial", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"sweep of {TOY.as_posix()}: 3 scenarios (2 optimal, 1 infeasible, 0 errors)" in result.output
    assert "on this process" in result.output and f"study written to {out}/" in result.output
    assert pd.read_csv(out / "scenarios.csv")["status"].tolist() == ["infeasible", "optimal", "optimal"]
    again = CliRunner().invoke(cli, ["sweep", str(_study_file(tmp_path)), "--serial", "--out", str(out)])
    assert again.exit_code == 1 and "already exists: pass --force" in again.output
    both = CliRunner().invoke(cli, ["sweep", str(_study_file(tmp_path)), "--serial", "--scheduler", "tcp://x:1"])
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_cli_montecarlo_on_the_default_local_cluster(tmp_path):
    out = tmp_path / "mc"
    result = CliRunner().invoke(cli, ["-q", "montecarlo", str(_study_file(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    info = json.loads((out / "study.json").read_text())
    assert info["kind"] == "montecarlo" and info["run_on"].endswith("Dask workers") and info["n"] == 6
    serial = monte_carlo(TOY, 6, {"mac.*.*.cost_cny_per_t*": {"kind": "uniform", "low": 0.9, "high": 1.1}}, 4)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "years.parquet"), serial.years)


def test_cli_bad_study_file(tmp_path):
    path = _study_file(tmp_path, STUDY_FILE.replace("n = 6\n", ""))
    result = CliRunner().invoke(cli, ["montecarlo", str(path), "--serial"])
    assert result.exit_code == 2
    assert result.output == f"error: {path}, key montecarlo.n: expected a whole number from 1 to 1000000\n"


# -- documentation and examples in step ---------------------------------------------------------


def test_readme_documents_the_study_file():
    assert study_file_reference() in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("example, kind", [("aluminium_delay", "sweep"), ("target_2035", "sweep"),
                                           ("measurement_uncertainty", "montecarlo")])
def test_example_study_files_match_their_scripts(example, kind):
    """Each example's study file (for the CLI) describes the study its script runs."""
    spec = importlib.util.spec_from_file_location(example, ROOT / "examples" / f"{example}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    study_file = read_study_file(ROOT / "examples" / f"{example}.toml", kind)
    assert study_file.dataset == script.DATASET
    if example == "aluminium_delay":
        assert study_file.grid == script.GRID
    elif example == "target_2035":
        assert study_file.grid == {"targets.2035.national_cap_mt": list(script.targets_2035_mt().values())}
    else:
        assert (study_file.n, study_file.seed) == (script.DRAWS, script.SEED)
        assert {k: d.as_dict() for k, d in study_file.distributions.items()} == script.DISTRIBUTIONS


def test_scenarios_start_from_the_base_optimum_only(toy):
    """A scenario of the base's LP structure re-solves from the base dataset's optimal basis;
    any other (or one of an infeasible base, which has no optimum) solves cold, so no
    scenario's numbers depend on which scenarios its worker solved before."""
    from model import apply_overrides, derive_parameters
    from model.lp.formulation import formulate
    from model.studies.study import _resolver

    def start(base, scenario):
        parameters = derive_parameters(scenario)
        return _resolver(base, base.sha256, parameters, formulate(parameters))[1]

    assert start(toy, apply_overrides(toy, {"targets.2027.national_cap_mt": 130})) == "reference"
    assert start(toy, apply_overrides(toy, {"sectors.steel.trading_from": 2027})) == "cold"
    infeasible = apply_overrides(toy, {"targets.*.national_cap_mt": 50})
    assert start(infeasible, apply_overrides(infeasible, {"targets.*.national_cap_mt": 140})) == "cold"


def test_structure_changing_scenarios_serial_equals_two_worker_cluster(china, client):
    """Scenarios that change the LP's structure (aluminium trading from 2028 or 2030) solve
    cold on a Resolver made by whichever of them a worker met first; each is handed to HiGHS
    afresh, so serially and on 2 workers the tables are identical, to the bit."""
    grid = {"sectors.aluminium.trading_from": [2028, 2030],
            "targets.2035.national_cap_mt": [9_800, 10_300, 10_900],
            "mac.cement.*.cost_cny_per_t*": [0.9, 1.1]}
    serial, parallel = (sweep(china, grid, client=c, scenarios_per_task=3) for c in (None, client))
    assert (serial.scenarios["status"] == "optimal").all()
    pd.testing.assert_frame_equal(serial.scenarios, parallel.scenarios)
    _same_tables(serial, parallel, exact=True)


# -- sweeps of the supply rules' tables: offsets.csv and reserve.csv rows ----------------------


def _same_as_its_own_solve(study: Study, row, single) -> None:
    """A sweep scenario's objective and allowance prices equal its separate solve's to 1e-9."""
    assert row.objective_bn_cny == pytest.approx(single.summary["objective_bn_cny"], rel=1e-9, abs=1e-9)
    prices = _rows(study, row.scenario, "years")["allowance_price_cny_per_t"].to_numpy()
    np.testing.assert_allclose(prices, single.years["allowance_price_cny_per_t"].to_numpy(), rtol=0, atol=1e-9)


def test_a_sweep_of_an_offset_rows_cost_and_potential_equals_its_solves():
    """The toy with 10 Mt of forestry offsets in 2027 within a 5% limit (tests/families/
    test_offsets.py): at a cost c of 20 or 30 CNY/t 10 Mt are used to the limit, 90 / 0.95 x
    0.05 = 4.737 Mt, and the 2027 price P solves P - L = c, P - 0.05 L = 60 (steel's step B):
    P = (60 - 0.05 c) / 0.95, 62.105 or 61.579; 3 Mt are used up (price 60, steel's step B at
    the margin); at 70 CNY/t none are used (60). Each scenario equals its own solve."""
    from tests.families.test_offsets import with_offsets

    dataset = with_offsets()
    grid = {"offsets.forestry.A.2027.cost_cny_per_t": [20.0, 30.0, 70.0],
            "offsets.forestry.A.2027.potential_mt": [3.0, 10.0]}
    study = sweep(dataset, grid)
    assert len(study.scenarios) == 6 and (study.scenarios["status"] == "optimal").all()
    used = {}
    for row in study.scenarios.itertuples(index=False):
        overrides = {key: study.scenarios.at[row.scenario, key] for key in grid}
        single = solve(dataset, overrides=overrides, allocation=False)
        _same_as_its_own_solve(study, row, single)
        last = _rows(study, row.scenario, "years").iloc[-1]
        used[tuple(overrides.values())] = (last["offsets_used_mt"], last["allowance_price_cny_per_t"])
    limit = 90 / 0.95 * 0.05
    expected = {(20.0, 3.0): (3.0, 60.0), (20.0, 10.0): (limit, (60 - 1) / 0.95), (30.0, 3.0): (3.0, 60.0),
                (30.0, 10.0): (limit, (60 - 1.5) / 0.95), (70.0, 3.0): (0.0, 60.0), (70.0, 10.0): (0.0, 60.0)}
    assert used.keys() == expected.keys()
    for key, value in expected.items():
        assert used[key] == pytest.approx(value), key


def test_a_sweep_of_a_reserve_tiers_volume_and_trigger_equals_its_cli_solves(tmp_path):
    """The toy with a reserve tier from 2025 (tests/families/test_reserve.py), its volume and
    trigger set by --set reserve.1.2025.volume_mt / trigger_price_cny_per_t, releases not counted
    under the national target: at a trigger of 50
    a volume of 8 sells the 5 Mt of steel's step B and the 2027 price is 50, a volume of 3 sells
    3 and the price stays 60; at 65 (above 60) nothing is sold. Each sweep scenario equals
    `run.py solve --set` of its values."""
    from tests.families.test_reserve import with_reserve

    folder = tmp_path / "toy_reserve"
    shutil.copytree(TOY, folder)
    with_reserve([8.0]).reserve.to_csv(folder / "reserve.csv", index=False)
    with (folder / "scenario.toml").open("a") as toml:  # releases beyond the national cap (as there)
        toml.write("\n[market.reserve]\ncounts_in_national_target = false\n")
    grid = {"reserve.1.2025.volume_mt": [3.0, 8.0], "reserve.1.2025.trigger_price_cny_per_t": [50.0, 65.0]}
    study = sweep(load_dataset(folder), grid)
    expected = {(3.0, 50.0): (60.0, 3.0), (8.0, 50.0): (50.0, 5.0), (3.0, 65.0): (60.0, 0.0), (8.0, 65.0): (60.0, 0.0)}
    for row in study.scenarios.itertuples(index=False):
        values = [study.scenarios.at[row.scenario, key] for key in grid]
        out = tmp_path / f"scenario{row.scenario}"
        sets = [arg for key, value in zip(grid, values) for arg in ("--set", f"{key}={value}")]
        result = CliRunner().invoke(cli, ["solve", str(folder), "--out", str(out), *sets])
        assert result.exit_code == 0, result.output
        years = pd.read_csv(out / "years.csv")
        summary = json.loads((out / "summary.json").read_text())
        assert row.objective_bn_cny == pytest.approx(summary["objective_bn_cny"], rel=1e-9, abs=1e-9)
        swept = _rows(study, row.scenario, "years")
        np.testing.assert_allclose(swept["allowance_price_cny_per_t"], years["allowance_price_cny_per_t"], rtol=0,
                                   atol=1e-9)
        assert (swept["allowance_price_cny_per_t"].iloc[-1], swept["reserve_released_mt"].iloc[-1]) == pytest.approx(
            expected[tuple(values)])
