"""``lp.blocks`` on hand-made LPs: the sparse matrix HiGHS takes and the arrays in its order."""

import numpy as np
import pytest

from model.lp.blocks import CscMatrix, LinearProgram, Objective, RowBlock, Term, VarBlock, highs_arrays, to_highs


def test_triplets_become_compressed_columns_with_duplicates_summed():
    """Entries of a 3 x 3 matrix given out of order, (2, 0) twice (1 + 2.5): column 0 holds rows 0
    and 2 (4, 3.5), column 1 none, column 2 row 1 (-1); indptr [0, 2, 2, 3], int32 rows and
    starts, float values; the dense matrix is the same."""
    matrix = CscMatrix.from_triplets(np.array([2, 1, 0, 2]), np.array([0, 2, 0, 0]),
                                     np.array([1, -1, 4, 2.5]), (3, 3))
    assert matrix.indptr.tolist() == [0, 2, 2, 3] and matrix.indptr.dtype == np.int32
    assert matrix.indices.tolist() == [0, 2, 1] and matrix.indices.dtype == np.int32
    assert matrix.data.tolist() == [4.0, 3.5, -1.0] and matrix.data.dtype == np.float64
    assert matrix.toarray().tolist() == [[4.0, 0.0, 0.0], [0.0, 0.0, -1.0], [3.5, 0.0, 0.0]]
    integers = CscMatrix.from_triplets(np.array([0]), np.array([1]), np.array([7]), (1, 2))
    assert integers.data.dtype == np.float64 and integers.indptr.tolist() == [0, 0, 1]
    empty = CscMatrix.from_triplets(np.zeros(0, int), np.zeros(0, int), np.zeros(0), (0, 2))
    assert empty.indptr.tolist() == [0, 0, 0] and empty.indices.size == 0 and empty.data.size == 0


def _lp(sense: str = "minimize") -> LinearProgram:
    """x (2 columns, 0..5) and y (1 column, integer, 0..1); cost 3 x0 + 2 y0 + 10; rows
    1 <= x0 + x1 - 1 (constant 1) and x1 + 4 y0 <= 8 (no lower bound)."""
    x = VarBlock("x", ["a", "b"], np.zeros(2), np.full(2, 5.0))
    y = VarBlock("y", ["c"], np.zeros(1), np.ones(1), integer=True)
    first = RowBlock("first", ["r"], [Term("x", np.array([0, 0]), np.array([0, 1]), np.array([1.0, 1.0]))],
                     np.array([1.0]), lower=np.array([0.0]))
    second = RowBlock("second", ["s"], [Term("x", np.array([0]), np.array([1]), np.array([1.0])),
                                        Term("y", np.array([0]), np.array([0]), np.array([4.0]))],
                      np.zeros(1), upper=np.array([8.0]))
    objective = Objective("cost", [Term("x", np.zeros(1, int), np.array([0]), np.array([3.0])),
                                   Term("y", np.zeros(1, int), np.array([0]), np.array([2.0]))],
                          sense=sense, constant=10.0)
    return LinearProgram({"x": x, "y": y}, [first, second], objective)


def _in_pyomo(lp: LinearProgram, name: str = "unknown"):
    """The LP's blocks rendered into a Pyomo model as build_model renders them, and its objective."""
    import pyomo.environ as pyo

    from model.lp.blocks import add_objective, add_rows, add_variables

    m = pyo.ConcreteModel(name=name)
    for block in lp.variables.values():
        add_variables(m, block)
    for block in lp.rows:
        add_rows(m, block)
    return m, add_objective(m, lp.objective)


def test_highs_arrays_are_the_blocks_in_order_constants_moved_to_the_bounds():
    """Columns x0 x1 y0, rows first then second (offsets 0 and 1); the constant 1 moves the first
    row's bounds to [-1, inf); a maximised objective is negated, its constant too."""
    arrays = highs_arrays(_lp())
    assert arrays.col_cost.tolist() == [3.0, 0.0, 2.0] and arrays.offset == 10.0
    assert arrays.col_lower.tolist() == [0.0, 0.0, 0.0] and arrays.col_upper.tolist() == [5.0, 5.0, 1.0]
    assert arrays.row_lower.tolist() == [-1.0, -np.inf] and arrays.row_upper.tolist() == [np.inf, 8.0]
    assert arrays.row_offsets == {"first": 0, "second": 1} and arrays.integer_columns.tolist() == [2]
    assert arrays.matrix.toarray().tolist() == [[1.0, 1.0, 0.0], [0.0, 1.0, 4.0]]
    maximised = highs_arrays(_lp("maximize"))
    assert maximised.col_cost.tolist() == [-3.0, 0.0, -2.0] and maximised.offset == -10.0


