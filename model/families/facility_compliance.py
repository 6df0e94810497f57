"""facility_compliance: at facility resolution an installation in its sector's simulation
phase keeps its emissions within its share of the rule cap (benchmark x output), without
trading. Its dual is the installation's own carbon price."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock
from ..parameters import Parameters
from .base import DualColumn, Family, Sums, abatement_terms, numbered


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


FAMILY = Family(
    "facility_compliance", define_facility_compliance, check="facility_compliance",
    reads=("facilities.facility_id", "facilities.emissions_mt", "model.resolution"),
    dual=DualColumn("price_cny_per_t", "facilities",
                    year_of_row=lambda p: p.facility_years.index.get_level_values("year").to_numpy()[
                        p.facility_simulation_rows]),
    doc=__doc__,
)
