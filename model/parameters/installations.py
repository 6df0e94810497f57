"""Installations (facilities.csv) on a facility x year grid, and their abatement columns.

An installation's BAU emissions are its sector's BAU in proportion to its base-year
emissions; its share of the sector's allowances (free allocation, or in the simulation
phase its own rule cap) is in proportion to benchmark x output (output alone where its
sector has no benchmarks, base-year emissions where output is missing).

At facility resolution every installation has its own abatement steps: its sector's steps
with costs times its ``cost_factor``, or its own steps from facility_mac.csv. An
installation faces a constraint of its own only in the simulation phase; outside the ETS
or trading, only its sector's sums matter, so steps that share sector, step, cost path and
year can be merged into one pooled column with the summed potential: the LP's optimum is
the same (a partly used pool is split in proportion to potential, one of the equally
cheap splits) and the LP is far smaller. Simulation-phase installations are solved in
closed form (``presolve``); where a deployment limit reaches their steps, only the part of
their cut that the limit can touch stays in the LP (``closed_form_steps``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..data import fastpath
from ..data.fields import name_positions, text_codes
from ..errors import InfeasibleError
from ..data.inputs import Dataset
from .phases import PHASES, SIMULATION


@dataclass(frozen=True)
class AbatementColumns:
    """One family of abatement variables: each column's key, potential (Mt), cost (CNY/t in
    year-t money), sector-year row and, for an installation's own column, facility-year row."""

    name: str
    keys: pd.MultiIndex
    potential_mt: np.ndarray
    cost_cny_per_t: np.ndarray
    rows: np.ndarray
    facility_rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.potential_mt)

    @cached_property
    def key_arrays(self) -> dict[str, np.ndarray]:
        """The keys by level name, as arrays (made once: a study's scenarios share their keys)."""
        for keys, arrays in _KEY_ARRAYS if fastpath.enabled() else ():
            if keys is self.keys:
                return arrays
        arrays = {name: self.keys.get_level_values(name).to_numpy() for name in self.keys.names}
        for array in arrays.values():
            array.flags.writeable = False
        _KEY_ARRAYS.append((self.keys, arrays))
        del _KEY_ARRAYS[:-4]
        return arrays


# of the last few families' keys (immutable)
_KEY_ARRAYS: list[tuple[pd.MultiIndex, dict[str, np.ndarray]]] = fastpath.register([])


@dataclass(frozen=True)
class PresolvedColumns:
    """Installation steps in the simulation phase, solved in closed form outside the LP.

    An installation in its sector's simulation phase meets its own cap without trading, and
    its emissions enter no row it shares with anything else (the sector's allowances count
    in the ETS cap, not its emissions): each installation-year is a knapsack on its own,
    solved exactly by using its steps from the cheapest until the cut is made. Its own price
    is the cost of the dearest step it uses (0 when it needs no cut)."""

    columns: AbatementColumns
    abatement_mt: np.ndarray  # by column
    own_price_cny_per_t: np.ndarray  # by facility-year row, NaN outside the simulation phase (and on lp_rows)
    # facility-year rows whose cut is met partly in the LP (their own price is their row's
    # dual) and the abatement of their steps solved here (cheap steps used in full), Mt
    lp_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lp_rows_presolved_mt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pool: np.ndarray | None = None  # by column: the pool number of its step's cost path (as pooled columns')
    sector_names: np.ndarray | None = None  # by sector code (a sector-year row // years): for the pools' keys

    @cached_property
    def by_pool(self) -> list[tuple[AbatementColumns, np.ndarray, np.ndarray]]:
        """The columns as the abatement_steps table shows them: (columns, abatement, own
        price faced) families. Installation-years wholly in closed form are summed by
        sector, step, pool (cost path), year and own price, keyed (sector, step, pool, year)
        like pooled columns: their members share cost and price, so the table's sums and
        its checks are the same, in a row per pool instead of per installation (200,000
        installations: about 2 million rows); those of ``lp_rows`` stay by installation (their
        own price is the LP's, in the facilities table). Without ``pool``: all by installation."""
        columns, facility_rows = self.columns, self.columns.facility_rows
        pool, sector_names = self.pool, self.sector_names
        if pool is None or sector_names is None or facility_rows is None:
            return [(columns, self.abatement_mt, np.full(len(columns), np.nan))]
        by_installation = np.isin(facility_rows, self.lp_rows)
        summed = np.flatnonzero(~by_installation)
        # the columns' (sector-year, step, pool) groups and their keys: of the structure, kept
        # for a study's scenarios (the columns' arrays are shared: compared by identity)
        pools = fastpath.cached("closed-form pools", (columns.keys, columns.rows, facility_rows, pool,
                                                      self.lp_rows.tobytes(), tuple(sector_names)),
                                lambda: _closed_form_pools(columns, pool, sector_names, summed))
        price = self.own_price_cny_per_t[facility_rows[summed]]
        price_code, prices = pd.factorize(price)  # the pools' members at one own price are summed
        combined = pools["group"].astype(np.int64) * max(len(prices), 1) + price_code
        distinct, first, group = _unique(combined)
        of_pool = distinct // max(len(prices), 1)
        first_member = summed[first]
        pooled = AbatementColumns(columns.name, pools["keys"][of_pool],
                                  np.bincount(group, weights=columns.potential_mt[summed], minlength=distinct.size),
                                  columns.cost_cny_per_t[first_member], columns.rows[first_member])
        families = [(pooled, np.bincount(group, weights=self.abatement_mt[summed], minlength=distinct.size),
                     price[first])]
        if by_installation.any():
            kept = np.flatnonzero(by_installation)
            families.append((AbatementColumns(columns.name, columns.keys[kept], columns.potential_mt[kept],
                                              columns.cost_cny_per_t[kept], columns.rows[kept], facility_rows[kept]),
                             self.abatement_mt[kept], np.full(kept.size, np.nan)))
        return families


