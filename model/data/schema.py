"""Every input, declared once: name, type, unit, default, allowed range, meaning.

Validation (``inputs.py``), ``--set`` overrides (``overrides.py``) and the input
reference in the README (``run.py inputs``) are all driven from these declarations.
The core inputs (horizon, sectors, abatement steps, national targets, allocation,
installations) are declared here; a policy rule's own inputs are declared in its family
file (``INPUTS = fields.Inputs(...)``, given to its ``Family`` as ``inputs``) and gathered
here (``rule_inputs``: ``RULE_INPUT_MODULES``, then the other families in ``FAMILIES``).
The declaration types (``Field``, ``TableSpec``, ``Inputs``) are in ``fields.py``.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import Any, Sequence

from .fields import (FIRST_YEAR, LAST_YEAR, MAX_WHOLE_NUMBER, REQUIRED, SOURCE_COLUMN, DatasetCheck, Field, Inputs,
                     TableSpec, _fmt, share_field, stripped_text, year_field)

__all__ = ["FIRST_YEAR", "LAST_YEAR", "MAX_WHOLE_NUMBER", "REQUIRED", "SOURCE_COLUMN", "DatasetCheck", "Field",
           "Inputs", "TableSpec", "share_field", "stripped_text", "year_field"]

REGISTRY_MAX_ROWS = 250_000  # installations in facilities.csv: make-registry writes no more


# -- scenario.toml -------------------------------------------------------------------

SCENARIO_FILE = "scenario.toml"

CORE_SCENARIO_FIELDS: tuple[Field, ...] = (
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
            "entities",
            "int",
            "count",
            "Installations the ETS covers in the sector; used only by the synthetic registry "
            "generator (run.py make-registry). Blank: none generated.",
            None,
            0,
            1e6,
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



CORE_TABLES: tuple[TableSpec, ...] = (SECTORS, MAC, TARGETS, ALLOCATION, BENCHMARKS, FACILITIES, FACILITY_MAC, BAU)

# -- the rules' own inputs -------------------------------------------------------------

# The family modules (model/families/<name>.py) whose ``INPUTS`` are gathered first, in the
# order their fields are listed (the input reference, the workbook's sheets and columns); the
# inputs of any other family in ``FAMILIES`` (``Family.inputs``) follow in the list's order, so
# a new rule's inputs need no line here
RULE_INPUT_MODULES: list[str] = [
    "grandfathered_allocation", "deployment_limits", "bank", "offsets", "reserve", "bank_limits",
    "supply_adjustment", "borrowing", "price_ceiling", "price_floor", "absolute_cap_incumbents",
]
RULE_SETTINGS_AFTER = "discount_rate"  # a rule's scenario keys follow the horizon and discounting by default


def rule_inputs(modules: Sequence[str] | None = None) -> list[tuple[str, Inputs]]:
    """Each rule's ``INPUTS`` (its module's or family's name, the declaration): those of
    ``modules`` (default ``RULE_INPUT_MODULES``), then those of the other families in
    ``model.families.FAMILIES``. Imports only the families (which never import this module)."""
    chosen = RULE_INPUT_MODULES if modules is None else modules
    declared = [(name, importlib.import_module(name if "." in name else f"model.families.{name}").INPUTS)
                for name in chosen]
    seen = {id(inputs) for _, inputs in declared}
    for family in importlib.import_module("model.families").FAMILIES:
        inputs = family.inputs
        if id(inputs) not in seen and (inputs.scenario or inputs.columns or inputs.tables or inputs.checks):
            declared.append((family.name, inputs))
            seen.add(id(inputs))
    return declared


def _placed(file: str, core: tuple[Field, ...], added: list[tuple[str, tuple[Field, ...]]],
            default_after: str) -> tuple[Field, ...]:
    """``core`` with each rule's fields after the field it names (in the rules' order after
    the same field); a name declared twice is a programming error."""
    fields = list(core)
    last_after: dict[str, str] = {}  # the field a rule's fields follow -> the last placed after it
    for after, group in added:
        names = [f.name for f in fields]
        anchor = last_after.get(after, after)
        if anchor not in names:
            raise ValueError(f"{file}: a rule's fields are placed after {after!r}, which {file} does not declare")
        taken = sorted({f.name for f in group} & set(names))
        if taken:
            raise ValueError(f"{file}: {', '.join(taken)} declared twice")
        position = names.index(anchor) + 1
        fields[position:position] = group
        last_after[after] = group[-1].name
    return tuple(fields)


def _default_after(table: TableSpec) -> str:
    """A rule's columns go last, before the table's source column."""
    names = [f.name for f in table.fields if f is not SOURCE_COLUMN]
    return names[-1]


def gathered(modules: Sequence[str] | None = None) -> tuple[tuple[Field, ...], tuple[TableSpec, ...],
                                                            tuple[DatasetCheck, ...]]:
    """The scenario keys, tables and cross-file checks of the core inputs and of the rules of
    ``modules`` (default ``RULE_INPUT_MODULES``)."""
    declared = [inputs for _, inputs in rule_inputs(modules)]
    scenario = _placed(SCENARIO_FILE, CORE_SCENARIO_FIELDS,
                       [(i.after.get(SCENARIO_FILE, RULE_SETTINGS_AFTER), i.scenario) for i in declared if i.scenario],
                       RULE_SETTINGS_AFTER)
    tables = []
    for table in (*CORE_TABLES, *(t for i in declared for t in i.tables)):
        added = [(i.after.get(table.file, _default_after(table)), i.columns[table.file]) for i in declared
                 if i.columns.get(table.file)]
        tables.append(replace(table, fields=_placed(table.file, table.fields, added, _default_after(table)))
                      if added else table)
    known = {t.file for t in tables}
    unknown = sorted({file for i in declared for file in i.columns} - known)
    if unknown:
        raise ValueError(f"a rule adds columns to {', '.join(unknown)}, which no table declares")
    return scenario, tuple(tables), tuple(check for i in declared for check in i.checks)


SCENARIO_FIELDS: tuple[Field, ...]
SCENARIO: dict[str, Field]
TABLES: tuple[TableSpec, ...]
TABLES_BY_NAME: dict[str, TableSpec]
DATASET_CHECKS: tuple[DatasetCheck, ...]  # the rules' checks across files (run by inputs.check_dataset)
CAP_RULES: TableSpec
DEPLOYMENT_LIMITS: TableSpec
OFFSETS: TableSpec
RESERVE: TableSpec


def gather(modules: Sequence[str] | None = None) -> None:
    """Set this module's scenario keys and tables (``SCENARIO_FIELDS``, ``SCENARIO``, ``TABLES``,
    ``TABLES_BY_NAME``, ``SECTORS``, ...) from the core declarations and the rules' ``INPUTS``:
    run on import; again after a test puts a family with inputs in ``FAMILIES``."""
    global SCENARIO_FIELDS, SCENARIO, TABLES, TABLES_BY_NAME, DATASET_CHECKS
    global SECTORS, MAC, TARGETS, CAP_RULES, DEPLOYMENT_LIMITS, OFFSETS, RESERVE
    SCENARIO_FIELDS, TABLES, DATASET_CHECKS = gathered(modules)
    SCENARIO = {f.name: f for f in SCENARIO_FIELDS}
    TABLES_BY_NAME = {t.file.removesuffix(".csv"): t for t in TABLES}
    SECTORS, MAC, TARGETS = TABLES_BY_NAME["sectors"], TABLES_BY_NAME["mac"], TABLES_BY_NAME["targets"]
    CAP_RULES, DEPLOYMENT_LIMITS = TABLES_BY_NAME["cap_rules"], TABLES_BY_NAME["deployment_limits"]
    OFFSETS, RESERVE = TABLES_BY_NAME["offsets"], TABLES_BY_NAME["reserve"]


gather()


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
