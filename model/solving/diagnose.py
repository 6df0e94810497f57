"""Explain an infeasible model: the smallest relaxation of its targets that makes it feasible.

An elastic copy of the model gets a nonnegative slack, in Mt CO2, on every target: the
rows of every family declared ``relaxable`` (each year's national cap,
``national_target``; each simulation-phase rule cap, ``simulation_rule_cap``) and each
fixed ETS cap (``ets_cap_mt``) may be raised. Three LPs follow, each
keeping the optimum of the one before:

1. the least total relaxation: how far the targets are from what the abatement
   potential allows;
2. the relaxation as late as possible: with banking, a shortfall in one year can also be
   covered by relaxing an earlier year and banking; the year that is short is reported;
3. the least abatement cost: the sectors at their full abatement potential are then those
   the targets really need, not an arbitrary choice among equally relaxed solutions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..errors import InfeasibleError
from ..families import FAMILIES
from ..lp.blocks import add_elastic_slack
from ..lazy import lazy_module
from ..parameters.derive import Parameters
from ..parameters.phases import TRADING
from .highs import solve_model

if TYPE_CHECKING:
    import pyomo.environ as pyo
else:
    pyo = lazy_module("pyomo.environ")

ETS_CAP = "ets_cap_mt"  # a fixed ETS cap is a bound on a variable, relaxed apart from the families' rows
SHOWN_ROWS = 20  # rows of the relaxation table in the message; the exception holds all
FULL_TOLERANCE = 1e-6  # relative: a sector this close to its potential counts as at it
TOTAL_TOLERANCE = 1e-9  # relative slack on the optimum each later LP keeps

Target = tuple[str, str, int]  # (target, sector or "", year)


def explain_infeasibility(model: pyo.ConcreteModel, options: Mapping[str, Any] | None = None) -> InfeasibleError:
    """The InfeasibleError for ``model``, with the smallest relaxation as a table and in its message."""
    elastic, relaxation_mt, caps = elastic_copy(model)
    p: Parameters = model.parameters
    lateness = {key: 1.0 + p.years[-1] - key[2] for key in relaxation_mt}
    cost = [objective.expr for objective in elastic.component_data_objects(pyo.Objective, active=True)]
    try:
        _solve_keeping(elastic, "smallest_total", sum(relaxation_mt.values()), options)
        _solve_keeping(elastic, "latest", sum(lateness[k] * v for k, v in relaxation_mt.items()), options)
        _solve_keeping(elastic, None, sum(cost), options)  # the model's own objective
    except InfeasibleError:
        return InfeasibleError(
            f"model {model.name!r} is infeasible even with every target relaxed: a constraint "
            "added by a script, or the bank rules, cannot be met"
        )
    table = relaxation_table(elastic, relaxation_mt, caps)
    return InfeasibleError(_message(model.name, table), relaxation=table)


def elastic_copy(model: pyo.ConcreteModel) -> tuple[pyo.ConcreteModel, dict[Target, Any], dict[Target, float]]:
    """A copy of ``model`` whose targets may each be raised by a nonnegative slack (Mt).

    Returns the copy, its slack variables and the target values, both by (target, sector, year).
    """
    elastic = model.clone(memo={id(model.parameters): model.parameters})
    rows = {_target_key(family.name, key): row for family in FAMILIES if family.relaxable
            for key, row in elastic.find_component(family.name).items()}
    # a fixed ETS cap is a variable with equal bounds (formulation.define_variables)
    fixed = {(ETS_CAP, "", year): var for year, var in elastic.ets_cap_mt.items()
             if var.fixed or (var.lb is not None and var.lb == var.ub)}
    keys = list(rows) + list(fixed)
    caps = {key: float(pyo.value(row.upper)) for key, row in rows.items()}
    # body <= cap becomes body - slack <= cap; a fixed ETS cap's slack enters fixed_ets_cap
    slack, _ = add_elastic_slack(elastic, "target_relaxation_mt", rows, doc="Mt CO2 added to a target",
                                 more_keys=list(fixed))
    caps.update({key: float(var.value if var.fixed else var.lb) for key, var in fixed.items()})
    for var in fixed.values():
        var.unfix()
        var.setlb(0.0)
        var.setub(None)
    elastic.fixed_ets_cap = pyo.Constraint(
        list(fixed), rule=lambda m, *key: m.ets_cap_mt[key[2]] - slack[key] == caps[key]
    )
    return elastic, {key: slack[key] for key in keys}, caps


def _target_key(family: str, key: Any) -> Target:
    """(target, sector or "", year) of a row keyed by year or by (sector, year)."""
    sector, year = key if isinstance(key, tuple) else ("", key)
    return family, str(sector), int(year)


def _solve_keeping(elastic: pyo.ConcreteModel, name: str | None, objective: Any,
                   options: Mapping[str, Any] | None) -> None:
    """Minimise ``objective``; then, if ``name`` is given, keep it at its optimum."""
    for active in elastic.component_data_objects(pyo.Objective, active=True):
        active.deactivate()
    elastic.del_component("diagnosis_objective")
    elastic.diagnosis_objective = pyo.Objective(expr=objective, sense=pyo.minimize)
    solve_model(elastic, options)
    if name is not None:
        optimum = pyo.value(objective)
        elastic.add_component(name, pyo.Constraint(
            expr=objective <= optimum + TOTAL_TOLERANCE * max(1.0, abs(optimum))))


def relaxation_table(elastic: pyo.ConcreteModel, relaxation_mt: dict[Target, Any],
                     caps: dict[Target, float]) -> pd.DataFrame:
    """One row per relaxed target: year, target, sector, cap_mt, relaxation_mt, and the
    sectors at their full abatement potential that the target draws on."""
    full = _sectors_at_full_potential(elastic)
    phase = elastic.parameters.sector_years["phase"]
    rows = []
    for key, slack in relaxation_mt.items():
        relaxed = round(float(slack.value or 0.0), 6)  # to the tonne
        if relaxed <= 0.0:
            continue
        target, sector, year = key
        at_full = full.get(year, [])
        if sector:  # a sector's own target (a simulation-phase rule cap) is met by it alone
            at_full = [s for s in at_full if s == sector]
        elif target == ETS_CAP:  # a fixed ETS cap is met by the trading sectors
            at_full = [s for s in at_full if phase[(s, year)] == TRADING]
        rows.append({
            "year": year, "target": target, "sector": sector, "cap_mt": caps[key],
            "relaxation_mt": relaxed, "sectors_at_full_potential": ", ".join(at_full),
        })
    columns = ["year", "target", "sector", "cap_mt", "relaxation_mt", "sectors_at_full_potential"]
    return pd.DataFrame(rows, columns=columns).sort_values(["year", "target", "sector"], ignore_index=True)


def _sectors_at_full_potential(elastic: pyo.ConcreteModel) -> dict[int, list[str]]:
    """By year, the sectors (in dataset order) that abate all the potential available to them:
    their own steps and, at facility resolution, their installations' (pooled, unpooled, and
    those in the simulation phase solved in closed form outside the LP)."""
    p: Parameters = elastic.parameters
    n_rows = len(p.sector_years)
    potential, used = np.zeros(n_rows), np.zeros(n_rows)
    for columns in p.abatement:
        values = elastic.find_component(columns.name).values()
        abated = np.fromiter((v.value or 0.0 for v in values), float, len(columns))
        potential += np.bincount(columns.rows, weights=columns.potential_mt, minlength=n_rows)
        used += np.bincount(columns.rows, weights=abated, minlength=n_rows)
    if p.presolved is not None:
        columns = p.presolved.columns
        potential += np.bincount(columns.rows, weights=columns.potential_mt, minlength=n_rows)
        used += np.bincount(columns.rows, weights=p.presolved.abatement_mt, minlength=n_rows)
    full = (potential > FULL_TOLERANCE) & (potential - used <= FULL_TOLERANCE * np.maximum(1.0, potential))
    by_year: dict[int, list[str]] = {}
    for sector, year in p.sector_years.index[full]:  # the grid is sector by sector: dataset order
        by_year.setdefault(int(year), []).append(str(sector))
    return by_year


def _message(name: str, table: pd.DataFrame) -> str:
    shown = table.head(SHOWN_ROWS).rename(columns={
        "cap_mt": "cap Mt", "relaxation_mt": "raise by Mt", "sectors_at_full_potential": "sectors at full potential"})
    text = shown.to_string(index=False, float_format=lambda x: f"{x:,.6g}")
    more = (f"\n... and {len(table) - SHOWN_ROWS} more rows (InfeasibleError.relaxation)"
            if len(table) > SHOWN_ROWS else "")
    return (
        f"model {name!r} is infeasible: the targets cannot all be met with the abatement potential "
        "given. The smallest relaxation that makes them feasible:\n"
        + "\n".join("  " + line for line in text.splitlines()) + more + "\n"
        "Raise these caps (national_cap_mt or ets_cap_mt in targets.csv; for a simulation_rule_cap, "
        "a smaller simulation_reduction in sectors.csv) or add abatement potential in mac.csv."
    )
