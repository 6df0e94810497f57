"""deployment_limits: a measure cannot be bought faster than it can be built. A mac.csv step
with ``max_build_mt_per_year`` gives at most that much more abatement each year than the
year before (from 0 in base_year: BAU is what happened, so nothing is abated yet); the
steps of a ``group`` with rows in deployment_limits.csv give together at most ``max_mt``
a year (e.g. all CCUS within China's CCUS roadmap). A step's abatement is every column of
its sector and step name: the sector's own, or at facility resolution every installation's
and pool's (a simulation-phase installation keeps in the LP only the steps a limit can
reach: ``parameters.installations.closed_form_steps``).

The rows couple years: a binding build limit makes the measure's rent (its row's dual)
part of its price, so the year-by-year equal-marginal-cost check leaves build-limited
steps out, and a step at its group's limit is not spare; the ``deployment_limits`` check
tests the limits themselves from the abatement_steps table."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data.fields import REQUIRED, SOURCE_COLUMN, DatasetCheck, Field, Inputs, TableSpec, name_positions, year_field
from ..errors import Problem, did_you_mean, short_text
from .checktools import TOLERANCE_MT, joined, shared, worst
from ..lp.blocks import RowBlock, Term
from .base import Check, Family, Sums, numbered

if TYPE_CHECKING:
    from ..data.inputs import Dataset
    from ..parameters.derive import Parameters
    from ..parameters.installations import AbatementColumns


DEPLOYMENT_LIMITS_TABLE = TableSpec(
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

# The inputs this rule owns (gathered by model/data/schema.py)
INPUTS = Inputs(
    columns={"mac.csv": (
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
    )},
    tables=(DEPLOYMENT_LIMITS_TABLE,),
    checks=(DatasetCheck(frozenset({"mac.group", "deployment_limits"}), lambda d: deployment_limit_problems(d)),),
)


def deployment_limit_problems(dataset: Dataset) -> list[Problem]:
    """mac.csv's groups are names; deployment_limits.csv names groups of mac.csv's group
    column, once a year each (validation, ``inputs.check_dataset``)."""
    from ..data.inputs import ID_EXPECTED, STEP_NAME, repeated_keys, misnamed  # the schema imports this module

    limits = dataset.deployment_limits
    file = DEPLOYMENT_LIMITS_TABLE.file
    problems = misnamed("mac.csv", dataset.mac[dataset.mac["group"] != ""], "group", STEP_NAME, ID_EXPECTED)
    if limits.empty:
        return problems
    known = sorted(set(dataset.mac["group"]) - {""})
    for row in limits.index[~limits["group"].isin(known).to_numpy()]:
        name = limits.at[row, "group"]
        problems.append(Problem(file, row, "group", short_text(name),
                                "a group named in mac.csv's group column" + did_you_mean(name, known)))
    return problems + repeated_keys(file, limits, ["group", "year"])


def _build_limits(dataset: Dataset) -> pd.DataFrame:
    """mac.csv's rows with a build rate (max_build_mt_per_year): sector, step and the rate."""
    mac = dataset.mac
    return mac.loc[mac["max_build_mt_per_year"].notna().to_numpy(), ["sector", "step", "max_build_mt_per_year"]]


def _no_limits(dataset: Dataset) -> bool:
    """Whether no step has a build rate and no group a limit (most datasets): then there is
    no row and nothing to check, known without selecting mac.csv's rows."""
    return dataset.deployment_limits.empty and not dataset.mac["max_build_mt_per_year"].notna().to_numpy().any()


