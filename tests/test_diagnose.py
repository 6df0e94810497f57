"""Infeasible targets explained: the smallest relaxation, by year and target, and the
sectors at their full abatement potential; on the exception and in the CLI's message."""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo
import pytest
from click.testing import CliRunner

from model import InfeasibleError, build_model, load_dataset, solve
from model.cli import cli
from tests.conftest import write_dataset

POWER_STEPS = [  # 10% at 10 and 10% at 30 CNY/t: 20% of BAU in total
    {"sector": "power", "step": "A", "potential_share": 0.1, "cost_cny_per_t": 10},
    {"sector": "power", "step": "B", "potential_share": 0.1, "cost_cny_per_t": 30},
]


def _power_only(tmp_path, caps, banking=False, ets_caps=None):
    years = list(caps)
    return write_dataset(
        tmp_path / "case", first_year=years[0], last_year=years[-1], banking=banking,
        sectors=[{"sector": "power", "covered_from": years[0], "base_emissions_mt": 100}],
        mac=POWER_STEPS,
        targets=[{"year": y, "national_cap_mt": cap, "ets_cap_mt": (ets_caps or {}).get(y)}
                 for y, cap in caps.items()],
    )


def _relaxation(folder) -> InfeasibleError:
    with pytest.raises(InfeasibleError) as caught:
        solve(folder)
    return caught.value


def test_known_minimal_relaxation(tmp_path):
    """BAU 100, 20% potential, national cap 70: the cap must rise by exactly 10 Mt."""
    error = _relaxation(_power_only(tmp_path, {2025: 70}))
    expected = pd.DataFrame({
        "year": [2025], "target": ["national_target"], "sector": [""], "cap_mt": [70.0],
        "relaxation_mt": [10.0], "sectors_at_full_potential": ["power"],
    })
    pd.testing.assert_frame_equal(error.relaxation, expected)
    assert str(error) == (
        "model 'case' is infeasible: the targets cannot all be met with the abatement potential "
        "given. The smallest relaxation that makes them feasible:\n"
        "   year          target sector  cap Mt  raise by Mt sectors at full potential\n"
        "   2025 national_target             70           10                     power\n"
        "Raise these caps (national_cap_mt or ets_cap_mt in targets.csv; for a simulation_rule_cap, "
        "a smaller simulation_reduction in sectors.csv) or add abatement potential in mac.csv."
    )


def test_only_the_years_that_are_short_are_listed(tmp_path):
    error = _relaxation(_power_only(tmp_path, {2025: 85, 2026: 75, 2027: 65}))
    assert error.relaxation[["year", "relaxation_mt"]].values.tolist() == [[2026, 5.0], [2027, 15.0]]


def test_with_banking_the_short_year_is_relaxed_by_what_the_bank_cannot_cover(tmp_path):
    """2025-26 each bank 5 Mt (abate 20, need 15); 2027 needs 40 and has 20 + 10 banked:
    10 Mt short, reported in 2027 although relaxing 2025 would bank the same 10 Mt."""
    error = _relaxation(_power_only(tmp_path, {2025: 85, 2026: 85, 2027: 60}, banking=True))
    assert error.relaxation[["year", "target", "relaxation_mt"]].values.tolist() == [
        [2027, "national_target", 10.0]]
    assert error.relaxation["sectors_at_full_potential"].tolist() == ["power"]


def test_fixed_ets_cap_below_what_trading_sectors_can_reach(tmp_path):
    """A fixed ETS cap of 70 against 80 Mt of least trading emissions: raise it by 10."""
    error = _relaxation(_power_only(tmp_path, {2025: 150}, ets_caps={2025: 70}))
    assert error.relaxation.drop(columns="sector").values.tolist() == [
        [2025, "ets_cap_mt", 70.0, 10.0, "power"]]


def test_simulation_rule_cap_beyond_the_sector_potential(tmp_path):
    """Steel must cut 30% on its own in its simulation phase but can cut 20%."""
    folder = write_dataset(
        tmp_path / "case",
        sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100},
                 {"sector": "steel", "covered_from": 2025, "trading_from": 2026,
                  "base_emissions_mt": 100, "simulation_reduction": 0.3}],
        mac=POWER_STEPS + [{**step, "sector": "steel"} for step in POWER_STEPS],
        targets=[{"year": 2025, "national_cap_mt": 200}],
    )
    error = _relaxation(folder)
    assert error.relaxation.values.tolist() == [
        [2025, "simulation_rule_cap", "steel", 70.0, 10.0, "steel"]]


