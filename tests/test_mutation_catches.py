"""Tests for mutants of model/ that survived ``benchmarks/mutation.py --sample 80 --seed 18``
(and, below, ``--sample 40 --seed 26``): each states the behaviour the mutant broke (named in
the docstring) with numbers or exact text, and fails with that mutant."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.ticker import ScalarFormatter

from model import InputError, compare, load_dataset, solve
from model.studies.compare import _page, comparison_figures
from model.report.plots import StepFormatter, plot_sweep, results_figures
from model.studies.study import MONTECARLO, read_study_file, run_scenarios, run_study_file, sweep
from model.data.workbook import dataset_readme, init_dataset
from tests.conftest import CHINA, FIVE_INSTALLATIONS_WITH_OUTPUT, TOY, toy_with_registry


@pytest.fixture(scope="module")
def toy_and_banking():
    return compare([solve(TOY), solve(load_dataset(TOY, scenarios=["banking"]))])


def test_comparison_charts_side_by_side_and_their_labels(toy_and_banking):
    """The ETS cap and the ETS sectors' emissions are two panels side by side, one line per run
    (compare._figure: one row of ncols panels, not ncols rows of which one is drawn); the price
    difference is labelled with its unit. The toy meets its caps exactly: emissions 125, 107.5,
    90 Mt in 2025-2027 in both runs; banking lowers the 2027 price from 60 to 44 CNY/t."""
    figures = comparison_figures(toy_and_banking)
    cap, emissions = figures["ets_cap_and_emissions"].axes
    assert [cap.get_title(), emissions.get_title()] == ["ETS cap", "ETS sectors' emissions"]
    assert cap.get_position().y0 == pytest.approx(emissions.get_position().y0)  # one row
    assert cap.get_position().x0 < emissions.get_position().x0
    assert [line.get_label() for line in emissions.lines] == ["toy", "toy+banking"]
    assert list(emissions.lines[0].get_ydata()) == pytest.approx([125.0, 107.5, 90.0])
    free, revenue = figures["free_allocation"].axes
    assert [free.get_ylabel(), revenue.get_ylabel()] == ["Mt CO2", "bn CNY"]
    assert len(revenue.lines) == 2
    (difference,) = figures["price_difference"].axes
    assert difference.get_ylabel() == "Price difference (CNY/t CO2)"
    banking = [line for line in difference.lines if line.get_label() == "toy+banking"]
    assert list(banking[0].get_ydata()) == pytest.approx([0.0, 0.0, -16.0])


def test_comparison_page_lists_each_runs_changed_settings(toy_and_banking):
    """The page's settings table has a run column (compare._page): the banking run is the
    one with market.banking = true."""
    page = _page(toy_and_banking, {}, {})
    table = page[page.index("Settings that differ"):]
    assert re.findall(r"<th>([^<]*)</th>", table) == ["run", "dataset", "settings changed"]
    assert re.findall(r"<td>([^<]*)</td>", table) == ["toy", "toy", "-", "toy+banking", "toy", "market.banking = true"]


def test_merit_order_only_in_a_year_with_a_trading_sector():
    """The toy with power trading from 2026 (and a 10% rule-cap reduction in its 2025
    simulation year): in 2025 steel and power are both in simulation and rest is outside, so
    no sector trades and there is no merit order; in 2026 power and steel trade
    (report.results_figures: a trading sector in the chosen year, not a non-trading one)."""
    results = solve(TOY, overrides={"sectors.power.trading_from": 2026, "sectors.power.simulation_reduction": 0.1})
    phases = results.sector_years.query("year == 2025").set_index("sector")["phase"].to_dict()
    assert phases == {"power": "simulation", "steel": "simulation", "rest": "outside"}
    assert "merit_order" not in results_figures(results, 2025)
    assert "merit_order" in results_figures(results, 2026)


def test_a_sweep_of_a_year_has_no_thousands_separator_on_its_axis():
    """A sweep of steel's trading_from (a year, declared in sectors.csv) plots 2026 and 2027
    as years: the x axis keeps matplotlib's plain formatter, the y axes get thousands
    separators (report._is_year reads the unit from the table's schema)."""
    study = sweep(TOY, {"sectors.steel.trading_from": [2026, 2027]}, client=None)
    figure = plot_sweep(study)
    figure.canvas.draw()
    for ax in figure.axes:
        assert type(ax.xaxis.get_major_formatter()) is ScalarFormatter
        assert isinstance(ax.yaxis.get_major_formatter(), StepFormatter)
        assert not any("," in tick.get_text() for tick in ax.get_xticklabels())
    price = sweep(TOY, {"sectors.steel.base_emissions_mt*": [0.9, 1.1]}, client=None)
    assert all(isinstance(ax.xaxis.get_major_formatter(), StepFormatter) for ax in plot_sweep(price).axes)


def test_a_montecarlo_key_the_dataset_lacks_is_located_in_the_study_file(tmp_path):
    """A key for a sector the dataset does not have is found when the dataset is read, and
    the message names the study file's table (studies.run_study_file passes its location)."""
    study_file = tmp_path / "mc.toml"
    study_file.write_text(f'dataset = "{TOY}"\n[montecarlo]\nn = 2\nseed = 1\n[montecarlo.distributions]\n'
                          '"sectors.nosuch.base_emissions_mt*" = { kind = "uniform", low = 0.9, high = 1.1 }\n')
    with pytest.raises(InputError) as caught:
        run_study_file(read_study_file(study_file, MONTECARLO), MONTECARLO, client=None)
    assert str(caught.value) == (f'{study_file}, [montecarlo.distributions], key "sectors.nosuch.base_emissions_mt*":'
                                 " expected a sector of sectors.csv")


def test_no_scenarios_give_an_empty_study():
    """Zero rows of inputs solve nothing: the study has no scenario and keeps the input's
    column (studies._gather with no outcomes)."""
    study = run_scenarios(TOY, pd.DataFrame({"discount_rate": pd.Series([], dtype=float)}), client=None)
    assert len(study.scenarios) == 0
    assert study.scenarios.columns.tolist() == ["scenario", "status", "message", "discount_rate", "objective_bn_cny"]
    assert study.info["n"] == 0
    assert study.info["kind"] == "scenarios"  # run_scenarios' default kind: neither a sweep nor a Monte Carlo


def test_init_defaults_to_china_and_its_readme_has_no_notes(tmp_path):
    """init_dataset without a source copies the default dataset, china, which has no
    README.md of its own: the new README has the files list and no notes section, with a
    blank line under each heading (workbook.init_dataset and dataset_readme)."""
    folder = init_dataset(tmp_path / "mine")
    mine, china = load_dataset(folder), load_dataset(CHINA)
    assert mine.name == "mine"
    assert mine.sectors["sector"].tolist() == china.sectors["sector"].tolist()
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert readme == dataset_readme("mine", folder)
    lines = readme.splitlines()
    assert lines[:2] == ["# Dataset `mine`", ""]
    assert lines[3:6] == ["", "## Files", ""]
    assert lines[6].startswith("- `scenario.toml`: the settings")
    assert "## Notes" not in readme
    assert lines[-1].startswith("- `scenarios/NAME.toml` (optional)")


def test_a_pyomo_model_that_maximises():
    """A script's model maximising 2x + 3y + 1 with x <= 4, y <= 3, x + y <= 5: y = 3, x = 2,
    objective 14; the room constraint's dual is x's value per unit, 2 (solve._highs_lp keeps
    the maximisation; minimising would give x = y = 0 and 1)."""
    import pyomo.environ as pyo

    from model.solving.highs import solve_model

    m = pyo.ConcreteModel("max")
    m.x, m.y = pyo.Var(bounds=(0, 4)), pyo.Var(bounds=(0, 3))
    m.room = pyo.Constraint(expr=m.x + m.y <= 5)
    m.value = pyo.Objective(expr=2 * m.x + 3 * m.y + 1, sense=pyo.maximize)
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    solution = solve_model(m)
    assert solution.objective == pytest.approx(14.0)
    assert (pyo.value(m.x), pyo.value(m.y)) == pytest.approx((2.0, 3.0))
    assert m.dual[m.room] == pytest.approx(2.0)


def test_the_pyomo_objective_says_its_unit_and_is_in_million_cny():
    """build_model's objective is documented as the present value of abatement cost in
    million CNY (formulation.define_abatement_cost's doc), and so it is: the toy's
    3.147 bn CNY are 3,147 million."""
    import pyomo.environ as pyo

    from model import build_model

    m = build_model(load_dataset(TOY))
    assert m.abatement_cost.doc == "present value of abatement cost, million CNY"
    results = solve(m)
    assert pyo.value(m.abatement_cost) == pytest.approx(results.summary["objective_bn_cny"] * 1e3)
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793388429)


