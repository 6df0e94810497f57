"""Tidy result tables from a solved model, and writing them safely to a folder.

Prices are in year-t money: the dual of a price row divided by that year's discount
factor, sign-flipped so that a binding cap gives a positive price (CNY per t CO2).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.csv

from .checks import run_checks
from .facilities import facility_years
from .errors import EtscapError
from .parameters import Parameters
from .phases import SIMULATION, TRADING
from .solve import Solution

USED_TOLERANCE_MT = 1e-7  # abatement below this counts as unused when finding marginal costs
DECIMALS = 9
TABLE_FILES = {"years": "years.csv", "sector_years": "sector_years.csv", "abatement_steps": "abatement_steps.csv",
               "facilities": "facilities.csv"}
OPTIONAL_TABLES = ("facilities",)  # written only when not empty


@dataclass
class Results:
    """A solve's tables (tidy: one row per year, sector-year or step-year) and its summary."""

    years: pd.DataFrame
    sector_years: pd.DataFrame
    abatement_steps: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    facilities: pd.DataFrame = field(default_factory=pd.DataFrame)  # installation x year, if a registry is given

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to write: every table but the optional ones left empty."""
        return {name: getattr(self, name) for name in TABLE_FILES
                if name not in OPTIONAL_TABLES or not getattr(self, name).empty}

    def write(self, out: str | Path, force: bool = False) -> Path:
        """Write the tables and summary.json to ``out``; the folder appears whole or not at all."""
        return write_folder(out, self._write_into, force)

    def _write_into(self, folder: Path) -> None:
        for name, table in self.tables().items():
            write_csv(table, folder / TABLE_FILES[name])
        if not self.facilities.empty:  # the same rows for tools that read large tables
            self.facilities.to_parquet(folder / "facility_years.parquet", index=False)
        (folder / "summary.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n")

    @classmethod
    def read(cls, folder: str | Path) -> "Results":
        """Results written by ``write``."""
        folder = Path(folder)
        required = [f for name, f in TABLE_FILES.items() if name not in OPTIONAL_TABLES]
        missing = [f for f in [*required, "summary.json"] if not (folder / f).is_file()]
        if missing:
            raise EtscapError(f"{folder} is not a results folder: {', '.join(missing)} missing")
        tables = {name: pd.read_csv(folder / file, low_memory=False) for name, file in TABLE_FILES.items()
                  if (folder / file).is_file()}
        return cls(**tables, summary=json.loads((folder / "summary.json").read_text()))


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """CSV with numbers rounded to DECIMALS places (a gram of CO2, a thousandth of a fen):
    stable bytes for the same inputs, and fast (Arrow's writer) for registry-sized tables."""
    numbers = table.select_dtypes("number").columns
    rounded = table.assign(**{c: table[c].round(DECIMALS) for c in numbers})
    pyarrow.csv.write_csv(pyarrow.Table.from_pandas(rounded, preserve_index=False), path,
                          pyarrow.csv.WriteOptions(quoting_style="needed"))


def check_can_write(out: str | Path, force: bool) -> Path:
    """Refuse early (before solving) if ``out`` exists and ``force`` is not given."""
    out = Path(out)
    if out.exists() and not force:
        raise EtscapError(f"results folder {out} already exists: pass --force to replace it, "
                          "or --out to choose another folder")
    if out.exists() and not out.is_dir():
        raise EtscapError(f"{out} exists and is not a folder: choose another --out")
    return out


def write_file(out: str | Path, write_to: Any, force: bool = False) -> Path:
    """Write one file through a temporary file in the same folder, then move it into place;
    an existing file is only replaced with ``force``."""
    out = Path(out)
    if out.exists() and not force:
        raise EtscapError(f"{out} already exists: pass --force to replace it, or --out to choose another file")
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{out.name}.writing-", dir=out.parent)
    os.close(handle)
    try:
        write_to(Path(staging))
        os.replace(staging, out)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return out


def write_folder(out: str | Path, write_into: Any, force: bool = False) -> Path:
    """Fill a fresh hidden folder with ``write_into(folder)``, then move it into place.

    An interrupted run leaves an existing ``out`` untouched.
    """
    out = check_can_write(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.writing-", dir=out.parent))
    try:
        write_into(staging)
        if out.exists():
            retired = out.with_name(f".{out.name}.replaced-{uuid.uuid4().hex[:8]}")
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


# -- building the tables ------------------------------------------------------------------


def build_results(p: Parameters, least_cost: Solution, allocated: Solution | None,
                  seconds: dict[str, float], hash_inputs: bool = True, installations: bool = True) -> Results:
    """Tables from a solved model's parameters and solutions: prices from the least-cost
    stage's duals, quantities, caps and free allocation from the final stage; plus the
    run's summary and checks. ``hash_inputs=False`` leaves the summary's inputs_sha256
    blank (a study's scenario is named by its base dataset and overrides instead);
    ``installations=False`` leaves out the sector-resolution table by installation."""
    final = allocated or least_cost
    price = allowance_prices(p, least_cost)
    steps, step_rows = _abatement_steps(p, final)
    sector_years = _sector_years(p, least_cost, final, steps, step_rows, price, allocated is not None)
    years = _years(p, least_cost, final, sector_years, price)
    summary = _summary(p, least_cost, allocated, seconds, hash_inputs)
    if p.facility_resolution:  # without the table, the simulation years still feed the checks
        by_installation = facility_years(p, sector_years, years, facility_abatement(p, final),
                                         facility_own_prices(p, least_cost),
                                         phases=(SIMULATION, TRADING) if installations else (SIMULATION,))
    else:  # only a share of each sector: left out where nobody reads it (a study's scenarios)
        by_installation = facility_years(p, sector_years, years) if installations else pd.DataFrame()
    summary["checks"] = run_checks(years, sector_years, steps, summary["market"], by_installation)
    return Results(years=years, sector_years=sector_years, abatement_steps=steps, summary=summary,
                   facilities=by_installation if installations else pd.DataFrame())


def prices(p: Parameters, duals: np.ndarray, years: np.ndarray) -> np.ndarray:
    """CNY/t in year-t money from the raw duals of '<=' rows indexed by ``years``."""
    price = -duals / p.discount_factor.reindex(years).to_numpy()
    return np.where(np.abs(price) < 1e-9, 0.0, price)


def allowance_prices(p: Parameters, least_cost: Solution) -> pd.Series:
    """The allowance price by year (CNY/t, year-t money); NaN in years without a market."""
    market_years = p.market_years
    price = prices(p, least_cost.duals["market_balance"], market_years)
    return pd.Series(price, index=pd.Index(market_years, name="year")).reindex(p.years)


def _abatement_steps(p: Parameters, solution: Solution) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per abatement column of every family (sector steps; at facility resolution
    also installation steps, pooled steps and the steps solved outside the LP), and the
    sector-year row of each. Built column by column from arrays: a study builds it for
    every scenario."""
    solved = [(columns, solution.values[columns.name]) for columns in p.abatement]
    if p.presolved is not None:
        solved.append((p.presolved.columns, p.presolved.abatement_mt))
    key_columns = ["sector", "facility_id", "step", "pool", "year"] if p.facility_resolution else ["sector", "step", "year"]
    keys: dict[str, list[np.ndarray]] = {name: [] for name in key_columns}
    for columns, _ in solved:
        table = columns.key_arrays
        for name in key_columns:
            if name in table:
                keys[name].append(table[name])
            elif name == "sector":
                keys[name].append(p.facility_years["sector"].to_numpy()[columns.facility_rows])
            else:
                keys[name].append(np.full(len(columns), None if name == "facility_id" else np.nan, dtype=object))
    potential = np.concatenate([columns.potential_mt for columns, _ in solved])
    cost = np.concatenate([columns.cost_cny_per_t for columns, _ in solved])
    abatement = np.concatenate([values for _, values in solved])
    steps = pd.DataFrame({  # text kept as object arrays: no conversion per scenario
        **{name: pd.Series(np.concatenate(parts), dtype=object if name in ("sector", "facility_id", "step") else None)
           for name, parts in keys.items()},
        "potential_mt": potential, "cost_cny_per_t": cost, "abatement_mt": abatement,
        "abatement_cost_bn_cny": abatement * cost / 1e3,
    })
    if p.facility_resolution:
        steps["pool"] = pd.array(steps["pool"].to_numpy(), dtype="Int64")
    return steps, np.concatenate([columns.rows for columns, _ in solved])


def _sector_years(p: Parameters, least_cost: Solution, final: Solution, steps: pd.DataFrame,
                  step_rows: np.ndarray, price: pd.Series, allocated: bool) -> pd.DataFrame:
    n = len(p.sector_years)
    bau = p.sector_years["bau_mt"].to_numpy()
    abatement = steps["abatement_mt"].to_numpy()
    abated = np.bincount(step_rows, weights=abatement, minlength=n)
    cap = _spread(n, p.covered_rows, final.values["sector_cap_mt"])
    used = abatement > USED_TOLERANCE_MT
    dearest = np.full(n, -np.inf)
    np.maximum.at(dearest, step_rows[used], steps["cost_cny_per_t"].to_numpy()[used])
    table = pd.DataFrame({  # built at once: a study builds it for every scenario
        "phase": p.sector_years["phase"],
        "bau_mt": bau,
        "emissions_mt": bau - abated,
        "abatement_mt": abated,
        "cap_mt": cap,
        "abatement_cost_bn_cny": np.bincount(step_rows, weights=steps["abatement_cost_bn_cny"].to_numpy(),
                                             minlength=n),
        "marginal_cost_cny_per_t": np.where(np.isfinite(dearest), dearest, np.nan),
        "own_price_cny_per_t": _own_prices(p, least_cost),
        "rule_cap_mt": p.sector_years["rule_cap_mt"].to_numpy(),  # simulation phase only: for the checks
        "implied_benchmark_t_per_unit": cap / p.sector_years["output"].to_numpy(),
    }, index=p.sector_years.index)
    if allocated:
        columns = list(table.columns)
        _allocation_columns(table, p, _spread(n, p.covered_rows, final.values["free_allocation_mt"]), price)
        columns[5:5] = ["free_mt", "free_share", "auctioned_mt", "net_purchase_mt"]
        columns[10:10] = ["burden_bn_cny", "burden_share_of_value_added"]
        columns += ["free_share_min", "free_share_max"]
        table = table[columns]
    return table.reset_index()


def _own_prices(p: Parameters, least_cost: Solution) -> np.ndarray:
    """Each simulation-phase sector's own price; for a sector whose installations meet their
    own caps, the mean of theirs weighted by BAU emissions."""
    n = len(p.sector_years)
    rows = p.sector_simulation_rows
    own = _spread(n, rows, prices(p, least_cost.duals["simulation_compliance"], p.year_of_row[rows]))
    grid = p.facility_years if p.facility_resolution else None
    facility_rows = np.flatnonzero(grid["phase"].to_numpy() == SIMULATION) if grid is not None else []
    if len(facility_rows):
        sector_rows = grid["sector_row"].to_numpy()[facility_rows]
        weight = grid["bau_mt"].to_numpy()[facility_rows]
        price = facility_own_prices(p, least_cost)[facility_rows]
        total = np.bincount(sector_rows, weights=weight, minlength=n)
        mean = np.bincount(sector_rows, weights=weight * price, minlength=n)
        by_installation = np.unique(sector_rows)
        own[by_installation] = mean[by_installation] / total[by_installation]
    return own


def facility_own_prices(p: Parameters, least_cost: Solution) -> np.ndarray:
    """By facility-year row: an installation's own price in its sector's simulation phase
    (CNY/t, year-t money), NaN otherwise; facility resolution only."""
    if p.presolved is not None:
        return p.presolved.own_price_cny_per_t
    rows = p.facility_simulation_rows
    own = np.full(len(p.facility_years), np.nan)
    own[rows] = prices(p, least_cost.duals["facility_compliance"],
                       p.facility_years.index.get_level_values("year").to_numpy()[rows])
    return own


def facility_abatement(p: Parameters, solution: Solution) -> np.ndarray:
    """Abatement by facility-year row at facility resolution: an installation's own columns,
    plus its share (by potential) of the pooled columns it was merged into."""
    n = len(p.facility_years)
    total = np.zeros(n)
    if p.presolved is not None:
        total += np.bincount(p.presolved.columns.facility_rows, weights=p.presolved.abatement_mt, minlength=n)
    for columns in p.installation_columns:
        if columns.facility_rows is not None:
            total += np.bincount(columns.facility_rows, weights=solution.values[columns.name], minlength=n)
    members = p.pooled_members
    if members is not None:
        pooled = next(c for c in p.installation_columns if c.name == "pooled_abatement_mt")
        used_share = np.divide(solution.values[pooled.name], pooled.potential_mt,
                               out=np.zeros(len(pooled)), where=pooled.potential_mt > 0)
        by_path_year = np.where(members.column_of >= 0, used_share[members.column_of], 0.0)
        share_used = np.zeros((n // p.years.size, p.years.size))  # installation x year
        np.add.at(share_used, members.facility, members.potential_share[:, None] * by_path_year[members.pool_path])
        total += share_used.ravel() * p.facility_years["bau_mt"].to_numpy()
    return total


def _spread(n: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` placed at ``rows`` of an all-NaN column of length ``n``."""
    column = np.full(n, np.nan)
    column[rows] = values
    return column


def _allocation_columns(table: pd.DataFrame, p: Parameters, free_mt: np.ndarray, price: pd.Series) -> None:
    """Free allocation, what is auctioned and bought, and the burden it leaves (DESIGN stage 2)."""
    trading = table["phase"] == TRADING
    table["free_mt"] = free_mt
    table["free_share"] = table["free_mt"] / table["cap_mt"].where(table["cap_mt"] > 0)
    table["auctioned_mt"] = table["cap_mt"] - table["free_mt"]
    table["net_purchase_mt"] = (table["emissions_mt"] - table["free_mt"]).where(trading)
    year_price = price.reindex(table.index.get_level_values("year")).fillna(0.0).to_numpy()
    market_cost_bn = (year_price * table["net_purchase_mt"].fillna(0.0) / 1e3).where(table["cap_mt"].notna())
    table["burden_bn_cny"] = table["abatement_cost_bn_cny"].where(table["cap_mt"].notna()) + market_cost_bn
    table["burden_share_of_value_added"] = table["burden_bn_cny"] / p.sector_years["value_added_bn_cny"]
    bounds = p.sector_years[["free_share_min", "free_share_max"]].where(trading)
    table[["free_share_min", "free_share_max"]] = bounds


def _years(p: Parameters, least_cost: Solution, final: Solution, sector_years: pd.DataFrame,
           price: pd.Series) -> pd.DataFrame:
    years = p.years
    year_row = sector_years["year"].to_numpy() - p.first_year
    covered = sector_years["phase"].isin([SIMULATION, TRADING]).to_numpy()

    def by_year(column: str, only_covered: bool = False) -> np.ndarray:
        values = np.nan_to_num(sector_years[column].to_numpy(dtype=float))
        return np.bincount(year_row, weights=values * covered if only_covered else values, minlength=years.size)

    bank = final.values.get("bank_mt")
    columns = {
        "year": years,
        "national_cap_mt": p.targets["national_cap_mt"].to_numpy(),
        "ets_cap_mt": final.values["ets_cap_mt"],
        "bank_mt": bank if bank is not None else np.zeros(years.size),
        "allowance_price_cny_per_t": price.to_numpy(),
        "national_carbon_value_cny_per_t": prices(p, least_cost.duals["national_target"], years),
        "emissions_mt": by_year("emissions_mt"),
        "ets_emissions_mt": by_year("emissions_mt", only_covered=True),
        "abatement_mt": by_year("abatement_mt"),
        "abatement_cost_bn_cny": by_year("abatement_cost_bn_cny"),
    }
    if "free_mt" in sector_years:
        columns["min_auction_share"] = p.targets["min_auction_share"].to_numpy()
        columns["max_burden_share"] = p.targets["max_burden_share"].to_numpy()
        columns["free_allocation_mt"] = by_year("free_mt", only_covered=True)
        columns["auction_revenue_bn_cny"] = price.fillna(0.0).to_numpy() * by_year("auctioned_mt", only_covered=True) / 1e3
    columns["discount_factor"] = p.discount_factor.to_numpy()
    return pd.DataFrame(columns)  # built at once: a study builds it for every scenario


def _summary(p: Parameters, least_cost: Solution, allocated: Solution | None,
             seconds: dict[str, float], hash_inputs: bool = True) -> dict[str, Any]:
    settings = p.dataset.settings
    solved = {**least_cost.seconds, **(allocated.seconds if allocated else {})}
    return {
        "status": least_cost.status.lower(),
        "objective_bn_cny": least_cost.objective / 1e3,
        "objective": "present value of abatement cost at first_year, billion CNY",
        "allocation": ({"objective": settings["allocation.objective"],
                        "cost_tolerance": settings["allocation.cost_tolerance"],
                        "status": allocated.status.lower()} if allocated else None),
        "scenario": p.dataset.name,
        "dataset": str(p.dataset.path),
        "inputs_sha256": p.dataset.sha256 if hash_inputs else None,
        "settings": dict(p.dataset.settings),  # scenario.toml after --set overrides
        "market": {"banking": p.banking, "initial_bank_mt": p.initial_bank_mt,
                   "equilibrium": not (allocated and settings["allocation.cost_tolerance"] > 0)},
        "solver": "highs",
        "solver_version": least_cost.solver_version,
        "solver_options": least_cost.options,
        "iterations": least_cost.iterations,
        "build_seconds": round(seconds.get("build", 0.0), 4),
        "solve_seconds": round(sum(solved.values()), 4),
        "seconds": {k: round(v, 4) for k, v in {**seconds, **solved}.items()},
        "model": {"name": p.dataset.name, "variables": int(sum(len(v) for v in least_cost.values.values())),
                  "constraints": int(sum(len(d) for d in least_cost.duals.values()))},
        "versions": dict(_versions()),
    }


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("etscap", "pyomo", "highspy", "pandas", "numpy", "scipy", "click"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
