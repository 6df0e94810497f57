"""Stage 2: sector caps and free allocation, chosen on the solved stage-1 model.

With trading, many splits of the ETS cap cost the same; stage 2 keeps the stage-1
outcome (abatement, ETS cap and bank fixed, or total cost within
``allocation.cost_tolerance``) and chooses each covered sector's cap and free allocation:

    burden[s,t] = abatement cost[s,t] + price[t] x (emissions[s,t] - free[s,t])   (million CNY)

A simulation-phase sector cannot trade: its whole rule cap is given free and its burden
is its abatement cost. Two objectives, each made lexicographic so the answer is defined:

- ``min_max_burden``: minimise the largest burden share of value added in each year
  (summed over years); then, without raising it, auction as much as possible.

Either way the auctioned share of each year's ETS cap stays within
[``min_auction_share``, ``max_auction_share``] (targets.csv; a blank maximum is the
minimum), so a tie-break never auctions what policy gives free. A last goal picks, among
the allocations equally good for both, the one closest (in Mt) to one free share
``1 - min_auction_share`` for every sector: with the auction pinned, or where allowances
have no price, the first two goals do not tell sectors apart.
- ``max_auction_revenue``: maximise auction revenue with every burden share at most
  ``allocation.max_burden_share``; then, without losing revenue, minimise the largest
  burden shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..errors import InfeasibleError
from ..families import FAMILIES as STAGE1_FAMILIES
from ..families import define_family_variables, market_passes
from ..lazy import lazy_module
from ..lp.blocks import (LinearProgram, Objective, RowBlock, Term, VarBlock, add_elastic_slack, add_objective, add_rows,
                         add_variables, linear_expressions)
from ..parameters.derive import Parameters
from ..parameters.phases import OUTSIDE, SIMULATION, TRADING
from .highs import LpsInTurn, Solution, solve_model

if TYPE_CHECKING:
    import pyomo.environ as pyo
else:
    pyo = lazy_module("pyomo.environ")

LEXICOGRAPHIC_SLACK = 1e-10  # relative room left on the first objective when optimising the second
# allocation rules in the order they are suspected when stage 2 is infeasible
FAMILIES = ("burden_limit", "minimum_auction", "maximum_auction", "free_share_floor", "free_share_ceiling")


def allocate(model: pyo.ConcreteModel, stage1: Solution, prices_cny_per_t: pd.Series,
             options: Mapping[str, Any] | None = None, verbose: bool = False) -> Solution:
    """Add stage 2 to the solved model and solve it; returns the final (second) solution."""
    settings = model.parameters.dataset.settings
    define_allocation(model, prices_cny_per_t, stage1.objective, settings["allocation.cost_tolerance"])
    first, second = _objectives(model, settings["allocation.objective"])
    model.burden_limit.activate() if first is model.auction_revenue else model.burden_limit.deactivate()
    _activate_only(model, first)
    primary = _solve_or_explain(model, options, verbose)
    keep = (pyo.value(first.expr) * (1 - LEXICOGRAPHIC_SLACK) - LEXICOGRAPHIC_SLACK
            if first.sense == pyo.maximize else
            pyo.value(first.expr) * (1 + LEXICOGRAPHIC_SLACK) + LEXICOGRAPHIC_SLACK)
    model.keep_first_objective = pyo.Constraint(
        expr=(first.expr >= keep) if first.sense == pyo.maximize else (first.expr <= keep))
    _activate_only(model, second)
    middle = solve_model(model, options, verbose=verbose, dual_suffix=False)
    # With the auctioned share pinned (max = min) and in years without a price, neither goal
    # tells sectors apart: the last one picks, of the equally good allocations, the one
    # closest to one free share for all (as a rate-based allocation gives), so the answer is unique.
    model.keep_second_objective = pyo.Constraint(expr=_kept(second))
    _activate_only(model, model.uniform_share_objective)
    # simplex: a vertex, the same whichever method solved the goals before (PDLP stalled here)
    final = solve_model(model, {**(options or {}), "solver": "simplex"}, verbose=verbose, dual_suffix=False)
    final.seconds = {f"allocation_{k}": v + primary.seconds.get(k, 0.0) + middle.seconds.get(k, 0.0)
                     for k, v in final.seconds.items()}
    return final


def allocate_lp(p: Parameters, stage1_lp: LinearProgram, stage1: Solution, prices_cny_per_t: pd.Series,
                options: Mapping[str, Any] | None = None, verbose: bool = False) -> Solution:
    """Stage 2 as numpy blocks solved by HiGHS directly (the default route, with no Pyomo
    model): the same LP and lexicographic order as ``allocate``, which builds it on a Pyomo
    model. An InfeasibleError here carries no explanation: the caller asks ``allocate``."""
    settings = p.dataset.settings
    variables = dict(stage1_lp.variables)
    released = {family.name for family in STAGE1_FAMILIES if not family.held_in_stage2}
    rows = [block for block in stage1_lp.rows if block.name not in released]  # stage 1's rows hold in stage 2
    tolerance = settings["allocation.cost_tolerance"]
    regimes = [name for name, block in variables.items() if block.integer]  # a rule's regimes: stage 1's,
    for name in regimes:  # fixed, so continuous: each goal is an LP (a MIP of fixed columns gave the same)
        block, held_at = variables[name], np.round(stage1.values[name])
        variables[name] = VarBlock(block.name, block.keys, held_at.copy(), held_at.copy(), block.doc)
    if tolerance > 0:  # the stage-1 cost may rise by the tolerance
        assert stage1_lp.objective is not None
        rows.append(_objective_row("stage1_cost_limit", stage1_lp.objective, upper=stage1.objective * (1 + tolerance)))
        held_market = [market_pass.variable for market_pass in stage1_lp.market_passes]  # the market's, after the caps
        for name in held_market + _held_family_variables(p):  # and the rules' market outcome (families declare it)
            block = variables[name]
            if name in regimes:  # held at stage 1's, rounded, above
                continue
            variables[name] = VarBlock(block.name, block.keys, stage1.values[name].copy(), stage1.values[name].copy(),
                                       block.doc)
    else:  # stage 1's decisions held by equal bounds, as _keep_stage1_outcome does
        held = [columns.name for columns in p.abatement] + ["ets_cap_mt"] + [  # and the rules' own (bank, offsets)
            block.name for block in define_family_variables(p)]
        for name in held:
            block, held_at = variables[name], stage1.values[name]
            variables[name] = VarBlock(block.name, block.keys, held_at.copy(), held_at.copy(), block.doc)
    n_covered = len(p.covered_index)
    years = _covered_years(p)
    variables["free_allocation_mt"] = VarBlock("free_allocation_mt", p.covered_index.tolist(), np.zeros(n_covered),
                                               np.full(n_covered, np.inf), "free allowances, Mt")
    variables["largest_burden_share_pct"] = VarBlock(
        "largest_burden_share_pct", years.tolist(), np.full(years.size, -np.inf), np.full(years.size, np.inf),
        "largest burden share of value added in the year, %")
    burden_objective, auction_revenue = define_burden_objective(p), define_auction_revenue(p, prices_cny_per_t)
    revenue_first = settings["allocation.objective"] == "max_auction_revenue"
    first, second = (auction_revenue, burden_objective) if revenue_first else (burden_objective, auction_revenue)
    for block in define_uniform_share_gap_variables(p):
        variables[block.name] = block
    rows += [define_free_share_floor(p), define_free_share_ceiling(p), define_simulation_free_allocation(p),
             define_minimum_auction(p), define_maximum_auction(p), define_burden_epigraph(p, prices_cny_per_t),
             define_uniform_share_gap(p)]
    if revenue_first:
        rows.append(define_burden_limit(p, prices_cny_per_t))
    goals = LpsInTurn(p.dataset.name, verbose)  # each goal from the last one's optimum
    primary = goals.solve(LinearProgram(variables, rows, first), options)
    value = primary.objective
    keep = (value * (1 - LEXICOGRAPHIC_SLACK) - LEXICOGRAPHIC_SLACK if first.sense == "maximize" else
            value * (1 + LEXICOGRAPHIC_SLACK) + LEXICOGRAPHIC_SLACK)
    maximised = first.sense == "maximize"
    keep_row = _objective_row("keep_first_objective", first, lower=keep if maximised else None,
                              upper=None if maximised else keep)
    middle = goals.solve(LinearProgram(variables, [*rows, keep_row], second), options)
    # the last goal, as in ``allocate``: of the equally good allocations, the one closest to
    # one free share for all (simplex: a vertex whichever method solved the goals before)
    slack = 1e-8 * (abs(middle.objective) + 1.0)
    maximised = second.sense == "maximize"
    keep_second = _objective_row("keep_second_objective", second,
                                 lower=middle.objective - slack if maximised else None,
                                 upper=None if maximised else middle.objective + slack)
    final = goals.solve(LinearProgram(variables, [*rows, keep_row, keep_second], define_uniform_share_objective(p)),
                        {**(options or {}), "solver": "simplex"})
    final.seconds = {f"allocation_{k}": v + primary.seconds.get(k, 0.0) + middle.seconds.get(k, 0.0)
                     for k, v in final.seconds.items()}
    return final


def _objective_row(name: str, objective: Objective, lower: float | None = None,
                   upper: float | None = None) -> RowBlock:
    """One row bounding an objective's value (its terms and constant)."""
    terms = [term._replace(rows=np.zeros(len(term.positions), dtype=int)) for term in objective.terms]
    return RowBlock(name, [name], terms, constant=np.full(1, objective.constant),
                    lower=None if lower is None else np.full(1, lower),
                    upper=None if upper is None else np.full(1, upper), doc=f"bound on {objective.name}")


