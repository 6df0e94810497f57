"""Hand cases for two rules that the shipped datasets exercise only indirectly: prices in
year-t money when the market opens after first_year, and the minimum auction share of the
whole ETS cap (simulation-phase sectors' rule caps included)."""

from __future__ import annotations

import numpy as np
import pytest

from model import solve
from tests.conftest import TOY, write_dataset


def test_price_when_the_market_opens_a_year_late(tmp_path):
    """Power enters the ETS (trading) in 2026, a year after first_year 2025; rest stays out.
    2025: BAU 150 Mt is within the 160 Mt cap: no market, no cut, national carbon value 0.
    2026: the cap of 120 Mt needs 30 Mt: power's step A (20 Mt at 10 CNY/t), then 10 of the
    30 Mt of its step B at 40 (rest's step at 80 is dearer): price 40 CNY/t in 2026 money,
    a market-balance dual of -40 / 1.1 = -36.36 in 2025 money, which divided by 2026's
    discount factor 1 / 1.1 (not 2025's factor 1) gives back 40."""
    folder = write_dataset(
        tmp_path / "late",
        sectors=[{"sector": "power", "covered_from": 2026, "base_emissions_mt": 100},
                 {"sector": "rest", "base_emissions_mt": 50}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.2, "cost_cny_per_t": 10},
             {"sector": "power", "step": "B", "potential_share": 0.3, "cost_cny_per_t": 40},
             {"sector": "rest", "step": "A", "potential_share": 0.4, "cost_cny_per_t": 80}],
        targets=[{"year": 2025, "national_cap_mt": 160}, {"year": 2026, "national_cap_mt": 120}],
        first_year=2025, last_year=2026, discount_rate=0.1)
    results = solve(folder)
    years = results.years.set_index("year")
    assert np.isnan(years.at[2025, "allowance_price_cny_per_t"])
    assert years.at[2026, "allowance_price_cny_per_t"] == pytest.approx(40.0)
    assert years["national_carbon_value_cny_per_t"].tolist() == pytest.approx([0.0, 40.0])
    assert years["discount_factor"].tolist() == pytest.approx([1.0, 1 / 1.1])
    assert results.summary["objective_bn_cny"] == pytest.approx((20 * 10 + 10 * 40) / 1.1 / 1e3)


def test_free_allocation_with_a_minimum_auction_share():
    """The toy with 60% of the ETS cap auctioned every year: at most 0.4 x the cap is free.
    2025: cap 125 = steel's rule cap 47 (all free: it cannot trade) + power's 78, so power
    gets 50 - 47 = 3 Mt free (applied to the trading caps only, it would get 0.4 x 78 = 31.2).
    2026: 0.4 x 107.5 = 43 Mt free; steel (leakage floor 0.5 x 35.83) gets its floor 17.92,
    since power's burden share stays the larger: power 43 - 17.92 = 25.08.
    2027: 0.4 x 90 = 36 Mt free, split to equal burden shares at the price of 60:
    (0.4 + 0.06 x (40 - steel)) / 50 = (1.4 + 0.06 x (50 - power)) / 100 with power + steel
    = 36 gives steel 3.36 / 0.18 = 18.67 and power 17.33, both 3.36% of value added."""
    results = solve(TOY, overrides={"targets.*.min_auction_share": 0.6})
    free = results.sector_years.dropna(subset=["free_mt"]).set_index(["sector", "year"])["free_mt"]
    assert free.to_dict() == pytest.approx({
        ("power", 2025): 3.0, ("power", 2026): 43 - 0.5 * 107.5 / 3, ("power", 2027): 36 - 3.36 / 0.18,
        ("steel", 2025): 47.0, ("steel", 2026): 0.5 * 107.5 / 3, ("steel", 2027): 3.36 / 0.18}, abs=1e-6)
    years = results.years.set_index("year")
    assert years["free_allocation_mt"].tolist() == pytest.approx([50.0, 43.0, 36.0])
    assert (years["free_allocation_mt"] / years["ets_cap_mt"]).tolist() == pytest.approx([0.4, 0.4, 0.4])
