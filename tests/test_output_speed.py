"""What the output side keeps between a study's scenarios (issue 17): joins and codes the checks
make from the tables' keys, found again by value, never stale; and a wrong rule still fails the
checks at facility resolution when they run from what was kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.data import fastpath
from model.families.checktools import rows_of
from model.families.deployment_limits import _abatement_by_step, deployment_limited
from model.families.facility_compliance import facility_compliance


def test_kept_for_equal_finds_equal_arrays_and_never_a_changed_one():
    """A first call keeps nothing (a single solve holds no copies); the second with arrays of
    the same shapes is kept; then the same values in other arrays are a hit (make does not run);
    one changed element, another dtype or the validated path make it afresh; the kept copy does
    not follow the caller's array."""
    made = []

    def make(values):
        made.append(values.copy())
        return float(np.sum(values == "a"))

    names = np.array(["a", "b", "a", None], dtype=object)
    kind = "test kept_for_equal"
    assert fastpath.kept_for_equal(kind, (names,), lambda: make(names)) == 2.0
    assert fastpath.kept_for_equal(kind, (names,), lambda: make(names)) == 2.0
    assert len(made) == 2  # the first call kept nothing, the second is kept
    same = names.copy()
    assert fastpath.kept_for_equal(kind, (same,), lambda: make(same)) == 2.0
    assert len(made) == 2  # a hit: equal values in another array
    names[1] = "a"  # the caller changes its array in place: what was kept is of the old values
    assert fastpath.kept_for_equal(kind, (names,), lambda: make(names)) == 3.0
    assert len(made) == 3
    as_text = names.astype(str)
    assert fastpath.kept_for_equal(kind, (as_text,), lambda: make(as_text)) == 3.0
    assert len(made) == 4  # another dtype is another key
    with fastpath.validated():
        fastpath.kept_for_equal(kind, (same,), lambda: make(same))
    assert len(made) == 5
    with_nan = np.array([1.0, np.nan])
    for _ in range(2):  # kept from the second call
        assert fastpath.kept_for_equal(kind + " nan", (with_nan,), lambda: 7) == 7
    assert fastpath.kept_for_equal(kind + " nan", (with_nan.copy(),), lambda: 8) == 7  # NaN equals NaN here


def test_rows_of_joins_on_name_and_year_and_is_kept_read_only():
    """Table rows (a, 2025), (b, 2025), (a, 2026); keys (b, 2025), (a, 2026), (c, 2025), (a, 2027):
    rows 1, 2, -1, -1. The same keys again give the same (read-only) array; a year changed in the
    table moves the join: with a in 2024 and b in 2026, only (a, 2026) has a row."""
    table = pd.DataFrame({"facility_id": ["a", "b", "a"], "year": [2025, 2025, 2026]})
    keys = pd.DataFrame({"facility_id": ["b", "a", "c", "a"], "year": [2025, 2026, 2025, 2027]})
    rows_of(table, keys, "facility_id")  # kept from the second call on
    rows = rows_of(table, keys, "facility_id")
    assert rows.tolist() == [1, 2, -1, -1]
    assert not rows.flags.writeable
    assert rows_of(table.copy(), keys.copy(), "facility_id") is rows
    moved = table.assign(year=[2024, 2026, 2026])  # b moves to 2026: (b, 2025) has no row now
    assert rows_of(moved, keys, "facility_id").tolist() == [-1, 2, -1, -1]


def test_abatement_by_step_sums_installations_by_pair_and_year():
    """Steps of two installations: (steel, A) abates 1 + 2 in 2025 and 4 in 2026, (steel, B) 8 in
    2025, (power, A) 16 (not asked). Asked [(steel, B), (steel, A)]: [[8, 0], [3, 4]]. The codes
    kept for these keys serve a second table with other abatement: (steel, A) 2025 then 30."""
    steps = pd.DataFrame({"sector": ["steel", "steel", "steel", "steel", "power"],
                          "step": ["A", "A", "A", "B", "A"], "year": [2025, 2025, 2026, 2025, 2025],
                          "abatement_mt": [1.0, 2.0, 4.0, 8.0, 16.0]})
    years = pd.DataFrame({"year": [2025, 2026]})
    assert _abatement_by_step(years, steps, [("steel", "B"), ("steel", "A")]).tolist() == [[8.0, 0.0], [3.0, 4.0]]
    other = steps.assign(abatement_mt=[10.0, 20.0, 4.0, 8.0, 16.0])
    assert _abatement_by_step(years, other, [("steel", "A")]).tolist() == [[30.0, 4.0]]