def test_a_relative_set_of_a_text_column_says_it_needs_a_number():
    """--set sectors.steel.output_unit*=2 multiplies a text column (overrides._combined)."""
    from model import apply_overrides

    with pytest.raises(InputError) as caught:
        apply_overrides(load_dataset(TOY), {"sectors.steel.output_unit*": 2})
    assert str(caught.value) == "--set sectors.steel.output_unit*=2: expected '=' for output_unit: *= needs a number"


def test_a_write_that_runs_out_of_space_names_the_file_and_leaves_nothing(tmp_path):
    """An OSError while writing (a full disk) names the file being written, says nothing was
    replaced and how to get on; the temporary file is removed (results.write_file)."""
    import errno

    from model import EtscapError
    from model.results.tables import write_file

    def full_disk(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "prices.csv"
    with pytest.raises(EtscapError) as caught:
        write_file(out, full_disk)
    assert str(caught.value) == (f"cannot write {out}: No space left on device; nothing was replaced; "
                                 "free some space or choose another --out")
    assert list(tmp_path.iterdir()) == []


def test_boolean_solver_options_take_1_0_on_off_true_false():
    """A HiGHS bool option given as text (--solver-option, highs_options) takes 1/0, on/off,
    true/false in any case (solve._typed_option), and refuses anything else."""
    from model import SolverError
    from model.solving.highs import new_highs, set_options

    highs = new_highs(verbose=False)
    for text, expected in (("1", True), ("0", False), ("On", True), ("off", False), ("TRUE", True), ("false", False)):
        set_options(highs, {"allow_unbounded_or_infeasible": text})
        assert highs.getOptionValue("allow_unbounded_or_infeasible")[1] is expected, text
    with pytest.raises(SolverError) as caught:
        set_options(highs, {"allow_unbounded_or_infeasible": "yes"})
    assert str(caught.value) == "HiGHS option allow_unbounded_or_infeasible='yes' was refused (expected true or false)"


def test_abatement_steps_at_facility_resolution_keep_their_types(tmp_path):
    """At facility resolution the steps table keeps text as Python objects and the pool as a
    nullable integer, pooled or not (results._abatement_steps): the toy with five
    installations has pools 0, 1, 2 when pooled and none otherwise (every value <NA>, still
    Int64, so a study's parquet keeps one type)."""

    folder = toy_with_registry(tmp_path / "toy", FIVE_INSTALLATIONS_WITH_OUTPUT)
    for pooled, pools in ((True, [0, 1, 2]), (False, [])):
        steps = solve(folder, overrides={"model.resolution": "facility",
                                         "model.pool_installations": pooled}).abatement_steps
        assert {name: str(steps[name].dtype) for name in ("sector", "facility_id", "step", "pool", "year")} == {
            "sector": "object", "facility_id": "object", "step": "object", "pool": "Int64", "year": "int64"}
        assert sorted(steps["pool"].dropna().unique().tolist()) == pools


def test_the_report_command_lists_what_it_wrote(tmp_path):
    """`report` names every file it wrote, comma-separated, in the order written: the toy in
    2026 has all seven plots (power and steel trade, stage 2 ran) (cli._write_report)."""
    from click.testing import CliRunner

    from model.cli import cli

    folder = tmp_path / "toy"
    assert CliRunner().invoke(cli, ["-q", "solve", str(TOY), "--out", str(folder)]).exit_code == 0
    result = CliRunner().invoke(cli, ["report", str(folder), "--year", "2026"])
    assert result.exit_code == 0, result.output
    plots = ["cap_and_emissions", "prices", "merit_order", "mac_curves", "who_pays", "free_share", "burden_share"]
    assert result.output == (f"report written to {folder}/: " + ", ".join(f"plots/{name}.png" for name in plots)
                             + ", report.html, results.xlsx\n")
    assert sorted(p.stem for p in (folder / "plots").iterdir()) == sorted(plots)


def test_a_leftover_that_cannot_be_removed_does_not_stop_a_write(tmp_path, monkeypatch):
    """A killed run's hidden .NAME.writing-* folder is removed before the next write; when it
    cannot be removed whole (on NFS a file still open elsewhere leaves a busy .nfs* entry:
    EBUSY), the write goes on and the leftover stays for a later run
    (results.remove_leftovers removes what it can and ignores the rest)."""
    import errno
    import os

    from model.results.tables import write_file

    out = tmp_path / "prices.csv"
    leftover = tmp_path / ".prices.csv.writing-killed"
    leftover.mkdir()
    (leftover / "part.csv").write_text("half")
    real_rmdir = os.rmdir

    def busy(path, *args, **kwargs):
        if os.fspath(path) in (str(leftover), leftover.name):
            raise OSError(errno.EBUSY, "Device or resource busy", str(path))
        return real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", busy)
    assert write_file(out, lambda path: path.write_text("year,price\n2025,40\n")) == out
    assert out.read_text() == "year,price\n2025,40\n"
    assert leftover.is_dir() and not (leftover / "part.csv").exists()  # emptied, left in place


def test_a_settings_file_saved_as_latin_1_says_where_and_how_to_save_it(tmp_path):
    """scenario.toml with 'café' saved in Latin-1 (byte 0xe9) in its first comment: the
    message gives the byte, the line and the fix, a UTF-8 text file (inputs._decode for a
    text file, not a spreadsheet's row)."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    settings = folder / "scenario.toml"
    settings.write_bytes(settings.read_bytes().replace(b"(see README.md).", b"(see README.md), caf\xe9.", 1))
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert str(caught.value) == ("scenario.toml: found 'byte 0xe9, which is not UTF-8, on line 1', "
                                 "expected a UTF-8 text file")


def test_the_pyomo_model_documents_the_cap_split():
    """build_model's cap_split rows say what they hold and in what unit; on the solved toy
    the sector caps of the covered sectors add up to the ETS cap in every year (125, 107.5,
    90 Mt)."""
    import pyomo.environ as pyo

    from model import build_model

    m = build_model(load_dataset(TOY))
    assert m.cap_split.doc == "sum of sector caps - ets_cap = 0 (Mt)"
    results = solve(m)
    caps = results.sector_years.dropna(subset=["cap_mt"]).groupby("year")["cap_mt"].sum()
    assert caps.tolist() == pytest.approx([125.0, 107.5, 90.0])
    assert [pyo.value(m.ets_cap_mt[year]) for year in (2025, 2026, 2027)] == pytest.approx([125.0, 107.5, 90.0])


def test_a_facility_step_of_an_unknown_installation_names_where_to_declare_it(tmp_path):
    """facility_mac.csv row 3 gives a step to sX, which facilities.csv does not list
    (inputs._check_facility_mac)."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text("facility_id,sector,output,emissions_mt,cost_factor\n"
                                           "p1,power,,60,1\np2,power,,40,1\ns1,steel,10,25,1\n")
    (folder / "facility_mac.csv").write_text("facility_id,step,potential_share,cost_cny_per_t\n"
                                             "p1,A,0.2,10\nsX,A,0.3,20\n")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert str(caught.value) == ("facility_mac.csv, row 3, column facility_id: found 'sX', "
                                 "expected an installation of facilities.csv")


