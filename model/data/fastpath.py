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
