"""Issue 11.12: the aluminium-delay example explains, with numbers from the results, why a
later start of trading can lower the PV cost (the absolute cap on incumbents)."""

from __future__ import annotations

import importlib.util
import re

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("aluminium_delay", ROOT / "examples" / "aluminium_delay.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_explanation_states_the_numbers_of_the_results(example):
    study, plain = example.solve_delays(), example.solve_without_absolute_cap()
    table = example.aluminium_delay(study)
    text = example.explanation(study, table, plain)
    change = (table["vs 2027 (m CNY)"])
    plain_cost = (plain.scenarios.set_index(example.KEY)["objective_bn_cny"]
                  - plain.scenarios.set_index(example.KEY)["objective_bn_cny"][2027]) * 1e3
    assert (plain_cost.drop(2027) > 0).all()  # without the absolute cap every delay costs more
    if change.min() >= 0:
        assert text == "No delay lowers the PV cost: trading from 2027 is cheapest."
        return
    cheapest = int(change.idxmin())
    first = re.search(r"Why trading from (\d+) costs ([\d.,]+) m CNY less", text)
    assert int(first[1]) == cheapest and _number(first[2]) == pytest.approx(-change.min(), abs=0.005)
    aluminium = study.sector_years.merge(study.scenarios[["scenario", example.KEY]]).query("sector == 'aluminium'")
    delayed = aluminium[aluminium[example.KEY] == cheapest].set_index("year")
    own = re.search(r"own price of ([\d.,]+) CNY/t while allowances cost ([\d.,]+)-([\d.,]+) CNY/t", text)
    assert _number(own[1]) == pytest.approx(delayed.loc[2027: cheapest - 1, "own_price_cny_per_t"].mean(), abs=0.005)
    prices = study.years[study.years["scenario"] == delayed["scenario"].iloc[0]].set_index("year")
    extra = prices.loc[2027: cheapest - 1, "allowance_price_cny_per_t"]
    assert (_number(own[2]), _number(own[3])) == pytest.approx((extra.min(), extra.max()), abs=0.005)
    assert _number(own[1]) > _number(own[3])  # simulating costs aluminium more per tonne than trading
    without = re.search(rf"trading from {cheapest} costs \+([\d.,]+) m CNY against 2027", text)
    assert _number(without[1]) == pytest.approx(plain_cost[cheapest], abs=0.005)
    planned = aluminium[aluminium[example.KEY] == 2027].set_index("year")
    caps = re.search(r"aluminium's cap is held at ([\d.,]+) Mt .* rule cap follows its BAU \(([\d.,]+) -> ([\d.,]+) Mt\)",
                     text)
    assert _number(caps[1]) == pytest.approx(planned.loc[2027, "cap_mt"], abs=0.005)
    assert planned.loc[2027: cheapest - 1, "cap_mt"].max() <= planned.loc[2027, "cap_mt"] + 1e-6  # not rising
    assert _number(caps[2]) == pytest.approx(delayed.loc[2027, "cap_mt"], abs=0.005)
    assert _number(caps[3]) == pytest.approx(delayed.loc[cheapest - 1, "cap_mt"], abs=0.005)
    net = re.search(r"the rule's cost falls by ([\d.,]+) m CNY, more than the ([\d.,]+) m CNY", text)
    assert _number(net[1]) == pytest.approx(plain_cost[cheapest] - change.min(), abs=0.01)
    assert _number(net[1]) > _number(net[2])
