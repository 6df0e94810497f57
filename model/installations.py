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
cheap splits) and the LP is far smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import Dataset
from .phases import SIMULATION


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


@dataclass(frozen=True)
class PooledMembers:
    """Installation steps merged into pooled columns: which column, which facility-year, how much."""

    facility_rows: np.ndarray
    pooled_column: np.ndarray
    potential_mt: np.ndarray


def facility_grid(dataset: Dataset, sector_years: pd.DataFrame, years: np.ndarray) -> pd.DataFrame:
    """One row per installation and model year (installation by installation): its sector's
    row and phase, BAU, and shares of its sector's emissions and allowances."""
    facilities = dataset.facilities
    n_years = years.size
    sector_code = pd.Index(dataset.sectors["sector"]).get_indexer(facilities["sector"])
    emission_share = _within_sector_share(sector_code, facilities["emissions_mt"].to_numpy(dtype=float))
    allocation_share = _within_sector_share(sector_code, _allocation_basis(dataset))
    sector_row = np.repeat(sector_code * n_years, n_years) + np.tile(np.arange(n_years), len(facilities))
    repeat = np.repeat(np.arange(len(facilities)), n_years)
    phase = sector_years["phase"].to_numpy()[sector_row]
    rule_cap = sector_years["rule_cap_mt"].to_numpy()[sector_row]
    index = pd.MultiIndex.from_product([facilities["facility_id"].to_numpy(), years], names=["facility_id", "year"])
    return pd.DataFrame({
        "sector": facilities["sector"].to_numpy()[repeat],
        "sector_row": sector_row,
        "phase": phase,
        "bau_mt": sector_years["bau_mt"].to_numpy()[sector_row] * emission_share[repeat],
        "emission_share": emission_share[repeat],
        "allocation_share": allocation_share[repeat],
        "cap_mt": np.where(phase == SIMULATION, rule_cap * allocation_share[repeat], np.nan),
    }, index=index)


def installation_columns(dataset: Dataset, grid: pd.DataFrame, years: np.ndarray,
                         pool: bool) -> tuple[list[AbatementColumns], PooledMembers | None]:
    """Every installation's steps in every year they are available; with ``pool``, those in
    years without a constraint of the installation's own are merged by sector, step, cost
    path and year."""
    steps = _installation_steps(dataset)
    n_years = years.size
    year = np.tile(years, len(steps))
    of_step = np.repeat(np.arange(len(steps)), n_years)
    available = year >= steps["available_from"].to_numpy()[of_step]
    year, of_step = year[available], of_step[available]
    facility_rows = steps["facility"].to_numpy()[of_step] * n_years + (year - years[0])
    elapsed = (year - dataset.settings["base_year"]).astype(float)
    potential = steps["potential_share"].to_numpy()[of_step] * grid["bau_mt"].to_numpy()[facility_rows]
    cost = steps["base_cost"].to_numpy()[of_step] * (1.0 + steps["cost_change"].to_numpy()[of_step]) ** elapsed
    sector_rows = grid["sector_row"].to_numpy()[facility_rows]
    own = grid["phase"].to_numpy()[facility_rows] == SIMULATION if pool else np.ones(year.size, dtype=bool)
    facility_ids = grid.index.get_level_values("facility_id").to_numpy()[facility_rows[own]]
    families = [AbatementColumns(
        "facility_abatement_mt",
        pd.MultiIndex.from_arrays([facility_ids, steps["step"].to_numpy()[of_step[own]], year[own]],
                                  names=["facility_id", "step", "year"]),
        potential[own], cost[own], sector_rows[own], facility_rows[own],
    )]
    if not pool:
        return families, None
    members = ~own
    pooled, column = _pools(steps, of_step[members], year[members], sector_rows[members],
                            potential[members], cost[members], years)
    families.append(pooled)
    return families, PooledMembers(facility_rows[members], column, potential[members])