def test_an_allocation_row_with_min_above_max_names_the_cell(tmp_path):
    """allocation.csv row 2 asks steel's 2026 free share to be at least 0.9 and at most 0.8
    (inputs._check_optional_tables): the cell is free_share_min, the bound its max."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "allocation.csv").write_text("sector,year,free_share_min,free_share_max\nsteel,2026,0.9,0.8\n")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert str(caught.value) == ("allocation.csv, row 2, column free_share_min: found '0.9', "
                                 "expected at most free_share_max (0.8)")


def test_steps_available_before_the_horizon_count_only_its_years(tmp_path, monkeypatch):
    """The toy's six steps all available from 2000, horizon 2025-2027: 6 x 3 = 18 abatement
    variables (not 6 x 28 from 2000), within a limit of 18 and one too many for 17
    (inputs._check_mac clips available_from at first_year)."""
    import shutil

    import model.data.inputs

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    header, *rows = (folder / "mac.csv").read_text().splitlines()
    assert header.split(",")[4] == "available_from"
    rows = [",".join("2000" if i == 4 else cell for i, cell in enumerate(row.split(","))) for row in rows]
    (folder / "mac.csv").write_text("\n".join([header, *rows]) + "\n")
    monkeypatch.setattr(model.data.inputs, "MAX_ABATEMENT_VARIABLES", 18)
    assert len(load_dataset(folder).mac) == 6
    monkeypatch.setattr(model.data.inputs, "MAX_ABATEMENT_VARIABLES", 17)
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert str(caught.value) == ("mac.csv: found '18 step-years', expected at most 17 abatement variables (steps "
                                 "times years available; fewer steps or a shorter horizon)")


def test_switching_a_loaded_dataset_to_facility_resolution_is_checked():
    """Dataset.replace with model.resolution = facility on the toy, which has no
    facilities.csv, is refused at once (inputs.check_dataset re-runs the resolution check
    when the settings change)."""
    dataset = load_dataset(TOY)
    with pytest.raises(InputError) as caught:
        dataset.replace(settings={**dataset.settings, "model.resolution": "facility"})
    assert str(caught.value) == ("scenario.toml, column model.resolution: found 'facility', expected 'sector', "
                                 "or a facilities.csv with the installations (run.py make-registry makes one)")


def test_to_xarray_carries_the_run_and_both_tables():
    """Results.to_xarray (notebook.to_xarray, with xarray installed as CI and the dev extra
    do): the run's status and objective as attributes; years' columns over year, and a
    column both tables have (emissions_mt) twice: national by year and sector_emissions_mt
    by sector and year. The toy emits 170, 152.5, 135 Mt: power's and steel's 125, 107.5,
    90 (the ETS cap) plus rest's 45 outside (its BAU 50 less its 5 Mt step A, at 30 CNY/t)."""
    pytest.importorskip("xarray")
    results = solve(TOY)
    ds = results.to_xarray()
    assert ds.attrs == {"scenario": "toy", "status": "optimal",
                        "objective_bn_cny": pytest.approx(results.summary["objective_bn_cny"])}
    assert ds["emissions_mt"].dims == ("year",)
    assert ds["emissions_mt"].to_numpy().tolist() == pytest.approx([170.0, 152.5, 135.0])
    assert ds["sector_emissions_mt"].dims == ("sector", "year")
    assert ds["sector_emissions_mt"].sel(sector="rest").to_numpy().tolist() == pytest.approx([45.0, 45.0, 45.0])
    assert ds["sector_emissions_mt"].sum("sector").to_numpy().tolist() == pytest.approx([170.0, 152.5, 135.0])


