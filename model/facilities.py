"""Share each sector's results among its installations (facilities.csv).

At sector resolution an installation's emissions are its sector's emissions in proportion
to its base-year emissions, and its free allowances are its sector's free allocation in
proportion to benchmark x output (output alone where its sector has no benchmarks,
base-year emissions where it has no output). Its shortfall (positive: it must buy) is
priced at the allowance price when trading, at its sector's own price in simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .parameters import OUTSIDE, Parameters


def facility_years(p: Parameters, sector_years: pd.DataFrame, years: pd.DataFrame) -> pd.DataFrame:
    """One row per installation and covered year: emissions, free allowances, shortfall, cost."""
    facilities = p.dataset.facilities
    if facilities.empty or "free_mt" not in sector_years:
        return pd.DataFrame()
    sector_code = pd.Index(p.dataset.sectors["sector"]).get_indexer(facilities["sector"])
    emissions_weight = _within_sector_share(sector_code, facilities["emissions_mt"].to_numpy(dtype=float))
    allocation_weight = _within_sector_share(sector_code, _allocation_basis(p, facilities))
    n_facilities, n_years = len(facilities), p.years.size
    rows = np.repeat(sector_code * n_years, n_years) + np.tile(np.arange(n_years), n_facilities)
    covered = p.phase[rows] != OUTSIDE
    rows = rows[covered]
    facility = np.repeat(np.arange(n_facilities), n_years)[covered]
    emissions = sector_years["emissions_mt"].to_numpy()[rows] * emissions_weight[facility]
    free = sector_years["free_mt"].to_numpy()[rows] * allocation_weight[facility]
    price = np.where(sector_years["phase"].to_numpy()[rows] == "simulation",
                     sector_years["own_price_cny_per_t"].to_numpy()[rows],
                     years["allowance_price_cny_per_t"].to_numpy()[p.year_of_row[rows] - p.first_year])
    shortfall = emissions - free
    return pd.DataFrame({
        "facility_id": facilities["facility_id"].to_numpy()[facility],
        "sector": facilities["sector"].to_numpy()[facility],
        "year": p.year_of_row[rows],
        "phase": sector_years["phase"].to_numpy()[rows],
        "region": facilities["region"].to_numpy()[facility],
        "unit_type": facilities["unit_type"].to_numpy()[facility],
        "emissions_mt": emissions,
        "free_mt": free,
        "shortfall_mt": shortfall,
        "price_cny_per_t": price,
        "compliance_cost_bn_cny": np.nan_to_num(price) * shortfall / 1e3,
    })


def _allocation_basis(p: Parameters, facilities: pd.DataFrame) -> np.ndarray:
    """benchmark x output where the sector has benchmarks, output where it has none,
    base-year emissions where output is blank."""
    benchmarks = p.dataset.benchmarks.set_index(["sector", "unit_type"])["benchmark_t_per_unit"]
    keys = pd.MultiIndex.from_arrays([facilities["sector"], facilities["unit_type"]])
    benchmark = benchmarks.reindex(keys).to_numpy(dtype=float) if len(benchmarks) else np.full(len(facilities), np.nan)
    output = facilities["output"].to_numpy(dtype=float)
    basis = np.where(np.isnan(benchmark), output, benchmark * output)
    # a sector with any installation lacking output shares by emissions throughout
    lacking = pd.Series(np.isnan(basis)).groupby(facilities["sector"].to_numpy()).transform("any").to_numpy()
    return np.where(lacking, facilities["emissions_mt"].to_numpy(dtype=float), basis)


def _within_sector_share(sector_code: np.ndarray, weight: np.ndarray) -> np.ndarray:
    total = np.bincount(sector_code, weights=weight)[sector_code]
    count = np.bincount(sector_code)[sector_code]
    return np.divide(weight, total, out=1.0 / count, where=total > 0)
