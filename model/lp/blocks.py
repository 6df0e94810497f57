"""The LP as arrays: variable and row blocks that the formulation computes with numpy.

A ``RowBlock`` is one constraint family (``national_target``, ``market_balance``, ...):
its keys, its nonzeros as (row position, variable block, position in that block,
coefficient), a constant and bounds. A ``VarBlock`` is one variable family with its
bounds. The same blocks are rendered two ways:

- into a Pyomo model (``add_variables``, ``add_rows``): one ``LinearExpression`` per row,
  built from sorted slices, so the Python work grows with rows, not with nonzeros;
- into a HiGHS LP (``to_highs``), for re-solving many scenarios of one structure without
  rebuilding anything (``model.solving.resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from ..lazy import lazy_module

if TYPE_CHECKING:
    import highspy
    import pyomo.environ as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression
else:
    highspy = lazy_module("highspy")
    pyo = lazy_module("pyomo.environ")  # only the Pyomo rendering needs it


class Term(NamedTuple):
    """Nonzeros of one variable block in one row block."""

    var: str  # name of the VarBlock
    rows: np.ndarray  # row position within the RowBlock
    positions: np.ndarray  # position within the VarBlock
    coefs: np.ndarray


@dataclass
class VarBlock:
    """One variable family: keys in order and bounds (equal bounds fix a value)."""

    name: str
    keys: Sequence  # a list or a pandas Index (turned into a list only for Pyomo)
    lower: np.ndarray
    upper: np.ndarray
    doc: str = ""
    integer: bool = False  # whole numbers (a rule's regime): solved as a MIP, then the LP with them fixed


@dataclass
class RowBlock:
    """One constraint family: lower <= constant + sum(coef x var) <= upper, row by row."""

    name: str
    keys: Sequence  # a list or a pandas Index (turned into a list only for Pyomo)
    terms: list[Term]
    constant: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        n = len(self.keys)
        self.constant = np.asarray(self.constant, dtype=float).reshape(n)
        self.lower = None if self.lower is None else np.asarray(self.lower, dtype=float).reshape(n)
        self.upper = None if self.upper is None else np.asarray(self.upper, dtype=float).reshape(n)


@dataclass
class Objective:
    """A linear objective: sum of coef x var over its terms (rows are ignored)."""

    name: str
    terms: list[Term]
    sense: str = "minimize"
    doc: str = ""
    constant: float = 0.0


@dataclass
class LinearProgram:
    """Variables, rows and objective of one LP, in the order they are rendered."""

    variables: dict[str, VarBlock] = field(default_factory=dict)
    rows: list[RowBlock] = field(default_factory=list)
    objective: Objective | None = None
    # variables freed in a second solve once the caps are set (families.base.MarketPass)
    market_passes: list[Any] = field(default_factory=list)

    def column_offsets(self) -> dict[str, int]:
        offsets, start = {}, 0
        for name, block in self.variables.items():
            offsets[name] = start
            start += len(block.keys)
        return offsets

    def structure(self) -> tuple:
        """What must match for two LPs to differ only in numbers (bounds, costs, coefficients)."""
        return (
            tuple((name, len(block.keys)) for name, block in self.variables.items()),
            tuple((block.name, len(block.keys), block.lower is None, block.upper is None,
                   tuple((t.var, t.rows.tobytes(), t.positions.tobytes()) for t in block.terms))
                  for block in self.rows),
        )


# -- rendering into Pyomo -------------------------------------------------------------------


def var_array(var: pyo.Var) -> np.ndarray:
    """The VarData of an indexed Var as an object array, in its index order."""
    return np.fromiter(var.values(), dtype=object, count=len(var))


def add_variables(m: pyo.ConcreteModel, block: VarBlock, index: pyo.Set | None = None) -> pyo.Var:
    """Add ``block`` as a Var over ``index`` (or its keys) with its bounds."""
    var = pyo.Var(index if index is not None else list(block.keys), doc=block.doc)
    m.add_component(block.name, var)
    for data, lower, upper in zip(var_array(var), block.lower.tolist(), block.upper.tolist()):
        if block.integer:
            data.domain = pyo.Integers
        data.setlb(None if lower == -np.inf else lower)
        data.setub(None if upper == np.inf else upper)
    return var


def add_rows(m: pyo.ConcreteModel, block: RowBlock, index: pyo.Set | None = None) -> pyo.Constraint:
    """Add ``block`` as an indexed Constraint named after it, one row per key."""
    expressions = linear_expressions(m, len(block.keys), block.terms, block.constant)
    keys = list(block.keys)
    constraint = pyo.Constraint(index if index is not None else keys, doc=block.doc)
    m.add_component(block.name, constraint)
    lower = [None] * len(block.keys) if block.lower is None else block.lower.tolist()
    upper = [None] * len(block.keys) if block.upper is None else block.upper.tolist()
    for key, body, lo, up in zip(keys, expressions, lower, upper):  # an infinite bound is none
        constraint[key] = (None if lo == -np.inf else lo, body, None if up == np.inf else up)
    return constraint


def linear_expressions(m: pyo.ConcreteModel, n_rows: int, terms: Sequence[Term],
                       constant: np.ndarray) -> list[LinearExpression]:
    """One LinearExpression per row from the blocks' terms (variables looked up on ``m``)."""
    from pyomo.core.expr.numeric_expr import LinearExpression

    rows, variables, coefs = _flatten_terms(m, terms)
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


