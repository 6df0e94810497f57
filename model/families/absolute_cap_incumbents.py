"""absolute_cap_incumbents: under the cap rule absolute (from ``allocation.absolute_cap_from``
or a sector's own ``cap_rules.csv`` year) no incumbent trading sector's cap rises: one row
per sector and absolute-cap year, its cap against its own cap of the year before.

A single row on the incumbents' summed caps is not enough in the first absolute-cap
year: shares follow that year's BAU there but the year before's BAU the year before, so a
fast-growing sector's cap can rise while the sum does not. (From the year after, frozen
shares make the sector rows equivalent to the sum; they are kept for one rule throughout.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data.fields import Inputs, year_field
from ..lp.blocks import RowBlock, Term
from ..parameters.phases import ABSOLUTE, OUTSIDE, TRADING
from .base import Family, Sums
from .grandfathered_allocation import CAP_RULES

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
        year_field(
            "allocation.absolute_cap_from",
            "From this year sector caps may not rise year on year; blank: never.",
            None,
        ),
    ),
    after={"scenario.toml": "allocation.cost_tolerance"},
)


def _absolute_cap_rows(p: Parameters, previous_phase_wanted: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions among the sector caps of pairs trading in an absolute-cap year whose sector
    was in ``previous_phase_wanted`` the year before, and the positions of those previous caps.

    (Only incumbents are bounded: a sector leaving its simulation phase starts its absolute
    cap at its frozen share; bounding it by its last rule cap would bound every trading
    sector's cap through the frozen shares, and the most fast-growing entrant would set the
    whole trading cap.)"""
    rows = p.covered_rows
    year = p.year_of_row[rows]
    has_previous = year > p.first_year
    previous_phase = np.where(has_previous, p.phase[rows - 1], OUTSIDE)  # the grid's row - 1 is year - 1
    absolute = (p.phase[rows] == TRADING) & (p.sector_years["basis"].to_numpy()[rows] == ABSOLUTE)
    chosen = np.flatnonzero(absolute & (previous_phase == previous_phase_wanted))
    return chosen, p.covered_position(rows[chosen] - 1)


def define_absolute_cap_incumbents(p: Parameters, sums: Sums) -> RowBlock:
    """Incumbent trading sector's cap[t] - its cap[t-1] <= 0 (Mt)."""
    incumbent, previous = _absolute_cap_rows(p, TRADING)
    n = incumbent.size
    rows = np.arange(n)
    return RowBlock(
        "absolute_cap_incumbents", p.covered_index[incumbent].tolist(),
        [Term("sector_cap_mt", rows, incumbent, np.ones(n)),
         Term("sector_cap_mt", rows, previous, -np.ones(n))],
        constant=np.zeros(n), upper=np.zeros(n),
        doc="incumbent trading sector's cap[t] - its cap[t-1] <= 0 (Mt)",
    )


FAMILY = Family("absolute_cap_incumbents", define_absolute_cap_incumbents, check=CAP_RULES,
                inputs=INPUTS, reads=("cap_rules.basis",), doc=__doc__)
