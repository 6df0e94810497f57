"""simulation_compliance on the toy: steel in 2025 (BAU 50) emits within its own cap
without trading; its dual is steel's own price."""

import pytest

from tests.families.helpers import price_by_perturbing, rows_of, toy_parameters, toy_results


def test_rows():
    assert rows_of(toy_parameters(), "simulation_compliance") == {("steel", 2025): {
        "constant": 50.0, "lower": None, "upper": 0.0, "coefs": {
            "abatement_mt[('steel', 'A', 2025)]": -1.0, "abatement_mt[('steel', 'B', 2025)]": -1.0,
            "sector_cap_mt[('steel', 2025)]": -1.0}}}


def test_dual_is_the_own_price():
    """Steel abates 3 Mt (step A, 20 CNY/t, 5 Mt potential) to meet 47: own price 20."""
    row = toy_results().sector_years.set_index(["sector", "year"]).loc[("steel", 2025)]
    assert (row["emissions_mt"], row["own_price_cny_per_t"]) == pytest.approx((47.0, 20.0))
    assert price_by_perturbing(toy_parameters(), "simulation_compliance", ("steel", 2025)) == pytest.approx(20.0)
