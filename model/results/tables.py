"""Tidy result tables from a solved model, and writing them safely to a folder.

Prices are in year-t money: the dual of a price row divided by that year's discount
factor, sign-flipped so that a binding cap gives a positive price (CNY per t CO2).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.csv

from .checks import run_checks
from .facilities import facility_years, to_arrow
from ..parameters.installations import in_simulation
from ..families import (FAMILIES, beyond_national_cap_columns, beyond_national_cap_labels, chart_entries, dual_columns,
                        dual_prices, emission_change, facility_compliance, market_balance, simulation_compliance,
                        value_columns)
from ..errors import EtscapError
# the safe writers live in model.files (low in the flow); re-exported for the modules and tests that
# import them from here
from ..files import (LEFTOVER_PATTERNS, Staging, Target, _libc, _lock, check_can_write, commit,  # noqa: F401
                     exchange, make_parent, not_ours, remove_leftovers, write_error, write_file, write_folder)
from ..data import fastpath
from ..parameters.derive import Parameters
from ..parameters.phases import INTENSITY, SIMULATION, TRADING
from ..lp.solution import Solution

USED_TOLERANCE_MT = 1e-7  # abatement below this counts as unused when finding marginal costs
DECIMALS = 9
TABLE_FILES = {"years": "years.csv", "sector_years": "sector_years.csv", "abatement_steps": "abatement_steps.csv",
               "facilities": "facilities.csv"}
OPTIONAL_TABLES = ("facilities",)  # written only when not empty
# The table by installation is written as Parquet (text dictionary-encoded: a registry-sized
# table in a fraction of the CSV's time and space); as TABLE_FILES' CSV too on request
FACILITIES_PARQUET = "facility_years.parquet"


@dataclass
class Results:
    """A solve's tables (tidy: one row per year, sector-year or step-year) and its summary.

        >>> results = model.solve("inputs/toy")
        >>> results                       # status, objective and the headline rows
        >>> results.years.set_index("year")["allowance_price_cny_per_t"]
        >>> results.to_iamc()             # long format for pyam; results.to_xarray() for xarray
    """

    years: pd.DataFrame
    sector_years: pd.DataFrame
    abatement_steps: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    facilities: pd.DataFrame = field(default_factory=pd.DataFrame)  # installation x year, if a registry is given

    def __repr__(self) -> str:
        from .notebook import results_repr  # the notebook helpers are needed only when shown

        return results_repr(self)

    def _repr_html_(self) -> str:
        from .notebook import results_html

        return results_html(self)

    def to_iamc(self, model: str = "etscap", scenario: str | None = None, region: str = "China") -> pd.DataFrame:
        """The results in the IAMC long format (model, scenario, region, variable, unit,
        year, value; variables such as ``Price|Carbon|ETS``, ``Emissions|CO2|<sector>``),
        for ``pyam.IamDataFrame(results.to_iamc())``; see ``model.results.notebook.to_iamc``.

            >>> results.to_iamc().query("variable == 'Price|Carbon|ETS'")
        """
        from .notebook import to_iamc

        return to_iamc(self, model=model, scenario=scenario, region=region)

    def to_xarray(self) -> Any:
        """years and sector_years as one ``xarray.Dataset`` (dimensions year and sector);
        needs the optional dependency xarray.

            >>> results.to_xarray()["sector_emissions_mt"].sel(sector="steel")
        """
        from .notebook import to_xarray

        return to_xarray(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to write: every table but the optional ones left empty."""
        return {name: getattr(self, name) for name in TABLE_FILES
                if name not in OPTIONAL_TABLES or not getattr(self, name).empty}

    def write(self, out: "str | Path | Target", force: bool = False, staging: "Staging | None" = None,
              installations_csv: bool = False) -> Path:
        """Write the tables and summary.json to ``out``: years, sector_years and abatement_steps
        as CSV, the table by installation (if any) as facility_years.parquet, and with
        ``installations_csv`` also as facilities.csv. The folder appears whole or not at all
        (``write_folder``); ``staging``: the folder prepared before solving, if any."""
        return write_folder(out, functools.partial(self._write_into, installations_csv=installations_csv),
                            force, staging)

    def _write_into(self, folder: Path, installations_csv: bool = False) -> None:
        for name, table in self.tables().items():
            if name == "facilities":
                write_parquet(table, folder / FACILITIES_PARQUET)
                if not installations_csv:
                    continue
            write_csv(table, folder / TABLE_FILES[name])
        (folder / "summary.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n")

    @classmethod
    def read(cls, folder: str | Path) -> "Results":
        """Results written by ``write``."""
        folder = Path(folder)
        required = [f for name, f in TABLE_FILES.items() if name not in OPTIONAL_TABLES]
        missing = [f for f in [*required, "summary.json"] if not (folder / f).is_file()]
        if missing:
            raise EtscapError(f"{folder} is not a results folder: {', '.join(missing)} missing")
        parquet = (folder / FACILITIES_PARQUET).is_file()  # else facilities.csv, as folders written before had it
        tables = {name: read_csv(folder / file, KEY_COLUMNS.get(name, ())) for name, file in TABLE_FILES.items()
                  if (folder / file).is_file() and not (name == "facilities" and parquet)}
        for table in tables.values():  # CSV does not say 0 is a float: quantities and prices are, as solved
            whole = [c for c in table.select_dtypes("integer").columns if c not in INTEGER_COLUMNS]
            table[whole] = table[whole].astype(np.float64)
        if parquet:
            tables["facilities"] = read_parquet(folder / FACILITIES_PARQUET, KEY_COLUMNS["facilities"])
        return cls(**tables, summary=read_json(folder / "summary.json"))


