"""Results by installation and covered year (facilities.csv, facility_years.parquet).

An installation's free allowances are its share (benchmark x output) of its sector's
free allocation; in the simulation phase, its share of the rule cap. At sector resolution
its emissions are its sector's in proportion to base-year emissions; at facility
resolution they come from its own abatement. Its shortfall (positive: it must buy) is
priced at the allowance price when trading and at the own price in simulation (its own
at facility resolution, its sector's otherwise).

Compliance relief (trading installations, as China's power allocation has it): with a
``shortfall_cap_share`` the shortfall it must cover is at most that share of its verified
emissions; with ``obligation_capped_at_allocation`` it surrenders at most its free
allocation. ``relief_mt`` is the shortfall waived, computed from the solved allocation and
emissions; the cost is the price x (shortfall - relief). The LP's emissions, price and
national count are not changed by it: the waived tonnes are reported, not fed back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data import fastpath
from ..parameters.derive import Parameters
from ..parameters.installations import benchmark_rows, by_benchmark_row, installation_shares
from ..parameters.phases import PHASES, SIMULATION, TRADING


def facility_years(p: Parameters, sector_years: pd.DataFrame, years: pd.DataFrame,
                   abatement_mt: np.ndarray | None = None, own_price: np.ndarray | None = None,
                   phases: tuple[str, ...] = (SIMULATION, TRADING)) -> pd.DataFrame:
    """One row per installation and covered year (in ``phases``): emissions, free allowances,
    shortfall, cost.

    ``abatement_mt`` and ``own_price`` (by facility-year row) come from a facility-resolution
    solve; without them the installation takes its share of its sector's emissions. Without
    stage 2 only simulation-phase free allowances (the rule cap's share) are known. Which rows
    and phases (``_rows``), and the relief rules, are found once for the scenarios of a study
    that share them; the numbers are gathered from the grid for each table."""
    grid = p.facility_years
    if grid.empty or ("free_mt" not in sector_years and abatement_mt is None):
        return pd.DataFrame()
    # a scenario's grid is its own (its BAU), but its phases are mostly the base's: found by value
    code_of_row = grid["phase_code"].to_numpy()
    rows = fastpath.kept_for_equal(f"facility_years rows {phases}", (code_of_row,), lambda: _rows(code_of_row, phases))
    cap_share, capped_at_allocation, any_relief = fastpath.cached(
        "relief rules", (p.dataset.facilities, p.dataset.benchmarks), lambda: _with_any(_read_only(relief_rules(p))))
    covered, simulation = rows["covered"], rows["simulation"]
    n_years = p.years.size
    # each row's installation and year position (the grid is installation by installation, year by year)
    facility, year = np.divmod(covered, n_years)
    facility = facility.astype(np.int32)
    bau = grid["bau_mt"].to_numpy()[covered]
    by_sector = abatement_mt is None or "free_mt" in sector_years  # the sectors' numbers are spread over rows
    sector_row = grid["sector_row"].to_numpy()[covered] if by_sector else None
    # built column by column, in place where a temporary would be as long as the table (a
    # registry's table is millions of rows: each temporary is tens of MB)
    if abatement_mt is None:
        assert sector_row is not None
        emissions = sector_years["emissions_mt"].to_numpy()[sector_row]
        np.multiply(emissions, installation_shares(p.dataset, p.years)[0][facility], out=emissions)
        abatement = bau - emissions
        own_in_simulation = sector_years["own_price_cny_per_t"].to_numpy()[sector_row[simulation]]
    else:
        assert own_price is not None  # a facility-resolution solve gives both
        abatement = abatement_mt[covered]
        emissions = bau - abatement
        own_in_simulation = own_price[covered[simulation]]
    # free allowances: a share of the sector's (stage 2); in simulation the share of the rule cap
    if "free_mt" in sector_years:  # the sector's free allocation by share, the rule cap's share in simulation
        assert sector_row is not None
        free = sector_years["free_mt"].to_numpy()[sector_row]
        np.multiply(free, installation_shares(p.dataset, p.years)[1][facility], out=free)
        free[simulation] = grid["cap_mt"].to_numpy()[covered[simulation]]
    else:  # the grid's cap_mt is the rule cap's share in simulation and NaN in the other phases already
        free = grid["cap_mt"].to_numpy()[covered]
    del sector_row
    trading, phase_code = rows["trading"], rows["phase_code"]
    del covered, rows  # (a study's scenario finds them again; a single solve frees them here)
    year_price = years["allowance_price_cny_per_t"].to_numpy()
    price = year_price[year]  # the allowance price, the own in simulation
    price[simulation] = own_in_simulation
    cost = np.nan_to_num(year_price)[year]  # the price, 0 where none: the cost's first factor (by year, then spread)
    cost[simulation] = np.nan_to_num(own_in_simulation)
    del own_in_simulation
    year += p.first_year  # the model's years are consecutive from first_year
    shortfall = emissions - free
    # relief: 0 outside trading, and 0 (NaN where the shortfall is unknown) for a trading
    # installation without a rule (its shortfall is owed whole); computed only on the rows of
    # trading installations with a rule (a registry's table has millions of rows: each
    # temporary of its length is tens of MB)
    relief = np.where(trading & np.isnan(shortfall), np.nan, 0.0)
    ruled = (np.flatnonzero(trading & (~np.isnan(cap_share) | capped_at_allocation)[facility]) if any_relief
             else np.empty(0, dtype=np.intp))
    if ruled.size:  # each temporary freed or reused as soon as it is read for the last time (the peak of a solve)
        ruled_facility = facility[ruled]
        share = cap_share[ruled_facility]
        owed = emissions[ruled]  # owed: at most share x emissions, at most 0 if capped at allocation
        np.multiply(owed, share, out=owed)
        np.copyto(owed, np.inf, where=np.isnan(share))
        del share
        ruled_shortfall = shortfall[ruled]
        np.minimum(ruled_shortfall, owed, out=owed)
        np.minimum(owed, 0.0, out=owed, where=capped_at_allocation[ruled_facility])
        del ruled_facility
        waived = np.subtract(ruled_shortfall, owed, out=owed)  # the relief, in owed's memory
        relief[ruled] = waived
        # price x what is owed (shortfall - relief), before cost is reused
        ruled_cost = np.subtract(ruled_shortfall, waived, out=ruled_shortfall)
        del waived
        np.multiply(ruled_cost, cost[ruled], out=ruled_cost)
    # price x shortfall / 1e3, in place (the others' relief is 0, or NaN with the shortfall), then the ruled rows
    np.multiply(cost, shortfall, out=cost)
    if ruled.size:
        cost[ruled] = ruled_cost
        del ruled_cost
    del ruled
    np.divide(cost, 1e3, out=cost)
    facilities = p.dataset.facilities
    # text as categoricals (codes by row, each installation's text once); the columns are not
    # stacked into blocks (copying them cost more than computing them)
    text = {name: _categorical(facilities, name, facility) for name in ("facility_id", "sector", "region", "unit_type")}
    del facility
    return pd.DataFrame({
        "facility_id": text["facility_id"],
        "sector": text["sector"],
        "year": year,
        "phase": _phase_categorical(phase_code),
        "region": text["region"],
        "unit_type": text["unit_type"],
        "bau_mt": bau,
        "abatement_mt": abatement,
        "emissions_mt": emissions,
        "free_mt": free,
        "shortfall_mt": shortfall,
        "relief_mt": relief,
        "price_cny_per_t": price,
        "compliance_cost_bn_cny": cost,
    }, copy=False)


def _rows(code_of_row: np.ndarray, phases: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The grid's rows in ``phases`` (by the grid's phase codes), their phase codes and masks
    (read-only): what a study's scenarios of the same phases share. Numbers and text by row
    are gathered per table instead: kept, they would hold memory the size of the table."""
    wanted = np.isin(np.array(PHASES), phases)  # by phase code: compared as integers, not text
    covered = np.flatnonzero(wanted[code_of_row])
    code = code_of_row[covered]
    return _read_only({"covered": covered, "phase_code": code, "simulation": code == PHASES.index(SIMULATION),
                       "trading": code == PHASES.index(TRADING)})


def _with_any(rules: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, bool]:
    """The relief rules by installation, and whether any installation has one."""
    share, capped = rules
    return share, capped, bool((~np.isnan(share)).any() or capped.any())


def _read_only(arrays: Any) -> Any:
    """``arrays`` (a dict or tuple of arrays), each made read-only: they are shared."""
    for array in (arrays.values() if isinstance(arrays, dict) else arrays):
        array.flags.writeable = False
    return arrays


def relief_rules(p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """By installation: its shortfall cap share (NaN: none) and whether its obligation is
    capped at its allocation, its own (facilities.csv) or else its unit type's (benchmarks.csv)."""
    facilities, benchmarks = p.dataset.facilities, p.dataset.benchmarks
    n = len(facilities)
    rules = ("shortfall_cap_share", "obligation_capped_at_allocation")
    if not len(benchmarks) or not any(name in benchmarks for name in rules):  # no rule by unit type: no join
        benchmarks = benchmarks.iloc[:0]
    row = benchmark_rows(facilities, benchmarks) if len(benchmarks) else None  # on codes (None: pandas' join)
    keys = (pd.MultiIndex.from_arrays([facilities["sector"], facilities["unit_type"]])
            if row is None and len(benchmarks) else None)
    by_type = benchmarks.set_index(["sector", "unit_type"]) if row is None else benchmarks

    def column(name: str) -> tuple[np.ndarray, np.ndarray]:
        own = (facilities[name] if name in facilities else pd.Series(np.nan, index=facilities.index)).to_numpy(
            dtype=float, na_value=np.nan)
        if not len(by_type) or name not in by_type:
            return own, np.full(n, np.nan)
        typed = (by_type[name].reindex(keys).to_numpy(dtype=float, na_value=np.nan) if row is None
                 else by_benchmark_row(by_type[name], row))
        return own, typed

    own, typed = column("shortfall_cap_share")
    share = np.where(np.isnan(own), typed, own)
    own, typed = column("obligation_capped_at_allocation")
    capped = np.where(np.isnan(own), np.nan_to_num(typed), own) > 0
    return share, capped


def _categorical(table: pd.DataFrame, column: str, rows: np.ndarray) -> pd.Categorical:
    """``table[column]`` at ``rows`` as a categorical: made from integer codes, so a column of a
    million rows costs no string conversion (building it from text took most of the table's
    time). Missing values stay missing. The codes of a registry's column are made once for
    the scenarios that share the registry."""
    def factorized() -> tuple[np.ndarray, pd.Index, bool]:
        codes, categories = pd.factorize(table[column], use_na_sentinel=True)
        # in the dtype the categorical keeps (gathered so, no copy of the table's length to narrow)
        small = np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32_000 else np.int32
        # each row its own name, in order (the installations' ids): a row's code is its position
        by_position = len(categories) == len(codes) and bool((codes == np.arange(len(codes))).all())
        return codes.astype(small), pd.Index(categories, dtype=object), by_position

    codes, categories, by_position = fastpath.cached(f"categorical {column}", (table,), factorized)
    # codes of categories: where a row's code is its position, the rows themselves (no gather)
    return pd.Categorical.from_codes(rows.astype(codes.dtype, copy=False) if by_position else codes[rows],
                                     categories=categories, validate=False)


def _phase_categorical(code: np.ndarray) -> pd.Categorical:
    """The phases of the rows (codes of ``PHASES``) as a categorical whose categories are in
    order of first appearance (as ``pd.factorize`` of the text orders them)."""
    first = {position: np.argmax(code == position) for position in range(len(PHASES))}  # 0 where absent
    present = sorted((position for position, at in first.items() if code.size and code[at] == position),
                     key=first.__getitem__)
    renumbered = np.full(len(PHASES), -1, dtype=np.int8)
    renumbered[present] = np.arange(len(present))
    return pd.Categorical.from_codes(renumbered[code], categories=pd.Index([PHASES[i] for i in present], dtype=object),
                                     validate=False)  # every code is of a phase present


def to_arrow(table: pd.DataFrame) -> Any:
    """``table`` as a pyarrow Table made from its arrays: numbers without a copy, each
    categorical as a dictionary of its codes and names (the schema and pandas metadata are
    those of ``pyarrow.Table.from_pandas``, so pandas reads the same columns, dtypes and
    values back), without pandas' conversion of the whole table (a registry's table has
    millions of rows)."""
    import pyarrow  # only where a table by installation is written

    schema = pyarrow.Schema.from_pandas(table.iloc[:0], preserve_index=False)  # the dtypes' schema and metadata
    columns = []
    for field in schema:
        values = table[field.name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            columns.append(pyarrow.DictionaryArray.from_arrays(
                pyarrow.array(codes, type=field.type.index_type, mask=codes < 0 if (codes < 0).any() else None),
                pyarrow.array(values.cat.categories.to_numpy(), type=field.type.value_type)))
        else:
            # from_pandas: NaN written as null, as from_pandas writes it (pandas reads both as NaN);
            # it looks for NaN element by element (40 ms a column of 7 million): a float column
            # whose sum is not NaN has none, and is passed as it is (no copy)
            array = values.to_numpy()
            with np.errstate(over="ignore", invalid="ignore"):  # a sum past 1.8e308 is inf (inf - inf: NaN,
                # so such a column is looked at element by element): not a warning to the user
                plain = array.dtype.kind in "iub" or (array.dtype.kind == "f" and not np.isnan(array.sum()))
            columns.append(pyarrow.array(array, type=field.type, from_pandas=not plain))
    return pyarrow.Table.from_arrays(columns, schema=schema)
