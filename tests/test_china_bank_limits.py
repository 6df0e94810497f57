"""The default dataset's bank limits (inputs/china/SOURCES.md S46-S49): China's per-entity rule
summed over each sector's entities, with the sales taken as given, as constant sector limits
(an LP: no sales factor, no binaries)."""

import numpy as np
import pytest

from model import load_dataset, solve
from tests.conftest import CHINA

POWER_ENTITY_BASE_MT, INDUSTRY_ENTITY_BASE_MT = 0.01, 0.1  # S46: 10,000 t; S47: 100,000 t
SALES_FACTOR = 1.5  # S46
POWER_SALES_MT, POWER_EMISSIONS_MT = 189.0, 5100.0  # S49: 2024's traded volume; power's 2024 emissions


def test_each_sectors_limit_is_its_entities_bases_and_one_and_a_half_times_its_sales():
    """Power: 2,162 x 0.01 + 1.5 x 189 = 305.12 Mt. Steel: 600 x 0.1 + 1.5 x 189 x 1,558 / 5,100
    = 60 + 86.61 = 146.61 Mt. Each later sector trades the share of its emissions power does."""
    sectors = load_dataset(CHINA).sectors.set_index("sector")
    limited = sectors[sectors["bank_limit_base_mt"].notna()]
    assert set(limited.index) == set(sectors.index[sectors["trading_from"].notna()])
    assert limited["bank_limit_sales_factor"].isna().all()  # the LP: no regimes
    base = np.where(limited.index == "power", POWER_ENTITY_BASE_MT, INDUSTRY_ENTITY_BASE_MT)
    sales = POWER_SALES_MT * limited["base_emissions_mt"] / POWER_EMISSIONS_MT
    expected = limited["entities"] * base + SALES_FACTOR * sales
    assert limited["bank_limit_base_mt"].to_numpy() == pytest.approx(expected.to_numpy(), abs=0.005)
    assert limited.loc["power", "bank_limit_base_mt"] == pytest.approx(305.12)
    assert limited.loc["steel", "bank_limit_base_mt"] == pytest.approx(146.61)


def test_the_default_banks_within_the_limits_and_fills_them():
    """Banking is on; the market's bank never exceeds the limits' sum, 305.12 + 146.61 + 143.37
    + 12.34 + 199.02 + 93.12 + 85.67 + 10.67 = 995.92 Mt, reaches it (the room to carry is
    worth a positive later price), is empty in 2060, and the checks pass."""
    results = solve(CHINA, allocation=False, installations=False)
    assert results.summary["settings"]["market.banking"] is True
    bank = results.years.set_index("year")["bank_mt"]
    assert bank.max() == pytest.approx(995.92, abs=1e-6)
    assert bank.loc[2060] == pytest.approx(0.0, abs=1e-9)
    by_sector = results.sector_years.dropna(subset=["bank_mt"])
    limits = load_dataset(CHINA).sectors.set_index("sector")["bank_limit_base_mt"]
    assert (by_sector["bank_mt"].to_numpy() <= limits.loc[by_sector["sector"]].to_numpy() + 1e-6).all()
    assert all(check["passed"] for check in results.summary["checks"].values())
