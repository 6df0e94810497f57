"""``parameters.derive`` on hand cases: the rows of cap_rules.csv as the spans each rule holds, the
shares of the caps the model chooses, targets interpolated and the national cap counted."""

import numpy as np
import pandas as pd
import pytest

from model.parameters import derive


def test_cap_rule_rows_hold_from_their_year_until_the_sectors_next_rule_sorted_by_sector_and_year():
    """cap_rules.csv rows given out of order: steel absolute from 2030, power intensity from 2027,
    steel simulation from 2025 (5% cut), steel intensity from 2027 (benchmark 1.8 t/t). By sector then
    year: power's one rule holds for ever; steel's 2025 rule until 2027, 2027's until 2030, 2030's
    for ever (the next sector's first year is not steel's end)."""
    rules = pd.DataFrame({"sector": ["steel", "power", "steel", "steel"], "from_year": [2030, 2027, 2025, 2027],
                          "basis": ["absolute", "intensity", "simulation", "intensity"],
                          "reduction": [0.0, 0.0, 0.05, 0.0], "benchmark_t_per_unit": [np.nan, np.nan, np.nan, 1.8]})
    rows = derive._rule_rows(rules)
    assert [row[:4] for row in rows] == [("power", 2027.0, np.inf, "intensity"),
                                        ("steel", 2025.0, 2027.0, "simulation"),
                                        ("steel", 2027.0, 2030.0, "intensity"), ("steel", 2030.0, np.inf, "absolute")]
    assert [row[4] for row in rows] == [0.0, 0.05, 0.0, 0.0]
    assert np.isnan(rows[0][5]) and rows[2][5] == 1.8 and np.isnan(rows[3][5])


def test_cap_shares_split_the_chosen_caps_by_bau_of_the_year_or_of_the_absolute_caps_first_year():
    """Rows a, b, c, d in 2025 and 2026. a: intensity without benchmark (BAU 30, 40); b: absolute from
    2020 (BAU 10 that year, whatever the row's year); c: intensity with a benchmark (given, no share);
    d: simulation (no share). 2025: a 30 / (30 + 10) = 0.75, b 0.25; 2026: a 40 / 50 = 0.8, b 0.2.
    A year whose shared sectors all have BAU 0 splits equally (1/2 each)."""
    basis = np.array(["intensity", "absolute", "intensity", "simulation"] * 2, dtype=object)
    benchmark = np.array([np.nan, np.nan, 1.5, np.nan] * 2)
    basis_from = np.array([2025.0, 2020.0, 2025.0, 2025.0] * 2)
    year = np.repeat([2025, 2026], 4)
    bau = {(0, 2025): 30.0, (0, 2026): 40.0, (1, 2020): 10.0}

    def bau_in_year(at):
        return np.array([bau.get((row % 4, int(when)), 99.0) for row, when in enumerate(at)])

    shares = derive._cap_shares(basis, benchmark, basis_from, year, np.array([2025, 2026]), bau_in_year)
    assert shares[[0, 1, 4, 5]].tolist() == [0.75, 0.25, 0.8, 0.2] and np.isnan(shares[[2, 3, 6, 7]]).all()
    zero = derive._cap_shares(basis, benchmark, basis_from, year, np.array([2025, 2026]),
                              lambda at: np.zeros(at.size))
    assert zero[[0, 1, 4, 5]].tolist() == [0.5] * 4


def test_targets_interpolate_between_rows_and_are_blank_outside_them():
    """Rows at 2025 (100, blank) and 2030 (50, 7): 2027 is 100 - 2/5 x 50 = 80 (the second column
    blank, as one of its ends); 2025 and 2030 are their rows; 2024 and 2031 are outside: NaN."""
    known = np.array([2025.0, 2030.0])
    values = np.array([[100.0, np.nan], [50.0, 7.0]])
    result = derive._interpolate_columns(known, values, np.array([2024, 2025, 2027, 2030, 2031]))
    assert result[1:4, 0].tolist() == [100.0, 80.0, 50.0] and result[3, 1] == 7.0
    assert np.isnan(result[[0, 4]]).all() and np.isnan(result[[1, 2], 1]).all()


