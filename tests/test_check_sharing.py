"""What the checks share within a run and keep for a study's scenarios (``families.checktools``):
hand-computed joins and lookups, and a run's column memo that a new table never reads stale."""

import numpy as np
import pandas as pd

from model.families import checktools
from model.families.checktools import by_name, previous_year_rows, rows_of, values


def test_previous_year_rows_finds_the_same_sector_a_year_before_among_the_chosen_rows():
    """Rows (a, 2030) (a, 2031) (b, 2030) (b, 2032) (a, 2032): (a, 2031)'s year before is row 0,
    (a, 2032)'s row 1; (b, 2032) has no (b, 2031): -1. Without row 0 chosen, the positions are
    among rows 1-4: (a, 2031) has none (-1) and (a, 2032) finds (a, 2031) at position 0."""
    table = pd.DataFrame({"sector": ["a", "a", "b", "b", "a"], "year": [2030, 2031, 2030, 2032, 2032]})
    every = np.ones(5, dtype=bool)
    assert previous_year_rows(table, "sector", every).tolist() == [-1, 0, -1, -1, 1]
    assert previous_year_rows(table, "sector", np.array([False, True, True, True, True])).tolist() == [-1, -1, -1, 0]
    coded = table.astype({"sector": "category"})  # a categorical joins on its codes: the same rows
    assert previous_year_rows(coded, "sector", every).tolist() == [-1, 0, -1, -1, 1]


def test_by_name_looks_up_each_rows_name_with_a_default_for_a_missing_name_or_field():
    """x has f = 2.5; y has no f; z is not among the limits; a missing name: the default 7."""
    table = pd.DataFrame({"sector": ["x", "y", None, "z", "x"]})
    limits = {"x": {"f": 2.5}, "y": {"g": 1.0}}
    assert by_name(table, "sector", limits, "f", 7.0).tolist() == [2.5, 7.0, 7.0, 7.0, 2.5]


def test_rows_of_among_chosen_rows_is_the_join_on_those_rows_alone():
    """Table rows (i1, 2030) (i2, 2030) (i1, 2031); chosen rows 1 and 2 (positions 0 and 1 among
    them). Keys (i1, 2031) -> 1, (i2, 2030) -> 0, (i1, 2030) -> -1 (row 0 is not chosen)."""
    table = pd.DataFrame({"facility_id": ["i1", "i2", "i1"], "year": [2030, 2030, 2031]})
    keys = pd.DataFrame({"facility_id": ["i1", "i2", "i1"], "year": [2031, 2030, 2030]})
    chosen = np.array([1, 2])
    assert rows_of(table, keys, "facility_id", table_rows=chosen).tolist() == [1, 0, -1]
    assert rows_of(table.iloc[chosen], keys, "facility_id").tolist() == [1, 0, -1]


def test_a_runs_column_memo_gives_each_table_its_own_values_even_when_ids_are_reused():
    """Within a run a column is read once (the same read-only array again); a table made after
    another was dropped (its id may be reused) reads its own values: [1, 2], then [k, k + 1] for
    the k-th new table."""
    checktools.sums.by_year = {}
    try:
        first = pd.DataFrame({"x": [1.0, 2.0]})
        array = values(first, "x", float)
        assert values(first, "x", float) is array and not array.flags.writeable
        assert array.tolist() == [1.0, 2.0]
        for k in range(20):  # tables made and dropped: ids are reused, the memo keeps its tables alive
            assert values(pd.DataFrame({"x": [k, k + 1.0]}), "x", float).tolist() == [k, k + 1.0]
    finally:
        checktools.sums.by_year = None
    assert values(first, "x", float).tolist() == [1.0, 2.0]  # outside a run: read each time


