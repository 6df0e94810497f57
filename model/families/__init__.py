"""The constraint families of stage 1, one file each, and the one list that orders them.

Adding a rule: write ``model/families/<rule>.py`` declaring ``FAMILY = Family(...)`` (its
rows, its own variables and their output columns, the shared sums it adds to, its dual's
output column, its check, and ``inputs=INPUTS``: the inputs it owns, ``INPUTS =
model.data.fields.Inputs(...)`` at the file's top, which the schema gathers), add one line to
``FAMILIES`` below, and its test ``tests/families/test_<rule>.py``. The formulation, the
results (dual-derived columns), the diagnosis (relaxable targets) and stage 2 (rows it
holds) read the declarations; no family's name is matched anywhere else. The report's charts
read a ``ValueColumn``'s ``supply_chart`` / ``bank_chart`` (a ``Chart``), written with the
results (``chart_entries``, summary.json's ``charts``); ``tests/families/test_one_file_per_family.py``
fails when a module outside a family's file names its variables or columns.

Its check is a ``Check`` declared in the same file: a function of the output tables
``(years, sector_years, steps, market) -> worst violation`` and
``MY_RULE = Check("my_rule", my_rule)`` (unit "Mt", tolerance ``checktools.TOLERANCE_MT``
unless given), passed as ``Family(..., check=MY_RULE)``; a rule whose policy an existing
check tests passes that ``Check`` object (e.g. ``national_target.NATIONAL_COUNT_CHECK``,
``market_balance.MARKET_CLEARING``). ``checks.run_checks`` runs every listed family's check
once, after the policy-wide ones; the test must fail on a broken solution
(``tests/test_check_thresholds.py`` has a case per check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

from . import (absolute_cap_incumbents, bank, bank_limits, borrowing, cap_split, deployment_limits,
               facility_compliance, grandfathered_allocation, intensity_benchmark, market_balance, national_target,
               offsets, price_ceiling, price_floor, reserve, simulation_compliance, simulation_rule_cap,
               supply_adjustment, trading_cap_shares)
from .base import (ALLOWANCE_DEMAND, ALLOWANCE_SUPPLY, NATIONAL_COUNT, Chart, Check, Contribution, DualColumn, Family,
                   MarketPass, Sums, ValueColumn, abatement_terms, numbered)

if TYPE_CHECKING:
    from ..lp.blocks import RowBlock, Term, VarBlock
    from ..parameters.derive import Parameters

# The order of the rows in the LP (and of the terms in each shared sum)
FAMILIES: list[Family] = [
    national_target.FAMILY,
    cap_split.FAMILY,
    simulation_rule_cap.FAMILY,
    simulation_compliance.FAMILY,
    facility_compliance.FAMILY,
    market_balance.FAMILY,
    bank.FAMILY,
    bank_limits.FAMILY,
    borrowing.FAMILY,
    offsets.FAMILY,
    price_ceiling.FAMILY,
    price_floor.FAMILY,
    reserve.FAMILY,
    supply_adjustment.FAMILY,
    trading_cap_shares.FAMILY,
    absolute_cap_incumbents.FAMILY,
    grandfathered_allocation.FAMILY,
    intensity_benchmark.FAMILY,
    deployment_limits.FAMILY,
]


def define_rows(p: Parameters, families: list[Family] | None = None) -> list[RowBlock]:
    """Every family's rows, in the list's order (families with no rows only add to sums)."""
    families = FAMILIES if families is None else families
    sums = Sums(p, families)
    return [family.rows(p, sums) for family in families if family.rows is not None]


def define_family_variables(p: Parameters, families: list[Family] | None = None) -> list[VarBlock]:
    """The decision variables families declare of their own, in the list's order."""
    return [block for family in (FAMILIES if families is None else families) if family.variables is not None
            for block in family.variables(p)]


def value_columns(families: list[Family] | None = None, table: str = "years") -> list[ValueColumn]:
    """The ``table`` columns of the families' variables, in the list's order."""
    return [column for family in (FAMILIES if families is None else families) for column in family.values
            if column.table == table]


def market_supply_columns(families: list[Family] | None = None) -> tuple[str, ...]:
    """The years-table columns of allowances rules add to the market supply (for the checks)."""
    return tuple(column.name for column in value_columns(families) if column.market_supply)


def beyond_national_cap_labels(families: list[Family] | None = None) -> dict[str, str]:
    """The years-table columns of allowances not counted under the national target, each with
    what it is in words (the summary's and the report's overshoot by source)."""
    return {column.name: column.label or column.name for column in value_columns(families)
            if column.beyond_national_cap}


