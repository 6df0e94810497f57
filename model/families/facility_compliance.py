"""facility_compliance: at facility resolution an installation in its sector's simulation
phase keeps its emissions within its share of the rule cap (benchmark x output), without
trading. Its dual is the installation's own carbon price."""

from __future__ import annotations

import numpy as np

from .checktools import worst
from ..lp.blocks import RowBlock
from ..parameters.derive import Parameters
from ..parameters.phases import SIMULATION
from .base import Check, DualColumn, Family, Sums, abatement_terms, numbered


def define_facility_compliance(p: Parameters, sums: Sums) -> RowBlock:
    """Installation emissions <= its share of the rule cap (Mt); no rows at sector resolution."""
    doc = "installation emissions <= its share of the rule cap (Mt)"
    if not p.facility_resolution:
        return RowBlock("facility_compliance", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    rows = p.facility_simulation_rows
    grid = p.facility_years
    return RowBlock(
        "facility_compliance", grid.index[rows],
        abatement_terms(p, numbered(rows, len(grid)), families=("facility_abatement_mt",), by_installation=True),
        constant=grid["bau_mt"].to_numpy()[rows], upper=grid["cap_mt"].to_numpy()[rows], doc=doc,
    )


def facility_compliance(years, sector_years, steps, market) -> float:
    """At facility resolution an installation in the simulation phase emits no more than its
    free allowances, its share of the rule cap."""
    facilities = market.get("facilities")
    if "facility_id" not in steps or facilities is None or facilities.empty:
        return 0.0
    simulation = np.asarray(facilities["phase"] == SIMULATION)  # a mask, not a copy of the table's rows
    over = facilities["emissions_mt"].to_numpy(dtype=float) - facilities["free_mt"].to_numpy(dtype=float)
    return worst(over[simulation])


FACILITY_COMPLIANCE = Check("facility_compliance", facility_compliance)


FAMILY = Family(
    "facility_compliance", define_facility_compliance, check=FACILITY_COMPLIANCE,
    reads=("facilities.facility_id", "facilities.emissions_mt", "model.resolution"),
    dual=DualColumn("price_cny_per_t", "facilities",
                    year_of_row=lambda p: p.facility_years.index.get_level_values("year").to_numpy()[
                        p.facility_simulation_rows]),
    doc=__doc__,
)
