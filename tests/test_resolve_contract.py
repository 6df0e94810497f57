"""What a re-solve (model/solving/resolve.py) records and refuses: its results' summary equals a
fresh solve's but for the times and, without hashing, the checksum; its refusals' messages."""

from __future__ import annotations

import pytest

from model import apply_overrides, load_dataset, solve
from model.errors import EtscapError
from model.solving.resolve import Resolver, StructureChanged
from tests.conftest import TOY

TIMES = ("build_seconds", "solve_seconds", "seconds", "inputs_sha256")


@pytest.fixture(scope="module")
def toy():
    return load_dataset(TOY)


@pytest.mark.parametrize("hash_inputs", [True, False])
def test_a_re_solve_s_summary_is_a_fresh_solve_s(toy, hash_inputs):
    fresh = solve(toy, allocation=False).summary
    resolver = Resolver(toy, hash_inputs=hash_inputs)
    again = resolver.solve(toy).summary
    assert {k: v for k, v in again.items() if k not in TIMES} == {k: v for k, v in fresh.items() if k not in TIMES}
    assert again["inputs_sha256"] == (fresh["inputs_sha256"] if hash_inputs else None)
    seconds = again["seconds"]
    assert list(seconds) == ["build", "push", "solve"] and all(s >= 0 for s in seconds.values())
    assert again["build_seconds"] == seconds["build"] == seconds["push"]  # pushing the numbers is its build
    assert again["solve_seconds"] == pytest.approx(seconds["push"] + seconds["solve"], abs=2e-4)
    assert resolver.solves == 1


def test_a_re_solve_s_refusals(toy):
    resolver = Resolver(toy)
    with pytest.raises(ValueError) as refused:
        resolver.solve(toy, start="warm")
    assert str(refused.value) == "start must be one of ('previous', 'reference', 'cold'), not 'warm'"
    with pytest.raises(StructureChanged) as changed:
        resolver.solve(apply_overrides(toy, {"sectors.steel.trading_from": 2027}))
    assert str(changed.value) == "scenario 'toy' changes the LP's structure"
    assert isinstance(changed.value, EtscapError) and changed.value.exit_code == 1
    assert resolver.solves == 0  # neither was solved


@pytest.mark.parametrize("start", ["previous", "reference", "cold"])
def test_each_start_gives_the_scenario_s_own_prices(toy, start):
    """2027's national cap 137 instead of 135 Mt (2026's, interpolated, 153.5): 2 Mt less to cut
    in 2027, where steel B at 60 stays marginal (5 of 10 Mt used -> 3); then 135 again: the
    toy's prices 40, 40, 60, whichever start (warm, the reference basis, cold)."""
    resolver = Resolver(toy)
    looser = resolver.solve(apply_overrides(toy, {"targets.2027.national_cap_mt": 137}), start=start)
    assert looser.abatement_steps.query("sector == 'steel' and step == 'B' and year == 2027")[
        "abatement_mt"].item() == pytest.approx(3.0)
    back = resolver.solve(toy, start=start)
    assert back.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 60])
    assert resolver.solves == 2