def test_rows_named_match_the_text_comparison():
    """The rows in a phase, found on a categorical's codes (its categories in an order of
    their own) or on object text: rows 1 and 3 simulate; a phase no row has: none."""
    import numpy as np
    import pandas as pd

    from model.families.checktools import rows_named

    phases = ["trading", "simulation", "outside", "simulation", None]
    for column in (pd.Categorical(phases, categories=["trading", "outside", "simulation"]),
                   np.array(phases, dtype=object)):
        table = pd.DataFrame({"phase": column})
        assert rows_named(table, "phase", "simulation").tolist() == [1, 3]
        assert rows_named(table, "phase", "banked").tolist() == []


def test_a_runs_name_codes_are_made_once_read_only_and_never_stale_for_a_reused_id():
    """Within a run a text column's (names, codes) are made once (the very same pair again), the
    codes read-only; tables made and dropped (ids reused) each get their own codes; outside a
    run they are made each time (a new, writeable array)."""
    checktools.sums.by_year = {}
    try:
        first = pd.DataFrame({"sector": ["steel", "power", "steel", None]})
        pair = checktools.name_codes(first, "sector")
        assert checktools.name_codes(first, "sector") is pair
        assert pair[0].tolist() == ["steel", "power"] and pair[1].tolist() == [0, 1, 0, -1]
        assert not pair[1].flags.writeable
        for k in range(20):  # ids are reused: the memo keeps its tables alive and compares them
            names, codes = checktools.name_codes(pd.DataFrame({"sector": [f"s{k}", "x", "x"]}), "sector")
            assert names.tolist() == [f"s{k}", "x"] and codes.tolist() == [0, 1, 1]
    finally:
        checktools.sums.by_year = None
    outside = checktools.name_codes(first, "sector")
    assert outside[1] is not checktools.name_codes(first, "sector")[1] and outside[1].flags.writeable


def test_a_runs_column_memo_keeps_each_type_asked_apart():
    """A column read as asked (float) and as it is (int64) within one run: two arrays, each of its
    own type, each read again as the same object."""
    checktools.sums.by_year = {}
    try:
        table = pd.DataFrame({"price": [40, 60]})
        as_float, as_is = values(table, "price", float), values(table, "price")
        assert as_float.dtype == np.float64 and as_is.dtype == np.int64
        assert values(table, "price", float) is as_float and values(table, "price") is as_is
    finally:
        checktools.sums.by_year = None


def test_by_year_sums_the_phases_sectors_by_year_once_per_run_and_per_column():
    """Caps of trading sectors by year over 2025-2027: power 10 and 11 (2025, 2026), steel 5 in
    2026 (NaN in 2025 counts 0), cement 7 in 2025 outside trading: [10, 16, 0] (2027 has no row).
    Within a run the sum is made once; another column or another phase set is its own sum."""
    table = pd.DataFrame({"sector": ["power", "power", "steel", "steel", "cement"],
                          "year": [2025, 2026, 2025, 2026, 2025], "phase": ["trading"] * 4 + ["simulation"],
                          "cap_mt": [10.0, 11.0, np.nan, 5.0, 7.0], "emissions_mt": [1.0, 2.0, 3.0, 4.0, 5.0]})
    years = pd.Series([2025, 2026, 2027])
    assert checktools.by_year(table, ("trading",), "cap_mt", years).tolist() == [10.0, 16.0, 0.0]
    checktools.sums.by_year = {}
    try:
        caps = checktools.by_year(table, ("trading",), "cap_mt", years)
        assert caps.tolist() == [10.0, 16.0, 0.0] and checktools.by_year(table, ("trading",), "cap_mt", years) is caps
        assert checktools.by_year(table, ("trading",), "emissions_mt", years).tolist() == [4.0, 6.0, 0.0]
        assert checktools.by_year(table, ("trading", "simulation"), "cap_mt", years).tolist() == [17.0, 16.0, 0.0]
        assert checktools.by_year(table, ("trading",), "cap_mt", pd.Series([2025, 2026])).tolist() == [10.0, 16.0]
    finally:
        checktools.sums.by_year = None


