"""grandfathered_allocation: under the cap rule grandfathered a trading sector's cap is its
modelled (verified) emissions of the year x (1 - reduction). It trades, but its net demand
is reduction x emissions: abating a tonne saves it only reduction x the allowance price
(with reduction 0, nothing). The national target still counts its emissions."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock, Term
from ..parameters import Parameters
from ..phases import GRANDFATHERED
from .base import Family, Sums, abatement_terms, numbered


def define_grandfathered_allocation(p: Parameters, sums: Sums) -> RowBlock:
    """sector_cap - (1 - reduction) x emissions = 0 for each grandfathered sector-year (Mt)."""
    rows = np.flatnonzero(p.sector_years["basis"].to_numpy() == GRANDFATHERED)
    n = rows.size
    kept = 1.0 - p.sector_years["cap_reduction"].to_numpy()[rows]
    abatement = abatement_terms(p, numbered(rows, len(p.sector_years)))
    return RowBlock(
        "grandfathered_allocation", p.sector_years.index[rows],
        [Term("sector_cap_mt", np.arange(n), p.covered_position(rows), np.ones(n)),
         *(term._replace(coefs=-term.coefs * kept[term.rows]) for term in abatement)],  # + kept x abatement
        constant=-kept * p.sector_years["bau_mt"].to_numpy()[rows], lower=np.zeros(n), upper=np.zeros(n),
        doc="sector_cap - (1 - reduction) x (BAU - abatement) = 0 (Mt)",
    )


FAMILY = Family("grandfathered_allocation", define_grandfathered_allocation, check="cap_rules",
                reads=("cap_rules.basis", "cap_rules.reduction"), doc=__doc__)
