"""reserve on the toy: tiers offering allowances from 2025 at trigger prices of 50 and 55.

Without a reserve 2027's ETS cap is 90 Mt and the price 60: the ETS's last 10 Mt of
abatement is steel's step B at 60 CNY/t, of which it needs 5. A tier whose trigger is below
60 sells instead, up to its volume; in 2025 and 2026 the price (40) is below every trigger,
so nothing is sold then. With releases not counted under the national target, each tonne
sold is a tonne over the national cap."""

import shutil

import pandas as pd
import pytest

from model import load_dataset, solve
from model.parameters.derive import derive_parameters
from tests.conftest import TOY
from tests.families.helpers import discount, rows_of

BASE_COST_BN = 3.147024793


def with_reserve(volumes, triggers=(50.0, 55.0), pool=None, counted=False, targets=None):
    dataset = load_dataset(TOY)
    tiers = [str(i + 1) for i in range(len(volumes))]
    reserve = pd.DataFrame({"year": [2025] * len(volumes), "tier": tiers,
                            "trigger_price_cny_per_t": list(triggers[:len(volumes)]),
                            "volume_mt": list(volumes), "source": ["illustrative"] * len(volumes)})
    settings = {**dataset.settings, "market.reserve.counts_in_national_target": counted,
                "market.reserve.initial_mt": pool}
    changes = {"reserve": reserve, "settings": settings}
    if targets is not None:
        changes["targets"] = targets(dataset.targets)
    return dataset.replace(**changes)


def year_2027(results):
    return results.years.set_index("year").loc[2027]


def failed(results):
    return [name for name, check in results.summary["checks"].items() if not check["passed"]]


def test_the_price_is_the_trigger_while_the_tier_lasts():
    """Tier 1 offers 8 Mt at 50: 5 Mt are sold, the price is 50; cost falls by 5 x (60 - 50)."""
    results = solve(with_reserve([8.0]))
    year = year_2027(results)
    assert (year["allowance_price_cny_per_t"], year["reserve_released_mt"]) == pytest.approx((50.0, 5.0))
    assert year["national_overshoot_mt"] == pytest.approx(5.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN - 5 * 10 * discount(2027) / 1e3,
                                                                abs=1e-9)
    assert failed(results) == []


def test_the_price_rises_past_a_tier_sold_out():
    """Tier 1 offers 3 Mt: all sold, and steel's step B sets the price again, 60."""
    year = year_2027(solve(with_reserve([3.0]), allocation=False))
    assert (year["allowance_price_cny_per_t"], year["reserve_released_mt"]) == pytest.approx((60.0, 3.0))


def test_two_tiers_sell_in_turn():
    """3 Mt at 50 then 4 Mt at 55: 3 + 2 Mt sold, the price is tier 2's trigger, 55; cost
    falls by 3 x 10 + 2 x 5 = 40 m CNY in 2027 money."""
    results = solve(with_reserve([3.0, 4.0]))
    year = year_2027(results)
    assert (year["allowance_price_cny_per_t"], year["reserve_released_mt"]) == pytest.approx((55.0, 5.0))
    assert results.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN - 40 * discount(2027) / 1e3, abs=1e-9)
    assert failed(results) == []


def test_the_pool_limits_the_releases():
    """A pool of 4 Mt: 3 from tier 1 and 1 from tier 2, the pool is empty at the end of 2027,
    and steel's step B is back at the margin: 60."""
    results = solve(with_reserve([3.0, 4.0], pool=4.0))
    years = results.years.set_index("year")
    assert years["reserve_pool_mt"].tolist() == pytest.approx([4.0, 4.0, 0.0])
    assert (years.loc[2027, "allowance_price_cny_per_t"], years.loc[2027, "reserve_released_mt"]) == pytest.approx(
        (60.0, 4.0))
    assert rows_of(derive_parameters(with_reserve([3.0, 4.0], pool=4.0)), "reserve")["pool"]["upper"] == 4.0
    assert failed(results) == []


def test_counted_releases_need_room_under_the_national_cap():
    """Counted, with the ETS cap fixed at 90 in 2027 and the national cap raised to 150 there
    (slack: rest then abates nothing and emits 50): 5 Mt are sold at 50 and China emits
    95 + 50 = 145, within its cap: no overshoot. Under the toy's
    binding cap of 135 (ETS cap chosen) a counted release only replaces issued allowances:
    none is sold and nothing changes."""
    def fixed_cap(targets):
        return targets.assign(national_cap_mt=[170.0, 150.0], ets_cap_mt=[125.0, 90.0])

    results = solve(with_reserve([8.0], counted=True, targets=fixed_cap))
    year = year_2027(results)
    assert (year["allowance_price_cny_per_t"], year["reserve_released_mt"]) == pytest.approx((50.0, 5.0))
    assert (year["emissions_mt"], year["national_overshoot_mt"]) == pytest.approx((145.0, 0.0))
    assert failed(results) == []
    binding = solve(with_reserve([8.0], counted=True), allocation=False)
    assert year_2027(binding)["reserve_released_mt"] == pytest.approx(0.0)
    assert binding.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN, abs=1e-9)


