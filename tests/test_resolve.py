"""The re-solve path (one HiGHS LP kept in memory) gives the same numbers as a rebuild."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import apply_overrides, derive_parameters, load_dataset, solve
from model.solving.resolve import Resolver, StructureChanged
from tests.conftest import CHINA, TOY
from tests.unique_outcome import without_sector_split


def _same_tables(a, b):
    """Every table equal, but which sector holds the market's bank (not unique under bank
    limits: tests/unique_outcome.py); the market's bank is compared in years."""
    for name in ("years", "sector_years", "abatement_steps"):
        ours, theirs = getattr(a, name), getattr(b, name)
        if name == "sector_years":
            ours, theirs = without_sector_split(ours), without_sector_split(theirs)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-7, atol=1e-6)


# Scenarios whose optimum is unique: where two choices tie (the mangrove offsets and cement's
# C3_efficiency_rest are both 200 CNY/t when 2050's price is 200, as with a 2035 cap of 9,800;
# cement x 1.3 puts C1 on petrochemicals' PC1 b at 65) either vertex is optimal at the same
# cost, and the warm-started and the fresh solve may return different ones.
@pytest.mark.parametrize("overrides", [
    {"targets.2035.national_cap_mt": 10000},
    {"mac.cement.*.cost_cny_per_t*": 1.25, "discount_rate": 0.03},
    {"bau.power.*.bau_mt*": 0.94, "targets.2030.ets_cap_mt": 9000, "targets.2035.ets_cap_mt": 8200},
])
def test_resolve_equals_rebuild(overrides):
    china = load_dataset(CHINA)
    resolver = Resolver(china)
    resolver.solve(china)
    scenario = apply_overrides(china, overrides)
    _same_tables(resolver.solve(scenario), solve(scenario, allocation=False))


def test_resolve_sequence_is_order_independent():
    """Warm starts never change the answer: a scenario solved after others equals a fresh solve."""
    toy = load_dataset(TOY)
    resolver = Resolver(toy)
    caps = [170, 160, 180, 150, 165]
    prices = [resolver.solve(apply_overrides(toy, {"targets.2025.national_cap_mt": c})).years[
        "allowance_price_cny_per_t"].iloc[0] for c in caps]
    fresh = [solve(toy, overrides={"targets.2025.national_cap_mt": c}, allocation=False).years[
        "allowance_price_cny_per_t"].iloc[0] for c in caps]
    assert prices == pytest.approx(fresh)
    assert resolver.solves == len(caps)


def test_structural_change_is_refused():
    toy = load_dataset(TOY)
    resolver = Resolver(toy)
    with pytest.raises(StructureChanged):
        resolver.solve(apply_overrides(toy, {"sectors.steel.trading_from": 2027}))
    assert not resolver.fits(derive_parameters(apply_overrides(toy, {"last_year": 2026})))
    assert resolver.fits(derive_parameters(apply_overrides(toy, {"discount_rate": 0.05})))


def test_infeasible_scenario_then_feasible_again():
    from model import InfeasibleError

    toy = load_dataset(TOY)
    resolver = Resolver(toy)
    with pytest.raises(InfeasibleError):
        resolver.solve(apply_overrides(toy, {"targets.*.national_cap_mt": 50}))
    years = resolver.solve(toy).years
    assert years["allowance_price_cny_per_t"].to_numpy() == pytest.approx(np.array([40, 40, 60]))


@pytest.mark.parametrize("start", ["reference", "cold"])
def test_a_scenario_does_not_depend_on_what_was_solved_before(start):
    """The same scenario on a fresh Resolver and on one that re-solved others first (in
    another order): identical tables, to the bit, for the starts studies use."""
    china = load_dataset(CHINA)
    scenarios = [derive_parameters(apply_overrides(china, {"targets.*.national_cap_mt*": f,
                                                           "mac.*.*.cost_cny_per_t*": 2 - f}))
                 for f in (0.97, 1.0, 1.02, 1.03)]

    def fresh():
        resolver = Resolver(china)
        resolver.solve(china, start="reference")  # the base optimum: the reference basis
        return resolver

    alone = [fresh().solve(p, start=start) for p in scenarios]
    for order in ([0, 1, 2, 3], [3, 1, 0, 2]):
        resolver = fresh()
        for i in order:
            again = resolver.solve(scenarios[i], start=start)
            for name in ("years", "sector_years", "abatement_steps"):
                pd.testing.assert_frame_equal(getattr(again, name), getattr(alone[i], name), check_exact=True)
