"""Adding a rule is one declaration: a reserve that releases up to 5 Mt of allowances in
2027, declared here as a new family would be in model/families/reserve.py and put in the
list, changes the LP, the tables and the checks without touching any other module. Its
half-done version (the release not counted in the national target) is refused."""

from dataclasses import replace

import numpy as np
import pytest

from model import EtscapError, solve
from model.results.checks import run_checks
from model.families import (ALLOWANCE_SUPPLY, FAMILIES, NATIONAL_COUNT, Check, Contribution, Family, ValueColumn,
                            market_balance)
from model.families.national_target import NATIONAL_COUNT_CHECK
from model.lp.blocks import Term, VarBlock
from tests.conftest import TOY

RESERVE_MT = 5.0


def reserve_variables(p):
    upper = np.zeros(p.years.size)
    upper[-1] = RESERVE_MT  # the reserve holds 5 Mt for the last year
    return [VarBlock("reserve_release_mt", p.years.tolist(), np.zeros(p.years.size), upper,
                     "allowances released from the reserve, Mt")]


def release_as_supply(p):
    n = p.market_years.size
    return Contribution([Term("reserve_release_mt", np.arange(n), np.searchsorted(p.years, p.market_years),
                              np.ones(n))], np.zeros(n))


def release_counted_nationally(p):
    n = p.years.size
    return Contribution([Term("reserve_release_mt", np.arange(n), np.arange(n), np.ones(n))], np.zeros(n))


RESERVE = Family("reserve", None, check=NATIONAL_COUNT_CHECK, variables=reserve_variables,
                 values=(ValueColumn("reserve_release_mt", "reserve_release_mt", market_supply=True),),
                 adds={ALLOWANCE_SUPPLY: release_as_supply, NATIONAL_COUNT: release_counted_nationally})
HALF_DONE = replace(RESERVE, adds={ALLOWANCE_SUPPLY: release_as_supply})  # forgot the national count


def release_within_reserve(years, sector_years, steps, market):
    """The reserve's own policy from the years table: never more than 5 Mt released, none
    before the last year, Mt over (worst year)."""
    released = years["reserve_release_mt"].to_numpy() if "reserve_release_mt" in years else np.zeros(len(years))
    allowed = np.where(years["year"].to_numpy() == years["year"].max(), RESERVE_MT, 0.0)
    return float(max(0.0, (released - allowed).max(initial=0.0)))


RESERVE_WITHIN_POOL = Check("reserve_within_pool", release_within_reserve)
WITH_ITS_CHECK = replace(RESERVE, check=RESERVE_WITHIN_POOL)  # the rule's own check, in its own file


@pytest.fixture
def listed():
    """Put a family in the list (after market_balance, as its one line would), then take it out."""
    added = []

    def add(family):
        FAMILIES.insert(FAMILIES.index(market_balance.FAMILY) + 1, family)
        added.append(family)

    yield add
    for family in added:
        FAMILIES.remove(family)


def test_a_reserve_counted_nationally_changes_nothing_the_cap_allows(listed):
    """Released allowances count against the national cap like issued ones: the least cost
    stays 3.147 bn CNY, the release is reported, and every check passes."""
    listed(RESERVE)
    results = solve(TOY, allocation=False)
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793, abs=1e-9)
    assert "reserve_release_mt" in results.years
    assert [name for name, check in results.summary["checks"].items() if not check["passed"]] == []
    emitted = results.years.set_index("year")["emissions_mt"]
    assert emitted[2027] == pytest.approx(135.0)  # the national cap


def test_a_reserve_outside_the_national_count_is_refused(listed):
    """The half-done reserve lets 2027's emissions run 5 Mt over the national cap; its
    supply is declared, so the market clears and sectors comply: only national_count fails."""
    listed(HALF_DONE)
    with pytest.raises(EtscapError) as caught:
        solve(TOY, allocation=False)
    assert str(caught.value) == ("the solution failed verification: national_count (worst violation 5 Mt) "
                                 "(please report this with the dataset)")


def test_a_family_declaring_its_own_check_gets_it_run_once_after_the_policy_checks(listed):
    """The rule's Check runs on every solve with no other module told of it: it passes on the
    solution (5 Mt released in 2027 at most) and fails by 1 Mt when the tables report 6."""
    listed(WITH_ITS_CHECK)
    results = solve(TOY, allocation=False)
    names = list(results.summary["checks"])
    assert names.count("reserve_within_pool") == 1
    assert names.index("reserve_within_pool") > names.index("allocation_bounds")  # after the policy-wide ones
    assert results.summary["checks"]["reserve_within_pool"] == {"passed": True, "worst_violation": 0.0, "unit": "Mt"}
    years = results.years.copy()
    years.loc[years["year"] == 2027, "reserve_release_mt"] = RESERVE_MT + 1.0
    report = run_checks(years, results.sector_years, results.abatement_steps, results.summary["market"])
    assert report["reserve_within_pool"] == {"passed": False, "worst_violation": pytest.approx(1.0), "unit": "Mt"}