def _kept(objective: pyo.Objective, slack: float = 1e-8) -> Any:
    """The row that keeps a solved objective at its optimum, within a relative and absolute
    ``slack`` (looser than LEXICOGRAPHIC_SLACK: two rows held that tight together can leave
    HiGHS no point within its tolerances)."""
    value = pyo.value(objective.expr)
    if objective.sense == pyo.maximize:
        return objective.expr >= value - slack * (abs(value) + 1.0)
    return objective.expr <= value + slack * (abs(value) + 1.0)


def define_allocation(m: pyo.ConcreteModel, prices_cny_per_t: pd.Series, stage1_cost: float,
                      cost_tolerance: float) -> None:
    """Stage-2 variables, rows and objectives on the same model (stage-1 objective off)."""
    p: Parameters = m.parameters
    _keep_stage1_outcome(m, stage1_cost, cost_tolerance)
    for family in STAGE1_FAMILIES:  # stage 1's rows hold in stage 2 unless their family says not
        if not family.held_in_stage2 and m.find_component(family.name) is not None:
            m.find_component(family.name).deactivate()
    n_covered = len(p.covered_index)
    add_variables(m, VarBlock("free_allocation_mt", p.covered_index.tolist(), np.zeros(n_covered),
                              np.full(n_covered, np.inf), "free allowances, Mt"), m.covered)
    years = _covered_years(p)
    add_variables(m, VarBlock("largest_burden_share_pct", years.tolist(), np.full(years.size, -np.inf),
                              np.full(years.size, np.inf), "largest burden share of value added in the year, %"))
    for block in (define_free_share_floor(p), define_free_share_ceiling(p), define_simulation_free_allocation(p),
                  define_minimum_auction(p), define_maximum_auction(p), define_burden_epigraph(p, prices_cny_per_t),
                  define_burden_limit(p, prices_cny_per_t)):
        add_rows(m, block)
    for var_block in define_uniform_share_gap_variables(p):
        add_variables(m, var_block, m.covered)
    add_rows(m, define_uniform_share_gap(p))
    define_burden(m, p, prices_cny_per_t)
    add_objective(m, define_burden_objective(p))
    add_objective(m, define_auction_revenue(p, prices_cny_per_t))
    add_objective(m, define_uniform_share_objective(p))
    m.abatement_cost.deactivate()


