"""Stage 1, the least-cost LP of DESIGN.md, computed in bulk from ``Parameters``.

Each constraint family has one ``define_*`` function that returns its rows as arrays
(a ``RowBlock``: row position, variable, coefficient, constant, bounds); no rule runs
per sector x step x year. ``formulate`` collects them into a ``LinearProgram`` and
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

from .inputs import Dataset
from .lazy import lazy_module
from .lp import (LinearProgram, Objective, RowBlock, Term, VarBlock, add_objective, add_rows,
                 add_variables, linear_expressions)
from .parameters import Parameters, derive_parameters
from .phases import OUTSIDE, TRADING

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
    for block in lp.variables.values():
        add_variables(m, block, index_sets.get(block.name))
    define_emissions(m, parameters)
    for block in lp.rows:
        add_rows(m, block)
    add_objective(m, lp.objective)
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    return m


def formulate(p: Parameters) -> LinearProgram:
    """Stage 1 as arrays: variables, the constraint families in order, the objective."""
    return LinearProgram(
        variables={block.name: block for block in define_variables(p)},
        rows=[
            define_national_target(p),
            define_cap_split(p),
            define_simulation_rule_cap(p),
            define_simulation_compliance(p),
            define_facility_compliance(p),
            define_market_balance(p),
            define_trading_cap_shares(p),
            define_absolute_cap_incumbents(p),
        ],
        objective=define_abatement_cost(p),
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
    gives it), sector caps, the trading sectors' total cap, and the bank."""
    n_years, n_covered = p.years.size, len(p.covered_index)
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
    if p.banking:
        upper = np.full(n_years, np.inf)
        upper[-1] = 0.0  # nothing is left in the bank after the horizon
        blocks.append(VarBlock("bank_mt", p.years.tolist(), np.zeros(n_years), upper,
                               "allowances banked at year end, Mt"))
    return blocks


# -- expressions -----------------------------------------------------------------------


def define_emissions(m: pyo.ConcreteModel, p: Parameters) -> None:
    """Emissions[s,t] = BAU[s,t] - abatement summed over the sector's steps (and the steps of
    its installations solved outside the LP)."""
    sector_years = p.sector_years.index
    expressions = linear_expressions(
        m, len(sector_years), _abatement_terms(p, np.arange(len(sector_years))),
        p.sector_years["bau_mt"].to_numpy() - p.presolved_abatement_by_row,
    )
    m.emissions_mt = pyo.Expression(
        sector_years.tolist(), initialize=dict(zip(sector_years.tolist(), expressions)),
        doc="emissions by sector and year, Mt CO2",
    )


# -- constraints -----------------------------------------------------------------------


def define_national_target(p: Parameters) -> RowBlock:
    """Allowances issued plus emissions of sectors outside the ETS stay within the national cap.

    Its dual is the national carbon value."""
    n = p.years.size
    outside_bau = np.where(p.phase == OUTSIDE, p.sector_years["bau_mt"].to_numpy(), 0.0)
    return RowBlock(
        "national_target", p.years.tolist(),
        [Term("ets_cap_mt", np.arange(n), np.arange(n), np.ones(n)),
         *_abatement_terms(p, np.where(p.phase == OUTSIDE, p.year_of_row - p.first_year, -1))],
        constant=p.sum_by_year(outside_bau),
        upper=p.targets["national_cap_mt"].to_numpy(),
        doc="ets_cap + outside emissions <= national cap (Mt)",
    )


def define_cap_split(p: Parameters) -> RowBlock:
    """The ETS cap is split without remainder into the covered sectors' caps."""
    covered_years = p.year_of_row[p.covered_rows]
    n = p.years.size
    return RowBlock(
        "cap_split", p.years.tolist(),
        [Term("sector_cap_mt", p.year_position(covered_years), np.arange(covered_years.size),
              np.ones(covered_years.size)),
         Term("ets_cap_mt", np.arange(n), np.arange(n), -np.ones(n))],
        constant=np.zeros(n), lower=np.zeros(n), upper=np.zeros(n),
        doc="sum of sector caps - ets_cap = 0 (Mt)",
    )


