"""Study files and study reports at their edges (each test here caught a mutant that the
rest of the suite let survive: see benchmarks/mutation.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import InputError, load_dataset
from model.report.plots import WORKBOOK_MAX_ROWS, _fits_a_sheet, write_report
from model.studies.study import monte_carlo_inputs, read_study_file, sweep, sweep_inputs
from tests.conftest import TOY


def test_distributions_that_are_not_a_table(tmp_path):
    """`distributions = 5` in [montecarlo] is reported with the file and the key."""
    path = tmp_path / "study.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\n[montecarlo]\nn = 3\nseed = 1\ndistributions = 5\n')
    with pytest.raises(InputError) as caught:
        read_study_file(path, "montecarlo")
    assert str(caught.value).endswith(
        f"{path}, key montecarlo.distributions: found '5', expected a table of KEY = {{ kind = ..., ... }}")


def test_study_report_of_a_chosen_year(tmp_path):
    """`report STUDY --year 2025` draws 2025's price distribution (default: the last year, 2027)."""
    folder = sweep(load_dataset(TOY), {"targets.2027.national_cap_mt": [135, 138]}).write(tmp_path / "s")
    write_report(folder, year=2025)
    page = (folder / "report.html").read_text()
    assert "Allowance price in 2025 across 2 scenarios" in page and "Allowance price in 2027" not in page


def test_a_sheet_holds_up_to_the_workbook_limit(caplog):
    """results.xlsx takes a table of up to WORKBOOK_MAX_ROWS (50,000) rows; a longer one is
    left to the Parquet or CSV file, with a warning naming it."""
    assert WORKBOOK_MAX_ROWS == 50_000
    assert _fits_a_sheet("years", pd.DataFrame({"year": range(50_000)}))
    assert not caplog.records
    assert not _fits_a_sheet("sector_years", pd.DataFrame({"year": range(50_001)}))
    assert caplog.records[0].getMessage().startswith("sector_years has 50001 rows, more than the 50000")


def test_zip_of_lists_of_different_lengths():
    with pytest.raises(InputError) as caught:
        sweep(load_dataset(TOY), {"targets.2027.national_cap_mt": [130, 140], "sectors.steel.trading_from": [2026]},
              mode="zip")
    assert str(caught.value) == ("sweep grid: found 'targets.2027.national_cap_mt: 2, sectors.steel.trading_from: 1', "
                                 "expected lists of one length (mode zip pairs their values), or mode product")


def test_sweep_key_without_values():
    with pytest.raises(InputError) as caught:
        sweep(load_dataset(TOY), {"discount_rate": []})
    assert str(caught.value) == "sweep grid, key \"discount_rate\": found '[]', expected a non-empty list of values"


def test_study_file_saved_with_a_byte_order_mark(tmp_path):
    """Windows editors may write UTF-8 with a BOM: the study file still reads."""
    path = tmp_path / "study.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\n[sweep]\ndiscount_rate = [0.05, 0.1]\n', encoding="utf-8-sig")
    assert read_study_file(path, "sweep").grid == {"discount_rate": [0.05, 0.1]}


def test_shortfall_by_region_adds_up_installations():
    """Two steel installations of one region short by 1.5 and 2.5 Mt: the region is short 4."""
    from model.report.plots import shortfall_by_region

    facilities = pd.DataFrame({"year": [2030, 2030, 2030], "region": ["Hebei", "Hebei", "Jiangsu"],
                               "sector": ["steel", "steel", "steel"], "shortfall_mt": [1.5, 2.5, -1.0]})
    table = shortfall_by_region(facilities, 2030)
    assert table.to_dict("list") == {"region": ["Hebei", "Jiangsu"], "steel": [4.0, -1.0], "total": [4.0, -1.0]}


def test_every_bad_section_of_a_study_file_is_named_in_one_message(tmp_path):
    """A Monte Carlo file with a misspelt top-level key, a sweep value that is not a list
    and two bad distributions: one message lists all four problems, in the file's order."""
    path = tmp_path / "study.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\nallocatoin = true\n[sweep]\ndiscount_rate = 0.05\n'
                    '[montecarlo]\nn = 3\nseed = 1\n[montecarlo.distributions]\n'
                    '"targets.2027.national_cap_mt*" = {kind = "normal", mean = 1}\n'
                    '"discount_rate" = {kind = "lognorm", mean = 0, sigma = 0.1}\n')
    with pytest.raises(InputError) as caught:
        read_study_file(path, "montecarlo")
    assert str(caught.value) == (
        "4 problems in the inputs:\n"
        f"  {path}, key allocatoin: found 'True', expected a known key (did you mean 'allocation'?)\n"
        f"  {path}, key sweep.\"discount_rate\": found '0.05', expected a list of values, e.g. [2027, 2028]\n"
        f"  {path}, key montecarlo.distributions.\"targets.2027.national_cap_mt*\".sd: expected a number of at "
        "least 0\n"
        f"  {path}, key montecarlo.distributions.\"discount_rate\".kind: found 'lognorm', expected one of "
        "'normal', 'lognormal', 'uniform', 'triangular' (did you mean 'lognormal' or 'normal'?)")


