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

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .inputs import Dataset
from .parameters import OUTSIDE, SIMULATION, TRADING, Parameters, derive_parameters
from .rows import add_linear_rows, linear_expressions, positions, var_array


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
    define_trading_cap_shares(m, parameters)
    define_absolute_caps(m, parameters)
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
    for var, potential in zip(var_array(m.abatement_mt), p.steps["potential_mt"].to_numpy()):
        var.setub(float(potential))
    m.ets_cap_mt = pyo.Var(m.years, domain=pyo.NonNegativeReals, doc="allowances issued, Mt")
    for var, fixed in zip(var_array(m.ets_cap_mt), p.targets["ets_cap_mt"].to_numpy()):
        if not np.isnan(fixed):
            var.fix(float(fixed))
    m.sector_cap_mt = pyo.Var(m.covered, domain=pyo.NonNegativeReals, doc="sector allowance budget, Mt")
    if p.banking:
        m.bank_mt = pyo.Var(m.years, domain=pyo.NonNegativeReals, doc="allowances banked at year end, Mt")
        m.bank_mt[p.years[-1]].setub(0.0)  # nothing is left in the bank after the horizon


# -- expressions -----------------------------------------------------------------------


def define_emissions(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Emissions[s,t] = BAU[s,t] - abatement summed over the sector's steps."""
    sector_years = p.sector_years.index
    rows = positions(sector_years, p.step_sector_years())
    expressions = linear_expressions(
        len(sector_years), (rows, var_array(m.abatement_mt), -np.ones(len(rows))),
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
    outside = p.step_phase() == OUTSIDE
    year_rows = _year_positions(p, p.years)
    step_rows = _year_positions(p, p.step_years()[outside])
    terms = [
        (year_rows, var_array(m.ets_cap_mt), np.ones(len(year_rows))),
        (step_rows, var_array(m.abatement_mt)[outside], -np.ones(len(step_rows))),
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
        (cap_rows, var_array(m.sector_cap_mt), np.ones(len(cap_rows))),
        (year_rows, var_array(m.ets_cap_mt), -np.ones(len(year_rows))),
    ]
    add_linear_rows(
        m, "cap_split", m.years, p.years.size, terms, np.zeros(p.years.size),
        lower=np.zeros(p.years.size), upper=np.zeros(p.years.size),
        doc="sum of sector caps - ets_cap = 0 (Mt)",
    )


def define_simulation_rule_cap(m: pyo.ConcreteModel, p: Parameters) -> None:
    """In its simulation phase a sector's cap is set by rule: (1 - reduction) x BAU."""
    simulation = simulation_index(m)
    rule_cap = p.sector_years["rule_cap_mt"].reindex(simulation).to_numpy()
    rows = np.arange(len(simulation))
    cap_vars = var_array(m.sector_cap_mt)[positions(covered_index(m), simulation)]
    add_linear_rows(
        m, "simulation_rule_cap", m.simulation, len(simulation),
        [(rows, cap_vars, np.ones(len(rows)))], np.zeros(len(rows)),
        lower=rule_cap, upper=rule_cap, doc="sector_cap = rule cap (Mt)",
    )


def define_simulation_compliance(m: pyo.ConcreteModel, p: Parameters) -> None:
    """A simulation-phase sector keeps its emissions within its own cap, without trading.

    Its dual is the sector's own carbon price."""
    simulation = simulation_index(m)
    in_simulation = p.step_phase() == SIMULATION
    step_rows = positions(simulation, p.step_sector_years()[in_simulation])
    rows = np.arange(len(simulation))
    cap_vars = var_array(m.sector_cap_mt)[positions(covered_index(m), simulation)]
    terms = [
        (step_rows, var_array(m.abatement_mt)[in_simulation], -np.ones(len(step_rows))),
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
    trading = p.step_phase() == TRADING
    step_years = p.step_years()[trading]
    keep = np.isin(step_years, market_years)
    covered = covered_index(m)
    cap_trading = (p.sector_years["phase"].reindex(covered) == TRADING).to_numpy()
    cap_years = covered.get_level_values("year").to_numpy()[cap_trading]
    terms = [
        (np.searchsorted(market_years, step_years[keep]), var_array(m.abatement_mt)[trading][keep],
         -np.ones(keep.sum())),
        (np.searchsorted(market_years, cap_years), var_array(m.sector_cap_mt)[cap_trading],
         -np.ones(cap_years.size)),
    ]
    if p.banking:
        bank = var_array(m.bank_mt)
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


def define_trading_cap_shares(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Each trading sector's cap is its share of the trading sectors' total cap: shares follow
    BAU emissions (intensity x output, one stringency for all) before absolute caps and are
    frozen from ``allocation.absolute_cap_from`` (see ``parameters._cap_shares``)."""
    covered = covered_index(m)
    years = covered.get_level_values("year").to_numpy()
    rows = np.flatnonzero(p.sector_years["phase"].reindex(covered).to_numpy() == TRADING)
    trading_years = np.unique(years[rows])
    m.trading_cap_mt = pyo.Var(trading_years.tolist(), domain=pyo.NonNegativeReals,
                               doc="sum of the trading sectors' caps, Mt")
    index = covered[rows]
    n = rows.size
    terms = [
        (np.arange(n), var_array(m.sector_cap_mt)[rows], np.ones(n)),
        (np.arange(n), var_array(m.trading_cap_mt)[np.searchsorted(trading_years, years[rows])],
         -p.sector_years["cap_share"].reindex(index).to_numpy()),
    ]
    add_linear_rows(
        m, "trading_cap_shares", index.tolist(), n, terms, np.zeros(n),
        lower=np.zeros(n), upper=np.zeros(n), doc="sector_cap - cap_share x trading_cap = 0 (Mt)",
    )


def define_absolute_caps(m: pyo.ConcreteModel, p: Parameters) -> None:
    """From ``allocation.absolute_cap_from`` no trading sector's cap rises year on year.

    With frozen shares the incumbents' caps move together, so one row per year bounds
    their sum (one row per sector would repeat it); a sector leaving its simulation phase
    gets a row of its own against its last rule cap."""
    covered = covered_index(m)
    phase = p.sector_years["phase"].reindex(covered).to_numpy()
    years = covered.get_level_values("year").to_numpy()
    previous = pd.MultiIndex.from_arrays([covered.get_level_values("sector"), years - 1])
    previous_phase = p.sector_years["phase"].reindex(previous).to_numpy()
    absolute = (phase == TRADING) & (years >= (p.absolute_cap_from or np.inf))
    incumbent = np.flatnonzero(absolute & (previous_phase == TRADING))
    entrant = np.flatnonzero(absolute & (previous_phase == SIMULATION))
    caps = var_array(m.sector_cap_mt)
    incumbent_years = np.unique(years[incumbent])
    row = np.searchsorted(incumbent_years, years[incumbent])
    terms = [(row, caps[incumbent], np.ones(incumbent.size)),
             (row, caps[positions(covered, previous[incumbent])], -np.ones(incumbent.size))]
    add_linear_rows(
        m, "absolute_cap_incumbents", incumbent_years.tolist(), incumbent_years.size, terms,
        np.zeros(incumbent_years.size), upper=np.zeros(incumbent_years.size),
        doc="sum of incumbent trading caps[t] - the same sum [t-1] <= 0 (Mt)",
    )
    n = entrant.size
    terms = [(np.arange(n), caps[entrant], np.ones(n)),
             (np.arange(n), caps[positions(covered, previous[entrant])], -np.ones(n))]
    add_linear_rows(
        m, "absolute_cap_entrants", covered[entrant].tolist(), n, terms, np.zeros(n), upper=np.zeros(n),
        doc="first trading cap - last simulation rule cap <= 0 (Mt)",
    )


def define_abatement_cost(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Objective: present value of abatement cost, million CNY (Mt x CNY/t)."""
    discount = p.discount_factor.reindex(p.step_years()).to_numpy()
    coefs = discount * p.steps["cost_cny_per_t"].to_numpy()
    m.abatement_cost = pyo.Objective(
        expr=LinearExpression(
            constant=0.0, linear_coefs=coefs.tolist(), linear_vars=var_array(m.abatement_mt).tolist()
        ),
        sense=pyo.minimize,
    )


# -- index arithmetic ------------------------------------------------------------------


def _year_positions(p: Parameters, years: np.ndarray) -> np.ndarray:
    return np.asarray(years, dtype=int) - p.first_year


def covered_index(m: pyo.ConcreteModel) -> pd.MultiIndex:
    """The (sector, year) pairs the ETS covers, in the order of sector_cap_mt."""
    return pd.MultiIndex.from_tuples(list(m.covered), names=["sector", "year"])


def simulation_index(m: pyo.ConcreteModel) -> pd.MultiIndex:
    """The (sector, year) pairs in the simulation phase, in the order of its rows."""
    return pd.MultiIndex.from_tuples(list(m.simulation), names=["sector", "year"])
