"""national_target: everything that counts nationally stays within the national cap: the
tighter of the absolute target and the intensity target (intensity x GDP), in [targets]
scope (for net GHG the model's CO2 may use the target plus sinks less non-CO2).

Allowances issued (the ETS cap) and the emissions of sectors outside the ETS add to the
``NATIONAL_COUNT`` sum; any rule that releases allowances beyond the ETS cap must add
them too. Its dual is the national carbon value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .checktools import BEYOND_NATIONAL_CAP, NATIONAL_SINK, borrowed_mt, by_year, declared_columns, values, worst
from ..lp.blocks import RowBlock, Term
from ..parameters.phases import OUTSIDE, SIMULATION, TRADING
from .base import NATIONAL_COUNT, Check, Contribution, DualColumn, Family, Sums, abatement_terms

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


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


def national_count(years, sector_years, steps, market) -> float:
    """Every tonne emitted in China counts against the national cap, Mt over it (worst year).

    An allowance counts when it is issued, and is later surrendered for a tonne covered by
    the ETS or kept in the bank; a tonne outside the ETS counts when emitted. So in every
    year t, from the emissions of all sectors (``sector_years.emissions_mt``, covered or not)
    and the bank at year end::

        sum_{y <= t} emissions[y] + bank[t]  <=  sum_{y <= t} national_cap[y] + initial_bank

    (without banking, bank = 0: cumulative emissions within cumulative caps). Allowances
    issued but left unused (a simulation sector below its rule cap, a market with a zero
    price) only make the left side smaller. No term of the LP enters: a rule that releases
    allowances beyond the ETS cap raises emissions or the bank and is caught here.

    The targets are read as stated (tables with ``absolute_target_mt``): each year's cap is
    the tighter of the absolute target and the intensity target (intensity x GDP), and a
    net-GHG count adds the exogenous ``non_co2_mt`` and nets ``sinks_mt`` from emissions.
    Allowances a rule declares as not counted under the national target (a price ceiling's
    sales, uncounted reserve releases, offsets outside the national count:
    ``families.beyond_national_cap_columns``) may raise the count above the cap by as much,
    and no more. Removals a rule declares as sinks (``families.national_sink_columns``: CCER
    removals) are netted like ``sinks_mt`` only when ``market["targets.scope"]`` is net_ghg;
    a CO2 count ignores them. Allowances
    borrowed from year t+1 (``borrowed_mt``) are counted in t+1, where they were issued: year
    t may emit that much more than its cumulative cap, and t+1 that much less."""
    emitted = by_year(sector_years, (OUTSIDE, SIMULATION, TRADING), "emissions_mt", values(years, "year"))
    national_cap = values(years, "national_cap_mt", float)
    if "absolute_target_mt" in years:
        national_cap = np.fmin(values(years, "absolute_target_mt", float),
                               values(years, "intensity_target_mt", float))
        national_cap = np.where(np.isnan(national_cap), np.inf, national_cap)
        emitted = emitted + values(years, "non_co2_mt", float) - values(years, "sinks_mt", float)
    if market.get("targets.scope") == "net_ghg":
        for column in declared_columns(market, NATIONAL_SINK):
            if column in years:
                emitted = emitted - np.nan_to_num(values(years, column, float))
    for column in declared_columns(market, BEYOND_NATIONAL_CAP):
        if column in years:
            national_cap = national_cap + np.nan_to_num(values(years, column, float))
    bank = values(years, "bank_mt", float)
    initial_bank = market.get("initial_bank_mt", 0.0) or 0.0
    return worst(np.cumsum(emitted) + bank - borrowed_mt(years) - np.cumsum(national_cap) - initial_bank)


NATIONAL_COUNT_CHECK = Check("national_count", national_count)  # (NATIONAL_COUNT: the sum)


FAMILY = Family(
    "national_target", define_national_target, check=NATIONAL_COUNT_CHECK,
    reads=("targets.national_cap_mt", "targets.ets_cap_mt", "sectors.covered_from",
           "targets.national_intensity_t_per_10k_cny", "targets.gdp_bn_cny", "targets.scope", "targets.non_co2_mt",
           "targets.sinks_mt"),
    dual=DualColumn("national_carbon_value_cny_per_t", "years"),
    adds={NATIONAL_COUNT: count_issued_and_outside}, relaxable=True, doc=__doc__,
    market=lambda p: {"targets.scope": p.dataset.settings["targets.scope"]},  # what the count nets (checks)
)
