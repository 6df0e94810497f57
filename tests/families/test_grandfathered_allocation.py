"""grandfathered_allocation by hand, on the toy with slack national targets (1,000 Mt) and
power on a held benchmark of 0.8 t/MWh x 100 TWh = 80 Mt (0.75: 75 Mt), so the market price
comes from power's steps (A: 20 Mt at 10, B: 30 Mt at 40 CNY/t) and steel (BAU 50 Mt; A: 5 Mt
at 20, B: 10 Mt at 60) is grandfathered: its cap is (1 - r) x its emissions."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.results.checks import run_checks
from tests.families.cap_rule_helpers import by_sector_year, solved, toy_with_rules
from tests.families.helpers import rows_of, toy_parameters


def test_reduction_zero_no_net_demand_and_no_reason_to_abate(tmp_path):
    """Power's 75 Mt: power cuts 25 (A 20 + B 5), price 40. Steel's cap is its emissions (net
    demand 0), so its step A at 20 < 40 is not worth taking: steel emits its BAU 50."""
    results = solved(tmp_path, ["power,2025,intensity,,0.75", "steel,2025,grandfathered,0,"])
    years = results.years.set_index("year")
    assert years.loc[2025, "allowance_price_cny_per_t"] == pytest.approx(40.0)
    assert by_sector_year(results, "abatement_mt")["steel", 2025] == pytest.approx(0.0, abs=1e-9)
    assert by_sector_year(results, "cap_mt")["steel", 2025] == pytest.approx(50.0)
    assert by_sector_year(results, "net_purchase_mt")["steel", 2025] == pytest.approx(0.0, abs=1e-9)
    assert by_sector_year(results, "basis")["steel", 2025] == "grandfathered"


@pytest.mark.parametrize("reduction, steel_abates", [(0.4, 0.0), (0.6, 5.0)])
def test_reduction_r_abates_only_steps_cheaper_than_r_times_price(tmp_path, reduction, steel_abates):
    """Market: power + r x steel <= 80. r = 0.4: 100 + 20 - 80 = 40 to cut, power A 20 + B 20,
    price 40; steel A costs 20 > 0.4 x 40 = 16: none. r = 0.6: 100 + 30 - 80 = 50; steel A
    gives 0.6 x 5 = 3 at 20/0.6 = 33 a unit, cheaper than power B: power A 20 + steel 3 + power
    B 27, price 40; steel A 20 < 0.6 x 40 = 24: all 5 Mt, steel B 60 > 24: none."""
    results = solved(tmp_path, ["power,2025,intensity,,0.8", f"steel,2025,grandfathered,{reduction},"])
    assert results.years.set_index("year").loc[2025, "allowance_price_cny_per_t"] == pytest.approx(40.0)
    assert by_sector_year(results, "abatement_mt")["steel", 2025] == pytest.approx(steel_abates, abs=1e-9)
    emissions = 50.0 - steel_abates
    assert by_sector_year(results, "cap_mt")["steel", 2025] == pytest.approx((1 - reduction) * emissions)
    assert by_sector_year(results, "abatement_mt")["power", 2025] == pytest.approx(40.0 if reduction == 0.4 else 47.0)


def test_rows(tmp_path):
    """sector_cap + (1 - r) x abatement = (1 - r) x BAU: with r = 0.4, 0.6 x 50 = 30."""
    p = toy_parameters(folder=toy_with_rules(tmp_path, ["steel,2025,grandfathered,0.4,"]))
    rows = rows_of(p, "grandfathered_allocation")
    assert list(rows) == [("steel", 2025), ("steel", 2026), ("steel", 2027)]
    assert rows["steel", 2025] == {"constant": -30.0, "lower": 0.0, "upper": 0.0, "coefs": {
        "sector_cap_mt[('steel', 2025)]": 1.0, "abatement_mt[('steel', 'A', 2025)]": 0.6,
        "abatement_mt[('steel', 'B', 2025)]": 0.6}}
    assert rows_of(toy_parameters(), "grandfathered_allocation") == {}


def test_check_fails_a_cap_off_the_rule(tmp_path):
    """The cap_rules check tests the cap against (1 - r) x emissions from the tables: 1 Mt off."""
    results = solved(tmp_path, ["power,2025,intensity,,0.8", "steel,2025,grandfathered,0.4,"])
    market = results.summary["market"]
    ok = run_checks(results.years, results.sector_years, results.abatement_steps, market)
    assert ok["cap_rules"]["passed"]
    wrong = results.sector_years.copy()
    wrong.loc[(wrong["sector"] == "steel") & (wrong["year"] == 2026), "cap_mt"] += 1.0
    report = run_checks(results.years, wrong, results.abatement_steps, market)
    assert report["cap_rules"]["worst_violation"] == pytest.approx(1.0)


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(reduction=st.floats(0.0, 0.6), benchmark=st.floats(0.75, 0.95))
def test_a_grandfathered_sector_abates_exactly_what_costs_less_than_r_times_price(reduction, benchmark):
    """For any reduction r and power benchmark: steel's cap is (1 - r) x its emissions, and it
    uses a step only if it costs at most r x the allowance price, and leaves unused none that
    costs less (the slack national target gives its abatement no other value). The ranges keep
    the market feasible: power's 50 Mt after all its steps plus r x steel's 35 is at most
    50 + 0.6 x 35 = 71 Mt, within 100 TWh x 0.75 (a tighter pair is a genuinely infeasible rule)."""
    results = solved(Path(tempfile.mkdtemp(prefix="etscap-grandfathered-")), [f"power,2025,intensity,,{benchmark}", f"steel,2025,grandfathered,{reduction},"])
    price = results.years.set_index("year")["allowance_price_cny_per_t"]
    steps = results.abatement_steps.query("sector == 'steel'")
    faced = reduction * price.reindex(steps["year"]).to_numpy()
    used = steps["abatement_mt"].to_numpy() > 1e-9
    spare = steps["potential_mt"].to_numpy() - steps["abatement_mt"].to_numpy() > 1e-9
    cost = steps["cost_cny_per_t"].to_numpy()
    assert not (used & (cost > faced + 1e-6)).any() and not (spare & (cost < faced - 1e-6)).any()
    steel = results.sector_years.query("sector == 'steel'")
    assert steel["cap_mt"].to_numpy() == pytest.approx((1 - reduction) * steel["emissions_mt"].to_numpy())


def test_cap_rule_problems_name_each_bad_row(tmp_path):
    """cap_rules.csv: a rule before steel's covered_from (2025), a benchmark on a simulation
    rule and a reduction on an intensity rule are each refused on their own row (the header
    is row 1); the good rows pass."""
    from model.data.inputs import load_dataset
    from model.errors import InputError
    from model.families.grandfathered_allocation import cap_rule_problems

    good = ["power,2025,intensity,,0.75", "steel,2025,simulation,0.02,"]
    assert cap_rule_problems(load_dataset(toy_with_rules(tmp_path / "good", good))) == []
    bad = toy_with_rules(tmp_path / "bad", ["steel,2024,simulation,0.02,", "steel,2026,simulation,0,1.5",
                                            "power,2025,intensity,0.1,0.75"])
    with pytest.raises(InputError) as refused:
        load_dataset(bad)
    found = [(p.row, p.column, p.found) for p in refused.value.problems]
    assert found == [(2, "from_year", "2024"), (3, "benchmark_t_per_unit", "1.5"), (4, "reduction", "0.1")]


def test_cap_rule_problems_say_the_fix_and_pass_each_rule_at_its_bounds(tmp_path):
    """Each refusal says what is expected (steel's covered_from 2025 named); a rule from exactly
    covered_from, a reduction on a grandfathered rule, a benchmark on an intensity rule and a
    reduction of 0 on an absolute rule are all accepted."""
    from model.data.inputs import load_dataset
    from model.errors import InputError
    from model.families.grandfathered_allocation import cap_rule_problems

    fine = ["steel,2025,simulation,0.02,", "steel,2026,grandfathered,0.1,", "power,2025,intensity,0,0.75",
            "power,2027,absolute,0,"]
    assert cap_rule_problems(load_dataset(toy_with_rules(tmp_path / "fine", fine))) == []
    bad = toy_with_rules(tmp_path / "bad", ["steel,2024,simulation,0.02,", "steel,2026,absolute,0,1.5",
                                            "power,2025,absolute,0.1,"])
    with pytest.raises(InputError) as refused:
        load_dataset(bad)
    assert [str(p) for p in refused.value.problems] == [
        "cap_rules.csv, row 2, column from_year: found '2024', expected a year not before the sector's "
        "covered_from (2025) in sectors.csv",
        "cap_rules.csv, row 3, column benchmark_t_per_unit: found '1.5', expected blank: only basis 'intensity' "
        "reads a benchmark",
        "cap_rules.csv, row 4, column reduction: found '0.1', expected 0 or blank: only bases 'simulation' and "
        "'grandfathered' read a reduction"]


def test_the_cap_rules_check_by_hand():
    """Rows power 2025-2026 (absolute; trading in 2025) then steel 2025-2026. A grandfathered steel
    2025 cap of 90 with a 10% reduction on 100 Mt emitted is right (0 off), 91 is 1 off; an
    intensity cap of 60 from an implied benchmark of 2 t/unit (output 30) against a benchmark of
    2.1 is 3 off; power's absolute cap rising from 50 to 52 is 2 off, but not where the row before
    is another sector's or a year not traded (steel's first row follows power's last), nor for
    the first row (the last row, a power 10 Mt, is not its year before)."""
    import numpy as np
    import pandas as pd

    from model.families.grandfathered_allocation import cap_rules

    def table(**changes):
        rows = pd.DataFrame({"sector": ["power", "power", "steel", "steel"], "year": [2025, 2026, 2025, 2026],
                             "phase": ["trading"] * 4, "basis": ["absolute", "absolute", "grandfathered", "intensity"],
                             "cap_mt": [50.0, 50.0, 90.0, 60.0], "emissions_mt": [50.0, 50.0, 100.0, 60.0],
                             "cap_reduction": [0.0, 0.0, 0.1, 0.0],
                             "implied_benchmark_t_per_unit": [np.nan, np.nan, np.nan, 2.0],
                             "benchmark_t_per_unit": [np.nan, np.nan, np.nan, 2.0]})
        for name, (row, value) in changes.items():
            rows.loc[row, name] = value
        return cap_rules(None, rows, None, {})

    assert table() == pytest.approx(0.0)
    assert table(cap_mt=(2, 91.0)) == pytest.approx(1.0)
    assert table(benchmark_t_per_unit=(3, 2.1)) == pytest.approx(3.0)
    assert table(cap_mt=(1, 52.0)) == pytest.approx(2.0)
    assert table(cap_mt=(1, 52.0), phase=(0, "simulation")) == pytest.approx(0.0)  # not traded the year before
    assert table(basis=(2, "absolute")) == pytest.approx(0.0)  # steel's 90 after power's 50: another sector
    assert table(sector=(3, "power"), cap_mt=(3, 10.0)) == pytest.approx(0.0)  # the first row has no row before
    assert table(cap_mt=(1, 48.0)) == pytest.approx(0.0)  # a cap may fall
    assert cap_rules(None, pd.DataFrame({"sector": ["power"]}), None, {}) == 0.0
