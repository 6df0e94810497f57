"""offsets on the toy: 10 Mt of offsets offered in 2027, the trading sectors (power, steel)
limited to 5% of their verified emissions.

Without offsets 2027's ETS cap is 90 Mt (national cap 135 - rest's 45) and the allowance
price 60 (steel's step B at the margin). Offsets at 30 CNY/t are cheaper: the ETS emits E
with E = 90 + offsets and offsets = 0.05 E, so E = 90 / 0.95 = 94.737 and offsets = 4.737
Mt, all at the limit. Abating a trading tonne also shrinks the limit by 0.05, so with the
limit's value L (PV-free, 2027 money): 30 = P - L (an offset) and 60 = P - 0.05 L (steel B),
so L = 30 / 0.95 = 31.579 and P = 61.579; an offset sells for P - L = 30."""

import shutil

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from model import EtscapError, load_dataset, solve
from tests.conftest import TOY
from tests.families.helpers import discount, rows_of, toy_parameters  # noqa: F401

BASE_COST_BN = 3.147024793  # the toy's least cost without offsets


def with_offsets(origin="forestry", cost=30.0, potential=10.0, share=0.05, year=2027, sectors=None):
    dataset = load_dataset(TOY)
    offsets = pd.DataFrame({"year": [year], "origin": [origin], "step": ["A"], "potential_mt": [potential],
                            "cost_cny_per_t": [cost], "source": ["illustrative"]})
    changes = {"offsets": offsets, "settings": {**dataset.settings, "market.offset_limit_share": share}}
    if sectors is not None:
        changes["sectors"] = dataset.sectors.assign(offset_limit_share=sectors)
    return dataset.replace(**changes)


def failed(results):
    return [name for name, check in results.summary["checks"].items() if not check["passed"]]


