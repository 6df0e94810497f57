"""Hand a Pyomo model to HiGHS in memory and read back primal values and duals.

The model is compiled by Pyomo's standard-form compiler (``compile_standard_form``)
into sparse matrices that go to highspy directly: no LP file, and any constraint a
script added to the model is included. Values are loaded back into the model's
variables and duals into its ``dual`` suffix; ``Solution`` also holds them as arrays
per component, in the component's index order, for the results tables.

Dual signs are HiGHS's (and Pyomo's) for a minimisation: a binding ``<=`` row has a
dual <= 0, so a price is ``-dual / discount factor``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..data import schema
from ..errors import EtscapError, InfeasibleError, SolverError
from ..lazy import lazy_module
from ..lp.blocks import CscMatrix, HighsArrays, LinearProgram, highs_arrays, pass_to_highs, to_highs
from ..lp.solution import Solution

if TYPE_CHECKING:
    import highspy
    import pyomo.environ as pyo
else:
    highspy = lazy_module("highspy")
    pyo = lazy_module("pyomo.environ")  # only solve_model (a Pyomo model) needs it

log = logging.getLogger(__name__)

# scenario.toml [solver] keys -> HiGHS option names
SETTING_TO_HIGHS = {
    "solver.presolve": "presolve",
    "solver.method": "solver",
    "solver.threads": "threads",
    "solver.time_limit_s": "time_limit",
}


def solver_options(settings: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """HiGHS options from the scenario's [solver] table, then ``--solver-option`` pairs
    (checked by ``checked_solver_option``)."""
    options: dict[str, Any] = {}
    for key, highs_name in SETTING_TO_HIGHS.items():
        value = settings.get(key)
        if value is None or (key == "solver.threads" and value == 0):
            continue
        options[highs_name] = value
    for name, value in (extra or {}).items():
        options[name] = checked_solver_option(name, value)
    cores = os.cpu_count() or 1
    if isinstance(options.get("threads"), int) and options["threads"] > cores:
        # more threads than cores only slows HiGHS down (1,024 on 2 cores: 20 s for the toy)
        log.warning("solver threads %d capped at this machine's %d cores", options["threads"], cores)
        options["threads"] = cores
    return options


HIGHS_TO_SETTING = {highs_name: key for key, highs_name in SETTING_TO_HIGHS.items()}


def checked_solver_option(name: str, value: Any) -> Any:
    """A ``--solver-option`` value, refused (SolverError) where it would hang or mislead.

    An option the [solver] table also sets (threads, time_limit, solver, presolve) obeys
    that key's declared range: HiGHS itself takes ``threads=100000`` and starts thousands of
    threads. A tolerance (``*_tolerance``) may not be looser than HiGHS's default: HiGHS
    then labels optimal a solution far from the optimum (stage 2's allocation in
    particular), which nothing downstream can tell from a true one."""
    setting = HIGHS_TO_SETTING.get(name)
    if setting is not None:
        field = schema.SCENARIO[setting]
        try:
            converted = field.convert(value)
        except ValueError:
            raise SolverError(f"--solver-option {name}={value}: expected {field.expected()}, "
                              f"as for {setting} in scenario.toml") from None
        return converted.item() if isinstance(converted, np.generic) else converted  # plain int for JSON
    if name.endswith("_tolerance"):
        highs = new_highs(verbose=False)
        status, default = highs.getOptionValue(name)
        try:
            given = _typed_option(highs, name, value)
        except ValueError as err:
            raise SolverError(f"HiGHS option {name}={value!r} was refused ({err})") from None
        numeric = isinstance(given, (int, float)) and not isinstance(given, bool)
        if status == highspy.HighsStatus.kOk and numeric and not given <= default:
            raise SolverError(
                f"--solver-option {name}={value}: looser than HiGHS's default {default:g}, which would "
                f"let HiGHS report as optimal a solution that is not; give at most {default:g}")
        return given
    return value


def solve_model(model: pyo.ConcreteModel, options: Mapping[str, Any] | None = None,
                verbose: bool = False, dual_suffix: bool = True, market_passes: Sequence[Any] = ()) -> Solution:
    """Solve the model's LP with HiGHS; load values into the model's variables and, with
    ``dual_suffix``, duals into its ``dual`` suffix. ``market_passes`` (stage 1's,
    ``families.market_passes``): solved as ``solve_lp`` does, values and duals from pass 2."""
    from pyomo.common.errors import InfeasibleConstraintException
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    started = time.perf_counter()
    try:
        compiled = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    except InfeasibleConstraintException as err:  # a row left with constants only, e.g. a fixed cap
        raise InfeasibleError(f"model {model.name!r} is infeasible: {err}") from None
    objectives = compiled.objectives
    if len(objectives) != 1:
        raise EtscapError(f"the model must have exactly one active objective, found {len(objectives)}")
    highs = new_highs(verbose)
    options = sized_options(options, len(compiled.columns))
    set_options(highs, options)
    if highs.passModel(_highs_lp(compiled, objectives[0].sense)) == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS could not load model {model.name!r}: {_HINTS['Load error']}")
    compiled_at = time.perf_counter()
    integer = np.flatnonzero(np.fromiter((v.is_integer() for v in compiled.columns), bool, len(compiled.columns)))
    run_highs(highs, options, integer)
    raise_unless_optimal(highs, model.name)
    device = 0.0
    if market_passes:
        position = {id(var): i for i, var in enumerate(compiled.columns)}

        def columns_of(name: str) -> np.ndarray:  # -1: not a column (a variable in no row)
            component = model.find_component(name)
            return np.array([position.get(id(var), -1) for var in component.values()] if component is not None
                            else [], dtype=np.int32)

        held = np.concatenate([np.zeros(0, np.int32)] + [columns_of(name) for name in
                                                          {h for mp in market_passes for h in mp.hold}])
        freed = [(columns_of(mp.variable), mp.upper, mp.device_cost) for mp in market_passes]
        device = _market_pass(highs, held[held >= 0], [(c[c >= 0], u[c >= 0], d[c >= 0]) for c, u, d in freed],
                              options, model.name, integer.size > 0)
    solved_at = time.perf_counter()
    status = highs.modelStatusToString(highs.getModelStatus())
    solution = read_solution(  # HiGHS kept the model's sense (``_highs_lp``): its objective as it is
        highs, options, {"compile": compiled_at - started, "solve": solved_at - compiled_at},
        values_of=lambda col_value: _load_values(model, compiled.columns, col_value),
        duals_of=lambda row_dual: _load_duals(model, compiled.rows, row_dual, dual_suffix), status=status)
    solution.objective -= device  # a market pass's device term is no cost
    return solution


def solve_lp(lp: LinearProgram, name: str, options: Mapping[str, Any] | None = None,
             verbose: bool = False) -> Solution:
    """Solve the LP's numpy blocks with HiGHS directly, without a Pyomo model: the default
    route for a dataset (no script has changed its model), skipping Pyomo's compiler and the
    imports it pulls in. Values and duals come back by block name, in the blocks' key order,
    as ``solve_model`` returns them by component; the objective in its own sense."""
    return LpsInTurn(name, verbose).solve(lp, options)


class LpsInTurn:
    """LPs solved one after another on one HiGHS, each from the last one's optimal basis when
    it extends the last: the same columns and bounds, the last one's rows first, rows added
    after them, any objective (stage 2's lexicographic goals: each goal kept as a row by the
    next). A start from the last optimum left only 240 and 130 simplex iterations for the
    default dataset's second and third goals, about a thousand each from nothing, with the
    same allocation to 1e-9 Mt. An LP that does not extend the last is passed afresh."""

    def __init__(self, name: str, verbose: bool = False):
        self.name, self.verbose = name, verbose
        self.highs: highspy.Highs | None = None
        self.arrays: HighsArrays | None = None  # the LP in ``highs`` (None: nothing to start from)

    def solve(self, lp: LinearProgram, options: Mapping[str, Any] | None = None) -> Solution:
        """``lp`` solved (as ``solve_lp`` solves it), from the last LP's optimum when it extends it."""
        started = time.perf_counter()
        arrays = highs_arrays(lp)
        options = sized_options(options, arrays.matrix.shape[1])
        added = _rows_added(self.arrays, arrays) if self.arrays is not None else None
        if self.highs is None or added is None:
            highs = self.highs = new_highs(self.verbose)
            set_options(highs, options)
            if pass_to_highs(highs, arrays) == highspy.HighsStatus.kError:
                raise SolverError(f"HiGHS could not load model {self.name!r}: {_HINTS['Load error']}")
        else:
            highs = self.highs
            set_options(highs, options)
            highs.addRows(*added)
            n_cols = arrays.matrix.shape[1]
            highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), arrays.col_cost)
            highs.changeObjectiveOffset(float(arrays.offset))
        self.arrays = None  # until solved: a failed LP is no start for the next
        passed_at = time.perf_counter()
        run_highs(highs, options, arrays.integer_columns)  # as solve_model: an optimum without a basis is crossed over
        raise_unless_optimal(highs, self.name)
        device = solve_market_passes(highs, lp, options, self.name)
        solved_at = time.perf_counter()
        solution = read_block_solution(highs, lp, arrays, options, {"compile": passed_at - started,
                                                                    "solve": solved_at - passed_at})
        solution.objective -= device  # a market pass's device term is no cost
        # a market pass, or a regime's columns fixed by a MIP, changed bounds: no LP extends what HiGHS holds
        if not lp.market_passes and (arrays.integer_columns is None or not arrays.integer_columns.size):
            self.arrays = arrays
        return solution


