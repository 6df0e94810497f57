"""facility_years.parquet written from the table's arrays (model.results.facilities.to_arrow):
the same schema, pandas metadata and values as pyarrow's own conversion of the frame, read
back by pandas with the same columns, dtypes and values (categoricals, missing text and
numbers included); min/max statistics only for the key columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet
from hypothesis import given, settings
from hypothesis import strategies as st

from model.results.facilities import to_arrow
from model.results.tables import write_parquet


def _table(ids: list[str | None], sectors: list[str], values: list[float]) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({
        "facility_id": pd.Categorical(ids, categories=pd.Index(sorted({i for i in ids if i is not None}), dtype=object)),
        "sector": pd.Categorical(sectors, categories=pd.Index(sorted(set(sectors)), dtype=object)),
        "year": np.arange(2025, 2025 + n, dtype=np.int64),
        "emissions_mt": np.array(values, dtype=float),
    })


def test_a_small_table_reads_back_as_written_with_statistics_of_its_keys(tmp_path):
    """Three rows: the second installation's id missing (code -1), a NaN emission; read back,
    ids p1, NaN, s1 (categories p1, s1: object), years 2025-2027, emissions 1.5, NaN, -2.25;
    the row group's statistics: facility_id and year (min 2025, max 2027), none for sector
    or emissions_mt."""
    table = _table(["p1", None, "s1"], ["power", "power", "steel"], [1.5, np.nan, -2.25])
    write_parquet(table, tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert list(back.columns) == ["facility_id", "sector", "year", "emissions_mt"]
    assert back["facility_id"].cat.codes.tolist() == [0, -1, 1]
    assert back["facility_id"].cat.categories.tolist() == ["p1", "s1"]
    assert back["sector"].cat.codes.tolist() == [0, 0, 1]
    assert back["year"].dtype == np.int64 and back["year"].tolist() == [2025, 2026, 2027]
    emissions = back["emissions_mt"].to_numpy()
    assert emissions[0] == 1.5 and np.isnan(emissions[1]) and emissions[2] == -2.25
    group = pyarrow.parquet.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0)
    with_statistics = {group.column(i).path_in_schema for i in range(group.num_columns)
                       if group.column(i).is_stats_set}
    assert with_statistics == {"facility_id", "year"}
    year = next(group.column(i) for i in range(group.num_columns) if group.column(i).path_in_schema == "year")
    assert (year.statistics.min, year.statistics.max) == (2025, 2027)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "NA", "", None]), st.sampled_from(["power", "steel"]),
                          st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(-0.0))),
                min_size=1, max_size=30),
       st.integers(min_value=1, max_value=400))
def test_to_arrow_is_pyarrows_conversion_of_the_frame(rows, extra_categories):
    """Any table of text (with missing ids, 'NA' and '' as names, and up to 400 unused
    categories: int8 or int16 codes) and numbers (NaN, infinities, -0.0): the same Arrow
    table, schema and pandas metadata as ``pyarrow.Table.from_pandas``, and pandas reads
    both back equal."""
    table = _table([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    table["facility_id"] = table["facility_id"].cat.add_categories([f"x{i}" for i in range(extra_categories)])
    ours, theirs = to_arrow(table), pyarrow.Table.from_pandas(table, preserve_index=False)
    assert ours.schema.equals(theirs.schema, check_metadata=True)
    assert ours.equals(theirs)
    pd.testing.assert_frame_equal(ours.to_pandas(), theirs.to_pandas(), check_exact=True)


def test_to_arrow_of_numbers_whose_sum_overflows_warns_of_nothing():
    """Numbers near the float maximum (their sum is inf, or NaN with -inf): written as they are,
    with no RuntimeWarning from the check for NaN."""
    import warnings

    from model.results.facilities import to_arrow

    frame = pd.DataFrame({"x": [1.7e308, 1.7e308], "y": [1.7e308, -np.inf]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = to_arrow(frame)
    assert table.column("x").to_pylist() == [1.7e308, 1.7e308]
    assert table.column("y").to_pylist() == [1.7e308, -np.inf]
