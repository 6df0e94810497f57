"""The simulation phase's rule cap: (1 - simulation_reduction) x BAU of the same year, written
in sector_years.csv (``rule_cap_mt``) and met by the sector's cap and emissions."""

from __future__ import annotations

import pytest

from model import load_dataset, solve
from model.results.checks import run_checks


def test_rule_cap_of_a_falling_sector(china_path):
    """Steel in the default dataset's ``new-sectors-simulation`` scenario simulates in 2025-2026;
    its BAU (bau.csv) falls from 1,496 Mt in 2025 to 1,353.7 Mt in 2030, linear in between, so
    BAU 2026 = 1,496 - (1,496 - 1,353.7) / 5 = 1,467.54 Mt and the 2026 rule cap is
    (1 - 0.02) x 1,467.54 = 1,438.1892 Mt. A rule cap taken from another year's BAU is off by
    about 28 Mt (0.98 x 1,496 = 1,466.08 from 2025's)."""
    dataset = load_dataset(china_path, scenarios=["new-sectors-simulation"])
    steel = dataset.sectors.set_index("sector").loc["steel"]
    bau = dataset.bau.set_index(["sector", "year"])["bau_mt"]
    assert bau.loc[("steel", 2025)] == 1496 and bau.loc[("steel", 2030)] == 1353.7
    bau_2026 = bau.loc[("steel", 2025)] + (bau.loc[("steel", 2030)] - bau.loc[("steel", 2025)]) / 5
    expected = (1 - steel["simulation_reduction"]) * bau_2026
    rows = solve(dataset, allocation=False).sector_years.set_index(["sector", "year"])
    assert rows.loc[("steel", 2026), "phase"] == "simulation"
    assert rows.loc[("steel", 2026), "rule_cap_mt"] == pytest.approx(expected, rel=1e-12)
    assert rows.loc[("steel", 2026), "rule_cap_mt"] == pytest.approx(1_438.1892, abs=1e-4)
    assert rows.loc[("steel", 2025), "rule_cap_mt"] == pytest.approx(0.98 * 1_496, abs=1e-4)
    assert rows.loc[("steel", 2026), "cap_mt"] == pytest.approx(1_438.1892, abs=1e-4)
    assert rows.loc[("steel", 2026), "emissions_mt"] <= 1_438.1892 + 1e-4


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
    # and steel's 47 Mt are 0.5 above the allowances its rule gives it (sector_compliance)
    assert {name for name, r in report.items() if not r["passed"]} == {"simulation_compliance", "sector_compliance"}
    assert report["simulation_compliance"]["worst_violation"] == pytest.approx(0.5)