def _closed_form_pools(columns: AbatementColumns, pool: np.ndarray, sector_names: np.ndarray,
                       summed: np.ndarray) -> dict[str, Any]:
    """The ``summed`` columns' groups by sector-year row, step and pool (numbered in that
    order) and each group's key (sector, step, pool, year): the rows of the abatement_steps
    table before they are split by own price. Members of a group share cost (one cost path)."""
    n_years = len(columns.keys.levels[columns.keys.names.index("year")])
    step_code = np.asarray(columns.keys.codes[columns.keys.names.index("step")])[summed]
    n_steps, n_pools = len(columns.keys.levels[1]) + 1, int(pool.max(initial=0)) + 1
    combined = (columns.rows[summed].astype(np.int64) * n_steps + step_code) * n_pools + pool[summed]
    distinct, first, group = _unique(combined)
    first_member = summed[first]
    year_level = columns.keys.names.index("year")
    of_first = pool[first_member]
    keys = _keys_from_codes(  # as from_arrays of the names and numbers, ranked on the few distinct ones
        [np.asarray(sector_names, dtype=object), columns.keys.levels[1].to_numpy(dtype=object), of_first,
         columns.keys.levels[year_level].to_numpy()],
        [columns.rows[first_member] // n_years, step_code[first], np.arange(of_first.size),
         np.asarray(columns.keys.codes[year_level])[first_member]], names=["sector", "step", "pool", "year"])
    return _read_only({"group": _positions(group, distinct.size), "keys": keys})


@dataclass(frozen=True)
class PooledMembers:
    """The installation steps merged into pools: in a year, a member's share of its pool's
    abatement is its potential over the pool's, ``potential_share x installation BAU``."""

    facility: np.ndarray  # installation (position in facilities.csv) of each member step
    pool_path: np.ndarray  # its pool's cost path
    potential_share: np.ndarray
    column_of: np.ndarray  # (cost path x year) -> pooled column, -1 where there is none
    pool_number: np.ndarray | None = None  # by cost path: its pool number within its sector and step


def facility_grid(dataset: Dataset, sector_years: pd.DataFrame, years: np.ndarray) -> pd.DataFrame:
    """One row per installation and model year (installation by installation): its sector's
    row and phase, BAU and, in simulation, its own cap; ``phase_code`` is the phase's
    position in ``phases.PHASES`` (compared as integers, not text). Its shares of its
    sector's emissions and allowances are the same every year: kept once per installation
    (``installation_shares``), not repeated on the grid's rows.

    Built on integer codes: ``sector`` and ``phase`` are categoricals (a code per row, each
    name once), ``sector_row`` is int32, and the columns are the arrays themselves (no
    consolidated copy); the registry's part is kept for the scenarios that share it."""
    shape = _grid_shape(dataset, years)
    n_years = years.size
    installation_sector = shape["installation_sector"]  # sector code by installation
    sector_phase = phase_codes(sector_years["phase"].to_numpy()).reshape(-1, n_years)  # sector x year
    phase_code = sector_phase[installation_sector].ravel()  # rows of whole sectors: no grid-long gather
    simulation = phase_code == PHASES.index(SIMULATION)
    by_sector = {name: sector_years[name].to_numpy().reshape(-1, n_years) for name in ("bau_mt", "rule_cap_mt")}
    emission_share, allocation_share = shape["emission_share"], shape["allocation_share"]
    # gathered by installation, then scaled in place (a temporary as long as the grid is tens of MB)
    bau = by_sector["bau_mt"][installation_sector]
    np.multiply(bau, emission_share[:, None], out=bau)
    rule_cap = by_sector["rule_cap_mt"][installation_sector]
    np.multiply(rule_cap, allocation_share[:, None], out=rule_cap)
    np.copyto(rule_cap, np.nan, where=~simulation.reshape(rule_cap.shape))  # the rule cap's share in simulation only
    bau, rule_cap = bau.ravel(), rule_cap.ravel()
    table = pd.DataFrame({
        "sector": shape["sector"],
        "sector_row": shape["sector_row"],
        "phase": pd.Categorical.from_codes(phase_code, categories=_PHASE_CATEGORIES, validate=False),
        "bau_mt": bau,
        "cap_mt": rule_cap,
        "phase_code": phase_code,
    }, index=shape["index"], copy=False)
    return table


_PHASE_CATEGORIES = pd.Index(PHASES, dtype=object)


def phase_codes(phase: np.ndarray) -> np.ndarray:
    """Each phase's position in ``PHASES`` (int8)."""
    return np.select([phase == name for name in PHASES], np.arange(len(PHASES))).astype(np.int8)


def in_simulation(grid: pd.DataFrame) -> np.ndarray:
    """Which facility-year rows of ``grid`` are in the simulation phase."""
    return grid["phase_code"].to_numpy() == PHASES.index(SIMULATION)


def _grid_shape(dataset: Dataset, years: np.ndarray) -> dict[str, Any]:
    """What the facility grid takes from the registry alone (sector codes and rows, shares,
    keys), by installation-year: kept for the scenarios that share registry, benchmarks,
    sector names and horizon (a Monte Carlo of sector numbers changes none of them).
    Integer codes throughout: no text is repeated over the years."""
    facilities = dataset.facilities

    def make() -> dict[str, Any]:
        n_years, n_facilities = years.size, len(facilities)
        sector_names = pd.Index(dataset.sectors["sector"].to_numpy(dtype=object), dtype=object)
        registry_names, registry_code = text_codes(facilities["sector"])  # the few names looked up, then spread
        sector_code = np.where(registry_code >= 0, name_positions(sector_names, registry_names)[registry_code], -1)
        emission_share = _within_sector_share(sector_code, facilities["emissions_mt"].to_numpy(dtype=float))
        allocation_share = _within_sector_share(sector_code, _allocation_basis(dataset))
        year_code = np.arange(n_years, dtype=np.int32)
        sector_row = (sector_code.astype(np.int32)[:, None] * np.int32(n_years) + year_code[None, :]).ravel()
        code_dtype = np.int8 if len(sector_names) < 127 else np.int32
        shape = {
            "installation_sector": sector_code,
            "sector_row": sector_row,
            "sector": pd.Categorical.from_codes(np.repeat(sector_code.astype(code_dtype), n_years),
                                                categories=sector_names, validate=False),
            "emission_share": emission_share,  # by installation (the same every year)
            "allocation_share": allocation_share,
            "index": pd.MultiIndex(  # codes over the installations and years (the ids are unique: checked)
                levels=[pd.Index(facilities["facility_id"].to_numpy(dtype=object), dtype=object), pd.Index(years)],
                codes=[np.repeat(np.arange(n_facilities, dtype=np.int32), n_years),
                       np.tile(year_code.astype(np.int8 if n_years < 127 else np.int32), n_facilities)],
                names=["facility_id", "year"], verify_integrity=False)}
        return _read_only(shape)

    key = (facilities, dataset.benchmarks, tuple(dataset.sectors["sector"].tolist()), int(years[0]), int(years[-1]))
    return fastpath.cached("facility_grid", key, make)


