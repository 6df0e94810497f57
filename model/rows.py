"""Building Pyomo constraint families in bulk from arrays (row, variable, coefficient).

A family's rows are computed with numpy and turned into one ``LinearExpression`` per
row from sorted slices, so the Python work grows with rows, never with the nonzeros'
per-element rules.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

Terms = tuple[np.ndarray, np.ndarray, np.ndarray]  # (row position, VarData, coefficient)


def var_array(var: pyo.Var) -> np.ndarray:
    """The VarData of an indexed Var as an object array, in its index order."""
    return np.fromiter(var.values(), dtype=object, count=len(var))


def positions(index: pd.Index, keys: pd.Index | np.ndarray) -> np.ndarray:
    """Position of each key in ``index`` (all keys must be present)."""
    found = index.get_indexer(keys)
    if (found < 0).any():
        raise ValueError("internal: key not found in index")
    return found


def add_linear_rows(
    m: pyo.ConcreteModel,
    name: str,
    index: pyo.Set | Sequence,
    n_rows: int,
    terms: list[Terms],
    constant: np.ndarray,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    doc: str = "",
) -> pyo.Constraint:
    """Add the indexed constraint ``name``: lower <= constant + sum(coef * var) <= upper.

    ``terms`` hold, for every nonzero, the row's position in ``index``; rows are built
    from sorted slices, so the Python work is one expression per row.
    """
    expressions = linear_expressions(n_rows, concat_terms(terms), constant)
    keys = list(index)
    constraint = pyo.Constraint(index, doc=doc)
    m.add_component(name, constraint)
    for i, (key, body) in enumerate(zip(keys, expressions)):
        lo = None if lower is None else float(lower[i])
        up = None if upper is None else float(upper[i])
        constraint[key] = (lo, body, up)
    return constraint


def concat_terms(terms: list[Terms]) -> Terms:
    if not terms:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=object), np.zeros(0)
    return (
        np.concatenate([t[0] for t in terms]).astype(int),
        np.concatenate([t[1] for t in terms]),
        np.concatenate([t[2] for t in terms]).astype(float),
    )


def linear_expressions(n_rows: int, terms: Terms, constant: np.ndarray) -> list[LinearExpression]:
    rows, variables, coefs = terms
    order = np.argsort(rows, kind="stable")
    rows, variables, coefs = rows[order], variables[order], coefs[order]
    bounds = np.searchsorted(rows, np.arange(n_rows + 1))
    return [
        LinearExpression(
            constant=float(constant[i]),
            linear_coefs=coefs[bounds[i]: bounds[i + 1]].tolist(),
            linear_vars=variables[bounds[i]: bounds[i + 1]].tolist(),
        )
        for i in range(n_rows)
    ]
