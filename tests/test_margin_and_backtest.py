"""What sets the price (model/studies/margin.py) and the back-test (model/studies/backtest.py), on the toy,
with the numbers worked out by hand; the CLI commands end to end."""

import numpy as np
import pytest
from click.testing import CliRunner

from model import load_dataset, solve
from model.studies.backtest import OBSERVED, backtest, backtest_dataset
from model.cli import cli
from model.studies.margin import marginal_steps
from tests.conftest import TOY


def _rows(table):
    return [(r.year, r.role, f"{r.sector}.{r.step}", round(r.cost_cny_per_t, 6)) for r in table.itertuples()]


def test_the_step_at_the_margin_sets_each_price():
    """The toy: power B (40, 2 of 30 Mt used) in 2025 and 2026, steel B (60, 5 of 10) in 2027."""
    table = marginal_steps(solve(TOY, allocation=False))
    assert _rows(table) == [(2025, "sets the price", "power.B", 40.0), (2026, "sets the price", "power.B", 40.0),
                            (2027, "sets the price", "steel.B", 60.0)]


def test_a_build_limited_step_is_held_back_below_the_price():
    """power B built at 5 Mt/yr (prices 30, 60, 80: tests/families/test_deployment_limits.py):
    rest A (30) sets 2025's price, steel B (60) 2026's, rest B (80) 2027's, while power B at
    40 is held back by its build limit at 10 and 15 Mt."""
    table = marginal_steps(solve(TOY, overrides={"mac.power.B.max_build_mt_per_year": 5}, allocation=False))
    assert _rows(table) == [(2025, "sets the price", "rest.A", 30.0), (2026, "sets the price", "steel.B", 60.0),
                            (2026, "held back by a limit", "power.B", 40.0),
                            (2027, "sets the price", "rest.B", 80.0), (2027, "held back by a limit", "power.B", 40.0)]
    assert table["abatement_mt"].tolist() == pytest.approx([2.0, 7.5, 10.0, 10.0, 15.0])


def test_a_price_between_two_steps_names_both():
    """2027's national cap at 130 Mt (5 below the toy's): a cut of 70 Mt is exactly every step
    up to steel B: power A 20 + B 30, steel A 5 + B 10, rest A 5. Steel B (60) is used whole
    and rest B (80) not at all, so the price lies between them and both are named."""
    results = solve(TOY, overrides={"targets.2027.national_cap_mt": 130}, allocation=False)
    price = results.years.set_index("year")["allowance_price_cny_per_t"][2027]
    table = marginal_steps(results, [2027])
    assert 60.0 <= price <= 80.0
    assert _rows(table) == [(2027, "dearest used", "steel.B", 60.0), (2027, "cheapest unused", "rest.B", 80.0)]


def test_backtest_on_the_toy():
    """The toy over 2025-27 (its own horizon): 2025's price is 40 against the observed 57.5,
    a gap of -17.5; the trading sector that year (power; steel simulates) offers A (20 Mt at
    10) and B (30 Mt at 40) at up to 57.5: 50 Mt. No observed price after 2025."""
    table = backtest(load_dataset(TOY), 2025, 2027)
    assert table["model_cny_per_t"].tolist() == pytest.approx([40.0, 40.0, 60.0])
    assert table["gap_cny_per_t"].iloc[0] == pytest.approx(40.0 - 57.5)
    assert table["abatement_at_observed_mt"].iloc[0] == pytest.approx(50.0)
    assert table["observed_cny_per_t"].iloc[1:].isna().all()


def test_backtest_years_before_the_targets_have_no_binding_cap():
    """From 2023 the toy's BAU is 200 Mt a year (no growth): the national cap in 2023 is 200
    (the BAU rounded up to 10 Mt, above the first row's 170), 185 in 2024 (interpolated), and
    the base year moves back to 2023. No sector is covered before 2025: no market then."""
    dataset = backtest_dataset(load_dataset(TOY), 2023, 2027)
    assert dataset.targets["national_cap_mt"].tolist() == [200.0, 170.0, 135.0]
    assert dataset.targets["source"].iloc[0] == (  # the added row says where its cap comes from
        "back-test: no absolute national cap before the targets' first row (pre-peak targets are intensity "
        "targets): the national BAU rounded up to 10 Mt")  # backtest.backtest_dataset_60 dropped it
    assert dataset.settings["base_year"] == 2023
    table = backtest(load_dataset(TOY), 2023, 2027)
    assert np.isnan(table["model_cny_per_t"].iloc[:2]).all()
    assert table["model_cny_per_t"].iloc[2:].tolist() == pytest.approx([40.0, 40.0, 60.0])


def test_observed_prices_have_sources():
    assert OBSERVED["observed_source"].str.len().min() > 10
    assert OBSERVED.set_index("year")["observed_cny_per_t"].drop(2023).tolist() == [42.85, 55.0, 97.49, 57.5]


def test_cli_backtest_and_margin(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["-q", "backtest", str(TOY), "--from", "2025", "--to", "2027"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split()[:5] == ["2025", "40.0", "57.5", "-17.5", "50.0"]
    assert "intensity benchmarks" in lines[-1]
    out = tmp_path / "toy"
    assert runner.invoke(cli, ["-q", "solve", str(TOY), "--out", str(out)]).exit_code == 0
    result = runner.invoke(cli, ["-q", "margin", str(out), "--year", "2027"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["2027: price 60.0 CNY/t",
                                          "  sets the price        steel.B at 60.0 CNY/t (5.0 of 10.0 Mt)"]


def test_price_dips():
    """60, 15, 50: 15 x 3 = 45 < 50 is a dip; 60, 20, 50 (60 > 50) is not; neither is a zero
    price next to a zero (0, 0, 40: no positive neighbour on one side)."""
    import pandas as pd

    from model.studies.margin import price_dips

    def years(prices):
        return pd.DataFrame({"year": range(2030, 2030 + len(prices)), "allowance_price_cny_per_t": prices})

    assert price_dips(years([60.0, 15.0, 50.0])) == [2031]
    assert price_dips(years([60.0, 20.0, 50.0])) == []
    assert price_dips(years([0.0, 0.0, 40.0, 45.0])) == []
    assert price_dips(years([60.0, float("nan"), 50.0])) == [2031]
    assert price_dips(years([60.0, 20.0, 60.0])) == []  # 20 x 3 = 60 is not below 60: the boundary is no dip
    assert price_dips(years([60.0, 12.0, 40.0])) == [2031] and price_dips(years([60.0, 12.0, 40.0]), factor=4.0) == []
    unsorted = years([60.0, 15.0, 50.0, 55.0]).iloc[[3, 1, 0, 2]]  # by year, whatever the row order
    assert price_dips(unsorted) == [2031]


def test_the_default_dataset_has_no_price_dips():
    """No year of the default's price path falls to a third of its neighbours (no rule of the
    default explains one)."""
    from model.studies.margin import price_dips
    from tests.conftest import CHINA

    assert price_dips(solve(CHINA, allocation=False, installations=False).years) == []
