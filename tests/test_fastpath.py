"""The studies' fast path (narrowed re-checks, derived tables kept) against the validated path.

``model.data.fastpath.validated()`` is the path studies took before: every check of a changed table
runs again and nothing derived from one dataset is kept for the next. Both must give the
same tables to the last bit, and refuse the same bad overrides with the same messages.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from model import apply_overrides, load_dataset
from model.data import fastpath
from model.errors import InputError
from model.data.inputs import check_dataset
from model.studies.study import monte_carlo, run_scenarios, sweep

NEWLY_COVERED = ("steel", "cement", "aluminium", "chemicals", "petrochemicals", "paper", "aviation")


@pytest.fixture(scope="module")
def china():
    return load_dataset("inputs/china")


def _both(run):
    fast = run()
    with fastpath.validated():
        validated = run()
    return fast, validated


def _assert_same_study(fast, validated) -> None:
    pd.testing.assert_frame_equal(fast.scenarios, validated.scenarios)
    pd.testing.assert_frame_equal(fast.years, validated.years, check_exact=True)
    pd.testing.assert_frame_equal(fast.sector_years, validated.sector_years, check_exact=True)


def test_a_sweep_of_targets_is_the_same_on_both_paths(china):
    caps = [9_800.0, 10_400.0, 11_000.0, 10_400.0]  # a repeat: a kept table is found again
    fast, validated = _both(lambda: sweep(china, {"targets.2035.national_cap_mt": caps}, abatement_steps=True))
    _assert_same_study(fast, validated)
    pd.testing.assert_frame_equal(fast.abatement_steps, validated.abatement_steps, check_exact=True)
    assert (fast.scenarios["status"] == "optimal").all()
    # the scenarios differ (the kept tables are not reused where the numbers change)
    price = fast.years.loc[fast.years["year"] == 2035].set_index("scenario")["allowance_price_cny_per_t"]
    assert price[0] > price[1] > price[2] and price[1] == price[3]


def test_a_monte_carlo_of_sector_numbers_is_the_same_on_both_paths(china):
    # the draws scale the bau.csv paths (base_emissions_mt, which they replace, is refused)
    distributions = {f"bau.{s}.*.bau_mt*": {"kind": "uniform", "low": 0.9, "high": 1.1} for s in NEWLY_COVERED}
    fast, validated = _both(lambda: monte_carlo(china, 6, distributions, seed=7))
    _assert_same_study(fast, validated)
    emissions = fast.sector_years.groupby("scenario")["bau_mt"].sum()
    assert emissions.nunique() == 6  # every draw its own BAU: nothing stale was kept


def test_at_facility_resolution_scenarios_that_change_phases_and_baus_are_the_same_on_both_paths(china):
    """The installations' column structure (own columns in the simulation years, pools, merit
    order) is kept for scenarios that share registry and phases: paper simulating until 2030,
    then until 2029 again, with its BAU drawn, must give the validated path's tables."""
    by_installation = apply_overrides(china, {"model.resolution": "facility"})
    inputs = pd.DataFrame({"sectors.paper.trading_from": [2031, 2029, 2031, 2029],
                           "bau.paper.*.bau_mt*": [1.0, 1.05, 0.95, 1.0]})
    fast, validated = _both(lambda: run_scenarios(by_installation, inputs, abatement_steps=True))
    _assert_same_study(fast, validated)
    pd.testing.assert_frame_equal(fast.abatement_steps, validated.abatement_steps, check_exact=True)
    paper = fast.sector_years[(fast.sector_years["sector"] == "paper") & (fast.sector_years["year"] == 2030)]
    assert paper["phase"].tolist() == ["simulation", "trading", "simulation", "trading"]


def test_a_sweep_that_changes_phases_and_the_horizon_is_the_same_on_both_paths(china):
    inputs = pd.DataFrame({"sectors.aluminium.trading_from": [2027, 2030, 2027],
                           "last_year": [2060, 2045, 2045]})
    fast, validated = _both(lambda: run_scenarios(china, inputs))
    _assert_same_study(fast, validated)
    assert fast.years.groupby("scenario")["year"].max().tolist() == [2060, 2045, 2045]