def _keep_stage1_outcome(m: pyo.ConcreteModel, stage1_cost: float, cost_tolerance: float) -> None:
    """Fix what stage 1 decided, or bound its cost when a tolerance is given (a rule's
    regimes, integer variables, are stage 1's either way)."""
    for component in m.component_objects(pyo.Var, active=True):
        first = next(iter(component.values()), None)
        if first is None or not first.is_integer():  # a block is integer throughout or not at all
            continue  # (lp.add_variables): continuous blocks are not walked element by element
        for var in component.values():
            var.setlb(round(var.value))
            var.setub(round(var.value))
    if cost_tolerance > 0:
        m.stage1_cost_limit = pyo.Constraint(
            expr=m.abatement_cost.expr <= stage1_cost * (1 + cost_tolerance),
            doc="abatement cost within the tolerance of its least value (million CNY, PV)")
        held_market = [market_pass.variable for market_pass in market_passes(m.parameters)]  # the market's: stage 1's
        for name in held_market + _held_family_variables(m.parameters):
            for var in m.find_component(name).values():
                var.setlb(var.value)
                var.setub(var.value)
        return
    # Equal bounds rather than var.fix: rows left with only fixed variables (the national
    # targets) would be checked exactly by Pyomo's compiler, while HiGHS applies tolerances.
    held = [m.find_component(columns.name) for columns in m.parameters.abatement]
    held += [m.ets_cap_mt, *(m.find_component(block.name) for block in define_family_variables(m.parameters))]
    for component in held:
        for var in component.values():
            var.setlb(var.value)
            var.setub(var.value)