def installation_shares(dataset: Dataset, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """By installation (position in facilities.csv): its share of its sector's base-year
    emissions (its share of the sector's BAU in every year) and of its sector's allowances
    (benchmark x output), read-only; the facility grid's rows are installation x year."""
    shape = _grid_shape(dataset, years)
    return shape["emission_share"], shape["allocation_share"]


def installation_columns(dataset: Dataset, grid: pd.DataFrame, sector_bau_mt: np.ndarray, years: np.ndarray,
                         pool: bool, limited_steps: frozenset[tuple[str, str]] = frozenset(),
                         build_limited_steps: frozenset[tuple[str, str]] = frozenset(),
                         ) -> tuple[list[AbatementColumns], PooledMembers | None, PresolvedColumns | None]:
    """Every installation's steps in every year they are available. With ``pool``, those in
    years without a constraint of the installation's own are merged by sector, step, cost
    path and year, and those in the simulation phase are solved in closed form except where
    a deployment limit can reach them (``limited_steps``: (sector, step) in a limit's row;
    ``build_limited_steps``: of them, those whose rows couple years): see
    ``closed_form_steps``; the rest stay columns of the LP with their own caps' rows.
    Without ``pool`` every step is a column of the LP."""
    steps = fastpath.cached("installation_steps", (dataset.facilities, dataset.facility_mac, dataset.mac),
                            lambda: _installation_steps(dataset))
    n_years = years.size
    simulating = in_simulation(grid).reshape(-1, n_years)  # installation x year
    # which steps are own columns in which years, their rows, costs and keys: of the registry's
    # steps and the phases, not of a draw's BAU (kept for a Monte Carlo's scenarios)
    sector_row = _grid_shape(dataset, years)["sector_row"]  # by facility-year row (kept: compared by identity)
    phases = simulating.tobytes()  # the simulation years of every installation, as a cache key
    structure = fastpath.cached(
        "installation column structure",
        (steps, sector_row, phases, years.tobytes(), dataset.settings["base_year"], pool),
        lambda: _own_column_structure(dataset, steps, sector_row, simulating, years, pool))
    of_step, facility_rows = structure["of_step"], structure["facility_rows"]
    own_columns = AbatementColumns(
        "facility_abatement_mt",
        structure["keys"],
        steps["potential_share"].to_numpy()[of_step] * grid["bau_mt"].to_numpy()[facility_rows],
        structure["cost_cny_per_t"], structure["sector_rows"], facility_rows,
    )
    if not pool:
        return [own_columns], None, None
    pooled, members = _pools(dataset, steps, simulating, phases, sector_bau_mt, years)
    # which steps the limits reach: of the registry's steps and the limits' names, not of a draw's BAU
    limited, build_limited = fastpath.cached(
        "steps the limits reach", (steps, limited_steps, build_limited_steps),
        lambda: (_steps_named(steps, limited_steps), _steps_named(steps, build_limited_steps)))
    fixed = closed_form_steps(own_columns, grid, limited[of_step], build_limited[of_step])
    assert members.pool_number is not None
    pool_of_column = structure["pool"]  # for the abatement_steps table's pools
    sector_names = dataset.sectors["sector"].to_numpy(dtype=object)
    known = {"order": structure["merit_order"], "simulation_rows": structure["simulation_rows"]}
    if fixed.all():
        return [pooled], members, replace(presolve(own_columns, grid, **known), pool=pool_of_column,
                                          sector_names=sector_names)
    in_lp = np.flatnonzero(~fixed)
    lp_columns = AbatementColumns(own_columns.name, own_columns.keys[in_lp], own_columns.potential_mt[in_lp],
                                  own_columns.cost_cny_per_t[in_lp], own_columns.rows[in_lp], facility_rows[in_lp])
    return [pooled, lp_columns], members, replace(presolve(own_columns, grid, fixed, **known),
                                                  pool=pool_of_column[fixed], sector_names=sector_names)


def _own_column_structure(dataset: Dataset, steps: pd.DataFrame, sector_row: np.ndarray, simulating: np.ndarray,
                          years: np.ndarray, pool: bool) -> dict[str, Any]:
    """The installation steps that are columns of their own (with pooling: in the years their
    installation simulates), by step x year in the order of the full grid: their step, their
    facility-year and sector-year rows, cost (CNY/t, year-t money), merit order and keys
    (read-only: kept for the scenarios that share registry and phases)."""
    n_years = years.size
    available_from, facility_of_step = steps["available_from"].to_numpy(), steps["facility"].to_numpy()
    # with pooling, only the simulation years (the few any installation simulates) have own columns
    own_years = np.flatnonzero(simulating.any(axis=0)) if pool else np.arange(n_years)
    own = years[own_years][None, :] >= available_from[:, None]
    if pool:
        own &= simulating[:, own_years][facility_of_step]
    of_step, own_year = np.nonzero(own)  # step x own year, row by row: the order of the full step x year grid
    year_position = own_years[own_year]
    facility_rows = facility_of_step[of_step] * n_years + year_position
    elapsed = (years[year_position] - dataset.settings["base_year"]).astype(float)
    # keys from integer codes over small levels: a million text keys are neither factorized
    # nor converted to strings (that took longer than the rest of the columns)
    step = steps["step"].array  # a categorical: its codes, not a million names factorized
    step_codes, step_names = ((step.codes, step.categories) if isinstance(step, pd.Categorical)
                              else pd.factorize(steps["step"].to_numpy()))
    cost = steps["base_cost"].to_numpy()[of_step] * (1.0 + steps["cost_change"].to_numpy()[of_step]) ** elapsed
    structure = {
        "of_step": _positions(of_step, len(steps)),
        "facility_rows": facility_rows,
        "sector_rows": sector_row[facility_rows],
        "cost_cny_per_t": cost,
        "keys": pd.MultiIndex(
            levels=[pd.Index(dataset.facilities["facility_id"].to_numpy(), dtype=object),
                    pd.Index(step_names, dtype=object), pd.Index(years)],
            codes=[facility_of_step[of_step], step_codes[of_step], year_position],
            names=["facility_id", "step", "year"], verify_integrity=False),
    }
    if pool:  # what the closed form of the simulation phase asks for
        path_id, _, pool_number, _ = _cost_paths_of(steps)
        structure.update(merit_order=_positions(_merit_order(facility_rows, cost), of_step.size),
                         simulation_rows=np.flatnonzero(simulating.ravel()),
                         pool=pool_number[path_id[of_step]])  # each column's pool number (its cost path's)
    return _read_only(structure)


def _read_only(arrays: dict[str, Any]) -> dict[str, Any]:
    """``arrays`` with its numpy arrays made read-only: what fastpath.cached keeps is shared
    by a study's scenarios, so that none changes it in place."""
    for value in arrays.values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return arrays


def _positions(positions: np.ndarray, size: int) -> np.ndarray:
    """Positions below ``size`` as int32 where they fit (half int64's memory, for the arrays
    kept at a registry's size), else int64."""
    return positions.astype(np.int32 if size < 2**31 else np.int64)


def _unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(values, return_index=True, return_inverse=True)`` of integers, by hashing
    (``pd.factorize``) and sorting only the distinct values, not the million values."""
    appearance, distinct = pd.factorize(values)  # numbered in order of first appearance
    running = np.maximum.accumulate(appearance) if appearance.size else appearance
    first_appearance = np.flatnonzero(np.r_[True, running[1:] > running[:-1]]) if appearance.size else appearance
    order = np.argsort(distinct)  # distinct: no ties
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return np.asarray(distinct)[order], first_appearance[order], rank[appearance]


def _steps_named(steps: pd.DataFrame, pairs: frozenset[tuple[str, str]]) -> np.ndarray:
    """Whether each installation step's (sector, step) is one of ``pairs`` (looked up on the
    categoricals' few names, then spread by code)."""
    if not pairs:
        named = np.zeros(len(steps), dtype=bool)
    else:
        sector, step = pd.Categorical(steps["sector"]), pd.Categorical(steps["step"])
        table = np.array([[(a, b) in pairs for b in step.categories] for a in sector.categories], dtype=bool)
        named = table[np.asarray(sector.codes), np.asarray(step.codes)]
    named.flags.writeable = False  # kept for a study's scenarios (fastpath.cached)
    return named


def closed_form_steps(columns: AbatementColumns, grid: pd.DataFrame, limited: np.ndarray,
                      build_limited: np.ndarray) -> np.ndarray:
    """Which simulation-phase installation steps (``columns``) are solved exactly outside the
    LP when deployment limits reach some of them (``limited``: the step is in a limit's row;
    ``build_limited``: a build limit, whose rows couple years). Without limits each
    installation-year is a knapsack of its own and the merit order solves it (``presolve``).

    A group limit (deployment_limits.csv max_mt) is a row of one year with +1 coefficients.
    Exchange argument: if an optimum uses a limited step of an installation while one of its
    unlimited steps that is strictly cheaper has room, moving abatement from the first to the
    second keeps the installation's cut, only loosens the limit's row and lowers cost; so in
    every optimum the installation's unlimited steps cheaper than its cheapest limited step
    (in that year: its "cheap" steps) are used in full before any limited step. Hence an
    installation-year whose cut its cheap steps can make is solved in closed form (merit
    order over them; no limited step is used), and one whose cut they cannot make uses them
    in full (fixed here) and leaves only its other steps, and the rest of its cut, to the LP.
    A build limit (max_build_mt_per_year) couples years: abatement of the limited step this
    year lifts next year's ceiling, so using it above a cheaper step, or beyond the cut, can
    pay (the counterexamples are in tests/test_pool_reduction.py), and an installation-year
    with such a step keeps all its steps in the LP, even one that needs no cut. Each
    installation and year is decided alone: numpy over the columns, no loop."""
    assert columns.facility_rows is not None
    rows, cost = columns.facility_rows, columns.cost_cny_per_t
    if not limited.any() and not build_limited.any():  # no limit reaches them: every step is cheap
        cheap = cost < np.inf
        if cheap.all():
            return cheap
    n_rows = len(grid)
    cheapest_limited = np.full(n_rows, np.inf)
    np.minimum.at(cheapest_limited, rows[limited], cost[limited])
    coupled = np.zeros(n_rows, dtype=bool)  # a build limit reaches: nothing is cheap, and even an
    coupled[rows[build_limited]] = True  # installation that needs no cut may build ahead
    cheapest_limited[coupled] = -np.inf
    cheap = ~limited & (cost < cheapest_limited[rows])
    cheap_potential = np.bincount(rows[cheap], weights=columns.potential_mt[cheap], minlength=n_rows)
    # each column's row's cut, gathered (not over the whole grid): NaN outside simulation
    need = np.subtract(grid["bau_mt"].to_numpy()[rows], grid["cap_mt"].to_numpy()[rows])
    np.clip(need, 0.0, None, out=need)
    closed = ~(need > cheap_potential[rows]) & ~coupled[rows]  # the cheap steps make the cut (or none is needed)
    return cheap | closed


def _pools(dataset: Dataset, steps: pd.DataFrame, simulating: np.ndarray, phases: bytes, sector_bau_mt: np.ndarray,
           years: np.ndarray) -> tuple[AbatementColumns, PooledMembers]:
    """Pooled columns keyed (sector, step, pool, year), pool numbering the distinct cost paths
    of a sector's step from the cheapest. A pool's potential is its members' shares of their
    installations' BAU, i.e. the sector's BAU times the sum of share x emission share: no
    member needs to be spread over the years. A step is pooled in the years it is available
    and its installation does not simulate (``simulating``: installation x year; ``phases``:
    its bytes, the kept structure's key)."""
    path_id, paths, pool_number, first_member = _cost_paths_of(steps)
    shape = _grid_shape(dataset, years)  # kept: its arrays are compared by identity
    structure = fastpath.cached(
        "pool structure", (paths, shape["sector_row"], phases, years.tobytes(),
                           dataset.settings["base_year"]),
        lambda: _pool_structure(dataset, steps, paths, path_id, pool_number, first_member, simulating, years))
    pooled = AbatementColumns(
        "pooled_abatement_mt",
        structure["keys"],
        structure["path_weight"] * sector_bau_mt[structure["sector_rows"]],
        structure["cost_cny_per_t"],
        structure["sector_rows"],
    )
    return pooled, PooledMembers(steps["facility"].to_numpy(), path_id, steps["potential_share"].to_numpy(),
                                 structure["column_of"], pool_number)


def _cost_paths_of(steps: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray]:
    """The installation steps' cost paths (``_cost_paths`` on sector, step, cost and
    availability), kept for the scenarios that share the registry's steps."""
    key = ["sector", "step", "base_cost", "cost_change", "available_from"]
    return fastpath.cached("cost_paths", (steps,), lambda: _cost_paths(steps, key))


def _pool_structure(dataset: Dataset, steps: pd.DataFrame, paths: pd.DataFrame, path_id: np.ndarray,
                    pool_number: np.ndarray, first_member: np.ndarray, simulating: np.ndarray,
                    years: np.ndarray) -> dict[str, Any]:
    """The pooled columns (cost path x year where the path's steps are available and their
    installations do not simulate): each one's weight (the sum of its members' potential
    share x emission share: times the sector's BAU, its potential), sector-year row, cost
    (CNY/t, year-t money) and key, and ``column_of`` (path x year -> column, -1 where none);
    read-only, kept for the scenarios that share registry and phases."""
    n_years = years.size
    facility = steps["facility"].to_numpy()
    emission_share = installation_shares(dataset, years)[0][facility]
    path_weight = np.bincount(path_id, weights=steps["potential_share"].to_numpy() * emission_share,
                              minlength=len(paths))
    # a path is pooled in a year if its members are: they share sector (so phase) and
    # available_from, so its first member tells
    in_pool = ((years[None, :] >= steps["available_from"].to_numpy()[first_member][:, None])
               & ~simulating[facility[first_member]])
    path_of_column, year_position = np.nonzero(in_pool)
    sector_code = name_positions(dataset.sectors["sector"], paths["sector"])
    elapsed = (years[year_position] - dataset.settings["base_year"]).astype(float)
    column_of = np.full(in_pool.shape, -1)
    column_of[path_of_column, year_position] = np.arange(path_of_column.size)
    structure = {
        "path_weight": path_weight[path_of_column],
        "sector_rows": sector_code[path_of_column] * n_years + year_position,
        "cost_cny_per_t": paths["base_cost"].to_numpy()[path_of_column]
        * (1.0 + paths["cost_change"].to_numpy()[path_of_column]) ** elapsed,
        "column_of": column_of,
        "keys": _keys_from_codes([paths["sector"].array, paths["step"].array, pool_number, years],
                                 [path_of_column, path_of_column, path_of_column, year_position],
                                 names=["sector", "step", "pool", "year"]),
    }
    return _read_only(structure)


def _keys_from_codes(values: list[Any], positions: list[np.ndarray], names: list[str]) -> pd.MultiIndex:
    """``MultiIndex.from_arrays([values[i][positions[i]] ...])`` (levels: the values present,
    sorted; text as object) made from integer positions: a categorical's names and a short array's values
    are sorted once, not factorized row by row (text per pooled column took most of the time)."""
    if any(isinstance(of, pd.Categorical) and (of.codes[at] < 0).any() for of, at in zip(values, positions)):
        return pd.MultiIndex.from_arrays([np.asarray(of)[at] for of, at in zip(values, positions)], names=names)
    levels, codes = [], []
    for of, at in zip(values, positions):
        # ranked on the few values (a categorical's names, the paths' numbers), then spread to
        # the positions; the level keeps the values present there, sorted
        if isinstance(of, pd.Categorical):
            categories = np.asarray(of.categories, dtype=object)
            order = np.argsort(categories, kind="stable")
            rank = np.empty(order.size, dtype=np.int64)
            rank[order] = np.arange(order.size)
            sorted_values, code = pd.Index(categories[order], dtype=object), rank[of.codes[at]]  # object text
        else:  # as arrays
            distinct, inverse = np.unique(np.asarray(of), return_inverse=True)
            sorted_values, code = pd.Index(distinct), inverse.reshape(-1)[at]
        present = np.flatnonzero(np.bincount(code, minlength=len(sorted_values)))
        if present.size < len(sorted_values):  # renumbered among the values present
            renumber = np.full(len(sorted_values), -1)
            renumber[present] = np.arange(present.size)
            sorted_values, code = sorted_values[present], renumber[code]
        levels.append(sorted_values)
        codes.append(code)
    return pd.MultiIndex(levels=levels, codes=codes, names=names, verify_integrity=False)


def _cost_paths(steps: pd.DataFrame, key: list[str]) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray]:
    """Each installation step's cost path (the distinct ``key`` rows, numbered in sorted key
    order as ``groupby(key, sort=True).ngroup()``), the paths (``key`` columns, in that order),
    each path's pool number within its sector and step (0 for the cheapest) and its first
    step (row of ``steps``). Numbered from integer codes of the key columns (the text's
    sorted ranks, the numbers' codes), hashed as one integer per step: no sort over the
    steps, only over the distinct paths.

    The steps an installation inherits from one mac.csv row share its cost change and first
    year, so (sector, step, base cost) mostly tells the path: the steps are numbered on that
    first, and on every number only where a later one differs along a path so numbered (an
    installation's own steps, facility_mac.csv): a few million floats hashed once, not three times."""
    text, numbers = key[:2], key[2:]
    codes = [steps[f"{name}_rank"].to_numpy() if f"{name}_rank" in steps else pd.factorize(steps[name], sort=True)[0]
             for name in text]  # the sorted ranks _installation_steps made, else made here
    values = [steps[name].to_numpy(dtype=float) for name in numbers]
    # the numbers' codes in order of appearance (no sort over the steps), the paths sorted after
    number_codes = [pd.factorize(values[0])[0]]
    order_by = values  # the paths are sorted by the numbers themselves
    appearance, first_appearance = _numbered([*codes, *number_codes])
    if number_codes[0].min(initial=0) < 0 or not all(_same_along(column, appearance, first_appearance)
                                                     for column in values[1:]):
        number_codes = [pd.factorize(column)[0] for column in values]
        if any(code.min(initial=0) < 0 for code in number_codes):  # a missing number: ranked as pandas sorts it
            number_codes = order_by = [pd.factorize(column, sort=True)[0] for column in values]
        appearance, first_appearance = _numbered([*codes, *number_codes])
    n_paths = first_appearance.size
    sorted_rank = np.empty(n_paths, dtype=np.int64)  # the paths (a few thousand) in sorted key order
    sorted_rank[np.lexsort([column[first_appearance] for column in reversed([*codes, *order_by])])] = np.arange(
        n_paths)
    path_id = _positions(sorted_rank, n_paths)[appearance]  # by step: int32
    first = np.empty(n_paths, dtype=np.int64)
    first[sorted_rank] = first_appearance  # each path's first step, paths in sorted order
    paths = pd.DataFrame({name: steps[name].array.take(first) for name in key})  # each path's first step (no
    # frame of the key columns copied to select a few thousand rows)
    new_step = np.ones(first.size, dtype=bool)  # a path starting a (sector, step)
    new_step[1:] = np.logical_or.reduce([column[first][1:] != column[first][:-1] for column in codes])
    group_start = np.flatnonzero(new_step)
    pool_number = np.arange(first.size) - np.repeat(group_start, np.diff(np.r_[group_start, first.size]))
    return path_id, paths, pool_number, first