def test_facility_resolution_monte_carlo_is_the_same_on_both_paths(china):
    by_installation = apply_overrides(china, {"model.resolution": "facility"})
    distributions = {"bau.steel.*.bau_mt*": {"kind": "uniform", "low": 0.9, "high": 1.1},
                     "sectors.cement.simulation_reduction": {"kind": "uniform", "low": 0.0, "high": 0.01}}
    fast, validated = _both(lambda: monte_carlo(by_installation, 3, distributions, seed=3))
    _assert_same_study(fast, validated)


BAD_OVERRIDES = [
    {"targets.2030.ets_cap_mt": 20_000.0},  # above the national cap of 12,000 Mt
    {"targets.2030.max_auction_share": 0.0, "targets.2030.min_auction_share": 0.5},
    {"sectors.steel.trading_from": 2020},  # before covered_from (2025)
    {"sectors.steel.free_share_min": 0.99, "sectors.steel.free_share_max": 0.5},
    # (1.9 x 1.5)^36 x base emissions: far above the 1e6 Mt a sector may reach
    {"sectors.power.output_growth": 0.9, "sectors.power.intensity_change": 0.5},
    {"market.initial_bank_mt": 1e6, "market.banking": "false"},  # without banking: more than first_year's trading BAU
    {"last_year": 2020},  # before first_year
    {"sectors.steel.base_emissions_mt*": 1e6},  # out of range in its own cell
]


@pytest.mark.parametrize("overrides", BAD_OVERRIDES, ids=lambda o: ",".join(o))
def test_a_bad_override_is_refused_with_the_same_message_on_both_paths(china, overrides):
    messages = []
    for validated in (False, True):
        with pytest.raises(InputError) as refused:
            if validated:
                with fastpath.validated():
                    apply_overrides(china, overrides)
            else:
                apply_overrides(china, overrides)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert "--set " in messages[0]


def test_a_bad_scenario_of_a_study_has_the_same_message_on_both_paths(china):
    inputs = pd.DataFrame({"targets.2030.ets_cap_mt": [7_000.0, 20_000.0]})
    fast, validated = _both(lambda: run_scenarios(china, inputs))
    assert fast.scenarios["status"].tolist() == ["optimal", "error"]
    assert fast.scenarios["message"].tolist() == validated.scenarios["message"].tolist()
    assert "expected at most national_cap_mt (12900)" in fast.scenarios["message"][1]


@pytest.mark.parametrize("table, row, column, value", [
    ("targets", 5, "ets_cap_mt", 20_000.0),  # row 5 is 2030: above its national cap
    ("sectors", 3, "trading_from", 2020),  # steel: before its covered_from
    ("sectors", 2, "output_growth", 0.9),  # power: BAU beyond 1e6 Mt with intensity_change 0.5
    ("allocation", None, None, None),  # no change: nothing to find
])
def test_narrowed_checks_find_what_every_check_finds(china, table, row, column, value):
    """check_dataset narrowed to the changed column finds exactly what all checks of the whole
    dataset find (the base is valid, so every problem is the change's)."""
    assert check_dataset(china) == []
    changed = china.table(table).copy()
    columns: set[str] = set()
    if column is not None:
        changed[column] = changed[column].astype(object)
        changed.loc[row, column] = value
        changed[column] = changed[column].astype(china.table(table)[column].dtype)
        columns.add(column)
        if column == "output_growth":
            changed.loc[row, "intensity_change"] = 0.5
            columns.add("intensity_change")
    unchecked = dataclasses.replace(china, **{table: changed})
    everything = check_dataset(unchecked)
    narrowed = check_dataset(unchecked, {table}, {table: columns})
    assert narrowed == everything
    assert (len(everything) > 0) == (column is not None)


def test_kept_tables_are_read_only(china):
    """What the fast path keeps is shared by scenarios: a write into it is refused."""
    from model.parameters.derive import derive_parameters

    p = derive_parameters(china)
    q = derive_parameters(apply_overrides(china, {"targets.2035.national_cap_mt": 10_000.0}))
    assert p.sector_years is q.sector_years  # shared: the sectors table did not change
    with pytest.raises(ValueError):
        q.sector_years["bau_mt"].to_numpy()[0] = 1.0
    r = derive_parameters(apply_overrides(china, {"bau.steel.*.bau_mt*": 1.1}))
    assert r.sector_years is not p.sector_years
    steel_2030 = ("steel", 2030)
    assert r.sector_years.loc[steel_2030, "bau_mt"] == pytest.approx(1.1 * p.sector_years.loc[steel_2030, "bau_mt"],
                                                                     rel=1e-12)
    assert np.array_equal(r.sector_years.loc["power", "bau_mt"].to_numpy(), p.sector_years.loc["power", "bau_mt"])