def _rows_added(before: HighsArrays, after: HighsArrays) -> tuple | None:
    """``Highs.addRows``'s arguments for the rows ``after`` adds to ``before`` (rows below
    them, row-wise), or None when ``after`` does not extend ``before``: other columns,
    bounds, rows or integer columns."""
    old, new = before.matrix, after.matrix
    n_old = old.shape[0]
    if (new.shape[1] != old.shape[1] or new.shape[0] < n_old or after.integer_columns is not None
            or not (np.array_equal(before.col_lower, after.col_lower)
                    and np.array_equal(before.col_upper, after.col_upper)
                    and np.array_equal(before.row_lower, after.row_lower[:n_old])
                    and np.array_equal(before.row_upper, after.row_upper[:n_old]))):
        return None
    column = new.entry_columns()
    kept = new.indices < n_old  # within a column rows ascend: the old rows' entries come first, in order
    if not (np.array_equal(new.indices[kept], old.indices) and np.array_equal(new.data[kept], old.data)
            and np.array_equal(np.bincount(column[kept], minlength=new.shape[1]), np.diff(old.indptr))):
        return None
    row, col, value = new.indices[~kept] - n_old, column[~kept], new.data[~kept]
    order = np.lexsort((col, row))
    row, col, value = row[order], col[order], value[order]
    n_added = new.shape[0] - n_old
    starts = np.searchsorted(row, np.arange(n_added)).astype(np.int32)
    return (n_added, np.ascontiguousarray(after.row_lower[n_old:], dtype=float),
            np.ascontiguousarray(after.row_upper[n_old:], dtype=float), int(value.size), starts,
            col.astype(np.int32), np.ascontiguousarray(value, dtype=float))


