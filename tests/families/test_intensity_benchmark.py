"""intensity_benchmark by hand on the toy with slack national targets: power's allowances are
a held 0.8 t/MWh x its actual output (100 TWh: 80 Mt), steel grandfathered (reduction 0) so
power alone sets the price; an absolute cap from 2026 holds power's 2025 cap instead."""

import pytest

from model.errors import InputError
from model.data.inputs import load_dataset
from tests.families.cap_rule_helpers import by_sector_year, solved, toy_with_rules
from tests.families.helpers import rows_of, toy_parameters

STEEL = "steel,2025,grandfathered,0,"


def test_rows(tmp_path):
    p = toy_parameters(folder=toy_with_rules(tmp_path, ["power,2025,intensity,,0.8"]))
    rows = rows_of(p, "intensity_benchmark")
    assert rows["power", 2025] == {"constant": 0.0, "lower": 80.0, "upper": 80.0,
                                   "coefs": {"sector_cap_mt[('power', 2025)]": 1.0}}
    assert list(rows) == [("power", 2025), ("power", 2026), ("power", 2027)]


def test_output_up_ten_percent_allowances_up_ten_percent(tmp_path):
    """Output 110 TWh from 2026 (output_growth 0.1): 0.8 x 110 = 88 Mt, +10% on 80."""
    rules = ["power,2025,intensity,,0.8", STEEL]
    base = solved(tmp_path / "a", rules)
    grown = solved(tmp_path / "b", rules, **{"sectors.power.output_growth": 0.1})
    assert by_sector_year(base, "cap_mt")["power", 2026] == pytest.approx(80.0)
    assert by_sector_year(grown, "cap_mt")["power", 2026] == pytest.approx(88.0)
    assert by_sector_year(grown, "benchmark_t_per_unit")["power", 2026] == pytest.approx(0.8)


def test_absolute_cap_unchanged_when_output_grows(tmp_path):
    """Absolute from 2026: power's cap may not rise above its 2025 cap of 80 Mt although
    output (and BAU) grow 10%: 80 Mt in 2026, cut 110 - 80 = 30 (A 22 at 10, B 8 at 40)."""
    grown = solved(tmp_path, ["power,2025,intensity,,0.8", "power,2026,absolute,,", STEEL],
                   **{"sectors.power.output_growth": 0.1})
    assert by_sector_year(grown, "basis")["power", 2026] == "absolute"
    assert by_sector_year(grown, "cap_mt")["power", 2026] == pytest.approx(80.0)
    assert by_sector_year(grown, "abatement_mt")["power", 2026] == pytest.approx(30.0)
    assert grown.years.set_index("year").loc[2026, "allowance_price_cny_per_t"] == pytest.approx(40.0)


def test_a_sector_switching_basis_in_its_own_year(tmp_path):
    """Steel: simulation in 2025 (the shorthand: trading from 2026; rule cap 0.94 x 50 = 47),
    grandfathered 2026 (cap = emissions), intensity 2027 at 1.6 t/t x 25 Mt = 40 Mt; power
    stays on its shorthand (intensity, benchmark chosen)."""
    results = solved(tmp_path, ["steel,2026,grandfathered,0,", "steel,2027,intensity,,1.6"])
    steel = results.sector_years[results.sector_years["sector"] == "steel"].set_index("year")
    assert steel["basis"].tolist() == ["simulation", "grandfathered", "intensity"]
    assert steel["phase"].tolist() == ["simulation", "trading", "trading"]
    assert steel.loc[2025, "cap_mt"] == pytest.approx(47.0)
    assert steel.loc[2026, "cap_mt"] == pytest.approx(steel.loc[2026, "emissions_mt"])
    assert steel.loc[2027, "cap_mt"] == pytest.approx(40.0)
    power = results.sector_years[results.sector_years["sector"] == "power"].set_index("year")
    assert power["basis"].tolist() == ["intensity"] * 3
    assert results.summary["checks"]["cap_rules"]["passed"]


def test_shorthands_expand_to_the_same_rules(tmp_path):
    """cap_rules.csv restating the toy's shorthands with absolute caps from 2027 gives the same LP."""
    from tests.families.helpers import objective_bn
    shorthand = toy_parameters({"allocation.absolute_cap_from": 2027})
    rules = toy_parameters(folder=toy_with_rules(tmp_path, [
        "power,2025,intensity,,", "power,2027,absolute,,", "steel,2025,simulation,0.06,",
        "steel,2026,intensity,,", "steel,2027,absolute,,"]))
    assert objective_bn(rules) == pytest.approx(objective_bn(shorthand), rel=1e-12)
    assert rows_of(rules, "absolute_cap_incumbents") == rows_of(shorthand, "absolute_cap_incumbents")
    assert rows_of(rules, "trading_cap_shares") == rows_of(shorthand, "trading_cap_shares")


def test_a_benchmark_for_another_basis_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"cap_rules.csv.*row 2.*benchmark_t_per_unit"):
        load_dataset(toy_with_rules(tmp_path, ["power,2025,absolute,,0.8"]))


def test_a_rule_before_coverage_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"cap_rules.csv.*row 2.*from_year.*covered_from"):
        load_dataset(toy_with_rules(tmp_path, ["steel,2024,grandfathered,0,"]))
