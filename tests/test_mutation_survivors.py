"""Tests for mutants of model/ that survived ``benchmarks/mutation.py`` (the known
``limit_variables__mutmut_83``, then ``--sample 40 --seed 41`` and ``--seed 42``): each states
the behaviour the mutant broke (named in the docstring) with numbers or exact text, and fails
with that mutant."""

from __future__ import annotations

import pytest

from model import solve
from tests.conftest import TOY


def test_a_market_wide_limit_alone_lets_a_sector_cancel_what_the_market_cannot_bank():
    """The toy with banking, an initial bank of 30 Mt, ETS caps 125 / (107.5) / 90 Mt and only
    a market-wide limit of 2 Mt (no sector base): the bank is held sector by sector and a
    sector without a base of its own may cancel in any year because the market's limit can
    bind (bank_limits.limit_variables reads ``market.bank_limit_mt`` for the cancellations'
    bound; misspelt, power could cancel only in 2027 and 2025 would be infeasible).

    2025: only power trades; its cap is 125 - 47 (steel's rule cap) = 78 Mt, with the 30 Mt
    initial bank it holds 108 against BAU 100 at a zero price and may bank 2: it cancels
    108 - 100 - 2 = 6 Mt. 2026: 2 Mt in, 2 Mt out (the limit binds: 60 > 40 x 1.1), so the
    trading sectors cut 150 - 107.5 = 42.5 Mt: power A 20 @ 10, steel A 5 @ 20, 17.5 of
    power B @ 40: price 40. 2027: 150 - 90 - 2 = 58 Mt: power A + B 50, steel A 5, 3 of
    steel B @ 60: price 60."""
    results = solve(TOY, overrides={"market.banking": "true", "market.bank_limit_mt": 2, "market.initial_bank_mt": 30,
                                    "targets.2025.ets_cap_mt": 125, "targets.2027.ets_cap_mt": 90})
    years = results.years
    assert years["cancelled_mt"].tolist() == pytest.approx([6.0, 0.0, 0.0])
    assert years["bank_mt"].tolist() == pytest.approx([2.0, 2.0, 0.0])
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([0.0, 40.0, 60.0])
    power_2025 = results.sector_years.query("sector == 'power' and year == 2025").iloc[0]
    assert (power_2025["bank_mt"], power_2025["cancelled_mt"]) == pytest.approx((2.0, 6.0))
    assert all(check["passed"] for check in results.summary["checks"].values())