def _held_family_variables(p: Parameters) -> list[str]:
    """The variables of the families that keep their values in stage 2 whatever the cost
    tolerance (``Family.values_held_in_stage2``: the market's outcome under their rule)."""
    return [block.name for family in STAGE1_FAMILIES if family.values_held_in_stage2 and family.variables is not None
            for block in family.variables(p)]


def _covered_years(p: Parameters) -> np.ndarray:
    return np.unique(p.covered_index.get_level_values("year")).astype(int)


def _positions_in_phase(p: Parameters, phase: str) -> np.ndarray:
    return np.flatnonzero(p.sector_years["phase"].reindex(p.covered_index).to_numpy() == phase)


def define_free_share_floor(p: Parameters) -> RowBlock:
    """A trading sector gets at least free_share_min of its cap free."""
    return _free_versus_cap(p, "free_share_floor", "free_share_min", lower=True)


def define_free_share_ceiling(p: Parameters) -> RowBlock:
    """A trading sector gets at most free_share_max of its cap free."""
    return _free_versus_cap(p, "free_share_ceiling", "free_share_max", lower=False)


def _free_versus_cap(p: Parameters, name: str, bound: str, lower: bool) -> RowBlock:
    trading = _positions_in_phase(p, TRADING)
    keys = p.covered_index[trading]
    share = p.sector_years[bound].reindex(keys).to_numpy()
    n = trading.size
    return RowBlock(
        name, keys.tolist(),
        [Term("free_allocation_mt", np.arange(n), trading, np.ones(n)),
         Term("sector_cap_mt", np.arange(n), trading, -share)],
        constant=np.zeros(n), lower=np.zeros(n) if lower else None, upper=None if lower else np.zeros(n),
        doc=f"free {'>=' if lower else '<='} {bound} x sector_cap (Mt)",
    )


def define_simulation_free_allocation(p: Parameters) -> RowBlock:
    """A simulation-phase sector cannot trade: its whole rule cap is given free."""
    simulation = _positions_in_phase(p, SIMULATION)
    n = simulation.size
    return RowBlock(
        "simulation_free_allocation", p.covered_index[simulation].tolist(),
        [Term("free_allocation_mt", np.arange(n), simulation, np.ones(n)),
         Term("sector_cap_mt", np.arange(n), simulation, -np.ones(n))],
        constant=np.zeros(n), lower=np.zeros(n), upper=np.zeros(n), doc="free - sector_cap = 0 (Mt)",
    )


