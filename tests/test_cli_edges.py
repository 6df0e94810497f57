"""The command line at its edges (each test here caught a mutant that the rest of the suite
let survive: see benchmarks/mutation.py)."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from model.cli import cli
from tests.conftest import TOY

LIBRARIES = ("pyomo", "distributed", "matplotlib")


@pytest.mark.parametrize("flags, level", [([], logging.WARNING), (["--debug"], logging.INFO)])
def test_library_loggers_are_quiet_unless_debugging(flags, level):
    """Pyomo's, Dask's and matplotlib's INFO messages are not progress: WARNING and above
    only, unless --debug (then INFO)."""
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET)
    result = CliRunner().invoke(cli, [*flags, "validate", str(TOY)])
    assert result.exit_code == 0, result.output
    assert {name: logging.getLogger(name).level for name in LIBRARIES} == dict.fromkeys(LIBRARIES, level)


def test_sweep_writes_to_results_and_the_study_file_name_with_its_report(tmp_path, monkeypatch):
    """Without --out (and no `out` in the file) a study goes to results/<study file name>;
    --report then writes the report into that folder."""
    study_file = tmp_path / "caps.toml"
    study_file.write_text(f'dataset = "{TOY.as_posix()}"\n[sweep]\n"targets.2027.national_cap_mt" = [135, 138]\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sweep", str(study_file), "--serial", "--report"])
    assert result.exit_code == 0, result.output
    assert "study written to results/caps/" in result.output
    assert (tmp_path / "results" / "caps" / "report.html").is_file()
    assert (tmp_path / "results" / "caps" / "plots" / "sweep.png").is_file()


def test_set_without_a_value():
    result = CliRunner().invoke(cli, ["solve", str(TOY), "--set", "discount_rate"])
    assert result.exit_code == 2
    assert result.stderr == "error: --set discount_rate: expected KEY=VALUE, e.g. discount_rate=0.03\n"


def test_study_options_are_explained_in_help():
    result = CliRunner().invoke(cli, ["sweep", "--help"])
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    assert "--serial Solve every scenario in this process, without Dask." in help_text
    assert "--report Also write plots/, report.html and results.xlsx (as the report command does)." in help_text


def test_solve_headline(tmp_path):
    """The solve command's headline: the run in one line, then the toy's year table with one
    decimal: costs of 0.49, 1.15 and 1.95 bn CNY read 0.5, 1.1 and 1.9 (1.15 and 1.95 are
    a little below in binary)."""
    result = CliRunner().invoke(cli, ["solve", str(TOY), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("toy: optimal, abatement cost 3.1 bn CNY (present value), built in ")
    assert lines[1].split() == ["ETS", "cap", "Mt", "emissions", "Mt", "price", "CNY/t", "national", "value",
                                "CNY/t", "cost", "bn", "CNY"]
    assert [line.split() for line in lines[3:6]] == [["2025", "125.0", "170.0", "40.0", "40.0", "0.5"],
                                                     ["2026", "107.5", "152.5", "40.0", "40.0", "1.1"],
                                                     ["2027", "90.0", "135.0", "60.0", "60.0", "1.9"]]
