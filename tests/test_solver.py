"""Solver handling: options checked before HiGHS runs, a hint for each status HiGHS stops
with, and PDLP's approximate optimum crossed over before stage 2 holds it fixed."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from click.testing import CliRunner

from model import SolverError, build_model, load_dataset, solve
from model.cli import cli
from model.solving.highs import solve_model
from tests.conftest import CHINA, TOY
from tests.unique_outcome import priced, without_sector_split


# -- --solver-option values -------------------------------------------------------------------


@pytest.mark.parametrize("option, message", [
    ("threads=100000", "--solver-option threads=100000: expected a whole number from 0 to 1024, "
                       "as for solver.threads in scenario.toml"),
    ("threads=2.5", "--solver-option threads=2.5: expected a whole number from 0 to 1024, "
                    "as for solver.threads in scenario.toml"),
    ("time_limit=-1", "--solver-option time_limit=-1: expected a number from 0 to 10000000 (seconds), "
                      "as for solver.time_limit_s in scenario.toml"),
    ("solver=simplx", "--solver-option solver=simplx: expected one of 'choose', 'simplex', 'ipm', 'pdlp', "
                      "as for solver.method in scenario.toml"),
    ("dual_feasibility_tolerance=0.5", "--solver-option dual_feasibility_tolerance=0.5: looser than "
     "HiGHS's default 1e-07, which would let HiGHS report as optimal a solution that is not; give at most 1e-07"),
    ("primal_feasibility_tolerance=1e-6", "--solver-option primal_feasibility_tolerance=1e-6: looser than "
     "HiGHS's default 1e-07, which would let HiGHS report as optimal a solution that is not; give at most 1e-07"),
])
def test_solver_option_outside_its_range_is_refused(option, message, tmp_path):
    """One line, exit 4, before anything is solved or written."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["solve", str(TOY), "--out", str(out), "--solver-option", option])
    assert result.exit_code == 4
    assert result.output.splitlines()[-1] == f"error: {message}"
    assert "built the model" not in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_solver_options_within_range_are_used():
    """threads=2 and a tolerance tighter than HiGHS's default solve the toy to its optimum."""
    results = solve(TOY, highs_options={"threads": "2", "dual_feasibility_tolerance": "1e-9"})
    assert results.summary["objective_bn_cny"] == pytest.approx((490 + 1150 / 1.1 + 1950 / 1.21) / 1e3, rel=1e-9)
    assert results.summary["solver_options"] == {"presolve": "choose", "solver": "choose", "threads": 2,
                                                 "dual_feasibility_tolerance": 1e-9}


@pytest.mark.parametrize("value", [0.5, 1, "0.5"])
def test_loose_tolerance_is_refused_in_python_too(value):
    with pytest.raises(SolverError, match=f"dual_feasibility_tolerance={value}: looser than HiGHS's default"):
        solve(TOY, highs_options={"dual_feasibility_tolerance": value})


# -- a hint for each status -------------------------------------------------------------------


def test_iteration_limit_hint():
    m = build_model(load_dataset(CHINA))
    with pytest.raises(SolverError) as caught:
        solve_model(m, {"simplex_iteration_limit": 1})
    assert str(caught.value) == (
        "HiGHS stopped with status 'Iteration limit reached' on model 'china' (raise or drop the "
        "iteration limit given with --solver-option (simplex_iteration_limit, ipm_iteration_limit, "
        "pdlp_iteration_limit))")


def test_time_limit_hint():
    m = build_model(load_dataset(CHINA))
    with pytest.raises(SolverError) as caught:
        solve_model(m, {"time_limit": 0.0})
    assert str(caught.value) == ("HiGHS stopped with status 'Time limit reached' on model 'china' "
                                 "(raise solver.time_limit_s, or try solver.method = 'ipm')")


def test_unbounded_hint():
    """A script's objective on a variable without bounds."""
    m = build_model(load_dataset(TOY))
    m.free_variable = pyo.Var()
    m.abatement_cost.deactivate()
    m.script_objective = pyo.Objective(expr=m.free_variable)
    with pytest.raises(SolverError) as caught:
        solve_model(m)
    assert str(caught.value) == (
        "HiGHS stopped with status 'Unbounded' on model 'toy' (the objective can improve without "
        "limit: a constraint or objective added by a script leaves a variable without a bound)")


def test_lp_that_highs_cannot_load_is_named():
    """An infinite coefficient (here from a script) is refused by HiGHS when the LP is passed."""
    m = build_model(load_dataset(TOY))
    m.infinite_row = pyo.Constraint(expr=float("inf") * m.ets_cap_mt[2025] <= 1)
    with pytest.raises(SolverError) as caught:
        solve_model(m)
    assert str(caught.value).startswith(
        "HiGHS could not load model 'toy': the LP has a coefficient, cost or bound that is not a finite number")


# -- PDLP ----------------------------------------------------------------------------------


