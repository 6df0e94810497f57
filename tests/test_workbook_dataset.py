"""Issue 16.3: init a dataset, export it as a workbook, solve and validate the workbook."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from model import InputError, load_dataset, solve
from model.data import schema
from model.cli import cli
from model.data.workbook import export_workbook, sheets_of, write_dataset_folder
from tests.conftest import CHINA, TOY


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _same_dataset(a, b):
    assert a.settings == b.settings
    for spec in schema.TABLES:
        name = spec.file.removesuffix(".csv")
        left, right = a.table(name).reset_index(drop=True), b.table(name).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_dtype=True, obj=name)


@pytest.mark.parametrize("source", [TOY, CHINA], ids=["toy", "china"])
def test_round_trip_folder_workbook_folder_is_lossless(tmp_path, source):
    book = export_workbook(source, tmp_path / "book.xlsx")
    assert sheets_of(book)[:4] == ["scenario", "sectors", "mac", "targets"]
    assert sheets_of(book)[-1] == "reference"
    original, from_book = load_dataset(source), load_dataset(book)
    _same_dataset(original, from_book)
    folder = write_dataset_folder(from_book, tmp_path / "again")
    again = load_dataset(folder)
    _same_dataset(original, again)
    if source == TOY:  # the same optimum, to the bit (the China solve is covered by the tables above)
        assert solve(again).summary["objective_bn_cny"] == solve(original).summary["objective_bn_cny"]
        assert solve(from_book).summary["objective_bn_cny"] == solve(original).summary["objective_bn_cny"]


def test_workbook_has_units_row_reference_and_text_as_text(tmp_path):
    book = openpyxl.load_workbook(export_workbook(TOY, tmp_path / "toy.xlsx"))
    sectors = book["sectors"]
    header = [c.value for c in sectors[1]]
    units = dict(zip(header, [c.value for c in sectors[2]]))
    assert units["base_emissions_mt"] == "Mt CO2" and units["sector"] == "-"
    assert sectors.freeze_panes == "A3"
    assert [c.value for c in sectors[3]][:3] == ["power", 2025, 2025]
    assert sectors.cell(3, header.index("leakage_exposed") + 1).value is False
    mac = book["mac"]
    assert {type(c.value) for c in list(mac.columns)[1][2:]} == {str}  # step names are text
    reference = [[c.value for c in row] for row in book["reference"].iter_rows(min_row=2)]
    assert ["sectors", "base_emissions_mt", "float", "Mt CO2", "required", "a number from 0 to 100000",
            "Emissions in base_year."] in reference
    scenario = {row[0].value: row[1].value for row in book["scenario"].iter_rows(min_row=2)}
    assert scenario["discount_rate"] == 0.1 and scenario["market.banking"] is False


def _edited(tmp_path, sheet, cell, value, delete_units=False):
    path = export_workbook(TOY, tmp_path / "toy.xlsx", force=True)
    book = openpyxl.load_workbook(path)
    if cell:
        book[sheet][cell] = value
    if delete_units:
        book[sheet].delete_rows(2)
    book.save(path)
    return path


@pytest.mark.parametrize("sheet, cell, value, message", [
    ("sectors", "D4", "abc", "toy.xlsx, sheet sectors, row 4, column base_emissions_mt: found 'abc', "
                             "expected a number from 0 to 100000 (Mt CO2)"),
    ("sectors", "C4", 2020, "toy.xlsx, sheet sectors, row 4, column trading_from: found '2020', "
                            "expected a year not before covered_from (2025)"),
    ("mac", "A5", "stel", "toy.xlsx, sheet mac, row 5, column sector: found 'stel', expected a sector of "
                          "sectors.csv (did you mean 'steel'?)"),
    ("scenario", "B7", 0.9, "toy.xlsx, sheet scenario, row 7, column value: found '0.9', expected a number "
                            "from 0 to 0.5 (fraction per year)"),
    ("scenario", "A1", "name", "toy.xlsx, sheet scenario, row 1: found 'name, value', expected the column names "
                               "key and value on row 1"),
])
def test_workbook_problems_name_sheet_row_and_column(tmp_path, sheet, cell, value, message):
    path = _edited(tmp_path, sheet, cell, value)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    assert str(caught.value) == message
    result = _run("validate", path)
    assert result.exit_code == 2 and result.output == f"error: {message}\n"


@pytest.mark.parametrize("name", [None, "base_emisions_mt"], ids=["blank", "misspelt"])
def test_a_column_name_blanked_or_misspelt_is_its_own_problem_and_the_units_row_stays_units(tmp_path, name):
    """Row 2 still reads as the units row (the other 16 columns' units match), so the user meets
    the column's problems alone, not one per cell of the units row read as data."""
    path = _edited(tmp_path, "sectors", "D1", name)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    named = ("row 1, column D: found '', expected a column name (or delete the empty column)" if name is None else
             "row 1, column base_emisions_mt: found 'base_emisions_mt', expected a known column (did you mean "
             "'base_emissions_mt'?)")
    assert str(caught.value).splitlines()[1:] == [
        f"  toy.xlsx, sheet sectors, {named}",
        "  toy.xlsx, sheet sectors, row 1, column base_emissions_mt: expected a column named 'base_emissions_mt'"]


def test_workbook_without_units_row_and_sheet_problems(tmp_path):
    path = _edited(tmp_path, "targets", None, None, delete_units=True)
    assert load_dataset(path).targets["national_cap_mt"].tolist() == [170, 135]
    book = openpyxl.load_workbook(path)
    book["targets"].title = "target"
    book.save(path)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    assert str(caught.value) == (
        "2 problems in the inputs:\n"
        "  toy.xlsx, sheet target: expected a sheet named scenario, sectors, mac, targets, allocation, "
        "benchmarks, facilities, facility_mac, bau, cap_rules, deployment_limits, offsets, reserve or reference "
        "(did you mean 'targets'?)\n"
        "  toy.xlsx: expected a sheet named targets (the table targets.csv)")


def test_solve_takes_a_workbook(tmp_path):
    path = export_workbook(TOY, tmp_path / "toy.xlsx")
    result = _run("-q", "solve", path, "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    years = pd.read_csv(tmp_path / "r" / "years.csv")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 60])
    assert _run("export-xlsx", TOY, path).exit_code == 1  # never replaced without --force
    assert _run("export-xlsx", TOY, path, "--force").exit_code == 0


def test_init_writes_a_valid_dataset_with_a_readme(tmp_path):
    result = _run("init", tmp_path / "mine", "--from", "toy")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "mac.csv", "scenario.toml", "scenarios",
                                                        "sectors.csv", "targets.csv"]
    readme = (folder / "README.md").read_text()
    for spec in schema.TABLES:
        assert f"- `{spec.file}`" in readme
    assert "## Notes from the dataset this one started from" in readme
    assert (TOY / "README.md").read_text().strip() in readme
    assert solve(folder).summary["objective_bn_cny"] == solve(TOY).summary["objective_bn_cny"]
    assert load_dataset(folder).name == "mine"  # named after its folder: results/mine
    assert (folder / "scenario.toml").read_text().startswith("# A three-sector, three-year case")  # comments kept
    again = _run("init", folder)
    assert again.exit_code == 1
    assert again.output == (f"error: {folder} already exists and is not an empty folder: choose a new folder "
                            "name (init never overwrites a dataset)\n")
    (tmp_path / "empty").mkdir()
    assert _run("-q", "init", tmp_path / "empty").exit_code == 0  # an empty folder is fine; default: china
    assert load_dataset(tmp_path / "empty").sectors["sector"].tolist() == load_dataset(CHINA).sectors["sector"].tolist()
    assert _run("-q", "init", tmp_path / "from-book", "--from", export_workbook(TOY, tmp_path / "t.xlsx")).exit_code == 0
    assert load_dataset(tmp_path / "from-book").name == "from-book"
    bad = _run("init", tmp_path / "other", "--from", "nowhere")
    assert bad.exit_code == 1
    assert bad.output == "error: --from nowhere: expected china, toy, or a dataset folder or workbook that exists\n"


def test_a_sheet_longer_than_any_dataset_is_not_read_whole(tmp_path, monkeypatch):
    import model.data.workbook

    path = export_workbook(TOY, tmp_path / "toy.xlsx")
    monkeypatch.setattr(model.data.workbook, "MAX_SHEET_ROWS", 4)  # the toy's sectors sheet has 5 rows
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    assert "toy.xlsx, sheet sectors: found 'more than 4 rows', expected at most 4 rows (delete the rows below " \
           "the table)" in str(caught.value)


def test_a_sheet_with_too_many_rows_is_refused_by_name(tmp_path):
    """A mac sheet of 10,001 data rows (mac.csv's limit is 10,000, as for the CSV file): one
    problem naming the workbook's sheet and the limit, and no table read from it."""
    path = export_workbook(TOY, tmp_path / "toy.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["mac"]
    for i in range(schema.MAC.max_rows + 1 - (sheet.max_row - 2)):
        sheet.append(["power", f"S{i}", 0, 10, None, 0, "test"])
    book.save(path)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    assert str(caught.value) == (f"toy.xlsx, sheet mac: found 'more than {schema.MAC.max_rows} data rows', "
                                 f"expected at most {schema.MAC.max_rows} data rows")
