"""supply_adjustment: a rule on the bank, the EU Market Stability Reserve's shape (and a
candidate for China's announced "quota reserve and market adjustment mechanism"). From
``market.supply_adjustment.first_year``, in each market year t, with ``b`` the market's bank
at the end of t-1 (the initial bank before the first model year):

- ``b > upper_mt``: intake, ``intake_rate x b`` is withheld from year t's supply into the
  adjustment reserve;
- ``b < lower_mt``: release, ``min(release_mt, reserve at the end of t-1)`` is added to
  year t's supply from the reserve;
- otherwise neutral (at a threshold exactly either regime holds).

With ``invalidate_above_mt`` the reserve above it at a year end is invalidated. Withheld
allowances leave the market supply (``ALLOWANCE_SUPPLY``) and the national count
(``NATIONAL_COUNT``): held or invalidated, they are not issued; released ones enter both.

The rule is not convex (the supply depends on which side of a threshold the bank is).
It is solved exactly as a MIP: binaries per year say the regime (``adjustment_above``,
``adjustment_below``), whether the reserve runs short of ``release_mt``
(``adjustment_short``) and whether it is above the invalidation level
(``adjustment_invalidating``); ``solve.run_highs`` then fixes them and re-solves the LP, so
prices are that LP's duals. The rows are big-M rows whose M is twice every allowance issued
up to the year (a bank or a reserve never holds that much)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..data.fields import Field, Inputs, share_field, year_field
from .checktools import brought_in_mt, joined, worst
from ..errors import EtscapError
from ..lp.blocks import RowBlock, Term, VarBlock
from .base import ALLOWANCE_SUPPLY, NATIONAL_COUNT, Chart, Check, Contribution, Family, Sums, ValueColumn

if TYPE_CHECKING:
    from ..parameters.derive import Parameters


# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    scenario=(
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
    ),
)

KEY = "market.supply_adjustment."
REQUIRED_KEYS = ("upper_mt", "lower_mt", "intake_rate", "release_mt", "first_year")
REGIMES = np.array(["neutral", "intake", "release"], dtype=object)


def settings(p: Parameters) -> dict[str, Any] | None:
    """The rule's inputs (None: not in use), refused unless complete and consistent."""
    names = (*REQUIRED_KEYS, "invalidate_above_mt")
    given: dict[str, Any] = {name: p.dataset.settings.get(KEY + name) for name in names}
    if all(value is None for value in given.values()):
        return None
    missing = [KEY + name for name in REQUIRED_KEYS if given[name] is None]
    if missing:
        raise EtscapError(f"scenario.toml [market.supply_adjustment]: {', '.join(missing)} not given: the rule "
                          f"needs all of {', '.join(REQUIRED_KEYS)} (or none of them, to leave it off)")
    if not given["lower_mt"] < given["upper_mt"]:
        raise EtscapError(f"scenario.toml [market.supply_adjustment]: lower_mt ({given['lower_mt']:g}) must be "
                          f"below upper_mt ({given['upper_mt']:g}): raise upper_mt or lower lower_mt")
    if not p.banking:
        raise EtscapError("scenario.toml [market.supply_adjustment] acts on the bank, but market.banking is false: "
                          "set market.banking = true or remove the [market.supply_adjustment] table")
    return given


def adjusted_years(p: Parameters) -> np.ndarray:
    """The market years from ``first_year`` in which the rule acts (empty when not in use)."""
    rule = settings(p)
    if rule is None:
        return np.zeros(0, dtype=int)
    return p.market_years[p.market_years >= int(rule["first_year"])]