def _flatten_terms(m: pyo.ConcreteModel, terms: Iterable[Term]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    rows, variables, coefs = [], [], []
    for term in terms:
        if term.var not in arrays:
            arrays[term.var] = var_array(m.find_component(term.var))
        rows.append(np.asarray(term.rows, dtype=int))
        variables.append(arrays[term.var][np.asarray(term.positions, dtype=int)])
        coefs.append(np.asarray(term.coefs, dtype=float))
    if not rows:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=object), np.zeros(0)
    return np.concatenate(rows), np.concatenate(variables), np.concatenate(coefs)


def add_objective(m: pyo.ConcreteModel, objective: Objective) -> pyo.Objective:
    (expression,) = linear_expressions(m, 1, [t._replace(rows=np.zeros(len(t.positions), dtype=int))
                                              for t in objective.terms], np.full(1, objective.constant))
    component = pyo.Objective(expr=expression, sense=pyo.maximize if objective.sense == "maximize" else pyo.minimize,
                              doc=objective.doc)
    m.add_component(objective.name, component)
    return component


def add_elastic_slack(m: pyo.ConcreteModel, name: str, rows: Mapping[Any, Any], doc: str = "",
                      more_keys: Sequence[Any] = ()) -> tuple[pyo.Var, Callable[[], None]]:
    """The elastic transform, one for the diagnosis and stage 2's explanation: each of
    ``rows`` (ConstraintData by key) may be missed by a nonnegative slack in the row's own
    unit, ``body - slack`` where it has an upper bound (a cap raised), ``body + slack``
    where it has only a lower bound (a floor lowered). Returns the slack Var ``m.<name>``,
    indexed by the rows' keys (and ``more_keys``, slack the caller puts elsewhere, e.g. on a
    variable's bound), and a function that puts the rows back and removes it."""
    keys = [*rows, *more_keys]
    slack = pyo.Var(keys, domain=pyo.NonNegativeReals, doc=doc)
    m.add_component(name, slack)
    bodies = {key: row.body for key, row in rows.items()}
    for key, row in rows.items():
        body = row.body - slack[key] if row.upper is not None else row.body + slack[key]
        row.set_value((row.lower, body, row.upper))

    def restore() -> None:
        for key, row in rows.items():
            row.set_value((row.lower, bodies[key], row.upper))
        m.del_component(name)

    return slack, restore


# -- rendering into HiGHS ------------------------------------------------------------------


@dataclass
class CscMatrix:
    """A sparse matrix in compressed columns, as HiGHS takes it (numpy only: scipy would cost
    a tenth of a second to import, and after Pyomo its import hook loads scipy.stats too)."""

    shape: tuple[int, int]
    indptr: np.ndarray  # column j's entries are indptr[j]:indptr[j + 1]
    indices: np.ndarray  # row of each entry, ascending within a column
    data: np.ndarray

    @classmethod
    def from_triplets(cls, rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                      shape: tuple[int, int]) -> CscMatrix:
        """Entries at (row, column), duplicates summed (as scipy's coo -> csc)."""
        n_rows, n_cols = shape
        key = cols.astype(np.int64) * max(n_rows, 1) + rows
        order = np.argsort(key, kind="stable")
        key, values = key[order], values[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(first)
        summed = np.add.reduceat(values, starts) if key.size else np.zeros(0)
        unique = key[starts]
        col_of = unique // max(n_rows, 1)
        indptr = np.zeros(n_cols + 1, dtype=np.int32)
        np.cumsum(np.bincount(col_of, minlength=n_cols), out=indptr[1:])
        return cls(shape, indptr, (unique % max(n_rows, 1)).astype(np.int32), summed.astype(float))

    def entry_columns(self) -> np.ndarray:
        """The column of each entry (int32, as HiGHS takes indexes), in the entries' order."""
        return np.repeat(np.arange(self.shape[1], dtype=np.int32), np.diff(self.indptr))

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.shape)
        dense[self.indices, self.entry_columns()] = self.data
        return dense