@pytest.mark.parametrize("kind, text, message", [
    ("sweep", None, "{path}: expected a study file (TOML, see README: Studies)"),
    ("montecarlo", 'dataset = "x"\n[sweep]\ndiscount_rate = [0.1]\n',
     "{path}: expected a [montecarlo] table with n, seed and [montecarlo.distributions]"),
    ("sweep", 'dataset = "x"\nsweep = 5\n', "{path}, key sweep: found '5', expected a table [sweep]"),
    ("sweep", 'dataset = "x"\n[sweep]\n', "{path}: expected [sweep] to give the values of at least one key"),
    ("montecarlo", 'dataset = "x"\n[montecarlo]\nn = 2\nseed = 1\n',
     "{path}: expected [montecarlo.distributions] to give at least one KEY = { kind = ..., ... }"),
    ("montecarlo", 'dataset = "x"\n[montecarlo]\nn = 2\nsede = 1\n[montecarlo.distributions]\n'
                   'discount_rate = {kind = "uniform", low = 0.1, high = 0.2}\n',
     "2 problems in the inputs:\n"
     "  {path}, key montecarlo.sede: found '1', expected n, seed or [montecarlo.distributions] (did you mean 'seed'?)\n"
     "  {path}, key montecarlo.seed: expected a whole number from 0 to 4294967295"),
    ("sweep", '[sweep]\ndiscount_rate = []\n',
     "2 problems in the inputs:\n  {path}, key dataset: expected text\n"
     "  {path}, key sweep.\"discount_rate\": found '[]', expected a list of values, e.g. [2027, 2028]"),
    ("sweep", 'dataset = "x"\n[sweep]\ndiscount_rate = [0.1]\n[sweep.targets]\n"2027.national_cap_mt" = 5\n',
     "{path}, key sweep.\"targets.2027.national_cap_mt\": found '5', expected a list of values, e.g. [2027, 2028]"),
])
def test_each_study_file_problem_in_full(tmp_path, kind, text, message):
    """The one message a study file's problem gives: the file, the key (a nested table's keys
    joined with dots), what was found and what to write instead."""
    path = tmp_path / "study.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_study_file(path, kind)
    assert str(caught.value) == message.replace("{path}", str(path))


