"""cap_split on the toy: the covered sectors' caps add up to the ETS cap in every year."""

import pytest

from tests.families.helpers import rows_of, toy_parameters, toy_results


def test_rows():
    rows = rows_of(toy_parameters(), "cap_split")
    assert rows[2026] == {"constant": 0.0, "lower": 0.0, "upper": 0.0, "coefs": {
        "sector_cap_mt[('power', 2026)]": 1.0, "sector_cap_mt[('steel', 2026)]": 1.0, "ets_cap_mt[2026]": -1.0}}


def test_caps_add_up_to_the_ets_cap():
    """2026: power 71.67 + steel 35.83 = 107.5 Mt, the ETS cap."""
    results = toy_results()
    caps = results.sector_years.query("year == 2026").set_index("sector")["cap_mt"]
    assert caps[["power", "steel"]].sum() == pytest.approx(107.5)
    assert results.years.set_index("year").loc[2026, "ets_cap_mt"] == pytest.approx(107.5)