def test_the_check_fails_a_release_below_the_trigger():
    """From the tables: 5 Mt released in 2027 at a price of 45, below the trigger of 50."""
    from model.families.reserve import reserve_release

    results = solve(with_reserve([8.0]), allocation=False)
    years = results.years.assign(allowance_price_cny_per_t=[40.0, 40.0, 45.0])
    assert reserve_release(years, results.sector_years, results.abatement_steps,
                           results.summary["market"]) == pytest.approx(5.0)


def test_a_reserve_from_its_files(tmp_path):
    """reserve.csv and [market.reserve] in scenario.toml, as a user writes them: the pool of 4
    Mt as in test_the_pool_limits_the_releases, and --set changes the pool."""
    from click.testing import CliRunner

    from model.cli import cli

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "reserve.csv").write_text("year,tier,trigger_price_cny_per_t,volume_mt,source\n"
                                        "2025,1,50,3,illustrative\n2025,2,55,4,illustrative\n")
    with (folder / "scenario.toml").open("a") as scenario:
        scenario.write("\n[market.reserve]\ninitial_mt = 4.0\ncounts_in_national_target = false\n")
    years = solve(load_dataset(folder)).years.set_index("year")
    assert years["reserve_released_mt"].tolist() == pytest.approx([0.0, 0.0, 4.0])
    run = CliRunner().invoke(cli, ["solve", str(folder), "--out", str(tmp_path / "out"),
                                   "--set", "market.reserve.initial_mt=10"])
    assert run.exit_code == 0, run.output
    assert "national target exceeded by 5.0 Mt" in run.output  # 3 + 2 Mt sold at 55 CNY/t


def test_a_studys_scenarios_share_the_offers_and_each_equals_its_own_solve():
    """A sweep of a cap on a toy with a reserve: the offers are made once for the reserve table and
    market years the scenarios share, and every scenario's prices, releases and emissions are those
    its own solve gives (tier 1 sells 5 Mt in 2027 at 50 under the toy's cap; a 2027 ETS cap 3 Mt
    looser leaves 2 Mt). The national carbon value of 2027 is left out: there the toy's LP is
    degenerate (30 from a cold solve, 50 from the base's basis, before the offers were kept too)."""
    from model import apply_overrides
    from model.families.reserve import reserve_offers
    from model.studies.study import sweep

    dataset = with_reserve([8.0])
    caps = [90.0, 93.0]
    study = sweep(dataset, {"targets.2027.ets_cap_mt": caps})
    assert (study.scenarios["status"] == "optimal").all()
    for scenario, cap in enumerate(caps):
        own = solve(apply_overrides(dataset, {"targets.2027.ets_cap_mt": cap}), allocation=False).years
        table = study.years[study.years["scenario"] == scenario].drop(columns="scenario").reset_index(drop=True)
        columns = ["year", "allowance_price_cny_per_t", "reserve_released_mt", "emissions_mt", "ets_cap_mt"]
        pd.testing.assert_frame_equal(table[columns], own[columns], check_exact=False, rtol=0, atol=1e-12)
    released = study.years.set_index(["scenario", "year"])["reserve_released_mt"]
    assert (released[(0, 2027)], released[(1, 2027)]) == pytest.approx((5.0, 2.0))
    first = derive_parameters(apply_overrides(dataset, {"targets.2027.ets_cap_mt": 91.0}))
    second = derive_parameters(apply_overrides(dataset, {"targets.2027.ets_cap_mt": 92.0}))
    assert reserve_offers(first) is reserve_offers(second)


def test_offers_hold_each_tiers_row_until_its_next_and_none_before_its_first():
    """reserve.csv rows: tier 2 from 2026 (70 CNY/t, 3 Mt), tier 1 from 2025 (50, 5) and 2027 (55, 4),
    over market years 2025-2027 (tier 1 written as a number): tier 1 offers 5, 5, 4 at 50, 50, 55;
    tier 2 nothing in 2025, then 3 at 70; rows by tier then year, tiers as text. No rows: no
    offers, the columns still there."""
    import numpy as np
    import pandas as pd

    from model.families.reserve import _offers

    table = pd.DataFrame({"tier": ["2", 1, 1], "year": [2026, 2027, 2025],
                          "trigger_price_cny_per_t": [70.0, 55.0, 50.0], "volume_mt": [3.0, 4.0, 5.0]})
    offers = _offers(table, np.array([2025, 2026, 2027]))
    assert offers["tier"].tolist() == ["1", "1", "1", "2", "2"]
    assert offers["year"].tolist() == [2025, 2026, 2027, 2026, 2027]
    assert offers["trigger_price_cny_per_t"].tolist() == [50.0, 50.0, 55.0, 70.0, 70.0]
    assert offers["volume_mt"].tolist() == [5.0, 5.0, 4.0, 3.0, 3.0] and offers.index.tolist() == [0, 1, 2, 3, 4]
    empty = _offers(table.iloc[:0], np.array([2025]))
    assert empty.empty and list(empty.columns) == ["tier", "year", "trigger_price_cny_per_t", "volume_mt"]
    assert empty["year"].dtype == np.int64
