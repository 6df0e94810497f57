"""cap_split: the ETS cap is split without remainder into the covered sectors' caps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .checktools import by_year, values, worst
from ..lp.blocks import RowBlock, Term
from ..parameters.phases import SIMULATION, TRADING
from .base import Check, Family, Sums

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


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


def cap_split(years, sector_years, steps, market) -> float:
    """The covered sectors' caps add up to the ETS cap in every year, Mt off (worst year)."""
    caps = by_year(sector_years, (SIMULATION, TRADING), "cap_mt", values(years, "year"))
    return worst(np.abs(caps - values(years, "ets_cap_mt")))


CAP_SPLIT = Check("cap_split", cap_split)


FAMILY = Family("cap_split", define_cap_split, check=CAP_SPLIT,
                reads=("sectors.covered_from",), doc=__doc__)