def define_simulation_rule_cap(p: Parameters) -> RowBlock:
    """In its simulation phase a sector's cap is set by rule: (1 - reduction) x BAU."""
    simulation = p.simulation_index
    rule_cap = p.sector_years["rule_cap_mt"].to_numpy()[p.simulation_rows]
    n = len(simulation)
    return RowBlock(
        "simulation_rule_cap", simulation.tolist(),
        [Term("sector_cap_mt", np.arange(n), p.covered_position(p.simulation_rows), np.ones(n))],
        constant=np.zeros(n), lower=rule_cap, upper=rule_cap, doc="sector_cap = rule cap (Mt)",
    )


def define_simulation_compliance(p: Parameters) -> RowBlock:
    """A simulation-phase sector keeps its emissions within its own cap, without trading.

    Its dual is the sector's own carbon price. At facility resolution the sectors of
    facilities.csv meet it installation by installation instead (facility_compliance)."""
    rows = p.sector_simulation_rows
    n = rows.size
    return RowBlock(
        "simulation_compliance", p.sector_years.index[rows].tolist(),
        [*_abatement_terms(p, _numbered(rows, len(p.sector_years)), families=("abatement_mt",)),
         Term("sector_cap_mt", np.arange(n), p.covered_position(rows), -np.ones(n))],
        constant=p.sector_years["bau_mt"].to_numpy()[rows], upper=np.zeros(n),
        doc="emissions - sector_cap <= 0 (Mt)",
    )


