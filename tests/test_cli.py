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
    """The default China dataset solves, passes every check, and prices rise over time."""
    result = _run("-q", "solve", "--out", tmp_path / "china")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    years = pd.read_csv(tmp_path / "china" / "years.csv").set_index("year")
    summary = pd.read_json(tmp_path / "china" / "summary.json", typ="series")
    assert all(check["passed"] for check in summary["checks"].values())
    price = years["allowance_price_cny_per_t"]
    assert 40 <= price[2025] <= 110  # the sourced 2024-25 range of CEA prices
    assert price[2060] > price[2035] > price[2025]
    assert years.loc[2035, "national_cap_mt"] == pytest.approx(10350)
    assert (years["emissions_mt"] <= years["national_cap_mt"] + 1e-6).all()


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
