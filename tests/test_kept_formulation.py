"""A study's base formulation kept family by family (``resolve.KeptFormulation``): a scenario's
LP re-uses the blocks of the families whose reads it leaves as the base has them, and is the
LP ``formulate`` writes afresh, array for array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import load_dataset
from model.data import fastpath
from model.data.inputs import Dataset
from model.data.overrides import apply_overrides
from model.lp.blocks import highs_arrays
from model.lp.formulation import formulate
from model.parameters.derive import Parameters, derive_parameters
from model.parameters.installations import AbatementColumns
from model.solving.resolve import KeptFormulation, _same

ROOT = Path(__file__).resolve().parent.parent


def assert_same_lp(kept, fresh) -> None:
    """Every number HiGHS is given, and the structure, equal."""
    assert kept.structure() == fresh.structure()
    a, b = highs_arrays(kept), highs_arrays(fresh)
    for name in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.offset == b.offset
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.matrix, name), getattr(b.matrix, name)), name
    assert kept.objective.constant == fresh.objective.constant


@pytest.fixture(scope="module")
def toy() -> Dataset:
    return load_dataset(ROOT / "inputs" / "toy")


@pytest.fixture(scope="module")
def china() -> Dataset:
    return load_dataset(ROOT / "inputs" / "china")


def test_a_cap_changes_only_the_national_target_rows_by_hand(toy):
    """Toy national caps: 2025 170, 2027 135 Mt, 2026 interpolated (170 + 135) / 2 = 152.5.
    Setting 2027 to 140 moves 2027's bound to 140 and 2026's to (170 + 140) / 2 = 155; the
    national target's rows are written afresh, the other families' blocks are the base's."""
    kept = KeptFormulation(derive_parameters(toy))
    lp = kept.formulate(derive_parameters(apply_overrides(toy, {"targets.2027.national_cap_mt": 140})))
    rows = {block.name: block for block in lp.rows}
    base_rows = {block.name: block for block in kept.lp.rows}
    assert rows["national_target"].upper[:3].tolist() == [170.0, 155.0, 140.0]
    assert base_rows["national_target"].upper[:3].tolist() == [170.0, 152.5, 135.0]
    assert rows["national_target"] is not base_rows["national_target"]
    for name in ("market_balance", "trading_cap_shares", "simulation_rule_cap", "deployment_limits"):
        assert rows[name] is base_rows[name], name
    assert kept.reused > 0


def test_a_step_cost_changes_only_the_objective(toy):
    """Power A's cost x 1.1 (10 -> 11 CNY/t): every family's rows are the base's own blocks,
    and the LP is the one formulate writes afresh, its costs included."""
    kept = KeptFormulation(derive_parameters(toy))
    scenario = derive_parameters(apply_overrides(toy, {"mac.power.A.cost_cny_per_t*": 1.1}))
    lp = kept.formulate(scenario)
    base_rows = {block.name: block for block in kept.lp.rows}
    assert [block.name for block in lp.rows if block is not base_rows[block.name]] == []
    assert_same_lp(lp, formulate(scenario))
    assert scenario.steps.loc[("power", "A", 2025), "cost_cny_per_t"] == pytest.approx(11.0)
    assert not np.array_equal(highs_arrays(lp).col_cost, highs_arrays(kept.lp).col_cost)


@pytest.mark.parametrize("overrides", [
    {"targets.2027.national_cap_mt": 140},
    {"sectors.steel.base_emissions_mt*": 1.1},
    {"sectors.power.base_emissions_mt": 90.0},
    {"discount_rate": 0.08},
    {"market.banking": False},
])
def test_the_toy_scenarios_lp_is_formulates(toy, overrides):
    kept = KeptFormulation(derive_parameters(toy))
    p = derive_parameters(apply_overrides(toy, overrides))
    assert_same_lp(kept.formulate(p), formulate(p))


@pytest.mark.parametrize("overrides", [
    {"targets.2035.national_cap_mt": 10_500.0},
    {"bau.steel.*.bau_mt*": 1.03, "bau.cement.*.bau_mt*": 0.97},
    {"discount_rate": 0.04},
    {"market.banking": False},
    {"model.resolution": "facility"},
    {"sectors.power.bank_limit_base_mt": 100.0},  # the bank limits' rule made again for the scenario
    {"sectors.steel.bank_limit_sales_factor": 1.5},  # ... with regimes (binaries) for steel
    {"market.bank_limit_mt": 500.0},
])
def test_the_default_datasets_scenarios_lp_is_formulates(china, overrides):
    kept = KeptFormulation(derive_parameters(china))
    p = derive_parameters(apply_overrides(china, overrides))
    assert_same_lp(kept.formulate(p), formulate(p))