def _columns(lp: LinearProgram, names: Iterable[str]) -> np.ndarray:
    offsets = lp.column_offsets()
    return np.concatenate([np.zeros(0, dtype=np.int32)] + [
        offsets[name] + np.arange(len(lp.variables[name].keys), dtype=np.int32)
        for name in names if name in lp.variables]).astype(np.int32)


def solve_market_passes(highs: highspy.Highs, lp: LinearProgram, options: Mapping[str, Any], name: str) -> float:
    """Pass 2 of the LP's market passes (``families.base.MarketPass``), on ``highs`` holding
    pass 1's optimum: the caps held at its values, each pass's variable freed to its upper
    bound with its device cost, re-solved from pass 1's basis. Returns the device term's
    value at the optimum (present value, the objective's unit), which is no cost: the caller
    takes it out of the objective. Nothing to do (0) without market passes; ``highs`` keeps
    pass 2's bounds and costs (``undo_market_passes`` puts pass 1's back)."""
    if not lp.market_passes:
        return 0.0
    held = _columns(lp, {hold for market_pass in lp.market_passes for hold in market_pass.hold})
    freed = [(_columns(lp, [mp.variable]), mp.upper, mp.device_cost) for mp in lp.market_passes]
    return _market_pass(highs, held, freed, options, name, any(block.integer for block in lp.variables.values()))