def test_cheaper_offsets_are_used_to_the_limit():
    """Forestry offsets at 30 < 60: 4.737 Mt used, price 61.579, limit value 31.579, offset
    price 30; least cost falls by 4.737 Mt x (60 - 30) CNY/t x 1.1^-2 = 0.117 bn CNY."""
    results = solve(with_offsets(), allocation=False)
    year = results.years.set_index("year").loc[2027]
    assert year["offsets_used_mt"] == pytest.approx(90 / 0.95 * 0.05)
    assert year["ets_emissions_mt"] == pytest.approx(90 / 0.95)
    assert year["allowance_price_cny_per_t"] == pytest.approx(60 + 0.05 * 30 / 0.95)
    assert year["offset_limit_value_cny_per_t"] == pytest.approx(30 / 0.95)
    assert year["offset_price_cny_per_t"] == pytest.approx(30.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(
        BASE_COST_BN - 90 / 0.95 * 0.05 * (60 - 30) * discount(2027) / 1e3, abs=1e-9)
    assert failed(results) == []


def test_forestry_offsets_raise_the_national_co2_count_by_themselves():
    """A removal outside the CO2 count: the ETS emits 94.737, rest 45, so China emits 139.737
    in 2027, 4.737 over the national cap, reported as the overshoot."""
    results = solve(with_offsets())
    year = results.years.set_index("year").loc[2027]
    assert year["emissions_mt"] == pytest.approx(135 + 90 / 0.95 * 0.05)
    assert year["national_overshoot_mt"] == pytest.approx(90 / 0.95 * 0.05)
    assert results.summary["national_overshoot_mt"] == pytest.approx(90 / 0.95 * 0.05)
    assert failed(results) == []


def test_offsets_from_a_sector_outside_the_ets_are_its_abatement():
    """From rest: rest emits 45 - 4.737 and the ETS 4.737 more, China's count stays 135."""
    results = solve(with_offsets(origin="rest"))
    table = results.sector_years.set_index(["sector", "year"])
    assert table.loc[("rest", 2027), "emissions_mt"] == pytest.approx(45 - 90 / 0.95 * 0.05)
    assert table.loc[("rest", 2027), "offsets_sold_mt"] == pytest.approx(90 / 0.95 * 0.05)
    year = results.years.set_index("year").loc[2027]
    assert year["emissions_mt"] == pytest.approx(135.0)
    assert year["national_overshoot_mt"] == pytest.approx(0.0)
    assert failed(results) == []


def test_dearer_offsets_are_not_used():
    """At 70 > 60 no offset is used and the toy's answer is unchanged."""
    results = solve(with_offsets(cost=70.0), allocation=False)
    year = results.years.set_index("year").loc[2027]
    assert year["offsets_used_mt"] == pytest.approx(0.0)
    assert year["allowance_price_cny_per_t"] == pytest.approx(60.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN, abs=1e-9)


def test_a_sector_limit_replaces_the_market_one():
    """Power may surrender offsets for 8% of its emissions (50 Mt in 2027, both its steps used:
    4 Mt), steel none: 4 Mt are used, all by power, steel's step B abates 1 Mt; steel's
    abatement does not move the limit, so the price stays 60 and the limit is worth 60 - 30."""
    results = solve(with_offsets(sectors=[0.08, 0.0, None]), allocation=False)
    table = results.sector_years.set_index(["sector", "year"])
    assert table.loc[("power", 2027), "offsets_surrendered_mt"] == pytest.approx(4.0)
    assert table.loc[("steel", 2027), "offsets_surrendered_mt"] == pytest.approx(0.0)
    year = results.years.set_index("year").loc[2027]
    assert (year["allowance_price_cny_per_t"], year["offset_limit_value_cny_per_t"]) == pytest.approx((60.0, 30.0))
    assert failed(results) == []


def test_the_limit_row():
    """2027: offsets + 0.05 x trading abatement <= 0.05 x trading BAU (150 Mt): constant -7.5."""
    rows = rows_of(with_offsets_parameters(), "offsets")
    assert rows[2027]["constant"] == pytest.approx(-7.5)
    assert rows[2027]["coefs"]["offset_mt[('forestry', 'A', 2027)]"] == 1.0
    assert rows[2027]["coefs"]["abatement_mt[('steel', 'B', 2027)]"] == pytest.approx(0.05)
    assert "abatement_mt[('rest', 'B', 2027)]" not in rows[2027]["coefs"]
    assert rows[2025]["constant"] == pytest.approx(-0.05 * 100)  # steel simulates in 2025


def with_offsets_parameters():
    from model.parameters.derive import derive_parameters

    return derive_parameters(with_offsets())


def test_without_offsets_nothing_changes():
    """No offsets.csv: no rows, no variables, no columns."""
    results = solve(TOY, allocation=False)
    assert "offsets_used_mt" not in results.years and "offset_price_cny_per_t" not in results.years
    assert rows_of(toy_parameters(), "offsets") == {}


def refusal_of_offsets(tmp_path, offsets_csv: str) -> str:
    """The message loading the toy with this offsets.csv raises."""
    shutil.copytree(TOY, tmp_path / "toy")
    (tmp_path / "toy" / "offsets.csv").write_text(offsets_csv)
    with pytest.raises(EtscapError) as caught:
        load_dataset(tmp_path / "toy")
    return str(caught.value)


def test_an_offset_from_a_covered_sector_is_refused(tmp_path):
    """offsets.csv from power in 2027, which the ETS covers from 2025: named by file, row, column."""
    message = refusal_of_offsets(
        tmp_path, "year,origin,step,potential_mt,cost_cny_per_t,source\n2027,power,A,10,30,illustrative\n")
    assert ("offsets.csv, row 2, column year: found '2027', expected a year before power is covered by the ETS "
            "(covered_from 2025): its abatement is then the ETS's own, not an offset; drop the row") in message


@settings(max_examples=8, deadline=None)
@given(cost=st.floats(0, 100), potential=st.floats(0, 20), share=st.floats(0, 0.2))
def test_offsets_follow_the_merit_order_within_the_limit_and_the_potential(cost, potential, share):
    """Whatever the numbers: offsets within both bounds; used ones cost no more than an
    offset sells for; if any could still be used (both bounds slack), they cost no less; the
    checks pass; and the least cost is never above the toy's without offsets."""
    results = solve(with_offsets(cost=cost, potential=potential, share=share), allocation=False)
    year = results.years.set_index("year").loc[2027]
    used, bound = year["offsets_used_mt"], min(potential, share * year["ets_emissions_mt"])
    assert used <= bound + 1e-6
    tolerance = 1e-6 * max(1.0, cost)
    if used > 1e-6:
        assert year["offset_price_cny_per_t"] >= cost - tolerance
    if used < bound - 1e-6:
        assert year["offset_price_cny_per_t"] <= cost + tolerance
    assert results.summary["objective_bn_cny"] <= BASE_COST_BN + 1e-9
    assert failed(results) == []


def test_a_sweep_of_the_limit_re_solves_one_lp_and_equals_separate_solves():
    """0, 5 and 10% with 12 Mt offered: only coefficients change, so the study re-solves one
    LP in HiGHS; each scenario equals its own solve. Offsets used x = share x (90 + x):
    0, 4.737 and 10 Mt."""
    from model.lp.formulation import formulate
    from model.parameters.derive import derive_parameters
    from model.studies.study import sweep

    shares = [0.0, 0.05, 0.1]
    structures = {formulate(derive_parameters(with_offsets(potential=12.0, share=share))).structure()
                  for share in shares}
    assert len(structures) == 1
    study = sweep(with_offsets(potential=12.0), {"market.offset_limit_share": shares})
    used = study.years[study.years["year"] == 2027]["offsets_used_mt"].tolist()
    assert used == pytest.approx([0.0, 90 / 0.95 * 0.05, 10.0])
    for scenario, share in zip(study.scenarios["scenario"], study.scenarios["market.offset_limit_share"]):
        single = solve(with_offsets(potential=12.0, share=float(share)), allocation=False)
        objective = study.scenarios.set_index("scenario").at[scenario, "objective_bn_cny"]
        assert objective == pytest.approx(single.summary["objective_bn_cny"], rel=1e-9)
        mine = study.years[study.years["scenario"] == scenario].drop(columns="scenario").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, single.years, check_exact=False, rtol=1e-7, atol=1e-6)