def test_a_group_at_its_limit_marks_only_its_members_in_full_years():
    """Group g = {(steel, A)} with max 3 Mt in 2025 and 10 in 2026; (steel, A) abates 3 and 4: full
    in 2025 only, so only its 2025 rows are at the limit; (steel, B) is build-limited everywhere."""
    steps = pd.DataFrame({"sector": ["steel", "steel", "steel", "steel"], "step": ["A", "A", "A", "B"],
                          "year": [2025, 2025, 2026, 2026], "abatement_mt": [1.0, 2.0, 4.0, 1.0]})
    years = pd.DataFrame({"year": [2025, 2026]})
    market = {"deployment_limits": {
        "max_build_mt_per_year": [{"sector": "steel", "step": "B", "max_mt": 1.0}],
        "max_mt": [{"group": "g", "steps": [["steel", "A"]], "years": [2025, 2026], "max_mt": [3.0, 10.0]}]}}
    build_limited, at_limit = deployment_limited(years, steps, market)
    assert build_limited.tolist() == [False, False, False, True]
    assert at_limit.tolist() == [True, True, False, False]


def test_facility_compliance_tests_only_the_simulation_rows():
    """Installation x emits 12 against 10 free in simulation (2 Mt over); y emits 20 against 5 while
    trading (a shortfall it buys, no violation): worst 2 Mt."""
    facilities = pd.DataFrame({"facility_id": pd.Categorical(["x", "y"]), "year": [2025, 2025],
                               "phase": pd.Categorical(["simulation", "trading"]),
                               "emissions_mt": [12.0, 20.0], "free_mt": [10.0, 5.0]})
    steps = pd.DataFrame({"facility_id": ["x"], "year": [2025]})
    sector_years = pd.DataFrame({"sector": [], "year": []})  # no rule caps: only each installation's own test
    assert facility_compliance(None, sector_years, steps, {"facilities": facilities}) == pytest.approx(2.0)
    assert facility_compliance(None, sector_years, steps, {"facilities": facilities.assign(
        emissions_mt=[9.0, 20.0])}) == 0.0


def test_tables_made_from_kept_rows_can_be_changed_and_the_next_solve_is_unchanged(tmp_path):
    """The toy's five installations at facility resolution: the installation table's keys, BAU and
    shares are kept for the grid between solves, the steps' keys too. Changing one solve's tables
    in place (a BAU, an installation's name, a step's sector) leaves the next solve's as the first's."""
    from model import apply_overrides, load_dataset, solve
    from tests.conftest import FIVE_INSTALLATIONS_WITH_OUTPUT, toy_with_registry

    dataset = apply_overrides(load_dataset(toy_with_registry(tmp_path / "toy", FIVE_INSTALLATIONS_WITH_OUTPUT)),
                              {"model.resolution": "facility"})
    first = solve(dataset, allocation=False)
    kept = (first.facilities.copy(), first.abatement_steps.copy())
    first.facilities.loc[0, "bau_mt"] = -1.0
    first.facilities.loc[0, "facility_id"] = "s2"
    first.abatement_steps.loc[0, "sector"] = "power" if first.abatement_steps.loc[0, "sector"] != "power" else "steel"
    again = solve(dataset, allocation=False)
    pd.testing.assert_frame_equal(again.facilities, kept[0], check_exact=True)
    pd.testing.assert_frame_equal(again.abatement_steps, kept[1], check_exact=True)
    assert set(again.facilities["facility_id"]) == {"p1", "p2", "s1", "s2", "s3"}