# -- survivors of ``benchmarks/mutation.py --sample 40 --seed 26`` (on the merged tree) ---------


def test_every_command_documents_its_verbosity_options():
    """`validate --help` lists the three verbosity options every command takes, with what
    each does (cli.verbosity_options)."""
    from click.testing import CliRunner

    from model.cli import cli

    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "-q, --quiet Print errors only." in lines
    assert "-v, --verbose Show the HiGHS log." in lines
    assert "--debug / --no-debug Show tracebacks and the HiGHS log." in lines


def test_a_replaced_sectors_table_has_its_names_checked_again():
    """Dataset.replace with the toy's steel renamed power (a study or a script changing the
    sectors table): the duplicate name is reported on sectors.csv row 3, before the two mac.csv
    rows that now name no sector (inputs.check_dataset re-runs the name check when the
    table's sector column changes; skipping it reports only the mac.csv rows)."""
    dataset = load_dataset(TOY)
    sectors = dataset.sectors.copy()
    sectors.loc[sectors["sector"] == "steel", "sector"] = "power"
    with pytest.raises(InputError) as caught:
        dataset.replace(sectors=sectors)
    assert str(caught.value) == (
        "3 problems in the inputs:\n"
        "  sectors.csv, row 3, column sector: found 'power', expected a key not used in an earlier row\n"
        "  mac.csv, row 4, column sector: found 'steel', expected a sector of sectors.csv\n"
        "  mac.csv, row 5, column sector: found 'steel', expected a sector of sectors.csv")


