"""Results in a notebook: a readable repr, the IAMC long format (pyam) and xarray.

    >>> from model import solve
    >>> results = solve("inputs/toy")
    >>> results                                   # status, objective, headline rows
    >>> results.to_iamc().head()                  # model, scenario, region, variable, unit, year, value
    >>> results.to_xarray()["allowance_price_cny_per_t"].sel(year=2027)   # needs xarray

``Results.__repr__``, ``Results.to_iamc`` and ``Results.to_xarray`` call the functions here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import EtscapError

if TYPE_CHECKING:
    from .tables import Results

HEADLINE = {  # column of years -> heading of the repr's table
    "ets_cap_mt": "ETS cap Mt",
    "emissions_mt": "emissions Mt",
    "allowance_price_cny_per_t": "price CNY/t",
    "abatement_cost_bn_cny": "cost bn CNY",
}

# IAMC variables (pyam's "|" hierarchy) of the years table: column -> (variable, unit). A parent
# is the sum of its children (Emissions|CO2 of Emissions|CO2|<sector>, Emissions Cap|CO2|ETS of
# the sector caps), so pyam's check_aggregate holds; non-additive totals get a branch of their own.
IAMC_YEARS = {
    "allowance_price_cny_per_t": ("Price|Carbon|ETS", "CNY/t CO2"),
    "national_carbon_value_cny_per_t": ("Price|Carbon|National", "CNY/t CO2"),
    "emissions_mt": ("Emissions|CO2", "Mt CO2/yr"),
    "ets_emissions_mt": ("Emissions Covered|CO2|ETS", "Mt CO2/yr"),
    "national_cap_mt": ("Emissions Cap|CO2|National", "Mt CO2/yr"),
    "ets_cap_mt": ("Emissions Cap|CO2|ETS", "Mt CO2/yr"),
    "bank_mt": ("Allowance Bank|CO2|ETS", "Mt CO2"),
    "abatement_mt": ("Abatement|CO2", "Mt CO2/yr"),
    "abatement_cost_bn_cny": ("Cost|Abatement", "billion CNY/yr"),
    "free_allocation_mt": ("Free Allocation|CO2|ETS", "Mt CO2/yr"),
    "auction_revenue_bn_cny": ("Revenue|Auction|ETS", "billion CNY/yr"),
}
# ... and of the sector_years table, each with "|<sector>" appended
IAMC_SECTORS = {
    "emissions_mt": ("Emissions|CO2", "Mt CO2/yr"),
    "bau_mt": ("Baseline Emissions|CO2", "Mt CO2/yr"),
    "abatement_mt": ("Abatement|CO2", "Mt CO2/yr"),
    "cap_mt": ("Emissions Cap|CO2|ETS", "Mt CO2/yr"),
    "free_mt": ("Free Allocation|CO2|ETS", "Mt CO2/yr"),
    "abatement_cost_bn_cny": ("Cost|Abatement", "billion CNY/yr"),
    "burden_bn_cny": ("Cost|Compliance Burden", "billion CNY/yr"),
    "own_price_cny_per_t": ("Price|Carbon|Simulation", "CNY/t CO2"),
    "marginal_cost_cny_per_t": ("Price|Carbon|Marginal Abatement Cost", "CNY/t CO2"),
}
IAMC_COLUMNS = ["model", "scenario", "region", "variable", "unit", "year", "value"]


def scenario_label(results: "Results") -> str:
    """The dataset's scenario name, then the named scenarios applied: ``china+banking``."""
    summary = results.summary
    return "+".join([str(summary.get("scenario", "")), *(s["name"] for s in summary.get("scenarios") or [])])


def headline_table(results: "Results", headings: Mapping[str, str] = HEADLINE) -> pd.DataFrame:
    """ETS cap, emissions, allowance price and abatement cost (or the years-table columns of
    ``headings``, column -> heading) in the milestone years, the rows a reader looks at first."""
    from .tables import milestone_years  # results imports this module's functions lazily too

    years = results.years.set_index("year")
    shown = milestone_years(results.years)
    columns = [c for c in headings if c in years.columns]
    return years.loc[shown, columns].rename(columns=dict(headings))