def scoped(scope, removal=None, cost=30.0, origin="forestry"):
    """The toy with 10 Mt of 2027 offsets, ``removal`` as offsets.csv gives it (None: blank),
    its national target counted in [targets] scope ``scope`` (the toy has no sinks_mt or
    non_co2_mt, so the net-GHG and CO2 caps are both 135 Mt)."""
    dataset = with_offsets(origin=origin, cost=cost)
    return dataset.replace(settings={**dataset.settings, "targets.scope": scope},
                           offsets=dataset.offsets.assign(removal=[removal]))


USED = 90 / 0.95 * 0.05  # 4.737 Mt: the offsets the 5% limit allows at 30 CNY/t (module docstring)


def test_a_removal_under_a_net_ghg_count_is_a_sink_and_overshoots_nothing():
    """net_ghg, forestry (blank removal = true): the ETS emits 94.737 and rest 45, so the CO2
    is 139.737; the 4.737 Mt removed are an extra sink, so the net count is 139.737 - 4.737 =
    135 = the national cap: no overshoot. Offsets at 30 are used (to the limit) because they
    are cheaper than the national carbon value (61.579 = 60 + 0.05 x 31.579)."""
    results = solve(scoped("net_ghg"))
    year = results.years.set_index("year").loc[2027]
    assert year["emissions_mt"] == pytest.approx(135 + USED)
    assert year["offsets_as_sinks_mt"] == pytest.approx(USED)
    assert year["offsets_from_removals_mt"] == pytest.approx(USED)
    assert year["offsets_overshoot_mt"] == pytest.approx(0.0)
    assert year["national_overshoot_mt"] == pytest.approx(0.0)
    assert results.summary["national_overshoot_mt"] == pytest.approx(0.0)
    assert year["national_carbon_value_cny_per_t"] == pytest.approx(60 + 0.05 * 30 / 0.95)
    assert year["emissions_mt"] - year["offsets_as_sinks_mt"] == pytest.approx(year["national_cap_mt"])
    assert failed(results) == []


def test_a_removal_dearer_than_the_national_carbon_value_is_not_used_under_net_ghg():
    """net_ghg, forestry at 70 > 60 (the national carbon value without offsets): none used,
    nothing sunk, the toy's least cost unchanged."""
    results = solve(scoped("net_ghg", cost=70.0), allocation=False)
    year = results.years.set_index("year").loc[2027]
    assert (year["offsets_used_mt"], year["offsets_as_sinks_mt"]) == pytest.approx((0.0, 0.0))
    assert year["national_carbon_value_cny_per_t"] == pytest.approx(60.0)
    assert results.summary["objective_bn_cny"] == pytest.approx(BASE_COST_BN, abs=1e-9)