def define_minimum_auction(p: Parameters) -> RowBlock:
    """At least min_auction_share of the ETS cap is auctioned each year."""
    return _auction_share_rows(p, "minimum_auction", "min_auction_share", at_least=True)


def define_maximum_auction(p: Parameters) -> RowBlock:
    """At most max_auction_share of the ETS cap is auctioned each year (default: the
    min_auction_share, so the tie-breaks cannot auction what policy gives free)."""
    return _auction_share_rows(p, "maximum_auction", "max_auction_share", at_least=False)


def _auction_share_rows(p: Parameters, name: str, column: str, at_least: bool) -> RowBlock:
    """sum free - (1 - share) x sum caps, <= 0 for a minimum auctioned share, >= 0 for a maximum."""
    covered_years = p.covered_index.get_level_values("year").to_numpy()
    years = _covered_years(p)
    row = np.searchsorted(years, covered_years)
    n_covered = covered_years.size
    free_share = 1.0 - p.targets[column].reindex(years).to_numpy()
    zeros = np.zeros(years.size)
    return RowBlock(
        name, years.tolist(),
        [Term("free_allocation_mt", row, np.arange(n_covered), np.ones(n_covered)),
         Term("sector_cap_mt", row, np.arange(n_covered), -free_share[row])],
        constant=zeros, upper=zeros if at_least else None, lower=None if at_least else zeros,
        doc=f"sum free - (1 - {column}) x sum caps {'<=' if at_least else '>='} 0 (Mt)",
    )


def define_uniform_share_gap_variables(p: Parameters) -> list[VarBlock]:
    """Free allowances above and below the year's uniform free share of the sector cap, Mt."""
    n = len(p.covered_index)
    return [VarBlock(name, p.covered_index.tolist(), np.zeros(n), np.full(n, np.inf),
                     f"free allowances {side} (1 - min_auction_share) x sector cap, Mt")
            for name, side in (("free_above_uniform_mt", "above"), ("free_below_uniform_mt", "below"))]


def define_uniform_share_gap(p: Parameters) -> RowBlock:
    """free - (1 - min_auction_share of the year) x sector cap = above - below, by covered sector-year."""
    n = len(p.covered_index)
    every = np.arange(n)
    uniform = 1.0 - p.targets["min_auction_share"].to_numpy()[p.year_position(p.year_of_row[p.covered_rows])]
    return RowBlock(
        "uniform_share_gap", p.covered_index.tolist(),
        [Term("free_allocation_mt", every, every, np.ones(n)), Term("sector_cap_mt", every, every, -uniform),
         Term("free_above_uniform_mt", every, every, -np.ones(n)),
         Term("free_below_uniform_mt", every, every, np.ones(n))],
        constant=np.zeros(n), lower=np.zeros(n), upper=np.zeros(n),
        doc="free - (1 - min auction share) x sector_cap - above + below = 0 (Mt)",
    )


def define_uniform_share_objective(p: Parameters) -> Objective:
    """Last tie-break: distance of the free allocation from one free share for all, each
    sector-year's Mt per 1,000 bn CNY of its value added (relative to its size; a plain sum of
    Mt would leave many equally distant splits)."""
    n = len(p.covered_index)
    rows, every = np.zeros(n, dtype=int), np.arange(n)
    weight = 1e3 / p.sector_years["value_added_bn_cny"].reindex(p.covered_index).to_numpy()
    return Objective("uniform_share_objective", [Term("free_above_uniform_mt", rows, every, weight),
                                                 Term("free_below_uniform_mt", rows, every, weight)],
                     doc="sum of free allowances away from the uniform free share, Mt per 1,000 bn CNY value added")