# Columns every table of a results folder has: a file without them is not one etscap wrote whole
KEY_COLUMNS = {"years": ("year",), "sector_years": ("sector", "year"),
               "abatement_steps": ("sector", "step", "year"), "facilities": ("facility_id", "year")}
# The integer columns of a results table (years, pool numbers); every other number is a float (Mt, CNY/t, shares)
INTEGER_COLUMNS = ("year", "pool")
# Columns of text: names such as 'NA', 'None' or 'null' are names, not missing values
TEXT_COLUMNS = ("sector", "step", "facility_id", "phase", "region", "unit_type", "output_unit",
                "status", "message", "source", "description")


def read_csv(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table of a results or study folder: only a blank cell is missing (a sector named
    'NA' stays 'NA'), text columns stay text, and a file that is not a whole table written
    by etscap is an EtscapError naming it."""
    damaged = f"{path} is damaged or was not written by etscap"
    if required and not _ends_with_newline(path):  # etscap ends its tables with one: else it was cut short
        raise EtscapError(f"{damaged} (it ends in the middle of a line: cut short?): "
                              "write it again (solve or the study)")
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False,
                            dtype={column: str for column in TEXT_COLUMNS})
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:  # EmptyDataError is a ValueError
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise EtscapError(f"{damaged} ({reason}): write it again (solve or the study)") from None
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise EtscapError(f"{damaged} (no column {', '.join(missing)}): write it again (solve or the study)")
    for column in ("year",):
        if column in required and not pd.api.types.is_integer_dtype(table[column]):
            raise EtscapError(f"{damaged} (column {column} holds values that are not years): "
                              "write it again (solve or the study)")
    return table


def read_parquet(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A Parquet table of a results folder (text as categoricals, as the solve made it), or an
    EtscapError naming a file that is not a whole table etscap wrote."""
    damaged = f"{path} is damaged or was not written by etscap"
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError, pyarrow.ArrowException) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise EtscapError(f"{damaged} ({reason}): write it again (solve)") from None
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise EtscapError(f"{damaged} (no column {', '.join(missing)}): write it again (solve)")
    for column in table.columns:  # categories as the solve made them (object), not Arrow's strings
        values = table[column]
        if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.dtype != object:
            table[column] = pd.Categorical.from_codes(values.cat.codes.to_numpy(), categories=pd.Index(
                values.cat.categories.to_numpy(dtype=object), dtype=object))
    return table


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    """Parquet (Arrow's writer, snappy), from the table's arrays (``facilities.to_arrow``): the
    text columns (categoricals) dictionary-encoded, numbers as computed and not tried as
    dictionaries (a third faster on a registry's table); statistics (min and max per row
    group) only of the key columns (those of every column took a quarter of the write)."""
    import pyarrow.parquet  # only where a table by installation is written

    text = [name for name in table.columns if isinstance(table[name].dtype, pd.CategoricalDtype)]
    keys = [name for name in KEY_COLUMNS["facilities"] if name in table.columns]
    pyarrow.parquet.write_table(to_arrow(table), path, use_dictionary=text or False, write_statistics=keys or False)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        return size == 0 or (handle.seek(size - 1) >= 0 and handle.read(1) == b"\n")


