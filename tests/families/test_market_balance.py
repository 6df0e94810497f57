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


def _clearing(years, sector_years, market):
    from model.families.market_balance import market_clearing

    return market_clearing(years, sector_years, None, market)


def _with_surplus(year, price_2026):
    """The toy's tables with 1 Mt more of power's trading cap in ``year`` (supply 1 Mt above
    what is surrendered and banked) and 2026's price set to ``price_2026``, the others 0."""
    results = toy_results()
    years, sector_years = results.years.copy(), results.sector_years.copy()
    at = (sector_years["sector"] == "power") & (sector_years["year"] == year)
    sector_years.loc[at, "cap_mt"] += 1.0
    years["allowance_price_cny_per_t"] = [0.0, price_2026, 0.0]
    return years, sector_years, dict(results.summary["market"])


def test_market_clearing_allows_unused_supply_at_a_price_at_the_tolerance():
    """A price of 1e-5 CNY/t (the tolerance x max(1, largest price 1e-5)) counts as zero: 1 Mt of
    unused allowances in 2026 passes; at 2e-5 the price is positive and the 1 Mt surplus fails by 1 Mt."""
    assert _clearing(*_with_surplus(2026, 1e-5)) == 0.0
    # largest price 2e-5: threshold max(1, 2e-5) x 1e-5 = 1e-5 < 2e-5, so 2026 is priced
    assert _clearing(*_with_surplus(2026, 2e-5)) == pytest.approx(1.0)


def test_market_clearing_leaves_surplus_alone_when_stage_2_left_the_equilibrium():
    """With the 2026 price at 40 CNY/t, 1 Mt unused fails by 1 Mt; when stage 2 moved abatement
    within a cost tolerance (market["equilibrium"] false) stage 1's price no longer clears the
    tables, so only demand above supply is tested and the surplus passes."""
    years, sector_years, market = _with_surplus(2026, 40.0)
    assert _clearing(years, sector_years, market) == pytest.approx(1.0)
    assert _clearing(years, sector_years, {**market, "equilibrium": False}) == 0.0