def _group_limits(dataset: Dataset, years: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The limited groups (sorted) and their max_mt by group x model year (interpolated, held)."""
    from ..data.inputs import interpolate_by_year  # the schema imports this module

    limits = dataset.deployment_limits
    groups = sorted(set(limits["group"]))
    table = np.zeros((len(groups), years.size))
    for position, (_, rows) in enumerate(limits.groupby("group", sort=True)):  # a few groups
        held = np.clip(years, rows["year"].min(), rows["year"].max()).astype(float)
        table[position] = interpolate_by_year(rows, "max_mt", held).to_numpy()
    return groups, table


def first_year_build_factor(p: Parameters) -> float:
    """Years of building before first_year's abatement: from base_year (at least one)."""
    return float(max(1, p.first_year - p.dataset.settings["base_year"]))


def _mac_rows(p: Parameters, columns: AbatementColumns, mac_key: pd.MultiIndex) -> np.ndarray:
    """Each column's row in mac.csv by its (sector, step) (-1: none), looked up on the keys'
    integer codes over their few sectors and steps, not on every column's text (the
    installations' sector from their sector-year row)."""
    keys = columns.keys
    step_level = keys.names.index("step")
    step_code, steps = np.asarray(keys.codes[step_level]), keys.levels[step_level]
    if "sector" in keys.names:
        sector_level = keys.names.index("sector")
        sector_code, sectors = np.asarray(keys.codes[sector_level]), keys.levels[sector_level]
    else:
        sector_code = p.facility_years["sector_row"].to_numpy()[columns.facility_rows] // p.years.size
        sectors = pd.Index(p.dataset.sectors["sector"])
    table = mac_key.get_indexer(pd.MultiIndex.from_product([sectors, steps])).reshape(len(sectors), len(steps))
    known = (sector_code >= 0) & (step_code >= 0)
    return np.where(known, table[np.where(known, sector_code, 0), np.where(known, step_code, 0)], -1)


def define_deployment_limits(p: Parameters, sums: Sums) -> RowBlock:
    """Rows ("max_build", "sector.step", year): abatement[t] - abatement[t-1] <= the build
    rate (x years since base_year in first_year), in the years the step exists; rows
    ("max_mt", group, year): the group's abatement <= its limit. Mt CO2."""
    doc = "abatement growth of a step and total abatement of a group within their deployment limits (Mt)"
    dataset, years = p.dataset, p.years
    n_years = years.size
    if _no_limits(dataset):  # no limit: no row (and no key of mac.csv made)
        return RowBlock("deployment_limits", [], [], np.zeros(0), upper=np.zeros(0), doc=doc)
    build = _build_limits(dataset)
    groups, max_mt = _group_limits(dataset, years)
    mac_key = pd.MultiIndex.from_frame(dataset.mac[["sector", "step"]])
    build_of_mac = np.full(len(mac_key), -1)
    build_of_mac[mac_key.get_indexer(pd.MultiIndex.from_frame(build[["sector", "step"]]))] = np.arange(len(build))
    group_of_mac = name_positions(groups, dataset.mac["group"]) if groups else np.full(len(mac_key), -1)
    n_build = len(build) * n_years
    size = n_build + len(groups) * n_years
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []  # (variable, row, position, coef)
    if size:
        for columns in p.abatement:
            of_mac = _mac_rows(p, columns, mac_key) if len(columns) else np.zeros(0, dtype=int)
            year = p.year_of_row[columns.rows] - p.first_year
            known = of_mac >= 0
            step = np.where(known, build_of_mac[np.where(known, of_mac, 0)], -1)
            group = np.where(known, group_of_mac[np.where(known, of_mac, 0)], -1)
            position = np.arange(len(columns))
            built = np.flatnonzero(step >= 0)
            parts.append((columns.name, step[built] * n_years + year[built], built, np.ones(built.size)))
            before = built[year[built] + 1 < n_years]  # this year's abatement is next year's starting point
            parts.append((columns.name, step[before] * n_years + year[before] + 1, before, -np.ones(before.size)))
            grouped = position[group >= 0]
            parts.append((columns.name, n_build + group[grouped] * n_years + year[grouped], grouped,
                          np.ones(grouped.size)))
    # a row exists where its step or group has a column in that year (a +1 term)
    has_column = np.zeros(size, dtype=bool)
    for _, row, _, coef in parts:
        has_column[row[coef > 0]] = True
    kept = np.flatnonzero(has_column)
    renumber = numbered(kept, size)
    terms = []
    for name, row, position, coef in parts:
        chosen = renumber[row] >= 0
        if chosen.any():
            terms.append(Term(name, renumber[row][chosen], position[chosen], coef[chosen]))
    rate = build["max_build_mt_per_year"].to_numpy(dtype=float)
    first_factor = np.ones(n_years)
    first_factor[0] = first_year_build_factor(p)
    upper = np.concatenate([(rate[:, None] * first_factor[None, :]).ravel(), max_mt.ravel()])[kept]
    names = ([("max_build", f"{s}.{t}") for s, t in zip(build["sector"], build["step"])]
             + [("max_mt", g) for g in groups])
    # build rows, then group rows, each name's years in order: row = name x n_years + year
    row_kind = np.repeat(np.array([kind for kind, _ in names], dtype=object), n_years)[kept]
    row_name = np.repeat(np.array([name for _, name in names], dtype=object), n_years)[kept]
    row_keys = list(zip(row_kind.tolist(), row_name.tolist(), np.tile(years, len(names))[kept].tolist()))
    return RowBlock("deployment_limits", row_keys, terms, np.zeros(kept.size), upper=upper, doc=doc)


def limits_for_checks(p: Parameters) -> dict[str, Any]:
    """The limits as the check reads them (summary["market"]["deployment_limits"]); none: {}.
    Made once for the scenarios of a study that leave mac.csv and deployment_limits.csv as
    their base has them (a fresh outer dict each; the lists inside are shared, read-only)."""
    from ..data import fastpath  # here, not at the top: the families' imports are another's edit

    key = (p.dataset.mac, p.dataset.deployment_limits, tuple(p.years.tolist()), first_year_build_factor(p))
    return dict(fastpath.cached("deployment_limits_for_checks", key, lambda: _limits_for_checks(p)))


def _limits_for_checks(p: Parameters) -> dict[str, Any]:
    if _no_limits(p.dataset):
        return {}
    build = _build_limits(p.dataset)
    groups, max_mt = _group_limits(p.dataset, p.years)
    if build.empty and not groups:
        return {}
    mac = p.dataset.mac
    group_of_step, pairs = mac["group"].to_numpy(), mac[["sector", "step"]].to_numpy()  # once, not per group
    return {"deployment_limits": {
        "first_year_build_factor": first_year_build_factor(p),
        "max_build_mt_per_year": [{"sector": s, "step": t, "max_mt": float(b)}
                                  for s, t, b in build.itertuples(index=False)],
        "max_mt": [{"group": g, "steps": pairs[group_of_step == g].tolist(),
                    "years": p.years.tolist(), "max_mt": max_mt[i].tolist()} for i, g in enumerate(groups)],
    }}


_STEP_PAIRS = threading.local()  # the last steps table's (sector, step) codes, in this thread


def _step_pairs(steps: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """Each row's code of its (sector, step) and the distinct pairs, so that lookups run on
    the few pairs, not on every row's text (at facility resolution the steps table has a row
    per installation step). Made once per steps table: the checks ask several times."""
    last = getattr(_STEP_PAIRS, "last", None)
    if last is not None and last[0]() is steps:
        return last[1]
    from ..data import fastpath  # here, not at the top: the families' imports are another's edit

    # the same keys (a study's scenarios) give the same codes: compared, not hashed again
    arrays = (steps["sector"].to_numpy(dtype=object), steps["step"].to_numpy(dtype=object))
    code, pairs = fastpath.kept_for_equal("step pairs", arrays, lambda: _coded_pairs(*arrays))
    _STEP_PAIRS.last = (weakref.ref(steps), (code, pairs))
    return code, pairs


def _coded_pairs(sector_of_row: np.ndarray, step_of_row: np.ndarray) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """``_step_pairs`` made afresh (read-only codes)."""
    every = pd.MultiIndex.from_arrays([sector_of_row, step_of_row])
    width = len(every.levels[1]) + 1
    sector_code, step_code = (np.asarray(codes, dtype=np.int64) for codes in every.codes)
    combined = np.where((sector_code < 0) | (step_code < 0), -1, sector_code * width + step_code)
    code, distinct = pd.factorize(combined)
    blank = distinct < 0  # a row without sector or step matches no pair
    code = np.where(blank[code], -1, code) if blank.any() else code
    sector, step = np.full(distinct.size, None, dtype=object), np.full(distinct.size, None, dtype=object)
    sector[~blank] = every.levels[0][distinct[~blank] // width]
    step[~blank] = every.levels[1][distinct[~blank] % width]
    pairs = list(zip(sector.tolist(), step.tolist()))  # a few dozen: looked up in a dict
    code = np.asarray(code)
    code.flags.writeable = False
    return code, pairs


def _pair_of_step(steps: pd.DataFrame, wanted: list) -> np.ndarray:
    """For each row of ``steps``, the position in ``wanted`` (pairs) of its (sector, step) (-1: none)."""
    code, pairs = _step_pairs(steps)
    of_pair = _position_of_pairs(pairs, wanted)
    return np.where(code >= 0, of_pair[code], -1)


def _year_of_step(years_index: np.ndarray, steps: pd.DataFrame) -> np.ndarray:
    """Each row's position in ``years_index``, made once per steps table and years (the checks
    sum several groups)."""
    last = getattr(_STEP_PAIRS, "years", None)
    if last is not None and last[0]() is steps and np.array_equal(last[1], years_index):
        return last[2]
    year = np.searchsorted(years_index, steps["year"].to_numpy())
    _STEP_PAIRS.years = (weakref.ref(steps), years_index.copy(), year)
    return year


def _abatement_by_step(years: pd.DataFrame, steps: pd.DataFrame, pairs: list) -> np.ndarray:
    """Abatement of each (sector, step) of ``pairs``, summed over its installations and pools,
    by pair x year of ``years`` (Mt; 0 where the step has no row)."""
    years_index = years["year"].to_numpy()
    totals = np.zeros((len(pairs), years_index.size))
    if not pairs or steps.empty:
        return totals
    code, distinct = _step_pairs(steps)
    of_pair = _position_of_pairs(distinct, pairs)[:-1]  # each distinct pair's place in ``pairs`` (-1: none)
    wanted = of_pair >= 0
    totals[of_pair[wanted]] = _abatement_by_pair(years, steps)[wanted]
    return totals


def _position_of_pairs(distinct: list, wanted: list) -> np.ndarray:
    """For each of the ``distinct`` pairs (and a -1 after them), its position in ``wanted`` (-1: none);
    kept for a study's scenarios (the same distinct pairs, kept with their codes, and limits)."""
    from ..data import fastpath  # here, not at the top: the families' imports are another's edit

    wanted_pairs = tuple(tuple(pair) for pair in wanted)

    def make() -> np.ndarray:
        position = {pair: i for i, pair in reversed(list(enumerate(wanted_pairs)))}  # the first of a repeated pair
        of_pair = np.array([position.get(pair, -1) for pair in distinct] + [-1], dtype=np.int64)
        of_pair.flags.writeable = False
        return of_pair

    return fastpath.cached("deployment pair positions", (distinct, wanted_pairs), make)


def _abatement_by_pair(years: pd.DataFrame, steps: pd.DataFrame) -> np.ndarray:
    """Abatement of each distinct (sector, step) of the steps table (``_step_pairs``), summed over
    its rows in their order, by pair x year of ``years`` (Mt); made once per ``run_checks``."""
    def make() -> np.ndarray:
        years_index = years["year"].to_numpy()
        code, distinct = _step_pairs(steps)
        year = _year_of_step(years_index, steps)
        chosen = code >= 0
        cell = code[chosen] * years_index.size + year[chosen]  # summed in row order, as np.add.at did
        by_pair = np.bincount(cell, weights=steps["abatement_mt"].to_numpy(dtype=float)[chosen],
                              minlength=len(distinct) * years_index.size).reshape(len(distinct), years_index.size)
        by_pair.flags.writeable = False
        return by_pair

    return shared(("abatement by pair", id(years), id(steps)), make)


def deployment_limits(years, sector_years, steps, market) -> float:
    """No measure grows faster than it can be built, no group beyond its limit, Mt over (worst).

    From the abatement_steps table (a step's abatement summed over its installations and
    pools) and the limits of ``market["deployment_limits"]``: a build-limited step's
    abatement rises by at most its rate from one year to the next (from 0 in base_year,
    ``first_year_build_factor`` years of building before first_year), and a group's steps
    together abate at most the group's max_mt each year."""
    limits = market.get("deployment_limits")
    if not limits:
        return 0.0
    build = limits["max_build_mt_per_year"]
    abated = _abatement_by_step(years, steps, [(row["sector"], row["step"]) for row in build])
    growth = np.diff(abated, axis=1, prepend=0.0)
    allowed = np.array([row["max_mt"] for row in build], dtype=float)[:, None] * np.ones(abated.shape)
    if allowed.size:
        allowed[:, 0] *= limits["first_year_build_factor"]
    violations = [(growth - allowed).ravel()]
    for total, by_year in _group_totals(years, steps, limits):
        violations.append(total - by_year)
    return worst(np.nan_to_num(joined(*violations)))


def _group_totals(years: pd.DataFrame, steps: pd.DataFrame, limits: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each group's abatement (its steps summed, Mt by year of ``years``) and its limit by year
    (NaN in a year without one); made once per ``run_checks`` (two checks read them)."""
    def make() -> list[tuple[np.ndarray, np.ndarray]]:
        years_index = years["year"].to_numpy()
        return [(_abatement_by_step(years, steps, group["steps"]).sum(axis=0),
                 _by_year(group["max_mt"], group["years"], years_index)) for group in limits["max_mt"]]

    return shared(("deployment group totals", id(years), id(steps)), make)


def _by_year(values: list, labels: list, years_index: np.ndarray) -> np.ndarray:
    """``values`` (by year of ``labels``) for each of ``years_index``, NaN for a year not among
    them: what ``pd.Series(values, index=labels).reindex(years_index)`` gives."""
    labels_array = np.asarray(labels)
    if labels_array.shape == years_index.shape and np.array_equal(labels_array, years_index):
        return np.asarray(values, dtype=float)  # the limits' years are the model's (as limits_for_checks gives)
    return pd.Series(values, index=labels).reindex(years_index).to_numpy()


def deployment_limited(years, steps, market) -> tuple[np.ndarray, np.ndarray]:
    """Masks over the steps table: steps with a build rate (their price couples years: the
    rent of the limit is part of it), and steps whose group is at its limit that year (not
    spare, whatever their cost)."""
    n = len(steps)
    limits = market.get("deployment_limits")
    if not limits or not n:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    build = [(row["sector"], row["step"]) for row in limits["max_build_mt_per_year"]]
    build_limited = _pair_of_step(steps, build) >= 0
    at_limit = np.zeros(n, dtype=bool)
    years_index = years["year"].to_numpy()
    year = np.minimum(_year_of_step(years_index, steps), max(years_index.size - 1, 0))
    in_years = years_index[year] == steps["year"].to_numpy() if years_index.size else np.zeros(n, dtype=bool)
    for group, (total, limit) in zip(limits["max_mt"], _group_totals(years, steps, limits)):  # a few groups
        members = _pair_of_step(steps, group["steps"]) >= 0
        full_year = total >= limit - TOLERANCE_MT  # the years the group is at its limit
        at_limit |= members & in_years & full_year[year]
    return build_limited, at_limit


DEPLOYMENT_LIMITS = Check("deployment_limits", deployment_limits)


FAMILY = Family(
    "deployment_limits", define_deployment_limits, check=DEPLOYMENT_LIMITS,
    inputs=INPUTS,
    market=limits_for_checks, doc=__doc__,
)
