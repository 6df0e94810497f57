"""The LP's numbers by sector, step and year, derived in bulk from a validated dataset.

Business-as-usual (BAU) emissions grow with output and intensity from the base year;
each cost step offers a share of BAU at a cost that changes yearly (learning); each
sector is outside the ETS, in its simulation phase, or trading in a given year.

``sector_years`` is a full grid, sector by sector and year by year, so the row of
(sector i, year t) is ``i x n_years + (t - first_year)``: lookups are arithmetic, not
index searches, which keeps deriving and formulating fast for many scenarios.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..data import fastpath, schema
from ..errors import InputError, Problem
from ..data.fields import name_positions
from ..data.inputs import Dataset, _freeze, freeze_own, interpolate, interpolated
from .installations import (AbatementColumns, PooledMembers, PresolvedColumns, facility_grid, in_simulation,
                            installation_columns)

from .phases import ABSOLUTE, GRANDFATHERED, INTENSITY, OUTSIDE, SIMULATION, TRADING


@dataclass(frozen=True)
class Parameters:
    """Everything the formulation needs, as tidy tables keyed by sector, step and year."""

    dataset: Dataset
    years: np.ndarray  # int, first_year .. last_year
    discount_factor: pd.Series  # by year: (1 + r)^-(t - first_year)
    sector_years: pd.DataFrame  # grid index (sector, year): phase, bau_mt, rule_cap_mt, output, ...
    steps: pd.DataFrame  # sectors abated at sector level; index (sector, step, year): potential_mt, cost_cny_per_t
    step_rows: np.ndarray  # for each step, the row of its (sector, year) in sector_years
    targets: pd.DataFrame  # index year: national_cap_mt, ets_cap_mt (NaN: chosen), min_auction_share
    banking: bool
    initial_bank_mt: float
    absolute_cap_from: int | None  # from this year caps of trading sectors may not rise
    installation_columns: tuple[AbatementColumns, ...] = ()  # facility resolution only
    pooled_members: PooledMembers | None = None  # installation steps merged into pooled columns
    presolved: PresolvedColumns | None = None  # simulation-phase installation steps solved outside the LP
    installation_grid: pd.DataFrame | None = None  # made at facility resolution, else on demand

    @cached_property
    def facility_years(self) -> pd.DataFrame:
        """Installations x years (empty without facilities.csv): made only when asked for at
        sector resolution, where only the results by installation need it."""
        if self.installation_grid is not None:
            return self.installation_grid
        if self.dataset.facilities.empty:
            return pd.DataFrame()
        return facility_grid(self.dataset, self.sector_years, self.years)

    @property
    def facility_resolution(self) -> bool:
        return self.installation_grid is not None

    @cached_property
    def presolved_abatement_by_row(self) -> np.ndarray:
        """Abatement of the installations solved outside the LP, by sector-year row (Mt)."""
        if self.presolved is None:
            return np.zeros(len(self.sector_years))
        return np.bincount(self.presolved.columns.rows, weights=self.presolved.abatement_mt,
                           minlength=len(self.sector_years))

    @cached_property
    def presolved_cost_by_row(self) -> np.ndarray:
        """Their abatement cost by sector-year row, million CNY in year-t money."""
        if self.presolved is None:
            return np.zeros(len(self.sector_years))
        columns = self.presolved.columns
        return np.bincount(columns.rows, weights=self.presolved.abatement_mt * columns.cost_cny_per_t,
                           minlength=len(self.sector_years))

    @cached_property
    def abatement(self) -> tuple[AbatementColumns, ...]:
        """Every family of abatement variables: sector steps, then installation steps."""
        sector_steps = fastpath.cached(  # a scenario sharing the base's steps shares its columns
            "sector_steps", (self.steps, self.step_rows),
            lambda: AbatementColumns("abatement_mt", self.steps.index, self.steps["potential_mt"].to_numpy(),
                                     self.steps["cost_cny_per_t"].to_numpy(), self.step_rows))
        return (sector_steps, *self.installation_columns)

    @cached_property
    def sector_simulation_rows(self) -> np.ndarray:
        """Simulation-phase rows of sectors that meet their rule cap as a sector (at facility
        resolution, each installation meets its own share instead)."""
        if not self.facility_resolution:
            return self.simulation_rows
        n_years = self.years.size  # every installation has every year: its first year's row tells its sector
        first_rows = np.unique(self.facility_years["sector_row"].to_numpy()[::n_years])
        by_installation = (first_rows[:, None] + np.arange(n_years)[None, :]).ravel()
        return self.simulation_rows[~np.isin(self.simulation_rows, by_installation)]

    @cached_property
    def facility_simulation_rows(self) -> np.ndarray:
        """Facility-year rows in the simulation phase where installations meet their own caps
        in the LP (only those a deployment limit reaches when the rest are solved in closed
        form: see ``presolved``)."""
        if not self.facility_resolution:
            return np.zeros(0, dtype=int)
        if self.presolved is not None:  # those whose cut a deployment limit can reach (often none)
            return self.presolved.lp_rows
        return np.flatnonzero(in_simulation(self.facility_years))

    @property
    def first_year(self) -> int:
        return int(self.years[0])

    def discount_factors(self, years: np.ndarray) -> np.ndarray:
        """``discount_factor.reindex(years)`` as an array: (1 + r)^-(t - first_year) of each
        year t, NaN outside the horizon; by position when the factors are by consecutive years
        from ``first_year`` (as derived), without a reindex (a few a scenario's tables make)."""
        factors, index = self.discount_factor.to_numpy(), self.discount_factor.index
        position = np.asarray(years, dtype=np.int64) - self.first_year
        if not (len(index) and index.is_monotonic_increasing and index.is_unique and index[0] == self.first_year
                and index[-1] == self.first_year + len(index) - 1):  # a script's own factors
            return self.discount_factor.reindex(years).to_numpy()
        inside = (position >= 0) & (position < factors.size)
        if inside.all():
            return factors[position]
        return np.where(inside, factors[np.clip(position, 0, factors.size - 1)], np.nan)  # (a year at least)

    @cached_property
    def _grid(self) -> "_GridRows":
        """What the phases of the sector-year grid give (rows, years, indexes), shared by
        the scenarios of a study whose phases are the base's (found by the grid's identity,
        or by equal phases), so that a kept formulation finds them the same objects."""
        def make() -> _GridRows:
            phase, index = self.sector_years["phase"].to_numpy(), self.sector_years.index
            return fastpath.cached(  # the grid's index by identity (one object per sectors and horizon)
                "grid_phases", (index, tuple(phase.tolist()), self.first_year, self.years.size, self.banking),
                lambda: _GridRows.of(phase, self.years, index, self.banking))

        return fastpath.cached("grid_rows", (self.sector_years, self.first_year, self.years.size, self.banking), make)

    @cached_property
    def phase(self) -> np.ndarray:
        """Phase of every sector-year row."""
        return self._grid.phase

    @cached_property
    def year_of_row(self) -> np.ndarray:
        """Year of every sector-year row."""
        return self._grid.year_of_row

    @cached_property
    def market_years(self) -> np.ndarray:
        """Years with an allowance market: any sector trading, or every year with banking."""
        return self._grid.market_years

    @cached_property
    def trading_years(self) -> np.ndarray:
        """Years in which at least one sector trades."""
        return self._grid.trading_years

    @cached_property
    def covered_rows(self) -> np.ndarray:
        """Rows of the covered (sector, year) pairs: the order of sector caps."""
        return self._grid.covered_rows

    @cached_property
    def simulation_rows(self) -> np.ndarray:
        """Rows of the simulation-phase (sector, year) pairs."""
        return self._grid.simulation_rows

    @cached_property
    def covered_index(self) -> pd.MultiIndex:
        """(sector, year) pairs the ETS covers, sector by sector."""
        return self._grid.covered_index

    @cached_property
    def simulation_index(self) -> pd.MultiIndex:
        """(sector, year) pairs in the simulation phase."""
        return self._grid.simulation_index

    def covered_position(self, rows: np.ndarray) -> np.ndarray:
        """Position among the covered pairs (the sector caps) of covered ``rows``."""
        return np.searchsorted(self.covered_rows, rows)

    def year_position(self, years: np.ndarray) -> np.ndarray:
        return np.asarray(years, dtype=int) - self.first_year

    def sum_by_year(self, values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Sum of per-row ``values`` (at sector-year ``rows``, default all) for each model year."""
        year = self.year_of_row if rows is None else self.year_of_row[rows]
        return np.bincount(year - self.first_year, weights=values, minlength=self.years.size)


@dataclass(frozen=True)
class _GridRows:
    """The rows and years of the sector-year grid by phase (read-only arrays, shared)."""

    phase: np.ndarray
    year_of_row: np.ndarray
    trading_years: np.ndarray
    market_years: np.ndarray
    covered_rows: np.ndarray
    simulation_rows: np.ndarray
    covered_index: pd.MultiIndex
    simulation_index: pd.MultiIndex

    @classmethod
    def of(cls, phase: np.ndarray, years: np.ndarray, index: pd.MultiIndex, banking: bool) -> "_GridRows":
        year_of_row = np.tile(years, len(phase) // max(years.size, 1))
        trading_years = np.unique(year_of_row[phase == TRADING]).astype(int)
        market_years = years if banking else years[np.isin(years, trading_years)]
        covered_rows, simulation_rows = np.flatnonzero(phase != OUTSIDE), np.flatnonzero(phase == SIMULATION)
        phase, market_years = np.array(phase, copy=True), np.array(market_years, copy=True)
        for array in (phase, year_of_row, trading_years, market_years, covered_rows, simulation_rows):
            array.flags.writeable = False
        return cls(phase, year_of_row, trading_years, market_years, covered_rows, simulation_rows,
                   index[covered_rows], index[simulation_rows])


def derive_parameters(dataset: Dataset) -> Parameters:
    """BAU, phases, step potentials and costs, and yearly targets for every model year."""
    dataset.check_unchanged()  # the caches below are found by the tables' identity
    settings = dataset.settings
    years = np.arange(settings["first_year"], settings["last_year"] + 1)
    rate = settings["discount_rate"]
    # the same (read-only) Series for a study's scenarios of one horizon and rate: its index's
    # order and uniqueness, which discount_factors tests, are then found once
    discount_factor = fastpath.cached("discount_factor", (int(years[0]), int(years[-1]), float(rate)),
                                      lambda: _discount_factor(years, rate))
    sector_years = _sector_years(dataset, years)
    by_installation = settings["model.resolution"] == "facility" and len(dataset.facilities) > 0
    grid, installation_families, pooled_members, presolved = (
        _installations(dataset, sector_years, years) if by_installation else (None, (), None, None))
    skip_sectors = frozenset(dataset.facilities["sector"]) if by_installation else frozenset()
    steps, step_rows = fastpath.cached(  # a study's scenarios mostly share mac.csv and the grid
        "steps", (dataset.mac, dataset.sectors, sector_years, skip_sectors, settings["base_year"]),
        lambda: _steps(dataset, years, sector_years["bau_mt"].to_numpy(), skip_sectors))
    return Parameters(
        dataset=dataset,
        years=years,
        discount_factor=discount_factor,
        sector_years=sector_years,
        steps=steps,
        step_rows=step_rows,
        targets=fastpath.cached("targets", (dataset.targets, int(years[0]), int(years[-1]),
                                            settings["allocation.max_burden_share"], settings["targets.scope"]),
                                lambda: _freeze(_targets(dataset, years))),
        banking=bool(settings["market.banking"]),
        initial_bank_mt=float(settings["market.initial_bank_mt"]),
        absolute_cap_from=settings["allocation.absolute_cap_from"],
        installation_grid=grid,
        installation_columns=installation_families,
        pooled_members=pooled_members,
        presolved=presolved,
    )


def limited_steps(dataset: Dataset) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """The (sector, step) pairs under a deployment limit (mac.csv max_build_mt_per_year, or a
    group with rows in deployment_limits.csv), and of them those with a build limit (its rows
    couple years): the simulation-phase closed form leaves what they can reach to the LP
    (``installations.closed_form_steps``)."""
    mac = dataset.mac
    in_limited_group = ((mac["group"] != "") & mac["group"].isin(dataset.deployment_limits["group"])).to_numpy()
    built = mac["max_build_mt_per_year"].notna().to_numpy()
    pairs = list(zip(mac["sector"].to_numpy(), mac["step"].to_numpy()))
    return (frozenset(pair for pair, chosen in zip(pairs, built | in_limited_group) if chosen),
            frozenset(pair for pair, chosen in zip(pairs, built) if chosen))


_INSTALLATIONS: list[tuple[tuple, tuple, tuple]] = fastpath.register([])  # (tables, settings, derived): the last few


def _installations(dataset: Dataset, sector_years: pd.DataFrame, years: np.ndarray) -> tuple:
    """The facility grid and the installations' abatement columns. They depend only on the
    sector-year grid (phases and rule caps: sectors, BAU, allocation and cap rules), the MAC
    and registry tables and the horizon, which a study's scenarios mostly share (tables are
    never changed in place: an override copies the table it changes, and the grid is kept
    by ``fastpath.cached`` for the tables it is made of), so the last few are kept and found
    again by the identity of those tables."""
    tables = (sector_years, dataset.sectors, dataset.mac, dataset.facilities, dataset.facility_mac,
              dataset.benchmarks, dataset.bau, dataset.deployment_limits)
    settings = tuple(dataset.settings[key] for key in ("base_year", "first_year", "last_year",
                                                        "model.pool_installations"))
    for cached_tables, cached_settings, derived in _INSTALLATIONS:
        if cached_settings == settings and all(a is b for a, b in zip(cached_tables, tables)):
            return derived
    grid = facility_grid(dataset, sector_years, years)
    limited, build_limited = limited_steps(dataset)
    families, pooled_members, presolved = installation_columns(
        dataset, grid, sector_years["bau_mt"].to_numpy(), years, pool=settings[-1],
        limited_steps=limited, build_limited_steps=build_limited)
    derived = (grid, tuple(families), pooled_members, presolved)
    _INSTALLATIONS.append((tables, settings, derived))
    del _INSTALLATIONS[:-2]
    return derived


def _discount_factor(years: np.ndarray, rate: float) -> pd.Series:
    """(1 + r)^-(t - first_year) by model year t, read-only."""
    values = (1.0 + rate) ** -(years - years[0]).astype(float)
    values.flags.writeable = False
    return pd.Series(values, index=pd.Index(years, name="year"), copy=False)


def _sector_years(dataset: Dataset, years: np.ndarray) -> pd.DataFrame:
    """The sector-year grid (read-only arrays: it is shared by the scenarios it fits)."""
    key = (dataset.sectors, dataset.bau, dataset.allocation, dataset.cap_rules, int(years[0]), int(years[-1]),
           dataset.settings["base_year"], dataset.settings["allocation.absolute_cap_from"])
    # frozen in place: the grid keeps its own index object (one per sectors and horizon, ``_grid_index``), by
    # whose identity what its phases give is kept (``Parameters._grid``): a Monte Carlo of BAU finds it again
    return fastpath.cached("sector_years", key, lambda: freeze_own(_make_sector_years(dataset, years)))


def _make_sector_years(dataset: Dataset, years: np.ndarray) -> pd.DataFrame:
    sectors = dataset.sectors
    n_years = years.size

    def per_row(column: str, missing: float = np.nan) -> np.ndarray:  # sectors' arrays (a Monte Carlo per scenario)
        values = fastpath.float_column(sectors, column)  # blank: NaN, then ``missing``
        if not np.isnan(missing):
            values = np.where(np.isnan(values), missing, values)
        return np.repeat(values, n_years)

    year = np.tile(years, len(sectors))
    elapsed = year - dataset.settings["base_year"]
    output_growth = per_row("output_growth")
    sector = np.repeat(sectors["sector"].to_numpy(), n_years)
    bau, output = _bau_paths(dataset, sector, year, per_row)
    basis, reduction, benchmark, basis_from = _cap_rules(dataset, sector, year, per_row)
    phase = np.where(basis == "", OUTSIDE, np.where(basis == SIMULATION, SIMULATION, TRADING))
    free_share_min, free_share_max = _free_share_bounds(dataset, year, per_row)
    index = _grid_index(tuple(sectors["sector"].tolist()), int(years[0]), int(years[-1]))
    _check_benchmarked_output(dataset, sector, benchmark, output)
    columns = {
        "phase": pd.array(phase, dtype=object),  # object text: read back as numpy many times per solve
        "bau_mt": bau,
        "rule_cap_mt": np.where(phase == SIMULATION, (1.0 - reduction) * bau, np.nan),
        "basis": pd.array(basis, dtype=object),
        "cap_reduction": np.where(np.isin(basis, [SIMULATION, GRANDFATHERED]), reduction, np.nan),
        "benchmark_t_per_unit": benchmark,
        "output": output,
        "value_added_bn_cny": per_row("value_added_bn_cny") * (1.0 + output_growth) ** elapsed,
        "free_share_min": free_share_min,
        "free_share_max": free_share_max,
        "cap_share": _cap_shares(basis, benchmark, basis_from, year, years,
                                 lambda at_year: _bau_paths(dataset, sector, at_year, per_row)[0]),
    }
    # the same columns Index for every scenario's grid: its lookup of a name is built once
    return pd.DataFrame(columns, index=index, columns=fastpath.column_names(tuple(columns)))


def _cap_rules(dataset: Dataset, sector: np.ndarray, year: np.ndarray,
               per_row) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cap rule of every sector-year row: basis ('' outside the ETS), reduction, given
    benchmark (NaN: chosen by the model) and the first year of the row's rule.

    One code path: the shorthands (covered_from, trading_from, simulation_reduction,
    allocation.absolute_cap_from) expand to rules first (simulation from covered_from,
    intensity from trading_from, absolute from absolute_cap_from); cap_rules.csv then
    replaces them from a sector's first row on, each row holding until the sector's next."""
    covered_from = per_row("covered_from", np.inf)
    trading_from = per_row("trading_from")
    trading_from = np.where(np.isnan(trading_from), covered_from, trading_from)
    absolute_from = dataset.settings["allocation.absolute_cap_from"]
    absolute_from = np.inf if absolute_from is None else float(absolute_from)
    basis = np.select([year < covered_from, year < trading_from, year < absolute_from],
                      ["", SIMULATION, INTENSITY], ABSOLUTE).astype(object)
    reduction = np.where(basis == SIMULATION, per_row("simulation_reduction"), 0.0)
    benchmark = np.full(year.size, np.nan)
    basis_from = np.select([basis == SIMULATION, basis == INTENSITY, basis == ABSOLUTE],
                           [covered_from, trading_from, np.maximum(absolute_from, trading_from)], np.nan)
    if dataset.cap_rules.empty:  # the shorthands alone (no cap_rules.csv rows): nothing replaces them
        return basis, reduction, benchmark, basis_from
    for name, first, last, rule, cut, given in _rule_rows(dataset.cap_rules):
        rows = (sector == name) & (year >= first) & (year < last)  # one rule row at a time: a few rows
        basis[rows], reduction[rows], benchmark[rows], basis_from[rows] = rule, cut, given, first
    return basis, reduction, benchmark, basis_from


def _rule_rows(cap_rules: pd.DataFrame) -> list[tuple[Any, float, float, Any, float, float]]:
    """cap_rules.csv's rows as (sector, from_year, until the sector's next rule or inf, basis,
    reduction, benchmark), by sector and year; kept for the table (``fastpath.cached``: the
    same frozen cap_rules table, which a Monte Carlo of other inputs leaves as it is)."""
    def make() -> list[tuple[Any, float, float, Any, float, float]]:
        rules = cap_rules.sort_values(["sector", "from_year"], kind="stable")
        start = rules["from_year"].to_numpy(dtype=float)
        following = rules["sector"].shift(-1).eq(rules["sector"]).to_numpy()
        until = np.where(following, np.roll(start, -1), np.inf)
        return list(zip(rules["sector"], start, until, rules["basis"], rules["reduction"].to_numpy(dtype=float),
                        rules["benchmark_t_per_unit"].to_numpy(dtype=float)))

    return fastpath.cached("cap rule rows", (cap_rules,), make)


def _check_benchmarked_output(dataset: Dataset, sector: np.ndarray, benchmark: np.ndarray,
                              output: np.ndarray) -> None:
    """A given benchmark needs the sector's output (allowances = benchmark x output)."""
    missing = np.flatnonzero(np.isfinite(benchmark) & ~np.isfinite(output))
    if missing.size:
        name = sector[missing[0]]
        rows = dataset.cap_rules.index[(dataset.cap_rules["sector"] == name).to_numpy()
                                       & dataset.cap_rules["benchmark_t_per_unit"].notna().to_numpy()]
        raise InputError(Problem(schema.CAP_RULES.file, int(rows[0]), "benchmark_t_per_unit",
                                 f"{benchmark[missing[0]]:g} for {name}",
                                 f"blank, or the output of {name} (sectors.csv base_output or bau.csv output): "
                                 "allowances are benchmark x output"))


def _bau_paths(dataset: Dataset, sector: np.ndarray, year: np.ndarray, per_row) -> tuple[np.ndarray, np.ndarray]:
    """BAU emissions (Mt CO2) and output by sector-year row: base-year figures grown at
    sectors.csv's constant rates (emissions = output x intensity), replaced for the sectors
    bau.csv lists by its path (interpolated between rows, held outside them; a blank
    output keeps the growth path's)."""
    elapsed = year - dataset.settings["base_year"]
    output_growth = per_row("output_growth")
    bau_growth = (1.0 + output_growth) * (1.0 + per_row("intensity_change"))  # BAU factor per year
    bau = per_row("base_emissions_mt") * bau_growth ** elapsed
    output = per_row("base_output") * (1.0 + output_growth) ** elapsed
    for name, known, path in _by_sector(dataset.bau, ("bau_mt", "output")):
        rows = sector == name
        held = np.clip(year[rows], known[0], known[-1]).astype(float)
        bau[rows] = interpolate(known, path["bau_mt"], held)
        given = ~np.isnan(path["output"])
        if given.any():
            at = np.clip(held, known[given][0], known[given][-1])
            output[rows] = interpolate(known[given], path["output"][given], at)
    return bau, output


def _by_sector(table: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[Any, np.ndarray, dict[str, np.ndarray]]]:
    """The rows of ``table`` (bau.csv, allocation.csv) by sector, in order of first appearance:
    each sector's years sorted, and ``columns`` in that order, as float arrays."""
    def split() -> list[tuple[Any, np.ndarray, dict[str, np.ndarray]]]:
        # codes in order of first appearance (as groupby(sort=False)), of text or of a
        # script's categorical alike (its names as objects; a missing sector is no group)
        code, names = pd.factorize(table["sector"].to_numpy(dtype=object))
        year = table["year"].to_numpy(dtype=float)
        values = {c: table[c].to_numpy(dtype=float) for c in columns}
        groups = []
        for position, name in enumerate(names):  # a few sectors
            rows = np.flatnonzero(code == position)
            order = rows[np.argsort(year[rows], kind="stable")]
            groups.append((name, year[order], {c: values[c][order] for c in columns}))
        return groups

    return fastpath.cached("by_sector", (table, columns), split)


def _cap_shares(basis: np.ndarray, benchmark: np.ndarray, basis_from: np.ndarray, year: np.ndarray,
                years: np.ndarray, bau_in_year) -> np.ndarray:
    """Each trading sector's share of the caps the model chooses (the trading sectors whose
    rule is intensity without a given benchmark, or absolute): in proportion to BAU emissions
    of the year (intensity x output, one stringency for all) under intensity; under
    absolute, in proportion to BAU of the year the sector's absolute cap starts (shares
    frozen, so no cap rises while the total does not). That year may precede the horizon
    (absolute_cap_from or trading_from before first_year): its BAU then comes from the same
    path (``bau_in_year``: BAU of each row's sector in the given years), so the shares do not
    depend on where the horizon starts. NaN for rows outside that group."""
    absolute = basis == ABSOLUTE
    shared = ((basis == INTENSITY) & np.isnan(benchmark)) | absolute
    reference_year = np.where(absolute, basis_from, year)
    reference_bau = bau_in_year(reference_year)
    weight = np.where(shared, reference_bau, 0.0)
    year_position = year - years[0]
    total = np.bincount(year_position, weights=weight, minlength=years.size)[year_position]
    count = np.bincount(year_position, weights=shared, minlength=years.size)[year_position]
    # zero BAU everywhere in a year: split equally rather than divide by zero
    share = np.divide(weight, total, out=1.0 / np.maximum(count, 1), where=total > 0)
    return np.where(shared, share, np.nan)


def _free_share_bounds(dataset: Dataset, year: np.ndarray, per_row) -> tuple[np.ndarray, np.ndarray]:
    """Free-share bounds by sector-year: sectors.csv, replaced by allocation.csv's schedule
    from its first year on (interpolated, then held); leakage-exposed sectors keep their floor."""
    lower, upper = per_row("free_share_min"), per_row("free_share_max")
    sector = np.repeat(dataset.sectors["sector"].to_numpy(), year.size // max(len(dataset.sectors), 1))
    scheduled_min, scheduled_max = lower.copy(), upper.copy()
    for name, known, schedule in _by_sector(dataset.allocation, ("free_share_min", "free_share_max")):
        rows = (sector == name) & (year >= known[0])
        held = np.minimum(year[rows], known[-1])
        scheduled_min[rows] = interpolate(known, schedule["free_share_min"], held)
        scheduled_max[rows] = interpolate(known, schedule["free_share_max"], held)
    floor = np.where(per_row("leakage_exposed", 0.0) > 0, lower, 0.0)
    free_share_min = np.maximum(scheduled_min, floor)
    below_floor = np.flatnonzero(scheduled_max < free_share_min - 1e-12)
    if below_floor.size:
        first = below_floor[0]
        raise InputError(Problem(
            schema.ALLOCATION.file, None, "free_share_max",
            f"{scheduled_max[first]:g} for {sector[first]} in {year[first]}",
            f"at least the leakage floor {free_share_min[first]:g} (sectors.csv free_share_min "
            f"of a leakage-exposed sector), or leakage_exposed = false",
        ))
    return free_share_min, scheduled_max


@dataclass(frozen=True)
class _StepRows:
    """The available (sector, step, year) rows of mac.csv over the horizon: their index, the
    sector-year row of each, and the per-row share of BAU and cost (read-only arrays), which
    depend on mac.csv, the sectors' names and the years only: a Monte Carlo of BAU shares them."""

    index: pd.MultiIndex
    rows: np.ndarray
    potential_share: np.ndarray
    cost_cny_per_t: np.ndarray


def _step_rows(dataset: Dataset, years: np.ndarray, skip_sectors: frozenset[str]) -> _StepRows:
    sectors = tuple(dataset.sectors["sector"].tolist())

    def make() -> _StepRows:
        mac = dataset.mac[~dataset.mac["sector"].isin(skip_sectors).to_numpy()]
        n_years = years.size
        year = np.tile(years, len(mac))
        available = year >= np.repeat(mac["available_from"].to_numpy(dtype=float, na_value=-np.inf), n_years)

        def per_row(column: str) -> np.ndarray:
            return np.repeat(mac[column].to_numpy(), n_years)[available]

        year = year[available]
        sector_code = name_positions(sectors, mac["sector"])
        rows = (np.repeat(sector_code, n_years)[available]) * n_years + (year - years[0])
        elapsed = (year - dataset.settings["base_year"]).astype(float)
        cost = per_row("cost_cny_per_t").astype(float) * (1.0 + per_row("cost_change").astype(float)) ** elapsed
        share = per_row("potential_share").astype(float)
        for array in (rows, cost, share):
            array.flags.writeable = False
        index = _steps_index(tuple(mac["sector"].tolist()), tuple(mac["step"].tolist()),
                             available.tobytes(), int(years[0]), int(years[-1]))
        return _StepRows(index, rows, share, cost)

    return fastpath.cached("step_rows", (dataset.mac, sectors, skip_sectors, int(years[0]),
                                         int(years[-1]), dataset.settings["base_year"]), make)


def _steps(dataset: Dataset, years: np.ndarray, bau: np.ndarray,
           skip_sectors: frozenset[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Every (sector, step, year) whose step is available, and the sector-year row of each
    (read-only arrays: kept, they are shared by the scenarios they fit),
    for the sectors not abated installation by installation; zero-potential steps are kept
    so that a change of a number never changes the LP's columns. Potential = share x BAU
    of the row's sector-year (Mt); cost = cost x (1 + cost_change)^(year - base_year)."""
    step_rows = _step_rows(dataset, years, skip_sectors)
    steps = pd.DataFrame({"potential_mt": step_rows.potential_share * bau[step_rows.rows],
                          "cost_cny_per_t": step_rows.cost_cny_per_t}, index=step_rows.index,
                         columns=fastpath.column_names(("potential_mt", "cost_cny_per_t")))
    return freeze_own(steps), step_rows.rows


# A study derives parameters for many scenarios of one dataset: their indexes are the same
# (immutable) objects, made once, since building a MultiIndex of text keys costs more than
# all the arithmetic of a scenario.


@functools.lru_cache(maxsize=16)
def _grid_index(sectors: tuple[str, ...], first_year: int, last_year: int) -> pd.MultiIndex:
    """(sector, year) for every sector and model year, sector by sector: built from codes
    (the names ranked once), as ``MultiIndex.from_product`` gives it, without factorizing."""
    names, years = np.array(sectors, dtype=object), np.arange(first_year, last_year + 1)
    if len(set(sectors)) != len(sectors) or not all(isinstance(name, str) for name in sectors):
        # a repeated or missing name (refused by the checks): as pandas numbers it
        return pd.MultiIndex.from_product([names, years], names=["sector", "year"])
    sorted_names, rank = np.unique(names, return_inverse=True)  # the levels sorted, as from_product makes them
    return _index_of_codes([(sorted_names, np.repeat(rank, years.size)),
                            (years, np.tile(np.arange(years.size), len(names)))], ["sector", "year"])


@functools.lru_cache(maxsize=16)
def _steps_index(sectors: tuple[str, ...], steps: tuple[str, ...], available: bytes, first_year: int,
                 last_year: int) -> pd.MultiIndex:
    """(sector, step, year) of the available steps: ``available`` is the mask over mac rows x years."""
    years = np.arange(first_year, last_year + 1)
    mask = np.frombuffer(available, dtype=bool)
    by_row = [np.array(sectors, dtype=object), np.array(steps, dtype=object)]
    if not all(isinstance(name, str) for name in (*sectors, *steps)):  # a missing name (refused by the checks)
        return pd.MultiIndex.from_arrays([np.repeat(by_row[0], years.size)[mask],
                                          np.repeat(by_row[1], years.size)[mask], np.tile(years, len(sectors))[mask]],
                                         names=["sector", "step", "year"])
    # the names ranked on mac.csv's rows, then spread over the available step-years
    (sector_names, sector_rank), (step_names, step_rank) = (np.unique(row, return_inverse=True) for row in by_row)
    return _index_of_codes([(sector_names, np.repeat(sector_rank, years.size)[mask]),
                            (step_names, np.repeat(step_rank, years.size)[mask]),
                            (years, np.tile(np.arange(years.size), len(sectors))[mask])], ["sector", "step", "year"])


def _index_of_codes(levels: list[tuple[np.ndarray, np.ndarray]], names: list[str]) -> pd.MultiIndex:
    """The MultiIndex ``from_arrays`` makes of ``values[code]`` for each (sorted distinct
    values, code) level: its levels the values present, text inferred as pandas infers it."""
    kept_levels, kept_codes = [], []
    for values, code in levels:
        present = np.flatnonzero(np.bincount(code, minlength=len(values)))
        renumber = np.full(len(values), -1)
        renumber[present] = np.arange(present.size)
        kept_levels.append(pd.Index(values[present]))
        kept_codes.append(renumber[code])
    return pd.MultiIndex(levels=kept_levels, codes=kept_codes, names=names, verify_integrity=False)


MT_PER_T_PER_10K_CNY_X_BN_CNY = 0.1  # t/10,000 CNY x bn CNY = 1e5 t


def _national_targets(dataset: Dataset, years: np.ndarray,
                      by_year: Callable[[str], np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The national targets of every year as China states them, in [targets] scope: an
    absolute cap, an intensity cap (intensity x GDP) or both (the tighter binds), and the
    CO2 the model may count against them: the target, plus sinks, less non-CO2 (net_ghg).
    ``by_year``: a column of targets.csv interpolated over ``years`` (default ``interpolated``)."""
    targets = dataset.targets
    by_year = by_year or (lambda column: interpolated(targets, column, years))
    absolute = by_year("national_cap_mt")
    intensity = (by_year("national_intensity_t_per_10k_cny") * by_year("gdp_bn_cny") * MT_PER_T_PER_10K_CNY_X_BN_CNY)
    target = np.fmin(absolute, intensity)
    net_ghg = dataset.settings["targets.scope"] == "net_ghg"
    non_co2, sinks = (np.nan_to_num(by_year(column)) * net_ghg for column in ("non_co2_mt", "sinks_mt"))
    return {"absolute_target_mt": absolute, "intensity_target_mt": intensity, "non_co2_mt": non_co2,
            "sinks_mt": sinks, "national_cap_mt": np.where(np.isnan(target), np.inf, target - non_co2 + sinks)}


TARGET_COLUMNS = ("national_cap_mt", "absolute_target_mt", "intensity_target_mt", "non_co2_mt", "sinks_mt",
                  "ets_cap_mt", "min_auction_share", "max_auction_share", "max_burden_share")


def _targets(dataset: Dataset, years: np.ndarray) -> pd.DataFrame:
    """The yearly targets (``TARGET_COLUMNS``), frozen: targets.csv's years sorted once and
    each column interpolated on arrays (a sweep of a target derives this per scenario)."""
    targets = dataset.targets
    known = targets["year"].to_numpy(dtype=float)
    order = np.argsort(known, kind="stable")  # as sort_values("year"): blank years last
    read = ("national_cap_mt", "national_intensity_t_per_10k_cny", "gdp_bn_cny", "non_co2_mt", "sinks_mt",
            "ets_cap_mt", "min_auction_share", "max_auction_share", "max_burden_share")
    given = np.column_stack([fastpath.float_column(targets, column) for column in read])[order]
    interpolated_columns = dict(zip(read, _interpolate_columns(known[order], given, years).T))

    def by_year(column: str) -> np.ndarray:
        return interpolated_columns[column]

    national = _national_targets(dataset, years, by_year)
    min_auction_share = by_year("min_auction_share")
    max_auction_share = by_year("max_auction_share")
    max_burden_share = by_year("max_burden_share")
    columns = {
        "national_cap_mt": national.pop("national_cap_mt"),
        **national,
        "ets_cap_mt": by_year("ets_cap_mt"),
        "min_auction_share": min_auction_share,
        # blank: auction exactly what policy says (every Chinese sector started 100% free)
        "max_auction_share": np.where(np.isnan(max_auction_share), min_auction_share, max_auction_share),
        "max_burden_share": np.where(np.isnan(max_burden_share), dataset.settings["allocation.max_burden_share"],
                                     max_burden_share),
    }
    values = np.empty((len(TARGET_COLUMNS), years.size))  # one float block, read-only, as _freeze leaves it
    for position, name in enumerate(TARGET_COLUMNS):
        values[position] = columns[name]
    values.flags.writeable = False
    # the same columns Index for every scenario: its lookup of a name is built once (fastpath.column_names)
    return pd.DataFrame(values.T, index=_year_index(int(years[0]), int(years[-1])),
                        columns=fastpath.column_names(tuple(TARGET_COLUMNS)), copy=False)


def _interpolate_columns(known: np.ndarray, values: np.ndarray, years: np.ndarray) -> np.ndarray:
    """``inputs.interpolate`` of each column of ``values`` (rows at the sorted years ``known``)
    at once, element for element the same arithmetic: years x columns."""
    at_or_before = np.clip(np.searchsorted(known, years, side="right") - 1, 0, len(known) - 1)
    after = np.clip(at_or_before + 1, 0, len(known) - 1)
    t0, t1 = known[at_or_before], known[after]
    v0, v1 = values[at_or_before], values[after]
    weight = np.divide(years - t0, t1 - t0, out=np.zeros(len(years)), where=t1 > t0)[:, None]
    result = np.where((years == t0)[:, None], v0, v0 + weight * (v1 - v0))
    result[(years < known[0]) | (years > known[-1])] = np.nan
    return result


@functools.lru_cache(maxsize=16)
def _year_index(first_year: int, last_year: int) -> pd.Index:
    return pd.Index(np.arange(first_year, last_year + 1), name="year")
