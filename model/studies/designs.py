"""Plan a cap design on expected output, then realise it under drawn outputs with the policy held.

A regulator sets the policy before output is known. ``plan`` solves stage 1 on the expected
dataset under a design (its ``cap_rules.csv`` rows): caps and chosen benchmarks are then
fixed. ``realise`` solves the ETS again on a drawn dataset (other output, BAU, GDP) with
that policy held:

- an ``intensity`` sector keeps its benchmark (planned cap / planned output; for a sector
  without output, planned cap / planned BAU), so its allowances follow its actual output;
- an ``absolute`` sector keeps its planned cap in Mt;
- ``grandfathered`` and ``simulation`` sectors keep their rule (the year's emissions or BAU);
- sectors outside the ETS keep their planned measures (each step used to the same share of
  its potential, which follows their drawn BAU), and the national target is no longer a
  constraint: ETS emissions, prices and costs respond, and the national target may be
  missed (``miss_mt``);
- a price floor holds as in a solve (its market pass: once the caps are set, auctioned
  allowances go unsold where the drawn market would clear below the floor).

``compare_designs`` realises every design under the same draws: expected cost, the spread of
prices and emissions, the probability of missing the national target. This is the classic
intensity-versus-mass-cap question under output uncertainty::

    draws = pd.DataFrame({"bau.power.*.output*": f, "bau.power.*.bau_mt*": f})  # one row per draw
    by_year, summary = compare_designs(dataset, {"intensity": [...], "absolute 2027": [...]}, draws)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data import schema
from ..errors import EtscapError, InfeasibleError
from ..families import FAMILIES, dual_prices
from ..lp.formulation import formulate
from ..data.inputs import Dataset
from ..lp.blocks import LinearProgram, RowBlock, VarBlock
from ..data.overrides import apply_overrides
from ..parameters.derive import Parameters, derive_parameters
from ..parameters.phases import ABSOLUTE, INTENSITY, OUTSIDE, TRADING
from ..solving.highs import solve_lp

if TYPE_CHECKING:
    from .study import Distribution

NOT_HELD = ("trading_cap_shares", "absolute_cap_incumbents", "national_target")  # the rows the plan replaces
MISS_TOLERANCE_MT = 1e-6


def cap_rules_table(rules: Sequence[Mapping[str, object]] | pd.DataFrame) -> pd.DataFrame:
    """A cap_rules.csv table from rows ``{"sector", "from_year", "basis", "reduction"?,
    "benchmark_t_per_unit"?}`` (numbered as CSV rows from 2)."""
    frame = pd.DataFrame(list(rules) if not isinstance(rules, pd.DataFrame) else rules)
    table = pd.DataFrame(index=pd.RangeIndex(2, 2 + len(frame), name="row"))
    for field in schema.CAP_RULES.fields:
        given = frame[field.name].to_numpy() if field.name in frame else np.full(len(frame), None)
        default = None if field.required else field.default
        values = pd.Series(given, index=table.index).where(pd.notna(given), default)
        if field.kind == "int":
            values = pd.array(pd.to_numeric(values), dtype="Int64")
        elif field.kind == "float":
            values = values.astype(float)
        else:
            values = values.astype(object)
        table[field.name] = values
    return table


def with_design(dataset: Dataset, rules: Sequence[Mapping[str, object]] | pd.DataFrame | None) -> Dataset:
    """The dataset under a design's cap rules (None: its own)."""
    return dataset if rules is None else dataset.replace(cap_rules=cap_rules_table(rules))


@dataclass(frozen=True)
class Plan:
    """A design's policy, planned on expected output."""

    name: str
    dataset: Dataset  # the expected dataset under the design's rules
    parameters: Parameters
    sector_cap_mt: np.ndarray  # planned, by covered sector-year (p.covered_index)
    national_value_cny_per_t: np.ndarray  # planned, by year (year-t money)
    allowance_price_cny_per_t: np.ndarray  # planned, by market year
    objective_bn_cny: float
    used_share: dict[str, np.ndarray]  # planned abatement / potential, by abatement column


def plan(dataset: Dataset, rules: Sequence[Mapping[str, object]] | pd.DataFrame | None = None,
         name: str = "design") -> Plan:
    """Stage 1 on the expected dataset under the design's cap rules: the policy to hold."""
    designed = with_design(dataset, rules)
    p = derive_parameters(designed)
    lp = formulate(p)
    solution = solve_lp(lp, f"{designed.name} plan {name}")
    national = _family("national_target")
    market = _family("market_balance")
    used = {c.name: np.divide(solution.values[c.name], c.potential_mt, out=np.zeros(len(c)), where=c.potential_mt > 0)
            for c in p.abatement}
    return Plan(name, designed, p, solution.values["sector_cap_mt"],
                dual_prices(p, national, solution.duals["national_target"]),
                dual_prices(p, market, solution.duals["market_balance"]), solution.objective / 1e3, used)


