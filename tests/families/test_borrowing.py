"""borrowing on the toy (no banking; prices 40, 40, 60 CNY/t; discount 10%).

With 10% of an obligation borrowable, 2025 borrows from 2026: power stops using its step B
(40 CNY/t) in 2025 once the 2025 price is 2026's discounted, 40 / 1.1 = 36.36, so it emits
80 against its cap of 78 and borrows 2 Mt (within 10% of 80), repaid from 2026's
allowances, where power abates 2 Mt more on step B. The least cost falls by the 2 Mt of
step B moved a year later: 2 x 40 x (1 - 1 / 1.1) = 7.27 M CNY, from 3147.025 to 3139.752.
"""

import pytest

from model import EtscapError
from model.results.checks import run_checks
from tests.families.helpers import rows_of, toy_parameters, toy_results

BORROWING = {"market.borrowing_limit_share": 0.1}


def test_borrowed_from_next_year_and_repaid():
    results = toy_results(**BORROWING)
    years = results.years
    assert years["borrowed_mt"].tolist() == pytest.approx([2.0, 0.0, 0.0])
    assert years["repaid_mt"].tolist() == pytest.approx([0.0, 2.0, 0.0])  # from 2026's allowances
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40 / 1.1, 40.0, 60.0])
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793 - 0.08 * (1 - 1 / 1.1), abs=1e-9)
    emitted = results.sector_years.set_index(["sector", "year"])["emissions_mt"]
    assert (emitted["power", 2025], emitted["power", 2026]) == pytest.approx((80.0, 60.5))
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_repaid_from_the_next_year_supply():
    """The market rows: +borrowed[t] is supply in t, -borrowed[t-1] in t (so demand side +)."""
    rows = rows_of(toy_parameters(BORROWING), "market_balance")
    assert rows[2025]["coefs"]["borrowed_mt[2025]"] == -1.0
    assert (rows[2026]["coefs"]["borrowed_mt[2026]"], rows[2026]["coefs"]["borrowed_mt[2025]"]) == (-1.0, 1.0)


def test_the_limit_is_a_share_of_the_obligation():
    """2025: borrowed - 0.1 x (power BAU 100 - its abatement) <= 0, constant -10."""
    rows = rows_of(toy_parameters(BORROWING), "borrowing")
    assert rows[2025]["constant"] == pytest.approx(-10.0) and rows[2025]["upper"] == 0.0
    assert rows[2025]["coefs"]["borrowed_mt[2025]"] == 1.0
    assert rows[2025]["coefs"]["abatement_mt[('power', 'A', 2025)]"] == pytest.approx(0.1)


def test_nothing_borrowed_in_the_last_year_and_none_by_default():
    from model.families import borrowing

    (block,) = borrowing.FAMILY.variables(toy_parameters(BORROWING))
    assert block.upper.tolist() == [float("inf"), float("inf"), 0.0]
    assert borrowing.FAMILY.variables(toy_parameters()) == []
    assert "borrowed_mt" not in toy_results().years


def test_the_checks_refuse_borrowing_not_repaid_or_above_the_limit():
    """Reported 2 Mt borrowed in 2027, the last year: nothing after it repays them."""
    results = toy_results(**BORROWING)
    years = results.years.copy()
    years.loc[years["year"] == 2027, "borrowed_mt"] = 2.0
    report = run_checks(years, results.sector_years, results.abatement_steps, results.summary["market"])
    assert report["bank_limits"]["worst_violation"] == pytest.approx(2.0)
    years = results.years.copy()
    years.loc[years["year"] == 2025, "borrowed_mt"] = 9.0  # 10% of 80 is 8
    report = run_checks(years, results.sector_years, results.abatement_steps, results.summary["market"])
    assert report["bank_limits"]["worst_violation"] == pytest.approx(1.0)


def test_borrowing_with_a_bank_limit_is_refused():
    with pytest.raises(EtscapError, match="borrowing_limit_share"):
        toy_results(**BORROWING, **{"market.banking": "true", "market.bank_limit_mt": 3})


def test_a_market_opening_a_year_late_borrows_nothing_before_it_and_repays_from_the_next_year():
    """Power trading from 2026 (steel too): market years 2026 and 2027. Nothing is borrowed in 2025
    (no market) nor in 2027 (the last year): bounds [0, inf, 0]. Supply: 2026 gets +borrowed[2026]
    and -borrowed[2025] (that year's is 0), 2027 +borrowed[2027] -borrowed[2026]; the limit rows
    are 2026 and 2027's, each -0.1 x the trading BAU of 150 Mt. The summary's market names the
    share only when one is set."""
    from model.families import borrowing

    p = toy_parameters({**BORROWING, "sectors.power.trading_from": 2026})
    (block,) = borrowing.borrowing_variables(p)
    assert block.keys == [2025, 2026, 2027] and block.upper.tolist() == [0.0, float("inf"), 0.0]
    added, repaid = borrowing.borrowed_and_repaid(p).terms
    assert (added.rows.tolist(), added.positions.tolist(), added.coefs.tolist()) == ([0, 1], [1, 2], [1.0, 1.0])
    assert (repaid.rows.tolist(), repaid.positions.tolist(), repaid.coefs.tolist()) == ([0, 1], [0, 1], [-1.0, -1.0])
    limit = borrowing.define_borrowing_limit(p, None)
    assert limit.keys == [2026, 2027] and limit.constant.tolist() == pytest.approx([-15.0, -15.0])
    assert borrowing.market_facts(p) == {"borrowing_limit_share": 0.1}
    assert borrowing.market_facts(toy_parameters()) == {}
    none = borrowing.borrowed_and_repaid(toy_parameters())
    assert none.terms == [] and none.constant.tolist() == [0.0, 0.0, 0.0]
    assert borrowing.define_borrowing_limit(toy_parameters(), None).keys == []


def test_borrowing_with_a_bank_limit_is_refused_with_the_fix():
    """The exact message: which keys clash and to set one of them to 0 or blank; a sector's bank
    limit base clashes too."""
    message = ("scenario.toml: market.borrowing_limit_share > 0 cannot be combined with a bank limit "
               "(market.bank_limit_mt, or sectors.csv bank_limit_base_mt): set one of them to 0 or blank")
    with pytest.raises(EtscapError) as caught:
        toy_results(**BORROWING, **{"market.banking": "true", "market.bank_limit_mt": 3})
    assert str(caught.value) == message
    with pytest.raises(EtscapError) as caught:
        toy_results(**BORROWING, **{"market.banking": "true", "sectors.power.bank_limit_base_mt": 5})
    assert str(caught.value) == message