def test_a_highs_lp_holds_the_arrays_and_marks_the_integer_columns():
    """``to_highs``: 3 columns, 2 rows, the costs, bounds, offset and column-wise matrix as given;
    y0 integer, x continuous; an LP without integer columns has no integrality."""
    import highspy

    arrays = highs_arrays(_lp())
    lp = to_highs(arrays)
    assert (lp.num_col_, lp.num_row_, lp.offset_) == (3, 2, 10.0)
    assert list(lp.col_cost_) == [3.0, 0.0, 2.0] and list(lp.col_upper_) == [5.0, 5.0, 1.0]
    assert list(lp.col_lower_) == [0.0, 0.0, 0.0]
    assert list(lp.row_lower_) == [-1.0, -np.inf] and list(lp.row_upper_) == [np.inf, 8.0]
    assert lp.a_matrix_.format_ == highspy.MatrixFormat.kColwise
    assert list(lp.a_matrix_.start_) == [0, 1, 3, 4] and list(lp.a_matrix_.index_) == [0, 0, 1, 1]
    assert list(lp.a_matrix_.value_) == [1.0, 1.0, 1.0, 4.0]
    assert list(lp.integrality_) == [highspy.HighsVarType.kContinuous] * 2 + [highspy.HighsVarType.kInteger]
    arrays.integer_columns = None
    assert list(to_highs(arrays).integrality_) == []
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(10.0)  # x1 = 1 meets the first row at no cost


def test_the_blocks_rendered_into_pyomo_keep_keys_bounds_domains_and_rows():
    """The same LP in Pyomo: x over keys a, b in [0, 5], y integer in [0, 1]; the first row
    0 <= 1 + x[a] + x[b] with no upper bound (None), the second x[b] + 4 y[c] <= 8 with no lower;
    the objective 10 + 3 x[a] + 2 y[c], minimised. An infinite variable bound is none."""
    import pyomo.environ as pyo

    from model.lp.blocks import add_objective, add_variables

    lp = _lp()
    m, objective = _in_pyomo(lp)
    assert list(m.x.keys()) == ["a", "b"] and (m.x["a"].lb, m.x["a"].ub) == (0.0, 5.0)
    assert m.y["c"].domain is pyo.Integers and m.x["a"].domain is pyo.Reals
    assert (m.first["r"].lower, m.first["r"].upper) == (0.0, None)
    assert (m.second["s"].lower, m.second["s"].upper) == (None, 8.0)
    m.x["a"].set_value(2.0)
    m.x["b"].set_value(3.0)
    m.y["c"].set_value(1.0)
    assert pyo.value(m.first["r"].body) == 6.0 and pyo.value(m.second["s"].body) == 7.0
    assert pyo.value(objective) == 10.0 + 6.0 + 2.0 and objective.sense == pyo.minimize
    free = VarBlock("z", ["d"], np.full(1, -np.inf), np.full(1, np.inf))
    add_variables(m, free)
    assert (m.z["d"].lb, m.z["d"].ub) == (None, None)
    maximised = pyo.ConcreteModel()
    for block in lp.variables.values():
        add_variables(maximised, block)
    assert add_objective(maximised, _lp("maximize").objective).sense == pyo.maximize


def test_a_row_blocks_numbers_are_float_arrays_of_one_per_key_and_the_structure_ignores_numbers():
    """A RowBlock of 2 keys given a constant and bounds as lists of integers holds float arrays of
    shape (2,); two LPs that differ in a coefficient and a bound have the same structure, one with
    another row's bound side or another variable count does not."""
    block = RowBlock("r", ["a", "b"], [], [1, 2], lower=[0, 0])
    assert block.constant.dtype == np.float64 and block.constant.tolist() == [1.0, 2.0]
    assert block.lower.dtype == np.float64 and block.lower.shape == (2,) and block.upper is None
    column = RowBlock("r", ["a", "b"], [], [[1], [2]], lower=[[0], [3]], upper=[[5], [6]])  # (2, 1) given
    assert (column.constant.shape, column.lower.shape, column.upper.shape) == ((2,), (2,), (2,))
    assert column.lower.tolist() == [0.0, 3.0] and column.upper.tolist() == [5.0, 6.0]
    assert _lp().column_offsets() == {"x": 0, "y": 2}
    other = _lp()
    other.rows[0].terms[0] = other.rows[0].terms[0]._replace(coefs=np.array([2.0, 5.0]))
    other.rows[1].upper = np.array([3.0])
    assert other.structure() == _lp().structure()
    other.rows[1].lower = np.array([0.0])
    assert other.structure() != _lp().structure()
    wider = _lp()
    wider.variables["x"] = VarBlock("x", ["a", "b", "e"], np.zeros(3), np.ones(3))
    assert wider.structure() != _lp().structure()


