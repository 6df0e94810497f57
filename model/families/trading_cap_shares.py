"""trading_cap_shares: each trading sector whose cap the model chooses (cap rule intensity
without a given benchmark, or absolute) gets its share of those sectors' total cap. Shares
follow BAU emissions (intensity x output, one stringency for all: the chosen benchmark is
the sector's BAU intensity times it) under intensity and are frozen from the year a
sector's absolute cap starts (see ``parameters._cap_shares``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..lp.blocks import RowBlock, Term
from ..parameters.phases import TRADING
from .base import Family, Sums
from .cap_split import CAP_SPLIT

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


def define_trading_cap_shares(p: Parameters, sums: Sums) -> RowBlock:
    """sector_cap - cap_share x trading_cap = 0 for each trading sector-year (Mt)."""
    trading = np.flatnonzero((p.phase[p.covered_rows] == TRADING)
                             & np.isfinite(p.sector_years["cap_share"].to_numpy()[p.covered_rows]))
    rows = p.covered_rows[trading]
    n = trading.size
    return RowBlock(
        "trading_cap_shares", p.sector_years.index[rows].tolist(),
        [Term("sector_cap_mt", np.arange(n), trading, np.ones(n)),
         Term("trading_cap_mt", np.arange(n), np.searchsorted(p.trading_years, p.year_of_row[rows]),
              -p.sector_years["cap_share"].to_numpy()[rows])],
        constant=np.zeros(n), lower=np.zeros(n), upper=np.zeros(n),
        doc="sector_cap - cap_share x trading_cap = 0 (Mt)",
    )


FAMILY = Family("trading_cap_shares", define_trading_cap_shares, check=CAP_SPLIT,
                reads=("allocation.absolute_cap_from", "cap_rules.basis", "cap_rules.benchmark_t_per_unit",
                       "sectors.base_emissions_mt", "sectors.output_growth"),
                doc=__doc__)