def _burden_terms(p: Parameters, prices_cny_per_t: pd.Series, scale: np.ndarray) -> tuple[list[Term], np.ndarray]:
    """scale x burden[s,t] as terms and constants by covered sector-year, where burden =
    abatement cost + price x (BAU - abatement - free) for trading sectors (million CNY)."""
    covered = p.covered_index
    price = prices_cny_per_t.to_numpy()[p.year_position(p.year_of_row[p.covered_rows])]
    market_price = np.where(p.phase[p.covered_rows] == TRADING, np.nan_to_num(price), 0.0)
    n = len(covered)
    terms = []
    for columns in p.abatement:
        chosen = np.flatnonzero(p.phase[columns.rows] != OUTSIDE)
        row = p.covered_position(columns.rows[chosen])
        terms.append(Term(columns.name, row, chosen,
                          (columns.cost_cny_per_t[chosen] - market_price[row]) * scale[row]))
    terms.append(Term("free_allocation_mt", np.arange(n), np.arange(n), -market_price * scale))
    constant = (market_price * p.sector_years["bau_mt"].to_numpy()[p.covered_rows]
                + p.presolved_cost_by_row[p.covered_rows])  # installations solved outside the LP
    return terms, constant * scale


def define_burden(m: pyo.ConcreteModel, p: Parameters, prices_cny_per_t: pd.Series) -> None:
    """burden[s,t] = abatement cost + price x (emissions - free), million CNY in year-t money;
    the market term only for trading sectors (a simulation-phase sector cannot trade)."""
    covered = p.covered_index
    terms, constant = _burden_terms(p, prices_cny_per_t, np.ones(len(covered)))
    m.burden_mcny = pyo.Expression(
        covered.tolist(), initialize=dict(zip(covered.tolist(), linear_expressions(m, len(covered), terms, constant))),
        doc="compliance burden, million CNY (year-t money)")


def _burden_percent_terms(p: Parameters, prices_cny_per_t: pd.Series) -> tuple[list[Term], np.ndarray]:
    """100 x burden / value added. Percent, not a fraction, keeps HiGHS's absolute tolerances
    far below a tonne of allowances."""
    value_added_mcny = p.sector_years["value_added_bn_cny"].reindex(p.covered_index).to_numpy() * 1e3
    return _burden_terms(p, prices_cny_per_t, 100.0 / value_added_mcny)


def define_burden_epigraph(p: Parameters, prices_cny_per_t: pd.Series) -> RowBlock:
    """largest_burden_share_pct[t] >= 100 x burden[s,t] / value added[s] for every covered sector-year."""
    covered = p.covered_index
    terms, constant = _burden_percent_terms(p, prices_cny_per_t)
    n = len(covered)
    year_of_row = np.searchsorted(_covered_years(p), covered.get_level_values("year"))
    terms.append(Term("largest_burden_share_pct", np.arange(n), year_of_row, -np.ones(n)))
    return RowBlock("burden_epigraph", covered.tolist(), terms, constant, upper=np.zeros(n),
                    doc="100 x burden / value added - largest_burden_share_pct <= 0")


def define_burden_limit(p: Parameters, prices_cny_per_t: pd.Series) -> RowBlock:
    """With max_auction_revenue: every burden share stays within the year's max_burden_share."""
    covered = p.covered_index
    terms, constant = _burden_percent_terms(p, prices_cny_per_t)
    limit = 100.0 * p.targets["max_burden_share"].to_numpy()[p.year_position(p.year_of_row[p.covered_rows])]
    return RowBlock("burden_limit", covered.tolist(), terms, constant, upper=limit,
                    doc="100 x burden / value added <= 100 x max_burden_share of the year")


def define_burden_objective(p: Parameters) -> Objective:
    """Sum over years of the largest burden share (percent of value added)."""
    n = _covered_years(p).size
    return Objective("burden_objective", [Term("largest_burden_share_pct", np.zeros(n, dtype=int), np.arange(n),
                                               np.ones(n))], doc="sum over years of the largest burden share, %")


