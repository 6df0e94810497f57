"""national_target: everything that counts nationally stays within the national cap: the
tighter of the absolute target and the intensity target (intensity x GDP), in [targets]
scope (for net GHG the model's CO2 may use the target plus sinks less non-CO2).

Allowances issued (the ETS cap) and the emissions of sectors outside the ETS add to the
``NATIONAL_COUNT`` sum; any rule that releases allowances beyond the ETS cap must add
them too. Its dual is the national carbon value."""

from __future__ import annotations

import numpy as np

from ..lp import RowBlock, Term
from ..parameters import Parameters
from ..phases import OUTSIDE
from .base import NATIONAL_COUNT, Contribution, DualColumn, Family, Sums, abatement_terms


def count_issued_and_outside(p: Parameters) -> Contribution:
    """Allowances issued in each year plus that year's emissions outside the ETS, Mt."""
    n = p.years.size
    outside_bau = np.where(p.phase == OUTSIDE, p.sector_years["bau_mt"].to_numpy(), 0.0)
    return Contribution(
        [Term("ets_cap_mt", np.arange(n), np.arange(n), np.ones(n)),
         *abatement_terms(p, np.where(p.phase == OUTSIDE, p.year_of_row - p.first_year, -1))],
        p.sum_by_year(outside_bau))


def define_national_target(p: Parameters, sums: Sums) -> RowBlock:
    """The national count of each year within the national cap (Mt)."""
    count = sums.of(NATIONAL_COUNT)
    return RowBlock("national_target", p.years.tolist(), count.terms, constant=count.constant,
                    upper=p.targets["national_cap_mt"].to_numpy(),
                    doc="ets_cap + outside emissions <= national cap (Mt)")


FAMILY = Family(
    "national_target", define_national_target, check="national_count",
    reads=("targets.national_cap_mt", "targets.ets_cap_mt", "sectors.covered_from",
           "targets.national_intensity_t_per_10k_cny", "targets.gdp_bn_cny", "targets.scope", "targets.non_co2_mt",
           "targets.sinks_mt"),
    dual=DualColumn("national_carbon_value_cny_per_t", "years"),
    adds={NATIONAL_COUNT: count_issued_and_outside}, relaxable=True, doc=__doc__,
    market=lambda p: {"targets.scope": p.dataset.settings["targets.scope"]},  # what the count nets (checks)
)
