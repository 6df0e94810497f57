"""simulation_compliance: a simulation-phase sector keeps its emissions within its own
cap, without trading. Its dual is the sector's own carbon price. At facility resolution
the sectors of facilities.csv meet it installation by installation instead
(facility_compliance)."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock, Term
from ..parameters import Parameters
from .base import DualColumn, Family, Sums, abatement_terms, numbered


def define_simulation_compliance(p: Parameters, sums: Sums) -> RowBlock:
    """emissions - sector_cap <= 0 for each simulation-phase sector-year (Mt)."""
    rows = p.sector_simulation_rows
    n = rows.size
    return RowBlock(
        "simulation_compliance", p.sector_years.index[rows].tolist(),
        [*abatement_terms(p, numbered(rows, len(p.sector_years)), families=("abatement_mt",)),
         Term("sector_cap_mt", np.arange(n), p.covered_position(rows), -np.ones(n))],
        constant=p.sector_years["bau_mt"].to_numpy()[rows], upper=np.zeros(n),
        doc="emissions - sector_cap <= 0 (Mt)",
    )


FAMILY = Family(
    "simulation_compliance", define_simulation_compliance, check="sector_compliance",
    reads=("sectors.trading_from", "mac.cost_cny_per_t", "mac.potential_share"),
    dual=DualColumn("own_price_cny_per_t", "sector_years",
                    year_of_row=lambda p: p.year_of_row[p.sector_simulation_rows]),
    doc=__doc__,
)
