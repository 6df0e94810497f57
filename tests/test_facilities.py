"""Installations: the synthetic registry and each installation's share of its sector."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from model import load_dataset, solve
from model.cli import cli
from model.data.registry import make_registry
from tests.conftest import CHINA, FIVE_INSTALLATIONS_WITH_OUTPUT, TOY, toy_with_registry


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
    assert totals.loc["power", "output"] == pytest.approx(6340.0)
    assert registry["source"].str.startswith("synthetic").all()


def test_registry_is_reproducible_and_scalable(china):
    pd.testing.assert_frame_equal(make_registry(china, seed=3), make_registry(china, seed=3))
    assert not make_registry(china, seed=3)["emissions_mt"].equals(make_registry(china, seed=4)["emissions_mt"])
    small = make_registry(china, seed=3, scale=0.1)
    assert small.groupby("sector").size()["aluminium"] == 8  # round(85 x 0.1)
    assert small.groupby("sector")["emissions_mt"].sum()["steel"] == pytest.approx(1558.0)


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
    assert np.isclose(written.groupby("sector")["emissions_mt"].sum()["power"], 5100.0)


def test_sector_own_price_at_facility_resolution_is_the_bau_weighted_mean(tmp_path):
    """Steel simulates in 2025 with a rule cap of 0.94 x 50 = 47 Mt, shared by output (no
    benchmarks): s1 10/25 -> 18.8 Mt, s2 6/25 -> 11.28, s3 9/25 -> 16.92; BAU by base
    emissions: 25, 15, 10. s1 (cost factor 1) cuts 6.2 Mt: step A 2.5 at 20, then B (5 at
    60): own price 60. s2 (factor 2) cuts 3.72: A 1.5 at 40, then B at 120: own price 120.
    s3 is within its cap: 0. Steel's own price is their mean weighted by BAU emissions:
    (25 x 60 + 15 x 120 + 10 x 0) / 50 = 66 CNY/t (not weighted by emissions: 61.92)."""

    folder = toy_with_registry(tmp_path / "toy", FIVE_INSTALLATIONS_WITH_OUTPUT)
    for pooled in (True, False):
        results = solve(folder, overrides={"model.resolution": "facility", "model.pool_installations": pooled})
        installations = results.facilities.set_index(["facility_id", "year"])
        prices = [installations.loc[(f, 2025), "price_cny_per_t"] for f in ("s1", "s2", "s3")]
        assert prices == pytest.approx([60.0, 120.0, 0.0])
        steel = results.sector_years.set_index(["sector", "year"]).loc[("steel", 2025)]
        assert steel["own_price_cny_per_t"] == pytest.approx(66.0)


RELIEF_REGISTRY = """facility_id,sector,output,emissions_mt,unit_type,obligation_capped_at_allocation,source
coal1,power,20,60,coal,,illustrative
gas1,power,10,20,gas,,illustrative
other1,power,70,20,other,false,illustrative
"""
RELIEF_TYPES = """sector,unit_type,benchmark_t_per_unit,shortfall_cap_share,obligation_capped_at_allocation,source
power,coal,1,0.2,,illustrative
power,gas,1,,true,illustrative
power,other,1,,,illustrative
"""


def test_relief_caps_an_installations_purchase(tmp_path):
    """Toy power in 2025: emissions 78 Mt, all 78 Mt free, price 40. Installations share
    emissions 60/20/20% and allocation by output 20/10/70%: coal1 emits 46.8 and gets 15.6, a
    shortfall of 31.2 capped at 0.2 x 46.8 = 9.36 (relief 21.84, cost 40 x 9.36 = 0.3744 bn
    CNY); gas1 emits 15.6, gets 7.8: it surrenders at most its allocation (relief 7.8, cost 0);
    other1 is long by 54.6 - 15.6 = 39 (no relief)."""
    import shutil
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(RELIEF_REGISTRY)
    (folder / "benchmarks.csv").write_text(RELIEF_TYPES)
    rows = solve(folder).facilities.set_index(["facility_id", "year"]).xs(2025, level="year")
    assert rows["shortfall_mt"].tolist() == pytest.approx([31.2, 7.8, -39.0])
    assert rows["relief_mt"].tolist() == pytest.approx([21.84, 7.8, 0.0])
    assert rows["compliance_cost_bn_cny"].tolist() == pytest.approx([0.3744, 0.0, -1.56])


def test_phase_codes_and_categorical_by_hand():
    """Codes are positions in PHASES (outside 0, simulation 1, trading 2); the table's
    categorical lists the phases in order of first appearance: trading (row 0), then
    simulation (row 1)."""
    from model.results.facilities import _phase_categorical
    from model.parameters.installations import phase_codes

    assert phase_codes(np.array(["trading", "outside", "simulation", "trading"], dtype=object)).tolist() == [2, 0, 1, 2]
    phase = _phase_categorical(np.array([2, 1, 2, 1], dtype=np.int8))
    assert list(phase.categories) == ["trading", "simulation"]
    assert list(phase) == ["trading", "simulation", "trading", "simulation"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["outside", "simulation", "trading"]), min_size=1, max_size=30))
def test_phase_categorical_equals_factorized_text(phases):
    """From integer codes, the same categorical as factorizing the text (values, categories
    and their order)."""
    from model.results.facilities import _phase_categorical
    from model.parameters.installations import phase_codes

    text = np.array(phases, dtype=object)
    codes, categories = pd.factorize(text)
    expected = pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))
    ours = _phase_categorical(phase_codes(text))
    assert list(ours) == list(expected) and list(ours.categories) == list(expected.categories)


@pytest.mark.parametrize("block_members", [1, 3, 8, 1 << 13])
def test_pool_shares_summed_in_blocks_of_installations_are_a_reduceat_a_year(monkeypatch, block_members):
    """``_pool_shares_by_installation`` sums each installation's members a block of
    installations at a time, every year at once: by hand, installation 0 (members on paths
    0 and 1, shares 0.5 and 0.25) in year 1 uses 0.5 x 0.2 + 0.25 x 0.4 = 0.2; and on random
    members, bit for bit the sum a year (``np.add.reduceat`` of that year's terms), with
    blocks of one member up to all of them; years outside ``used_years`` stay 0."""
    from model.results import tables

    monkeypatch.setattr(tables, "POOL_CHUNK_MEMBERS", block_members)
    by_year_path = np.array([[0.0, 0.0, 0.0], [0.2, 0.4, 1.0], [1.0, 1.0, 0.5]])  # year x path
    share_used = np.zeros((3, 3))
    tables._pool_shares_by_installation(share_used, by_year_path, np.array([1, 2]), np.array([0, 1, 2]),
                                        np.array([0.5, 0.25, 0.1]), np.array([0, 0, 2]), np.array([0, 2]))
    assert share_used.tolist() == [[0.0, 0.0, 0.0], [0.5 * 0.2 + 0.25 * 0.4, 0.0, 0.1 * 1.0],
                                   [0.5 * 1.0 + 0.25 * 1.0, 0.0, 0.1 * 0.5]]
    rng = np.random.default_rng(7)
    n_installations, n_years, n_paths = 500, 6, 40
    members = rng.integers(0, 25, n_installations)  # some installations without members, some with many
    facility = np.repeat(np.arange(n_installations), members)
    path, share = rng.integers(0, n_paths, facility.size), rng.random(facility.size)
    by_year_path = rng.random((n_years, n_paths))
    used_years = np.array([0, 2, 3, 5])
    starts = np.flatnonzero(np.r_[True, facility[1:] != facility[:-1]])
    expected = np.zeros((n_years, n_installations))
    for year in used_years:
        expected[year, facility[starts]] = np.add.reduceat(share * by_year_path[year][path], starts)
    blocked = np.zeros((n_years, n_installations))
    tables._pool_shares_by_installation(blocked, by_year_path, used_years, path, share, facility, starts)
    assert blocked.tobytes() == expected.tobytes()
