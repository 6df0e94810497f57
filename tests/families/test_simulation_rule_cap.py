"""simulation_rule_cap on the toy: steel's 2025 cap is (1 - 0.06) x BAU 50 = 47 Mt."""

import pytest

from tests.families.helpers import price_by_perturbing, rows_of, toy_parameters


def test_rows():
    assert rows_of(toy_parameters(), "simulation_rule_cap") == {("steel", 2025): {
        "constant": 0.0, "lower": 47.0, "upper": 47.0, "coefs": {"sector_cap_mt[('steel', 2025)]": 1.0}}}


def test_dual_is_own_price_less_national_value():
    """A 0.01 Mt larger rule cap saves steel 20 CNY/t (its own price) but issues as many
    allowances more, which the national cap makes others abate at 40: it costs 20 net."""
    assert price_by_perturbing(toy_parameters(), "simulation_rule_cap", ("steel", 2025)) == pytest.approx(-20.0)
