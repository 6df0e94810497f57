"""absolute_cap_incumbents on the toy with absolute caps from 2027: power's and steel's
2027 caps may not exceed their 2026 caps (both traded in 2026)."""

import pytest

from tests.families.helpers import rows_of, toy_parameters, toy_results


def test_rows():
    rows = rows_of(toy_parameters({"allocation.absolute_cap_from": 2027}), "absolute_cap_incumbents")
    assert rows == {
        ("power", 2027): {"constant": 0.0, "lower": None, "upper": 0.0, "coefs": {
            "sector_cap_mt[('power', 2027)]": 1.0, "sector_cap_mt[('power', 2026)]": -1.0}},
        ("steel", 2027): {"constant": 0.0, "lower": None, "upper": 0.0, "coefs": {
            "sector_cap_mt[('steel', 2027)]": 1.0, "sector_cap_mt[('steel', 2026)]": -1.0}}}


def test_no_rows_before_absolute_caps():
    """Steel simulated in 2025, so from 2026 it is no incumbent: no row in 2026."""
    assert list(rows_of(toy_parameters({"allocation.absolute_cap_from": 2026}), "absolute_cap_incumbents")) == [
        ("power", 2026), ("power", 2027), ("steel", 2027)]
    assert rows_of(toy_parameters(), "absolute_cap_incumbents") == {}


def test_caps_do_not_rise():
    caps = toy_results(**{"allocation.absolute_cap_from": 2027}).sector_years.pivot(
        index="year", columns="sector", values="cap_mt")
    assert (caps.loc[2027, ["power", "steel"]] <= caps.loc[2026, ["power", "steel"]] + 1e-9).all()
    assert caps.loc[2027, "power"] == pytest.approx(60.0)
