"""What a constraint family declares, and the named shared sums families add terms to.

A ``Family`` owns everything about one policy rule: its rows (numpy ``RowBlock``s), the
input fields it owns (``inputs``: its module's ``INPUTS``, a ``model.data.fields.Inputs``
that ``model/data/schema.py`` gathers into validation, ``--set`` and the input reference) and
those of others it reads, the output column its dual produces, the check that tests its
policy from the output tables, whether stage 2 holds it, and whether the infeasibility
diagnosis may relax it. Families that need each other's quantities meet in a few named
sums (``Sums``) instead of reaching into each other: a rule that adds allowances to the
market adds a term to ``ALLOWANCE_SUPPLY`` *and* to ``NATIONAL_COUNT``, and the rows of
``market_balance`` and ``national_target`` pick it up.

A family's check is a ``Check``: a name, a test that returns the worst violation of the
rule's policy computed from the output tables alone (never from how its rows are written),
its unit and tolerance. It lives in the family's file beside its rows, e.g.::

    def offset_limit(years, sector_years, steps, market) -> float:
        ...  # no trading sector surrenders offsets beyond its limit, Mt over (worst)
    OFFSET_LIMIT = Check("offset_limit", offset_limit)
    FAMILY = Family("offsets", define_offset_limit, check=OFFSET_LIMIT, ...)

Families that test the same policy share one ``Check`` object (``bank`` and ``borrowing``
use ``bank_limits.BANK_LIMITS``); ``checks.run_checks`` runs the policy-wide checks and each
listed family's check once. Table helpers (sums by year, joins, tolerances) are in
``model/families/checktools.py``.

A rule that is the market's response to the regulator's caps rather than a constraint on
them (a price floor's unsold auction allowances) declares a ``MarketPass``: the LP is solved
twice (``solve.solve_market_passes``, used by ``solve.solve_lp`` and ``resolve.Resolver``).
Pass 1 is the LP as written, the rule's variable fixed at 0 by its bounds: it chooses the
caps (``CAP_DECISIONS``). Pass 2 holds those at pass 1's values, frees the variable with a
*device* cost (e.g. -floor x discount factor: the market's valuation of an unsold allowance)
and re-solves from pass 1's basis. Prices are pass 2's duals; the objective reported leaves
the device term out (it is no cost), so a cap cannot be inflated in pass 1 for a gain in
pass 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

from .checktools import TOLERANCE_MT
from ..data.fields import Inputs
from ..lp.blocks import RowBlock, Term, VarBlock

if TYPE_CHECKING:
    import pandas as pd

    from ..parameters.derive import Parameters

# The named shared sums, Mt CO2, and the index of their entries
NATIONAL_COUNT = "national_count"  # by model year: what counts against the national cap
ALLOWANCE_SUPPLY = "allowance_supply"  # by market year: allowances the trading sectors can use
ALLOWANCE_DEMAND = "allowance_demand"  # by market year: surrendered or carried out in the bank
SUM_INDEX = {NATIONAL_COUNT: "years", ALLOWANCE_SUPPLY: "market_years", ALLOWANCE_DEMAND: "market_years"}
# the regulator's decisions: chosen by pass 1, held at its values in a market pass
CAP_DECISIONS = ("ets_cap_mt", "sector_cap_mt", "trading_cap_mt")


@dataclass(frozen=True)
class Check:
    """A test of a policy from the output tables: ``test(years, sector_years, steps, market)``
    returns the worst violation (0 when the policy holds exactly), in ``unit`` ("Mt" or
    "relative"); the check passes when it is within ``tolerance``. ``steps`` carries
    ``sector_year_row`` (its row in sector_years); ``market`` is summary["market"] with the
    facilities table, stage 1's outcome and the families' declared columns."""

    name: str
    test: Callable[["pd.DataFrame", "pd.DataFrame", "pd.DataFrame", dict], float]
    unit: str = "Mt"
    tolerance: float = TOLERANCE_MT


@dataclass(frozen=True)
class Contribution:
    """Terms (row = position in the sum's index) and a constant a family adds to a sum."""

    terms: list[Term]
    constant: np.ndarray


@dataclass(frozen=True)
class DualColumn:
    """The output column a family's dual produces: a price in year-t money,
    ``sign x dual / discount_factor[year of the row]`` (discounted duals are present value)."""

    name: str  # the column, e.g. allowance_price_cny_per_t
    table: str  # years, sector_years or facilities
    unit: str = "CNY/t"
    sign: float = -1.0  # rows are "demand <= supply": the dual is <= 0 when the cap binds
    discounted: bool = True  # the objective is present value: divide by the discount factor
    year_of_row: Callable[["Parameters"], np.ndarray] | None = None  # default: the row keys are years
    optional: bool = False  # no column when the family has no rows (its rule is not in use)


@dataclass(frozen=True)
class Chart:
    """Where a years-table column shows in one of the report's charts: its ``label`` in the
    legend, its place (``order``, ascending; the palette's colours follow it), ``sign`` +1 for
    allowances added to the trading sectors' supply (drawn above zero), -1 for those taken out
    (below), and a fixed ``color`` where the chart has no palette. Written with the results
    (summary.json's ``charts``), so the report reads it without the families."""

    label: str
    order: float
    sign: float = 1.0
    color: str = ""


@dataclass(frozen=True)
class ValueColumn:
    """A years-table column holding the values of a variable the family declares (keyed by
    year), e.g. a reserve's release (or a sector_years column, ``table`` and ``rows``); a
    column whose variable the LP does not have (the rule not in use) is left out.
    ``market_supply``: the values are allowances the rule adds to the trading sectors'
    market, which the checks then count as supply (and the national count, from emissions,
    still bounds)."""

    name: str
    variable: str
    unit: str = "Mt"
    market_supply: bool = False
    # the values by model year from the variable's values (default: the variable is keyed by year)
    by_year: Callable[["Parameters", np.ndarray], np.ndarray] | None = None
    # allowances not counted under the national target: the national count may exceed the
    # national cap by them (the checks allow it, the summary reports it as the overshoot)
    beyond_national_cap: bool = False
    label: str = ""  # what the values are, in words, for the summary and the report
    # removals by sinks the rule adds under a net-GHG count ([targets] scope = "net_ghg"): the
    # national count nets them like sinks_mt (the checks ignore them under scope "co2")
    national_sink: bool = False
    table: str = "years"  # or "sector_years": then ``rows`` gives each value's sector-year row
    rows: Callable[["Parameters"], np.ndarray] | None = None
    compute: Callable[["Parameters", Mapping[str, np.ndarray]], np.ndarray] | None = None  # from the LP's values
    # the values change the allowances issued in their year (a supply adjustment's release less
    # its intake): the national-target check counts them with the ETS cap
    changes_issued: bool = False
    # a source in the report's allowance-supply-by-source chart, and a bar in its bank-rules chart
    supply_chart: Chart | None = None
    bank_chart: Chart | None = None


@dataclass(frozen=True)
class MarketPass:
    """A variable the market chooses once the caps are set (see the module docstring): 0 in
    pass 1 (its bounds in the LP), [0, ``upper``] in pass 2 with objective coefficients
    ``device_cost`` (present value, million CNY per Mt), which the objective reported leaves out."""

    variable: str
    upper: np.ndarray
    device_cost: np.ndarray
    hold: tuple[str, ...] = CAP_DECISIONS  # blocks held at pass 1's values in pass 2


@dataclass(frozen=True)
class Family:
    """One constraint family, declared once (see the module docstring)."""

    name: str
    rows: Callable[["Parameters", "Sums"], RowBlock] | None  # None: it only adds to sums
    check: Check  # the test of this rule's policy from the output tables (run by checks.run_checks)
    # inputs it reads that the core (model/data/schema.py) or another rule declares: scenario keys
    # or table.column; its own are declared in its file (``INPUTS``) and given as ``inputs``
    reads: tuple[str, ...] = ()
    dual: DualColumn | None = None
    adds: Mapping[str, Callable[["Parameters"], Contribution]] = field(default_factory=dict)
    variables: Callable[["Parameters"], list[VarBlock]] | None = None  # its own decision variables
    values: tuple[ValueColumn, ...] = ()  # years-table columns of its variables' values
    held_in_stage2: bool = True  # stage 2 (allocation) keeps the row
    # its variables stay at stage 1's values in stage 2 even with a cost tolerance: they are the
    # market's outcome under the rule (a sector's bank, sales, cancellations), which stage 1's
    # prices price; stage 2 may move abatement within the tolerance, not them
    values_held_in_stage2: bool = False
    relaxable: bool = False  # the diagnosis may raise its bound (a target)
    doc: str = ""
    # objective terms of its variables (present value, million CNY), e.g. a backstop supply's cost
    costs: Callable[["Parameters"], list[Term]] | None = None
    # facts about the rule the checks read with the tables (summary["market"]), e.g. a reserve's offers
    market: Callable[["Parameters"], dict] | None = None
    # the change its variables make to sectors' emissions, Mt by sector-year row (an offset
    # sold by a sector outside the ETS is its abatement: its emissions fall by it)
    emission_change: Callable[["Parameters", Mapping[str, np.ndarray]], np.ndarray] | None = None
    # columns it adds to (or replaces in) the output tables, from the solution's values:
    # sector_years first (before the years table sums it), then years
    sector_year_columns: Callable[["Parameters", Mapping[str, np.ndarray], "pd.DataFrame"],
                                  dict[str, np.ndarray]] | None = None
    year_columns: Callable[["Parameters", Mapping[str, np.ndarray], "pd.DataFrame"],
                           dict[str, np.ndarray]] | None = None
    # a variable freed in a second solve once the caps are set (``MarketPass``; None: not in use)
    market_pass: Callable[["Parameters"], MarketPass | None] | None = None
    inputs: Inputs = field(default_factory=Inputs)  # the inputs the rule owns (its module's INPUTS)

    @property
    def inputs_read(self) -> tuple[str, ...]:
        """Every input it reads: its own (``inputs``) and the others' (``reads``)."""
        return (*self.inputs.names, *self.reads)


class Sums:
    """The named shared sums of one LP: each family's contributions, in the families' order."""

    def __init__(self, p: "Parameters", families: Sequence[Family]):
        self.p = p
        self.families = families

    def size(self, name: str) -> int:
        return len(getattr(self.p, SUM_INDEX[name]))

    def of(self, name: str) -> Contribution:
        """Every family's terms of sum ``name`` and their constants added up."""
        terms: list[Term] = []
        constant = np.zeros(self.size(name))
        for family in self.families:
            if name in family.adds:
                part = family.adds[name](self.p)
                terms += part.terms
                constant = constant + part.constant
        return Contribution(terms, constant)


def negated(terms: list[Term]) -> list[Term]:
    return [term._replace(coefs=-term.coefs) for term in terms]


def abatement_terms(p: "Parameters", row_in_block: np.ndarray, families: tuple[str, ...] | None = None,
                    by_installation: bool = False) -> list[Term]:
    """-1 x abatement (emissions = BAU - abatement) for every abatement family's columns, in
    the block row ``row_in_block`` gives each column's sector-year (or, ``by_installation``,
    facility-year) row; -1 leaves the column out."""
    terms = []
    for columns in p.abatement:
        if families is not None and columns.name not in families:
            continue
        row = row_in_block[columns.facility_rows if by_installation else columns.rows]
        chosen = np.flatnonzero(row >= 0)
        terms.append(Term(columns.name, row[chosen], chosen, -np.ones(chosen.size)))
    return terms


def numbered(rows: np.ndarray, size: int) -> np.ndarray:
    """A lookup of length ``size`` giving ``rows`` the block rows 0, 1, ... and others -1."""
    lookup = np.full(size, -1)
    lookup[rows] = np.arange(rows.size)
    return lookup


_Kept = TypeVar("_Kept")


def of_last_parameters(kept: list, p: Any, make: Callable[[], _Kept]) -> _Kept:
    """``make()`` for the parameters ``p``, kept in ``kept`` (a family module's list) until
    other parameters ask: what a rule derives from a scenario's parameters and reads many
    times while its rows, variables, result columns and summary are made (found by the
    parameters' identity; ``fastpath.forget`` empties it). What ``make`` returns is shared:
    read, never changed in place."""
    last = kept[0] if kept else None  # read once: another thread may replace it
    if last is not None and last[0] is p:
        return last[1]
    value = make()
    kept[:] = [(p, value)]
    from ..data import fastpath  # here, not at the top: the schema imports the family files

    fastpath.register(kept)
    return value
