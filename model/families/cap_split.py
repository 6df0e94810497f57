"""cap_split: the ETS cap is split without remainder into the covered sectors' caps."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock, Term
from ..parameters import Parameters
from .base import Family, Sums


def define_cap_split(p: Parameters, sums: Sums) -> RowBlock:
    """Sum of sector caps - ETS cap = 0 in every year (Mt)."""
    covered_years = p.year_of_row[p.covered_rows]
    n = p.years.size
    return RowBlock(
        "cap_split", p.years.tolist(),
        [Term("sector_cap_mt", p.year_position(covered_years), np.arange(covered_years.size),
              np.ones(covered_years.size)),
         Term("ets_cap_mt", np.arange(n), np.arange(n), -np.ones(n))],
        constant=np.zeros(n), lower=np.zeros(n), upper=np.zeros(n),
        doc="sum of sector caps - ets_cap = 0 (Mt)",
    )


FAMILY = Family("cap_split", define_cap_split, check="cap_split",
                reads=("sectors.covered_from",), doc=__doc__)
