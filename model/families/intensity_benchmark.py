"""intensity_benchmark: under the cap rule intensity with a given benchmark, a trading
sector's allowances are the benchmark x its actual output of the year, held (the cap flexes
with output, not with the model's choice). Without a benchmark the model chooses it
(trading_cap_shares: one stringency for all)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..lp.blocks import RowBlock, Term
from ..parameters.phases import INTENSITY
from .base import Family, Sums
from .grandfathered_allocation import CAP_RULES

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


def define_intensity_benchmark(p: Parameters, sums: Sums) -> RowBlock:
    """sector_cap = benchmark x output for each intensity sector-year with a given benchmark (Mt)."""
    benchmark = p.sector_years["benchmark_t_per_unit"].to_numpy()
    rows = np.flatnonzero((p.sector_years["basis"].to_numpy() == INTENSITY) & np.isfinite(benchmark))
    n = rows.size
    allowances = benchmark[rows] * p.sector_years["output"].to_numpy()[rows]
    return RowBlock(
        "intensity_benchmark", p.sector_years.index[rows],
        [Term("sector_cap_mt", np.arange(n), p.covered_position(rows), np.ones(n))],
        constant=np.zeros(n), lower=allowances, upper=allowances,
        doc="sector_cap = benchmark x output (Mt)",
    )


FAMILY = Family("intensity_benchmark", define_intensity_benchmark, check=CAP_RULES,
                reads=("cap_rules.basis", "cap_rules.benchmark_t_per_unit", "bau.output", "sectors.base_output"),
                doc=__doc__)
