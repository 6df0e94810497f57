"""Stage 1, the least-cost LP of DESIGN.md, computed in bulk from ``Parameters``.

Each constraint family is one declaration in ``model/families/`` whose ``define_*``
function returns its rows as arrays (a ``RowBlock``: row position, variable, coefficient,
constant, bounds); no rule runs per sector x step x year. ``formulate`` collects them into a ``LinearProgram`` and
``build_model`` renders it as a Pyomo model whose components carry the same domain
names, so a dual maps back to its sector and year (``m.market_balance[2030]``) and a
script can add its own constraints before solving::

    m = build_model(load_dataset("inputs/china"))
    m.steel_2030 = pyo.Constraint(expr=m.emissions_mt["steel", 2030] <= 1200)
    results = solve(m)

Sign convention: every price row is written "demand <= supply", so its dual in this
minimisation is <= 0 and the price in year-t money is -dual / discount factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..families import abatement_terms, define_family_variables, define_rows, family_costs, market_passes
from ..data.inputs import Dataset
from ..lazy import lazy_module
from .blocks import (LinearProgram, Objective, Term, VarBlock, add_objective, add_rows, add_variables,
                     linear_expressions)
from ..parameters.derive import Parameters, derive_parameters

if TYPE_CHECKING:
    import pyomo.environ as pyo
else:
    pyo = lazy_module("pyomo.environ")


def build_model(source: Dataset | Parameters) -> pyo.ConcreteModel:
    """The stage-1 Pyomo model: minimise the present value of abatement cost under the targets."""
    parameters = source if isinstance(source, Parameters) else derive_parameters(source)
    lp = formulate(parameters)
    m = pyo.ConcreteModel(name=parameters.dataset.name)
    m.parameters = parameters  # the numbers the model was built from, for solve and results
    define_sets(m, parameters)
    index_sets = {"abatement_mt": m.abatement_steps, "ets_cap_mt": m.years,
                  "sector_cap_mt": m.covered, "bank_mt": m.years}
    for var_block in lp.variables.values():
        add_variables(m, var_block, index_sets.get(var_block.name))
    define_emissions(m, parameters)
    for block in lp.rows:
        add_rows(m, block)
    assert lp.objective is not None  # formulate always gives the cost to minimise
    add_objective(m, lp.objective)
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    return m


def formulate(p: Parameters) -> LinearProgram:
    """Stage 1 as arrays: variables, the constraint families in their list's order
    (``families.FAMILIES``), the objective."""
    return LinearProgram(
        variables={block.name: block for block in [*define_variables(p), *define_family_variables(p)]},
        rows=define_rows(p),
        objective=define_abatement_cost(p),
        market_passes=market_passes(p),
    )


# -- sets and variables ----------------------------------------------------------------


def define_sets(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Years, sectors, available abatement steps, and the sector-years of each phase."""
    m.years = pyo.Set(initialize=p.years.tolist(), ordered=True, doc="model years")
    m.sectors = pyo.Set(initialize=p.sector_years.index.unique("sector").tolist(), ordered=True)
    m.abatement_steps = pyo.Set(
        initialize=list(p.steps.index), dimen=3, ordered=True, doc="(sector, step, year) available"
    )
    m.covered = pyo.Set(initialize=p.covered_index.tolist(), dimen=2, ordered=True,
                        doc="(sector, year) covered by the ETS, trading or in simulation")
    m.simulation = pyo.Set(initialize=p.simulation_index.tolist(), dimen=2, ordered=True,
                           doc="(sector, year) in the simulation phase: own compliance against a rule cap")
    m.market_years = pyo.Set(initialize=p.market_years.tolist(), ordered=True)


def define_variables(p: Parameters) -> list[VarBlock]:
    """Abatement by step (bounded by its potential), the ETS cap (fixed where targets.csv
    gives it), sector caps and the trading sectors' total cap; families declare their own
    (the bank) after these."""
    n_covered = len(p.covered_index)
    ets_cap = p.targets["ets_cap_mt"].to_numpy()
    blocks = [
        *(VarBlock(columns.name, columns.keys, np.zeros(len(columns)), columns.potential_mt,
                   f"Mt CO2 abated, by {', '.join(columns.keys.names)}") for columns in p.abatement),
        VarBlock("ets_cap_mt", p.years.tolist(), np.nan_to_num(ets_cap, nan=0.0),
                 np.where(np.isnan(ets_cap), np.inf, ets_cap), "allowances issued, Mt"),
        VarBlock("sector_cap_mt", p.covered_index.tolist(), np.zeros(n_covered), np.full(n_covered, np.inf),
                 "sector allowance budget, Mt"),
        VarBlock("trading_cap_mt", p.trading_years.tolist(), np.zeros(p.trading_years.size),
                 np.full(p.trading_years.size, np.inf), "sum of the trading sectors' caps, Mt"),
    ]
    return blocks  # the bank is the bank family's (families/bank.py)


# -- expressions -----------------------------------------------------------------------


def define_emissions(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Emissions[s,t] = BAU[s,t] - abatement summed over the sector's steps (and the steps of
    its installations solved outside the LP)."""
    sector_years = p.sector_years.index
    expressions = linear_expressions(
        m, len(sector_years), abatement_terms(p, np.arange(len(sector_years))),
        p.sector_years["bau_mt"].to_numpy() - p.presolved_abatement_by_row,
    )
    m.emissions_mt = pyo.Expression(
        sector_years.tolist(), initialize=dict(zip(sector_years.tolist(), expressions)),
        doc="emissions by sector and year, Mt CO2",
    )


# -- constraints: one file per family in model/families/, ordered by families.FAMILIES ----


def define_abatement_cost(p: Parameters) -> Objective:
    """Objective: present value of abatement cost, million CNY (Mt x CNY/t), and of the
    supply families declare a cost for (offsets, reserve releases, ceiling sales)."""
    discount = p.discount_factor.to_numpy()
    presolved_cost = float(np.sum(discount[p.year_of_row - p.first_year] * p.presolved_cost_by_row))
    return Objective("abatement_cost", [
        Term(columns.name, np.zeros(len(columns), dtype=int), np.arange(len(columns)),
             discount[p.year_of_row[columns.rows] - p.first_year] * columns.cost_cny_per_t)
        for columns in p.abatement] + family_costs(p), doc="present value of abatement cost, million CNY",
        constant=presolved_cost)
