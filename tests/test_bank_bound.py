"""The bank: never negative, and empty after the last year, as bounds on the built model (a
cost-minimising LP never keeps a bank at the end, so only the bound itself shows it)."""

from __future__ import annotations

import math

from model import apply_overrides, build_model, load_dataset
from tests.conftest import TOY


def test_last_years_bank_has_upper_bound_zero():
    m = build_model(apply_overrides(load_dataset(TOY), {"market.banking": "true"}))
    bounds = {year: (m.bank_mt[year].lb, m.bank_mt[year].ub) for year in m.years}
    assert bounds[2027] == (0, 0)
    for year in (2025, 2026):  # banked freely before the end
        lower, upper = bounds[year]
        assert lower == 0 and (upper is None or math.isinf(upper))
