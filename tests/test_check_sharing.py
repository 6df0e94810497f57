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