def test_the_table_by_installation_is_written_as_parquet_and_read_back_whole(tmp_path):
    """The toy's five installations at facility resolution, 2025-2030 (6 covered years of
    power; steel covered from 2027): facility_years.parquet only, read back equal to the
    solve's table (categoricals and all); with installations_csv also facilities.csv; a cut
    Parquet file is refused naming it."""
    from model import Results, apply_overrides, load_dataset, solve
    from model.errors import EtscapError
    from tests.conftest import FIVE_INSTALLATIONS_WITH_OUTPUT, toy_with_registry

    dataset = apply_overrides(load_dataset(toy_with_registry(tmp_path / "toy", FIVE_INSTALLATIONS_WITH_OUTPUT)),
                              {"model.resolution": "facility"})
    results = solve(dataset, allocation=False)
    folder = results.write(tmp_path / "out")
    assert (folder / "facility_years.parquet").is_file() and not (folder / "facilities.csv").exists()
    pd.testing.assert_frame_equal(Results.read(folder).facilities, results.facilities, check_exact=True)
    with_csv = results.write(tmp_path / "csv", installations_csv=True)
    as_csv = pd.read_csv(with_csv / "facilities.csv")
    assert as_csv["facility_id"].tolist() == results.facilities["facility_id"].astype(str).tolist()
    assert np.abs(as_csv["emissions_mt"].to_numpy() - results.facilities["emissions_mt"].to_numpy()).max() < 1e-9
    data = (folder / "facility_years.parquet").read_bytes()
    (folder / "facility_years.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(EtscapError, match="facility_years.parquet is damaged or was not written by etscap"):
        Results.read(folder)


def _default_facility_solution(monkeypatch):
    """The default registry's parameters at facility resolution and the solution its solve reads."""
    import model.solving.resolve as resolve
    from model import apply_overrides, load_dataset
    from model.parameters.derive import derive_parameters

    p = derive_parameters(apply_overrides(load_dataset("inputs/china"), {"model.resolution": "facility"}))
    seen = {}
    real = resolve.build_results
    monkeypatch.setattr(resolve, "build_results", lambda p_, solution, *a, **k: seen.setdefault(
        "solution", solution) and real(p_, solution, *a, **k))
    resolve.Resolver(p, hash_inputs=False, installations=False).solve(p, start="reference")
    return p, seen["solution"]


def test_pools_add_nothing_to_simulation_rows_so_a_study_leaves_them_out(monkeypatch):
    """The default registry at facility resolution (6,837 installations): the pooled columns'
    shares are 0 in every simulation-phase installation-year (a pool merges installations that
    face no constraint of their own), so the abatement without them is the same there to the
    last bit; in trading rows they are most of it (the test would fail if pools were left out
    there)."""
    from model.parameters.installations import in_simulation
    from model.results.tables import facility_abatement

    p, solution = _default_facility_solution(monkeypatch)
    every, own = facility_abatement(p, solution), facility_abatement(p, solution, with_pools=False)
    simulation = np.asarray(in_simulation(p.facility_years), dtype=bool)
    assert simulation.sum() > 0 and np.array_equal(every[simulation], own[simulation])
    assert every[~simulation].sum() > 100.0 and own[~simulation].sum() < every[~simulation].sum() / 2


def test_kept_for_equal_tells_equal_text_in_other_objects_and_other_text_apart():
    """Keys compared by their objects first: the same objects are equal at once; equal text in
    other string objects is still equal (compared as text); a strided view is compared as text."""
    names = np.array([f"installation-{i}" for i in range(1000)], dtype=object)
    kind = "test kept_for_equal objects"
    assert fastpath.kept_for_equal(kind, (names,), lambda: "first") == "first"  # not kept: a first call
    assert fastpath.kept_for_equal(kind, (names,), lambda: "made") == "made"
    rebuilt = np.array(["".join(["installation-", str(i)]) for i in range(1000)], dtype=object)
    assert rebuilt[5] is not names[5]
    assert fastpath.kept_for_equal(kind, (rebuilt,), lambda: "again") == "made"
    other = rebuilt.copy()
    other[999] = "installation-x"
    assert fastpath.kept_for_equal(kind, (other,), lambda: "other") == "other"
    doubled = np.repeat(names, 2)[::2]  # not contiguous: the same text, compared element by element
    assert not doubled.flags.c_contiguous
    assert fastpath.kept_for_equal(kind, (doubled,), lambda: "strided") == "made"


def test_table_of_arrays_is_the_table_pandas_builds_and_shares_no_memory():
    """Numbers, booleans, object text and extension arrays give the table ``pd.DataFrame`` gives
    (values, dtypes, column order, a RangeIndex), except object text stays object; a lone int
    column and the text are copies (writing the table leaves the given arrays alone, as a
    scenario's table must leave the cached keys); a Series or a list falls back to pandas."""
    from model.results.tables import table_of_arrays

    year = np.array([2030, 2031, 2032])
    year.flags.writeable = False  # as the kept grid keys are
    sector = pd.array(["steel", "cement", None], dtype="str")
    columns = {"sector": sector, "year": year, "bau_mt": np.array([1.5, 2.0, np.nan]),
               "used": np.array([True, False, True]), "pool": pd.array([1, None, 3], dtype="Int64"),
               "cap_mt": np.array([1.0, 2.0, 3.0])}
    table = table_of_arrays(columns)
    expected = pd.DataFrame(columns)
    assert table.equals(expected) and list(table.columns) == list(expected.columns)
    assert list(table.dtypes) == list(expected.dtypes) and table.index.equals(pd.RangeIndex(3))
    table.loc[0, "year"] = 1999
    table.loc[1, "sector"] = "paper"
    table.loc[2, "cap_mt"] = -1.0
    assert year.tolist() == [2030, 2031, 2032] and sector[1] == "cement" and columns["cap_mt"][2] == 3.0
    steps = table_of_arrays({"step": np.array(["T1", "T2"], dtype=object), "abatement_mt": np.array([0.5, 0.0])})
    assert steps["step"].dtype == object and steps["step"].tolist() == ["T1", "T2"]
    mixed = {"year": pd.Series([2030, 2031], index=[5, 6]), "value": [1.0, 2.0]}
    assert table_of_arrays(mixed).equals(pd.DataFrame(mixed))


def test_text_columns_for_the_checks_are_converted_once_and_never_stale():
    """A text column held in Arrow is converted to objects once for all the tables over the same
    Arrow data (a study's scenarios' copies of the kept keys), read-only; a cell set in a table
    gives its column new Arrow data, so that table's checks see the new text."""
    from model.families import checktools
    from model.results.tables import table_of_arrays

    phase = pd.array(["trading", "simulation", None], dtype="str")
    first = table_of_arrays({"phase": phase, "bau_mt": np.array([1.0, 2.0, 3.0])})
    second = table_of_arrays({"phase": phase, "bau_mt": np.array([4.0, 5.0, 6.0])})
    one, two = checktools._column(first, "phase", None), checktools._column(second, "phase", None)
    assert one is two and not one.flags.writeable
    assert one.tolist()[:2] == ["trading", "simulation"] and pd.isna(one[2])
    second.loc[0, "phase"] = "outside"
    assert checktools._column(second, "phase", None).tolist()[:2] == ["outside", "simulation"]
    assert checktools._column(first, "phase", None).tolist()[:2] == ["trading", "simulation"]
    with fastpath.validated():  # nothing kept: a new array each time
        assert checktools._column(first, "phase", None) is not checktools._column(first, "phase", None)


def test_pool_shares_are_the_same_whatever_the_order_of_the_members(monkeypatch):
    """facility_abatement sums pool members' shares in one pass per installation when the
    members come by installation (the steps table's order) and a year at a time otherwise: on
    the default registry at facility resolution both give each installation-year the same
    abatement (to rounding: the terms are added in another order), a large part of it from
    the pools (mutant x_facility_abatement__mutmut_130 left the potential shares out of the
    year-at-a-time sums)."""
    import dataclasses

    from model.results.tables import facility_abatement

    p, solution = _default_facility_solution(monkeypatch)
    members = p.pooled_members
    assert members is not None and members.facility.size > 1000
    backwards = slice(None, None, -1)  # by installation, last first: not sorted, so the year-at-a-time sums
    shuffled = dataclasses.replace(p, pooled_members=dataclasses.replace(
        members, facility=members.facility[backwards], pool_path=members.pool_path[backwards],
        potential_share=members.potential_share[backwards]))
    by_installation, by_year = facility_abatement(p, solution), facility_abatement(shuffled, solution)
    pooled = by_installation - facility_abatement(p, solution, with_pools=False)
    assert pooled.sum() > 100.0
    np.testing.assert_allclose(by_year, by_installation, rtol=1e-12, atol=1e-12)