def define_facility_compliance(p: Parameters) -> RowBlock:
    """At facility resolution, an installation in its sector's simulation phase keeps its
    emissions within its share of the rule cap (benchmark x output), without trading.

    Its dual is the installation's own carbon price."""
    doc = "installation emissions <= its share of the rule cap (Mt)"
    if not p.facility_resolution:
        return RowBlock("facility_compliance", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    rows = p.facility_simulation_rows
    grid = p.facility_years
    return RowBlock(
        "facility_compliance", grid.index[rows],
        _abatement_terms(p, _numbered(rows, len(grid)), families=("facility_abatement_mt",), by_installation=True),
        constant=grid["bau_mt"].to_numpy()[rows], upper=grid["cap_mt"].to_numpy()[rows], doc=doc,
    )


def define_market_balance(p: Parameters) -> RowBlock:
    """Trading sectors' emissions plus net banking stay within their caps (the initial
    bank counts in the first year). Its dual is the allowance price."""
    market_years = p.market_years
    n = market_years.size
    trading_caps = np.flatnonzero(p.phase[p.covered_rows] == TRADING)
    cap_years = p.year_of_row[p.covered_rows][trading_caps]
    in_market = (p.phase == TRADING) & np.isin(p.year_of_row, market_years)
    terms = [
        *_abatement_terms(p, np.where(in_market, np.searchsorted(market_years, p.year_of_row), -1)),
        Term("sector_cap_mt", np.searchsorted(market_years, cap_years), trading_caps, -np.ones(cap_years.size)),
    ]
    if p.banking:
        rows = np.arange(n)
        terms.append(Term("bank_mt", rows, rows, np.ones(n)))  # bank at the end of year t
        terms.append(Term("bank_mt", rows[1:], rows[:-1], -np.ones(n - 1)))  # brought in from t - 1
    trading_bau = np.where(p.phase == TRADING, p.sector_years["bau_mt"].to_numpy(), 0.0)
    upper = np.zeros(n)
    if n and market_years[0] == p.first_year:
        upper[0] = p.initial_bank_mt
    return RowBlock(
        "market_balance", market_years.tolist(), terms,
        constant=p.sum_by_year(trading_bau)[p.year_position(market_years)], upper=upper,
        doc="trading emissions + bank[t] - bank[t-1] - trading caps <= 0 (Mt)",
    )


def define_trading_cap_shares(p: Parameters) -> RowBlock:
    """Each trading sector's cap is its share of the trading sectors' total cap: shares follow
    BAU emissions (intensity x output, one stringency for all) before absolute caps and are
    frozen from ``allocation.absolute_cap_from`` (see ``parameters._cap_shares``)."""
    trading = np.flatnonzero(p.phase[p.covered_rows] == TRADING)
    rows = p.covered_rows[trading]
    n = trading.size
    return RowBlock(
        "trading_cap_shares", p.sector_years.index[rows].tolist(),
        [Term("sector_cap_mt", np.arange(n), trading, np.ones(n)),
         Term("trading_cap_mt", np.arange(n), np.searchsorted(p.trading_years, p.year_of_row[rows]),
              -p.sector_years["cap_share"].to_numpy()[rows])],
        constant=np.zeros(n), lower=np.zeros(n), upper=np.zeros(n),
        doc="sector_cap - cap_share x trading_cap = 0 (Mt)",
    )


def _absolute_cap_rows(p: Parameters, previous_phase_wanted: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions among the sector caps of pairs trading in an absolute-cap year whose sector
    was in ``previous_phase_wanted`` the year before, and the positions of those previous caps.

    (Only incumbents are bounded: a sector leaving its simulation phase starts its absolute
    cap at its frozen share; bounding it by its last rule cap would bound every trading
    sector's cap through the frozen shares, and the most fast-growing entrant would set the
    whole trading cap.)"""
    rows = p.covered_rows
    year = p.year_of_row[rows]
    has_previous = year > p.first_year
    previous_phase = np.where(has_previous, p.phase[rows - 1], OUTSIDE)  # the grid's row - 1 is year - 1
    absolute = (p.phase[rows] == TRADING) & (year >= (p.absolute_cap_from or np.inf))
    chosen = np.flatnonzero(absolute & (previous_phase == previous_phase_wanted))
    return chosen, p.covered_position(rows[chosen] - 1)


def define_absolute_cap_incumbents(p: Parameters) -> RowBlock:
    """From ``allocation.absolute_cap_from`` no incumbent trading sector's cap rises: one row
    per sector and absolute-cap year, its cap against its own cap of the year before.

    A single row on the incumbents' summed caps is not enough in the first absolute-cap
    year: shares follow that year's BAU there but the year before's BAU the year before, so a
    fast-growing sector's cap can rise while the sum does not. (From the year after, frozen
    shares make the sector rows equivalent to the sum; they are kept for one rule throughout.)"""
    incumbent, previous = _absolute_cap_rows(p, TRADING)
    n = incumbent.size
    rows = np.arange(n)
    return RowBlock(
        "absolute_cap_incumbents", p.covered_index[incumbent].tolist(),
        [Term("sector_cap_mt", rows, incumbent, np.ones(n)),
         Term("sector_cap_mt", rows, previous, -np.ones(n))],
        constant=np.zeros(n), upper=np.zeros(n),
        doc="incumbent trading sector's cap[t] - its cap[t-1] <= 0 (Mt)",
    )


def define_abatement_cost(p: Parameters) -> Objective:
    """Objective: present value of abatement cost, million CNY (Mt x CNY/t)."""
    discount = p.discount_factor.to_numpy()
    presolved_cost = float(np.sum(discount[p.year_of_row - p.first_year] * p.presolved_cost_by_row))
    return Objective("abatement_cost", [
        Term(columns.name, np.zeros(len(columns), dtype=int), np.arange(len(columns)),
             discount[p.year_of_row[columns.rows] - p.first_year] * columns.cost_cny_per_t)
        for columns in p.abatement], doc="present value of abatement cost, million CNY",
        constant=presolved_cost)


def _abatement_terms(p: Parameters, row_in_block: np.ndarray, families: tuple[str, ...] | None = None,
                     by_installation: bool = False) -> list[Term]:
    """-1 x abatement (emissions = BAU - abatement) for every abatement family's columns, in
    the block row ``row_in_block`` gives each column's sector-year (or, ``by_installation``,
    facility-year) row; -1 leaves the column out."""
    terms = []
    for columns in p.abatement:
        if families is not None and columns.name not in families:
            continue
        row = row_in_block[columns.facility_rows if by_installation else columns.rows]
        chosen = np.flatnonzero(row >= 0)
        terms.append(Term(columns.name, row[chosen], chosen, -np.ones(chosen.size)))
    return terms


def _numbered(rows: np.ndarray, size: int) -> np.ndarray:
    """A lookup of length ``size`` giving ``rows`` the block rows 0, 1, ... and others -1."""
    lookup = np.full(size, -1)
    lookup[rows] = np.arange(rows.size)
    return lookup
