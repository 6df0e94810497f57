"""Untrusted datasets are data only: no file outside the dataset folder is read, nothing
hangs, and absurd sizes fail at once with a message."""

from __future__ import annotations

import os
import pathlib
import shutil
import time

import pytest

from model import InputError, load_dataset
from model.data import inputs, schema
from tests.conftest import refusal


@pytest.fixture
def toy_copy(tmp_path, toy_path):
    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    return folder


def _message(folder) -> str:
    return refusal(load_dataset, folder)


def test_only_the_four_dataset_files_are_opened(toy_copy, monkeypatch):
    """Cells that look like paths stay text: nothing but the dataset's own files is read."""
    mac = toy_copy / "mac.csv"
    mac.write_text(mac.read_text().replace("illustrative", "/etc/passwd"))
    opened = []
    read_bytes = pathlib.Path.read_bytes
    monkeypatch.setattr(pathlib.Path, "read_bytes", lambda self: opened.append(self.name) or read_bytes(self))
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail(f"open{a} called"))
    dataset = load_dataset(toy_copy)
    assert sorted(opened) == ["mac.csv", "scenario.toml", "sectors.csv", "targets.csv"]
    assert dataset.mac["source"].iloc[0] == "/etc/passwd"


def test_link_out_of_the_dataset_folder_is_refused(toy_copy, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("not for the model\n")
    (toy_copy / "sectors.csv").unlink()
    (toy_copy / "sectors.csv").symlink_to(outside)
    assert _message(toy_copy) == (
        f"sectors.csv: found 'a link to {outside}', expected a file inside the dataset folder "
        "(copy the file instead of linking it)"
    )


def test_link_inside_the_dataset_folder_is_followed(toy_copy):
    (toy_copy / "shared").mkdir()
    os.replace(toy_copy / "mac.csv", toy_copy / "shared" / "mac.csv")
    (toy_copy / "mac.csv").symlink_to(pathlib.Path("shared") / "mac.csv")
    assert len(load_dataset(toy_copy).mac) == 6


def test_a_pipe_is_refused_without_reading_it(toy_copy):
    """Reading a named pipe would wait forever for a writer."""
    (toy_copy / "targets.csv").unlink()
    os.mkfifo(toy_copy / "targets.csv")
    assert _message(toy_copy) == "targets.csv: found 'something that is not a plain file', expected a plain file"


def test_huge_file_fails_fast(toy_copy):
    size = inputs.MAX_FILE_BYTES + 1
    with (toy_copy / "mac.csv").open("wb") as handle:
        handle.truncate(size)  # sparse: takes no disk space
    started = time.perf_counter()
    message = _message(toy_copy)
    assert time.perf_counter() - started < 1.0
    assert message == f"mac.csv: found '{size} bytes', expected at most {inputs.MAX_FILE_BYTES} bytes"


def test_too_many_rows_fail_before_parsing(toy_copy):
    rows = "".join(f"power,S{i},0,10,,0,\n" for i in range(schema.MAC.max_rows + 1))
    (toy_copy / "mac.csv").write_text("sector,step,potential_share,cost_cny_per_t,available_from,cost_change,source\n" + rows)
    assert _message(toy_copy) == (
        f"mac.csv: found 'more than {schema.MAC.max_rows} data rows', "
        f"expected at most {schema.MAC.max_rows} data rows"
    )


def test_model_size_is_limited(toy_copy, monkeypatch):
    """Steps times years bounds the LP; the toy has 6 steps x 3 years."""
    monkeypatch.setattr(inputs, "MAX_ABATEMENT_VARIABLES", 17)
    assert _message(toy_copy) == (
        "mac.csv: found '18 step-years', expected at most 17 abatement variables "
        "(steps times years available; fewer steps or a shorter horizon)"
    )


def test_absurd_numbers_fail_with_a_message(toy_copy):
    toml = toy_copy / "scenario.toml"
    toml.write_text(toml.read_text().replace("initial_bank_mt = 0.0", "initial_bank_mt = 1e300"))
    targets = toy_copy / "targets.csv"
    targets.write_text(targets.read_text().replace("2025,170", "2025,1e300"))
    assert _message(toy_copy) == (
        "2 problems in the inputs:\n"
        "  scenario.toml, column market.initial_bank_mt: found '1e+300', expected a number from 0 to 1000000 (Mt CO2)\n"
        "  targets.csv, row 2, column national_cap_mt: found '1e300', expected a number from 0 to 1000000 (Mt CO2)"
    )


# -- a loaded Dataset is frozen (issue 10 item 9, issue 11 item 5) ---------------------------


def test_a_setting_changed_in_place_is_refused(toy_path):
    from model import EtscapError

    dataset = load_dataset(toy_path)
    with pytest.raises(EtscapError) as caught:
        dataset.settings["discount_rate"] = 7.0
    assert str(caught.value) == (
        "the settings of a loaded Dataset are read-only (they were checked on load): use "
        "dataset.replace(settings={**dataset.settings, KEY: VALUE}) or overrides={KEY: VALUE}, "
        "which check the new value")
    assert dataset.settings["discount_rate"] == 0.1
    with pytest.raises(InputError) as caught:
        dataset.replace(settings={**dataset.settings, "discount_rate": 7.0})
    assert str(caught.value) == (
        "scenario.toml, column discount_rate: found '7.0', expected a number from 0 to 0.5 (fraction per year)")


def test_a_cell_set_in_place_raises(toy_path):
    dataset = load_dataset(toy_path)
    with pytest.raises(ValueError, match="read-only"):
        dataset.mac.loc[2, "cost_cny_per_t"] = 99.0
    assert dataset.mac.loc[2, "cost_cny_per_t"] == 10.0


def test_a_column_replaced_in_place_is_refused_before_solving(toy_path):
    from model import EtscapError, solve

    dataset = load_dataset(toy_path)
    before = solve(dataset)
    dataset.mac["cost_cny_per_t"] *= 2
    with pytest.raises(EtscapError) as caught:
        solve(dataset)
    assert str(caught.value) == (
        "the mac table (mac.csv) of this Dataset was changed in place after it was checked: make the "
        "change with dataset.replace(mac=new_table) or with overrides (they check it and give a new Dataset)")
    # the same change made with replace is checked and changes the checksum and the objective
    changed = load_dataset(toy_path)
    doubled = changed.replace(mac=changed.mac.assign(cost_cny_per_t=changed.mac["cost_cny_per_t"] * 2))
    after = solve(doubled)
    assert after.summary["inputs_sha256"] != before.summary["inputs_sha256"]
    assert after.summary["objective_bn_cny"] == pytest.approx(2 * before.summary["objective_bn_cny"])


def test_columns_renamed_in_place_are_refused_and_the_same_names_again_are_not(toy_path):
    """The columns are kept as their Index (compared by name only when replaced): a table whose
    columns were renamed in place is refused; the same names set again change nothing."""
    from model import EtscapError

    dataset = load_dataset(toy_path)
    dataset.targets.columns = list(dataset.targets.columns)  # a new Index, the same names
    dataset.check_unchanged()
    dataset.targets.columns = [*dataset.targets.columns[:-1], "renamed"]
    with pytest.raises(EtscapError, match=r"the targets table \(targets.csv\) of this Dataset was changed in place"):
        dataset.check_unchanged()


def test_a_copied_or_unpickled_dataset_is_frozen_too(toy_path):
    import copy
    import pickle

    dataset = load_dataset(toy_path)
    for twin in (pickle.loads(pickle.dumps(dataset)), copy.deepcopy(dataset)):
        assert twin.sha256 == dataset.sha256
        with pytest.raises(ValueError, match="read-only"):
            twin.sectors.loc[2, "base_emissions_mt"] = 1.0


# -- names that pandas would read as missing (issue 10 item 6) -------------------------------


def _renamed_toy(toy_copy):
    """The toy with sectors NA, None and null and steps NaN and NA."""
    names = {"power": "NA", "steel": "None", "rest": "null"}
    for file in ("sectors.csv", "mac.csv"):
        lines = (toy_copy / file).read_text().splitlines()
        renamed = [lines[0]]
        for line in lines[1:]:
            sector, rest = line.split(",", 1)
            if file == "mac.csv":
                step, rest = rest.split(",", 1)
                rest = {"A": "NaN", "B": "NA"}[step] + "," + rest
            renamed.append(names[sector] + "," + rest)
        (toy_copy / file).write_text("\n".join(renamed) + "\n")
    return toy_copy


def test_names_like_missing_values_survive_write_read_and_report(toy_copy, tmp_path):
    import openpyxl

    from model import Results, solve
    from model.report.plots import write_report

    solved = solve(_renamed_toy(toy_copy))
    folder = solved.write(tmp_path / "out")
    read = Results.read(folder)
    assert read.sector_years["sector"].tolist() == solved.sector_years["sector"].tolist()
    assert sorted(set(read.sector_years["sector"])) == ["NA", "None", "null"]
    assert sorted(set(read.abatement_steps["step"])) == ["NA", "NaN"]
    assert read.abatement_steps["abatement_mt"].tolist() == pytest.approx(
        solved.abatement_steps["abatement_mt"].round(9).tolist())
    write_report(folder)
    sheet = openpyxl.load_workbook(folder / "results.xlsx")["sector_years"]
    header = [cell.value for cell in sheet[1]]
    sectors = [row[header.index("sector")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(set(sectors)) == ["NA", "None", "null"]


def test_study_folder_keeps_names_like_missing_values(tmp_path):
    from model.studies.study import Study

    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.json").write_text('{"kind": "sweep", "parameters": []}\n')
    (folder / "scenarios.csv").write_text("scenario,status,message\n0,optimal,\n1,error,NA\n")
    import pandas as pd

    pd.DataFrame({"scenario": [0], "year": [2025], "sector": ["NA"]}).to_parquet(folder / "years.parquet")
    study = Study.read(folder)
    assert study.scenarios["message"].tolist()[1] == "NA"
    assert pd.isna(study.scenarios["message"].tolist()[0])
    assert study.years["sector"].tolist() == ["NA"]


def test_workbook_has_no_formula_cells(toy_copy, tmp_path):
    """Text that a spreadsheet would run ('=...', '+...', '-...', '@...') is written as text."""
    import openpyxl

    from model import solve
    from model.report.plots import write_report

    (toy_copy / "facilities.csv").write_text(
        "facility_id,sector,output,emissions_mt,region,unit_type,cost_factor,source\n"
        'p1,power,60,60,"=HYPERLINK(""http://x"",""y"")",,1,+1+1\n'
        "p2,power,40,40,@SUM(A1),,1,-2+3\n")
    toml = toy_copy / "scenario.toml"
    toml.write_text(toml.read_text().replace('description = "', 'description = "=1+1 '))
    folder = solve(toy_copy).write(tmp_path / "out")
    write_report(folder)
    workbook = openpyxl.load_workbook(folder / "results.xlsx")
    formulas = [(sheet.title, cell.coordinate) for sheet in workbook for row in sheet.iter_rows()
                for cell in row if cell.data_type == "f"]
    assert formulas == []
    regions = {cell.value for cell in workbook["facilities"]["C"]} | {
        cell.value for row in workbook["facilities"].iter_rows() for cell in row}
    assert '=HYPERLINK("http://x","y")' in regions and "@SUM(A1)" in regions
    summary = {row[0]: row[1] for row in workbook["summary.json"].iter_rows(min_row=2, values_only=True)}
    assert summary["settings.description"].startswith("=1+1 ")


# -- files that cannot be read, settings that do not fit (issue 10 items 9 and 16) ----------


def test_a_dangling_registry_link_is_an_error_not_no_registry(toy_copy):
    (toy_copy / "facilities.csv").symlink_to(toy_copy / "gone.csv")
    assert _message(toy_copy) == (
        f"facilities.csv: found 'a link to {toy_copy / 'gone.csv'}, which does not exist', expected a file "
        "(remove the link, or copy the file it should point to)")


def test_an_unreadable_file_is_one_problem(toy_copy, monkeypatch):
    """As root every file is readable, so the refusal is simulated."""
    read_bytes = pathlib.Path.read_bytes

    def refuse(self):
        if self.name == "mac.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    assert _message(toy_copy) == (
        "mac.csv: found 'a file that cannot be read (Permission denied)', expected a file this user can read "
        "(check its permissions)")


def test_deeply_nested_toml_is_one_problem(toy_copy, tmp_path):
    from model.studies.study import SWEEP, read_study_file

    (toy_copy / "scenario.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert _message(toy_copy) == (
        "scenario.toml: found 'values nested too deeply to read', expected the settings of the input "
        "reference (tables at most two deep)")
    study = tmp_path / "study.toml"
    study.write_text('dataset = "toy"\n[sweep]\n"discount_rate" = ' + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError) as caught:
        read_study_file(study, SWEEP)
    assert str(caught.value) == (
        f"{study}: found 'values nested too deeply to read', expected a study file as in README: Studies")


def test_a_year_shifted_by_a_fraction_is_refused(toy_path):
    from model import apply_overrides

    dataset = load_dataset(toy_path)
    with pytest.raises(InputError) as caught:
        apply_overrides(dataset, {"sectors.steel.trading_from+": 0.5})
    assert str(caught.value) == (
        "--set sectors.steel.trading_from+=0.5: expected a whole number after +=, since trading_from is "
        "a whole number from 1990 to 2100")
    shifted = apply_overrides(dataset, {"sectors.steel.trading_from+": 1})
    assert shifted.sectors.loc[3, "trading_from"] == 2027


def test_a_header_of_100000_columns_is_refused(toy_copy):
    header = ",".join(f"c{i}" for i in range(100_000))
    (toy_copy / "mac.csv").write_text(header + "\n" + ",".join("1" for _ in range(100_000)) + "\n")
    assert _message(toy_copy) == (
        f"mac.csv, row 1: found '100000 columns', expected at most {inputs.MAX_COLUMNS} columns "
        "(the widest file declares 19)")


def test_repeated_column_names_are_found_in_one_pass(toy_copy, monkeypatch):
    """The duplicate check is linear: within the column limit, 100 repeats of one name are
    100 problems, each pointing at the first column of that name."""
    monkeypatch.setattr(inputs, "MAX_COLUMNS", 10_000)
    mac = (toy_copy / "mac.csv").read_text().splitlines()
    extra = ["step"] * 5000
    lines = [",".join([mac[0], *extra])] + [",".join([line, *(["x"] * 5000)]) for line in mac[1:]]
    (toy_copy / "mac.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        load_dataset(toy_copy)
    problems = caught.value.problems
    assert len(problems) == 5000
    assert str(problems[0]) == "mac.csv, row 1, column step: found 'step', expected each column named once (also column B)"


def test_one_typo_is_one_problem(tmp_path, china_path):
    """A bad covered_from is blank to the checks: the row's trading_from and the sector's 600
    installations ('a sector the ETS covers') would only repeat it."""
    folder = tmp_path / "china"
    shutil.copytree(china_path, folder)
    sectors = folder / "sectors.csv"
    sectors.write_text(sectors.read_text().replace("\nsteel,2025,", "\nsteel,2025x,"))
    assert _message(folder) == (
        "sectors.csv, row 3, column covered_from: found '2025x', expected a whole number from 1990 to 2100")


def test_a_reference_to_a_good_row_is_still_checked(tmp_path, china_path):
    """Only references to the row with the bad cell are left out."""
    folder = tmp_path / "china"
    shutil.copytree(china_path, folder)
    sectors = folder / "sectors.csv"
    text = sectors.read_text().replace("\nsteel,2025,", "\nsteel,2025x,").replace("\ncement,2025,2025,", "\ncement,,,")
    sectors.write_text(text)
    message = _message(folder)
    assert message.splitlines()[:3] == [
        "851 problems in the inputs:",
        "  sectors.csv, row 3, column covered_from: found '2025x', expected a whole number from 1990 to 2100",
        "  facilities.csv, row 2764, column sector: found 'cement', expected a sector the ETS covers (covered_from given)",
    ]


def test_a_table_replaced_in_python_is_checked_against_its_declarations(toy_path):
    """Not only the checks across rows: a free share of 1.5 is refused where it is, in sectors.csv
    (it used to surface in stage 2 with a hint about allocation.csv, which the toy does not have)."""
    dataset = load_dataset(toy_path)
    with pytest.raises(ValueError, match="read-only"):
        dataset.sectors.loc[2, "free_share_max"] = 1.5
    with pytest.raises(InputError) as caught:
        dataset.replace(sectors=dataset.sectors.assign(free_share_max=[1.5, 1.0, float("inf")]))
    assert str(caught.value) == (
        "2 problems in the inputs:\n"
        "  sectors.csv, row 2, column free_share_max: found '1.5', expected a number from 0 to 1 (fraction)\n"
        "  sectors.csv, row 4, column free_share_max: found 'inf', expected a number from 0 to 1 (fraction)")


def test_a_deactivated_constraint_family_is_named(toy_path):
    from model import EtscapError, build_model, solve

    model = build_model(load_dataset(toy_path))
    model.national_target.deactivate()
    with pytest.raises(EtscapError) as caught:
        solve(model)
    assert str(caught.value) == (
        "the model's constraint family national_target is deactivated (all 3 rows): the results are read from its "
        "rows, so keep it active (deactivate single rows such as m.national_target[2025], or add a constraint of "
        "your own)")


def test_the_smallest_base_output_allowed_writes_finite_benchmarks(toy_copy, tmp_path):
    """base_output = 0 wrote inf (cap / 0), and so did any quotient above ~1.8e299, which the
    writer's rounding to 9 decimals overflows: base_output is at least 1e-6 now."""
    import numpy as np

    from model import Results, solve

    sectors = toy_copy / "sectors.csv"
    sectors.write_text(sectors.read_text().replace("power,2025,2025,100,100,TWh", "power,2025,2025,100,1e-6,TWh"))
    solved = solve(toy_copy)
    read = Results.read(solved.write(tmp_path / "out")).sector_years.set_index(["sector", "year"])
    benchmark = read.loc[("power", 2025), "implied_benchmark_t_per_unit"]
    assert np.isfinite(read["implied_benchmark_t_per_unit"].dropna()).all()
    cap = solved.sector_years.set_index(["sector", "year"]).loc[("power", 2025), "cap_mt"]
    assert benchmark == pytest.approx(cap / 1e-6)
