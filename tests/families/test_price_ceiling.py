"""price_ceiling on the toy: a ceiling of 50 CNY/t in 2027, where the price would be 60.

At 50 steel's step B (60 CNY/t) is dearer than buying at the ceiling: the ETS abates
power's 50 Mt and steel's step A (5 Mt), emits 95 Mt against its cap of 90 and buys the
other 5 Mt at the ceiling. Those 5 Mt are not issued under the national target: China
emits 140 Mt in 2027, 5 over its cap of 135. The least cost falls by 5 Mt x (60 - 50)
CNY/t x 1.1^-2 = 0.0413 bn CNY."""

import pytest

from model import load_dataset, solve
from tests.conftest import TOY
from tests.families.helpers import discount, toy_parameters

BASE_COST_BN = 3.147024793


def with_ceiling(ceiling_2027, ceiling_2025=None):
    dataset = load_dataset(TOY)
    return dataset.replace(targets=dataset.targets.assign(price_ceiling_cny_per_t=[ceiling_2025, ceiling_2027]))


def failed(results):
    return [name for name, check in results.summary["checks"].items() if not check["passed"]]


def test_the_ceiling_caps_the_price_and_the_overshoot_is_the_sales():
    results = solve(with_ceiling(50.0))
    year = results.years.set_index("year")
    assert year.loc[2027, "allowance_price_cny_per_t"] == pytest.approx(50.0)
    assert year.loc[2027, "ceiling_sales_mt"] == pytest.approx(5.0)
    assert year.loc[2027, "ets_emissions_mt"] == pytest.approx(95.0)
    assert year.loc[2027, "emissions_mt"] == pytest.approx(140.0)
    assert year["national_overshoot_mt"].tolist() == pytest.approx([0.0, 0.0, 5.0])
    assert results.summary["national_overshoot_mt"] == pytest.approx(5.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN - 5 * 10 * discount(2027) / 1e3,
                                                                abs=1e-9)
    assert failed(results) == []


def test_a_ceiling_above_the_price_sells_nothing():
    """At 70 > 60 nothing is sold and the toy's answer is unchanged; the 2025 row's blank
    leaves 2025 and 2026 without a ceiling."""
    results = solve(with_ceiling(70.0), allocation=False)
    year = results.years.set_index("year")
    assert year["ceiling_sales_mt"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert year["price_ceiling_cny_per_t"].isna().tolist() == [True, True, False]
    assert results.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN, abs=1e-9)


def test_the_ceiling_is_interpolated_between_two_rows():
    """30 in 2025 and 50 in 2027: 40 in 2026, where the price (40) is then at the ceiling."""
    from model.families.price_ceiling import ceiling_by_year
    from model.parameters.derive import derive_parameters

    assert ceiling_by_year(derive_parameters(with_ceiling(50.0, 30.0))).tolist() == [30.0, 40.0, 50.0]


def test_without_a_ceiling_no_variable_and_no_column():
    from model.families import price_ceiling

    assert price_ceiling.FAMILY.variables(toy_parameters()) == []
    assert "ceiling_sales_mt" not in solve(TOY, allocation=False).years


def test_the_check_fails_a_price_above_the_ceiling():
    """The check reads the tables: a price of 60 under a ceiling of 50 is 20% over it."""
    from model.families.price_ceiling import price_ceiling

    results = solve(with_ceiling(50.0), allocation=False)
    years = results.years.assign(allowance_price_cny_per_t=[40.0, 40.0, 60.0], ceiling_sales_mt=0.0)
    assert price_ceiling(years, results.sector_years, results.abatement_steps, {}) == pytest.approx(0.2)