def test_a_removal_under_a_co2_count_overshoots_by_the_offsets():
    """co2, forestry (removal = true given): outside the CO2 count, so China emits 139.737
    against 135: overshoot 4.737 = the offsets, and nothing is counted as a sink."""
    results = solve(scoped("co2", removal=True))
    year = results.years.set_index("year").loc[2027]
    assert year["offsets_as_sinks_mt"] == pytest.approx(0.0)
    assert year["offsets_overshoot_mt"] == pytest.approx(USED)
    assert year["national_overshoot_mt"] == pytest.approx(USED)
    assert year["emissions_mt"] - year["national_cap_mt"] == pytest.approx(USED)
    assert failed(results) == []


@pytest.mark.parametrize("scope", ["co2", "net_ghg"])
def test_a_named_source_that_is_not_a_removal_overshoots_in_both_scopes(scope):
    """offshore_wind (removal = false: its reduction is already in a BAU): no sink in either
    scope, so the count is 139.737 against 135 and the overshoot 4.737 in both."""
    results = solve(scoped(scope, removal=False, origin="offshore_wind"))
    year = results.years.set_index("year").loc[2027]
    assert year["offsets_from_removals_mt"] == pytest.approx(0.0)
    assert year["offsets_as_sinks_mt"] == pytest.approx(0.0)
    assert year["national_overshoot_mt"] == pytest.approx(USED)
    assert results.summary["national_overshoot_mt"] == pytest.approx(USED)
    assert failed(results) == []


def test_counting_a_removal_as_a_sink_under_a_co2_count_fails_the_national_count(monkeypatch):
    """A broken accounting: the family treats removals as sinks although the scope is co2.
    The LP is the same, but the tables then show 4.737 Mt of sinks and no overshoot; a CO2
    count ignores sinks, so China's 139.737 Mt are 4.737 over the 135 Mt cap: national_count
    fails (alone) by that, and the run is refused. Under net_ghg the same accounting passes."""
    from model.families import offsets

    monkeypatch.setattr(offsets, "counts_removals_as_sinks", lambda p: True)
    with pytest.raises(EtscapError) as caught:
        solve(scoped("co2"), allocation=False)
    assert str(caught.value) == ("the solution failed verification: national_count (worst violation 4.74 Mt) "
                                 "(please report this with the dataset)")
    assert failed(solve(scoped("net_ghg"), allocation=False)) == []


def test_a_sector_origin_cannot_be_a_removal(tmp_path):
    """offsets.csv from rest with removal = true: refused, named by file, row and column."""
    message = refusal_of_offsets(
        tmp_path, "year,origin,step,potential_mt,cost_cny_per_t,removal,source\n2027,rest,A,10,30,true,illustrative\n")
    assert "offsets.csv, row 2, column removal: found 'true', expected false or blank" in message


@pytest.mark.parametrize("year", [None, 2030], ids=["no rows", "a row after the last year"])
def test_an_empty_offer_is_the_empty_supply_with_its_columns_and_no_rows_or_columns(year):
    """No offsets.csv rows, or one offering only from 2030 (after the toy's 2027): the supply has
    no row but all its columns (year and row whole numbers, removal a flag), the LP no offset
    variable, cost or limit row, the by-year sums are 0 in each of the 3 years and the sales 0
    on each of the 9 sector-years; the tables get no offsets column."""
    import numpy as np

    from model.families import offsets
    from model.parameters.derive import derive_parameters

    dataset = with_offsets(year=2030)
    if year is None:
        dataset = dataset.replace(offsets=dataset.offsets.iloc[:0])
    p = derive_parameters(dataset)
    supply = offsets.offset_supply(p)
    assert supply.empty and list(supply.columns) == ["origin", "step", "year", "potential_mt", "cost_cny_per_t",
                                                     "row", "removal"]
    assert (supply["year"].dtype, supply["row"].dtype, supply["removal"].dtype) == (np.int64, np.int64, np.bool_)
    assert offsets.offset_variables(p) == [] and offsets.offset_costs(p) == []
    limit = offsets.define_offset_limit(p, None)
    assert (limit.keys, limit.terms, limit.constant.size, limit.upper.size) == ([], [], 0, 0)
    assert offsets._by_year(p, np.zeros(0)).tolist() == [0.0, 0.0, 0.0]
    assert offsets.offsets_sold(p, {"offset_mt": np.zeros(0)}).tolist() == [0.0] * 9
    assert offsets.sector_year_columns(p, {}, p.sector_years) == {} and offsets.year_columns(p, {}, None) == {}
    assert offsets.offsets_as_supply(p).terms == []