def results_repr(results: "Results") -> str:
    """``Results(<scenario>: <status>, <objective> bn CNY PV, ...)`` and the headline rows."""
    summary, years = results.summary, results.years
    sectors = results.sector_years["sector"].nunique() if "sector" in results.sector_years else 0
    objective = summary.get("objective_bn_cny")
    cost = f"abatement cost {objective:,.1f} bn CNY (present value)" if objective is not None else "no objective"
    span = f"{int(years['year'].min())}-{int(years['year'].max())}" if len(years) else "no years"
    head = (f"Results({scenario_label(results)}: {summary.get('status', 'unknown')}, {cost}; "
            f"{span}, {sectors} sectors)")
    if not len(years):
        return head
    table = headline_table(results).to_string(float_format=lambda x: f"{x:,.1f}", na_rep="-")
    return head + "\n" + table


def results_html(results: "Results") -> str:
    """The repr as HTML (Jupyter shows it for a Results at the end of a cell)."""
    head = results_repr(results).splitlines()[0]
    table = headline_table(results).to_html(float_format=lambda x: f"{x:,.1f}", na_rep="-")
    return f"<p><code>{head}</code></p>{table}"


def to_iamc(results: "Results", model: str = "etscap", scenario: str | None = None,
            region: str = "China") -> pd.DataFrame:
    """The results in the IAMC long format (one row per variable and year), as pyam reads
    it: ``pyam.IamDataFrame(results.to_iamc())``.

    Variables follow the IAMC hierarchy: ``Price|Carbon|ETS`` (the allowance price, CNY/t
    CO2, year-t money), ``Emissions|CO2|<sector>`` (Mt CO2/yr), ``Emissions Cap|CO2|ETS``,
    ``Cost|Abatement|<sector>`` (billion CNY/yr), ... (see ``IAMC_YEARS`` and
    ``IAMC_SECTORS``); blank values (an own price outside the simulation phase) are left
    out. ``scenario`` defaults to the scenario's name with any named scenarios
    (``china+banking``); the dataset has no region, so ``region`` names it (default China).

        >>> results.to_iamc().query("variable == 'Price|Carbon|ETS'")[["year", "value"]]
    """
    label = scenario if scenario is not None else scenario_label(results)
    parts = []
    years = results.years
    for column, (variable, unit) in IAMC_YEARS.items():
        if column in years.columns:
            parts.append(pd.DataFrame({"variable": variable, "unit": unit, "year": years["year"].to_numpy(),
                                       "value": years[column].to_numpy(dtype=float)}))
    sectors = results.sector_years
    for column, (variable, unit) in IAMC_SECTORS.items():
        if column in sectors.columns:
            parts.append(pd.DataFrame({"variable": variable + "|" + sectors["sector"].astype(str).to_numpy(),
                                       "unit": unit, "year": sectors["year"].to_numpy(),
                                       "value": sectors[column].to_numpy(dtype=float)}))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=IAMC_COLUMNS[3:])
    long = long[np.isfinite(long["value"].to_numpy(dtype=float))]
    long.insert(0, "region", region)
    long.insert(0, "scenario", label)
    long.insert(0, "model", model)
    long["year"] = long["year"].astype(np.int64)
    return long.sort_values(["variable", "year"], kind="stable").reset_index(drop=True)[IAMC_COLUMNS]


def to_xarray(results: "Results") -> Any:
    """The years and sector_years tables as one ``xarray.Dataset``: each column of years a
    variable over ``year``, each column of sector_years one over ``(sector, year)`` (named
    ``sector_<column>`` where both tables have it, e.g. ``sector_emissions_mt``).

    xarray is an optional dependency (``pip install 'etscap[xarray]'``).

        >>> ds = results.to_xarray()
        >>> ds["sector_emissions_mt"].sel(sector="steel")
    """
    try:
        xarray = importlib.import_module("xarray")
    except ImportError:
        raise EtscapError("Results.to_xarray() needs xarray, an optional dependency: "
                          "pip install 'etscap[xarray]' (or pip install xarray), or use the pandas "
                          "tables results.years and results.sector_years") from None
    years = results.years.set_index("year")
    by_year = xarray.Dataset.from_dataframe(years)
    sectors = results.sector_years.set_index(["sector", "year"])
    shared = [c for c in sectors.columns if c in years.columns]
    by_sector = xarray.Dataset.from_dataframe(sectors.rename(columns={c: f"sector_{c}" for c in shared}))
    merged = xarray.merge([by_year, by_sector], join="outer", compat="no_conflicts")
    merged.attrs.update({"scenario": scenario_label(results), "status": str(results.summary.get("status", "")),
                         "objective_bn_cny": float(results.summary.get("objective_bn_cny", np.nan))})
    return merged
