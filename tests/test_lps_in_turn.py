"""LpsInTurn: LPs solved one after another on one HiGHS, from the last one's basis when they extend it.

A hand case of three lexicographic goals over x0 + x1 + x2 = 10, 0 <= x <= 10: least cost
x0 + x1 + 3 x2 (10: x2 = 0, any split of x0 + x1); then, the cost kept at 10, most x1 (10);
then, x1 kept at 10, least x0 (0). Each goal solved in turn equals the same LP solved afresh.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model import InfeasibleError, load_dataset, solve
from model.lp.blocks import LinearProgram, Objective, RowBlock, Term, VarBlock, highs_arrays
from model.solving import highs as highs_module
from model.solving.highs import LpsInTurn, _rows_added, solve_lp
from tests.conftest import CHINA

ALL = np.arange(3)


def _x(upper: float = 10.0) -> dict[str, VarBlock]:
    return {"x": VarBlock("x", [0, 1, 2], np.zeros(3), np.array([10.0, upper, 10.0]))}


def _row(name: str, coefs: list[float], lower: float | None, upper: float | None) -> RowBlock:
    return RowBlock(name, [name], [Term("x", np.zeros(3, dtype=int), ALL, np.array(coefs, dtype=float))],
                    constant=np.zeros(1), lower=None if lower is None else np.array([lower]),
                    upper=None if upper is None else np.array([upper]))


BUDGET = _row("budget", [1, 1, 1], 10.0, 10.0)
COST = Objective("cost", [Term("x", ALL, ALL, np.array([1.0, 1.0, 3.0]))])
MOST_X1 = Objective("most_x1", [Term("x", ALL, ALL, np.array([0.0, 1.0, 0.0]))], sense="maximize")
LEAST_X0 = Objective("least_x0", [Term("x", ALL, ALL, np.array([1.0, 0.0, 0.0]))], constant=5.0)


def _goals(upper: float = 10.0) -> list[LinearProgram]:
    cost_kept = _row("cost_kept", [1, 1, 3], None, 10.0)
    x1_kept = _row("x1_kept", [0, 1, 0], upper, None)
    return [LinearProgram(_x(upper), [BUDGET], COST),
            LinearProgram(_x(upper), [BUDGET, cost_kept], MOST_X1),
            LinearProgram(_x(upper), [BUDGET, cost_kept, x1_kept], LEAST_X0)]


def test_lps_in_turn_give_each_goal_what_a_fresh_solve_gives():
    in_turn = LpsInTurn("hand")
    solved = [in_turn.solve(lp) for lp in _goals()]
    assert [s.objective for s in solved] == pytest.approx([10.0, 10.0, 5.0])  # the last: x0 = 0, plus 5
    np.testing.assert_allclose(solved[2].values["x"], [0.0, 10.0, 0.0], atol=1e-9)
    for lp, warm in zip(_goals(), solved):
        cold = solve_lp(lp, "hand")
        assert warm.objective == pytest.approx(cold.objective, abs=1e-9)
        np.testing.assert_allclose(warm.values["x"], cold.values["x"], atol=1e-9)


def test_lps_in_turn_keep_one_highs_while_each_lp_extends_the_last(monkeypatch):
    made = []
    new_highs = highs_module.new_highs
    monkeypatch.setattr(highs_module, "new_highs", lambda verbose: made.append(new_highs(verbose)) or made[-1])
    in_turn = LpsInTurn("hand")
    for lp in _goals():
        in_turn.solve(lp)
    assert len(made) == 1  # the second and third goals were rows added to the first's HiGHS


def test_an_lp_that_does_not_extend_the_last_is_passed_afresh():
    """Other column bounds (x1 <= 4): adding rows to the HiGHS of x1 <= 10 would give x1 = 10."""
    in_turn = LpsInTurn("hand")
    first, second, _ = _goals()
    in_turn.solve(first)
    tighter = dataclasses.replace(second, variables=_x(upper=4.0))
    assert _rows_added(highs_arrays(first), highs_arrays(tighter)) is None
    solved = in_turn.solve(tighter)
    assert solved.objective == pytest.approx(4.0)
    np.testing.assert_allclose(solved.values["x"], [6.0, 4.0, 0.0], atol=1e-9)


def test_after_an_lp_that_failed_the_next_starts_from_its_own_rows():
    """An infeasible LP (x0 + x1 + x2 >= 20 as well as = 10) raises; the next LP, which extends the
    first, is not added to the infeasible one HiGHS still holds."""
    in_turn = LpsInTurn("hand")
    first, second, _ = _goals()
    in_turn.solve(first)
    with pytest.raises(InfeasibleError):
        in_turn.solve(LinearProgram(_x(), [BUDGET, _row("too_much", [1, 1, 1], 20.0, None)], COST))
    solved = in_turn.solve(second)
    assert solved.objective == pytest.approx(10.0)
    np.testing.assert_allclose(solved.values["x"], [0.0, 10.0, 0.0], atol=1e-9)


def test_rows_added_are_the_new_rows_row_wise_or_none_when_an_old_row_changed():
    first, second, third = (highs_arrays(lp) for lp in _goals())
    n_added, lower, upper, n_entries, starts, columns, values = _rows_added(first, third)
    assert n_added == 2 and n_entries == 6  # the x1_kept row's zeros are entries too, as the blocks give them
    assert lower.tolist() == [-np.inf, 10.0] and upper.tolist() == [10.0, np.inf]
    assert starts.tolist() == [0, 3] and columns.tolist() == [0, 1, 2, 0, 1, 2]
    assert values.tolist() == [1, 1, 3, 0, 1, 0]
    changed = highs_arrays(LinearProgram(_x(), [_row("budget", [1, 2, 1], 10.0, 10.0), _row("cost_kept", [1, 1, 3],
                                                                                             None, 10.0)], MOST_X1))
    assert _rows_added(first, changed) is None  # the budget row's coefficient differs
    assert _rows_added(second, first) is None  # fewer rows


def test_stage_2_goals_in_turn_give_the_allocation_of_goals_solved_afresh(monkeypatch):
    """The default dataset's stage 2 (three goals): the same free allocation and burden to 1e-7."""
    china = load_dataset(CHINA)
    in_turn = solve(china)
    monkeypatch.setattr(highs_module, "_rows_added", lambda before, after: None)
    afresh = solve(china)
    for column in ("free_mt", "auctioned_mt", "cap_mt", "emissions_mt"):
        np.testing.assert_allclose(in_turn.sector_years[column].to_numpy(dtype=float),
                                   afresh.sector_years[column].to_numpy(dtype=float), atol=1e-7)
    assert in_turn.summary["objective_bn_cny"] == pytest.approx(afresh.summary["objective_bn_cny"], rel=1e-12)
