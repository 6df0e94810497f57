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
from ..parameters.phases import PHASES, SIMULATION, TRADING


def facility_years(p: Parameters, sector_years: pd.DataFrame, years: pd.DataFrame,
                   abatement_mt: np.ndarray | None = None, own_price: np.ndarray | None = None,
                   phases: tuple[str, ...] = (SIMULATION, TRADING)) -> pd.DataFrame:
    """One row per installation and covered year (in ``phases``): emissions, free allowances,
    shortfall, cost.

    ``abatement_mt`` and ``own_price`` (by facility-year row) come from a facility-resolution
    solve; without them the installation takes its share of its sector's emissions. Without
    stage 2 only simulation-phase free allowances (the rule cap's share) are known. What does
    not change between a study's scenarios (the rows, keys, BAU, caps, shares, relief rules)
    is made once for the grid (``_rows``); a scenario computes only its quantities."""
    grid = p.facility_years
    if grid.empty or ("free_mt" not in sector_years and abatement_mt is None):
        return pd.DataFrame()
    rows = fastpath.cached("facility_years rows", (grid, p.dataset.facilities, p.dataset.benchmarks, tuple(phases),
                                                   p.first_year, p.years.size), lambda: _rows(p, phases))
    covered, sector_row, simulation = rows["covered"], rows["sector_row"], rows["simulation"]
    bau = rows["bau_mt"]
    if abatement_mt is None:
        emissions = sector_years["emissions_mt"].to_numpy()[sector_row] * rows["emission_share"]
        abatement = bau - emissions
        price_in_simulation = sector_years["own_price_cny_per_t"].to_numpy()[sector_row]
    else:
        assert own_price is not None  # a facility-resolution solve gives both
        abatement = abatement_mt[covered]
        emissions = bau - abatement
        price_in_simulation = own_price[covered]
    # free allowances: a share of the sector's (stage 2); in simulation the share of the rule cap
    sector_free = (sector_years["free_mt"].to_numpy()[sector_row] if "free_mt" in sector_years
                   else np.full(covered.size, np.nan))
    free = np.where(simulation, rows["cap_mt"], sector_free * rows["allocation_share"])
    allowance_price = years["allowance_price_cny_per_t"].to_numpy()[rows["year_position"]]
    price = np.where(simulation, price_in_simulation, allowance_price)
    shortfall = emissions - free
    share, at_allocation = rows["shortfall_cap_share"], rows["capped_at_allocation"]
    owed = np.minimum(shortfall, np.where(np.isnan(share), np.inf, share * emissions))
    owed = np.where(at_allocation, np.minimum(owed, 0.0), owed)
    relief = np.where(rows["trading"], shortfall - owed, 0.0)
    # text as categoricals (codes by row, each installation's text once), copied from the kept
    # ones: a caller may change its table; columns not stacked into blocks (copying them cost
    # more than computing them)
    return pd.DataFrame({
        "facility_id": rows["facility_id"].copy(),
        "sector": rows["sector"].copy(),
        "year": rows["year"].copy(),
        "phase": rows["phase"].copy(),
        "region": rows["region"].copy(),
        "unit_type": rows["unit_type"].copy(),
        "bau_mt": bau.copy(),
        "abatement_mt": abatement,
        "emissions_mt": emissions,
        "free_mt": free,
        "shortfall_mt": shortfall,
        "relief_mt": relief,
        "price_cny_per_t": price,
        "compliance_cost_bn_cny": np.nan_to_num(price) * (shortfall - relief) / 1e3,
    }, copy=False)


def _rows(p: Parameters, phases: tuple[str, ...]) -> dict[str, Any]:
    """What ``facility_years`` needs of the grid's rows in ``phases``, for every scenario of the
    grid: their positions, sector-year rows, phase masks, year positions, BAU, caps, shares,
    relief rules and key columns (read-only arrays; categoricals to be copied)."""
    grid = p.facility_years
    wanted = np.isin(np.array(PHASES), phases)  # by phase code: compared as integers, not text
    code_of_row = grid["phase_code"].to_numpy()
    covered = np.flatnonzero(wanted[code_of_row])
    code = code_of_row[covered]
    facility = covered // p.years.size  # the grid is installation by installation, year by year
    year = p.years[covered % p.years.size]
    cap_share, capped_at_allocation = relief_rules(p)
    facilities = p.dataset.facilities
    rows: dict[str, Any] = {
        "covered": covered, "sector_row": grid["sector_row"].to_numpy()[covered],
        "simulation": code == PHASES.index(SIMULATION), "trading": code == PHASES.index(TRADING),
        "year": year, "year_position": year - p.first_year,
        **{name: grid[name].to_numpy()[covered] for name in ("bau_mt", "cap_mt", "allocation_share",
                                                              "emission_share")},
        "shortfall_cap_share": cap_share[facility], "capped_at_allocation": capped_at_allocation[facility],
    }
    for array in rows.values():
        array.flags.writeable = False
    rows.update({name: _categorical(facilities, name, facility) for name in ("facility_id", "sector", "region",
                                                                             "unit_type")})
    rows["phase"] = _phase_categorical(code)
    return rows


def relief_rules(p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """By installation: its shortfall cap share (NaN: none) and whether its obligation is
    capped at its allocation, its own (facilities.csv) or else its unit type's (benchmarks.csv)."""
    facilities, benchmarks = p.dataset.facilities, p.dataset.benchmarks
    keys = pd.MultiIndex.from_arrays([facilities["sector"], facilities["unit_type"]])
    by_type = benchmarks.set_index(["sector", "unit_type"])
    n = len(facilities)

    def column(name: str) -> tuple[np.ndarray, np.ndarray]:
        own = (facilities[name] if name in facilities else pd.Series(np.nan, index=facilities.index)).to_numpy(
            dtype=float, na_value=np.nan)
        typed = (by_type[name].reindex(keys).to_numpy(dtype=float, na_value=np.nan)
                 if len(by_type) and name in by_type else np.full(n, np.nan))
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
    def factorized() -> tuple[np.ndarray, pd.Index]:
        codes, categories = pd.factorize(table[column], use_na_sentinel=True)
        return codes, pd.Index(categories, dtype=object)

    codes, categories = fastpath.cached(f"categorical {column}", (table,), factorized)
    return pd.Categorical.from_codes(codes[rows], categories=categories)


def _phase_categorical(code: np.ndarray) -> pd.Categorical:
    """The phases of the rows (codes of ``PHASES``) as a categorical whose categories are in
    order of first appearance (as ``pd.factorize`` of the text orders them)."""
    first = {position: np.argmax(code == position) for position in range(len(PHASES)) if (code == position).any()}
    present = sorted(first, key=first.__getitem__)
    renumbered = np.full(len(PHASES), -1, dtype=np.int8)
    renumbered[present] = np.arange(len(present))
    return pd.Categorical.from_codes(renumbered[code], categories=pd.Index([PHASES[i] for i in present], dtype=object))