def _market_pass(highs: highspy.Highs, held: np.ndarray, freed: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                 options: Mapping[str, Any], name: str, has_integers: bool) -> float:
    """Hold columns ``held`` at pass 1's values, free each (columns, upper, device cost),
    re-solve; the device term's value at pass 2's optimum."""
    if has_integers:  # a rule's regime was fixed by pass 1's MIP and would not follow pass 2
        raise EtscapError(f"model {name!r}: a price floor (or another market pass) cannot yet be combined with a "
                          "rule solved as a MIP (bank_limit_sales_factor, [market.supply_adjustment]); drop one")
    value = np.asarray(highs.getSolution().col_value)[held]
    highs.changeColsBounds(held.size, held, value, value)
    for columns, upper, device_cost in freed:
        highs.changeColsBounds(columns.size, columns, np.zeros(columns.size), upper)
        highs.changeColsCost(columns.size, columns, device_cost)
    run_highs(highs, options)
    raise_unless_optimal(highs, name)
    col_value = np.asarray(highs.getSolution().col_value)
    return float(sum(np.dot(device_cost, col_value[columns]) for columns, _, device_cost in freed))


def undo_market_passes(highs: highspy.Highs, lp: LinearProgram, arrays: HighsArrays) -> None:
    """Put pass 1's bounds and costs (``arrays``) back into ``highs`` after a market pass."""
    if not lp.market_passes:
        return
    names = [*{hold for market_pass in lp.market_passes for hold in market_pass.hold},
             *(market_pass.variable for market_pass in lp.market_passes)]
    columns = _columns(lp, names)
    highs.changeColsBounds(columns.size, columns, arrays.col_lower[columns], arrays.col_upper[columns])
    highs.changeColsCost(columns.size, columns, arrays.col_cost[columns])


def read_block_solution(highs: highspy.Highs, lp: LinearProgram, arrays: HighsArrays, options: Mapping[str, Any],
                        seconds: dict[str, float], status: str | None = None) -> Solution:
    """A solved LP's blocks read back (``solve_lp``, ``Resolver``): values and duals by block
    name in the blocks' key order, the objective in the LP's own sense (``read_solution``)."""
    def values_of(col_value: np.ndarray) -> dict[str, np.ndarray]:
        offsets = lp.column_offsets()
        return {name: col_value[offsets[name]: offsets[name] + len(block.keys)] for name, block in lp.variables.items()}

    def duals_of(row_dual: np.ndarray) -> dict[str, np.ndarray]:
        return {block.name: row_dual[arrays.row_offsets[block.name]: arrays.row_offsets[block.name] + len(block.keys)]
                for block in lp.rows}

    maximised = lp.objective is not None and lp.objective.sense == "maximize"  # negated for HiGHS
    return read_solution(highs, options, seconds, values_of, duals_of, status, negated=maximised)


