"""The examples of the supply rules, run as the README says, give numbers consistent with
their own solves: examples/price_containment.py and examples/offset_limit.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from model import solve
from tests.conftest import CHINA, ROOT


def example(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def containment():
    return example("price_containment").price_containment()


def test_price_containment_keeps_the_price_under_the_ceiling(containment):
    prices, totals = containment
    script = example("price_containment")
    default = solve(CHINA, allocation=False).years.set_index("year")["allowance_price_cny_per_t"]
    np.testing.assert_allclose(prices["none"], default.loc[script.YEARS], rtol=1e-9, atol=1e-9)
    assert (prices["reserve + ceiling"] <= script.CEILING_CNY_PER_T + 1e-6).all()
    assert prices["none"].max() > script.CEILING_CNY_PER_T  # the ceiling binds somewhere
    # nothing of it is counted under the national target: the overshoot is what was sold
    # (and any offsets outside the national count)
    for design in ("none", "reserve", "reserve + ceiling", "reserve + ceiling + floor"):
        assert totals.loc["national overshoot Mt", design] == pytest.approx(
            totals.loc["reserve released Mt", design] + totals.loc["ceiling sales Mt", design]
            + totals.loc["offsets outside the national count Mt", design])
    assert totals.loc["reserve released Mt", "reserve"] <= script.POOL_MT + 1e-6
    # more supply at a price is a choice: the least cost can only fall
    costs = totals.loc["PV cost bn CNY"]
    assert costs["none"] >= costs["reserve"] >= costs["reserve + ceiling"]
    # the floor: from 2030 the price is below it only where the year's whole auctioned volume
    # went unsold (with banking the 2030-33 surplus is more than the 5% auctioned: below_floor),
    # and unsold allowances are no saving: the least cost can only rise
    corridor = prices["reserve + ceiling + floor"]
    floor_years = solve(script.designs()["reserve + ceiling + floor"], allocation=False).years.set_index("year")
    np.testing.assert_allclose(corridor, floor_years.loc[script.YEARS, "allowance_price_cny_per_t"], rtol=1e-9)
    later = floor_years.loc[script.FLOOR_FROM:]
    below = later["allowance_price_cny_per_t"] < script.FLOOR_CNY_PER_T - 1e-6
    assert (later["below_floor"] == below).all()
    assert np.allclose(later.loc[below, "withdrawn_mt"], later.loc[below, "withdrawal_limit_mt"])
    assert (later.loc[~below, "withdrawn_mt"] <= later.loc[~below, "withdrawal_limit_mt"] + 1e-6).all()
    assert (corridor.loc[[2035, 2040]] >= script.FLOOR_CNY_PER_T - 1e-6).all()
    assert totals.loc["unsold at the floor Mt", "reserve + ceiling + floor"] > 0
    assert costs["reserve + ceiling + floor"] >= costs["reserve + ceiling"]


def test_offset_limit_prices_and_costs_equal_their_solves():
    """0%: the default without offsets (PV 1,749.339 bn CNY); 5%: the default itself (1,713.100);
    more room can only lower the cost. Where offsets are used (2050, 2060) the price is no
    higher; 2040's, with none used, is 45.7 either way."""
    table, cost = example("offset_limit").offset_limit()
    default = solve(CHINA, allocation=False)
    none = solve(CHINA, overrides={"market.offset_limit_share": 0.0}, allocation=False)
    assert none.summary["objective_bn_cny"] == pytest.approx(1749.339077693, rel=1e-9)
    assert cost["0%"] == pytest.approx(none.summary["objective_bn_cny"], rel=1e-9)
    assert cost["5%"] == pytest.approx(default.summary["objective_bn_cny"], rel=1e-9)
    assert cost["0%"] >= cost["5%"] >= cost["10%"]
    years = default.years.set_index("year")
    assert table[("offsets Mt", "5%")].tolist() == pytest.approx(years.loc[table.index, "offsets_used_mt"].tolist())
    assert table[("offsets Mt", "0%")].tolist() == pytest.approx([0.0] * len(table))
    assert (table[("price CNY/t", "5%")].loc[[2050, 2060]] <= table[("price CNY/t", "0%")].loc[[2050, 2060]] + 1e-6).all()


def test_price_containment_runs_as_the_readme_says():
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "price_containment.py")], capture_output=True,
                         text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Allowance price, CNY/t (year-t money)" in run.stdout and "national overshoot Mt" in run.stdout
