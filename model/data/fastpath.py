"""The switch of the studies' fast path, kept so that it can be compared with the validated path.

On (the default): an override re-checks only the checks that read the columns it set, and
what a scenario shares with its base (the sector-year grid, BAU paths, key arrays, the text
columns of the tables) is derived once and found again by the identity of the frozen
tables it came from. ``validated()`` switches this off in this process, for
``benchmarks/studies.py`` and the tests that show both paths give the same tables and refuse
the same bad overrides with the same messages.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

_on = [True]
_DERIVED: dict[str, list[tuple[tuple, Any]]] = {}  # by kind: (key, derived) of the last few datasets
KEPT = 4  # of each kind: a study's base and its scenarios' few structures


def enabled() -> bool:
    """Whether the fast path is on in this process."""
    return _on[0]


@contextlib.contextmanager
def validated() -> Iterator[None]:
    """Within the block: every override re-runs every check of the tables it changed, and
    nothing derived from one dataset is kept for the next (the path studies took before)."""
    before = _on[0]
    _on[0] = False
    try:
        yield
    finally:
        _on[0] = before


def cached(kind: str, key: tuple, make: Callable[[], Any]) -> Any:
    """``make()``, kept for the next call whose ``key`` is the same: tables, indexes and arrays
    compared by identity (a dataset's tables are frozen, and an override copies the table it
    changes), anything else by value. A study's scenarios share most tables with their base.
    What ``make`` returns is shared: it must not be changed in place."""
    if not _on[0]:
        return make()
    cache = _DERIVED.setdefault(kind, [])
    for cached_key, derived in cache:
        if len(cached_key) == len(key) and all(
                a is b if isinstance(a, (pd.DataFrame, pd.Series, pd.Index, np.ndarray)) else a == b
                for a, b in zip(cached_key, key)):
            return derived
    derived = make()
    cache.append((key, derived))
    del cache[:-KEPT]
    return derived


_COLUMN_NAMES: dict[tuple, pd.Index] = {}
KEPT_COLUMN_NAMES = 64  # a study's few tables' column lists (stage 1 and 2, sector and facility resolution)


def column_names(names: tuple) -> pd.Index:
    """The columns Index of a table of ``names``: on the fast path the same (immutable) Index for
    the tables of a study's scenarios, so that pandas builds its lookup of a name once, not for
    every scenario's table at the first column read (in pandas 3 a new text Index and its
    hash table cost more than the table's arithmetic). One given a name since is not kept."""
    kept = _COLUMN_NAMES.get(names) if _on[0] else None
    if kept is not None and kept.name is None:
        return kept
    index = pd.Index(list(names))
    if _on[0]:
        if len(_COLUMN_NAMES) >= KEPT_COLUMN_NAMES:
            _COLUMN_NAMES.clear()
        _COLUMN_NAMES[names] = index
    return index


_BY_VALUE: dict[str, list[tuple[tuple[np.ndarray, ...], Any]]] = {}  # by kind: (copies of the arrays, derived)
_SHAPES: dict[str, tuple] = {}  # by kind: the dtypes and shapes of the last call's arrays


def kept_for_equal(kind: str, arrays: tuple[np.ndarray, ...], make: Callable[[], Any]) -> Any:
    """``make()``, kept for the next call of ``kind`` whose ``arrays`` hold the same values
    (dtypes, shapes and elements): what the checks derive from the output tables' keys
    (joins, codes), which a study's scenarios share although each table holds its own copy
    of them. A hit costs a comparison of the arrays (their text is the same objects: a
    pointer each) instead of hashing every name; a miss is what ``make()`` gives. The arrays
    are kept as copies (a caller may change its tables afterwards), and only from the second
    call with arrays of the same shapes and dtypes (a study's next scenario): a single solve
    keeps nothing (at 200,000 installations the copies would be hundreds of MB). What
    ``make`` returns is shared and must not be changed in place."""
    if not _on[0]:
        return make()
    cache = _BY_VALUE.setdefault(kind, [])
    for kept, derived in cache:
        if len(kept) == len(arrays) and all(_equal(a, b) for a, b in zip(kept, arrays)):
            return derived
    derived = make()
    signature = tuple((a.dtype.str, a.shape) for a in arrays)
    if _SHAPES.get(kind) == signature:
        cache.append((tuple(np.array(a, copy=True) for a in arrays), derived))
        del cache[:-KEPT]
    _SHAPES[kind] = signature
    return derived