def read_solution(highs: highspy.Highs, options: Mapping[str, Any], seconds: dict[str, float],
                  values_of: Callable[[np.ndarray], dict[str, np.ndarray]],
                  duals_of: Callable[[np.ndarray], dict[str, np.ndarray]], status: str | None = None,
                  negated: bool = False) -> Solution:
    """The one read-back of a solved HiGHS model: its column values and row duals, mapped by
    ``values_of`` and ``duals_of`` to arrays by name (blocks, ``read_block_solution``; a Pyomo
    model's components, ``_load_values`` and ``_load_duals``), the objective (``negated``: HiGHS
    minimised the negative of a maximised one), status, iterations and solver version."""
    solution = highs.getSolution()
    info = highs.getInfo()
    objective = float(info.objective_function_value)
    return Solution(
        status=status or highs.modelStatusToString(highs.getModelStatus()),
        objective=-objective if negated else objective,
        values=values_of(np.asarray(solution.col_value)),
        duals=duals_of(np.asarray(solution.row_dual)),
        solver_version=highs.version(),
        options=dict(options),
        seconds=seconds,
        iterations={"simplex": int(info.simplex_iteration_count), "ipm": int(info.ipm_iteration_count)},
    )


# -- HiGHS handoff -----------------------------------------------------------------------

_banner_shown = False


@contextlib.contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """Silence C-level stdout: HiGHS prints a banner when the first Highs object is made."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(verbose: bool) -> highspy.Highs:
    """A Highs object, quiet unless ``verbose``."""
    global _banner_shown
    if _banner_shown or verbose:
        highs = highspy.Highs()
    else:
        with _c_stdout_silenced():
            highs = highspy.Highs()
    _banner_shown = True
    highs.setOptionValue("output_flag", bool(verbose))
    return highs


PRESOLVE_OFF_COLUMNS = (5_000, 200_000)  # HiGHS presolve "choose": off for LPs this size


def sized_options(options: Mapping[str, Any] | None, columns: int) -> dict[str, Any]:
    """The options with presolve "choose" decided by the LP's size. This tool's LPs have few
    rows and many bounded columns; between 5,000 and 200,000 columns HiGHS's presolve takes
    far longer than the solve (measured at 10,000 columns: 0.12 s against 0.006 s without
    it), while on larger LPs it pays (1.5 million columns: 3.7 s against 38 s without it).
    Below 5,000 columns both take milliseconds and HiGHS's own choice is kept."""
    options = dict(options or {})
    smallest, largest = PRESOLVE_OFF_COLUMNS
    if options.get("presolve", "choose") == "choose" and smallest <= columns < largest:
        options["presolve"] = "off"
    return options


def set_options(highs: highspy.Highs, options: Mapping[str, Any]) -> None:
    """Set HiGHS options; a refused name or value is a SolverError naming it."""
    for name, value in options.items():
        try:
            status = highs.setOptionValue(name, _typed_option(highs, name, value))
        except (TypeError, ValueError) as err:
            raise SolverError(f"HiGHS option {name}={value!r} was refused ({err})") from None
        if status != highspy.HighsStatus.kOk:
            raise SolverError(
                f"HiGHS option {name}={value!r} was refused: check the name and value in the "
                "[solver] table of scenario.toml or --solver-option (see the HiGHS options list)"
            )


def _typed_option(highs: highspy.Highs, name: str, value: Any) -> Any:
    """Command-line option values arrive as text; give them the option's own type."""
    if not isinstance(value, str):
        return value
    status, kind = highs.getOptionType(name)
    if status != highspy.HighsStatus.kOk:
        raise ValueError("unknown option")
    if kind == highspy.HighsOptionType.kBool:
        if value.lower() not in ("true", "false", "on", "off", "1", "0"):
            raise ValueError("expected true or false")
        return value.lower() in ("true", "on", "1")
    if kind == highspy.HighsOptionType.kInt:
        return int(value)
    if kind == highspy.HighsOptionType.kDouble:
        return float(value)
    return value


