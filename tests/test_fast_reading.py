"""The fast readers of the input tables give what the careful ones give (hypothesis, derandomised).

- ``_regular_csv_cells`` reads a CSV in one pass of the csv module and hands anything that
  might be reported (a blank or malformed row, a row of another width, a header problem) to the
  row-by-row reader: whenever it answers, its cells equal the row-by-row reader's, which finds
  nothing to report.
- ``Field.parse_column`` parses a column with numpy masks: each cell's value and verdict are
  those of the cell parsed alone (no mixing across rows), and a number written out reads back
  exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from model.data import inputs, schema

PROPERTY_SETTINGS = dict(deadline=None, derandomize=True, database=None, max_examples=300,
                         suppress_health_check=[HealthCheck.too_slow])
CELL = st.text(alphabet=['a', 'b', '1', '.', ' ', ',', '"', '\n', '\r', ';', '-', 'e', '\t'], max_size=6)


def _careful(text: str, max_rows: int) -> tuple[pd.DataFrame | None, list]:
    """``_csv_cells`` with the one-pass reader switched off: the row-by-row reader alone."""
    problems: list = []
    original = inputs._regular_csv_cells
    inputs._regular_csv_cells = lambda text, max_rows: None
    try:
        return inputs._csv_cells("t.csv", text, problems, max_rows), problems
    finally:
        inputs._regular_csv_cells = original


@settings(**PROPERTY_SETTINGS)
@given(st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=6), st.integers(1, 6))
def test_one_pass_reader_equals_row_by_row_reader(rows, max_rows):
    text = "\n".join(",".join(row) for row in rows)
    assume(text.strip())  # an empty file is refused before either reader (_read_table)
    fast = inputs._regular_csv_cells(text, max_rows)
    careful, problems = _careful(text, max_rows)
    if fast is None:
        return  # read row by row, as before
    assert problems == []
    assert careful is not None
    pd.testing.assert_frame_equal(fast, careful)
    assert fast.index.dtype == careful.index.dtype and fast.index.name == "row"


def test_one_pass_reader_hands_over_what_is_reported():
    """A misplaced comma on row 3, a blank row, a too-long file: the row-by-row reader's
    messages, unchanged (the one-pass reader declines each)."""
    for text in ("a,b\n1,2\n3,4,5\n", "a,b\n1,2\n,\n3,4\n", "a,b\n1,2\n3,4\n5,6\n", 'a,b\n1,"2\n'):
        assert inputs._regular_csv_cells(text, 2) is None
    problems: list = []
    inputs._csv_cells("t.csv", "a,b\n1,2\n3,4,5\n", problems, 10)
    assert [(p.row, p.found) for p in problems] == [(3, "3 fields")]
    problems = []
    cells = inputs._csv_cells("t.csv", "a,b\n1,2\n,\n3,4\n", problems, 10)
    assert problems == [] and list(cells.index) == [2, 4]  # the blank row 3 skipped but counted


FIELDS = [f for spec in schema.TABLES for f in spec.fields] + list(schema.SCENARIO_FIELDS)
NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=False).map(repr),
                    st.sampled_from(["", " ", "inf", "nan", "1e400", "2030.5", "1_000", "0x10", "yes", "TRUE",
                                     "no", "maybe", " 12 ", "intensity", "absolute"]))


@settings(**PROPERTY_SETTINGS)
@given(st.sampled_from(FIELDS), st.lists(NUMBERS, min_size=1, max_size=8))
def test_a_column_parses_as_its_cells_alone(field, cells):
    values, bad = field.parse_column(pd.Series(cells, index=range(2, len(cells) + 2), dtype=object))
    assert bad.dtype == bool and len(bad) == len(cells) and list(values.index) == list(range(2, len(cells) + 2))
    for position, cell in enumerate(cells):
        alone, alone_bad = field.parse_column(pd.Series([cell], dtype=object))
        assert bool(bad[position]) == bool(alone_bad[0])
        got, expected = values.iloc[position], alone.iloc[0]
        assert (pd.isna(got) and pd.isna(expected)) or got == expected
        if field.kind == "float" and not bad[position] and cell.strip():
            assert got == float(cell)  # read back exactly (every finite float's repr)


@pytest.mark.parametrize("kind, cells, expected, bad", [
    # blank takes the default 0.0; "2" -> 2.0; "x" not a number -> bad and blank;
    # "2.5" above the maximum 2 -> bad, its value kept
    ("float", ["", "2", "x", "2.5"], [0.0, 2.0, math.nan, 2.5], [False, False, True, True]),
    # whole numbers: "2030.0" is 2030, "2030.5" is not whole -> bad
    ("int", ["2030.0", "2030.5", ""], [2030, pd.NA, 2040], [False, True, False]),
])
def test_parse_column_by_hand(kind, cells, expected, bad):
    field = (schema.Field("x", "float", "", "", 0.0, 0.0, 2.0) if kind == "float"
             else schema.Field("y", "int", "year", "", 2040, 1990, 2100))
    values, found_bad = field.parse_column(pd.Series(cells, dtype=object))
    assert list(found_bad) == bad
    for got, want in zip(values, expected):
        assert (pd.isna(got) and pd.isna(want)) or got == want
    assert values.dtype == (np.float64 if kind == "float" else pd.Int64Dtype())


@pytest.mark.parametrize("blank_row", ["", "\n,,,,,,,,,,,,,\n"], ids=["one pass", "row by row"])
def test_a_space_before_a_quoted_cell_is_not_part_of_it(tmp_path, blank_row):
    """Spreadsheets and people write `power, "2025", 100`: the space after a comma is dropped,
    so a quoted cell (with a comma in it or not) reads as its text, whether the file is read in
    one pass (every row as wide as the header) or row by row (a blank row makes the one-pass
    reader give up, to say nothing of it)."""
    import shutil

    from model import load_dataset
    from tests.conftest import TOY
    for source, expected in (('"illustrative"', "illustrative"), ('"illustrative, power"', "illustrative, power")):
        folder = tmp_path / expected.replace(", ", "-")
        shutil.copytree(TOY, folder)
        sectors = folder / "sectors.csv"
        text = (sectors.read_text().replace("power,2025,2025,100,100,TWh", 'power, "2025", "2025", 100, 100, "TWh"')
                .replace("0,illustrative\nsteel", f"0, {source}{blank_row}\nsteel"))
        sectors.write_text(text)
        assert (inputs._regular_csv_cells(text, 100) is None) == bool(blank_row)
        table = load_dataset(folder).sectors.set_index("sector")
        assert (table.loc["power", "covered_from"], table.loc["power", "trading_from"]) == (2025, 2025)
        assert (table.loc["power", "output_unit"], table.loc["power", "source"]) == ("TWh", expected)
        assert table.loc["power", "base_emissions_mt"] == 100.0