def _numbered(ranks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows numbered by their tuple of integer codes (``ranks``, one array per column) in order
    of first appearance, and each number's first row: the tuple as one integer (mixed radix),
    hashed once. Where the radix would pass what int64 holds, the tuple so far is renumbered
    first (fewer numbers than rows), so any registry is numbered."""
    n = ranks[0].size if ranks else 0
    combined = np.zeros(n, dtype=np.int64)
    radix = 1  # a Python int: the number of tuples the columns so far can make
    for rank in ranks:  # in place: no temporaries of a few million
        size = int(rank.max()) + 1 if rank.size else 1
        if radix * size >= 2**62:
            combined = pd.factorize(combined)[0].astype(np.int64)
            radix = int(combined.max(initial=0)) + 1
        combined *= size
        combined += rank
        radix *= size
    appearance = pd.factorize(combined)[0]
    running = np.maximum.accumulate(appearance) if appearance.size else appearance
    first_appearance = np.flatnonzero(np.r_[True, running[1:] > running[:-1]]) if appearance.size else appearance
    return appearance, first_appearance


def _same_along(column: np.ndarray, number: np.ndarray, first: np.ndarray) -> bool:
    """Whether every row holds the value of the first row of its number (NaN as NaN)."""
    expected = column[first][number]
    return bool(np.all((column == expected) | (np.isnan(column) & np.isnan(expected))))


def presolve(columns: AbatementColumns, grid: pd.DataFrame, fixed: np.ndarray | None = None,
             check: bool = True, *, order: np.ndarray | None = None,
             simulation_rows: np.ndarray | None = None) -> PresolvedColumns:
    """Each simulation-phase installation-year's cheapest way to its own cap (merit order).
    Worked on the columns' rows and the simulation rows only, not over the whole grid.
    ``fixed`` (from ``closed_form_steps``): solve only those columns; a row with columns
    left to the LP uses its fixed (cheap) steps in full, the merit order's answer, since
    they cannot make its cut. Whether an installation can make its cut at all is asked of
    all its columns. ``order`` (the columns' merit order, ``_merit_order``) and
    ``simulation_rows`` (the grid's, in order) are what a study's scenarios share: given,
    they are not found again."""
    if fixed is not None:
        assert columns.facility_rows is not None
        _check_potential(grid, np.bincount(columns.facility_rows, weights=columns.potential_mt, minlength=len(grid)),
                         simulation_rows)
        lp_rows = np.unique(columns.facility_rows[~fixed])
        chosen = np.flatnonzero(fixed)
        subset_rows = columns.facility_rows[chosen]
        subset = AbatementColumns(columns.name, columns.keys[chosen], columns.potential_mt[chosen],
                                  columns.cost_cny_per_t[chosen], columns.rows[chosen], subset_rows)
        # the merit order of the chosen columns: the whole order less the others, renumbered
        subset_order = None if order is None else (np.cumsum(fixed) - 1)[order[fixed[order]]]
        solved = presolve(subset, grid, check=False, order=subset_order, simulation_rows=simulation_rows)
        own_price = solved.own_price_cny_per_t.copy()
        own_price[lp_rows] = np.nan  # the LP's: its row's dual
        on_lp_rows = np.bincount(subset_rows, weights=solved.abatement_mt, minlength=len(grid))[lp_rows]
        return PresolvedColumns(subset, solved.abatement_mt, own_price, lp_rows, on_lp_rows)
    n_rows = len(grid)
    bau, cap = grid["bau_mt"].to_numpy(), grid["cap_mt"].to_numpy()  # cap NaN outside simulation
    assert columns.facility_rows is not None  # an installation's own columns, each on its facility-year row
    if order is None:
        order = _merit_order(columns.facility_rows, columns.cost_cny_per_t)
    rows, potential = columns.facility_rows[order], columns.potential_mt[order]
    cumulative = np.cumsum(potential)
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if rows.size else np.zeros(0, dtype=int)
    # potential of the row's cheaper steps: the running sum less what came before the row's first step
    before = cumulative - potential
    before -= np.repeat(before[first], np.diff(np.r_[first, rows.size]))
    used = np.clip(np.clip(bau[rows] - cap[rows], 0.0, None) - before, 0.0, potential)
    if simulation_rows is None:
        simulation_rows = np.flatnonzero(in_simulation(grid))
    if check:  # the potential of each row (the columns' rows are simulation rows)
        _check_potential(grid, np.bincount(rows, weights=potential, minlength=n_rows), simulation_rows)
    abatement = np.empty_like(used)
    abatement[order] = used
    own_price = np.full(n_rows, np.nan)
    own_price[simulation_rows] = 0.0
    # the dearest step used in a row is its last used one (each row's steps are in cost order)
    used_at = np.flatnonzero(used > 1e-12)
    used_rows = rows[used_at]
    last = used_at[np.r_[used_rows[1:] != used_rows[:-1], True]] if used_at.size else used_at
    own_price[rows[last]] = np.maximum(own_price[rows[last]], columns.cost_cny_per_t[order][last])
    return PresolvedColumns(columns, abatement, own_price)


def _merit_order(rows: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """The columns by facility-year row, then from the cheapest (ties in their order): as
    ``np.lexsort((cost, rows))``, sorted as one integer per column, the row and the cost's
    rank among the few distinct costs (a few hundred for millions of columns), which is
    several times faster than sorting the floats."""
    codes, distinct = pd.factorize(cost + 0.0)  # -0.0 as 0.0: equal, as the sort compares them
    if codes.min(initial=0) < 0 or (int(rows.max(initial=0)) + 1) * max(distinct.size, 1) >= 2**62:
        return np.lexsort((cost, rows))  # a missing cost (refused by the checks) or a key past int64
    rank = np.empty(distinct.size, dtype=np.int64)
    rank[np.argsort(distinct, kind="stable")] = np.arange(distinct.size)
    key = rows.astype(np.int64) * distinct.size
    key += rank[codes]
    return np.argsort(key, kind="stable")


def _check_potential(grid: pd.DataFrame, potential_by_row: np.ndarray,
                     simulation_rows: np.ndarray | None = None) -> None:
    """Refuse (InfeasibleError, naming installations and years) a simulation-phase
    installation-year whose steps (``potential_by_row``, Mt by facility-year row) cannot make
    its cut; ``simulation_rows``: the grid's rows in the simulation phase, when known."""
    n_rows = len(grid)
    if simulation_rows is None:
        simulation_rows = np.flatnonzero(in_simulation(grid))
    bau, cap = grid["bau_mt"].to_numpy(), grid["cap_mt"].to_numpy()
    needed = np.clip(bau[simulation_rows] - cap[simulation_rows], 0.0, None)
    short = needed - potential_by_row[simulation_rows]
    lacking = simulation_rows[short > 1e-9 * np.maximum(1.0, needed)]
    if lacking.size:
        full_needed = np.full(n_rows, np.nan)
        full_needed[simulation_rows] = needed
        full_short = np.full(n_rows, np.nan)
        full_short[simulation_rows] = short
        raise InfeasibleError(_short_message(grid, lacking, full_needed, full_short))


def _short_message(grid: pd.DataFrame, lacking: np.ndarray, needed: np.ndarray, short: np.ndarray) -> str:
    shown = [f"{facility} in {year}: needs {needed[row]:,.6g} Mt, can abate {needed[row] - short[row]:,.6g} Mt"
             for row, (facility, year) in zip(lacking[:10], grid.index[lacking[:10]])]
    more = f"; and {lacking.size - 10} more" if lacking.size > 10 else ""
    return ("installations in their simulation phase cannot meet their share of the rule cap on their own: "
            + "; ".join(shown) + more + " (lower the sector's simulation reduction: simulation_reduction in "
            "sectors.csv, or reduction in its cap_rules.csv row; or give them more abatement potential in "
            "facility_mac.csv)")


def _installation_steps(dataset: Dataset) -> pd.DataFrame:
    """One row per installation and step (before years), by installation then step name:
    its sector's steps with costs times its cost_factor, or its own steps from
    facility_mac.csv. Built from integer positions (each installation's sector's mac rows),
    not by a merge and a sort on text; ``sector_rank`` and ``step_rank`` are the text's
    positions in sorted order, for sorting on integers later."""
    facilities, mac, own = dataset.facilities, dataset.mac, dataset.facility_mac
    has_own = (facilities["facility_id"].isin(own["facility_id"]).to_numpy() if len(own)
               else np.zeros(len(facilities), dtype=bool))
    inherits = np.flatnonzero(~has_own)
    # the mac rows of each inheriting installation's sector, by step name (mac.csv's order on ties)
    registry_names, registry_code = text_codes(facilities["sector"])
    if (registry_code < 0).any():  # a missing sector (refused by the checks): numbered with the text
        sector_code, _ = pd.factorize(np.concatenate([mac["sector"].to_numpy(dtype=object),
                                                      facilities["sector"].to_numpy(dtype=object)[inherits]]))
        mac_code, facility_code = sector_code[:len(mac)], sector_code[len(mac):]
        n_codes = int(sector_code.max()) + 1 if sector_code.size else 0
    else:  # the registry's few sector names matched to mac.csv's once; a sector without steps gets none
        mac_code, mac_names = pd.factorize(mac["sector"].to_numpy(dtype=object))
        n_codes = len(mac_names) + 1  # the last code: sectors mac.csv does not list (no steps)
        of_name = name_positions(mac_names, registry_names)
        facility_code = np.where(of_name >= 0, of_name, n_codes - 1)[registry_code[inherits]]
    mac_steps = mac["step"].to_numpy(dtype=object)
    by_sector = np.lexsort((np.searchsorted(np.unique(mac_steps), mac_steps), mac_code))
    count = np.bincount(mac_code, minlength=n_codes)
    first = np.r_[0, np.cumsum(count)[:-1]].astype(np.int32)
    per_facility = count[facility_code]
    facility = np.repeat(inherits.astype(np.int32), per_facility)  # int32: a few million of each below
    within = np.arange(facility.size, dtype=np.int32)
    within -= np.repeat((np.cumsum(per_facility) - per_facility).astype(np.int32), per_facility)
    within += np.repeat(first[facility_code], per_facility)
    mac_row = by_sector[within]
    del within
    cost_factor = facilities["cost_factor"].to_numpy(dtype=float, na_value=np.nan)
    # its own steps (an installation of facility_mac.csv), at the installation's position
    if len(own):
        facility_of = pd.Series(np.arange(len(facilities)), index=facilities["facility_id"])
        own_facility = facility_of.reindex(own["facility_id"]).to_numpy()
        own_sector = facilities["sector"].to_numpy(dtype=object)[own_facility.astype(int)]
    else:  # no installation has steps of its own: no text of the registry is read for them
        own_facility, own_sector = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)

    def joined(column: str, dtype: Any = object, missing: Any = np.nan) -> np.ndarray:
        """``column`` of each step's mac.csv row or own row (blank: ``missing``, set on those few rows)."""
        inherited = mac[column].to_numpy(dtype=dtype, na_value=missing)[mac_row]
        if not len(own):  # no copy of a million values to append none
            return inherited
        return np.concatenate([inherited, own[column].to_numpy(dtype=dtype, na_value=missing)])

    def rank(column: str, of_own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each step's position of its ``column`` text among the sorted names (ranked on
        mac.csv's few rows and the own steps, then spread: no sort of text per step), and the names."""
        of_mac = mac[column].to_numpy(dtype=object)
        names = np.unique(np.concatenate([of_mac, of_own]))  # sorted as pandas sorts text
        inherited = np.searchsorted(names, of_mac).astype(np.int32)[mac_row]
        if not len(own):
            return inherited, names
        return np.concatenate([inherited, np.searchsorted(names, of_own).astype(np.int32)]), names

    (sector_rank, sector_names), (step_rank, step_names) = (rank("sector", own_sector),
                                                            rank("step", own["step"].to_numpy(dtype=object)))
    steps_facility = (np.concatenate([facility, own_facility]) if len(own) else facility).astype(np.int32)
    # stable: by installation, then step name (the inherited rows already are: no own steps, no sort)
    order = np.lexsort((step_rank, steps_facility)) if len(own) else slice(None)
    available_from = joined("available_from", dtype=float, missing=-np.inf)  # blank: from any year
    base_cost = mac["cost_cny_per_t"].to_numpy(dtype=float)[mac_row] * cost_factor[facility]
    if len(own):
        base_cost = np.concatenate([base_cost, own["cost_cny_per_t"].to_numpy(dtype=float, na_value=np.nan)])
    return pd.DataFrame({
        "facility": steps_facility[order],
        "sector": _categorical(sector_rank[order], sector_names),  # text as codes: a name per step is
        "step": _categorical(step_rank[order], step_names),  # a million objects at 200,000 installations
        "potential_share": joined("potential_share", dtype=float)[order],
        "base_cost": base_cost[order],
        "cost_change": joined("cost_change", dtype=float)[order],
        "available_from": available_from[order],
        "sector_rank": sector_rank[order],
        "step_rank": step_rank[order],
    }, copy=False)  # the arrays as they are, not a consolidated copy of them


def _categorical(codes: np.ndarray, names: np.ndarray) -> pd.Categorical:
    """Names given by their positions in ``names`` (sorted, distinct) as a categorical."""
    code_dtype = np.int8 if names.size < 127 else np.int16 if names.size < 32_000 else np.int32
    return pd.Categorical.from_codes(codes.astype(code_dtype), categories=pd.Index(names, dtype=object),
                                     validate=False)


def _allocation_basis(dataset: Dataset) -> np.ndarray:
    """benchmark x output where the sector has benchmarks, output where it has none; a
    sector with any installation lacking output shares by base-year emissions throughout."""
    facilities = dataset.facilities
    row = benchmark_rows(facilities, dataset.benchmarks)
    if row is None:  # names the codes cannot join alike (missing, repeated): pandas' join
        benchmarks = dataset.benchmarks.set_index(["sector", "unit_type"])["benchmark_t_per_unit"]
        keys = pd.MultiIndex.from_arrays([facilities["sector"], facilities["unit_type"]])
        benchmark = (benchmarks.reindex(keys).to_numpy(dtype=float) if len(benchmarks)
                     else np.full(len(facilities), np.nan))
    else:
        benchmark = by_benchmark_row(dataset.benchmarks["benchmark_t_per_unit"], row)
    output = facilities["output"].to_numpy(dtype=float)
    basis = np.where(np.isnan(benchmark), output, benchmark * output)
    _, sector_code = text_codes(facilities["sector"])
    if (sector_code < 0).any():  # a missing sector (refused by the checks): as groupby leaves it
        lacking = pd.Series(np.isnan(basis)).groupby(facilities["sector"].to_numpy()).transform("any").to_numpy()
    else:  # a sector lacks output if any of its installations does
        lacking = (np.bincount(sector_code, weights=np.isnan(basis)) > 0)[sector_code]
    return np.where(lacking, facilities["emissions_mt"].to_numpy(dtype=float), basis)


def benchmark_rows(facilities: pd.DataFrame, benchmarks: pd.DataFrame) -> np.ndarray | None:
    """Each installation's row (position) in benchmarks.csv by its sector and unit type, -1
    for none: the few (sector, unit type) names joined once, then spread by the registry's
    codes. None where a name is missing or benchmarks.csv repeats a pair (pandas' join
    decides those). Made once for the scenarios that share registry and benchmarks."""
    return fastpath.cached("benchmark rows", (facilities, benchmarks), lambda: _benchmark_rows(facilities, benchmarks))


def _benchmark_rows(facilities: pd.DataFrame, benchmarks: pd.DataFrame) -> np.ndarray | None:
    """``benchmark_rows`` made: benchmarks.csv's few rows matched to the registry's names by
    position (no index of every name pair), then each installation's pair code looked up."""
    (sectors, sector_code), (types, type_code) = text_codes(facilities["sector"]), text_codes(facilities["unit_type"])
    bench_sector = benchmarks["sector"].to_numpy(dtype=object)
    bench_type = benchmarks["unit_type"].to_numpy(dtype=object)
    pairs = list(zip(bench_sector.tolist(), bench_type.tolist()))  # benchmarks.csv's rows: a few dozen
    if ((sector_code < 0).any() or (type_code < 0).any() or len(set(pairs)) != len(pairs)
            or pd.isna(bench_sector).any() or pd.isna(bench_type).any()):
        return None
    of_sector, of_type = name_positions(sectors, bench_sector), name_positions(types, bench_type)
    known = (of_sector >= 0) & (of_type >= 0)  # rows naming pairs some installation has
    row_of_pair = np.full(len(sectors) * len(types), -1, dtype=np.int64)
    row_of_pair[of_sector[known].astype(np.int64) * len(types) + of_type[known]] = np.flatnonzero(known)
    row = row_of_pair[sector_code.astype(np.int64) * len(types) + type_code]
    row.flags.writeable = False
    return row


def by_benchmark_row(values: pd.Series, row: np.ndarray) -> np.ndarray:
    """A benchmarks.csv column at each installation's row (NaN where it has none), as floats."""
    column = np.append(values.to_numpy(dtype=float, na_value=np.nan), np.nan)
    return column[row]  # row -1 picks the NaN after


def _within_sector_share(sector_code: np.ndarray, weight: np.ndarray) -> np.ndarray:
    total = np.bincount(sector_code, weights=weight)[sector_code]
    count = np.bincount(sector_code)[sector_code]
    return np.divide(weight, total, out=1.0 / count, where=total > 0)
