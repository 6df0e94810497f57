"""facility_compliance: at facility resolution an installation in its sector's simulation
phase keeps its emissions within its share of the rule cap (benchmark x output), without
trading. Its dual is the installation's own carbon price."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .checktools import joined, rows_named, rows_of, worst
from ..lp.blocks import RowBlock
from ..parameters.phases import SIMULATION
from .base import Check, DualColumn, Family, Sums, abatement_terms, numbered

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


def define_facility_compliance(p: Parameters, sums: Sums) -> RowBlock:
    """Installation emissions <= its share of the rule cap (Mt); no rows at sector resolution."""
    doc = "installation emissions <= its share of the rule cap (Mt)"
    if not p.facility_resolution:
        return RowBlock("facility_compliance", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    rows = p.facility_simulation_rows
    grid = p.facility_years
    # steps solved outside the LP on these rows (cheap steps used in full: installations.closed_form_steps)
    presolved = p.presolved.lp_rows_presolved_mt if p.presolved is not None else 0.0
    return RowBlock(
        "facility_compliance", grid.index[rows],
        abatement_terms(p, numbered(rows, len(grid)), families=("facility_abatement_mt",), by_installation=True),
        constant=grid["bau_mt"].to_numpy()[rows] - presolved, upper=grid["cap_mt"].to_numpy()[rows], doc=doc,
    )


def facility_compliance(years, sector_years, steps, market) -> float:
    """At facility resolution an installation in the simulation phase emits no more than its
    free allowances, its share of the rule cap: the free allowances of a sector's
    installations add up to the sector's rule cap (``rule_cap_mt``), Mt off (worst)."""
    facilities = market.get("facilities")
    if "facility_id" not in steps or facilities is None or facilities.empty:
        return 0.0
    simulation = rows_named(facilities, "phase", SIMULATION)  # the rows, not a copy of the table's
    free_mt = facilities["free_mt"].to_numpy(dtype=float)[simulation]
    over = facilities["emissions_mt"].to_numpy(dtype=float)[simulation] - free_mt
    if "rule_cap_mt" not in sector_years:
        return worst(over)
    # the simulation rows' sector and year only (a registry's table is millions of rows)
    keys = pd.DataFrame({"sector": facilities["sector"].array[simulation],
                         "year": facilities["year"].to_numpy()[simulation]}, copy=False)
    row = rows_of(sector_years, keys, "sector")
    known = row >= 0
    free = np.bincount(row[known], weights=free_mt[known], minlength=len(sector_years))
    registered = np.bincount(row[known], minlength=len(sector_years)) > 0
    shared_out = np.where(registered, np.abs(free - sector_years["rule_cap_mt"].to_numpy(dtype=float)), 0.0)
    return worst(joined(over, np.nan_to_num(shared_out)))


FACILITY_COMPLIANCE = Check("facility_compliance", facility_compliance)


FAMILY = Family(
    "facility_compliance", define_facility_compliance, check=FACILITY_COMPLIANCE,
    reads=("facilities.facility_id", "facilities.emissions_mt", "model.resolution"),
    dual=DualColumn("price_cny_per_t", "facilities",
                    year_of_row=lambda p: p.facility_years.index.get_level_values("year").to_numpy()[
                        p.facility_simulation_rows]),
    doc=__doc__,
)
