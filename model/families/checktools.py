"""What the checks share: the tolerances and the sums and joins they make of the output tables.

The checks of the policy-wide kind (``model/results/checks.py``) and each family's own check (in its
file of ``model/families/``) read the tables through these helpers. This module imports no
family and no check, so both can import it. The columns rules declare (allowances they add
to the market, allowances not counted under the national target, removals counted as sinks)
reach the checks in ``market`` (``declared_columns``): ``checks.run_checks`` gathers them from
the listed families.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from ..data.fields import text_codes
from ..parameters.phases import TRADING

TOLERANCE_MT = 1e-5  # quantities, Mt
TOLERANCE_PRICE = 1e-5  # relative, on prices and costs

# market["declared_columns"][kind]: the years-table columns of the families' ValueColumns of that kind
MARKET_SUPPLY, BEYOND_NATIONAL_CAP, NATIONAL_SINK = "market_supply", "beyond_national_cap", "national_sink"
CHANGES_ISSUED = "changes_issued"

sums = threading.local()  # by_year: {(tables, phases, column): sums} while checks.run_checks runs; also
# shared: {key: result} of what several checks derive from one solution's tables (``shared``)


def declared_columns(market: dict[str, Any], kind: str) -> tuple[str, ...]:
    """The years-table columns the families declare of ``kind`` (run_checks puts them in ``market``)."""
    return tuple((market.get("declared_columns") or {}).get(kind, ()))


def worst(violations: Any) -> float:
    """The largest violation, 0 when none is positive (or there are none)."""
    values = np.asarray(violations, dtype=float)
    return float(max(0.0, np.nanmax(values))) if values.size else 0.0


def joined(*parts: Any) -> np.ndarray:
    """The violations of several parts (arrays, Series or numbers) as one array: what
    ``[*a, *b]`` holds, without a Python number per element."""
    return np.concatenate([np.asarray(part, dtype=float).ravel() for part in parts]) if parts else np.zeros(0)


def by_year(sector_years: pd.DataFrame, phases: tuple[str, ...], column: str,
            years: pd.Series | np.ndarray) -> np.ndarray:
    """Sum of ``column`` over the sectors in ``phases``, for each of ``years`` (sorted: the years
    table's column, as a Series or its array, ``values(years, "year")``); made once per
    ``run_checks`` (the fast path) and shared by the checks that need it."""
    shared = getattr(sums, "by_year", None)
    year = np.asarray(years)
    key = (id(sector_years), year.tobytes(), phases, column)  # sector_years outlives the run
    if shared is not None and key in shared:
        return shared[key]
    position = np.searchsorted(year, values(sector_years, "year"))
    phase = values(sector_years, "phase")
    selected = np.zeros(len(phase), dtype=bool)
    for name in phases:
        selected |= phase == name
    summed = np.where(selected, np.nan_to_num(values(sector_years, column, float)), 0.0)
    result = np.bincount(position, weights=summed, minlength=len(years))
    if shared is not None:
        shared[key] = result
    return result


def values(table: pd.DataFrame, name: str, dtype: Any = None) -> np.ndarray:
    """``table[name].to_numpy(dtype)``, made once per ``run_checks`` (the fast path) for the checks
    that read the same column (a column of a frame costs more to reach than to read): read-only."""
    memo = getattr(sums, "by_year", None)
    if memo is None:
        return table[name].to_numpy(dtype=dtype)
    key = ("values", id(table), name, dtype)
    kept = memo.get(key)
    if kept is None or kept[0] is not table:  # the table is kept with its arrays: its id is not reused
        array = _column(table, name, dtype)
        if array.flags.writeable:
            array = array.view()
            array.flags.writeable = False
        kept = memo[key] = (table, array)
    return kept[1]


def _column(table: pd.DataFrame, name: str, dtype: Any) -> np.ndarray:
    """``table[name].to_numpy(dtype)``; a column held as a numpy array is read by its position
    (a Series per column, and its label read from the str columns index, cost more than the
    checks' arithmetic on a study's small tables)."""
    from ..data.fastpath import column_array  # not at the top: a family file imports only light modules

    column = column_array(table, name)
    if isinstance(column, np.ndarray):
        return np.asarray(column, dtype=dtype)
    if dtype is None and isinstance(column, pd.api.extensions.ExtensionArray) and isinstance(
            column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return _text_objects(column)
    return table[name].to_numpy(dtype=dtype)


class _Same:
    """A cache key that is equal only to a key of the very same object (``fastpath.cached``
    compares other keys by value)."""

    __slots__ = ("value",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def _text_objects(column: Any) -> np.ndarray:
    """A text column held in Arrow (pandas 3's str) as the object array ``to_numpy()`` gives
    (NaN: missing), read-only; kept for the Arrow data it came from: a study's tables hold
    copies of the kept key columns (``results.tables.table_of_arrays``), each over the same
    immutable Arrow array, so the sector, phase and basis of its sector-year table are
    converted once per study, not by every scenario's checks (about 100 us each). Invalidated
    by nothing but other Arrow data: Arrow arrays never change (setting a cell of the table
    gives its column a new one)."""
    from ..data import fastpath  # here, not at the top: a family file imports only light modules

    def make() -> np.ndarray:
        objects = column.to_numpy()
        objects.flags.writeable = False
        return objects

    return fastpath.cached("text objects", (_Same(column.__arrow_array__()),), make)


def shared(key: tuple, make: Any) -> Any:
    """``make()``, made once per ``run_checks`` (the fast path) for the checks that ask with the same
    ``key`` (the tables' ids and what else it depends on); outside a run, made each time. What
    ``make`` returns is shared by the checks: not to be changed in place."""
    memo = getattr(sums, "by_year", None)
    if memo is None:
        return make()
    key = ("shared", *key)
    if key not in memo:
        memo[key] = make()
    return memo[key]


def by_name(table: pd.DataFrame, name: str, limits: dict[Any, Any], field: str, default: float) -> np.ndarray:
    """For each row of ``table``, ``limits[its name][field]`` (its text column ``name``; ``default``
    for a name not in ``limits``, or without that field, or a missing name): a lookup on the few
    distinct names, not on every row's."""
    names, codes = name_codes(table, name)
    of_name = np.array([limits.get(each, {}).get(field, default) for each in names.tolist()] + [default],
                       dtype=float)
    return of_name[codes]  # a code -1 (missing) picks the default after the names


def name_codes(table: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A text column of ``table`` as (distinct names, code by row; -1 missing), made once per
    ``run_checks`` (the fast path) for the checks that look up the same column."""
    memo = getattr(sums, "by_year", None)
    if memo is None:
        return text_codes(table[name])
    key = ("name_codes", id(table), name)
    kept = memo.get(key)
    if kept is None or kept[0] is not table:  # the table is kept with its codes: its id is not reused
        names, codes = text_codes(table[name])
        codes = codes.view()
        codes.flags.writeable = False
        kept = memo[key] = (table, (names, codes))
    return kept[1]


def previous_year_rows(table: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    """For each of the ``rows`` (a mask) of ``table``, the position among them of the row with the
    same ``name`` and the year before (-1: none), joined on one integer key; kept for a study's
    scenarios with the same keys."""
    from ..data import fastpath  # here, not at the top: the families' imports are another's edit

    names, codes = name_codes(table, name)
    codes = codes[rows]
    year = values(table, "year").astype(np.int64, copy=False)[rows]
    arrays = (names, codes, year)
    return fastpath.kept_for_equal(f"previous_year_rows {name}", arrays,
                                   lambda: _rows_of(names, codes, year, names, codes, year - 1))


def row_of_step(sector_years: pd.DataFrame, steps: pd.DataFrame) -> np.ndarray:
    """For each step row, the position of its (sector, year) in ``sector_years`` (-1: none)."""
    return rows_of(sector_years, steps, "sector")


def rows_of(table: pd.DataFrame, keys: pd.DataFrame, name: str, table_rows: np.ndarray | None = None) -> np.ndarray:
    """For each row of ``keys``, the position in ``table`` (among its ``table_rows``, positions,
    when given) of the row with the same ``name`` and year (-1: none), joined on one integer key
    rather than on strings; made once for the scenarios of a study whose tables have the same
    keys (read-only). A categorical column is joined on its codes (its few names matched once),
    not on a name per row."""
    from ..data import fastpath  # here, not at the top: the families' imports are another's edit

    table_names, table_codes = _name_keys(table, name)
    table_years = _years_of(table)
    if table_rows is not None:  # the chosen rows' keys only, not a copy of the table's columns
        table_years = table_years[table_rows]
        if table_codes is _BY_ROW:
            table_names = table_names[table_rows]
        else:
            table_codes = table_codes[table_rows]
    arrays = (table_names, table_codes, table_years, *_name_keys(keys, name), _years_of(keys))

    def make() -> np.ndarray:
        table_names, table_codes, table_years, key_names, key_codes, key_years = arrays
        return _rows_of(*_coded(table_names, table_codes), table_years, *_coded(key_names, key_codes), key_years)

    return fastpath.kept_for_equal(f"rows_of {name}", arrays, make)


def _name_keys(table: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A text column as compared for ``rows_of``'s kept joins: a categorical's (categories, codes),
    other text as (its names by row, no codes): compared, a study's scenarios' names are the same
    objects, so they are hashed (``pd.factorize``) only when the join is made. Read from the array
    the table holds (an object array as it is, Arrow text as the objects kept for its data): no
    Series, no conversion per scenario."""
    from ..data.fastpath import column_array  # not at the top: a family file imports only light modules

    held = column_array(table, name)
    if isinstance(held, np.ndarray) and held.dtype == object:
        return held, _BY_ROW
    if (isinstance(held, pd.api.extensions.ExtensionArray) and isinstance(held.dtype, pd.StringDtype)
            and held.dtype.storage == "pyarrow"):
        return _text_objects(held), _BY_ROW
    column = table[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return text_codes(column)
    return column.to_numpy(dtype=object), _BY_ROW


def _years_of(table: pd.DataFrame) -> np.ndarray:
    """``table["year"].to_numpy(np.int64)``, from the array the table holds when it is numpy's."""
    from ..data.fastpath import column_array  # not at the top: a family file imports only light modules

    held = column_array(table, "year")
    if isinstance(held, np.ndarray) and held.dtype.kind in "iu":
        return held.astype(np.int64, copy=False)
    return table["year"].to_numpy(np.int64)


_BY_ROW = np.full(1, -2, dtype=np.int64)  # the codes of ``_name_keys`` for names given by row


def _coded(names: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_name_keys``' pair as (names, code by row), as ``_name_codes`` gives."""
    if codes is not _BY_ROW:
        return names, codes
    by_row, distinct = pd.factorize(names)
    return np.asarray(distinct, dtype=object), by_row


LOOKUP_CELLS = 50_000_000  # a dense (name x year) table of rows up to this size, else a hash join


def _rows_of(table_names: np.ndarray, table_codes: np.ndarray, table_years: np.ndarray, key_names: np.ndarray,
             key_codes: np.ndarray, key_years: np.ndarray) -> np.ndarray:
    code = pd.factorize(np.concatenate([table_names, key_names]))[0].astype(np.int64) + 1  # 0: a blank name
    table_code = np.append(code[:table_names.size], 0)[table_codes]  # a code -1 (missing) picks the 0 after
    key_code = np.append(code[table_names.size:], 0)[key_codes]  # int64: a new array, made the key below
    all_years = np.concatenate([table_years, key_years])
    first = int(all_years.min()) if all_years.size else 0
    span = int(all_years.max()) - first + 1 if all_years.size else 1
    table_key = table_code * span + (table_years - first)
    key = key_code  # the key's (name, year) as one integer, in place: no temporaries as long as the keys
    key *= span
    key += key_years
    key -= first
    cells = (int(code.max(initial=0)) + 1) * span
    rows: np.ndarray | None = None
    if cells <= LOOKUP_CELLS:  # (name, year) -> row in a dense table
        lookup: np.ndarray = np.full(cells, -1, dtype=np.int32 if table_key.size < 2**31 else np.int64)
        lookup[table_key] = np.arange(table_key.size, dtype=lookup.dtype)
        if np.count_nonzero(lookup >= 0) == table_key.size:  # each (name, year) once
            rows = lookup[key].astype(np.intp)
        del lookup
    if rows is None:  # a repeated (name, year) in the table is refused, as by a join of pandas
        rows = pd.Index(table_key).get_indexer(key)
    rows.flags.writeable = False
    return rows


def market_supply_mt(years: pd.DataFrame, sector_years: pd.DataFrame, market: dict[str, Any]) -> np.ndarray:
    """Allowances the trading sectors can surrender or bank each year, Mt: their caps plus
    what any rule adds to the market (the families' ``ValueColumn(market_supply=True)`` and
    ``market["supply_columns"]``), without the bank."""
    supply = by_year(sector_years, (TRADING,), "cap_mt", values(years, "year"))
    for column in (*declared_columns(market, MARKET_SUPPLY), *market.get("supply_columns", ())):
        if column in years:
            supply = supply + np.nan_to_num(values(years, column, float))
    borrowed = borrowed_mt(years)  # borrowed from next year's allowances, repaid from them
    return supply + borrowed - np.concatenate([[0.0], borrowed[:-1]])


def borrowed_mt(years: pd.DataFrame) -> np.ndarray:
    """Allowances borrowed from the next year's, Mt by year (0 without borrowing)."""
    return (np.nan_to_num(values(years, "borrowed_mt", float)) if "borrowed_mt" in years
            else np.zeros(len(years)))


def brought_in_mt(years: pd.DataFrame, market: dict[str, Any]) -> np.ndarray:
    """The bank each year starts with, Mt: the initial bank in the first year, else last year's."""
    bank = values(years, "bank_mt", float)
    return np.concatenate([[market.get("initial_bank_mt", 0.0) or 0.0], bank[:-1]])


def rows_named(table: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """The positions of ``table``'s rows whose ``column`` is ``name`` (a phase of the table by
    installation, say), compared on the column's codes: its few names matched once, not a
    text comparison (and a Series) per row."""
    names, codes = text_codes(table[column])
    position = np.flatnonzero(names == name)  # the names are distinct: one position, or none
    return np.flatnonzero(codes == position[0]) if position.size else np.zeros(0, dtype=np.intp)