def test_column_array_is_the_array_the_table_holds_by_either_route(monkeypatch):
    """fastpath.column_array: a float column is the table's own numpy array (no copy), a
    categorical its Categorical, a name given twice the frame of both; without pandas' private
    column read (a later pandas), the public route gives the same values."""
    import numpy as np
    import pandas as pd

    from model.data.fastpath import column_array

    frame = pd.DataFrame({"price": [1.5, np.nan, 3.0], "sector": pd.Categorical(["steel", "power", "steel"])})
    price = column_array(frame, "price")
    assert isinstance(price, np.ndarray) and np.shares_memory(price, frame["price"].to_numpy())
    np.testing.assert_array_equal(price, [1.5, np.nan, 3.0])
    assert list(column_array(frame, "sector")) == ["steel", "power", "steel"]
    twice = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    assert column_array(twice, "a").shape == (1, 2)
    monkeypatch.delattr(pd.DataFrame, "_get_column_array")
    public = column_array(frame, "price")
    assert isinstance(public, np.ndarray)
    np.testing.assert_array_equal(public, [1.5, np.nan, 3.0])


def test_a_command_line_solve_forgets_what_it_kept_for_a_next_scenario(tmp_path):
    """A single solve has no next scenario: once solved, ``solve`` empties every cache of
    derived tables (fastpath's own and the registered module caches: the installations'
    grid and columns, their key arrays, the offset supply) before writing, so the write
    does not hold the parameters' memory as well. The same solve through the pipeline keeps them."""
    from click.testing import CliRunner

    from model.cli import cli
    from model.families import offsets, reserve
    from model.parameters import derive, installations
    from model.solving.pipeline import solve

    caches = {"derive._INSTALLATIONS": derive._INSTALLATIONS, "installations._KEY_ARRAYS": installations._KEY_ARRAYS,
              "offsets._LAST": offsets._LAST, "reserve._LAST": reserve._LAST}
    overrides = {"model.resolution": "facility"}
    solve("inputs/china", overrides=overrides, installations=False)
    assert all(any(cache is registered for registered in fastpath._REGISTERED) for cache in caches.values())
    assert len(fastpath._REGISTERED) == len({id(cache) for cache in fastpath._REGISTERED})  # each once
    kept = {name for name, cache in caches.items() if cache}
    assert kept == set(caches)
    assert fastpath._DERIVED["facility_grid"]
    result = CliRunner().invoke(cli, ["-q", "solve", "inputs/china", "--resolution", "facility",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert {name: len(cache) for name, cache in caches.items()} == dict.fromkeys(caches, 0)
    assert fastpath._DERIVED == {} and fastpath._BY_VALUE == {} and fastpath._SHAPES == {}
    assert (tmp_path / "out" / "facility_years.parquet").is_file()


def test_a_study_of_another_load_of_the_same_files_records_its_own_base():
    """Two loads of the toy (the same sha256, two objects): each study's kept formulation is
    recorded from its own base, so a scenario's tables, derived from that object's, are found
    by identity (one recorded from the other load would compare each read by value: equal, 30%
    slower); both sweeps give the same tables."""
    from model.parameters.derive import derive_parameters
    from model.studies import study as study_module
    from tests.conftest import TOY

    first, second = load_dataset(TOY), load_dataset(TOY)
    assert first.sha256 == second.sha256 and first is not second
    swept = [sweep(dataset, {"targets.2027.national_cap_mt": [130.0, 140.0]}) for dataset in (first, second)]
    pd.testing.assert_frame_equal(swept[0].years, swept[1].years)
    kept = study_module._kept_formulation(second, second.sha256)
    assert kept is not None and kept.base.dataset is second
    assert study_module._kept_formulation(second, second.sha256) is kept  # kept for the study's next scenario
    before = kept.reused
    kept.formulate(derive_parameters(apply_overrides(second, {"targets.2027.national_cap_mt": 150.0})))
    assert kept.reused > before  # the families a cap leaves alone are the recorded blocks