def read_json(path: Path) -> dict[str, Any]:
    """summary.json or study.json: an object, or an EtscapError naming the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise EtscapError(f"{path} is damaged or was not written by etscap (not valid JSON: {err}): "
                          "write it again (solve or the study)") from None
    if not isinstance(document, dict):
        raise EtscapError(f"{path} is damaged or was not written by etscap (a JSON object expected): "
                          "write it again (solve or the study)")
    return document


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """CSV with numbers rounded to DECIMALS places (a gram of CO2, a thousandth of a fen):
    stable bytes for the same inputs, and fast (Arrow's writer) for registry-sized tables."""
    numbers = table.select_dtypes("number").columns
    rounded = table.assign(**{c: table[c].round(DECIMALS) for c in numbers})
    pyarrow.csv.write_csv(pyarrow.Table.from_pandas(rounded, preserve_index=False), path,
                          pyarrow.csv.WriteOptions(quoting_style="needed"))


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
    # the rules' columns added in place to the tables made here (as ``assign`` gives, without
    # copying the table for each family: a study builds them for every scenario)
    for family in FAMILIES:  # columns of rules (offsets surrendered, ...), before the years sum them
        if family.sector_year_columns is not None:
            _add_columns(sector_years, family.sector_year_columns(p, final.values, sector_years))
    years = _years(p, least_cost, final, sector_years, price)
    for family in FAMILIES:
        if family.year_columns is not None:
            _add_columns(years, family.year_columns(p, final.values, years))
    summary = _summary(p, least_cost, allocated, seconds, hash_inputs)
    beyond = [fastpath.float_column(years, name) for name in beyond_national_cap_columns() if name in years]
    if beyond:  # allowances sold beyond the national target (a price ceiling's, ...): by how much, plainly
        years["national_overshoot_mt"] = np.sum(beyond, axis=0)
        summary["national_overshoot_mt"] = float(years["national_overshoot_mt"].sum())
        summary["national_overshoot_by_source_mt"] = {  # {what, in words: Mt over the horizon}, those > 0
            label: float(years[name].sum()) for name, label in beyond_national_cap_labels().items()
            if name in years and years[name].sum() > 0}
    if p.facility_resolution:  # without the table, the simulation years still feed the checks
        by_installation = facility_years(p, sector_years, years, facility_abatement(p, final, with_pools=installations),
                                         facility_own_prices(p, least_cost),
                                         phases=(SIMULATION, TRADING) if installations else (SIMULATION,))
    else:  # only a share of each sector: left out where nobody reads it (a study's scenarios)
        by_installation = facility_years(p, sector_years, years) if installations else empty_table()
    stage1 = _stage1_outcome(p, least_cost) if allocated is not None else None
    summary["checks"] = run_checks(years, sector_years, steps, summary["market"], by_installation, stage1)
    return Results(years=years, sector_years=sector_years, abatement_steps=steps, summary=summary,
                   facilities=by_installation if installations or not p.facility_resolution else empty_table())


def _add_columns(table: pd.DataFrame, columns: Mapping[str, Any]) -> None:
    """``table.assign(**columns)`` in place: each computed before any is added, as ``assign``
    computes them from the table it was given (a column named again replaced where it stands)."""
    for name, column in columns.items():
        table[name] = column


def _stage1_outcome(p: Parameters, least_cost: Solution) -> dict[str, Any]:
    """What stage 1 decided, for the check that stage 2 kept it: the ETS cap and bank by
    year, emissions by sector-year row (Mt), and its abatement cost (billion CNY, PV)."""
    n = len(p.sector_years)
    abated = sum((np.bincount(columns.rows, weights=least_cost.values[columns.name], minlength=n)
                  for columns in p.abatement), np.zeros(n))  # no steps table: a study does this per scenario
    if p.presolved is not None:
        abated = abated + np.bincount(p.presolved.columns.rows, weights=p.presolved.abatement_mt, minlength=n)
    abated = abated - emission_change(p, least_cost.values)
    bank = least_cost.values.get("bank_mt")
    return {"ets_cap_mt": least_cost.values["ets_cap_mt"],
            "bank_mt": bank if bank is not None else np.zeros(p.years.size),
            "emissions_mt": p.sector_years["bau_mt"].to_numpy() - abated,
            "objective_bn_cny": least_cost.objective / 1e3,
            "cost_tolerance": p.dataset.settings["allocation.cost_tolerance"],
            "allocation_objective": p.dataset.settings["allocation.objective"]}


def allowance_prices(p: Parameters, least_cost: Solution) -> pd.Series:
    """The allowance price by year (CNY/t, year-t money); NaN in years without a market."""
    family = market_balance.FAMILY
    price = dual_prices(p, family, least_cost.duals[family.name])
    return pd.Series(_by_model_year(p, p.market_years, price), index=pd.Index(p.years, name="year"))


def _by_model_year(p: Parameters, row_years: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` given for ``row_years``, placed at the model's years (NaN in the others), as
    ``Series(values, row_years).reindex(p.years)``: positions, not an index lookup."""
    position = np.asarray(row_years, dtype=np.int64) - p.first_year
    inside = (position >= 0) & (position < p.years.size)
    if np.unique(position).size != position.size:  # repeated years: let pandas refuse them
        return pd.Series(values, index=row_years).reindex(p.years).to_numpy()
    placed = np.full(p.years.size, np.nan)
    placed[position[inside]] = np.asarray(values, dtype=float)[inside]
    return placed


def _abatement_steps(p: Parameters, solution: Solution) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per abatement column of every family (sector steps; at facility resolution
    also installation steps, pooled steps and the steps solved outside the LP), and the
    sector-year row of each. Built column by column from arrays: a study builds it for
    every scenario."""
    solved = [(columns, solution.values[columns.name]) for columns in p.abatement]
    presolved = p.presolved.by_pool if p.presolved is not None else []  # closed form: by pool
    solved += [(columns, values) for columns, values, _ in presolved]
    key_columns = (["sector", "facility_id", "step", "pool", "year"] if p.facility_resolution
                   else ["sector", "step", "year"])

    def make_keys() -> dict[str, np.ndarray]:
        keys: dict[str, list[np.ndarray]] = {name: [] for name in key_columns}
        for columns, _ in solved:
            table = columns.key_arrays
            for name in key_columns:
                if name == "pool":  # numbers (NaN: no pool), made Int64 below without reading objects
                    keys[name].append(np.asarray(table[name], dtype=float) if name in table
                                      else np.full(len(columns), np.nan))
                elif name in table:
                    keys[name].append(table[name])
                elif name == "sector":  # the grid's categorical: its codes at the rows, then the names
                    sector = p.facility_years["sector"].array
                    keys[name].append(np.asarray(sector.categories, dtype=object)[sector.codes[columns.facility_rows]]
                                      if isinstance(sector, pd.Categorical)
                                      else p.facility_years["sector"].to_numpy()[columns.facility_rows])
                else:
                    keys[name].append(np.full(len(columns), None if name == "facility_id" else np.nan, dtype=object))
        joined = {name: np.concatenate(parts) for name, parts in keys.items()}
        for values in joined.values():
            values.flags.writeable = False  # shared by the scenarios: a table's write copies it
        return joined

    # the same families' keys (and, at facility resolution, the same registry) give the same columns
    registry = (p.dataset.facilities, tuple(p.dataset.sectors["sector"].tolist())) if p.facility_resolution else ()
    # (a scenario rebuilds its sectors' step keys: compared by value; the installations' are kept, the same objects)
    keys = fastpath.cached("step_keys", (*(_ByValue(columns.keys) for columns, _ in solved), *registry), make_keys)
    potential = np.concatenate([columns.potential_mt for columns, _ in solved])
    cost = np.concatenate([columns.cost_cny_per_t for columns, _ in solved])
    abatement = np.concatenate([values for _, values in solved])
    steps = table_of_arrays({  # text kept as object arrays (copies of the kept keys): no conversion per scenario
        **{name: (pd.array(values, dtype="Int64") if name == "pool"  # pool numbers, NaN: no pool (made anew)
                  else np.array(values, dtype=object) if name in ("sector", "facility_id", "step")
                  else values)
           for name, values in keys.items()},
        "potential_mt": potential, "cost_cny_per_t": cost, "abatement_mt": abatement,
        "abatement_cost_bn_cny": abatement * cost / 1e3,
    })
    if presolved:  # the own price a pool of installations in closed form faces (the checks test it)
        steps["own_price_cny_per_t"] = np.concatenate(
            [np.full(len(steps) - sum(len(columns) for columns, _, _ in presolved), np.nan),
             *(price for _, _, price in presolved)])
    return steps, np.concatenate([columns.rows for columns, _ in solved])


def table_of_arrays(columns: Mapping[str, Any]) -> pd.DataFrame:
    """``pd.DataFrame(columns)`` for columns that are all 1-d numpy arrays of numbers or booleans,
    object arrays of text, or pandas extension arrays, of one length: the same table (numbers
    consolidated into fresh blocks by dtype, every other column a copy of the array given, so
    that no table shares memory with another scenario's or a cache), built by pandas' constructor
    from arrays without its per-column inference, a third of the time (a study builds three
    tables a scenario). Any other column (a Series, a list, a scalar): ``pd.DataFrame(columns)``.
    An object array is kept as object (``pd.DataFrame`` would infer text as str)."""
    arrays = list(columns.values())
    length = len(arrays[0]) if arrays else 0
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)  # pandas' private constructor (1.x to 3)
    if from_arrays is None or not all(
            (isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "biufO"
             or isinstance(a, pd.api.extensions.ExtensionArray)) and len(a) == length for a in arrays):
        return pd.DataFrame(columns)
    # numbers of one dtype are stacked into one new block; a lone one (the year) would be held as given
    return from_arrays([a.copy() for a in arrays], columns=fastpath.column_names(tuple(columns)),
                       index=pd.RangeIndex(length), verify_integrity=False)


def empty_table() -> pd.DataFrame:
    """``pd.DataFrame()`` (no rows, no columns, RangeIndex both ways) from pandas' array constructor: a
    fifth of the time of the inference ``pd.DataFrame()`` runs for nothing (a study's scenario makes one)."""
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)  # pandas' private constructor (1.x to 3)
    if from_arrays is None:
        return pd.DataFrame()
    return from_arrays([], columns=pd.RangeIndex(0), index=pd.RangeIndex(0), verify_integrity=False)


class _ByValue:
    """An index as a cache key compared by value (the same object at once, else ``equals``)."""

    __slots__ = ("index",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, index: pd.Index):
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByValue) and (self.index is other.index or self.index.equals(other.index))


def _sector_years(p: Parameters, least_cost: Solution, final: Solution, steps: pd.DataFrame,
                  step_rows: np.ndarray, price: pd.Series, allocated: bool) -> pd.DataFrame:
    n = len(p.sector_years)
    grid = _grid_columns(p)
    bau = grid["bau_mt"]
    abatement = fastpath.float_column(steps, "abatement_mt")
    abated = np.bincount(step_rows, weights=abatement, minlength=n)
    cap = _spread(n, p.covered_rows, final.values["sector_cap_mt"])
    used = abatement > USED_TOLERANCE_MT
    dearest = np.full(n, -np.inf)
    np.maximum.at(dearest, step_rows[used], fastpath.float_column(steps, "cost_cny_per_t")[used])
    columns = {
        "bau_mt": bau,
        "emissions_mt": bau - abated + emission_change(p, final.values),
        "abatement_mt": abated,
        "cap_mt": cap,
        "abatement_cost_bn_cny": np.bincount(step_rows, weights=fastpath.float_column(steps, "abatement_cost_bn_cny"),
                                             minlength=n),
        "marginal_cost_cny_per_t": np.where(np.isfinite(dearest), dearest, np.nan),
        "own_price_cny_per_t": _own_prices(p, least_cost),
        "rule_cap_mt": grid["rule_cap_mt"],  # simulation phase only: for the checks
        "implied_benchmark_t_per_unit": cap / grid["output"],
        **_cap_rule_columns(p, cap),
    }
    for column in value_columns(table="sector_years"):  # a family's own variables by sector-year
        if column.variable in final.values and column.rows is not None:
            columns[column.name] = _spread(n, column.rows(p), column.compute(p, final.values) if column.compute
                                           is not None else final.values[column.variable])
    if not allocated:  # built at once from the grid's keys, as text made once: a study builds it for every scenario
        sector, year, phase = _grid_keys(p)
        return table_of_arrays({"sector": sector, "year": year, "phase": phase, **columns})
    table = pd.DataFrame({"phase": p.sector_years["phase"], **columns}, index=p.sector_years.index)
    if allocated:
        order = list(table.columns)
        _allocation_columns(table, p, _spread(n, p.covered_rows, final.values["free_allocation_mt"]), price)
        order[5:5] = ["free_mt", "free_share", "auctioned_mt", "net_purchase_mt"]
        order[10:10] = ["burden_bn_cny", "burden_share_of_value_added"]
        order += ["free_share_min", "free_share_max"]
        table = table[order]
    return table.reset_index()


def _cap_rule_columns(p: Parameters, cap: np.ndarray) -> dict[str, np.ndarray]:
    """Each covered sector-year's cap rule: its basis (cap_rules.csv or the shorthands), the
    reduction it cuts (simulation, grandfathered) and, under intensity, its benchmark: the
    given one, or the one the model chose (cap / output)."""
    grid = _grid_columns(p)
    chosen = cap / grid["output"]
    given = grid["benchmark_t_per_unit"]
    return {"basis": grid["basis"],
            "cap_reduction": grid["cap_reduction"],
            "benchmark_t_per_unit": np.where(grid["intensity"], np.where(np.isfinite(given), given, chosen), np.nan)}


def _grid_columns(p: Parameters) -> dict[str, Any]:
    """The sector-year grid's parameter columns the table copies or divides by (the frozen
    grid's own read-only arrays; the cap rule's basis as the table's text, None: no rule),
    made once for the scenarios that share the grid: a study's scenario changes values, not these."""
    def make() -> dict[str, Any]:
        grid = p.sector_years
        columns = {name: fastpath.column_array(grid, name)
                   for name in ("bau_mt", "rule_cap_mt", "output", "cap_reduction", "benchmark_t_per_unit")}
        columns["basis"], columns["intensity"] = _grid_basis(p)
        return columns

    return fastpath.cached("grid_columns", (p.sector_years,), make)


def _grid_basis(p: Parameters) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
    """The cap rule's basis of every sector-year row as the table's text (None: no rule), and
    where it is intensity; kept for the grid's rows and bases, which a Monte Carlo of numbers
    (a new grid each draw) leaves as they are."""
    basis = fastpath.column_array(p.sector_years, "basis")

    def make() -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
        named = np.asarray(basis, dtype=object).copy()
        named[named == ""] = None  # no rule
        intensity = np.asarray(basis == INTENSITY)
        intensity.flags.writeable = False
        # as the table's constructor infers the text (pandas' str), once: not per scenario
        return pd.Series(named).array, intensity

    return fastpath.cached("grid_basis", (p.sector_years.index, tuple(basis.tolist())), make)


def _grid_keys(p: Parameters) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray, pd.api.extensions.ExtensionArray]:
    """sector, year and phase of the sector-year grid as the table's columns (text as str),
    made once for the scenarios that share the grid's rows and phases (its index and the phase
    array are kept by identity across a Monte Carlo of numbers: ``Parameters._grid``)."""
    def make() -> tuple:
        index = p.sector_years.index
        return (pd.array(index.get_level_values("sector").to_numpy(), dtype="str"),
                index.get_level_values("year").to_numpy(), pd.array(p.phase, dtype="str"))

    return fastpath.cached("grid_keys", (p.sector_years.index, p.phase), make)


def _own_prices(p: Parameters, least_cost: Solution) -> np.ndarray:
    """Each simulation-phase sector's own price; for a sector whose installations meet their
    own caps, the mean of theirs weighted by BAU emissions."""
    n = len(p.sector_years)
    rows = p.sector_simulation_rows
    family = simulation_compliance.FAMILY
    own = _spread(n, rows, dual_prices(p, family, least_cost.duals[family.name]))
    grid = p.facility_years if p.facility_resolution else None
    facility_rows = np.flatnonzero(in_simulation(grid)) if grid is not None else np.zeros(0, int)
    if grid is not None and len(facility_rows):
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
    if p.presolved is not None and not p.presolved.lp_rows.size:
        return p.presolved.own_price_cny_per_t
    rows = p.facility_simulation_rows  # with a closed form, the rows a deployment limit reaches
    own = np.full(len(p.facility_years), np.nan) if p.presolved is None else p.presolved.own_price_cny_per_t.copy()
    family = facility_compliance.FAMILY
    own[rows] = dual_prices(p, family, least_cost.duals[family.name])
    return own


def facility_abatement(p: Parameters, solution: Solution, with_pools: bool = True) -> np.ndarray:
    """Abatement by facility-year row at facility resolution: an installation's own columns,
    plus its share (by potential) of the pooled columns it was merged into. ``with_pools=False``
    leaves the pools' shares out: a pool merges installation-years that face no constraint of
    their own (trading, or outside the ETS), so every simulation-phase row is right without
    them, and a table of those rows alone (a study's scenario) skips their sums."""
    n = len(p.facility_years)
    parts: list[tuple[np.ndarray, np.ndarray]] = []  # installations' own columns: (facility-year rows, values)
    if p.presolved is not None:
        assert p.presolved.columns.facility_rows is not None
        parts.append((p.presolved.columns.facility_rows, p.presolved.abatement_mt))
    parts += [(columns.facility_rows, solution.values[columns.name]) for columns in p.installation_columns
              if columns.facility_rows is not None]
    # by facility-year row: the first sum made in its own array, the rest added in place
    total: np.ndarray = (np.bincount(parts[0][0], weights=parts[0][1], minlength=n).astype(float, copy=False)
                         if parts else np.zeros(n))
    for rows, values in parts[1:]:
        total += np.bincount(rows, weights=values, minlength=n)
    members = p.pooled_members
    if members is not None and with_pools:
        pooled = next(c for c in p.installation_columns if c.name == "pooled_abatement_mt")
        used_share = np.divide(solution.values[pooled.name], pooled.potential_mt,
                               out=np.zeros(len(pooled)), where=pooled.potential_mt > 0)
        by_path_year = np.where(members.column_of >= 0, used_share[members.column_of], 0.0)
        n_years = p.years.size
        # only the members of pools used in some year, in the years some pool is used (the
        # terms left out are zeros: the sums are the same)
        used_years = np.flatnonzero(by_path_year.any(axis=0))
        in_use = np.asarray(by_path_year.any(axis=1), dtype=bool)[members.pool_path]
        if in_use.all():  # every member: the members' own arrays, not copies of them
            facility, path, share = members.facility, members.pool_path, members.potential_share
        else:
            facility, path, share = members.facility[in_use], members.pool_path[in_use], members.potential_share[in_use]
        del in_use
        share_used = np.zeros((n_years, n // n_years))  # year x installation: each year's row contiguous
        by_year_path = np.ascontiguousarray(by_path_year.T)
        # the members are by installation (the steps table's order): each installation's terms
        # summed in one pass over its run (as bincount adds them, in order), no index cast per year
        by_installation = facility.size > 0 and bool((facility[1:] >= facility[:-1]).all())
        starts = np.flatnonzero(np.r_[True, facility[1:] != facility[:-1]]) if by_installation else None
        if starts is not None:
            _pool_shares_by_installation(share_used, by_year_path, used_years, path, share, facility, starts)
        else:
            term = np.empty(share.size)  # one buffer for every year's member terms
            for year in used_years:  # a sum a year: no member x year temporaries (add.at was slow)
                np.take(by_year_path[year], path, out=term)
                np.multiply(share, term, out=term)
                share_used[year] = np.bincount(facility, minlength=n // n_years, weights=term)
            del term
        by_row = share_used.T  # installation x year: the grid's row order, a view
        np.multiply(by_row, p.facility_years["bau_mt"].to_numpy().reshape(by_row.shape), out=by_row)
        total.reshape(by_row.shape)[...] += by_row
    return total


POOL_CHUNK_MEMBERS = 1 << 13  # members a block: its paths, shares and year x member terms stay in cache


def _pool_shares_by_installation(share_used: np.ndarray, by_year_path: np.ndarray, used_years: np.ndarray,
                                 path: np.ndarray, share: np.ndarray, facility: np.ndarray,
                                 starts: np.ndarray) -> None:
    """``share_used[year, installation]`` (in place): the sum over the installation's pool
    members of potential share x the used share of its pool's path in that year, for the
    ``used_years``. The members are by installation (``starts``: where each installation's run
    begins) and taken a block of whole installations at a time, every year at once: the
    block's paths and shares are read once for all years instead of once a year (at 200,000
    installations they are tens of MB). Each installation-year is the same sum in the same
    order as a reduceat of that year's terms (a row of the block is contiguous)."""
    if not used_years.size:
        return
    by_used_year = by_year_path[used_years]  # year x path
    per_block = max(1, POOL_CHUNK_MEMBERS * starts.size // path.size)  # installations a block
    for first in range(0, starts.size, per_block):
        last = min(first + per_block, starts.size)
        begin, end = starts[first], starts[last] if last < starts.size else path.size
        terms = np.take(by_used_year, path[begin:end], axis=1)  # year x member
        np.multiply(terms, share[begin:end], out=terms)
        share_used[np.ix_(used_years, facility[starts[first:last]])] = np.add.reduceat(
            terms, starts[first:last] - begin, axis=1)


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
    year_row = np.asarray(fastpath.column_array(sector_years, "year")) - p.first_year
    covered = (p.phase == SIMULATION) | (p.phase == TRADING)  # the table's rows are the grid's

    def by_year(column: str, only_covered: bool = False) -> np.ndarray:
        values = np.nan_to_num(fastpath.float_column(sector_years, column))
        return np.bincount(year_row, weights=values * covered if only_covered else values, minlength=years.size)

    bank = final.values.get("bank_mt")
    columns = {
        "year": years,
        "national_cap_mt": fastpath.float_column(p.targets, "national_cap_mt"),
        # the targets as stated ([targets] scope), and what a net-GHG count adds to the model's CO2
        **{column: fastpath.float_column(p.targets, column)
           for column in ("absolute_target_mt", "intensity_target_mt", "non_co2_mt", "sinks_mt")},
        "ets_cap_mt": final.values["ets_cap_mt"],
        "bank_mt": bank if bank is not None else np.zeros(years.size),
        **_year_prices(p, least_cost),  # allowance price, national carbon value, ...
        "emissions_mt": by_year("emissions_mt"),
        "ets_emissions_mt": by_year("emissions_mt", only_covered=True),
        "abatement_mt": by_year("abatement_mt"),
        "abatement_cost_bn_cny": by_year("abatement_cost_bn_cny"),
    }
    if "free_mt" in sector_years:
        columns["min_auction_share"] = fastpath.float_column(p.targets, "min_auction_share")
        columns["max_auction_share"] = fastpath.float_column(p.targets, "max_auction_share")
        columns["max_burden_share"] = fastpath.float_column(p.targets, "max_burden_share")
        columns["free_allocation_mt"] = by_year("free_mt", only_covered=True)
        columns["auction_revenue_bn_cny"] = (price.fillna(0.0).to_numpy()
                                             * by_year("auctioned_mt", only_covered=True) / 1e3)
    for column in value_columns():  # a family's own variables by year, before the discount factor
        values = final.values.get(column.variable)
        if values is None:  # the rule is not in use (no offsets.csv, ...): no column
            continue
        columns[column.name] = (column.compute(p, final.values) if column.compute is not None
                                else column.by_year(p, values) if column.by_year is not None else values)
    columns["discount_factor"] = p.discount_factor.to_numpy()
    return table_of_arrays(columns)  # built at once: a study builds it for every scenario


def _year_prices(p: Parameters, least_cost: Solution) -> dict[str, np.ndarray]:
    """The years-table columns the families' duals produce (their ``DualColumn``), by name:
    a price in year-t money, NaN in years the family has no row."""
    columns = {}
    for family in dual_columns("years"):
        assert family.dual is not None
        if family.dual.optional and not len(least_cost.duals[family.name]):
            continue  # the rule is not in use: no column
        row_years = family.dual.year_of_row(p) if family.dual.year_of_row is not None else p.years
        columns[family.dual.name] = _by_model_year(p, row_years, dual_prices(p, family, least_cost.duals[family.name]))
    return columns


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
        "scenarios": [dict(s) for s in p.dataset.scenarios],  # named scenarios applied, in order
        "market": {"banking": p.banking, "initial_bank_mt": p.initial_bank_mt,
                   "equilibrium": not (allocated and settings["allocation.cost_tolerance"] > 0),
                   **{key: value for family in FAMILIES if family.market is not None
                      for key, value in family.market(p).items()}},
        "charts": chart_entries(),  # the columns the report's charts draw, from the families' declarations
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
    from_folders = _versions_from_dist_info()
    for package in ("etscap", "pyomo", "highspy", "pandas", "numpy", "scipy", "click"):
        if package in from_folders:
            versions[package] = from_folders[package]
            continue
        from importlib import metadata  # only when a folder name does not say (it imports email, ~8 ms)

        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _versions_from_dist_info() -> dict[str, str]:
    """Installed versions from the names of the ``NAME-VERSION.dist-info`` folders on sys.path
    (first found wins, as for importlib.metadata): reading every METADATA file through
    importlib.metadata took tens of milliseconds of each run."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            stem = name.removesuffix(".dist-info")  # "dist-info" has a hyphen of its own
            if stem != name and stem.count("-") == 1:
                package, version = stem.split("-")
                found.setdefault(package.lower().replace("_", "-"), version)
    return found


SHORT_HORIZON_YEARS = 8  # a horizon this short is shown in full instead of its milestone years
TARGET_KINK_MT = 1e-6  # a change of slope of the national cap path larger than this marks a target row


def milestone_years(years: pd.DataFrame) -> list[int]:
    """The years a headline shows, from the data: the target years of the scenario.

    ``targets.csv`` gives the national cap in some years and the model interpolates linearly
    between them, so its rows are where the cap path (``national_cap_mt``) changes slope, and
    the first and last modelled years. A horizon of at most SHORT_HORIZON_YEARS shows every
    year. A table of several scenarios (a study's, with a ``scenario`` column) gives the
    target years of any of them.
    """
    ordered = years.sort_values([c for c in ("scenario", "year") if c in years.columns], kind="stable")
    modelled = sorted(int(y) for y in ordered["year"].unique())
    if len(modelled) <= SHORT_HORIZON_YEARS:
        return modelled
    groups = ordered.groupby("scenario", sort=False) if "scenario" in ordered.columns else [(None, ordered)]
    shown = {modelled[0], modelled[-1]}
    for _, path in groups:
        cap, year = path["national_cap_mt"].to_numpy(dtype=float), path["year"].to_numpy()
        slope = np.diff(cap) / np.diff(year)
        kinks = np.abs(np.diff(slope)) > TARGET_KINK_MT
        shown.update(int(y) for y in year[1:-1][kinks])
    return sorted(shown)


def overshoot_sources(summary: Mapping[str, Any]) -> str:
    """What exceeds the national target, in words with Mt over the horizon, e.g. "offsets
    outside the national count (517.4 Mt)"."""
    by_source = summary.get("national_overshoot_by_source_mt") or {}
    return "; ".join(f"{label} ({mt:,.1f} Mt)" for label, mt in by_source.items()) or "rules' allowances"