def _pools(steps: pd.DataFrame, of_step: np.ndarray, year: np.ndarray, sector_rows: np.ndarray,
           potential: np.ndarray, cost: np.ndarray, years: np.ndarray) -> tuple[AbatementColumns, np.ndarray]:
    """Pooled columns keyed (sector, step, pool, year), pool numbering the distinct cost paths
    of a sector's step from the cheapest; and the pooled column of every member."""
    key = ["sector", "step", "base_cost", "cost_change", "available_from"]
    path_id = steps.groupby(key, sort=True).ngroup().to_numpy()
    paths = steps[key].drop_duplicates().sort_values(key, ignore_index=True)  # the order of ngroup
    pool_number = paths.groupby(["sector", "step"]).cumcount().to_numpy()  # cheapest first
    column_key = path_id[of_step] * years.size + (year - years[0])
    column_ids, column = np.unique(column_key, return_inverse=True)
    first_member = np.zeros(column_ids.size, dtype=int)
    first_member[column[::-1]] = np.arange(column.size)[::-1]
    path_of_column = column_ids // years.size
    return AbatementColumns(
        "pooled_abatement_mt",
        pd.MultiIndex.from_arrays([paths["sector"].to_numpy()[path_of_column], paths["step"].to_numpy()[path_of_column],
                                   pool_number[path_of_column], years[0] + column_ids % years.size],
                                  names=["sector", "step", "pool", "year"]),
        np.bincount(column, weights=potential, minlength=column_ids.size),
        cost[first_member], sector_rows[first_member],
    ), column


def _installation_steps(dataset: Dataset) -> pd.DataFrame:
    """One row per installation and step (before years): its sector's steps with costs times
    its cost_factor, or its own steps from facility_mac.csv."""
    facilities = dataset.facilities.reset_index(drop=True).assign(facility=lambda f: np.arange(len(f)))
    own = dataset.facility_mac
    inherits = facilities[~facilities["facility_id"].isin(own["facility_id"])]
    inherited = inherits[["facility", "sector", "cost_factor"]].merge(dataset.mac, on="sector", sort=False)
    inherited["base_cost"] = inherited["cost_cny_per_t"] * inherited["cost_factor"]
    facility_of = pd.Series(facilities["facility"].to_numpy(), index=facilities["facility_id"])
    own = own.assign(facility=facility_of.reindex(own["facility_id"]).to_numpy(),
                     sector=facilities["sector"].to_numpy()[facility_of.reindex(own["facility_id"]).to_numpy()],
                     base_cost=own["cost_cny_per_t"])
    columns = ["facility", "sector", "step", "potential_share", "base_cost", "cost_change", "available_from"]
    steps = pd.concat([inherited[columns], own[columns]], ignore_index=True)
    steps["available_from"] = steps["available_from"].astype("Float64").fillna(-np.inf).astype(float)
    return steps.sort_values(["facility", "step"], kind="stable", ignore_index=True)


def _allocation_basis(dataset: Dataset) -> np.ndarray:
    """benchmark x output where the sector has benchmarks, output where it has none; a
    sector with any installation lacking output shares by base-year emissions throughout."""
    facilities = dataset.facilities
    benchmarks = dataset.benchmarks.set_index(["sector", "unit_type"])["benchmark_t_per_unit"]
    keys = pd.MultiIndex.from_arrays([facilities["sector"], facilities["unit_type"]])
    benchmark = (benchmarks.reindex(keys).to_numpy(dtype=float) if len(benchmarks)
                 else np.full(len(facilities), np.nan))
    output = facilities["output"].to_numpy(dtype=float)
    basis = np.where(np.isnan(benchmark), output, benchmark * output)
    lacking = pd.Series(np.isnan(basis)).groupby(facilities["sector"].to_numpy()).transform("any").to_numpy()
    return np.where(lacking, facilities["emissions_mt"].to_numpy(dtype=float), basis)


def _within_sector_share(sector_code: np.ndarray, weight: np.ndarray) -> np.ndarray:
    total = np.bincount(sector_code, weights=weight)[sector_code]
    count = np.bincount(sector_code)[sector_code]
    return np.divide(weight, total, out=1.0 / count, where=total > 0)
