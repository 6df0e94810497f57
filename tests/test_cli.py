"""End to end through the command line, on the toy and the default China dataset."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import unittest.mock

import pandas as pd
import pytest
from click.testing import CliRunner

from model.cli import _ProgressBar, cli
from tests.conftest import ROOT


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_solve_toy(tmp_path, toy_path):
    result = _run("solve", toy_path, "--out", tmp_path / "toy")
    assert result.exit_code == 0, result.output
    assert "toy: optimal" in result.output
    years = pd.read_csv(tmp_path / "toy" / "years.csv")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 60])


def test_solve_default_dataset(tmp_path):
    """The default China dataset solves and passes every check. Under its current-policy BAU
    no national target binds before the 2035 NDC year (price 0); from 2040 prices rise."""
    result = _run("-q", "solve", "--out", tmp_path / "china")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    years = pd.read_csv(tmp_path / "china" / "years.csv").set_index("year")
    summary = pd.read_json(tmp_path / "china" / "summary.json", typ="series")
    assert all(check["passed"] for check in summary["checks"].values())
    price = years["allowance_price_cny_per_t"]
    assert price[2025] == price[2030] == price[2035] == 0.0
    assert price[2060] > price[2050] > price[2040] > 0.0
    assert years.loc[2035, "national_cap_mt"] == pytest.approx(10903.5)  # net GHG 11,803.5 - 2,000 non-CO2 + 1,100 sinks
    # within the national cap, net of the CCER removals counted as sinks, but for the offshore
    # wind and solar thermal offsets outside the count (the overshoot); with banking the count
    # is cumulative (emissions to t + the bank at t's end), so a year spending the bank (2060)
    # may emit above its own cap
    counted = years["emissions_mt"] - years["offsets_as_sinks_mt"]
    room = years["national_cap_mt"] + years["national_overshoot_mt"]
    assert (counted.cumsum() + years["bank_mt"] <= room.cumsum() + 1e-6).all()
    assert counted[2060] > room[2060] and years.loc[2059, "bank_mt"] > 0
    assert years["national_overshoot_mt"].sum() == pytest.approx(summary["national_overshoot_mt"])
    assert (years["offsets_as_sinks_mt"] == years["offsets_from_removals_mt"]).all()  # net GHG: removals are sinks


def test_set_overrides_and_solver_options(tmp_path, toy_path):
    result = _run("solve", toy_path, "--out", tmp_path / "o", "--set", "market.banking=true",
                  "--solver-option", "presolve=off", "--solver-option", "solver=ipm")
    assert result.exit_code == 0, result.output
    years = pd.read_csv(tmp_path / "o" / "years.csv")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 44])
    summary = pd.read_json(tmp_path / "o" / "summary.json", typ="series")
    assert summary["solver_options"]["presolve"] == "off"


def test_existing_results_folder_is_refused(tmp_path, toy_path):
    assert _run("solve", toy_path, "--out", tmp_path / "r").exit_code == 0
    result = _run("solve", toy_path, "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert "already exists: pass --force" in result.output
    assert _run("solve", toy_path, "--out", tmp_path / "r", "--force").exit_code == 0


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--set", "discount_rat=0.1"], 2, "did you mean 'discount_rate'?"),
        (["--set", "targets.*.national_cap_mt=10"], 3, "infeasible"),
        (["--solver-option", "no_such_option=1"], 4, "HiGHS option no_such_option='1' was refused"),
    ],
)
def test_user_errors_exit_without_traceback(tmp_path, toy_path, args, code, message):
    result = _run("solve", toy_path, "--out", tmp_path / "x", *args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_validate(toy_path, tmp_path):
    good = _run("validate", toy_path)
    assert good.exit_code == 0 and "valid (3 sectors, 6 cost steps, years 2025-2027)" in good.output
    bad = tmp_path / "bad"
    bad.mkdir()
    result = _run("validate", bad)
    assert result.exit_code == 2
    assert "scenario.toml: expected the file" in result.output


def test_inputs_lists_every_column():
    result = _run("inputs")
    assert result.exit_code == 0
    for name in ("national_cap_mt", "potential_share", "simulation_reduction", "market.banking"):
        assert f"`{name}`" in result.output


def test_run_py_is_the_same_cli(tmp_path, toy_path):
    """python run.py works as a script and prints one error line, not a traceback."""
    completed = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "solve", str(toy_path), "--out", str(tmp_path / "z"),
         "--set", "discount_rate=9"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        "error: --set discount_rate=9: expected a number from 0 to 0.5 (fraction per year)"
    )
    assert completed.stdout == ""


@pytest.fixture(scope="module")
def toy_results(tmp_path_factory):
    from tests.conftest import TOY

    folder = tmp_path_factory.mktemp("solved") / "toy"
    assert _run("solve", TOY, "--out", folder).exit_code == 0
    return folder


@pytest.mark.parametrize(
    "file, content, reason",
    [
        ("years.csv", b"\x00\xff\xfe garbage \x00\n\x01", "years.csv is damaged or was not written by etscap ("),
        ("years.csv", b"", "years.csv is damaged or was not written by etscap (No columns to parse from file)"),
        ("sector_years.csv", b"sector,ye\n", "sector_years.csv is damaged or was not written by etscap "
                                           "(no column year)"),
        ("summary.json", b'{"status": "optimal", ', "summary.json is damaged or was not written by etscap "
                                                     "(not valid JSON: "),
        ("summary.json", b"[1, 2]", "summary.json is damaged or was not written by etscap (a JSON object expected)"),
    ],
)
def test_report_on_a_damaged_results_folder_is_one_line(toy_results, tmp_path, file, content, reason):
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(toy_results, folder)
    (folder / file).write_bytes(content)
    result = _run("report", folder)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {folder / file} ")
    assert reason.split(" (", 1)[1] in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_report_on_a_truncated_table_names_it(toy_results, tmp_path):
    import shutil

    folder = tmp_path / "truncated"
    shutil.copytree(toy_results, folder)
    text = (folder / "years.csv").read_text()
    (folder / "years.csv").write_text(text[: len(text) // 2 + 3])
    result = _run("report", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"error: {folder / 'years.csv'} is damaged or was not written by etscap (it ends "
                             "in the middle of a line: cut short?): write it again (solve or the study): give a "
                             "folder written by `solve` (or a study folder with scenarios.csv and study.json)\n")


def test_a_sweep_of_a_billion_scenarios_is_refused_at_once(tmp_path):
    from tests.conftest import TOY

    values = "[" + ", ".join(str(0.0001 * i) for i in range(1000)) + "]"
    study = tmp_path / "huge.toml"
    study.write_text(f'dataset = "{TOY}"\n[sweep]\ndiscount_rate = {values}\n'
                     f'"sectors.power.base_emissions_mt" = {values}\n"targets.2025.national_cap_mt" = {values}\n')
    result = _run("sweep", study, "--serial", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {study}, [sweep]: found '1,000,000,000 scenarios (1000 x 1000 x 1000)', "
                             "expected at most 1,000,000 scenarios, the limit of montecarlo.n (fewer values)\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_debug_keeps_the_exit_code(tmp_path, toy_path, debug):
    result = _run(*debug, "solve", toy_path, "--out", tmp_path / "x", "--set", "targets.*.national_cap_mt=10")
    assert result.exit_code == 3
    assert ("Traceback (most recent call last)" in result.stderr) == bool(debug)
    error = result.stderr[result.stderr.index("\nerror: ") + 1:]
    assert error.startswith("error: model 'toy' is infeasible: the targets cannot all be met")


@pytest.mark.parametrize(
    "override, message",
    [
        ("sectors.steel.trading_from=2020", "--set sectors.steel.trading_from=2020, in sectors.csv, row 3, column "
                                            "trading_from: found '2020', expected a year not before covered_from (2025)"),
        ("sectors.steel.covered_from=2027", "--set sectors.steel.covered_from=2027, in sectors.csv, row 3, column "
                                            "trading_from: found '2026', expected a year not before covered_from (2027)"),
        ("first_year=2030", "--set first_year=2030, in scenario.toml, column last_year: found '2027', expected a "
                            "year not before first_year (2030)"),
    ],
)
def test_errors_caused_by_set_name_the_set(toy_path, override, message):
    result = _run("validate", toy_path, "--set", override)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


def test_progress_line_counts_the_method_that_ran(tmp_path):
    import re

    from model.solving.pipeline import iteration_counts

    assert iteration_counts({"simplex": 0, "ipm": 18}) == "18 interior-point iterations"
    assert iteration_counts({"simplex": 1234, "ipm": 0}) == "1,234 simplex iterations"
    assert iteration_counts({"simplex": 3, "ipm": 18}) == "18 interior-point iterations, 3 simplex iterations"
    assert iteration_counts({"simplex": 0, "ipm": 0}) == "0 iterations"
    result = _run("solve", "--out", tmp_path / "ipm", "--solver-option", "solver=ipm")
    assert result.exit_code == 0, result.output
    assert re.search(r"least cost found in [\d.]+ s \(HiGHS [\d.]+, [1-9][\d,]* interior-point iterations\)",
                     result.stderr), result.stderr
    assert "0 simplex iterations" not in result.stderr


@pytest.mark.parametrize(
    "scale, message",
    [
        ("1e9", "--scale 1e+09: found '6,837,000,000,000 installations', expected at most 250,000 (the rows "
                "facilities.csv may have): --scale 36 or less for this dataset"),
        ("40", "--scale 40: found '273,480 installations', expected at most 250,000 (the rows facilities.csv "
               "may have): --scale 36 or less for this dataset"),
        ("inf", "--scale inf: expected a finite number above 0"),
        ("nan", "--scale nan: expected a finite number above 0"),
    ],
)
def test_make_registry_refuses_a_scale_solve_could_not_read(tmp_path, scale, message):
    from tests.conftest import CHINA

    result = _run("make-registry", CHINA, "--scale", scale, "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "r.csv").exists()


def test_make_registry_refuses_a_file_larger_than_a_dataset_file(tmp_path, monkeypatch):
    from model.data import registry
    from tests.conftest import CHINA

    monkeypatch.setattr(registry, "MAX_REGISTRY_BYTES", 500_000)  # the real limit (128 MB) is above the row limit
    result = _run("make-registry", CHINA, "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.stderr == ("error: --scale 1: found 'a registry of 887,953 bytes', expected at most 500,000 bytes "
                             "(the size of a registry file): --scale 0.56 or less for this dataset\n")


def test_make_registry_needs_entities(tmp_path, toy_path):
    result = _run("make-registry", toy_path, "--out", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.stderr == ("error: sectors.csv, column entities: expected the number of installations of at least "
                             "one covered sector: the dataset has none for make-registry to draw and calibrate to\n")
    assert not (tmp_path / "r.csv").exists()


def test_inputs_update_needs_its_markers(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\n<!-- inputs:begin -->\n")
    result = _run("inputs", "--update", notes)
    assert result.exit_code == 1
    assert result.stderr == (f"error: {notes} has no <!-- inputs:end --> line: add the two lines "
                             "<!-- inputs:begin --> and <!-- inputs:end --> where the input reference belongs\n")
    assert notes.read_text() == "# Notes\n\n<!-- inputs:begin -->\n"


@pytest.mark.parametrize(
    "file, content, reason",
    [
        ("years.parquet", b"PAR1 not really", "years.parquet is damaged or was not written by etscap ("),
        ("study.json", b"{", "study.json is damaged or was not written by etscap (not valid JSON: "),
        ("scenarios.csv", b"scenario,status\n0,opti", "scenarios.csv is damaged or was not written by etscap "
                                                       "(it ends in the middle of a line: cut short?)"),
    ],
)
def test_report_on_a_damaged_study_folder_is_one_line(tmp_path, file, content, reason):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.json").write_text('{"kind": "sweep", "parameters": []}\n')
    (folder / "scenarios.csv").write_text("scenario,status,message\n0,optimal,\n")
    pd.DataFrame({"scenario": [0], "year": [2025], "allowance_price_cny_per_t": [40.0]}).to_parquet(
        folder / "years.parquet")
    (folder / file).write_bytes(content)
    result = _run("report", folder)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {folder / file} ")
    assert reason.split(" (", 1)[1] in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_an_unreadable_input_file_is_one_line_with_exit_code_2(toy_path, monkeypatch):
    """As root every file is readable: the refusal is simulated."""
    import pathlib

    read_bytes = pathlib.Path.read_bytes

    def refuse(self):
        if self.name == "targets.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    result = _run("validate", toy_path)
    assert result.exit_code == 2
    assert result.stderr == ("error: targets.csv: found 'a file that cannot be read (Permission denied)', expected "
                             "a file this user can read (check its permissions)\n")


def _readme_block(after: str) -> str:
    """The first ```python block of the README after the line starting with ``after``."""
    text = (ROOT / "README.md").read_text()
    start = text.index("```python\n", text.index(after)) + len("```python\n")
    return text[start: text.index("```", start)]