def test_cap_that_no_abatement_can_touch_is_diagnosed(tmp_path):
    """A fixed ETS cap of 90 plus 50 Mt outside the ETS that cannot abate: the national cap
    of 120 leaves a row of constants, which is reported, not a traceback."""
    folder = write_dataset(
        tmp_path / "case",
        sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100},
                 {"sector": "rest", "base_emissions_mt": 50}],
        mac=POWER_STEPS,
        targets=[{"year": 2025, "national_cap_mt": 120, "ets_cap_mt": 90}],
    )
    error = _relaxation(folder)
    assert error.relaxation.values.tolist() == [[2025, "national_target", "", 120.0, 20.0, ""]]


def test_script_constraint_that_cannot_be_met(toy_path):
    m = build_model(load_dataset(toy_path))
    m.impossible = pyo.Constraint(expr=m.emissions_mt["rest", 2025] <= 0)
    with pytest.raises(InfeasibleError) as caught:
        solve(m)
    assert str(caught.value) == (
        "model 'toy' is infeasible even with every target relaxed: a constraint added by a "
        "script, or the bank rules, cannot be met"
    )
    assert caught.value.relaxation is None


def test_cli_prints_the_relaxation_and_exits_3(tmp_path):
    folder = _power_only(tmp_path, {2025: 70})
    result = CliRunner().invoke(cli, ["solve", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    error = next(i for i, line in enumerate(lines) if line.startswith("error:"))  # after progress lines
    assert lines[error].startswith("error: model 'case' is infeasible")
    assert lines[error + 2] == "   2025 national_target             70           10                     power"
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def toy_with_registry(tmp_path_factory):
    """The toy with five installations whose free shares follow their emissions."""
    from tests.conftest import toy_with_registry

    return toy_with_registry(tmp_path_factory.mktemp("toy") / "toy")


@pytest.mark.parametrize("resolution", [
    {}, {"model.resolution": "facility"}, {"model.resolution": "facility", "model.pool_installations": False}])
def test_sectors_at_full_potential_at_facility_resolution(toy_with_registry, resolution):
    """Steel simulates in 2025 with simulation_reduction 0.3: its rule cap (35 of 50 Mt) takes
    all its 30% potential, installation by installation (in closed form when pooled). The
    least emissions in 2025 are power 50 + steel's cap 35 + rest 25 = 110 Mt against a
    national cap of 100; in 2026 and 2027 (trading steel abates its 15 Mt), 50 + 35 + 25 =
    110 against 100. Every sector is at its full potential in every year, whether it abates
    as a sector or by installation."""
    overrides = {"sectors.steel.simulation_reduction": 0.3, "targets.2025.national_cap_mt": 100,
                 "targets.2027.national_cap_mt": 100, **resolution}
    with pytest.raises(InfeasibleError) as caught:
        solve(toy_with_registry, overrides=overrides)
    expected = pd.DataFrame({
        "year": [2025, 2026, 2027], "target": ["national_target"] * 3, "sector": [""] * 3, "cap_mt": [100.0] * 3,
        "relaxation_mt": [10.0] * 3, "sectors_at_full_potential": ["power, steel, rest"] * 3,
    })
    pd.testing.assert_frame_equal(caught.value.relaxation, expected)


def test_a_long_relaxation_shows_its_first_20_rows_and_says_how_many_more(tmp_path):
    """Power (BAU 2,000 Mt, 20% potential: at least 1,600 Mt) under a national cap of
    1,234.5678 Mt in each of 22 years: each year is raised by 365.4322 Mt. The message
    shows numbers to six significant digits with separators and the first 20 rows, then
    says how many more the exception holds."""
    folder = write_dataset(
        tmp_path / "case", first_year=2025, last_year=2046,
        sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 2000}], mac=POWER_STEPS,
        targets=[{"year": y, "national_cap_mt": 1234.5678} for y in (2025, 2046)])
    error = _relaxation(folder)
    assert len(error.relaxation) == 22
    assert error.relaxation["relaxation_mt"].tolist() == pytest.approx([365.4322] * 22)
    lines = str(error).splitlines()
    assert lines[1] == "   year          target sector   cap Mt  raise by Mt sectors at full potential"
    assert lines[2] == "   2025 national_target        1,234.57      365.432                     power"
    assert lines[21].startswith("   2044 national_target")
    assert lines[22:] == [
        "... and 2 more rows (InfeasibleError.relaxation)",
        "Raise these caps (national_cap_mt or ets_cap_mt in targets.csv; for a simulation_rule_cap, a smaller "
        "simulation_reduction in sectors.csv) or add abatement potential in mac.csv."]
    from model.solving.diagnose import _message
    twenty = _message("case", error.relaxation.head(20)).splitlines()
    assert len(twenty) == 23 and twenty[21].startswith("   2044 national_target") and twenty[22].startswith("Raise")