def test_national_cap_is_the_tighter_target_net_of_non_co2_plus_sinks_under_net_ghg():
    """An absolute cap 1000 and an intensity 0.5 t/10k CNY x GDP 30,000 bn CNY (= 1500 Mt): 1000
    binds; under net_ghg with non-CO2 100 and sinks 40 the CO2 counted is 1000 - 100 + 40 = 940,
    under co2 1000 (non-CO2 and sinks 0). Without any target (2026): no cap (inf)."""
    from types import SimpleNamespace

    columns = {"national_cap_mt": [1000.0, np.nan], "national_intensity_t_per_10k_cny": [0.5, np.nan],
               "gdp_bn_cny": [30000.0, np.nan], "non_co2_mt": [100.0, np.nan], "sinks_mt": [40.0, np.nan]}
    for scope, expected in (("net_ghg", 940.0), ("co2", 1000.0)):
        dataset = SimpleNamespace(targets=None, settings={"targets.scope": scope})
        national = derive._national_targets(dataset, np.array([2025, 2026]), lambda c: np.array(columns[c]))
        assert national["intensity_target_mt"][0] == pytest.approx(1500.0)
        assert national["absolute_target_mt"][0] == 1000.0
        assert national["national_cap_mt"].tolist() == [pytest.approx(expected), np.inf]
        assert national["non_co2_mt"][0] == (100.0 if scope == "net_ghg" else 0.0)
        assert national["sinks_mt"][0] == (40.0 if scope == "net_ghg" else 0.0)


def test_limited_steps_are_those_with_a_build_rate_or_in_a_limited_group():
    """mac.csv: power A (build rate 2), power B (group g, limited), steel A (group h, no limit rows),
    steel B (no group, while deployment_limits.csv names a blank group): limited {power A, power B},
    of them with a build limit {power A}."""
    from types import SimpleNamespace

    mac = pd.DataFrame({"sector": ["power", "power", "steel", "steel"], "step": ["A", "B", "A", "B"],
                        "group": ["", "g", "h", ""], "max_build_mt_per_year": [2.0, np.nan, np.nan, np.nan]})
    dataset = SimpleNamespace(mac=mac, deployment_limits=pd.DataFrame({"group": ["g", ""]}))
    assert derive.limited_steps(dataset) == (frozenset({("power", "A"), ("power", "B")}), frozenset({("power", "A")}))


def test_grid_rows_by_phase_and_the_market_years_with_and_without_banking():
    """Two sectors over 2025-2027: a outside, simulating, trading; b trading, trading, outside.
    Trading years 2025-2026 (b) and 2027 (a): all three; covered rows 1, 2, 3, 4, simulation row
    1. Only b trading (a outside then simulating): trading years 2025-2026, market years the same
    without banking, every year with it."""
    years = np.array([2025, 2026, 2027])
    index = pd.MultiIndex.from_product([["a", "b"], years], names=["sector", "year"])
    phase = np.array(["outside", "simulation", "trading", "trading", "trading", "outside"], dtype=object)
    grid = derive._GridRows.of(phase, years, index, banking=False)
    assert grid.trading_years.tolist() == [2025, 2026, 2027] and grid.market_years.tolist() == [2025, 2026, 2027]
    assert grid.covered_rows.tolist() == [1, 2, 3, 4] and grid.simulation_rows.tolist() == [1]
    assert grid.year_of_row.tolist() == [2025, 2026, 2027] * 2
    assert grid.simulation_index.tolist() == [("a", 2026)] and not grid.phase.flags.writeable
    phase[2] = "simulation"
    later = derive._GridRows.of(phase, years, index, banking=False)
    assert later.trading_years.tolist() == [2025, 2026] and later.market_years.tolist() == [2025, 2026]
    assert derive._GridRows.of(phase, years, index, banking=True).market_years.tolist() == [2025, 2026, 2027]


