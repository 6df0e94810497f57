"""trading_cap_shares: each trading sector's cap is its share of the trading sectors'
total cap. Shares follow BAU emissions (intensity x output, one stringency for all)
before absolute caps and are frozen from ``allocation.absolute_cap_from`` (see
``parameters._cap_shares``)."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock, Term
from ..parameters import Parameters
from ..phases import TRADING
from .base import Family, Sums


def define_trading_cap_shares(p: Parameters, sums: Sums) -> RowBlock:
    """sector_cap - cap_share x trading_cap = 0 for each trading sector-year (Mt)."""
    trading = np.flatnonzero(p.phase[p.covered_rows] == TRADING)
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


FAMILY = Family("trading_cap_shares", define_trading_cap_shares, check="cap_split",
                reads=("allocation.absolute_cap_from", "sectors.base_emissions_mt", "sectors.output_growth"),
                doc=__doc__)