def held_caps(planned: Plan, p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """The covered sector-years whose cap the plan holds (trading under intensity without a
    given benchmark, or absolute) and their caps on the realised parameters ``p``, Mt."""
    planned_p = planned.parameters
    rows = p.covered_rows
    basis = p.sector_years["basis"].to_numpy()[rows]
    given = np.isfinite(p.sector_years["benchmark_t_per_unit"].to_numpy()[rows])
    held = (p.phase[rows] == TRADING) & (((basis == INTENSITY) & ~given) | (basis == ABSOLUTE))
    output_then, output_now = (q.sector_years["output"].to_numpy()[rows] for q in (planned_p, p))
    bau_then, bau_now = (q.sector_years["bau_mt"].to_numpy()[rows] for q in (planned_p, p))
    with np.errstate(divide="ignore", invalid="ignore"):
        follows = np.where(np.isfinite(output_then) & (output_then > 0), output_now / output_then,
                           np.where(bau_then > 0, bau_now / bau_then, 1.0))  # no output: BAU as its measure
    caps = np.where(basis == INTENSITY, planned.sector_cap_mt * follows, planned.sector_cap_mt)
    return np.flatnonzero(held), caps[held]


def realise(planned: Plan, drawn: Dataset) -> dict[str, Any]:
    """The plan's policy held on a drawn dataset (the same sectors, years and rules): the
    ETS solved again; returns ``objective_bn_cny`` (present value of abatement cost) and a
    table by year."""
    designed = drawn.replace(cap_rules=planned.dataset.cap_rules)
    p = derive_parameters(designed)
    lp = formulate(p)
    if lp.structure() != formulate(planned.parameters).structure():
        raise EtscapError(f"design {planned.name!r}: a draw changes the rows or columns of its LP; a draw must change "
                          "numbers only, not when a sector is covered or trades, the years or the rules (compare "
                          "those as designs, not as draws)")
    held, caps = held_caps(planned, p)
    variables = dict(lp.variables)
    block = variables["sector_cap_mt"]
    lower, upper = block.lower.copy(), block.upper.copy()
    lower[held], upper[held] = caps, caps
    variables["sector_cap_mt"] = VarBlock(block.name, block.keys, lower, upper, block.doc)
    ets = variables["ets_cap_mt"]  # the caps are held: the ETS cap is their sum
    variables["ets_cap_mt"] = VarBlock(ets.name, ets.keys, np.zeros(len(ets.keys)), np.full(len(ets.keys), np.inf),
                                       ets.doc)
    for columns in p.abatement:  # outside the ETS: the planned measures, to the same share of potential
        outside = np.flatnonzero(p.phase[columns.rows] == OUTSIDE)
        block = variables[columns.name]
        lower, upper = block.lower.copy(), block.upper.copy()
        lower[outside] = upper[outside] = planned.used_share[columns.name][outside] * columns.potential_mt[outside]
        variables[columns.name] = VarBlock(block.name, block.keys, lower, upper, block.doc)
    rows = [row for row in lp.rows if row.name not in NOT_HELD]
    # the market's passes too: under a price floor, allowances go unsold once the caps are set
    held_lp = LinearProgram(variables, rows, lp.objective, market_passes=lp.market_passes)
    solution = solve_lp(held_lp, f"{drawn.name} realised {planned.name}")
    return {"objective_bn_cny": solution.objective / 1e3, "years": _realised_years(p, solution, rows)}


def _realised_years(p: Parameters, solution, rows: list[RowBlock]) -> pd.DataFrame:
    """By year: allowance price, ETS and national emissions, the national target and its miss."""
    n = len(p.sector_years)
    abated = p.presolved_abatement_by_row.copy()
    for columns in p.abatement:
        abated += np.bincount(columns.rows, weights=solution.values[columns.name], minlength=n)
    emissions = p.sector_years["bau_mt"].to_numpy() - abated
    covered = p.phase != OUTSIDE
    price = np.full(p.years.size, np.nan)
    price[p.year_position(p.market_years)] = dual_prices(p, _family("market_balance"), solution.duals["market_balance"])
    national = p.sum_by_year(emissions) + p.targets["non_co2_mt"].to_numpy() - p.targets["sinks_mt"].to_numpy()
    target = np.fmin(p.targets["absolute_target_mt"].to_numpy(), p.targets["intensity_target_mt"].to_numpy())
    return pd.DataFrame({
        "year": p.years,
        "allowance_price_cny_per_t": price,
        "ets_cap_mt": solution.values["ets_cap_mt"],
        "ets_emissions_mt": p.sum_by_year(np.where(covered, emissions, 0.0)),
        "national_count_mt": national,
        "national_target_mt": target,
        "miss_mt": np.clip(np.nan_to_num(national - target, nan=0.0), 0.0, None),
    })


def compare_designs(dataset: Dataset, designs: Mapping[str, Sequence[Mapping[str, object]] | pd.DataFrame | None],
                    draws: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every design planned on ``dataset`` and realised under each row of ``draws`` (one
    column per override key, ``model.data.overrides``; the same draws for every design).

    Returns the realised years (``design``, ``draw``, then ``realise``'s columns and
    ``objective_bn_cny``) and a summary by design and year: mean, 5th and 95th percentile of
    the price and of ETS emissions, the probability of missing the national target (the year's
    count above its target) and the mean miss, the expected PV cost (of the draws solved) and
    the share of draws whose held caps cannot be met at all (``status`` infeasible: the drawn
    BAU less all its potential is above an absolute cap)."""
    parts = []
    for name, rules in designs.items():
        planned = plan(dataset, rules, name)
        for draw, values in enumerate(draws.to_dict("records")):
            drawn = apply_overrides(dataset, {k: v for k, v in values.items() if pd.notna(v)})
            try:
                outcome = realise(planned, drawn)
            except InfeasibleError:  # held caps below what the drawn BAU can abate to: no price clears it
                parts.append(pd.DataFrame({"year": planned.parameters.years, "status": "infeasible",
                                           "design": name, "draw": draw}))
                continue
            parts.append(outcome["years"].assign(status="optimal", design=name, draw=draw,
                                                 objective_bn_cny=outcome["objective_bn_cny"]))
    by_year = pd.concat(parts, ignore_index=True)
    by_year = by_year[["design", "draw", *[c for c in by_year.columns if c not in ("design", "draw")]]]
    grouped = by_year.groupby(["design", "year"], sort=False)
    summary = pd.DataFrame({
        "price_mean": grouped["allowance_price_cny_per_t"].mean(),
        "price_p5": grouped["allowance_price_cny_per_t"].quantile(0.05),
        "price_p95": grouped["allowance_price_cny_per_t"].quantile(0.95),
        "ets_emissions_mean_mt": grouped["ets_emissions_mt"].mean(),
        "ets_emissions_p5_mt": grouped["ets_emissions_mt"].quantile(0.05),
        "ets_emissions_p95_mt": grouped["ets_emissions_mt"].quantile(0.95),
        "miss_probability": grouped["miss_mt"].agg(lambda miss: float((miss > MISS_TOLERANCE_MT).mean())),
        "miss_mean_mt": grouped["miss_mt"].mean(),
        "expected_cost_bn_cny": grouped["objective_bn_cny"].mean(),
        "infeasible_share": grouped["status"].agg(lambda status: float((status == "infeasible").mean())),
    }).reset_index()
    return by_year, summary


def _family(name: str):
    return next(family for family in FAMILIES if family.name == name)


# -- the design_comparison study file -------------------------------------------------------

DESIGN_STUDY = "design_comparison"
DESIGN_FILES = ("design_years.csv", "design_summary.csv", "designs.json")


@dataclass(frozen=True)
class DesignStudy:
    """A validated design_comparison study file (TOML)."""

    path: Path
    dataset: Path
    out: Path | None
    n: int
    seed: int
    designs: dict[str, list[dict[str, object]]]
    distributions: dict[tuple[str, ...], Distribution]  # keys drawn together
    years: tuple[int, ...]


def read_design_study(path: str | Path) -> DesignStudy:
    """Read and check a design_comparison study file::

        dataset = "../inputs/china"
        [design_comparison]
        n = 20
        seed = 2026
        years = [2027, 2030]                        # optional: the years of the printed summary
        [design_comparison.designs]
        "intensity to 2030" = [{sector = "power", from_year = 2027, basis = "intensity"}, ...]
        [design_comparison.distributions]
        "bau.power.*.bau_mt* bau.power.*.output*" = {kind = "lognormal", mean = 0.0, sigma = 0.05}

    A distribution's key may name several override keys separated by spaces: they take the
    same draw (output and BAU scaled together). Every problem names the file and the key."""
    from ..errors import InputError, Problem
    from .study import distribution, read_study_toml

    path = Path(path)
    name = str(path)
    document = read_study_toml(path)
    problems: list[Problem] = []

    def bad(key: str, found: object, expected: str) -> None:
        problems.append(Problem(f"{name}, key {key}", None, None, None if found is None else str(found)[:80], expected))

    for key in document:
        if key not in ("dataset", "out", DESIGN_STUDY):
            bad(key, key, "dataset, out or [design_comparison]")
    if not isinstance(document.get("dataset"), str):
        bad("dataset", document.get("dataset"), "the dataset folder, relative to the study file")
    table = document.get(DESIGN_STUDY)
    if not isinstance(table, dict):
        bad(DESIGN_STUDY, table, "a [design_comparison] table with n, seed, designs and distributions")
        raise InputError(problems)
    for key in table:
        if key not in ("n", "seed", "years", "designs", "distributions"):
            bad(f"{DESIGN_STUDY}.{key}", key, "n, seed, years, [designs] or [distributions]")
    n, seed = table.get("n"), table.get("seed")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 100_000:
        bad(f"{DESIGN_STUDY}.n", n, "a whole number of draws from 1 to 100000")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        bad(f"{DESIGN_STUDY}.seed", seed, "a whole number from 0 to 4294967295")
    years = table.get("years", [])
    if not isinstance(years, list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
        bad(f"{DESIGN_STUDY}.years", years, "a list of years, e.g. [2027, 2030]")
        years = []
    designs = table.get("designs")
    if not isinstance(designs, dict) or not designs:
        bad(f"{DESIGN_STUDY}.designs", designs, 'a table of NAME = [{sector = ..., from_year = ..., basis = ...}, ...]')
        designs = {}
    checked_designs = {}
    for design, rules in designs.items():
        if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
            bad(f'{DESIGN_STUDY}.designs."{design}"', rules, "a list of cap_rules.csv rows as tables")
            continue
        unknown = sorted({key for rule in rules for key in rule} - set(schema.CAP_RULES.by_name))
        if unknown:
            bad(f'{DESIGN_STUDY}.designs."{design}"', ", ".join(unknown), "columns of cap_rules.csv: "
                + ", ".join(schema.CAP_RULES.by_name))
            continue
        checked_designs[design] = rules
    raw = table.get("distributions")
    if not isinstance(raw, dict) or not raw:
        bad(f"{DESIGN_STUDY}.distributions", raw, 'a table of "KEY [KEY ...]" = { kind = ..., ... }')
        raw = {}
    distributions = {}
    for keys, spec in raw.items():
        try:
            where = f'{name}, key {DESIGN_STUDY}.distributions."{keys}"'
            distributions[tuple(keys.split())] = distribution(spec, where)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    out = document.get("out")
    assert isinstance(n, int) and isinstance(seed, int)  # else a problem was raised above
    return DesignStudy(path, Path(os.path.normpath(path.parent / document["dataset"])),
                       Path(os.path.normpath(path.parent / out)) if isinstance(out, str) and out else None,
                       n, seed, checked_designs, distributions, tuple(years))


def design_draws(study: DesignStudy) -> pd.DataFrame:
    """The study's draws, one row per draw and one column per override key, made up front
    from ``numpy.random.default_rng(seed)`` in the file's order (the same seed, the same draws)."""
    rng = np.random.default_rng(study.seed)
    columns = {}
    for keys, spec in study.distributions.items():
        values = spec.draw(rng, study.n)
        for key in keys:
            columns[key] = values
    return pd.DataFrame(columns)


def run_design_study(study: DesignStudy, out: str | Path, force: bool = False) -> tuple[Path, pd.DataFrame]:
    """Plan and realise every design of the study; write design_years.csv (by design, draw and
    year), design_summary.csv (by design and year: compare_designs's summary) and designs.json
    into ``out``. Returns the folder and the summary."""
    import json
    import time

    from ..data.inputs import load_dataset
    from ..results.tables import _versions, check_can_write, write_csv, write_folder

    target = check_can_write(out, force, protect=[study.dataset])
    started = time.perf_counter()
    dataset = load_dataset(study.dataset)
    draws = design_draws(study)
    by_year, summary = compare_designs(dataset, study.designs, draws)
    info = {"kind": DESIGN_STUDY, "dataset": str(study.dataset), "n": study.n, "seed": study.seed,
            "designs": list(study.designs), "distributions": {" ".join(k): v.as_dict()
                                                              for k, v in study.distributions.items()},
            "inputs_sha256": dataset.sha256, "seconds": round(time.perf_counter() - started, 3),
            "versions": _versions()}

    def write_into(folder: Path) -> None:
        write_csv(by_year, folder / DESIGN_FILES[0])
        write_csv(summary, folder / DESIGN_FILES[1])
        (folder / DESIGN_FILES[2]).write_text(json.dumps(info, indent=2) + "\n")

    return write_folder(target, write_into, force=force), summary