def test_readme_studies_snippet_runs_as_a_script(tmp_path):
    """Issue 11.8: the README's studies snippet, pasted into a script, runs on a local Dask
    cluster (spawned workers import the script again: the guard keeps them from re-running it)."""
    snippet = _readme_block("**From Python** the same studies")
    assert 'client="local"' in snippet and "monte_carlo(\"inputs/china\", 1000," in snippet
    script = tmp_path / "study_script.py"
    script.write_text(snippet.replace('monte_carlo("inputs/china", 1000,', 'monte_carlo("inputs/china", 4,'))
    shutil.copytree(ROOT / "inputs" / "china", tmp_path / "inputs" / "china")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    scenarios = pd.read_csv(tmp_path / "results" / "steel-uncertainty" / "scenarios.csv")
    assert scenarios["status"].tolist() == ["optimal"] * 4


def test_study_progress_without_a_terminal(tmp_path, toy_path):
    """stderr not a terminal (CliRunner's, a log file): one line per 10% of the scenarios."""
    study_file = tmp_path / "study.toml"
    study_file.write_text(f'dataset = "{toy_path}"\n[sweep]\n"targets.2027.national_cap_mt" = '
                          f'{list(range(131, 151))}\n')
    result = _run("sweep", study_file, "--serial", "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("scenarios: ")]
    assert lines == [f"scenarios: {n}/20 solved ({5 * n}%)" for n in (5, 10, 15, 20)]  # chunks of 5
    shown = []
    with contextlib.ExitStack() as stack:
        bar = _ProgressBar(stack, shown=True, terminal=False)
        with unittest.mock.patch("click.echo", lambda text, err: shown.append(text)):
            for done in range(1, 101):
                bar(done, 100)
    assert shown == [f"scenarios: {n}/100 solved ({n}%)" for n in range(10, 101, 10)]


def test_version_and_environment_variables(tmp_path, toy_path):
    from importlib import metadata

    shown = subprocess.run([sys.executable, str(ROOT / "run.py"), "--version"], capture_output=True, text=True)
    assert shown.stdout == f"etscap {metadata.version('etscap')}\n"
    # in a process of its own: HiGHS keeps the first thread count a process uses
    env = {**os.environ, "ETSCAP_SOLVER_THREADS": "1", "ETSCAP_SCENARIO": "banking"}
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "-q", "solve", str(toy_path), "--out",
                           str(tmp_path / "e")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    summary = pd.read_json(tmp_path / "e" / "summary.json", typ="series")
    assert summary["settings"]["solver.threads"] == 1
    assert summary["solver_options"]["threads"] == 1
    assert [s["name"] for s in summary["scenarios"]] == ["banking"]
    help_text = " ".join(_run("solve", "--help").output.split())  # as wrapped for any width
    assert "env var: ETSCAP_SOLVER_THREADS" in help_text and "env var: ETSCAP_SCENARIO" in help_text


def test_a_study_file_s_csv_and_force_reach_the_study_folder(tmp_path):
    """``csv = true`` in a study file writes the tables as CSV beside their Parquet files (without
    it, Parquet only); a second sweep into the folder is refused without --force and replaces it
    with --force."""
    from tests.conftest import TOY

    folders = {}
    for csv in ("true", "false"):
        study_file = tmp_path / f"{csv}.toml"
        study_file.write_text(f'dataset = "{TOY.as_posix()}"\ncsv = {csv}\n[sweep]\n'
                              '"targets.2027.national_cap_mt" = [135]\n')
        folders[csv] = tmp_path / f"out-{csv}"
        result = _run("-q", "sweep", study_file, "--serial", "--out", folders[csv])
        assert result.exit_code == 0, result.output
    assert {p.name for p in folders["true"].glob("*.csv")} == {
        "scenarios.csv", "sector_years.csv", "years.csv"}
    assert {p.name for p in folders["false"].glob("*.csv")} == {"scenarios.csv"}
    again = _run("-q", "sweep", tmp_path / "true.toml", "--serial", "--out", folders["true"])
    assert again.exit_code == 1 and "already exists: pass --force" in again.output
    forced = _run("-q", "sweep", tmp_path / "true.toml", "--serial", "--out", folders["true"], "--force")
    assert forced.exit_code == 0, forced.output
    assert pd.read_csv(folders["true"] / "scenarios.csv")["status"].tolist() == ["optimal"]
