"""Every input, declared once: name, type, unit, default, allowed range, meaning.

Validation (``inputs.py``), ``--set`` overrides (``overrides.py``) and the input
reference in the README (``run.py inputs``) are all driven from these declarations,
so a new input is added here and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

REQUIRED: Any = object()  # sentinel default: the value must be given
MAX_WHOLE_NUMBER = 2**53  # larger whole numbers do not survive a float
REGISTRY_MAX_ROWS = 250_000  # installations in facilities.csv: make-registry writes no more
FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class Field:
    """One input value: a scenario setting or a table column."""

    name: str
    kind: str  # "str", "int", "float" or "bool"
    unit: str
    description: str
    default: Any = REQUIRED  # None: may be left blank (the description says what blank means)
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expected(self, with_unit: bool = True) -> str:
        """What a valid value looks like, in words, for error messages."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = {
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "str": "text",
        }[self.kind]
        if self.minimum is not None and self.maximum is not None:
            noun += f" from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        elif self.minimum is not None:
            noun += f" of at least {_fmt(self.minimum)}"
        elif self.maximum is not None:
            noun += f" of at most {_fmt(self.maximum)}"
        if with_unit and self.unit and self.kind in ("int", "float") and self.unit != "year":
            noun += f" ({self.unit})"
        return noun

    def convert(self, raw: Any) -> Any:
        """One value from TOML or the command line, in this field's type and range.

        Raises ValueError (with the expectation in words) if it does not fit.
        """
        if isinstance(raw, str):
            parsed, bad = self.parse_column(pd.Series([raw], dtype=object))
            if bad[0]:
                raise ValueError(self.expected())
            value = parsed.iloc[0]
            return None if pd.isna(value) else value
        if raw is None:
            if self.required:
                raise ValueError(self.expected())
            return self.default
        ok = {
            "str": False,  # text arrives as str above
            "bool": isinstance(raw, bool),
            "int": isinstance(raw, int) and not isinstance(raw, bool),
            "float": isinstance(raw, (int, float)) and not isinstance(raw, bool),
        }[self.kind]
        if not ok or (self.kind in ("int", "float") and not _finite(raw)):
            raise ValueError(self.expected())
        if self._scalar_out_of_range(raw):
            raise ValueError(self.expected())
        return float(raw) if self.kind == "float" else raw

    def _scalar_out_of_range(self, raw: Any) -> bool:
        """``out_of_range`` of one given value (a study converts one per scenario and key)."""
        if self.choices:
            return bool(self.out_of_range(pd.Series([raw]))[0])
        if self.kind not in ("int", "float"):
            return False
        number = float(raw)
        return ((self.minimum is not None and number < self.minimum)
                or (self.maximum is not None and number > self.maximum))

    def parse_column(self, raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
        """Parse a column of text cells; returns typed values and a mask of bad cells.

        Blank cells take the default; a blank required cell is bad. The masks are numpy
        arrays (pandas only strips, lowers and reads numbers): a dataset's small tables
        were dominated by pandas' per-call overhead.
        """
        text = stripped_text(raw)
        blank = text == ""
        default = None if self.required else self.default
        numbers: np.ndarray | None = None  # the values as floats (numeric kinds)
        if self.kind in ("str", "bool"):
            if self.kind == "str":
                values = text.copy()
                bad = np.zeros(len(text), dtype=bool)
            else:
                lower = pd.Series(text, dtype=object).str.lower()
                true = lower.isin(_TRUE).to_numpy()
                bad = ~(true | lower.isin(_FALSE).to_numpy()) & ~blank
                values = true.astype(object)
            values[blank] = np.nan if default is None else default
        else:
            cells = np.where(blank, np.array(None, dtype=object), text)  # blank cells are not numbers
            numbers = np.asarray(pd.to_numeric(cells, errors="coerce"), dtype=float)
            bad = ~np.isfinite(numbers) & ~blank
            if self.kind == "int":
                finite = np.where(bad | blank, 0.0, numbers)
                bad |= ~blank & ~bad & (finite % 1 != 0)
                bad |= ~blank & ~bad & (np.abs(finite) > MAX_WHOLE_NUMBER)
            numbers = np.where(bad, np.nan, numbers)  # a bad cell is blank to later steps
            if default is not None:
                numbers = np.where(blank, float(default), numbers)
            else:
                numbers = np.where(blank, np.nan, numbers)
        bad = bad | (blank & self.required)
        if self.kind == "int":
            assert numbers is not None
            typed = pd.Series(pd.array(np.round(numbers), dtype="Int64"), index=raw.index, name=raw.name)
        elif self.kind == "float":
            typed = pd.Series(numbers, index=raw.index, name=raw.name, dtype=float)
        else:
            typed = pd.Series(values, index=raw.index, name=raw.name, dtype=object)
        outside = (self.out_of_range(typed) if self.choices and numbers is not None
                   else self._outside(values if numbers is None else None, numbers))
        return typed, bad | (~bad & outside)

    def _outside(self, values: np.ndarray | None, numbers: np.ndarray | None) -> np.ndarray:
        """``out_of_range`` on the arrays ``parse_column`` holds: text or flags (``values``,
        blank as nan) or the numbers (blank as nan)."""
        if numbers is not None:
            outside = np.zeros(len(numbers), dtype=bool)
            if self.minimum is not None:
                outside |= numbers < self.minimum
            if self.maximum is not None:
                outside |= numbers > self.maximum
            return outside  # nan (blank) compares False
        assert values is not None
        if not self.choices:
            return np.zeros(len(values), dtype=bool)
        given = pd.notna(values)
        return given & ~pd.Series(values, dtype=object).isin(self.choices).to_numpy()

    def out_of_range(self, values: pd.Series) -> np.ndarray:
        """Mask of non-blank values outside the allowed range or choices."""
        given = values.notna().to_numpy()
        if self.choices:
            return given & ~values.isin(self.choices).to_numpy()
        if self.kind not in ("int", "float"):
            return np.zeros(len(values), dtype=bool)
        numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
        outside = np.zeros(len(values), dtype=bool)
        if self.minimum is not None:
            outside |= numbers < self.minimum
        if self.maximum is not None:
            outside |= numbers > self.maximum
        return given & outside


def _finite(number: int | float) -> bool:
    """False for nan, inf and integers too large for a float (TOML allows all three)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _fmt(x: float) -> str:
    if abs(x) >= 1e9 and float(x).is_integer() and float(f"{x:.0e}") == x:
        return f"{x:.0e}".replace("e+", "e")  # 1e15, not sixteen digits (when exact)
    return str(int(x)) if float(x).is_integer() else str(x)


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def year_field(name: str, description: str, default: Any = REQUIRED) -> Field:
    return Field(name, "int", "year", description, default, FIRST_YEAR, LAST_YEAR)


def share_field(name: str, description: str, default: Any = REQUIRED) -> Field:
    return Field(name, "float", "fraction", description, default, 0.0, 1.0)


SOURCE_COLUMN = Field(
    "source", "str", "", "Where the row's figures come from, or 'estimate: ...'.", ""
)


@dataclass(frozen=True)
class TableSpec:
    """One CSV file of a dataset: its key columns and every column's declaration."""

    file: str
    description: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    required: bool = True
    max_rows: int = 10_000  # more data rows are refused (a runaway file, not a dataset)
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


# -- scenario.toml -------------------------------------------------------------------

SCENARIO_FILE = "scenario.toml"

SCENARIO_FIELDS: tuple[Field, ...] = (
    Field("name", "str", "", "Short name of the scenario; names the default results folder."),
    Field("description", "str", "", "One line on what the scenario represents.", ""),
    year_field("base_year", "Year of the base emissions and output in sectors.csv."),
    year_field("first_year", "First year of the modelled horizon (discounting starts here)."),
    year_field("last_year", "Last year of the modelled horizon."),
    Field(
        "discount_rate",
        "float",
        "fraction per year",
        "Discounts costs to first_year; with banking, prices rise at this rate.",
        REQUIRED,
        0.0,
        0.5,
    ),
    Field(
        "market.banking",
        "bool",
        "",
        "Whether allowances may be banked for later years (borrowing: market.borrowing_limit_share).",
        False,
    ),
    Field(
        "market.initial_bank_mt",
        "float",
        "Mt CO2",
        "Allowances banked before first_year, for the sectors trading in first_year; without banking they "
        "must be used in first_year, so at most those sectors' BAU emissions then.",
        0.0,
        0.0,
        1e6,
    ),
    share_field(
        "market.offset_limit_share",
        "Offsets (offsets.csv) a trading sector surrenders are at most this share of its verified "
        "(modelled) emissions, unless sectors.csv gives its own offset_limit_share.",
        0.0,
    ),
    Field(
        "market.reserve.initial_mt",
        "float",
        "Mt CO2",
        "Allowances the reserve (reserve.csv) holds for the whole horizon; blank: only its yearly "
        "volumes limit it.",
        None,
        0.0,
        1e6,
    ),
    Field(
        "market.reserve.counts_in_national_target",
        "bool",
        "",
        "Whether allowances released from the reserve count as issued under the national target; false: "
        "the national count may exceed the national cap by them (reported as national_overshoot_mt).",
        True,
    ),
    Field(
        "market.bank_limit_mt",
        "float",
        "Mt CO2",
        "With banking, the most the whole market may bank at each year end; what it cannot bank "
        "is cancelled (years.csv cancelled_mt). Blank: no limit.",
        None,
        0.0,
        1e6,
    ),
    Field(
        "market.supply_adjustment.upper_mt",
        "float",
        "Mt CO2",
        "Supply adjustment on the bank (the EU MSR's shape; needs banking): when the market's bank at the "
        "end of year t-1 is above this, intake_rate x that bank is withheld from year t's supply into the "
        "adjustment reserve (years.csv adjustment_intake_mt). Blank (all five keys): no adjustment.",
        None,
        0.0,
        1e6,
    ),
    Field(
        "market.supply_adjustment.lower_mt",
        "float",
        "Mt CO2",
        "Supply adjustment: when the bank at the end of year t-1 is below this (and below upper_mt), "
        "release_mt (at most what the reserve holds) is added to year t's supply (adjustment_release_mt).",
        None,
        0.0,
        1e6,
    ),
    share_field(
        "market.supply_adjustment.intake_rate",
        "Supply adjustment: the share of the bank withheld in a year after the bank was above upper_mt.",
        None,
    ),
    Field(
        "market.supply_adjustment.release_mt",
        "float",
        "Mt CO2",
        "Supply adjustment: allowances released from the reserve in a year after the bank was below lower_mt.",
        None,
        0.0,
        1e6,
    ),
    year_field("market.supply_adjustment.first_year",
               "Supply adjustment: the first year whose supply the rule adjusts (from the bank at the end of the "
               "year before; the reserve starts empty).", None),
    Field(
        "market.supply_adjustment.invalidate_above_mt",
        "float",
        "Mt CO2",
        "Supply adjustment: the reserve above this at a year end is invalidated (adjustment_invalidated_mt). "
        "Blank: never.",
        None,
        0.0,
        1e6,
    ),
    share_field(
        "market.borrowing_limit_share",
        "Up to this share of a year's obligation (the trading sectors' emissions) may be met with "
        "the next year's allowances, repaid from them (years.csv borrowed_mt); 0: no borrowing.",
        0.0,
    ),
    Field(
        "market.unsold_to",
        "str",
        "",
        "Where auctioned allowances unsold at a price floor (targets.csv price_floor_cny_per_t) go: cancel "
        "(they leave the market) or reserve (into reserve.csv's reserve; for now one without a pool, "
        "market.reserve.initial_mt blank).",
        "cancel",
        choices=("cancel", "reserve"),
    ),
    Field(
        "allocation.objective",
        "str",
        "",
        "Stage-2 rule for sector caps and free allocation.",
        "min_max_burden",
        choices=("min_max_burden", "max_auction_revenue"),
    ),
    Field(
        "allocation.cost_tolerance",
        "float",
        "fraction",
        "Stage 2 may raise the stage-1 abatement cost by at most this share.",
        0.0,
        0.0,
        1.0,
    ),
    year_field(
        "allocation.absolute_cap_from",
        "From this year sector caps may not rise year on year; blank: never.",
        None,
    ),
    Field(
        "targets.scope",
        "str",
        "",
        "What the national targets of targets.csv count: 'co2', the model's CO2; 'net_ghg', economy-wide "
        "net GHG = the model's CO2 + non_co2_mt - sinks_mt (targets.csv, exogenous).",
        "co2",
        choices=("co2", "net_ghg"),
    ),
    Field(
        "allocation.max_burden_share",
        "float",
        "fraction",
        "With max_auction_revenue: the largest compliance burden as a share of value added, "
        "in years where targets.csv does not give one.",
        0.05,
        0.0,
        10.0,
    ),
    Field(
        "solver.presolve",
        "str",
        "",
        "HiGHS presolve; 'choose': off for LPs of 5,000 to 200,000 columns (far faster on this "
        "tool's few-row LPs of that size), HiGHS's choice otherwise.",
        "choose",
        choices=("choose", "on", "off"),
    ),
    Field(
        "solver.method",
        "str",
        "",
        "HiGHS LP algorithm (HiGHS option 'solver').",
        "choose",
        choices=("choose", "simplex", "ipm", "pdlp"),
    ),
    Field("solver.threads", "int", "", "HiGHS threads; 0: HiGHS decides.", 0, 0, 1024),
    Field(
        "solver.time_limit_s",
        "float",
        "seconds",
        "Stop HiGHS after this long; blank: no limit.",
        None,
        0.0,
        1e7,
    ),
    Field(
        "model.resolution",
        "str",
        "",
        "'sector': abatement by sector; 'facility': abatement by installation for the sectors "
        "in facilities.csv, each meeting its own cap in the simulation phase.",
        "sector",
        choices=("sector", "facility"),
    ),
    Field(
        "model.pool_installations",
        "bool",
        "",
        "At facility resolution, merge the steps of installations that face no constraint of "
        "their own (outside the ETS or trading) when they share sector, step and cost: the same "
        "optimum from a far smaller LP.",
        True,
    ),
)
SCENARIO = {f.name: f for f in SCENARIO_FIELDS}

# -- CSV tables ----------------------------------------------------------------------

SECTORS = TableSpec(
    "sectors.csv",
    "One row per sector, ETS-covered or not; together they make up national emissions.",
    ("sector",),
    (
        Field("sector", "str", "", "Sector name (letters, digits, underscore)."),
        year_field(
            "covered_from",
            "First year the ETS covers the sector; blank: never (e.g. the rest of the economy).",
            None,
        ),
        year_field(
            "trading_from",
            "First year of real trading; before it, from covered_from, the sector is in its "
            "simulation phase and meets its own rule cap. Blank: same as covered_from.",
            None,
        ),
        Field(
            "base_emissions_mt", "float", "Mt CO2", "Emissions in base_year.", REQUIRED, 0.0, 1e5
        ),
        Field("base_output", "float", "output_unit",
              "Physical output in base_year (implied benchmarks divide by it); blank: not reported.",
              None, 1e-6, 1e15),
        Field("output_unit", "str", "", "Unit of base_output (e.g. TWh, Mt crude steel).", ""),
        Field(
            "output_growth",
            "float",
            "fraction per year",
            "Business-as-usual growth of physical output.",
            0.0,
            -0.5,
            1.0,
        ),
        Field(
            "intensity_change",
            "float",
            "fraction per year",
            "Business-as-usual change of emissions per unit of output (usually negative).",
            0.0,
            -0.5,
            1.0,
        ),
        Field(
            "value_added_bn_cny",
            "float",
            "billion CNY",
            "Value added of the sector in base_year, growing with output; compliance burden is reported as a share "
            "of it, so a sector the ETS covers needs at least 0.001.",
            REQUIRED,
            0.0,
            1e7,
        ),
        share_field(
            "free_share_min", "Smallest share of the sector cap allocated free.", 0.0
        ),
        share_field("free_share_max", "Largest share of the sector cap allocated free.", 1.0),
        Field(
            "leakage_exposed",
            "bool",
            "",
            "Exposed to carbon leakage: keeps at least free_share_min in every year.",
            False,
        ),
        share_field(
            "simulation_reduction",
            "In the simulation phase the sector must cut this share of its BAU emissions "
            "on its own (rule cap = (1 - share) x BAU).",
            0.0,
        ),
        Field(
            "bank_limit_base_mt",
            "float",
            "Mt CO2",
            "With banking, a trading sector's bank at a year end is at most this plus "
            "bank_limit_sales_factor x its net sales of allowances that year; what it cannot bank "
            "is cancelled. Blank: the sector's bank has no limit of its own.",
            None,
            0.0,
            1e6,
        ),
        Field(
            "bank_limit_sales_factor",
            "float",
            "t banked per t sold",
            "See bank_limit_base_mt: the bank allowed per tonne of net sales (a net buyer may bank "
            "the base only). Blank: 0.",
            None,
            0.0,
            100.0,
        ),
        Field(
            "intra_sector_sales_mt",
            "float",
            "Mt CO2 per year",
            "With bank_limit_base_mt and bank_limit_sales_factor: allowances the sector's own entities "
            "sell to one another each year, which the sector's net sales hide; each earns its seller "
            "bank room, so the sector's limit is base + factor x (these sales + its net sales to other "
            "sectors, if positive). Blank: 0.",
            None,
            0.0,
            1e5,
        ),
        Field(
            "entities",
            "int",
            "count",
            "Installations the ETS covers in the sector; used only by the synthetic registry "
            "generator (run.py make-registry). Blank: none generated.",
            None,
            0,
            1e6,
        ),
        share_field(
            "offset_limit_share",
            "While trading, the sector surrenders offsets for at most this share of its verified "
            "emissions; blank: the scenario's market.offset_limit_share.",
            None,
        ),
        SOURCE_COLUMN,
    ),
)

MAC = TableSpec(
    "mac.csv",
    "Marginal abatement cost steps: each row is one block of abatement at one cost.",
    ("sector", "step"),
    (
        Field("sector", "str", "", "A sector of sectors.csv."),
        Field("step", "str", "", "Name of the step, unique within the sector."),
        share_field(
            "potential_share", "Abatement available in the step, as a share of BAU emissions."
        ),
        Field(
            "cost_cny_per_t",
            "float",
            "CNY per t CO2",
            "Cost of abating one tonne in the step, in base_year money.",
            REQUIRED,
            0.0,
            1e5,
        ),
        year_field("available_from", "First year the step can be used; blank: always.", None),
        Field(
            "cost_change",
            "float",
            "fraction per year",
            "Yearly change of the step's cost from base_year (learning if negative).",
            0.0,
            -0.5,
            0.5,
        ),
        Field(
            "max_build_mt_per_year",
            "float",
            "Mt CO2 per year",
            "Deployment limit: the step's abatement may grow by at most this much from one year to "
            "the next (from 0 in base_year, where BAU is what happened); blank: no limit.",
            None,
            0.0,
            1e6,
        ),
        Field("group", "str", "",
              "Deployment group of the step (e.g. ccus): deployment_limits.csv bounds the group's total "
              "abatement by year; blank: none.", ""),
        SOURCE_COLUMN,
    ),
)

TARGETS = TableSpec(
    "targets.csv",
    "National targets by year; years between rows are interpolated linearly.",
    ("year",),
    (
        year_field("year", "Target year."),
        Field(
            "national_cap_mt",
            "float",
            "Mt CO2",
            "National emission cap (in [targets] scope): allowances issued plus emissions of sectors outside the "
            "ETS (plus non_co2_mt minus sinks_mt for net_ghg). Blank: none in this year (give "
            "national_intensity_t_per_10k_cny instead); with both, both bind.",
            None,
            0.0,
            1e6,
        ),
        Field(
            "national_intensity_t_per_10k_cny",
            "float",
            "t CO2 per 10,000 CNY",
            "National intensity target (in [targets] scope) per unit of GDP: the cap is this x gdp_bn_cny / 10 "
            "(Mt). Blank: none in this year.",
            None,
            0.0,
            1e3,
        ),
        Field(
            "gdp_bn_cny",
            "float",
            "billion CNY",
            "GDP of the year, for the intensity target (a study drawing it moves the cap).",
            None,
            0.0,
            1e8,
        ),
        Field(
            "non_co2_mt",
            "float",
            "Mt CO2e",
            "With [targets] scope = 'net_ghg': exogenous non-CO2 emissions counted against the target.",
            0.0,
            0.0,
            1e6,
        ),
        Field(
            "sinks_mt",
            "float",
            "Mt CO2e",
            "With [targets] scope = 'net_ghg': removals by sinks (land use, forests) netted from the count.",
            0.0,
            0.0,
            1e6,
        ),
        Field(
            "ets_cap_mt",
            "float",
            "Mt CO2",
            "Allowances issued, fixed in this year and between two rows that both give it; "
            "elsewhere (blank) chosen by the model.",
            None,
            0.0,
            1e6,
        ),
        share_field(
            "min_auction_share", "Smallest share of the ETS cap that is auctioned.", 0.0
        ),
        share_field(
            "max_auction_share",
            "Largest share of the ETS cap that is auctioned (stage 2 never auctions more); "
            "blank: the year's min_auction_share, i.e. exactly what policy auctions.",
            None,
        ),
        Field(
            "max_burden_share",
            "float",
            "fraction",
            "With objective max_auction_revenue: the largest compliance burden as a share of value "
            "added in the year; blank: allocation.max_burden_share.",
            None,
            0.0,
            10.0,
        ),
        Field(
            "price_ceiling_cny_per_t",
            "float",
            "CNY per t CO2",
            "Allowances are sold without limit at this price (year-t money), so the allowance price never "
            "exceeds it; the sales are not counted under the national target (national_overshoot_mt says by "
            "how much it is exceeded). Interpolated between two rows that both give it; blank: no ceiling.",
            None,
            0.0,
            1e5,
        ),
        Field(
            "price_floor_cny_per_t",
            "float",
            "CNY per t CO2",
            "Auctioned allowances go unsold (withdrawn_mt) rather than sell below this price (year-t money), so "
            "the allowance price is at least the floor while the year's auctioned volume (min_auction_share x "
            "the ETS cap) lasts (below_floor: it ran out). Interpolated between two rows that both give it; "
            "blank: no floor.",
            None,
            0.0,
            1e5,
        ),
        SOURCE_COLUMN,
    ),
)

ALLOCATION = TableSpec(
    "allocation.csv",
    "Optional free-share bounds by sector and year (e.g. a phase-out schedule); from a sector's "
    "first row on they replace sectors.csv's bounds: interpolated between its rows and held at "
    "its last row's values after it (a phase-out stays out). Before its first row sectors.csv's "
    "bounds apply. A leakage-exposed sector never goes below its sectors.csv floor.",
    ("sector", "year"),
    (
        Field("sector", "str", "", "A sector of sectors.csv."),
        year_field("year", "Year the bounds apply to."),
        share_field("free_share_min", "Smallest share of the sector cap allocated free."),
        share_field("free_share_max", "Largest share of the sector cap allocated free."),
        SOURCE_COLUMN,
    ),
    required=False,
)

CAP_RULES = TableSpec(
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

BENCHMARKS = TableSpec(
    "benchmarks.csv",
    "Optional allocation benchmarks by sector and unit type: a facility's share of its "
    "sector's free allocation is benchmark x output.",
    ("sector", "unit_type"),
    (
        Field("sector", "str", "", "A sector of sectors.csv."),
        Field("unit_type", "str", "", "A unit type used in facilities.csv."),
        Field(
            "benchmark_t_per_unit",
            "float",
            "t CO2 per unit of output",
            "Free allowances per unit of output (e.g. t CO2 per MWh).",
            REQUIRED,
            0.0,
            1e4,
        ),
        share_field(
            "shortfall_cap_share",
            "Compliance relief for this unit type (trading): the shortfall an installation must cover is "
            "at most this share of its verified emissions (China's power plan: 0.2 for coal units); "
            "facilities.csv may give its own. Blank: no cap.",
            None,
        ),
        Field(
            "obligation_capped_at_allocation",
            "bool",
            "",
            "Compliance relief for this unit type (trading): it surrenders at most its free allocation "
            "(China's power plan: gas units); facilities.csv may give its own. Blank: false.",
            None,
        ),
        share_field(
            "output_share",
            "Share of the sector's output made by this unit type; used only by the synthetic "
            "registry generator (run.py make-registry). Blank: equal shares.",
            None,
        ),
        SOURCE_COLUMN,
    ),
    required=False,
)

FACILITIES = TableSpec(
    "facilities.csv",
    "Optional registry of installations, in base_year; the sector's emissions and free "
    "allocation are shared among its facilities. May be given as facilities.parquet instead "
    "(the same columns; its records are numbered as CSV rows, the first is row 2), e.g. for a large registry: "
    "read by pyarrow column by column (numbers as numbers, text by its distinct values), with the same checks. "
    "Its text columns are read as categoricals (a code per row, each name once).",
    ("facility_id",),
    (
        Field("facility_id", "str", "", "Unique identifier of the installation."),
        Field("sector", "str", "", "A sector of sectors.csv."),
        Field("output", "float", "sector output_unit",
              "Output in base_year; blank: free allocation is shared by emissions (grandfathering).",
              None, 0.0, 1e7),
        Field("emissions_mt", "float", "Mt CO2", "Emissions in base_year.", REQUIRED, 0.0, 1e5),
        Field("region", "str", "", "Province or region (for reporting).", ""),
        Field("unit_type", "str", "", "Type of unit, matched to benchmarks.csv.", ""),
        Field(
            "cost_factor",
            "float",
            "",
            "At facility resolution, the installation's abatement costs are its sector's step "
            "costs times this factor (unless facility_mac.csv gives its own steps).",
            1.0,
            0.0,
            100.0,
        ),
        share_field(
            "shortfall_cap_share",
            "Compliance relief (trading): the shortfall the installation must cover is at most this share "
            "of its verified emissions; blank: its unit type's (benchmarks.csv), else no cap.",
            None,
        ),
        Field(
            "obligation_capped_at_allocation",
            "bool",
            "",
            "Compliance relief (trading): it surrenders at most its free allocation; blank: its unit type's "
            "(benchmarks.csv), else false.",
            None,
        ),
        SOURCE_COLUMN,
    ),
    required=False,
    max_rows=REGISTRY_MAX_ROWS,
)

FACILITY_MAC = TableSpec(
    "facility_mac.csv",
    "Optional abatement steps of individual installations (facility resolution); an "
    "installation listed here uses these steps instead of its sector's.",
    ("facility_id", "step"),
    (
        Field("facility_id", "str", "", "An installation of facilities.csv."),
        Field("step", "str", "", "Name of the step, unique within the installation."),
        share_field("potential_share", "Abatement available in the step, as a share of the installation's BAU."),
        Field("cost_cny_per_t", "float", "CNY per t CO2", "Cost of abating one tonne, in base_year money.",
              REQUIRED, 0.0, 1e5),
        year_field("available_from", "First year the step can be used; blank: always.", None),
        Field("cost_change", "float", "fraction per year", "Yearly change of the step's cost from base_year.",
              0.0, -0.5, 0.5),
        SOURCE_COLUMN,
    ),
    required=False,
    max_rows=200_000,
)

BAU = TableSpec(
    "bau.csv",
    "Optional business-as-usual path by sector and year (e.g. from a published current-policy "
    "trajectory), used instead of sectors.csv's constant growth for the sectors it lists: "
    "interpolated linearly between a sector's rows and held at its first and last row's values "
    "outside them. A sector without rows keeps its growth rates; value added keeps growing at "
    "output_growth.",
    ("sector", "year"),
    (
        Field("sector", "str", "", "A sector of sectors.csv."),
        year_field("year", "Year of the BAU figures."),
        Field("bau_mt", "float", "Mt CO2", "BAU emissions of the sector in the year.", REQUIRED, 0.0, 1e6),
        Field("output", "float", "sector output_unit",
              "BAU output in the year; blank: sectors.csv's base_output grown at output_growth.",
              None, 0.0, 1e7),
        SOURCE_COLUMN,
    ),
    required=False,
)

DEPLOYMENT_LIMITS = TableSpec(
    "deployment_limits.csv",
    "Optional deployment limits by group of mac.csv steps (its group column) and year: the "
    "group's total abatement, its steps summed over sectors (and installations), is at most "
    "max_mt; interpolated linearly between a group's rows and held at its first and last "
    "row's values outside them.",
    ("group", "year"),
    (
        Field("group", "str", "", "A group named in mac.csv's group column."),
        year_field("year", "Year of the limit."),
        Field("max_mt", "float", "Mt CO2", "Most abatement the group's steps may give in the year.",
              REQUIRED, 0.0, 1e6),
        SOURCE_COLUMN,
    ),
    required=False,
)
OFFSETS = TableSpec(
    "offsets.csv",
    "Optional offset supply (e.g. CCER credits) by origin, step and year, surrendered by the trading sectors "
    "within their offset limit (market.offset_limit_share). Potential and cost are interpolated between an "
    "(origin, step)'s rows and held after its last row; none before its first. An origin that is a sector of "
    "sectors.csv must be outside the ETS: its offsets are its own abatement (its emissions fall; none from the "
    "year the ETS covers it). Any other origin is a named source: the ETS emits more by its offsets and no "
    "modelled sector emits less. A removal (removal = true: forestry, mangroves) is then an extra sink: under "
    "[targets] scope = 'net_ghg' it adds to the net count's sinks, so the national count is unchanged; under "
    "scope = 'co2' it is outside the CO2 count, and the national count may exceed the national cap by it. A "
    "named source that is not a removal (removal = false: e.g. offshore wind whose reduction the BAU already "
    "holds) lets the national count exceed the national cap by it in both scopes (offsets_overshoot_mt, in "
    "national_overshoot_mt).",
    ("origin", "step", "year"),
    (
        year_field("year", "Year of the figures."),
        Field("origin", "str", "", "A sector of sectors.csv outside the ETS, or a named source such as forestry."),
        Field("step", "str", "", "Name of the supply step, unique within the origin and year."),
        Field("potential_mt", "float", "Mt CO2", "Offsets the step can supply in the year.", REQUIRED, 0.0, 1e5),
        Field("cost_cny_per_t", "float", "CNY per t CO2", "Cost of one offset of the step, in year-t money.",
              REQUIRED, 0.0, 1e5),
        Field("removal", "bool", "", "The offset is a removal by a sink (forestry, mangroves), counted as an "
              "extra sink under scope 'net_ghg'; false: a reduction outside the modelled sectors' count. Blank: "
              "true for a named origin, false (the only value allowed) for a sector of sectors.csv.", None),
        SOURCE_COLUMN,
    ),
    required=False,
)

RESERVE = TableSpec(
    "reserve.csv",
    "Optional allowance reserve released at trigger prices: from a tier's row's year until its next row, "
    "up to volume_mt a year are sold to the market at the trigger price (a supply step), within the pool "
    "market.reserve.initial_mt.",
    ("tier", "year"),
    (
        year_field("year", "First year of the tier's trigger and volume."),
        Field("tier", "str", "", "Name of the tier (e.g. 1, 2)."),
        Field("trigger_price_cny_per_t", "float", "CNY per t CO2",
              "Allowance price (year-t money) at which the tier's allowances are sold.", REQUIRED, 0.0, 1e5),
        Field("volume_mt", "float", "Mt CO2", "Allowances the tier offers in each year.", REQUIRED, 0.0, 1e5),
        SOURCE_COLUMN,
    ),
    required=False,
)

TABLES: tuple[TableSpec, ...] = (SECTORS, MAC, TARGETS, ALLOCATION, BENCHMARKS, FACILITIES, FACILITY_MAC, BAU,
                                 CAP_RULES, DEPLOYMENT_LIMITS, OFFSETS, RESERVE)
TABLES_BY_NAME = {t.file.removesuffix(".csv"): t for t in TABLES}


def markdown() -> str:
    """The input reference as Markdown tables (kept in the README; a test checks it)."""
    lines = [f"#### `{SCENARIO_FILE}`", "", "| key | type | unit | default | allowed | meaning |"]
    lines.append("|---|---|---|---|---|---|")
    for f in SCENARIO_FIELDS:
        lines.append(_markdown_row(f))
    for table in TABLES:
        lines += ["", f"#### `{table.file}` (one row per {', '.join(table.key)})", ""]
        lines += [table.description, ""]
        lines += ["| column | type | unit | default | allowed | meaning |", "|---|---|---|---|---|---|"]
        lines += [_markdown_row(f) for f in table.fields]
    return "\n".join(lines) + "\n"


def with_section(document: str, name: str, text: str) -> str:
    """``document`` with the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` replaced."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    start, stop = document.index(begin) + len(begin), document.index(end)
    return document[:start] + "\n" + text + document[stop:]


def with_reference(document: str) -> str:
    """``document`` with the README's input reference replaced by ``markdown()``."""
    return with_section(document, "inputs", markdown())


def _markdown_row(f: Field) -> str:
    if f.required:
        default = "required"
    elif f.default is None:
        default = "blank"
    elif f.default == "":
        default = "''"
    else:
        default = str(f.default).lower() if f.kind == "bool" else _fmt_any(f.default)
    allowed = f.expected(with_unit=False)
    return f"| `{f.name}` | {f.kind} | {f.unit} | {default} | {allowed} | {f.description} |"


def _fmt_any(x: Any) -> str:
    return _fmt(x) if isinstance(x, (int, float)) else str(x)


def stripped_text(raw: pd.Series) -> np.ndarray:
    """A column's cells as stripped text (an object array of str). Cells that are all text (a
    CSV's) are stripped by numpy: pandas' text dtype (pyarrow) cost a conversion per column,
    the largest part of reading a dataset's small tables. Other cells go through pandas as before."""
    cells = raw.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(cells, skipna=False) == "string":
        return np.strings.strip(cells.astype(np.str_)).astype(object)
    return raw.astype(str).str.strip().to_numpy(dtype=object)