def test_shared_makes_once_per_run_and_each_time_outside_one():
    """``shared(key, make)``: within a run ``make`` is called once per key (the first result again),
    another key makes its own; outside a run each call makes anew."""
    calls = []

    def make():
        calls.append(1)
        return [len(calls)]

    assert checktools.shared(("k",), make) == [1] and checktools.shared(("k",), make) == [2]
    checktools.sums.by_year = {}
    try:
        first = checktools.shared(("k",), make)
        assert checktools.shared(("k",), make) is first and first == [3]
        assert checktools.shared(("other",), make) == [4]
    finally:
        checktools.sums.by_year = None


def test_worst_is_the_largest_positive_violation_and_nan_is_no_violation():
    """Violations [-1, 0.5, NaN, 0.25]: 0.5; none positive: 0; none at all: 0."""
    assert checktools.worst([-1.0, 0.5, np.nan, 0.25]) == 0.5
    assert checktools.worst([-1.0, -2.0]) == 0.0 and checktools.worst([]) == 0.0
    assert checktools.joined().size == 0 and checktools.joined([1.0, 2.0], 3.0, np.array([[4.0]])).tolist() == [
        1.0, 2.0, 3.0, 4.0]


def test_market_supply_is_caps_plus_declared_columns_plus_borrowing_less_its_repayment():
    """Trading caps [100, 90], a declared supply column [5, NaN] and a listed one [1, 2]; 3 Mt
    borrowed in 2025 from 2026's allowances: 2025 gets 100 + 5 + 1 + 3 = 109, 2026 90 + 0 + 2 - 3 = 89.
    The bank brought in: the initial 7 Mt, then 2025's bank; no initial bank given (None): 0."""
    years = pd.DataFrame({"year": [2025, 2026], "extra_mt": [5.0, np.nan], "listed_mt": [1.0, 2.0],
                          "borrowed_mt": [3.0, 0.0], "bank_mt": [4.0, 0.0]})
    sector_years = pd.DataFrame({"sector": ["power", "power"], "year": [2025, 2026], "phase": ["trading", "trading"],
                                 "cap_mt": [100.0, 90.0]})
    market = {"declared_columns": {checktools.MARKET_SUPPLY: ("extra_mt", "absent_mt")},
              "supply_columns": ("listed_mt",)}
    assert checktools.market_supply_mt(years, sector_years, market).tolist() == [109.0, 89.0]
    assert checktools.market_supply_mt(years.drop(columns="borrowed_mt"), sector_years, {}).tolist() == [100.0, 90.0]
    assert checktools.brought_in_mt(years, {"initial_bank_mt": 7.0}).tolist() == [7.0, 4.0]
    assert checktools.brought_in_mt(years, {"initial_bank_mt": None}).tolist() == [0.0, 4.0]
    assert checktools.brought_in_mt(years, {}).tolist() == [0.0, 4.0]


def test_rows_of_joins_categoricals_among_chosen_rows_and_refuses_a_repeated_key():
    """A categorical table (codes, categories in an order of their own) joined among its rows 1 and
    2: (i1, 2031) -> 1, (i2, 2030) -> 0, (i3, 2030) -> -1 (not in the table), a blank name -> -1;
    a table holding (i1, 2030) twice is refused, as by a join of pandas."""
    import pytest

    table = pd.DataFrame({"facility_id": pd.Categorical(["i1", "i2", "i1"], categories=["i2", "i1"]),
                          "year": [2030, 2030, 2031]})
    keys = pd.DataFrame({"facility_id": ["i1", "i2", "i3", None], "year": [2031, 2030, 2030, 2030]})
    assert rows_of(table, keys, "facility_id", table_rows=np.array([1, 2])).tolist() == [1, 0, -1, -1]
    assert rows_of(table, keys, "facility_id").tolist() == [2, 1, -1, -1]
    repeated = pd.DataFrame({"facility_id": ["i1", "i1"], "year": [2030, 2030]})
    with pytest.raises(pd.errors.InvalidIndexError):
        rows_of(repeated, keys, "facility_id")
