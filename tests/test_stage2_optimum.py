"""The check ``stage2_at_its_optimum``: from the tables alone, stage 2's allocation cannot be
bettered for its own first goal with stage 1's decisions kept. On the toy with 20% of the
ETS cap auctioned (at least and at most) stage 2 shares out the free allowances itself; a
deliberately wrong stage 2 (free allowances moved between sectors, every bound still met)
fails this check and no other."""

from __future__ import annotations

import numpy as np
import pytest

from model import solve
from model.results.checks import run_checks
from tests.conftest import TOY

AUCTIONED = {f"targets.{year}.min_auction_share": 0.2 for year in (2025, 2027)}
REVENUE = {**AUCTIONED, **{f"targets.{year}.max_auction_share": 0.6 for year in (2025, 2027)},
           "allocation.objective": "max_auction_revenue", "allocation.max_burden_share": 0.022}


@pytest.fixture(scope="module")
def auctioned():
    return solve(TOY, overrides=AUCTIONED)


@pytest.fixture(scope="module")
def revenue_first():
    return solve(TOY, overrides=REVENUE)


def _stage1_of(results, objective: str = "min_max_burden") -> dict:
    """Stage 1's outcome as build_results passes it (the tables keep it: no cost tolerance)."""
    years, sector_years = results.years, results.sector_years
    return {"ets_cap_mt": years["ets_cap_mt"].to_numpy(), "bank_mt": years["bank_mt"].to_numpy(),
            "emissions_mt": sector_years["emissions_mt"].to_numpy().copy(),
            "objective_bn_cny": results.summary["objective_bn_cny"], "cost_tolerance": 0.0,
            "allocation_objective": objective}


def _row(table, sector: str, year: int):
    return table.index[(table["sector"] == sector) & (table["year"] == year)][0]


def _give(sector_years, year: int, giver: str, taker: str, mt: float, price: float) -> None:
    """Move ``mt`` free allowances from ``giver`` to ``taker`` in ``year``, the burden columns
    following (a tonne less free costs the price), as a wrong stage 2 would report them."""
    for sector, change in ((giver, -mt), (taker, mt)):
        row = _row(sector_years, sector, year)
        value_added = sector_years.loc[row, "burden_bn_cny"] / sector_years.loc[row, "burden_share_of_value_added"]
        sector_years.loc[row, "free_mt"] += change
        sector_years.loc[row, "burden_bn_cny"] -= price * change / 1e3
        sector_years.loc[row, "burden_share_of_value_added"] = sector_years.loc[row, "burden_bn_cny"] / value_added


def _failed(report) -> dict:
    return {name: r["worst_violation"] for name, r in report.items() if not r["passed"]}


def test_min_max_burden_is_at_its_optimum(auctioned):
    """2026: 86 Mt free (80% of 107.5), price 40. Before any free allowance power's burden is
    0.9 + 40 x 62.5 / 1e3 = 3.4 bn CNY (value added 100), steel's 0.1 + 40 x 45 / 1e3 = 1.9
    (value added 50). Equal shares: (3.4 - 0.04 F) / 100 = (1.9 - 0.04 (86 - F)) / 50 gives
    F = 54 for power, 32 for steel, both at 1.24%: the least largest share."""
    t = auctioned.sector_years
    assert t.loc[_row(t, "power", 2026), "free_mt"] == pytest.approx(54.0, abs=1e-6)
    assert t.loc[_row(t, "steel", 2026), "free_mt"] == pytest.approx(32.0, abs=1e-6)
    assert t.loc[_row(t, "steel", 2026), "burden_share_of_value_added"] == pytest.approx(0.0124, abs=1e-9)
    check = auctioned.summary["checks"]["stage2_at_its_optimum"]
    assert check["passed"] and check["unit"] == "relative" and check["worst_violation"] < 1e-7


