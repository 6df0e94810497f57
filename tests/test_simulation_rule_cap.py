"""The simulation phase's rule cap: (1 - simulation_reduction) x BAU of the same year, written
in sector_years.csv (``rule_cap_mt``) and met by the sector's cap and emissions."""

from __future__ import annotations

import pytest

from model import load_dataset
from model.checks import run_checks


def test_rule_cap_of_a_growing_sector(china_path, china_results):
    """Steel in the default dataset simulates in 2025-2026 with BAU falling 0.5% a year from
    1,650 Mt in 2020: its 2026 rule cap is (1 - 0.02) x 1,650 x (1 + 0)^6 x (1 - 0.005)^6
    = 1,569.0923 Mt. A rule cap taken from another year's BAU is off by 0.5% a year."""
    dataset = load_dataset(china_path)
    steel = dataset.sectors.set_index("sector").loc["steel"]
    elapsed = 2026 - dataset.settings["base_year"]
    bau_2026 = steel["base_emissions_mt"] * ((1 + steel["output_growth"]) * (1 + steel["intensity_change"])) ** elapsed
    expected = (1 - steel["simulation_reduction"]) * bau_2026
    rows = china_results.sector_years.set_index(["sector", "year"])
    assert rows.loc[("steel", 2026), "phase"] == "simulation"
    assert rows.loc[("steel", 2026), "rule_cap_mt"] == pytest.approx(expected, rel=1e-12)
    assert rows.loc[("steel", 2026), "rule_cap_mt"] == pytest.approx(1_569.0923, abs=1e-4)
    assert rows.loc[("steel", 2025), "rule_cap_mt"] == pytest.approx(1_569.0923 / 0.995, abs=1e-4)
    assert rows.loc[("steel", 2026), "cap_mt"] == pytest.approx(1_569.0923, abs=1e-4)
    assert rows.loc[("steel", 2026), "emissions_mt"] <= 1_569.0923 + 1e-4


def test_rule_cap_only_in_the_simulation_phase(toy_results):
    """The toy's steel simulates in 2025 only (0.94 x 50 = 47 Mt); no other row has a rule cap."""
    rows = toy_results.sector_years.set_index(["sector", "year"])
    assert rows["rule_cap_mt"].dropna().to_dict() == {("steel", 2025): pytest.approx(47.0)}


def test_checks_verify_the_cap_against_the_rule_cap(toy_results):
    """A simulation sector whose cap is not its rule cap fails simulation_compliance by the
    gap, even when its emissions stay within that cap."""
    sector_years = toy_results.sector_years.copy()
    row = sector_years.index[(sector_years["sector"] == "steel") & (sector_years["year"] == 2025)]
    sector_years.loc[row, "rule_cap_mt"] = 46.5
    report = run_checks(toy_results.years, sector_years, toy_results.abatement_steps, toy_results.summary["market"])
    assert {name for name, r in report.items() if not r["passed"]} == {"simulation_compliance"}
    assert report["simulation_compliance"]["worst_violation"] == pytest.approx(0.5)