def test_a_study_file_that_is_not_toml_says_where(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('dataset = "x"\n[sweep\n')
    with pytest.raises(InputError) as caught:
        read_study_file(path, "sweep")
    message = str(caught.value)  # then tomllib's own words, which name the line
    assert message.startswith(f"{path}: expected a valid TOML file (") and "line 2" in message


def test_a_folder_without_the_study_files_is_not_a_study(tmp_path):
    from model import EtscapError
    from model.studies.study import Study
    (tmp_path / "study.json").write_text("{}")
    (tmp_path / "scenarios.csv").mkdir()  # a folder of that name is not the file
    with pytest.raises(EtscapError) as caught:
        Study.read(tmp_path)
    assert str(caught.value) == f"{tmp_path} is not a study folder: scenarios.csv, years.parquet missing"


RANGE = {"kind": "uniform", "low": 0.0, "high": 1.0}


@pytest.mark.parametrize("call, message", [
    (lambda ds: monte_carlo_inputs(ds, 0, {"discount_rate": RANGE}, 1),
     "monte_carlo distributions, n: found '0', expected a whole number of draws of at least 1"),
    (lambda ds: monte_carlo_inputs(ds, True, {"discount_rate": RANGE}, 1),
     "monte_carlo distributions, n: found 'True', expected a whole number of draws of at least 1"),
    (lambda ds: monte_carlo_inputs(ds, 3, {}, 1),
     "monte_carlo distributions: expected a distribution for at least one key"),
    (lambda ds: monte_carlo_inputs(ds, 3, {"name": RANGE,
                                           "discount_rate": {"kind": "uniform", "low": 2, "high": 1}}, 1),
     "2 problems in the inputs:\n  monte_carlo distributions, key \"name\": expected a numeric input (name is str)\n"
     "  monte_carlo distributions, key \"discount_rate\".high: found '1.0', expected at least low (2.0)"),
    (lambda ds: sweep_inputs(ds, {"discount_rate": list(range(1000)), "market.initial_bank_mt": list(range(1001))}),
     "sweep grid: found '1,001,000 scenarios (1000 x 1001)', expected at most 1,000,000 scenarios, the limit of "
     "montecarlo.n (fewer values)"),
    (lambda ds: sweep_inputs(ds, {"discount_rate": list(range(1_000_001))}, mode="zip"),
     "sweep grid: found '1,000,001 scenarios', expected at most 1,000,000 scenarios, the limit of montecarlo.n "
     "(fewer values)"),
    (lambda ds: sweep_inputs(ds, {"discount_rate": [], "market.initial_bank_mt": [1]}),
     "sweep grid, key \"discount_rate\": found '[]', expected a non-empty list of values"),
])
def test_scenario_tables_refused_in_full(call, message):
    with pytest.raises(InputError) as caught:
        call(load_dataset(TOY))
    assert str(caught.value) == message


def test_a_sweep_of_exactly_the_scenario_limit_is_allowed():
    """1,000 x 1,000 = 1,000,000 scenarios: the limit itself is allowed (checked before any row
    is made; this test makes them)."""
    table = sweep_inputs(load_dataset(TOY), {"discount_rate": [0.05] * 1000, "market.initial_bank_mt": [1.0] * 1000})
    assert len(table) == 1_000_000


def test_scenario_tables_in_order_and_whole_years_drawn_whole():
    """A product grid varies its first key slowest; a drawn year (set, or shifted with '+')
    is rounded to a whole number, a fraction stays a fraction."""
    dataset = load_dataset(TOY)
    grid = sweep_inputs(dataset, {"discount_rate": [0.05, 0.1], "market.initial_bank_mt": [1, 2, 3]})
    assert grid.values.tolist() == [[0.05, 1], [0.05, 2], [0.05, 3], [0.1, 1], [0.1, 2], [0.1, 3]]
    zipped = sweep_inputs(dataset, {"discount_rate": [0.05, 0.1], "market.initial_bank_mt": [1, 2]}, mode="zip")
    assert zipped.values.tolist() == [[0.05, 1], [0.1, 2]]
    draws = monte_carlo_inputs(dataset, 3, {
        "sectors.steel.trading_from": {"kind": "uniform", "low": 2025.6, "high": 2026.4},
        "sectors.steel.trading_from+": {"kind": "uniform", "low": 0.6, "high": 1.4},
        "discount_rate": {"kind": "uniform", "low": 0.05, "high": 0.1}}, 1)
    assert draws["sectors.steel.trading_from"].tolist() == [2026, 2026, 2026]
    assert draws["sectors.steel.trading_from+"].tolist() == [1, 1, 1]
    assert [str(t) for t in draws.dtypes] == ["int64", "int64", "float64"]
    assert draws["discount_rate"].between(0.05, 0.1).all() and draws["discount_rate"].nunique() == 3
    factors = monte_carlo_inputs(dataset, 2, {"sectors.steel.trading_from*": {"kind": "uniform", "low": 1.0,
                                                                               "high": 1.001}}, 1)
    assert factors.dtypes.tolist() == [np.float64] and factors.iloc[:, 0].between(1.0, 1.001).all()  # a factor


def test_a_study_records_its_file_and_how_its_time_was_spent(tmp_path):
    """study.json of a one-scenario sweep run from a file: the file it came from, and its time
    split into the start (Dask or not, the base formulation) and the scenarios, which add up
    to the elapsed seconds (each rounded to the millisecond). No speed is asserted."""
    from model.studies.study import run_study_file
    path = tmp_path / "study.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\n[sweep]\n"targets.2027.national_cap_mt" = [135]\n')
    study = run_study_file(read_study_file(path, "sweep"), "sweep", client=None)
    assert study.info["study_file"] == str(path)
    seconds = study.info["seconds"]
    assert 0 <= seconds["start"] <= study.info["elapsed_seconds"] and seconds["scenarios"] >= 0
    assert seconds["start"] + seconds["scenarios"] == pytest.approx(study.info["elapsed_seconds"], abs=0.0015)


def test_a_triangular_distribution_may_peak_at_either_end():
    """low <= mode <= high includes its ends: a triangle whose mode is its low (or its high)
    is a right (left) triangle, accepted with its parameters as given."""
    from model.studies.study import distribution

    at_low = distribution({"kind": "triangular", "low": 0.9, "mode": 0.9, "high": 1.1})
    at_high = distribution({"kind": "triangular", "low": 0.9, "mode": 1.1, "high": 1.1})
    assert (at_low.kind, at_low.parameters) == ("triangular", {"low": 0.9, "mode": 0.9, "high": 1.1})
    assert at_high.parameters == {"low": 0.9, "mode": 1.1, "high": 1.1}
