"""simulation_rule_cap: in its simulation phase a sector's cap is set by rule,
(1 - reduction) x BAU. The diagnosis may relax it (a target)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..lp.blocks import RowBlock, Term
from .base import Family, Sums
from .cap_split import CAP_SPLIT

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


def define_simulation_rule_cap(p: Parameters, sums: Sums) -> RowBlock:
    """sector_cap = rule cap for each simulation-phase sector-year (Mt)."""
    simulation = p.simulation_index
    rule_cap = p.sector_years["rule_cap_mt"].to_numpy()[p.simulation_rows]
    n = len(simulation)
    return RowBlock(
        "simulation_rule_cap", simulation.tolist(),
        [Term("sector_cap_mt", np.arange(n), p.covered_position(p.simulation_rows), np.ones(n))],
        constant=np.zeros(n), lower=rule_cap, upper=rule_cap, doc="sector_cap = rule cap (Mt)",
    )


FAMILY = Family("simulation_rule_cap", define_simulation_rule_cap, check=CAP_SPLIT,
                reads=("sectors.simulation_reduction", "sectors.trading_from"), relaxable=True, doc=__doc__)