def _highs_lp(compiled: Any, sense: Any) -> highspy.HighsLp:
    """A HighsLp from the compiler's mixed-form matrices (rows keep their own sense), through
    the one handoff ``lp.to_highs``; a maximised objective keeps HiGHS's sense (and duals)."""
    columns = compiled.columns
    matrix = compiled.A.tocsc()
    rhs = np.asarray(compiled.rhs, dtype=float)
    kind = np.fromiter((row.bound_type for row in compiled.rows), int, len(compiled.rows))
    arrays = HighsArrays(
        col_cost=np.asarray(compiled.c.toarray()).ravel(),
        col_lower=np.fromiter((-np.inf if v.lb is None else v.lb for v in columns), float, len(columns)),
        col_upper=np.fromiter((np.inf if v.ub is None else v.ub for v in columns), float, len(columns)),
        row_lower=np.where(kind <= 0, rhs, -np.inf),  # 0: equality, -1: lower bound
        row_upper=np.where(kind >= 0, rhs, np.inf),  # 1: upper bound
        matrix=CscMatrix(matrix.shape, matrix.indptr, matrix.indices, matrix.data),
        row_offsets={}, offset=float(compiled.c_offset[0]) if len(compiled.c_offset) else 0.0,
    )
    lp = to_highs(arrays)
    lp.sense_ = highspy.ObjSense.kMaximize if sense == pyo.maximize else highspy.ObjSense.kMinimize
    return lp


def run_highs(highs: highspy.Highs, options: Mapping[str, Any], integer_columns: np.ndarray | None = None) -> None:
    """Run HiGHS; an optimum without a basis (PDLP's, or interior point's with
    ``run_crossover=off``) is crossed over to a vertex and cleaned up by simplex.

    With ``integer_columns`` (a rule's regime, e.g. which sectors sell under a bank limit)
    the model is first solved exactly as a MIP; those columns are then fixed at its values
    and made continuous, and the LP that is left is solved, so that prices are the duals of
    that LP (the regime held fixed). The columns stay fixed in ``highs`` afterwards.

    Such an optimum is approximate (rows met to a relative 1e-7, not at a vertex): stage 2
    holds stage 1's values fixed, and rows that those values meet only approximately made
    the allocation look infeasible. Crossover from the primal-dual solution gives a basis
    from which simplex needs few or no iterations (none on the default dataset after PDLP)."""
    if integer_columns is not None and integer_columns.size:
        _fix_integers(highs, options, integer_columns)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal or highs.getBasis().valid:
        return
    highs.crossover(highs.getSolution())
    highs.setOptionValue("solver", "simplex")
    try:
        highs.run()
    finally:
        highs.setOptionValue("solver", str(options.get("solver", "choose")))


MIP_REL_GAP = 1e-6  # a regime MIP stops within a millionth of the least cost (HiGHS's default 1e-4)


def _fix_integers(highs: highspy.Highs, options: Mapping[str, Any], columns: np.ndarray) -> None:
    """Solve the MIP (to within ``MIP_REL_GAP``), fix ``columns`` at its values and make
    them continuous; an infeasible MIP is left for the LP's run to report."""
    columns = columns.astype(np.int32)
    highs.changeColsIntegrality(columns.size, columns, np.full(columns.size, highspy.HighsVarType.kInteger))
    highs.setOptionValue("solver", "choose")  # "simplex" or "ipm" would solve the relaxation
    highs.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    try:
        highs.run()
    finally:
        highs.setOptionValue("solver", str(options.get("solver", "choose")))
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        highs.changeColsIntegrality(columns.size, columns, np.full(columns.size, highspy.HighsVarType.kContinuous))
        return
    chosen = np.round(np.asarray(highs.getSolution().col_value)[columns])
    highs.changeColsBounds(columns.size, columns, chosen, chosen)
    highs.changeColsIntegrality(columns.size, columns, np.full(columns.size, highspy.HighsVarType.kContinuous))