def test_a_wrong_stage2_that_keeps_every_bound_fails_only_its_optimum(auctioned):
    """2 Mt moved from steel to power in 2026 (steel 30 >= its floor 0.5 x 35.83, power 56 <=
    its cap; the total 86 unchanged): steel's share rises to (0.62 + 0.08) / 50 = 1.4% against
    the attainable 1.24%, a relative gap of 0.16 / 1.24 = 4/31."""
    years, sector_years, steps = (auctioned.years.copy(), auctioned.sector_years.copy(),
                                  auctioned.abatement_steps.copy())
    _give(sector_years, 2026, "steel", "power", 2.0, price=40.0)
    report = run_checks(years, sector_years, steps, auctioned.summary["market"], stage1=_stage1_of(auctioned))
    assert _failed(report) == {"stage2_at_its_optimum": pytest.approx(4 / 31, rel=1e-6)}


def test_only_free_mt_changed_is_caught_too(auctioned):
    """The same move with the burden columns left as they were: the check recomputes each
    burden from the abatement cost, emissions, free allowances and price."""
    years, sector_years, steps = (auctioned.years.copy(), auctioned.sector_years.copy(),
                                  auctioned.abatement_steps.copy())
    sector_years.loc[_row(sector_years, "steel", 2026), "free_mt"] -= 2.0
    sector_years.loc[_row(sector_years, "power", 2026), "free_mt"] += 2.0
    report = run_checks(years, sector_years, steps, auctioned.summary["market"], stage1=_stage1_of(auctioned))
    assert _failed(report) == {"stage2_at_its_optimum": pytest.approx(4 / 31, rel=1e-6)}


def test_a_pinned_auction_leaves_nothing_to_better(auctioned):
    """The toy as shipped (nothing auctioned, every sector its cap free): at the optimum."""
    toy = solve(TOY)
    assert toy.summary["checks"]["stage2_at_its_optimum"] == {"passed": True, "worst_violation": 0.0,
                                                              "unit": "relative"}


def test_max_auction_revenue_gives_the_fewest_free_allowances(revenue_first):
    """Revenue first, every burden share at most 2.2%: in 2026 power needs
    (3.4 - 0.04 F) / 100 <= 0.022, F >= 30 Mt, steel (1.9 - 0.04 F) / 50 <= 0.022, F >= 20
    (above its floor of 17.9): 50 Mt free, more than the 43 the 60% maximum auction requires.
    A stage 2 giving power 1 Mt more loses revenue: 1 / 50 = 2% too many free allowances."""
    t = revenue_first.sector_years
    assert revenue_first.years.set_index("year").loc[2026, "free_allocation_mt"] == pytest.approx(50.0, abs=1e-6)
    assert revenue_first.summary["checks"]["stage2_at_its_optimum"]["passed"]
    years, sector_years, steps = revenue_first.years.copy(), t.copy(), revenue_first.abatement_steps.copy()
    row = _row(sector_years, "power", 2026)
    sector_years.loc[row, "free_mt"] += 1.0
    stage1 = _stage1_of(revenue_first, "max_auction_revenue")
    report = run_checks(years, sector_years, steps, revenue_first.summary["market"], stage1=stage1)
    assert _failed(report) == {"stage2_at_its_optimum": pytest.approx(0.02, rel=1e-6)}


def test_a_year_without_a_price_has_nothing_to_share(auctioned):
    """With no allowance price free allowances move no burden: any split is optimal."""
    years, sector_years, steps = (auctioned.years.copy(), auctioned.sector_years.copy(),
                                  auctioned.abatement_steps.copy())
    years["allowance_price_cny_per_t"] = np.where(years["year"] == 2026, 0.0, years["allowance_price_cny_per_t"])
    sector_years.loc[_row(sector_years, "steel", 2026), "free_mt"] -= 2.0
    sector_years.loc[_row(sector_years, "power", 2026), "free_mt"] += 2.0
    report = run_checks(years, sector_years, steps, auctioned.summary["market"], stage1=_stage1_of(auctioned))
    assert report["stage2_at_its_optimum"]["worst_violation"] < 1e-9  # the other years: rounding only