def _bank_before(p: Parameters, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each adjusted year's bank at the end of the year before: the position of bank_mt
    (-1: before the horizon) and the constant (the initial bank there)."""
    position = np.searchsorted(p.years, years) - 1
    return position, np.where(position < 0, p.initial_bank_mt, 0.0)


def _big_m(p: Parameters, years: np.ndarray) -> np.ndarray:
    """Twice every allowance issued up to each year, with the initial bank, + 1 (Mt): more
    than the bank or the reserve can hold (twice: offsets and releases add to the bank)."""
    issued = np.fmax(np.nan_to_num(p.targets["national_cap_mt"].to_numpy(dtype=float), posinf=0.0),
                     np.nan_to_num(p.targets["ets_cap_mt"].to_numpy(dtype=float)))
    held = 2.0 * (np.cumsum(issued) + p.initial_bank_mt) + 1.0
    return held[np.searchsorted(p.years, years)]


def adjustment_variables(p: Parameters) -> list[VarBlock]:
    """Intake, release, invalidation and the reserve at year end (Mt), and the regimes' binaries."""
    years = adjusted_years(p)
    if not years.size:
        return []
    rule = settings(p)
    assert rule is not None
    n, keys, zero = years.size, years.tolist(), np.zeros(years.size)
    cap = rule["invalidate_above_mt"]
    blocks = [
        VarBlock("adjustment_intake_mt", keys, zero, np.full(n, np.inf), "allowances withheld into the reserve, Mt"),
        VarBlock("adjustment_release_mt", keys, zero, np.full(n, float(rule["release_mt"])),
                 "allowances released from the reserve, Mt"),
        VarBlock("adjustment_reserve_mt", keys, zero, np.full(n, np.inf if cap is None else float(cap)),
                 "the adjustment reserve at year end, Mt"),
        VarBlock("adjustment_above", keys, zero, np.ones(n), "1: the bank before the year is above upper_mt",
                 integer=True),
        VarBlock("adjustment_below", keys, zero, np.ones(n), "1: the bank before the year is below lower_mt",
                 integer=True),
        VarBlock("adjustment_short", keys, zero, np.ones(n), "1: the reserve before the year is below release_mt",
                 integer=True),
    ]
    if cap is not None:
        blocks += [VarBlock("adjustment_invalidated_mt", keys, zero, np.full(n, np.inf),
                            "reserve above invalidate_above_mt invalidated, Mt"),
                   VarBlock("adjustment_invalidating", keys, zero, np.ones(n),
                            "1: the reserve would end the year above invalidate_above_mt", integer=True)]
    return blocks


def define_supply_adjustment(p: Parameters, sums: Sums) -> RowBlock:
    """Per adjusted year: the regime follows the bank before the year; the intake is
    intake_rate x that bank in the intake regime, else 0; the release is min(release_mt,
    reserve before) in the release regime, else 0; the reserve adds up (and is invalidated
    above invalidate_above_mt). Big-M rows (see the module docstring)."""
    doc = "the regime follows the bank before the year; intake, release and the reserve as the rule says"
    years = adjusted_years(p)
    if not years.size:
        return RowBlock("supply_adjustment", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    rule = settings(p)
    assert rule is not None
    n, k = years.size, np.arange(years.size)
    upper, lower, rate = float(rule["upper_mt"]), float(rule["lower_mt"]), float(rule["intake_rate"])
    release = float(rule["release_mt"])
    big = _big_m(p, years)
    bank_at, bank_constant = _bank_before(p, years)
    has_bank = bank_at >= 0
    reserve_at = k - 1  # the reserve at the end of the year before (none before the first adjusted year)
    has_reserve = reserve_at >= 0
    keys: list = []
    terms: list[Term] = []
    constant, low, up = [], [], []

    def add(kind: str, parts: list, lower_bound, upper_bound, bank: float = 0.0, reserve: float = 0.0) -> None:
        """Rows ``kind`` (one per adjusted year): ``bank`` x bank before + ``reserve`` x
        reserve before + the ``parts`` (variable, coefficients), within the bounds."""
        start = len(keys)
        keys.extend((kind, int(y)) for y in years)
        for var, coef in parts:
            terms.append(Term(var, start + k, k, np.broadcast_to(np.asarray(coef, dtype=float), (n,)).copy()))
        if bank:
            terms.append(Term("bank_mt", start + k[has_bank], bank_at[has_bank], np.full(int(has_bank.sum()), bank)))
        if reserve:
            terms.append(Term("adjustment_reserve_mt", start + k[has_reserve], reserve_at[has_reserve],
                              np.full(int(has_reserve.sum()), reserve)))
        constant.append(bank * bank_constant)
        low.append(np.broadcast_to(np.asarray(lower_bound, dtype=float), (n,)))
        up.append(np.broadcast_to(np.asarray(upper_bound, dtype=float), (n,)))

    inf = np.full(n, np.inf)
    # above = 1 exactly when the bank before is at or above upper_mt (below = 1: at or below lower_mt)
    add("above_if", [("adjustment_above", -big)], upper - big, inf, bank=1.0)
    add("above_only_if", [("adjustment_above", -big)], -inf, upper, bank=1.0)
    add("below_if", [("adjustment_below", big)], -inf, lower + big, bank=1.0)
    add("below_only_if", [("adjustment_below", big)], lower, inf, bank=1.0)
    # intake = rate x bank before when above, else 0
    add("intake_at_most", [("adjustment_intake_mt", 1.0)], -inf, 0.0, bank=-rate)
    add("intake_at_least", [("adjustment_intake_mt", 1.0), ("adjustment_above", -rate * big)], -rate * big, inf,
        bank=-rate)
    add("intake_only_above", [("adjustment_intake_mt", 1.0), ("adjustment_above", -rate * big)], -inf, 0.0)
    # release = min(release_mt, reserve before) when below, else 0; short = 1 when the reserve is below release_mt
    add("release_only_below", [("adjustment_release_mt", 1.0), ("adjustment_below", -release)], -inf, 0.0)
    add("release_within_reserve", [("adjustment_release_mt", 1.0)], -inf, 0.0, reserve=-1.0)
    add("release_full", [("adjustment_release_mt", 1.0), ("adjustment_below", -release),
                         ("adjustment_short", release)], 0.0, inf)
    add("release_rest", [("adjustment_release_mt", 1.0), ("adjustment_below", -big), ("adjustment_short", -big)],
        -2 * big, inf, reserve=-1.0)
    add("short_if", [("adjustment_short", big)], -inf, release + big, reserve=1.0)
    add("short_only_if", [("adjustment_short", release)], release, inf, reserve=1.0)
    # the reserve adds up: reserve = reserve before + intake - release - invalidated
    cap = rule["invalidate_above_mt"]
    invalidated = [("adjustment_invalidated_mt", 1.0)] if cap is not None else []
    add("reserve_balance", [("adjustment_reserve_mt", 1.0), ("adjustment_intake_mt", -1.0),
                            ("adjustment_release_mt", 1.0), *invalidated], 0.0, 0.0, reserve=-1.0)
    if cap is not None:  # invalidated = what the reserve would hold above the level, only when above it
        add("invalidated_only_above", [("adjustment_invalidated_mt", 1.0), ("adjustment_invalidating", -big)],
            -inf, 0.0)
        add("invalidated_at_most", [("adjustment_invalidated_mt", 1.0), ("adjustment_intake_mt", -1.0),
                                    ("adjustment_release_mt", 1.0), ("adjustment_invalidating", big)],
            -inf, big - float(cap), reserve=-1.0)
    return RowBlock("supply_adjustment", keys, terms, np.concatenate(constant), np.concatenate(low),
                    np.concatenate(up), doc=doc)


def _net_terms(p: Parameters, index: np.ndarray) -> list[Term]:
    years = adjusted_years(p)
    if not years.size:
        return []
    row, k = np.searchsorted(index, years), np.arange(years.size)
    return [Term("adjustment_intake_mt", row, k, -np.ones(years.size)),
            Term("adjustment_release_mt", row, k, np.ones(years.size))]


def adjustment_as_supply(p: Parameters) -> Contribution:
    """Withheld allowances leave the year's market supply, released ones enter it (Mt)."""
    return Contribution(_net_terms(p, p.market_years), np.zeros(p.market_years.size))


def adjustment_counted(p: Parameters) -> Contribution:
    """Withheld allowances are not issued under the national target, released ones are (Mt)."""
    return Contribution(_net_terms(p, p.years), np.zeros(p.years.size))


def _by_year(p: Parameters, values: np.ndarray) -> np.ndarray:
    """An adjusted-year variable's values by model year (0 in years the rule does not act)."""
    out = np.zeros(p.years.size)
    out[np.searchsorted(p.years, adjusted_years(p))] = values
    return out


def net_supply(p: Parameters, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """What the rule adds to each year's market supply, release - intake (Mt)."""
    supply = _by_year(p, values["adjustment_release_mt"] - values["adjustment_intake_mt"])
    return np.where(np.abs(supply) < 1e-9, 0.0, supply)


def year_columns(p: Parameters, values: Mapping[str, np.ndarray], years: pd.DataFrame) -> dict[str, np.ndarray]:
    """adjustment_regime: intake, release or neutral (blank where the rule does not act)."""
    adjusted = adjusted_years(p)
    if not adjusted.size:
        return {}
    regime = np.full(p.years.size, "", dtype=object)
    code = (np.round(values["adjustment_above"]) + 2 * np.round(values["adjustment_below"])).astype(int)
    regime[np.searchsorted(p.years, adjusted)] = REGIMES[code]
    return {"adjustment_regime": regime}


def market_facts(p: Parameters) -> dict[str, Any]:
    """The rule's inputs, for the check (nothing when the rule is not in use)."""
    rule = settings(p)
    if rule is None or not adjusted_years(p).size:
        return {}
    return {"supply_adjustment": {**rule, "from_year": int(adjusted_years(p)[0])}}


def supply_adjustment(years, sector_years, steps, market) -> float:
    """The supply-adjustment rule (``market["supply_adjustment"]``), Mt off (worst year),
    from the years table: from its first year each year's regime follows the bank at the
    end of the year before (intake above upper_mt, release below lower_mt, else neutral;
    either at a threshold exactly, the violation is how far the bank is on the wrong side);
    the intake is intake_rate x that bank in an intake year, else 0; the release is
    min(release_mt, the reserve at the end of the year before) in a release year, else 0;
    the reserve (empty before the first year) adds up, never below 0, with what would be
    above invalidate_above_mt invalidated; the supply the rule adds is release - intake."""
    rule = market.get("supply_adjustment")
    if not rule or "adjustment_regime" not in years:
        return 0.0
    acting = years["year"].to_numpy() >= rule["from_year"]
    bank = brought_in_mt(years, market)
    regime = years["adjustment_regime"].to_numpy(dtype=object)
    upper, lower, rate = float(rule["upper_mt"]), float(rule["lower_mt"]), float(rule["intake_rate"])
    intake_year, release_year = regime == "intake", regime == "release"
    wrong_regime = np.where(intake_year, upper - bank, bank - upper)  # > 0: on the wrong side of upper_mt
    wrong_regime = np.maximum(wrong_regime, np.where(release_year, bank - lower, lower - bank))
    unknown = ~np.isin(regime, ["intake", "release", "neutral"])
    wrong_regime = np.where(unknown, np.inf, wrong_regime)

    def column(name: str) -> np.ndarray:
        return np.nan_to_num(years[name].to_numpy(dtype=float)) if name in years else np.zeros(len(years))

    intake, release, reserve = column("adjustment_intake_mt"), column("adjustment_release_mt"), \
        column("adjustment_reserve_mt")
    invalidated = column("adjustment_invalidated_mt")
    reserve_before = np.concatenate([[0.0], reserve[:-1]])
    reserve_before = np.where(np.concatenate([[False], acting[:-1]]), reserve_before, 0.0)
    expected_intake = np.where(intake_year, rate * bank, 0.0)
    expected_release = np.where(release_year, np.minimum(float(rule["release_mt"]), reserve_before), 0.0)
    kept = reserve_before + intake - release
    cap = rule.get("invalidate_above_mt")
    expected_invalidated = np.zeros(len(years)) if cap is None else np.maximum(kept - float(cap), 0.0)
    off = joined(wrong_regime, np.abs(intake - expected_intake), np.abs(release - expected_release),
                  np.abs(invalidated - expected_invalidated), np.abs(reserve - (kept - invalidated)), -reserve,
                  np.abs(column("adjustment_supply_mt") - (release - intake)))
    return worst(np.where(np.tile(acting, 7), off, 0.0))


SUPPLY_ADJUSTMENT = Check("supply_adjustment", supply_adjustment)


FAMILY = Family(
    "supply_adjustment", define_supply_adjustment, check=SUPPLY_ADJUSTMENT,
    inputs=INPUTS,
    variables=adjustment_variables,
    adds={ALLOWANCE_SUPPLY: adjustment_as_supply, NATIONAL_COUNT: adjustment_counted},
    values=(ValueColumn("adjustment_intake_mt", "adjustment_intake_mt", by_year=_by_year,
                        supply_chart=Chart("Withheld by the supply adjustment", order=90, sign=-1.0)),
            ValueColumn("adjustment_release_mt", "adjustment_release_mt", by_year=_by_year,
                        supply_chart=Chart("Released by the supply adjustment", order=80)),
            ValueColumn("adjustment_invalidated_mt", "adjustment_invalidated_mt", by_year=_by_year),
            ValueColumn("adjustment_reserve_mt", "adjustment_reserve_mt", by_year=_by_year),
            ValueColumn("adjustment_supply_mt", "adjustment_intake_mt", market_supply=True, changes_issued=True,
                        compute=net_supply)),
    year_columns=year_columns, market=market_facts, doc=__doc__,
)
