"""The examples of the supply rules, run as the README says, give numbers consistent with
their own solves: examples/price_containment.py and examples/offset_limit.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from model import load_dataset, solve
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
    for design in ("none", "reserve", "reserve + ceiling"):
        assert totals.loc["national overshoot Mt", design] == pytest.approx(
            totals.loc["reserve released Mt", design] + totals.loc["ceiling sales Mt", design]
            + totals.loc["offsets outside the national count Mt", design])
    assert totals.loc["reserve released Mt", "reserve"] <= script.POOL_MT + 1e-6
    # more supply at a price is a choice: the least cost can only fall
    costs = totals.loc["PV cost bn CNY"]
    assert costs["none"] >= costs["reserve"] >= costs["reserve + ceiling"]


def test_offset_limit_needs_an_offset_supply(tmp_path):
    """Without offsets.csv in the dataset the script says so instead of printing three equal rows."""
    script = example("offset_limit")
    if not load_dataset(CHINA).offsets.empty:
        pytest.skip("the default dataset has offsets.csv: tests/test_supply_examples.py checks its numbers")
    with pytest.raises(SystemExit, match="offsets.csv is missing"):
        script.offset_limit()


def test_price_containment_runs_as_the_readme_says():
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "price_containment.py")], capture_output=True,
                         text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Allowance price, CNY/t (year-t money)" in run.stdout and "national overshoot Mt" in run.stdout
