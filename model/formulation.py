"""Stage 1, the least-cost LP of DESIGN.md, built in bulk from ``Parameters``.

Each constraint family has one ``define_*`` function that computes its rows as arrays
(row position, variable, coefficient) and hands them to ``add_linear_rows``; no rule
runs per sector x step x year. Components carry domain names, so a dual maps back to
its sector and year (``m.market_balance[2030]``), and a script can add its own
constraints before solving::

    m = build_model(load_dataset("inputs/china"))
    m.steel_2030 = pyo.Constraint(expr=m.emissions_mt["steel", 2030] <= 1200)
    results = solve(m)

Sign convention: every price row is written "demand <= supply", so its dual in this
minimisation is <= 0 and the price in year-t money is -dual / discount factor.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .inputs import Dataset
from .parameters import OUTSIDE, SIMULATION, TRADING, Parameters, derive_parameters

Terms = tuple[np.ndarray, np.ndarray, np.ndarray]  # (row position, VarData, coefficient)


def build_model(source: Dataset | Parameters) -> pyo.ConcreteModel:
    """The stage-1 Pyomo model: minimise the present value of abatement cost under the targets."""
    parameters = source if isinstance(source, Parameters) else derive_parameters(source)
    m = pyo.ConcreteModel(name=parameters.dataset.name)
    m.parameters = parameters  # the numbers the model was built from, for solve and results
    define_sets(m, parameters)
    define_variables(m, parameters)
    define_emissions(m, parameters)
    define_national_target(m, parameters)
    define_cap_split(m, parameters)
    define_simulation_rule_cap(m, parameters)
    define_simulation_compliance(m, parameters)
    define_market_balance(m, parameters)
    define_abatement_cost(m, parameters)
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    return m


# -- sets and variables ----------------------------------------------------------------


def define_sets(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Years, sectors, available abatement steps, and the sector-years of each phase."""
    phase = p.sector_years["phase"]
    m.years = pyo.Set(initialize=p.years.tolist(), ordered=True, doc="model years")
    m.sectors = pyo.Set(initialize=p.sector_years.index.unique("sector").tolist(), ordered=True)
    m.abatement_steps = pyo.Set(
        initialize=list(p.steps.index), dimen=3, ordered=True, doc="(sector, step, year) available"
    )
    m.covered = pyo.Set(
        initialize=list(phase.index[phase != OUTSIDE]), dimen=2, ordered=True,
        doc="(sector, year) covered by the ETS, trading or in simulation",
    )
    m.simulation = pyo.Set(
        initialize=list(phase.index[phase == SIMULATION]), dimen=2, ordered=True,
        doc="(sector, year) in the simulation phase: own compliance against a rule cap",
    )
    m.market_years = pyo.Set(initialize=p.market_years.tolist(), ordered=True)


