"""national_target on the toy: ETS cap + outside emissions (rest: BAU 50 - its abatement)
<= the national cap (170, 152.5, 135 Mt); its dual is the national carbon value."""

import pytest

from tests.families.helpers import price_by_perturbing, rows_of, toy_parameters, toy_results


def test_rows():
    rows = rows_of(toy_parameters(), "national_target")
    assert list(rows) == [2025, 2026, 2027]
    assert [r["upper"] for r in rows.values()] == [170.0, 152.5, 135.0]
    assert rows[2026] == {"constant": 50.0, "lower": None, "upper": 152.5, "coefs": {
        "ets_cap_mt[2026]": 1.0, "abatement_mt[('rest', 'A', 2026)]": -1.0, "abatement_mt[('rest', 'B', 2026)]": -1.0}}


def test_dual_is_the_national_carbon_value():
    """0.01 Mt more national cap in 2027 saves 60 CNY/t (year-2027 money), in 2026 40: the
    values the years table reports, the cost of the marginal steps (steel B at 60 in
    2027, power B at 40 in 2026; rest abates its step A at 30 fully, B at 80 not at all)."""
    values = toy_results().years.set_index("year")["national_carbon_value_cny_per_t"]
    assert values.tolist() == pytest.approx([40.0, 40.0, 60.0])
    assert price_by_perturbing(toy_parameters(), "national_target", 2027) == pytest.approx(60.0)
    assert price_by_perturbing(toy_parameters(), "national_target", 2026) == pytest.approx(40.0)
