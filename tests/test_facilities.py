"""Installations: the synthetic registry and each installation's share of its sector."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from model import load_dataset
from model.cli import cli
from model.registry import make_registry
from tests.conftest import CHINA


@pytest.fixture(scope="module")
def china():
    return load_dataset(CHINA)


def test_registry_is_calibrated_to_sector_totals(china):
    registry = make_registry(china, seed=7)
    sectors = china.sectors.set_index("sector")
    counts = registry.groupby("sector").size()
    assert counts["aluminium"] == 85 and counts["power"] == 2162
    assert len(registry) == int(sectors["entities"].sum())
    totals = registry.groupby("sector")[["emissions_mt", "output"]].sum()
    assert totals["emissions_mt"].to_numpy() == pytest.approx(sectors.loc[totals.index, "base_emissions_mt"].to_numpy())
    assert totals.loc["power", "output"] == pytest.approx(5330.0)
    assert registry["source"].str.startswith("synthetic").all()


def test_registry_is_reproducible_and_scalable(china):
    pd.testing.assert_frame_equal(make_registry(china, seed=3), make_registry(china, seed=3))
    assert not make_registry(china, seed=3)["emissions_mt"].equals(make_registry(china, seed=4)["emissions_mt"])
    small = make_registry(china, seed=3, scale=0.1)
    assert small.groupby("sector").size()["aluminium"] == 8  # round(85 x 0.1)
    assert small.groupby("sector")["emissions_mt"].sum()["steel"] == pytest.approx(1650.0)


def test_power_units_follow_their_benchmarks(china):
    """Unit types appear in their declared output shares; intensities scatter around benchmarks."""
    power = make_registry(china, seed=11).query("sector == 'power'")
    share = power.groupby("unit_type")["output"].sum() / power["output"].sum()
    assert share["coal_above_300mw"] == pytest.approx(0.62)
    assert share["gas"] == pytest.approx(0.10)
    intensity = (power["emissions_mt"] / power["output"]).groupby(power["unit_type"]).median()
    assert intensity["gas"] < intensity["coal_above_300mw"] < intensity["coal_unconventional"]


def test_facility_allowances_sum_to_sector_free_allocation(china_results):
    facilities = china_results.facilities
    by_sector_year = facilities.groupby(["sector", "year"])[["free_mt", "emissions_mt"]].sum()
    sectors = china_results.sector_years.set_index(["sector", "year"]).loc[by_sector_year.index]
    assert by_sector_year["free_mt"].to_numpy() == pytest.approx(sectors["free_mt"].to_numpy())
    assert by_sector_year["emissions_mt"].to_numpy() == pytest.approx(sectors["emissions_mt"].to_numpy())
    assert facilities["facility_id"].nunique() == 6837
    assert (facilities["shortfall_mt"] == facilities["emissions_mt"] - facilities["free_mt"]).all()


def test_free_allowances_follow_benchmark_times_output(china, china_results):
    """Within power in one year, free allowances per unit of output are in the ratio of the
    unit types' benchmarks (gas 0.392 against large coal 0.877 t/MWh)."""
    power = china_results.facilities.query("sector == 'power' and year == 2030").merge(
        china.facilities[["facility_id", "output"]], on="facility_id")
    per_output = (power["free_mt"] / power["output"]).groupby(power["unit_type"]).mean()
    assert per_output["gas"] / per_output["coal_above_300mw"] == pytest.approx(0.392 / 0.877)


def test_aluminium_smelters_short_in_2027(china_results):
    """The regulator's question: how many of the 85 smelters are short in 2027, by how much."""
    smelters = china_results.facilities.query("sector == 'aluminium' and year == 2027")
    sector = china_results.sector_years.set_index(["sector", "year"]).loc[("aluminium", 2027)]
    price = china_results.years.set_index("year").loc[2027, "allowance_price_cny_per_t"]
    assert len(smelters) == 85
    assert (smelters["shortfall_mt"] > 0).sum() >= 1
    assert smelters["shortfall_mt"].sum() == pytest.approx(sector["emissions_mt"] - sector["free_mt"])
    assert smelters["compliance_cost_bn_cny"].sum() == pytest.approx(
        price * (sector["emissions_mt"] - sector["free_mt"]) / 1e3)


def test_make_registry_command(tmp_path, china):
    out = tmp_path / "registry.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["make-registry", str(CHINA), "--scale", "0.05", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert len(written) == len(make_registry(china, seed=1, scale=0.05))
    again = runner.invoke(cli, ["make-registry", str(CHINA), "--out", str(out)])
    assert again.exit_code == 1 and "already exists: pass --force" in again.output
    assert np.isclose(written.groupby("sector")["emissions_mt"].sum()["power"], 4500.0)
