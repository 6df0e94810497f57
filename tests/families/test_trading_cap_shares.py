"""trading_cap_shares on the toy: in 2026 power's cap is 2/3 and steel's 1/3 of the
trading cap (BAU 100 and 50)."""

import pytest

from tests.families.helpers import rows_of, toy_parameters, toy_results


def test_rows():
    rows = rows_of(toy_parameters(), "trading_cap_shares")
    assert list(rows) == [("power", 2025), ("power", 2026), ("power", 2027), ("steel", 2026), ("steel", 2027)]
    assert rows[("steel", 2026)]["coefs"] == {"sector_cap_mt[('steel', 2026)]": 1.0,
                                             "trading_cap_mt[2026]": pytest.approx(-1 / 3)}
    assert rows[("power", 2025)]["coefs"]["trading_cap_mt[2025]"] == -1.0  # alone in 2025


def test_caps_follow_the_shares():
    caps = toy_results().sector_years.query("year == 2027").set_index("sector")["cap_mt"]
    assert (caps["power"], caps["steel"]) == pytest.approx((60.0, 30.0))