def test_at_facility_resolution_a_baseline_draw_reuses_the_deployment_limits(china):
    """The deployment limits read the abatement columns' keys and rows, not their potentials:
    a draw of baseline emissions at facility resolution re-uses them, and the LP is formulate's."""
    by_installation = apply_overrides(china, {"model.resolution": "facility"})
    kept = KeptFormulation(derive_parameters(by_installation))
    p = derive_parameters(apply_overrides(by_installation, {"bau.steel.*.bau_mt*": 1.04}))
    lp = kept.formulate(p)
    assert_same_lp(lp, formulate(p))
    rows = {block.name: block for block in lp.rows}
    assert rows["deployment_limits"] is {block.name: block for block in kept.lp.rows}["deployment_limits"]


def test_the_validated_path_writes_every_family_afresh(toy):
    kept = KeptFormulation(derive_parameters(toy))
    p = derive_parameters(apply_overrides(toy, {"targets.2027.national_cap_mt": 140}))
    with fastpath.validated():
        lp = kept.formulate(p)
    assert kept.reused == 0
    assert not any(block is base for block, base in zip(lp.rows, kept.lp.rows))
    assert_same_lp(lp, formulate(p))


def test_recording_leaves_the_objects_as_they_were(toy):
    base = derive_parameters(toy)
    KeptFormulation(base)
    assert type(base) is Parameters and type(base.dataset) is Dataset
    assert type(base.sector_years) is pd.DataFrame and type(base.dataset.sectors) is pd.DataFrame
    assert all(type(columns) is AbatementColumns for columns in base.abatement)
    assert_same_lp(formulate(base), KeptFormulation(base).lp)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e12, max_value=1e12), st.just(float("nan"))), min_size=1,
                max_size=6),
       st.integers(min_value=0, max_value=5), st.floats(min_value=1e-6, max_value=1e6))
def test_same_holds_for_copies_and_fails_for_a_changed_value(values, at, change):
    """``_same`` is equality of values: a copy (NaN where NaN) is the same, one element moved is not."""
    array = np.array(values)
    frame = pd.DataFrame({"x": array}, index=pd.Index(range(len(values)), name="row"))
    assert _same(array, array.copy()) and _same(frame, frame.copy())
    assert _same((array, {"a": 1.0}), (array.copy(), {"a": 1.0}))
    moved = array.copy()
    at = at % len(values)
    moved[at] = (0.0 if np.isnan(moved[at]) else moved[at]) + change * max(1.0, abs(np.nan_to_num(moved[at])))
    assert not _same(array, moved)
    assert not _same(frame, pd.DataFrame({"x": moved}, index=frame.index))
    assert not _same(frame, frame.rename_axis("other"))


@pytest.mark.parametrize("overrides", [
    {"offsets.forestry.A.2027.cost_cny_per_t": 20.0},
    {"offsets.forestry.A.2027.potential_mt": 3.0},
    {"targets.2027.national_cap_mt": 140},
])
def test_an_offsets_scenarios_lp_is_formulates(overrides):
    """The offsets rule keeps its last supply by the Parameters' identity: recorded on its own
    copy, its reads of offsets.csv are noted, so a cost or potential changed is written afresh."""
    from tests.families.test_offsets import with_offsets

    dataset = with_offsets()
    kept = KeptFormulation(derive_parameters(dataset))
    p = derive_parameters(apply_overrides(dataset, overrides))
    assert_same_lp(kept.formulate(p), formulate(p))


def test_a_rule_added_after_the_recording_formulates_whole(toy):
    """A family put in the list after the base was recorded (tests/families/test_adding_a_family.py's
    reserve of 5 Mt in the last year): the scenario's LP is formulate's with it (its variables and supply
    in the market balance), not the recorded list's."""
    from model.families import FAMILIES, market_balance
    from tests.families.test_adding_a_family import RESERVE

    kept = KeptFormulation(derive_parameters(toy))
    FAMILIES.insert(FAMILIES.index(market_balance.FAMILY) + 1, RESERVE)
    try:
        p = derive_parameters(apply_overrides(toy, {"targets.2027.national_cap_mt": 140}))
        lp = kept.formulate(p)
        assert set(lp.variables) - set(kept.lp.variables) == {"reserve_release_mt"}
        assert_same_lp(lp, formulate(p))
    finally:
        FAMILIES.remove(RESERVE)


def test_a_baseline_draw_finds_the_bases_grid_rows_as_the_same_objects(toy):
    """A scenario that changes BAU, not phases, gets the base's grid index, rows and indexes by
    phase as the very objects the kept formulation recorded (its reads then compare by identity),
    and its LP is still the one formulate gives."""
    base = derive_parameters(toy)
    kept = KeptFormulation(base)
    scenario = derive_parameters(apply_overrides(toy, {"sectors.*.base_emissions_mt*": 1.05}))
    assert scenario.sector_years is not base.sector_years
    assert not np.array_equal(scenario.sector_years["bau_mt"], base.sector_years["bau_mt"])
    assert scenario.sector_years.index is base.sector_years.index
    assert scenario.covered_index is base.covered_index and scenario.year_of_row is base.year_of_row
    assert not scenario.sector_years["bau_mt"].to_numpy().flags.writeable
    assert_same_lp(kept.formulate(scenario), formulate(scenario))
    with fastpath.validated():  # nothing kept: a grid of its own
        assert derive_parameters(toy).covered_index is not base.covered_index