def test_a_resolve_of_new_numbers_keeps_the_warm_basis():
    """The toy with presolve off takes some simplex iterations on its first solve; re-solved
    with steel A's cost 20 -> 21 CNY/t (numbers only: the same coefficients' pattern, the
    same optimal basis) and then as it was, HiGHS starts from the basis it holds and takes
    0 iterations (resolve.Resolver._push changes the numbers in place; passing a new model
    would drop the basis and take as many iterations as the first solve). Each answer equals
    a fresh solve."""
    from model import apply_overrides
    from model.solving.resolve import Resolver

    toy = apply_overrides(load_dataset(TOY), {"solver.presolve": "off"})
    dearer = apply_overrides(toy, {"mac.steel.A.cost_cny_per_t": 21})
    resolver = Resolver(toy)
    first = resolver.solve(toy)
    assert first.summary["iterations"]["simplex"] > 0
    again = [resolver.solve(dearer), resolver.solve(toy)]
    assert [r.summary["iterations"]["simplex"] for r in again] == [0, 0]
    assert [r.summary["objective_bn_cny"] for r in again] == pytest.approx(
        [solve(dearer, allocation=False).summary["objective_bn_cny"], 3.147024793388429], abs=1e-9)


def test_a_sweep_on_a_dask_client_equals_its_serial_solves():
    """A sweep of the discount rate (5%, 10%) on an in-process dask client (one worker
    thread, so the code under test is this process's): each scenario's objective is its own
    solve's, 10% the toy's 3.147 bn CNY, and the scenarios stay in order
    (studies._run_chunks gathers the chunks as they complete)."""
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        study = sweep(TOY, {"discount_rate": [0.05, 0.1]}, client=client)
    assert study.scenarios["scenario"].tolist() == [0, 1]
    assert study.scenarios["status"].tolist() == ["optimal", "optimal"]
    assert study.scenarios["objective_bn_cny"].tolist() == pytest.approx(
        [solve(TOY, overrides={"discount_rate": 0.05}).summary["objective_bn_cny"], 3.147024793388429], abs=1e-9)
    assert study.info["run_on"] == "1 Dask worker"