def beyond_national_cap_columns(families: list[Family] | None = None) -> tuple[str, ...]:
    """The years-table columns of allowances not counted under the national target (for the
    checks and the summary's national overshoot)."""
    return tuple(column.name for column in value_columns(families) if column.beyond_national_cap)


def changes_issued_columns(families: list[Family] | None = None) -> tuple[str, ...]:
    """The years-table columns of changes rules make to the allowances issued (for the checks)."""
    return tuple(column.name for column in value_columns(families) if column.changes_issued)


def national_sink_columns(families: list[Family] | None = None) -> tuple[str, ...]:
    """The years-table columns of removals counted as sinks under a net-GHG national count."""
    return tuple(column.name for column in value_columns(families) if column.national_sink)


def chart_entries(families: list[Family] | None = None) -> dict[str, list[dict]]:
    """The years-table columns the report's charts draw, by chart, in each chart's order:
    {"supply_by_source": [{"column", "label", "sign", "color"}, ...], "bank_rules": [...]}
    (written to summary.json's ``charts``, so the report needs no family)."""
    columns = value_columns(families)
    charts = {}
    for chart, of in (("supply_by_source", lambda c: c.supply_chart), ("bank_rules", lambda c: c.bank_chart)):
        shown = sorted(((of(c), c.name) for c in columns if of(c) is not None), key=lambda entry: entry[0].order)
        charts[chart] = [{"column": name, "label": entry.label, "sign": entry.sign, "color": entry.color}
                         for entry, name in shown]
    return charts


def family_costs(p: Parameters, families: list[Family] | None = None) -> list[Term]:
    """The objective terms families declare (present value, million CNY), in the list's order."""
    return [term for family in (FAMILIES if families is None else families) if family.costs is not None
            for term in family.costs(p)]


def market_passes(p: Parameters, families: list[Family] | None = None) -> list[MarketPass]:
    """The variables rules free in a second solve once the caps are set (``base.MarketPass``)."""
    chosen = [family.market_pass(p) for family in (FAMILIES if families is None else families)
              if family.market_pass is not None]
    return [market_pass for market_pass in chosen if market_pass is not None]


def emission_change(p: Parameters, values: Mapping[str, np.ndarray],
                    families: list[Family] | None = None) -> np.ndarray:
    """The change rules' variables make to emissions, Mt by sector-year row (0 without such rules)."""
    change = np.zeros(len(p.sector_years))
    for family in (FAMILIES if families is None else families):
        if family.emission_change is not None:
            change = change + family.emission_change(p, values)
    return change


def with_rows(families: list[Family] | None = None) -> list[Family]:
    """The families that have rows of their own, in order."""
    return [family for family in (FAMILIES if families is None else families) if family.rows is not None]


def dual_prices(p: Parameters, family: Family, duals: np.ndarray) -> np.ndarray:
    """The family's dual as its output column's values, row by row (its ``DualColumn``):
    sign x dual / discount factor of the row's year, tiny values (|x| < 1e-9) as 0."""
    column = family.dual
    assert column is not None, f"family {family.name} declares no dual column"
    years = column.year_of_row(p) if column.year_of_row is not None else p.years
    value = column.sign * duals
    if column.discounted:
        value = value / p.discount_factors(years)
    return np.where(np.abs(value) < 1e-9, 0.0, value)


def dual_columns(table: str, families: list[Family] | None = None) -> list[Family]:
    """The families whose dual produces a column of ``table``, by column name (a stable
    order that needs no positions)."""
    chosen = [f for f in (FAMILIES if families is None else families) if f.dual is not None and f.dual.table == table]
    return sorted(chosen, key=lambda f: f.dual.name if f.dual else "")


__all__ = ["FAMILIES", "Family", "Check", "DualColumn", "ValueColumn", "Contribution", "define_family_variables",
           "Chart", "chart_entries", "changes_issued_columns",
           "value_columns", "market_supply_columns", "beyond_national_cap_columns", "beyond_national_cap_labels",
           "national_sink_columns",
           "family_costs", "emission_change", "market_passes", "MarketPass", "Sums", "NATIONAL_COUNT",
           "ALLOWANCE_SUPPLY",
           "ALLOWANCE_DEMAND", "abatement_terms", "numbered", "define_rows", "with_rows", "dual_prices",
           "dual_columns"]