def define_variables(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Abatement by step (bounded by its potential), ETS cap, sector caps and the bank."""
    m.abatement_mt = pyo.Var(m.abatement_steps, domain=pyo.NonNegativeReals, doc="Mt CO2 abated")
    for var, potential in zip(_vars(m.abatement_mt), p.steps["potential_mt"].to_numpy()):
        var.setub(float(potential))
    m.ets_cap_mt = pyo.Var(m.years, domain=pyo.NonNegativeReals, doc="allowances issued, Mt")
    for var, fixed in zip(_vars(m.ets_cap_mt), p.targets["ets_cap_mt"].to_numpy()):
        if not np.isnan(fixed):
            var.fix(float(fixed))
    m.sector_cap_mt = pyo.Var(m.covered, domain=pyo.NonNegativeReals, doc="sector allowance budget, Mt")
    if p.banking:
        m.bank_mt = pyo.Var(m.years, domain=pyo.NonNegativeReals, doc="allowances banked at year end, Mt")
        m.bank_mt[p.years[-1]].setub(0.0)  # nothing is left in the bank after the horizon


def _vars(var: pyo.Var) -> np.ndarray:
    """The VarData of an indexed Var as an object array, in its index order."""
    return np.fromiter(var.values(), dtype=object, count=len(var))


# -- expressions -----------------------------------------------------------------------


def define_emissions(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Emissions[s,t] = BAU[s,t] - abatement summed over the sector's steps."""
    sector_years = p.sector_years.index
    rows = _positions(sector_years, _step_sector_year(p))
    expressions = _linear_expressions(
        len(sector_years), (rows, _vars(m.abatement_mt), -np.ones(len(rows))),
        p.sector_years["bau_mt"].to_numpy(),
    )
    m.emissions_mt = pyo.Expression(
        sector_years.tolist(), initialize=dict(zip(sector_years.tolist(), expressions)),
        doc="emissions by sector and year, Mt CO2",
    )


# -- constraints -----------------------------------------------------------------------


def define_national_target(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Allowances issued plus emissions of sectors outside the ETS stay within the national cap.

    Its dual is the national carbon value."""
    outside = _step_phase(p) == OUTSIDE
    year_rows = _year_positions(p, p.years)
    step_rows = _year_positions(p, _step_years(p)[outside])
    terms = [
        (year_rows, _vars(m.ets_cap_mt), np.ones(len(year_rows))),
        (step_rows, _vars(m.abatement_mt)[outside], -np.ones(len(step_rows))),
    ]
    bau = p.sector_years["bau_mt"].where(p.sector_years["phase"] == OUTSIDE, 0.0)
    constant = bau.groupby(level="year").sum().reindex(p.years).to_numpy()
    add_linear_rows(
        m, "national_target", m.years, p.years.size, terms, constant,
        upper=p.targets["national_cap_mt"].to_numpy(),
        doc="ets_cap + outside emissions <= national cap (Mt)",
    )


def define_cap_split(m: pyo.ConcreteModel, p: Parameters) -> None:
    """The ETS cap is split without remainder into the covered sectors' caps."""
    covered = pd.MultiIndex.from_tuples(list(m.covered), names=["sector", "year"])
    cap_rows = _year_positions(p, covered.get_level_values("year").to_numpy())
    year_rows = _year_positions(p, p.years)
    terms = [
        (cap_rows, _vars(m.sector_cap_mt), np.ones(len(cap_rows))),
        (year_rows, _vars(m.ets_cap_mt), -np.ones(len(year_rows))),
    ]
    add_linear_rows(
        m, "cap_split", m.years, p.years.size, terms, np.zeros(p.years.size),
        lower=np.zeros(p.years.size), upper=np.zeros(p.years.size),
        doc="sum of sector caps - ets_cap = 0 (Mt)",
    )


def define_simulation_rule_cap(m: pyo.ConcreteModel, p: Parameters) -> None:
    """In its simulation phase a sector's cap is set by rule: (1 - reduction) x BAU."""
    simulation = _simulation_index(m)
    rule_cap = p.sector_years["rule_cap_mt"].reindex(simulation).to_numpy()
    rows = np.arange(len(simulation))
    cap_vars = _vars(m.sector_cap_mt)[_positions(_covered_index(m), simulation)]
    add_linear_rows(
        m, "simulation_rule_cap", m.simulation, len(simulation),
        [(rows, cap_vars, np.ones(len(rows)))], np.zeros(len(rows)),
        lower=rule_cap, upper=rule_cap, doc="sector_cap = rule cap (Mt)",
    )


def define_simulation_compliance(m: pyo.ConcreteModel, p: Parameters) -> None:
    """A simulation-phase sector keeps its emissions within its own cap, without trading.

    Its dual is the sector's own carbon price."""
    simulation = _simulation_index(m)
    in_simulation = _step_phase(p) == SIMULATION
    step_rows = _positions(simulation, _step_sector_year(p)[in_simulation])
    rows = np.arange(len(simulation))
    cap_vars = _vars(m.sector_cap_mt)[_positions(_covered_index(m), simulation)]
    terms = [
        (step_rows, _vars(m.abatement_mt)[in_simulation], -np.ones(len(step_rows))),
        (rows, cap_vars, -np.ones(len(rows))),
    ]
    add_linear_rows(
        m, "simulation_compliance", m.simulation, len(simulation), terms,
        p.sector_years["bau_mt"].reindex(simulation).to_numpy(), upper=np.zeros(len(rows)),
        doc="emissions - sector_cap <= 0 (Mt)",
    )


def define_market_balance(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Trading sectors' emissions plus net banking stay within their caps (the initial
    bank counts in the first year). Its dual is the allowance price."""
    market_years = np.array(list(m.market_years), dtype=int)
    n = market_years.size
    trading = _step_phase(p) == TRADING
    step_years = _step_years(p)[trading]
    keep = np.isin(step_years, market_years)
    covered = _covered_index(m)
    cap_trading = (p.sector_years["phase"].reindex(covered) == TRADING).to_numpy()
    cap_years = covered.get_level_values("year").to_numpy()[cap_trading]
    terms = [
        (np.searchsorted(market_years, step_years[keep]), _vars(m.abatement_mt)[trading][keep],
         -np.ones(keep.sum())),
        (np.searchsorted(market_years, cap_years), _vars(m.sector_cap_mt)[cap_trading],
         -np.ones(cap_years.size)),
    ]
    if p.banking:
        bank = _vars(m.bank_mt)
        rows = np.arange(n)
        terms.append((rows, bank, np.ones(n)))  # bank at the end of year t
        terms.append((rows[1:], bank[:-1], -np.ones(n - 1)))  # bank brought in from t - 1
    trading_bau = p.sector_years["bau_mt"].where(p.sector_years["phase"] == TRADING, 0.0)
    constant = trading_bau.groupby(level="year").sum().reindex(market_years).to_numpy()
    upper = np.zeros(n)
    if n and market_years[0] == p.first_year:
        upper[0] = p.initial_bank_mt
    add_linear_rows(
        m, "market_balance", m.market_years, n, terms, constant, upper=upper,
        doc="trading emissions + bank[t] - bank[t-1] - trading caps <= 0 (Mt)",
    )


def define_abatement_cost(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Objective: present value of abatement cost, million CNY (Mt x CNY/t)."""
    discount = p.discount_factor.reindex(_step_years(p)).to_numpy()
    coefs = discount * p.steps["cost_cny_per_t"].to_numpy()
    m.abatement_cost = pyo.Objective(
        expr=LinearExpression(
            constant=0.0, linear_coefs=coefs.tolist(), linear_vars=_vars(m.abatement_mt).tolist()
        ),
        sense=pyo.minimize,
    )


# -- bulk row building -----------------------------------------------------------------


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
    expressions = _linear_expressions(n_rows, _concat(terms), constant)
    keys = list(index)
    constraint = pyo.Constraint(index, doc=doc)
    m.add_component(name, constraint)
    for i, (key, body) in enumerate(zip(keys, expressions)):
        lo = None if lower is None else float(lower[i])
        up = None if upper is None else float(upper[i])
        constraint[key] = (lo, body, up)
    return constraint


def _concat(terms: list[Terms]) -> Terms:
    if not terms:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=object), np.zeros(0)
    return (
        np.concatenate([t[0] for t in terms]).astype(int),
        np.concatenate([t[1] for t in terms]),
        np.concatenate([t[2] for t in terms]).astype(float),
    )


def _linear_expressions(n_rows: int, terms: Terms, constant: np.ndarray) -> list[LinearExpression]:
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


# -- index arithmetic ------------------------------------------------------------------


def _positions(index: pd.Index, keys: pd.Index | np.ndarray) -> np.ndarray:
    """Position of each key in ``index`` (all keys must be present)."""
    positions = index.get_indexer(keys)
    if (positions < 0).any():
        raise ValueError("internal: key not found in index")
    return positions


def _year_positions(p: Parameters, years: np.ndarray) -> np.ndarray:
    return np.asarray(years, dtype=int) - p.first_year


def _step_years(p: Parameters) -> np.ndarray:
    return p.steps.index.get_level_values("year").to_numpy()


def _step_sector_year(p: Parameters) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays(
        [p.steps.index.get_level_values("sector"), p.steps.index.get_level_values("year")],
        names=["sector", "year"],
    )


def _step_phase(p: Parameters) -> np.ndarray:
    return p.sector_years["phase"].reindex(_step_sector_year(p)).to_numpy()


def _covered_index(m: pyo.ConcreteModel) -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples(list(m.covered), names=["sector", "year"])


def _simulation_index(m: pyo.ConcreteModel) -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples(list(m.simulation), names=["sector", "year"])