_REGISTERED: list[list | dict] = []  # the other modules' caches of what a study's next scenario reuses


def register(cache: Any) -> Any:
    """``cache`` (a module's list or dict of what it keeps for a study's next scenario),
    registered (once) so that ``forget`` empties it too; returns it (``_KEPT = register([])``,
    or, in a family file, which imports this module only inside its functions, when it first
    keeps something)."""
    if not any(cache is registered for registered in _REGISTERED):
        _REGISTERED.append(cache)
    return cache


def forget() -> None:
    """Drop everything kept for a next scenario: this module's caches and the registered ones.
    A single solve has no next scenario: the command line calls this once solved, so that
    writing the tables does not also hold the parameters (the facility grid, the abatement
    columns: about 280 MB at 200,000 installations, which the write then reuses instead of
    taking more from the system)."""
    _DERIVED.clear()
    _BY_VALUE.clear()
    _SHAPES.clear()
    for cache in _REGISTERED:
        cache.clear()


def column_array(frame: pd.DataFrame, column: str) -> Any:
    """The array holding ``frame[column]`` as the table holds it (numpy, or pandas' extension
    array), without making a Series (a study's checks and kept formulation read a column
    many times a scenario; a Series costs more than their arithmetic). A name given twice:
    the DataFrame of both, as ``frame[column]``."""
    position = frame.columns.get_loc(column)
    # pandas' private column read (pandas 2 and 3); where it is gone, the public route
    by_position = getattr(frame, "_get_column_array", None)
    if not isinstance(position, int):
        return frame[column]
    values = frame[column].array if by_position is None else by_position(position)
    return values.to_numpy() if isinstance(values, pd.arrays.NumpyExtensionArray) else values


def float_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column].to_numpy(dtype=float, na_value=np.nan)`` from the array the table holds
    (no Series, no read of the label from the text columns Index: in pandas 3 that costs more than
    the arithmetic a study does on its small tables per scenario); a float column is the table's
    own array, not a copy (read-only use)."""
    values = column_array(frame, column)
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(float, copy=False)
    if isinstance(values, pd.api.extensions.ExtensionArray) and values.dtype.kind in "biuf":  # Int64, Float64
        return values.to_numpy(dtype=float, na_value=np.nan)
    return frame[column].to_numpy(dtype=float, na_value=np.nan)


def same_array(kept: np.ndarray, given: np.ndarray) -> bool:
    """Whether two numpy arrays hold the same values: dtype, shape and elements (NaN equal to
    NaN; object arrays holding the same objects found equal by their pointers)."""
    return kept is given or _equal(kept, given)


def _equal(kept: np.ndarray, given: np.ndarray) -> bool:
    if kept.dtype != given.dtype or kept.shape != given.shape:
        return False
    if kept.dtype.kind == "f":
        return bool(np.array_equal(kept, given, equal_nan=True))
    if kept.dtype.kind == "O":  # None == None holds; a NaN among text never equals: a miss, made afresh
        if not kept.size:
            return True
        if (kept.flags.c_contiguous and given.flags.c_contiguous
                and np.array_equal(_addresses(kept), _addresses(given))):
            return True  # the same objects (a table's copy of kept keys): equal without comparing text
        return bool((kept == given).all())
    return bool(np.array_equal(kept, given))


def _addresses(values: np.ndarray) -> np.ndarray:
    """The object pointers a C-contiguous object array holds, as integers: a view of its memory,
    to be used while ``values`` lives (here: within one comparison)."""
    buffer = (ctypes.c_char * values.nbytes).from_address(values.ctypes.data)
    return np.frombuffer(memoryview(buffer).cast("B"), dtype=np.uintp)
