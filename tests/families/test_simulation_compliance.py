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


def test_check_holds_the_cap_at_the_rule_cap():
    """Steel's 2025 cap of 47 Mt is its rule cap ((1 - 0.06) x 50); a cap 2 Mt above it, with
    emissions still 47, fails the check by 2 Mt (a cap no one could use), and emissions 1 Mt
    above the rule cap fail it by 1 Mt."""
    from model.families.simulation_compliance import simulation_compliance

    results = toy_results()
    at = (results.sector_years["sector"] == "steel") & (results.sector_years["year"] == 2025)
    assert simulation_compliance(results.years, results.sector_years, None, {}) == 0.0
    raised = results.sector_years.copy()
    raised.loc[at, "cap_mt"] += 2.0
    assert simulation_compliance(results.years, raised, None, {}) == pytest.approx(2.0)
    over = results.sector_years.copy()
    over.loc[at, "emissions_mt"] += 1.0
    assert simulation_compliance(results.years, over, None, {}) == pytest.approx(1.0)