def _market_pass_lp():
    """A cap c in [0, 10] (``ets_cap_mt``, a cap decision) and a market variable w
    (``withdrawn_mt``, 0 in pass 1); the row c - w >= 4 (what the emitters need); cost 1 x c.
    Pass 1: c = 4. Pass 2 frees w to [0, inf) at a device cost of -2 per unit: with c held at
    4, w stays 0 (c - w >= 4); were c not held, c = 10 and w = 6 would gain 12 - 6."""
    from model.families.base import MarketPass

    cap = VarBlock("ets_cap_mt", [2025], np.zeros(1), np.full(1, 10.0))
    withdrawn = VarBlock("withdrawn_mt", [2025], np.zeros(1), np.zeros(1))
    need = RowBlock("need", [2025], [Term("ets_cap_mt", np.zeros(1, int), np.zeros(1, int), np.ones(1)),
                                     Term("withdrawn_mt", np.zeros(1, int), np.zeros(1, int), -np.ones(1))],
                    np.zeros(1), lower=np.full(1, 4.0))
    cost = Objective("cost", [Term("ets_cap_mt", np.zeros(1, int), np.zeros(1, int), np.ones(1))])
    return LinearProgram({"ets_cap_mt": cap, "withdrawn_mt": withdrawn}, [need], cost,
                         [MarketPass("withdrawn_mt", np.full(1, np.inf), np.full(1, -2.0))])


@pytest.mark.parametrize("route", ["blocks", "pyomo"])
def test_a_market_pass_holds_the_caps_at_pass_1s_values(route):
    """Pass 2 of a market pass may move the market's variable, never the caps pass 1 chose (the
    cap is column 0 of the model on both routes): c = 4, w = 0, objective 4 with the device
    term taken out. Not held, pass 2 would report c = 10, w = 6 and objective 10."""
    from model.solving.highs import solve_lp, solve_model

    lp = _market_pass_lp()
    if route == "blocks":
        solution = solve_lp(lp, "market pass")
        cap, withdrawn = solution.values["ets_cap_mt"][0], solution.values["withdrawn_mt"][0]
    else:
        m, _ = _in_pyomo(lp, "market pass")
        solution = solve_model(m, dual_suffix=False, market_passes=lp.market_passes)
        cap, withdrawn = m.ets_cap_mt[2025].value, m.withdrawn_mt[2025].value
    assert (cap, withdrawn) == pytest.approx((4.0, 0.0), abs=1e-9)
    assert solution.objective == pytest.approx(4.0, abs=1e-9)


def test_an_lp_without_rows_has_empty_row_arrays_and_solves_to_its_bounds():
    """Variables only, no row block: every row array is empty (shape (0,), not a 0-d array),
    the matrix 0 x 2; minimising 3 x0 - 2 x1 over [1, 5] x [0, 4] gives x = (1, 4), cost -5."""
    from model.solving.highs import solve_lp

    x = VarBlock("x", ["a", "b"], np.array([1.0, 0.0]), np.array([5.0, 4.0]))
    cost = Objective("cost", [Term("x", np.zeros(2, int), np.array([0, 1]), np.array([3.0, -2.0]))])
    lp = LinearProgram({"x": x}, [], cost)
    arrays = highs_arrays(lp)
    assert arrays.row_lower.shape == arrays.row_upper.shape == (0,)
    assert arrays.matrix.shape == (0, 2) and arrays.row_offsets == {}
    solution = solve_lp(lp, "no rows")
    assert solution.values["x"].tolist() == pytest.approx([1.0, 5.0 - 1.0])
    assert solution.objective == pytest.approx(-5.0)