@dataclass
class HighsArrays:
    """The LP's numbers in HiGHS's column and row order."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: CscMatrix
    row_offsets: dict[str, int]
    offset: float = 0.0  # the objective's constant
    integer_columns: np.ndarray | None = None  # columns of integer blocks (None: an LP)


def highs_arrays(lp: LinearProgram) -> HighsArrays:
    """Columns are the variable blocks in order; rows the row blocks in order."""
    offsets = lp.column_offsets()
    n_cols = sum(len(b.keys) for b in lp.variables.values())
    col_cost = np.zeros(n_cols)
    sign = -1.0 if lp.objective is not None and lp.objective.sense == "maximize" else 1.0
    for term in (lp.objective.terms if lp.objective else []):
        np.add.at(col_cost, offsets[term.var] + term.positions, sign * term.coefs)
    col_lower = np.concatenate([b.lower for b in lp.variables.values()]) if n_cols else np.zeros(0)
    col_upper = np.concatenate([b.upper for b in lp.variables.values()]) if n_cols else np.zeros(0)
    integer = [offsets[name] + np.arange(len(b.keys)) for name, b in lp.variables.items() if b.integer]
    rows, cols, values, row_lower, row_upper, row_offsets = [], [], [], [], [], {}
    start = 0
    for block in lp.rows:
        row_offsets[block.name] = start
        n = len(block.keys)
        for term in block.terms:
            rows.append(start + term.rows)
            cols.append(offsets[term.var] + term.positions)
            values.append(term.coefs)
        lower = np.full(n, -np.inf) if block.lower is None else block.lower
        upper = np.full(n, np.inf) if block.upper is None else block.upper
        row_lower.append(lower - block.constant)
        row_upper.append(upper - block.constant)
        start += n
    matrix = CscMatrix.from_triplets(
        np.concatenate(rows) if rows else np.zeros(0, int), np.concatenate(cols) if cols else np.zeros(0, int),
        np.concatenate(values) if values else np.zeros(0), (start, n_cols))
    return HighsArrays(col_cost, col_lower, col_upper,
                       np.concatenate(row_lower) if row_lower else np.zeros(0),
                       np.concatenate(row_upper) if row_upper else np.zeros(0), matrix, row_offsets,
                       sign * lp.objective.constant if lp.objective is not None else 0.0,
                       np.concatenate(integer) if integer else None)


def pass_to_highs(highs: highspy.Highs, arrays: HighsArrays) -> highspy.HighsStatus:
    """Hand the arrays to ``highs`` as ``to_highs`` would (minimisation), through HiGHS's
    pointer API: the arrays are copied as they are, where setting a HighsLp's fields
    converted them element by element (about 1 ms for the default dataset's LP, per solve)."""
    matrix = arrays.matrix
    n_rows, n_cols = matrix.shape
    integrality = np.zeros(n_cols, dtype=np.int32)  # HighsVarType.kContinuous
    if arrays.integer_columns is not None and arrays.integer_columns.size:
        integrality[arrays.integer_columns] = int(highspy.HighsVarType.kInteger)
    cost, lower, upper, row_lower, row_upper = (np.ascontiguousarray(a, dtype=float) for a in (
        arrays.col_cost, arrays.col_lower, arrays.col_upper, arrays.row_lower, arrays.row_upper))
    return highs.passModel(n_cols, n_rows, int(matrix.data.size), int(highspy.MatrixFormat.kColwise),
                           int(highspy.ObjSense.kMinimize), float(arrays.offset),
                           cost, lower, upper, row_lower, row_upper,
                           np.ascontiguousarray(matrix.indptr, dtype=np.int32),
                           np.ascontiguousarray(matrix.indices, dtype=np.int32),
                           np.ascontiguousarray(matrix.data, dtype=float), integrality)


def to_highs(arrays: HighsArrays) -> highspy.HighsLp:
    """A HighsLp (minimisation; a maximised objective was negated in ``highs_arrays``)."""
    lp = highspy.HighsLp()
    lp.num_col_ = arrays.matrix.shape[1]
    lp.num_row_ = arrays.matrix.shape[0]
    lp.col_cost_ = arrays.col_cost
    lp.offset_ = arrays.offset
    lp.col_lower_ = arrays.col_lower
    lp.col_upper_ = arrays.col_upper
    lp.row_lower_ = arrays.row_lower
    lp.row_upper_ = arrays.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = arrays.matrix.indptr
    lp.a_matrix_.index_ = arrays.matrix.indices
    lp.a_matrix_.value_ = arrays.matrix.data
    if arrays.integer_columns is not None and arrays.integer_columns.size:
        integrality = np.full(lp.num_col_, highspy.HighsVarType.kContinuous)
        integrality[arrays.integer_columns] = highspy.HighsVarType.kInteger
        lp.integrality_ = integrality.tolist()
    return lp
