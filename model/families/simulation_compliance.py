"""simulation_compliance: a simulation-phase sector keeps its emissions within its own
cap, without trading. Its dual is the sector's own carbon price. At facility resolution
the sectors of facilities.csv meet it installation by installation instead
(facility_compliance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .checktools import joined, values, worst
from ..lp.blocks import RowBlock, Term
from ..parameters.phases import SIMULATION
from .base import Check, DualColumn, Family, Sums, abatement_terms, numbered

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


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


def simulation_compliance(years, sector_years, steps, market) -> float:
    """A simulation-phase sector's cap is its rule cap, (1 - simulation_reduction) x BAU, and
    it emits no more than that on its own (tables without ``rule_cap_mt``: against its cap)."""
    simulation = values(sector_years, "phase") == SIMULATION
    rule_cap = sector_years["rule_cap_mt" if "rule_cap_mt" in sector_years else "cap_mt"].to_numpy(dtype=float)
    rule_cap = rule_cap[simulation]
    emissions = values(sector_years, "emissions_mt", float)[simulation]
    cap = values(sector_years, "cap_mt", float)[simulation]
    return worst(joined(emissions - rule_cap, np.abs(cap - rule_cap)))


SIMULATION_COMPLIANCE = Check("simulation_compliance", simulation_compliance)


FAMILY = Family(
    "simulation_compliance", define_simulation_compliance, check=SIMULATION_COMPLIANCE,
    reads=("sectors.trading_from", "mac.cost_cny_per_t", "mac.potential_share"),
    dual=DualColumn("own_price_cny_per_t", "sector_years",
                    year_of_row=lambda p: p.year_of_row[p.sector_simulation_rows]),
    doc=__doc__,
)
