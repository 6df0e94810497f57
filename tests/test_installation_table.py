"""The table by installation is written at facility resolution, and at sector resolution only
with --installations (on the default dataset it is 6,837 installations x 34 years, 46 MB)."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from model.cli import cli


def _solve(*args):
    result = CliRunner().invoke(cli, ["-q", "solve", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def test_sector_resolution_leaves_out_the_table_by_installation(tmp_path):
    _solve("--out", tmp_path / "plain")
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == [
        "abatement_steps.csv", "sector_years.csv", "summary.json", "years.csv"]


def test_installations_flag_writes_it(tmp_path):
    _solve("--out", tmp_path / "asked", "--installations")
    table = pd.read_parquet(tmp_path / "asked" / "facility_years.parquet")
    assert table["facility_id"].nunique() == 6837
    assert not (tmp_path / "asked" / "facilities.csv").exists()  # Parquet only, unless asked for CSV
    by_sector_year = table.groupby(["sector", "year"])["emissions_mt"].sum()
    sectors = pd.read_csv(tmp_path / "asked" / "sector_years.csv").set_index(["sector", "year"])
    assert (by_sector_year - sectors.loc[by_sector_year.index, "emissions_mt"]).abs().max() < 1e-6


def test_facility_resolution_writes_it_without_the_flag(tmp_path):
    _solve("--out", tmp_path / "facility", "--resolution", "facility")
    table = pd.read_parquet(tmp_path / "facility" / "facility_years.parquet")
    assert table["facility_id"].nunique() == 6837


def test_installations_csv_writes_the_same_rows_as_csv_and_reads_back_from_parquet(tmp_path):
    """--installations-csv (at sector resolution it implies --installations) writes facilities.csv
    beside facility_years.parquet: the same rows and numbers (to the CSV's 9 decimals), on the
    toy with five installations (3 years: 15 rows). Results.read takes the Parquet table: text
    as categoricals, as the solve made it."""
    from model import Results
    from tests.conftest import toy_with_registry

    folder = toy_with_registry(tmp_path / "toy")
    _solve(folder, "--out", tmp_path / "csv", "--installations-csv")
    table = pd.read_parquet(tmp_path / "csv" / "facility_years.parquet")
    as_csv = pd.read_csv(tmp_path / "csv" / "facilities.csv", keep_default_na=False, na_values=[""], low_memory=False)
    assert list(as_csv.columns) == list(table.columns)
    assert len(as_csv) == len(table) == 15 and as_csv["facility_id"].nunique() == 5
    assert (as_csv["facility_id"] == table["facility_id"].astype(str)).all()
    assert (as_csv["emissions_mt"] - table["emissions_mt"]).abs().max() < 1e-9
    assert table["emissions_mt"].sum() > 0
    read = Results.read(tmp_path / "csv")
    pd.testing.assert_frame_equal(read.facilities, table, check_categorical=False, check_dtype=False)
    assert isinstance(read.facilities["sector"].dtype, pd.CategoricalDtype)
    assert read.facilities["sector"].cat.categories.dtype == object  # as the solve made them
