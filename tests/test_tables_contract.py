"""The toy's output tables whole (model/results/tables.py): every column in order, its dtype and
every value, worked out by hand from inputs/toy (README: the toy by hand).

Power trades from 2025, steel simulates in 2025 (rule cap (1 - 0.06) x 50 = 47 Mt) and trades
from 2026, rest is outside. The ETS cap is the national cap less rest's 45 Mt; in 2026 it is
shared 2:1 as the BAU (71.667 / 35.833 Mt). Prices 40, 40, 60 (power B, power B, steel B at
the margin); a sector's burden is its cost plus its net purchases at the price."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NAN = np.nan
YEARS = {
    "year": [2025, 2026, 2027],
    "national_cap_mt": [170, 152.5, 135], "absolute_target_mt": [170, 152.5, 135],
    "intensity_target_mt": [NAN, NAN, NAN], "non_co2_mt": [0, 0, 0], "sinks_mt": [0, 0, 0],
    "ets_cap_mt": [125, 107.5, 90], "bank_mt": [0, 0, 0],
    "allowance_price_cny_per_t": [40, 40, 60], "national_carbon_value_cny_per_t": [40, 40, 60],
    "emissions_mt": [170, 152.5, 135], "ets_emissions_mt": [125, 107.5, 90], "abatement_mt": [30, 47.5, 65],
    # 20 x 10 + 2 x 40 + 3 x 20 + 5 x 30 = 490 m CNY; 200 + 700 + 100 + 150; 200 + 1,200 + 100 + 300 + 150
    "abatement_cost_bn_cny": [0.49, 1.15, 1.95],
    "min_auction_share": [0, 0, 0], "max_auction_share": [0, 0, 0], "max_burden_share": [0.05, 0.05, 0.05],
    "free_allocation_mt": [125, 107.5, 90], "auction_revenue_bn_cny": [0, 0, 0],
    "discount_factor": [1, 1 / 1.1, 1 / 1.21],
}
SECTOR_YEARS = {
    "sector": ["power"] * 3 + ["steel"] * 3 + ["rest"] * 3,
    "year": [2025, 2026, 2027] * 3,
    "phase": ["trading"] * 3 + ["simulation", "trading", "trading"] + ["outside"] * 3,
    "bau_mt": [100] * 3 + [50] * 3 + [50] * 3,
    "emissions_mt": [78, 62.5, 50, 47, 45, 40, 45, 45, 45],
    "abatement_mt": [22, 37.5, 50, 3, 5, 10, 5, 5, 5],
    "cap_mt": [78, 107.5 * 2 / 3, 60, 47, 107.5 / 3, 30, NAN, NAN, NAN],
    "free_mt": [78, 107.5 * 2 / 3, 60, 47, 107.5 / 3, 30, NAN, NAN, NAN],
    "free_share": [1, 1, 1, 1, 1, 1, NAN, NAN, NAN],
    "auctioned_mt": [0, 0, 0, 0, 0, 0, NAN, NAN, NAN],
    "net_purchase_mt": [0, 62.5 - 107.5 * 2 / 3, -10, NAN, 45 - 107.5 / 3, 10, NAN, NAN, NAN],
    "abatement_cost_bn_cny": [0.28, 0.9, 1.4, 0.06, 0.1, 0.4, 0.15, 0.15, 0.15],
    "burden_bn_cny": [0.28, 0.9 + 0.04 * (62.5 - 107.5 * 2 / 3), 1.4 - 0.06 * 10, 0.06,
                      0.1 + 0.04 * (45 - 107.5 / 3), 0.4 + 0.06 * 10, NAN, NAN, NAN],
    "burden_share_of_value_added": [0.0028, (0.9 + 0.04 * (62.5 - 107.5 * 2 / 3)) / 100, 0.008, 0.0012,
                                    (0.1 + 0.04 * (45 - 107.5 / 3)) / 50, 0.02, NAN, NAN, NAN],
    "marginal_cost_cny_per_t": [40, 40, 40, 20, 20, 60, 30, 30, 30],
    "own_price_cny_per_t": [NAN, NAN, NAN, 20, NAN, NAN, NAN, NAN, NAN],
    "rule_cap_mt": [NAN, NAN, NAN, 47, NAN, NAN, NAN, NAN, NAN],
    "implied_benchmark_t_per_unit": [0.78, 0.716667, 0.6, 1.88, 1.433333, 1.2, NAN, NAN, NAN],
    "basis": ["intensity"] * 3 + ["simulation", "intensity", "intensity"] + [NAN] * 3,
    "cap_reduction": [NAN, NAN, NAN, 0.06, NAN, NAN, NAN, NAN, NAN],
    "benchmark_t_per_unit": [0.78, 0.716667, 0.6, NAN, 1.433333, 1.2, NAN, NAN, NAN],
    "free_share_min": [0, 0, 0, NAN, 0.5, 0.5, NAN, NAN, NAN],
    "free_share_max": [1, 1, 1, NAN, 1, 1, NAN, NAN, NAN],
}
STEPS = {
    "sector": [s for s in ("power", "steel", "rest") for _ in range(6)],
    "step": [step for _ in range(3) for step in "AAABBB"],
    "year": [2025, 2026, 2027] * 6,
    "potential_mt": [20] * 3 + [30] * 3 + [5] * 3 + [10] * 3 + [5] * 3 + [20] * 3,
    "cost_cny_per_t": [10] * 3 + [40] * 3 + [20] * 3 + [60] * 3 + [30] * 3 + [80] * 3,
    "abatement_mt": [20, 20, 20, 2, 17.5, 30, 3, 5, 5, 0, 0, 5, 5, 5, 5, 0, 0, 0],
    "abatement_cost_bn_cny": [0.2, 0.2, 0.2, 0.08, 0.7, 1.2, 0.06, 0.1, 0.1, 0, 0, 0.3, 0.15, 0.15, 0.15, 0, 0, 0],
}
TEXT = ("sector", "phase", "basis", "step")


def _assert_table(table, expected: dict) -> None:
    assert table.columns.tolist() == list(expected)
    assert table.index.tolist() == list(range(len(next(iter(expected.values())))))
    for column, values in expected.items():
        if column in TEXT:  # text, blank (NaN) where it does not apply
            assert [v if isinstance(v, str) else None for v in table[column]] == [
                v if isinstance(v, str) else None for v in values], column
            assert not pd.api.types.is_numeric_dtype(table[column]), column
        elif column == "year":
            assert table[column].dtype == np.int64 and table[column].tolist() == values
        else:
            assert table[column].dtype == np.float64, column
            assert table[column].to_numpy() == pytest.approx(np.array(values, dtype=float), abs=1e-6, nan_ok=True), \
                column


def test_the_toy_s_years_table(toy_results):
    _assert_table(toy_results.years, YEARS)


def test_the_toy_s_sector_years_table(toy_results):
    _assert_table(toy_results.sector_years, SECTOR_YEARS)


def test_the_toy_s_abatement_steps_table(toy_results):
    _assert_table(toy_results.abatement_steps, STEPS)
    assert toy_results.facilities.empty  # no registry: no table by installation


def test_every_quantity_column_names_its_unit(toy_results):
    """A quantity's unit is the end of its name (Mt, bn CNY, CNY/t, t/unit) or it is a share
    or factor (no unit)."""
    units = ("_mt", "_bn_cny", "_cny_per_t", "_t_per_unit")
    unitless = {"free_share", "min_auction_share", "max_auction_share", "max_burden_share", "discount_factor",
                "burden_share_of_value_added", "cap_reduction", "free_share_min", "free_share_max"}
    for table in (toy_results.years, toy_results.sector_years, toy_results.abatement_steps):
        for column in table.columns:
            if table[column].dtype == np.float64:
                assert column.endswith(units) or column in unitless, column
