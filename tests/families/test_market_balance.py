"""market_balance on the toy: trading emissions (ALLOWANCE_DEMAND) - trading caps
(ALLOWANCE_SUPPLY) <= 0 in each market year; its dual is the allowance price."""

import pytest

from tests.families.helpers import price_by_perturbing, rows_of, toy_parameters, toy_results


def test_rows():
    """2026: power and steel trade (BAU 100 + 50 = 150 Mt) against their two caps."""
    rows = rows_of(toy_parameters(), "market_balance")
    assert list(rows) == [2025, 2026, 2027]
    assert [r["constant"] for r in rows.values()] == [100.0, 150.0, 150.0]  # steel simulates in 2025
    assert rows[2026] == {"constant": 150.0, "lower": None, "upper": 0.0, "coefs": {
        "abatement_mt[('power', 'A', 2026)]": -1.0, "abatement_mt[('power', 'B', 2026)]": -1.0,
        "abatement_mt[('steel', 'A', 2026)]": -1.0, "abatement_mt[('steel', 'B', 2026)]": -1.0,
        "sector_cap_mt[('power', 2026)]": -1.0, "sector_cap_mt[('steel', 2026)]": -1.0}}


def test_dual_is_the_allowance_price():
    """0.01 Mt more supply saves 40 CNY/t in 2026 (power B) and 60 in 2027 (steel B)."""
    prices = toy_results().years.set_index("year")["allowance_price_cny_per_t"]
    assert prices.tolist() == pytest.approx([40.0, 40.0, 60.0])
    assert price_by_perturbing(toy_parameters(), "market_balance", 2026) == pytest.approx(40.0)
    assert price_by_perturbing(toy_parameters(), "market_balance", 2027) == pytest.approx(60.0)