_NOT_FINITE = ("the LP has a coefficient, cost or bound that is not a finite number (e.g. a covered sector "
               "with value_added_bn_cny = 0 makes its burden share infinite); check the inputs")
# what to do about each status other than optimal or infeasible, by HiGHS's status text
_HINTS: dict[str, str] = {
    "Time limit reached": "raise solver.time_limit_s, or try solver.method = 'ipm'",
    "Iteration limit reached": "raise or drop the iteration limit given with --solver-option "
                               "(simplex_iteration_limit, ipm_iteration_limit, pdlp_iteration_limit)",
    "Unbounded": "the objective can improve without limit: a constraint or objective added by a "
                 "script leaves a variable without a bound",
    "Empty": _NOT_FINITE,  # the LP was refused when passed, so HiGHS ran on none
    "Load error": _NOT_FINITE,
    "Model error": "the LP has a coefficient, cost or bound that is not a finite number; check the inputs",
    "Memory limit reached": "the LP does not fit in memory: keep model.pool_installations = true, "
                            "or use sector resolution",
    "Bound on objective reached": "a --solver-option (objective_bound) stopped HiGHS early: drop it",
    "Target for objective reached": "a --solver-option (objective_target) stopped HiGHS early: drop it",
    "Solution limit reached": "a --solver-option stopped HiGHS early: drop it",
    "Interrupted by user": "the solve was interrupted",
}
_DEFAULT_HINT = ("HiGHS failed inside its algorithm: try solver.presolve = 'off' or another "
                 "solver.method; --debug shows HiGHS's log")


def raise_unless_optimal(highs: highspy.Highs, name: str) -> None:
    """An InfeasibleError or SolverError unless HiGHS found an optimum."""
    model_status = highs.getModelStatus()
    status = highs.modelStatusToString(model_status)
    if model_status == highspy.HighsModelStatus.kOptimal:
        return
    if model_status in (highspy.HighsModelStatus.kInfeasible,
                        highspy.HighsModelStatus.kUnboundedOrInfeasible):
        raise InfeasibleError(
            f"model {name!r} is infeasible: the national targets, fixed ETS caps and "
            "simulation rule caps cannot all be met with the abatement potentials given "
            "(loosen national_cap_mt or ets_cap_mt in targets.csv, or add potential in mac.csv)"
        )
    raise SolverError(f"HiGHS stopped with status {status!r} on model {name!r} ({_HINTS.get(status, _DEFAULT_HINT)})")


# -- mapping back to components ------------------------------------------------------------


def _load_values(model: pyo.ConcreteModel, columns: list, col_value: np.ndarray) -> dict[str, np.ndarray]:
    for var, value in zip(columns, col_value.tolist()):
        var.set_value(value, skip_validation=True)
    values: dict[str, np.ndarray] = {}
    for component in model.component_objects(pyo.Var, active=True, descend_into=True):
        values[component.name] = np.fromiter(
            (0.0 if v.value is None else v.value for v in component.values()), float, len(component)
        )
    return values


def _load_duals(model: pyo.ConcreteModel, rows: list, row_dual: np.ndarray,
                dual_suffix: bool) -> dict[str, np.ndarray]:
    dual_by_row: dict[int, float] = {}
    constraint_of: dict[int, Any] = {}
    for row, dual in zip(rows, row_dual.tolist()):
        key = id(row.constraint)
        dual_by_row[key] = dual_by_row.get(key, 0.0) + dual  # a ranged row appears twice
        constraint_of[key] = row.constraint
    suffix = getattr(model, "dual", None)
    if dual_suffix and isinstance(suffix, pyo.Suffix):
        suffix.clear()
        for key, constraint in constraint_of.items():
            suffix[constraint] = dual_by_row[key]
    duals: dict[str, np.ndarray] = {}
    for component in model.component_objects(pyo.Constraint, active=True, descend_into=True):
        duals[component.name] = np.fromiter(
            (dual_by_row.get(id(c), 0.0) for c in component.values()), float, len(component)
        )
    return duals