def test_sums_by_year_and_positions_on_the_toys_grid():
    """The toy's 9 sector-year rows (power, steel, rest x 2025-2027, in the grid's order): ones sum
    to 3 a year; rows 0 (2025) and 4 (2026) to [1, 1, 0] (2027 counted though no row is in it);
    years 2025 and 2027 are positions 0 and 2; the covered rows (power's and steel's: 0-5) are the
    sector caps 0-5."""
    from tests.families.helpers import toy_parameters

    p = toy_parameters()
    assert p.sum_by_year(np.ones(9)).tolist() == [3.0, 3.0, 3.0]
    assert p.sum_by_year(np.array([1.0, 1.0]), np.array([0, 4])).tolist() == [1.0, 1.0, 0.0]
    assert p.year_position(np.array([2025, 2027])).tolist() == [0, 2]
    assert p.covered_rows.tolist() == [0, 1, 2, 3, 4, 5]
    assert p.covered_position(np.array([1, 5])).tolist() == [1, 5]


def test_bau_paths_of_two_sectors_one_without_an_output_path(tmp_path, toy_path):
    """bau.csv: power 100 Mt (output 100) in 2025 and 80 Mt (90) in 2027, steel 40 Mt in 2026
    and 46 Mt in 2027 with no output: power 100, 90, 80 Mt and output 100, 95, 90; steel held
    at 40 Mt before its first row, then 40, 46, its output sectors.csv's growth (rest: none)."""
    import shutil

    from model import load_dataset

    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    (folder / "bau.csv").write_text("sector,year,bau_mt,output\npower,2025,100,100\npower,2027,80,90\n"
                                    "steel,2026,40,\nsteel,2027,46,\n")
    dataset = load_dataset(folder)
    grid = derive.derive_parameters(dataset).sector_years
    assert grid.loc["power", "bau_mt"].tolist() == [100.0, 90.0, 80.0]
    assert grid.loc["power", "output"].tolist() == [100.0, 95.0, 90.0]
    assert grid.loc["steel", "bau_mt"].tolist() == [40.0, 40.0, 46.0]
    grown = derive.derive_parameters(load_dataset(toy_path)).sector_years
    assert grid.loc["steel", "output"].tolist() == grown.loc["steel", "output"].tolist()
    assert grid.loc["rest", "bau_mt"].tolist() == grown.loc["rest", "bau_mt"].tolist()


def test_the_discount_factors_are_by_year_read_only_and_shared_by_a_horizon():
    """The toy at 10%: 1, 1/1.1, 1/1.21 by year 2025-2027, the index named ``year`` (a script's
    ``p.discount_factor.reset_index()`` has a year column); a scenario of another target shares
    the same read-only Series, another rate has its own; by position, a year outside is NaN."""
    from model import apply_overrides, load_dataset
    from tests.conftest import TOY

    toy = load_dataset(TOY)
    p = derive.derive_parameters(toy)
    assert p.discount_factor.index.name == "year"
    assert p.discount_factor.index.tolist() == [2025, 2026, 2027]
    assert p.discount_factor.tolist() == pytest.approx([1.0, 1 / 1.1, 1 / 1.21], rel=1e-15)
    assert p.discount_factor.reset_index().columns.tolist() == ["year", 0]
    assert not p.discount_factor.to_numpy().flags.writeable
    other_target = derive.derive_parameters(apply_overrides(toy, {"targets.2027.national_cap_mt": 140}))
    assert other_target.discount_factor is p.discount_factor
    other_rate = derive.derive_parameters(apply_overrides(toy, {"discount_rate": 0.05})).discount_factor
    assert other_rate.tolist() == pytest.approx([1.0, 1 / 1.05, 1 / 1.05**2], rel=1e-15)
    assert p.discount_factors(np.array([2027, 2024, 2026])).tolist() == pytest.approx(
        [1 / 1.21, np.nan, 1 / 1.1], nan_ok=True)