def define_auction_revenue(p: Parameters, prices_cny_per_t: pd.Series) -> Objective:
    """Auction revenue, million CNY: price x (caps - free allocation) summed over years."""
    covered = p.covered_index
    price = prices_cny_per_t.reindex(covered.get_level_values("year")).fillna(0.0).to_numpy()
    n = len(covered)
    rows, every = np.zeros(n, dtype=int), np.arange(n)
    return Objective("auction_revenue", [Term("sector_cap_mt", rows, every, price),
                                         Term("free_allocation_mt", rows, every, -price)],
                     sense="maximize", doc="auction revenue, million CNY (year-t money, undiscounted)")


def _objectives(m: pyo.ConcreteModel, name: str) -> tuple[pyo.Objective, pyo.Objective]:
    if name == "max_auction_revenue":
        return m.auction_revenue, m.burden_objective
    return m.burden_objective, m.auction_revenue


def _activate_only(m: pyo.ConcreteModel, objective: pyo.Objective) -> None:
    for candidate in (m.abatement_cost, m.burden_objective, m.auction_revenue, m.uniform_share_objective):
        candidate.activate() if candidate is objective else candidate.deactivate()


def _solve_or_explain(m: pyo.ConcreteModel, options: Mapping[str, Any] | None, verbose: bool) -> Solution:
    """Solve; if the allocation rules cannot all hold, name the rule family and years."""
    try:
        return solve_model(m, options, verbose=verbose, dual_suffix=False)
    except InfeasibleError:
        raise InfeasibleError(_explain_allocation_infeasibility(m, options)) from None


def _explain_allocation_infeasibility(m: pyo.ConcreteModel, options: Mapping[str, Any] | None) -> str:
    """The first rule family whose removal makes stage 2 feasible, and the years in which
    it must be broken (those where an elastic version of it needs slack)."""
    for name in (n for n in FAMILIES if m.find_component(n).active):
        family = m.find_component(name)
        family.deactivate()
        try:
            solve_model(m, options, dual_suffix=False)
        except InfeasibleError:
            continue
        finally:
            family.activate()
        years = _years_needing_slack(m, family, options)
        return (f"the allocation rules cannot all be met: {name} fails in "
                f"{', '.join(map(str, years)) or 'some years'}; {_HINTS[name]}")
    return ("the allocation rules cannot all be met together (check free-share bounds in sectors.csv "
            "and allocation.csv, min_auction_share in targets.csv and allocation.max_burden_share)")


def _years_needing_slack(m: pyo.ConcreteModel, family: pyo.Constraint, options: Mapping[str, Any] | None) -> list[int]:
    """Let ``family``'s rows be missed by a nonnegative slack (``lp.add_elastic_slack``, as the
    diagnosis does), minimise the total slack, and return the years of rows that still
    need some; the model is left as it was."""
    keys = list(family.keys())
    objectives = [o for o in m.component_data_objects(pyo.Objective, active=True)]
    slack, restore = add_elastic_slack(m, "allocation_slack", dict(family.items()),
                                       doc="by how much the rule is missed, in its own unit")
    m.allocation_slack_total = pyo.Objective(expr=sum(slack.values()))
    for objective in objectives:
        objective.deactivate()
    try:
        solution = solve_model(m, options, dual_suffix=False)
        needed = solution.values["allocation_slack"]
        return sorted({_year_of(key) for key, value in zip(keys, needed) if value > 1e-7})
    finally:
        for objective in objectives:
            objective.activate()
        m.del_component("allocation_slack_total")
        restore()


def _year_of(key: Any) -> int:
    return int(key[-1]) if isinstance(key, tuple) else int(key)


_HINTS: dict[str, str] = {
    "free_share_floor": "lower free_share_min (sectors.csv or allocation.csv) or min_auction_share (targets.csv)",
    "free_share_ceiling": "raise free_share_max in sectors.csv or allocation.csv",
    "minimum_auction": "lower min_auction_share in targets.csv or the free-share floors of leakage-exposed sectors",
    "maximum_auction": "raise max_auction_share in targets.csv (blank means min_auction_share) or "
                       "free_share_max in sectors.csv or allocation.csv",
    "burden_limit": "raise max_burden_share in targets.csv (or allocation.max_burden_share) "
                    "or use objective = 'min_max_burden'",
}
