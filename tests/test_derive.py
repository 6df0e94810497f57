"""``parameters.derive`` on hand cases: the rows of cap_rules.csv as the spans each rule holds."""

import numpy as np
import pandas as pd

from model.parameters import derive


def test_cap_rule_rows_hold_from_their_year_until_the_sectors_next_rule_sorted_by_sector_and_year():
    """cap_rules.csv rows given out of order: steel absolute from 2030, power intensity from 2027,
    steel simulation from 2025 (5% cut), steel intensity from 2027 (benchmark 1.8 t/t). By sector then
    year: power's one rule holds for ever; steel's 2025 rule until 2027, 2027's until 2030, 2030's
    for ever (the next sector's first year is not steel's end)."""
    rules = pd.DataFrame({"sector": ["steel", "power", "steel", "steel"], "from_year": [2030, 2027, 2025, 2027],
                          "basis": ["absolute", "intensity", "simulation", "intensity"],
                          "reduction": [0.0, 0.0, 0.05, 0.0], "benchmark_t_per_unit": [np.nan, np.nan, np.nan, 1.8]})
    rows = derive._rule_rows(rules)
    assert [row[:4] for row in rows] == [("power", 2027.0, np.inf, "intensity"),
                                        ("steel", 2025.0, 2027.0, "simulation"),
                                        ("steel", 2027.0, 2030.0, "intensity"), ("steel", 2030.0, np.inf, "absolute")]
    assert [row[4] for row in rows] == [0.0, 0.05, 0.0, 0.0]
    assert np.isnan(rows[0][5]) and rows[2][5] == 1.8 and np.isnan(rows[3][5])