def test_pdlp_is_crossed_over_before_stage_2_holds_stage_1():
    """PDLP's optimum meets rows only to about 1e-7: held fixed in stage 2 it made the
    allocation rules look infeasible (exit 3, first seen on the default dataset; the toy
    shows it too, in 0.3 s rather than PDLP's 28 s on the default dataset). Crossed over and
    cleaned up by simplex, both stages give the simplex answer: what the optimum fixes
    (tests/unique_outcome.py: prices, emissions and the cost in every year, and every number
    but which sector holds the bank in the years with a positive price); the toy's cost is
    3.147 bn CNY and its 2027 price 60 CNY/t either way."""
    by_simplex = solve(TOY, overrides={"solver.method": "simplex"})
    by_pdlp = solve(TOY, overrides={"solver.method": "pdlp"})
    assert by_pdlp.summary["objective_bn_cny"] == pytest.approx(by_simplex.summary["objective_bn_cny"], rel=1e-12)
    assert by_pdlp.summary["objective_bn_cny"] == pytest.approx(3.147024793388429, rel=1e-9)
    assert by_pdlp.years["allowance_price_cny_per_t"].iloc[-1] == pytest.approx(60.0, abs=1e-6)
    for column in ("allowance_price_cny_per_t", "emissions_mt"):
        np.testing.assert_allclose(by_pdlp.years[column], by_simplex.years[column], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(by_pdlp.sector_years["emissions_mt"], by_simplex.sector_years["emissions_mt"],
                               rtol=1e-9, atol=1e-6)
    for table in ("years", "sector_years"):
        ours, theirs = (without_sector_split(priced(getattr(solved, table), solved.years))
                        for solved in (by_pdlp, by_simplex))
        assert len(ours) == len(theirs) > 0, table
        assert np.allclose(ours.select_dtypes("number").to_numpy(float), theirs.select_dtypes("number").to_numpy(float),
                           rtol=1e-9, atol=1e-6, equal_nan=True), table
    assert by_pdlp.sector_years["free_mt"].to_numpy() == pytest.approx(by_simplex.sector_years["free_mt"].to_numpy(),
                                                                       abs=1e-6, nan_ok=True)


def test_threads_beyond_the_cores_are_capped(monkeypatch, caplog):
    """threads=1024 is within solver.threads' range but took 20 s for the toy on 2 cores:
    HiGHS gets the machine's cores instead, and the log says so."""
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with caplog.at_level("WARNING", logger="model.solving.highs"):
        results = solve(TOY, highs_options={"threads": "1024"})
    assert results.summary["solver_options"]["threads"] == 2
    assert type(results.summary["solver_options"]["threads"]) is int
    assert [r.getMessage() for r in caplog.records if r.name == "model.solving.highs"] == [
        "solver threads 1024 capped at this machine's 2 cores"]


def test_one_highs_handoff_and_one_read_back(monkeypatch):
    """A Pyomo model goes to HiGHS through the same ``lp.to_highs`` as the blocks do, and its
    solution, a Resolver's and solve_lp's are read back by the one ``solve.read_solution``:
    the objective is the same 3.147 bn CNY each way."""
    import importlib

    from model.solving.resolve import Resolver

    solve_module, resolve_module = importlib.import_module("model.solving.highs"), importlib.import_module("model.solving.resolve")
    handed, read = [], []  # (``import model.solve`` gives the function model.solve, not the module)
    real_to_highs, real_read = solve_module.to_highs, solve_module.read_solution
    monkeypatch.setattr(solve_module, "to_highs", lambda arrays: handed.append(arrays) or real_to_highs(arrays))
    monkeypatch.setattr(solve_module, "read_solution", lambda *a, **k: read.append(a) or real_read(*a, **k))
    by_pyomo = solve(build_model(load_dataset(TOY)), allocation=False)
    assert (len(handed), len(read)) == (1, 1)  # the Pyomo model's one LP
    by_resolver = Resolver(load_dataset(TOY)).solve(load_dataset(TOY))
    assert len(read) == 2
    by_blocks = solve(TOY, allocation=False)
    assert len(read) == 3
    for results in (by_pyomo, by_resolver, by_blocks):
        assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793, abs=1e-9)


def test_solving_a_pyomo_model_logs_its_build_and_size(caplog):
    """`-v` shows what was built: a model passed to solve() is logged with its abatement
    columns (the toy's 6 steps in 3 years: 18) and the seconds it took (their value is not
    tested: only that the line says them)."""
    import re

    from model import build_model, load_dataset, solve
    from tests.conftest import TOY
    model = build_model(load_dataset(TOY))
    with caplog.at_level("INFO", logger="model.solving.pipeline"):
        solve(model)
    messages = [r.getMessage() for r in caplog.records if r.name == "model.solving.pipeline"]
    assert any(re.fullmatch(r"built the model in \d+\.\d\d s: 18 abatement columns", m) for m in messages), messages