def test_the_summary_says_how_the_allocation_was_chosen():
    """With stage 2 (the default) the summary names its objective, cost tolerance and
    status: the toy's min_max_burden at tolerance 0, optimal; without it, None
    (results._summary)."""
    assert solve(TOY).summary["allocation"] == {"objective": "min_max_burden", "cost_tolerance": 0.0,
                                                "status": "optimal"}
    assert solve(TOY, allocation=False).summary["allocation"] is None


def test_a_sweep_of_no_keys_says_what_the_grid_needs():
    """An empty grid is refused with where it came from, the sweep grid
    (studies.sweep_inputs)."""
    with pytest.raises(InputError) as caught:
        sweep(TOY, {}, client=None)
    assert str(caught.value) == "sweep grid: expected the values of at least one key"


def test_a_workbook_typo_in_a_sector_is_one_problem(tmp_path):
    """The toy with five installations as a workbook, steel's covered_from typed '2025x'
    (sheet sectors, row 4): one problem. The typo makes steel uncovered to the checks, and its
    three installations (sheet facilities, rows 5-7) would each be 'not a sector the ETS
    covers' if the checks across rows did not know which rows the bad cell's key names
    (workbook.read_workbook passes the dataset to _not_already_reported)."""

    import openpyxl

    from model.data.workbook import export_workbook

    folder = toy_with_registry(tmp_path / "toy", FIVE_INSTALLATIONS_WITH_OUTPUT)
    path = export_workbook(folder, tmp_path / "toy.xlsx")
    book = openpyxl.load_workbook(path)
    assert [book["sectors"]["A4"].value, book["sectors"]["B1"].value] == ["steel", "covered_from"]
    book["sectors"]["B4"] = "2025x"
    book.save(path)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    assert str(caught.value) == ("toy.xlsx, sheet sectors, row 4, column covered_from: found '2025x', "
                                 "expected a whole number from 1990 to 2100")


