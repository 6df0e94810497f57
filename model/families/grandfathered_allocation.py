"""grandfathered_allocation: under the cap rule grandfathered a trading sector's cap is its
modelled (verified) emissions of the year x (1 - reduction). It trades, but its net demand
is reduction x emissions: abating a tonne saves it only reduction x the allowance price
(with reduction 0, nothing). The national target still counts its emissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data.fields import SOURCE_COLUMN, DatasetCheck, Field, Inputs, TableSpec, share_field, year_field
from ..errors import Problem, number_text
from .checktools import values, worst
from ..lp.blocks import RowBlock, Term
from ..parameters.phases import GRANDFATHERED, TRADING
from .base import Check, Family, Sums, abatement_terms, numbered

if TYPE_CHECKING:
    from ..data.inputs import Dataset
    from ..parameters.derive import Parameters


CAP_RULES_TABLE = TableSpec(
    "cap_rules.csv",
    "Optional cap rules by sector and period: from a sector's first row on they replace the shorthands "
    "covered_from/trading_from/simulation_reduction (sectors.csv) and allocation.absolute_cap_from, each row "
    "holding from its from_year until the sector's next row. Without a row, the shorthands expand to the same "
    "rules: simulation from covered_from, intensity from trading_from, absolute from absolute_cap_from.",
    ("sector", "from_year"),
    (
        Field("sector", "str", "", "A sector of sectors.csv the ETS covers."),
        year_field("from_year", "First year of the rule (not before the sector's covered_from)."),
        Field("basis", "str", "",
              "'simulation': own compliance, no trading, cap (1 - reduction) x BAU; 'grandfathered': trading, "
              "allocation = the year's modelled emissions x (1 - reduction); 'intensity': trading, allowances = "
              "benchmark_t_per_unit x actual output; 'absolute': trading, a mass cap that may not rise.",
              choices=("simulation", "grandfathered", "intensity", "absolute")),
        share_field("reduction", "simulation and grandfathered: the share cut from BAU or from emissions.", 0.0),
        Field("benchmark_t_per_unit", "float", "t CO2 per unit of output",
              "intensity: allowances per unit of output (benchmark x output in Mt: t/t x Mt, t/MWh x TWh); "
              "blank: chosen by the model, one stringency for all such sectors.", None, 0.0, 1e4),
        SOURCE_COLUMN,
    ),
    required=False,
)

# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    tables=(CAP_RULES_TABLE,),
    checks=(DatasetCheck(frozenset({"cap_rules", "sectors.sector", "sectors.covered_from"}),
                         lambda dataset: cap_rule_problems(dataset)),),
)


def cap_rule_problems(dataset: Dataset) -> list[Problem]:
    """cap_rules.csv starts no rule before its sector's covered_from, and gives a benchmark
    (or a reduction) only to the bases that read it."""
    rules, file = dataset.cap_rules, CAP_RULES_TABLE.file
    if rules.empty:
        return []
    covered_from = rules["sector"].map(dataset.sectors.drop_duplicates("sector").set_index("sector")["covered_from"])
    problems = [Problem(file, row, "from_year", str(rules.at[row, "from_year"]),
                        f"a year not before the sector's covered_from ({covered_from[row]}) in sectors.csv")
                for row in rules.index[(rules["from_year"] < covered_from).fillna(False).to_numpy()]]
    stray = rules["benchmark_t_per_unit"].notna() & (rules["basis"] != "intensity")
    problems += [Problem(file, row, "benchmark_t_per_unit", number_text(rules.at[row, "benchmark_t_per_unit"]),
                         "blank: only basis 'intensity' reads a benchmark")
                 for row in rules.index[stray.to_numpy()]]
    reduced = (rules["reduction"] > 0) & ~rules["basis"].isin(["simulation", "grandfathered"])
    problems += [Problem(file, row, "reduction", number_text(rules.at[row, "reduction"]),
                         "0 or blank: only bases 'simulation' and 'grandfathered' read a reduction")
                 for row in rules.index[reduced.to_numpy()]]
    return problems


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


def cap_rules(years, sector_years, steps, market) -> float:
    """Each trading sector's cap follows its rule (``basis``), Mt off (worst): grandfathered,
    (1 - cap_reduction) x its emissions of the year; intensity, benchmark_t_per_unit x its
    output (output = cap / implied benchmark); absolute, no higher than its cap of the year
    before when it traded then. Tables without ``basis``: nothing to test."""
    if "basis" not in sector_years:
        return 0.0
    basis = values(sector_years, "basis")
    cap = values(sector_years, "cap_mt", float)
    emissions = values(sector_years, "emissions_mt", float)
    kept = 1.0 - values(sector_years, "cap_reduction", float)
    grandfathered = np.where(basis == "grandfathered", np.abs(cap - kept * emissions), 0.0)
    implied = values(sector_years, "implied_benchmark_t_per_unit", float)
    benchmark = values(sector_years, "benchmark_t_per_unit", float)
    output = np.divide(cap, implied, out=np.full(cap.size, np.nan), where=np.abs(implied) > 0)
    intensity = np.where(basis == "intensity", np.abs(benchmark * output - cap), 0.0)
    previous = np.roll(cap, 1)
    same_sector = np.roll(values(sector_years, "sector"), 1) == values(sector_years, "sector")
    traded_before = same_sector & (np.roll(values(sector_years, "phase"), 1) == TRADING)
    same_sector[0] = traded_before[0] = False
    absolute = np.where((basis == "absolute") & traded_before, cap - previous, 0.0)
    return worst(np.nan_to_num(np.concatenate([grandfathered, intensity, absolute])))


CAP_RULES = Check("cap_rules", cap_rules)


FAMILY = Family("grandfathered_allocation", define_grandfathered_allocation, check=CAP_RULES,
                inputs=INPUTS, doc=__doc__)
