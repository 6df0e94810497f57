"""Dataset workbooks (model/data/workbook.py): each refusal's whole message, the cell text a
CSV would hold, and the scenario.toml written from settings."""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pytest

from model import load_dataset
from model.data.workbook import _column_letter, _text, _toml, export_workbook, settings_toml
from tests.conftest import TOY, refusal


@pytest.fixture(scope="module")
def toy_book(tmp_path_factory):
    return export_workbook(TOY, tmp_path_factory.mktemp("book") / "toy.xlsx")


def _edited(toy_book, tmp_path, edit):
    book = openpyxl.load_workbook(toy_book)
    edit(book)
    path = tmp_path / "toy.xlsx"
    book.save(path)
    return path


def _refused(path) -> str:
    return refusal(load_dataset, path)


def test_a_repeated_column_name_is_one_problem_and_the_units_row_stays_units(toy_book, tmp_path):
    """base_output (column E) renamed base_emissions_mt, as column D: that one problem. The
    repeated column's unit (TWh's row-2 cell '-' under a Mt CO2 name) says nothing about row 2,
    which stays the units row (it was read as data: 15 more problems, one per unit)."""
    path = _edited(toy_book, tmp_path, lambda book: book["sectors"].cell(1, 5, "base_emissions_mt"))
    assert _refused(path) == ("toy.xlsx, sheet sectors, row 1, column base_emissions_mt: found 'base_emissions_mt', "
                              "expected each column named once (also column D)")


def test_the_scenario_sheet_s_problems(toy_book, tmp_path):
    def edit(book):
        book["scenario"]["A3"] = "descriptoin"
        book["scenario"]["B6"] = None  # last_year blank

    assert _refused(_edited(toy_book, tmp_path, edit)).splitlines() == [
        "2 problems in the inputs:",
        "  toy.xlsx, sheet scenario, row 3, column key: found 'descriptoin', expected a known key (did you mean "
        "'description'?)",
        "  toy.xlsx, sheet scenario, row 6, column value: expected a whole number from 1990 to 2100; the value is "
        "blank or the key missing",
    ]
    path = _edited(toy_book, tmp_path, lambda book: book["scenario"].delete_rows(6))
    assert _refused(path) == ("toy.xlsx, sheet scenario, column last_year: expected a row for last_year: a whole "
                              "number from 1990 to 2100; the value is blank or the key missing")


def test_a_file_that_is_no_workbook_or_missing(tmp_path):
    (tmp_path / "notes.xlsx").write_text("hello")
    assert _refused(tmp_path / "notes.xlsx") == (
        "notes.xlsx: expected an Excel workbook (.xlsx) (BadZipFile: File is not a zip file)")
    assert _refused(tmp_path / "none.xlsx") == (
        f"{tmp_path / 'none.xlsx'}: expected a dataset folder or workbook (.xlsx) that exists")


def test_a_cell_as_a_csv_holds_it():
    assert [_text(v) for v in (None, True, False, 7, 2025.0, 0.1, 1e20, -3.0, "x")] == [
        "", "true", "false", "7", "2025", "0.1", "1e+20", "-3", "x"]  # beyond 2**53: every digit as repr
    assert _text(2.0 ** 53) == "9007199254740992.0" and _text(float(2 ** 53 - 1)) == str(2 ** 53 - 1)
    assert [_column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]


def test_settings_as_toml():
    assert [_toml(v) for v in (True, np.bool_(False), 3, np.int64(4), 0.5, np.float32(0.25), 'a "b"\\c\nd')] == [
        "true", "false", "3", "4", "0.5", "0.25", '"a \\"b\\"\\\\c\\nd"']
    text = settings_toml({**load_dataset(TOY).settings, "market.reserve.initial_mt": math.nan})
    lines = text.splitlines()
    assert lines[:7] == ["# Written by etscap (python run.py init / a workbook); see README.md for each key.",
                         'name = "toy"',
                         'description = "Power trades from 2025, steel simulates in 2025 and trades from 2026, '
                         'rest of economy outside"',
                         "base_year = 2025", "first_year = 2025", "last_year = 2027", "discount_rate = 0.1"]
    assert lines[7:10] == ["", "[market]", "banking = false"]
    assert "[market.reserve]" in lines and "initial_mt" not in text  # a blank setting is left out
    assert lines[-3:] == ["[model]", 'resolution = "sector"', "pool_installations = true"]


def test_a_workbook_without_its_scenario_sheet_or_too_large(toy_book, tmp_path, monkeypatch):
    """No scenario sheet: the settings' sheet named. A workbook above MAX_FILE_BYTES is refused
    by its size before it is opened, as a CSV file is (at the limit, it is read)."""
    import model.data.workbook

    assert _refused(_edited(toy_book, tmp_path, lambda book: book.remove(book["scenario"]))) == (
        "toy.xlsx: expected a sheet named scenario (the settings of scenario.toml)")
    size = toy_book.stat().st_size
    monkeypatch.setattr(model.data.workbook, "MAX_FILE_BYTES", size - 1)
    assert _refused(toy_book) == f"toy.xlsx: found '{size} bytes', expected at most {size - 1} bytes"
    monkeypatch.setattr(model.data.workbook, "MAX_FILE_BYTES", size)
    assert load_dataset(toy_book).sectors["sector"].tolist() == ["power", "steel", "rest"]


def test_a_blank_row_of_a_sheet_is_skipped_and_counted(toy_book, tmp_path):
    """A blank row inserted above steel (row 4 after the units row 2): steel is read, and a bad
    cell of it is named on row 5, where the analyst sees it."""
    def edit(book):
        book["sectors"].insert_rows(4)
        book["sectors"]["D5"] = -5

    assert _refused(_edited(toy_book, tmp_path, edit)) == (
        "toy.xlsx, sheet sectors, row 5, column base_emissions_mt: found '-5', expected a number from 0 to "
        "100000 (Mt CO2)")
    blank = _edited(toy_book, tmp_path, lambda book: book["sectors"].insert_rows(4))
    sectors = load_dataset(blank).sectors
    assert sectors["sector"].tolist() == ["power", "steel", "rest"]
    assert sectors["base_emissions_mt"].tolist() == [100.0, 50.0, 50.0]