# -- survivors of --sample 40 --seed 26 on the final tree of 2026-12-01 ---------------------------

def test_an_unknown_distribution_parameter_is_named_with_a_suggestion():
    """A typo in a distribution's parameter is refused with the parameters the kind takes
    and the nearest one (studies.distribution)."""
    from model.studies.study import distribution

    with pytest.raises(InputError) as caught:
        distribution({"kind": "uniform", "low": 0.9, "hihg": 1.1}, where="montecarlo.distributions.x")
    message = str(caught.value)
    assert "montecarlo.distributions.x.hihg" in message
    assert "a parameter of a uniform distribution: low, high (did you mean 'high'?)" in message


def test_a_study_records_how_long_its_scenarios_took():
    """study.json's seconds: the start and the scenarios, both measured (>= 0)."""
    study = sweep(TOY, {"mac.power.A.cost_cny_per_t": [20.0, 25.0]}, allocation=False)
    assert set(study.info["seconds"]) == {"start", "scenarios"}
    assert study.info["seconds"]["scenarios"] >= 0.0 and study.info["seconds"]["start"] >= 0.0


def test_the_summary_counts_the_model_s_variables_and_constraints():
    """summary.json's model: the toy's stage-1 LP size under its documented keys."""
    model_size = solve(TOY, allocation=False).summary["model"]
    assert set(model_size) == {"name", "variables", "constraints"}
    assert model_size["variables"] > 0 and model_size["constraints"] > 0


def test_a_file_that_is_not_a_workbook_says_what_openpyxl_found(tmp_path):
    """A .xlsx that is not a zip: the message names the file and the error's kind."""
    fake = tmp_path / "not_a_book.xlsx"
    fake.write_text("this is text, not a workbook\n")
    with pytest.raises(InputError) as caught:
        load_dataset(fake)
    assert "an Excel workbook (.xlsx) (BadZipFile: File is not a zip file)" in str(caught.value)
