"""A registry may be Parquet as well as CSV, and a registry of 200,000 installations is read
(make-registry's refusals of larger ones: tests/test_cli.py)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from model import load_dataset
from model.cli import cli
from model.data.schema import REGISTRY_MAX_ROWS
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
