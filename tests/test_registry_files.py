"""A registry may be Parquet as well as CSV, and a registry of 200,000 installations is read
(make-registry's refusals of larger ones: tests/test_cli.py)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from model import load_dataset
from model.cli import cli
from model.data.schema import REGISTRY_MAX_ROWS
from tests import conftest
from tests.conftest import CHINA


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def china_copy(tmp_path):
    folder = tmp_path / "china"
    shutil.copytree(CHINA, folder)
    return folder


def test_parquet_registry_reads_as_the_csv(china_copy):
    pd.read_csv(china_copy / "facilities.csv").to_parquet(china_copy / "facilities.parquet", index=False)
    (china_copy / "facilities.csv").unlink()
    from_parquet, from_csv = load_dataset(china_copy), load_dataset(CHINA)
    pd.testing.assert_frame_equal(from_parquet.facilities, from_csv.facilities)
    assert from_parquet.sha256 == from_csv.sha256


def test_a_bad_cell_of_a_parquet_registry_is_reported_by_row_and_column(china_copy):
    registry = pd.read_csv(china_copy / "facilities.csv")
    registry.loc[4, "emissions_mt"] = -1.0  # the sixth row of the CSV, header on row 1
    registry.to_parquet(china_copy / "facilities.parquet", index=False)
    (china_copy / "facilities.csv").unlink()
    result = _run("validate", china_copy)
    assert result.exit_code == 2
    assert "facilities.parquet, row 6, column emissions_mt" in result.output


def test_two_registries_are_refused(china_copy):
    pd.read_csv(china_copy / "facilities.csv").to_parquet(china_copy / "facilities.parquet", index=False)
    result = _run("validate", china_copy)
    assert result.exit_code == 2
    assert "both facilities.csv and facilities.parquet" in result.output
    assert "one registry (delete one of the two files)" in result.output


def test_not_a_parquet_file(china_copy):
    (china_copy / "facilities.csv").rename(china_copy / "facilities.parquet")
    result = _run("validate", china_copy)
    assert result.exit_code == 2
    assert "facilities.parquet: expected a Parquet file with the columns of facilities.csv (pyarrow: " in result.output


def test_a_200000_installation_registry_is_written_and_read(china_copy):
    """200,000 installations (26 MB of CSV: over the 20 MB limit of the other tables)."""
    (china_copy / "facilities.csv").unlink()
    written = _run("-q", "make-registry", china_copy, "--scale", 29.25)
    assert written.exit_code == 0, written.output
    assert (china_copy / "facilities.csv").stat().st_size > 20 * 1024 * 1024
    result = _run("validate", china_copy)
    assert result.exit_code == 0, result.output
    assert len(load_dataset(china_copy).facilities) == 199_981 <= REGISTRY_MAX_ROWS


def test_registry_text_is_categorical_from_reading(tmp_path):
    """Five installations of two sectors: sector is a categorical with each name once, in
    order of first appearance (power, steel), codes 0, 0, 1, 1, 1; the same from CSV and
    from Parquet (where it is read by pyarrow, not as text cells)."""
    folder = conftest.toy_with_registry(tmp_path / "toy")
    from_csv = load_dataset(folder).facilities
    pd.read_csv(folder / "facilities.csv").to_parquet(folder / "facilities.parquet", index=False)
    (folder / "facilities.csv").unlink()
    from_parquet = load_dataset(folder).facilities
    for table in (from_csv, from_parquet):
        sector = table["sector"].array
        assert isinstance(sector, pd.Categorical)
        assert sector.categories.tolist() == ["power", "steel"] and sector.codes.tolist() == [0, 0, 1, 1, 1]
        assert table["facility_id"].array.codes.tolist() == [0, 1, 2, 3, 4]
        assert table["region"].array.categories.tolist() == [""]  # blank: the default '', once
    pd.testing.assert_frame_equal(from_parquet, from_csv)


def _both_ways(table: pd.DataFrame) -> tuple[pd.DataFrame | None, list, pd.DataFrame | None, list]:
    """``table`` read as facilities.parquet (pyarrow, column by column) and as the CSV pandas
    writes of it (text cells), with the problems of each (file names left out)."""
    import io

    from model.data import inputs, schema
    from model.data.registry_file import read_parquet_registry

    parquet = io.BytesIO()
    table.to_parquet(parquet, index=False)
    parquet_problems: list = []
    from_parquet = read_parquet_registry(parquet.getvalue(), schema.FACILITIES, parquet_problems)
    csv_problems: list = []
    cells = inputs._csv_cells("facilities.csv", table.to_csv(index=False), csv_problems, schema.FACILITIES.max_rows)
    from_csv = inputs.parse_table(schema.FACILITIES, cells, csv_problems) if cells is not None else None
    strip = [(p.row, p.column, p.found, p.expected) for p in parquet_problems]
    return from_parquet, strip, from_csv, [(p.row, p.column, p.found, p.expected) for p in csv_problems]


_names = st.sampled_from(["power", " power", "steel ", "", None, "cement", "p-1", "1.5"])
_numbers = st.one_of(st.sampled_from([0.0, 1.0, -1.0, 2.5, 1e8, float("nan"), float("inf"), 1e-300, 99.9]),
                     st.floats(min_value=0, max_value=200, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_names, _names, _names, _numbers, _numbers, st.sampled_from([True, False, None])),
                min_size=1, max_size=12), st.booleans())
def test_a_parquet_registry_reads_as_its_csv(rows, as_integers):
    """Any registry, bad cells included (blank or padded names, negative, infinite or
    out-of-range numbers, blank flags): facilities.parquet read column by column gives the
    table and the problems (row, column, value, expectation) that the same table written as
    facilities.csv gives cell by cell."""
    table = pd.DataFrame(rows, columns=["facility_id", "sector", "unit_type", "emissions_mt", "cost_factor",
                                        "obligation_capped_at_allocation"])
    table["facility_id"] = [None if name is None else f"{name}{i}" for i, name in enumerate(table["facility_id"])]
    if as_integers:  # integer columns in the Parquet file
        table["emissions_mt"] = np.nan_to_num(table["emissions_mt"], posinf=7, nan=3).round().astype(np.int64)
    table["obligation_capped_at_allocation"] = table["obligation_capped_at_allocation"].astype("boolean")
    from_parquet, parquet_problems, from_csv, csv_problems = _both_ways(table)
    assert parquet_problems == csv_problems
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_index_type="equiv")


def test_a_parquet_column_of_another_type_is_read_as_its_text(tmp_path):
    """emissions_mt stored as text ('60', 'x'): checked as CSV cells are, so 'x' on the
    second record is reported at row 3; a dictionary (categorical) sector reads as text."""
    table = pd.DataFrame({"facility_id": ["p1", "p2"], "sector": pd.Categorical(["power", "power"]),
                          "emissions_mt": ["60", "x"]})
    from_parquet, parquet_problems, _, csv_problems = _both_ways(table)
    assert parquet_problems == csv_problems == [(3, "emissions_mt", "x", "a number from 0 to 100000 (Mt CO2)")]
    assert from_parquet["emissions_mt"].tolist()[0] == 60.0
    assert from_parquet["sector"].array.categories.tolist() == ["power"]


def test_a_parquet_registry_written_with_its_index_reads_without_it(china_copy):
    """A registry written by pandas with an index of its own (stored as a column that
    pandas' metadata names as the index) reads as the registry without it."""
    pd.read_csv(china_copy / "facilities.csv").set_index("facility_id", drop=False).rename_axis("id").to_parquet(
        china_copy / "facilities.parquet")
    (china_copy / "facilities.csv").unlink()
    pd.testing.assert_frame_equal(load_dataset(china_copy).facilities, load_dataset(CHINA).facilities)


def _parquet_problems(table: pd.DataFrame, max_rows: int = REGISTRY_MAX_ROWS) -> tuple[pd.DataFrame | None, list]:
    import dataclasses
    import io

    from model.data import schema
    from model.data.registry_file import read_parquet_registry

    data = io.BytesIO()
    table.to_parquet(data, index=False)
    problems: list = []
    spec = dataclasses.replace(schema.FACILITIES, max_rows=max_rows)
    return read_parquet_registry(data.getvalue(), spec, problems), problems


def test_a_parquet_registry_of_too_many_records_is_refused_before_its_cells():
    """At most max_rows records, as facilities.csv's data rows (2 allowed, 3 given: refused whole;
    2 given: read, numbered from row 2 as the CSV's)."""
    registry = pd.read_csv(CHINA / "facilities.csv").head(3)
    read, problems = _parquet_problems(registry, max_rows=2)
    assert read is None
    assert [str(p) for p in problems] == ["facilities.parquet: found '3 data rows', expected at most 2 data rows"]
    read, problems = _parquet_problems(registry.head(2), max_rows=2)
    assert problems == [] and read is not None and read.index.tolist() == [2, 3]


def test_a_parquet_registry_names_an_unknown_and_a_missing_column():
    """A column not declared is named with the nearest declared one; a required column absent is
    named as missing (on row 1, the header, as facilities.csv's would be)."""
    registry = pd.read_csv(CHINA / "facilities.csv").head(2).rename(columns={"emissions_mt": "emission_mt"})
    _, problems = _parquet_problems(registry)
    assert [str(p) for p in problems] == [
        "facilities.parquet, row 1, column emission_mt: found 'emission_mt', expected a known column "
        "(did you mean 'emissions_mt'?)",
        "facilities.parquet, row 1, column emissions_mt: expected a column named 'emissions_mt'"]


def test_a_text_column_stored_as_numbers_in_parquet_reads_as_its_text(china_copy):
    """registry_file._as_cells mutant 8 (a text field's cells dropped: ``categorical_text(None)``).
    A registry whose facility_id column Parquet holds as integers (1, 2, ...) reads as the same
    ids as text, "1", "2", ..., the table a CSV of those ids gives."""
    registry = pd.read_csv(china_copy / "facilities.csv")
    registry["facility_id"] = range(1, len(registry) + 1)
    registry.to_csv(china_copy / "facilities.csv", index=False)
    from_csv = load_dataset(china_copy).facilities
    registry.to_parquet(china_copy / "facilities.parquet", index=False)
    (china_copy / "facilities.csv").unlink()
    from_parquet = load_dataset(china_copy).facilities
    assert from_parquet["facility_id"].astype(str).tolist()[:3] == ["1", "2", "3"]
    assert from_parquet["facility_id"].astype(str).tolist() == from_csv["facility_id"].astype(str).tolist()
    pd.testing.assert_frame_equal(from_parquet, from_csv)
