"""What the command line prints and returns (model/cli.py, model/errors.py): each kind of error's
exit code and its one line, the last-resort descriptions, the headlines after a solve and a
study, and where a bundled dataset's name leads."""

from __future__ import annotations

import errno
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner

from model import load_dataset, solve
from model.cli import _bn_or_m, _describe, _headline, _results_name, _study_headline, cli, find_dataset
from model.data.bundled import bundled_datasets
from model.errors import (EtscapError, InfeasibleError, InputError, Problem, SolverError, did_you_mean,
                          number_text, short_text)
from tests.conftest import TOY


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("error, code", [
    (EtscapError("the folder is locked: close it"), 1),
    (InputError(Problem("sectors.csv", 3, "base_emissions_mt", "-5", "a number >= 0")), 2),
    (InfeasibleError("the 2027 national cap cannot be met: raise it by 2 Mt"), 3),
    (SolverError("HiGHS stopped at its time limit: raise solver.time_limit"), 4),
    (KeyboardInterrupt(), 130),
])
def test_each_kind_of_error_exits_with_its_code_and_one_line(monkeypatch, error, code):
    """The documented exit codes (cli.py's docstring): 1 an error the user can fix, 2 bad inputs,
    3 targets that cannot be met, 4 a solver that stopped early, 130 Ctrl-C; the message alone on
    stderr, prefixed "error: " (an interruption says nothing was written)."""
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("model.data.inputs.load_dataset", fail)
    result = _invoke("validate", TOY)
    assert result.exit_code == code
    expected = "interrupted: nothing was written" if code == 130 else f"error: {error}"
    assert result.stderr == expected + "\n" and result.stdout == ""
    if code == 2:
        assert expected == "error: sectors.csv, row 3, column base_emissions_mt: found '-5', expected a number >= 0"
    if code in (1, 2, 3, 4):  # --debug: the traceback before the same line and the same code
        debug = _invoke("--debug", "validate", TOY)
        assert debug.exit_code == code
        assert debug.stderr.startswith("Traceback (most recent call last):") and debug.stderr.endswith(
            expected + "\n")


def test_an_input_error_lists_its_problems_up_to_50():
    one = Problem("targets.csv", None, "year", None, "a year")
    assert str(InputError(one)) == "targets.csv, column year: expected a year"
    assert str(Problem("scenario.toml", 4, None, "x", "a number")) == (
        "scenario.toml, row 4: found 'x', expected a number")
    many = InputError([Problem("mac.csv", row, None, None, "a step") for row in range(2, 55)])
    lines = str(many).splitlines()
    assert lines[0] == "53 problems in the inputs:" and len(lines) == 1 + 50 + 1
    assert lines[1] == "  mac.csv, row 2: expected a step" and lines[50] == "  mac.csv, row 51: expected a step"
    assert lines[-1] == "  ... and 3 more"
    assert len(InputError([one] * 50).problems) == 50 and "more" not in str(InputError([one] * 50))
    assert str(InputError([one] * 51)).splitlines()[-1] == "  ... and 1 more"


def test_message_helpers():
    assert short_text("x" * 60) == "x" * 60
    assert short_text("x" * 61) == "x" * 57 + "..."
    assert number_text(180.0) == "180" and number_text(0.1 + 0.2) == "0.3" and number_text(1234567.5) == "1234567.5"
    assert did_you_mean("stel", ["power", "steel", "rest"]) == " (did you mean 'steel'?)"
    assert did_you_mean("po", ["power", "powder", "steel"]) == " (did you mean 'power' or 'powder'?)"
    assert did_you_mean("zzz", ["power"]) == ""
    assert did_you_mean("", ["power"]) == ""


def test_the_last_resort_describes_an_os_error_by_its_reason_code_and_paths():
    assert _describe(OSError(errno.EXDEV, "Invalid cross-device link", "/a/tmp", None, "/b/out")) == (
        "Invalid cross-device link (EXDEV): /a/tmp -> /b/out")
    assert _describe(FileNotFoundError(errno.ENOENT, "No such file or directory")) == (
        "No such file or directory (ENOENT)")
    assert _describe(OSError("the disk went away")) == "the disk went away (OSError)"
    assert _describe(BlockingIOError()) == "BlockingIOError (BlockingIOError)"
    assert _describe(RecursionError()) == "an input is nested too deeply to read (RecursionError)"


def test_a_cost_difference_in_bn_or_m_cny():
    assert _bn_or_m(-968.44) == "-968.4 bn CNY"
    assert _bn_or_m(1.0) == "+1.0 bn CNY"
    assert _bn_or_m(-1.0) == "-1.0 bn CNY"
    assert _bn_or_m(0.999) == "+999.0 m CNY"
    assert _bn_or_m(-0.0091) == "-9.1 m CNY"
    assert _bn_or_m(1234.5) == "+1,234.5 bn CNY"


def test_the_headline_after_a_solve():
    """The toy with banking: PV 3.08 bn CNY; the milestone years (all three) of the headline
    columns, 5 Mt moved from 2027 to 2026 at 40 and 44 CNY/t."""
    dataset = load_dataset(TOY, scenarios=["banking"])
    assert _results_name(dataset) == "toy-banking" and _results_name(load_dataset(TOY)) == "toy"
    shown = _headline(solve(dataset)).splitlines()
    assert re.fullmatch(r"toy \+ banking: optimal, abatement cost 3\.1 bn CNY \(present value\), "
                        r"built in \d+\.\d\d s, solved in \d+\.\d\d s", shown[0])
    assert shown[1:] == [
        "      ETS cap Mt  emissions Mt  price CNY/t  national value CNY/t  cost bn CNY",
        "year                                                                          ",
        "2025       125.0         170.0         40.0                  40.0          0.5",
        "2026       107.5         147.5         40.0                  40.0          1.4",
        "2027        90.0         140.0         44.0                  44.0          1.6"]


def test_the_headline_after_a_study():
    scenarios = pd.DataFrame({"status": ["optimal", "optimal", "infeasible", "error"]})
    info = {"kind": "sweep", "dataset": "inputs/toy", "n": 4, "elapsed_seconds": 12.34, "run_on": "2 Dask workers",
            "scenarios_per_second": 0.456}
    assert _study_headline(SimpleNamespace(info=info, scenarios=scenarios)).splitlines() == [
        "sweep of inputs/toy: 4 scenarios (2 optimal, 1 infeasible, 1 errors) in 12.3 s on 2 Dask workers "
        "(0.5 scenarios/s once started)",
        "scenarios not solved are listed with their message in scenarios.csv"]
    solved = SimpleNamespace(info={**info, "n": 2}, scenarios=scenarios.iloc[:2])
    assert _study_headline(solved) == ("sweep of inputs/toy: 2 scenarios (2 optimal, 0 infeasible, 0 errors) in "
                                       "12.3 s on 2 Dask workers (0.5 scenarios/s once started)")


def test_a_bundled_dataset_s_name_finds_it_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bundled = bundled_datasets()
    assert find_dataset(Path("toy")) == bundled / "toy"
    assert find_dataset(Path("inputs/china")) == bundled / "china"
    assert find_dataset(Path("data/toy")) == Path("data/toy")  # another folder: as given
    assert find_dataset(Path("inputs/other")) == Path("inputs/other")
    (tmp_path / "toy").mkdir()
    assert find_dataset(Path("toy")) == Path("toy")  # a folder of that name here wins
