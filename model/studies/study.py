"""Policy studies: many scenarios of one dataset, as sweeps or Monte Carlo, on Dask.

A scenario is the base dataset with overrides: the keys of ``--set`` (``model.data.overrides``),
e.g. ``sectors.aluminium.trading_from`` or ``mac.cement.*.cost_cny_per_t*``.

- ``sweep(dataset, grid)``: every combination of the values given for each key
  (``mode="product"``), or the i-th values of every key together (``mode="zip"``);
- ``monte_carlo(dataset, n, distributions, seed)``: each key's value drawn from a
  distribution (normal, lognormal, uniform, triangular), all draws made up front from
  ``numpy.random.default_rng(seed)``, so the draws never depend on where they are solved;
- ``run_scenarios(dataset, inputs)``: any table of scenarios (one column per key).

Scenarios run in chunks, in-process (``client=None``) or on ``dask.distributed`` workers
(``client="local"``, a scheduler address, or a ``Client``). Each worker keeps one HiGHS LP
per LP structure (``model.solving.resolve.Resolver``) and re-solves it with each scenario's numbers
(right-hand sides, costs, bounds). A re-solve starts from the basis of the base dataset's
optimum, never from the previous scenario's, so a scenario's numbers do not depend on
which worker ran it or after what: serial and parallel runs give the same tables. A
scenario that changes the structure (coverage years, horizon) gets an LP of its own, solved
cold. ``allocation=True`` rebuilds every scenario and solves both stages (``model.solve``).

A scenario that cannot be solved is kept: status ``infeasible`` (targets cannot be met) or
``error`` (bad input values, solver trouble), with the message. ``Study.write`` writes
``scenarios.csv``, ``years.parquet``, ``sector_years.parquet`` (optimal scenarios, with a
leading ``scenario`` column), optionally ``abatement_steps.parquet`` and CSV copies, and
``study.json``; ``python run.py report`` draws it.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import itertools
import json
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
import tomllib
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow

from ..errors import EtscapError, InfeasibleError, InputError, Problem, did_you_mean, short_text
from ..lp.formulation import formulate
from ..data.inputs import Dataset, load_dataset
from ..lp.blocks import LinearProgram
from ..data.overrides import apply_overrides, override_field, parse_override
from ..parameters.derive import Parameters, derive_parameters
from ..solving.pipeline import solve, verified
from ..solving.resolve import KeptFormulation, Resolver
from ..results.tables import (Results, Target, _lock, _versions, commit, make_parent, read_csv, read_json,
                              remove_leftovers, write_csv, write_error, write_file, write_folder)
from ..data.schema import REQUIRED, Field, _markdown_row
from ..solving.highs import solver_options

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

SWEEP, MONTECARLO = "sweep", "montecarlo"
OPTIMAL, INFEASIBLE, ERROR = "optimal", "infeasible", "error"
SCENARIOS_FILE, INFO_FILE = "scenarios.csv", "study.json"
STUDY_FILES = (SCENARIOS_FILE, INFO_FILE)  # what makes a folder a study folder
TABLES = ("years", "sector_years", "abatement_steps")
MAX_SCENARIOS_PER_TASK = 50  # chunks small enough to spread, large enough that Dask's overhead is small
MAX_SCENARIOS = 1_000_000  # draws of a Monte Carlo study (montecarlo.n), and scenarios of a sweep
RESOLVERS_PER_THREAD = 8  # LPs of different structures a worker thread keeps

Progress = Callable[[int, int], None]  # (scenarios done, scenarios in all)


# -- the study file ---------------------------------------------------------------------

STUDY_FIELDS: tuple[Field, ...] = (
    Field("dataset", "str", "", "Dataset folder, relative to the study file."),
    Field("scenario", "str", "", "Named scenario of the dataset (scenarios/NAME.toml) every scenario "
          "starts from, or a list of names applied in order; the CLI's --scenario replaces it.", ""),
    Field("out", "str", "", "Study folder to write, relative to the study file and inside its folder "
          "(the CLI's --out, which may be anywhere, overrides it); blank: results/<study file name>.", ""),
    Field("allocation", "bool", "", "Also solve stage 2 (sector caps, free allocation) in every "
          "scenario; each scenario is then rebuilt, which is slower.", False),
    Field("csv", "bool", "", "Also write every table as CSV next to the Parquet files.", False),
    Field("abatement_steps", "bool", "", "Also keep abatement_steps (sector x step x year of every "
          "scenario: large).", False),
    Field("sweep.mode", "str", "", "product: every combination of the values of the keys; zip: the "
          "first values of every key together, then the second, ...", "product",
          choices=("product", "zip")),
    Field("montecarlo.n", "int", "", "Number of draws (scenarios).", REQUIRED, 1, MAX_SCENARIOS),
    Field("montecarlo.seed", "int", "", "Seed of numpy.random.default_rng: the same seed gives the same "
          "draws and results.", REQUIRED, 0, 2**32 - 1),
)
STUDY = {f.name: f for f in STUDY_FIELDS}

# A distribution's parameters, in the order numpy's Generator method takes them.
DISTRIBUTIONS: dict[str, tuple[Field, ...]] = {
    "normal": (Field("mean", "float", "", "Mean."),
               Field("sd", "float", "", "Standard deviation.", REQUIRED, 0.0)),
    "lognormal": (Field("mean", "float", "", "Mean of the logarithm; 0 gives a median of 1."),
                  Field("sigma", "float", "", "Standard deviation of the logarithm.", REQUIRED, 0.0)),
    "uniform": (Field("low", "float", "", "Lowest value."), Field("high", "float", "", "Highest value.")),
    "triangular": (Field("low", "float", "", "Lowest value."), Field("mode", "float", "", "Most likely value."),
                   Field("high", "float", "", "Highest value.")),
}


@dataclass(frozen=True)
class Distribution:
    """Where one Monte Carlo input's values come from: a kind of DISTRIBUTIONS and its parameters."""

    kind: str
    parameters: dict[str, float]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return getattr(rng, self.kind)(*self.parameters.values(), size=n)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.parameters}


@dataclass(frozen=True)
class StudyFile:
    """A validated study file (TOML): the dataset, the sweep grid and/or the Monte Carlo draws."""

    path: Path
    dataset: Path
    out: Path | None
    allocation: bool
    csv: bool
    abatement_steps: bool
    mode: str
    grid: dict[str, list[Any]]  # empty without a [sweep] table
    n: int | None  # None without a [montecarlo] table
    seed: int | None
    distributions: dict[str, Distribution]
    scenarios: tuple[str, ...] = ()  # named scenarios of the dataset, applied in order


def read_study_file(path: str | Path, kind: str) -> StudyFile:
    """Read and check a study file for ``kind`` ("sweep" needs [sweep], "montecarlo" needs
    [montecarlo]); every problem names the file and the key."""
    try:
        return _read_study_file(Path(path), kind)
    except RecursionError:  # tables or arrays nested thousands deep
        raise InputError(Problem(str(path), None, None, "values nested too deeply to read",
                                 "a study file as in README: Studies")) from None


def read_study_toml(path: Path) -> dict[str, Any]:
    """A study file's TOML document; a missing, unreadable or invalid file is refused with
    one message naming it (sweeps, Monte Carlo and design comparisons read it alike)."""
    name = str(path)
    if not path.is_file():
        raise InputError(Problem(name, None, None, None, "a study file (TOML, see README: Studies)"))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(Problem(name, None, None, None, f"a valid TOML file ({err})")) from None
    except OSError as err:
        raise InputError(Problem(name, None, None, f"a file that cannot be read ({err.strerror or err})",
                                 "a file this user can read (check its permissions)")) from None


def _read_study_file(path: Path, kind: str) -> StudyFile:
    name = str(path)
    document = read_study_toml(path)
    problems: list[Problem] = []
    known = {"dataset", "scenario", "out", "allocation", "csv", "abatement_steps", SWEEP, MONTECARLO}
    for key, value in document.items():
        if key not in known:
            problems.append(_problem(name, key, value, "a known key" + did_you_mean(key, known)))
    required_table = {SWEEP: "a [sweep] table with the values of at least one key",
                      MONTECARLO: "a [montecarlo] table with n, seed and [montecarlo.distributions]"}
    if kind not in required_table:
        raise ValueError(f"kind must be {SWEEP!r} or {MONTECARLO!r}")
    if kind not in document:
        problems.append(Problem(name, None, None, None, required_table[kind]))
    sweep_table = _table(document, SWEEP, name, problems)
    montecarlo_table = _table(document, MONTECARLO, name, problems)
    settings = {"sweep.mode": sweep_table.pop("mode", None)}
    distributions_raw = montecarlo_table.pop("distributions", {})
    for key in ("n", "seed"):
        settings[f"montecarlo.{key}"] = montecarlo_table.pop(key, None)
    for key, value in montecarlo_table.items():
        problems.append(_problem(name, f"montecarlo.{key}", value,
                                 "n, seed or [montecarlo.distributions]" + did_you_mean(key, ["n", "seed"])))
    named = document.get("scenario", [])
    named = [named] if isinstance(named, str) else named
    if not isinstance(named, list) or not all(isinstance(n, str) and n for n in named):
        problems.append(_problem(name, "scenario", document.get("scenario"),
                                 'a scenario name or a list of them, e.g. "aluminium-2030" or ["a", "b"]'))
        named = []
    values = {}
    for spec in STUDY_FIELDS:
        if spec.name.startswith(f"{MONTECARLO}.") and MONTECARLO not in document or spec.name == "scenario":
            continue
        raw = settings[spec.name] if spec.name in settings else document.get(spec.name)
        try:
            values[spec.name] = spec.convert(raw)
        except ValueError:
            problems.append(_problem(name, spec.name, raw, spec.expected()))
    grid = {}
    for key, raw in _flatten_keys(sweep_table).items():
        if not isinstance(raw, list) or not raw:
            problems.append(_problem(name, f'sweep."{key}"', raw, "a list of values, e.g. [2027, 2028]"))
        else:
            grid[key] = raw
    if kind == SWEEP and SWEEP in document and not grid and not problems:
        problems.append(Problem(name, None, None, None, "[sweep] to give the values of at least one key"))
    if not isinstance(distributions_raw, dict):
        problems.append(_problem(name, "montecarlo.distributions", distributions_raw,
                                 "a table of KEY = { kind = ..., ... }"))
        distributions_raw = {}
    distributions = {}
    for key, raw in _flatten_keys(distributions_raw, leaf="kind").items():
        try:
            distributions[key] = distribution(raw, f'{name}, key montecarlo.distributions."{key}"')
        except InputError as err:
            problems += err.problems
    if kind == MONTECARLO and MONTECARLO in document and not distributions and not problems:
        problems.append(Problem(name, None, None, None,
                                "[montecarlo.distributions] to give at least one KEY = { kind = ..., ... }"))
    if problems:
        raise InputError(problems)
    out = values.get("out")
    return StudyFile(
        path=path, dataset=_beside(path, values["dataset"]), out=_beside(path, out) if out else None,
        allocation=values["allocation"], csv=values["csv"], abatement_steps=values["abatement_steps"],
        mode=values["sweep.mode"], grid=grid, n=values.get("montecarlo.n"), seed=values.get("montecarlo.seed"),
        distributions=distributions, scenarios=tuple(named),
    )


def _beside(study_file: Path, relative: str) -> Path:
    """A path written in a study file: relative to the file's folder (absolute paths stay)."""
    return Path(os.path.normpath(study_file.parent / relative))


def _problem(file: str, key: str, found: Any, expected: str) -> Problem:
    return Problem(f"{file}, key {key}", None, None, None if found is None else short_text(found), expected)


def _table(document: dict[str, Any], key: str, file: str, problems: list[Problem]) -> dict[str, Any]:
    table = document.get(key, {})
    if not isinstance(table, dict):
        problems.append(_problem(file, key, table, f"a table [{key}]"))
        return {}
    return dict(table)


def _flatten_keys(table: dict[str, Any], prefix: str = "", leaf: str | None = None) -> dict[str, Any]:
    """Override keys written unquoted (``sectors.steel.trading_from = [...]``) arrive as nested
    tables: join them with dots again. A table holding ``leaf`` is a value, not a level."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and (leaf is None or leaf not in value):
            flat.update(_flatten_keys(value, dotted + ".", leaf))
        else:
            flat[dotted] = value
    return flat


def distribution(spec: Distribution | Mapping[str, Any], where: str = "distribution") -> Distribution:
    """A checked Distribution from ``{"kind": "uniform", "low": 0.95, "high": 1.05}`` (or one)."""
    if isinstance(spec, Distribution):
        spec = spec.as_dict()
    if not isinstance(spec, Mapping):
        raise InputError(Problem(where, None, None, short_text(spec),
                                 "a table { kind = ..., ... } with kind one of " + ", ".join(DISTRIBUTIONS)))
    kind = spec.get("kind")
    if kind not in DISTRIBUTIONS:
        raise InputError(Problem(f"{where}.kind", None, None, None if kind is None else short_text(kind),
                                 "one of " + ", ".join(map(repr, DISTRIBUTIONS)) + did_you_mean(kind, DISTRIBUTIONS)))
    fields = DISTRIBUTIONS[kind]
    names = [f.name for f in fields]
    problems = [Problem(f"{where}.{key}", None, None, short_text(value),
                        f"a parameter of a {kind} distribution: " + ", ".join(names) + did_you_mean(key, names))
                for key, value in spec.items() if key != "kind" and key not in names]
    parameters = {}
    for spec_field in fields:
        raw = spec.get(spec_field.name)
        try:
            parameters[spec_field.name] = spec_field.convert(raw)
        except ValueError:
            problems.append(Problem(f"{where}.{spec_field.name}", None, None,
                                    None if raw is None else short_text(raw), spec_field.expected()))
    if not problems and kind in ("uniform", "triangular"):  # the two with a low and a high
        low, high = parameters["low"], parameters["high"]
        if kind == "uniform" and low > high:
            problems.append(Problem(f"{where}.high", None, None, str(high), f"at least low ({low})"))
        if kind == "triangular" and not low <= parameters["mode"] <= high or kind == "triangular" and low == high:
            problems.append(Problem(f"{where}.mode", None, None, f"low {low}, mode {parameters['mode']}, high {high}",
                                    "low <= mode <= high with low < high"))
    if problems:
        raise InputError(problems)
    return Distribution(kind, parameters)


def study_file_reference() -> str:
    """The study file's keys as a Markdown table (kept in the README; a test checks it)."""
    lines = ["| key | type | unit | default | allowed | meaning |", "|---|---|---|---|---|---|"]
    lines += [_markdown_row(f) for f in STUDY_FIELDS]
    lines += ["", "| distribution | parameters (numpy.random.Generator's) |", "|---|---|"]
    lines += [f"| `{kind}` | " + ", ".join(f"`{f.name}` ({f.description[:-1].lower()}"
                                            + (f", {f.expected(with_unit=False)}" if f.minimum is not None else "")
                                            + ")" for f in fields) + " |"
              for kind, fields in DISTRIBUTIONS.items()]
    return "\n".join(lines) + "\n"


# -- designs: the table of scenarios ---------------------------------------------------


def sweep_inputs(dataset: Dataset, grid: Mapping[str, Sequence[Any]], mode: str = "product",
                 where: str = "sweep grid") -> pd.DataFrame:
    """One row per scenario, one column per key: every combination of the values
    (``product``, the first key varying slowest) or the values side by side (``zip``)."""
    if mode not in ("product", "zip"):
        raise InputError(Problem(f"{where}, key mode", None, None, short_text(mode), "one of 'product', 'zip'"))
    if not grid:
        raise InputError(Problem(where, None, None, None, "the values of at least one key"))
    values = {key: list(np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for key, v in grid.items()}
    problems = [Problem(f'{where}, key "{key}"', None, None, short_text(v), "a non-empty list of values")
                for key, v in values.items() if not v]
    for key in values:
        try:
            override_field(dataset, key, f'{where}, key "{key}"')
        except InputError as err:
            problems += err.problems
    lengths = {key: len(v) for key, v in values.items()}
    if mode == "zip" and len(set(lengths.values())) > 1:
        problems.append(Problem(where, None, None, ", ".join(f"{k}: {n}" for k, n in lengths.items()),
                                "lists of one length (mode zip pairs their values), or mode product"))
    # counted before any row is made: a grid of 10^9 points would fill the memory first
    scenarios = math.prod(lengths.values()) if mode == "product" else max(lengths.values())
    if scenarios > MAX_SCENARIOS:
        problems.append(Problem(where, None, None, f"{scenarios:,} scenarios ({' x '.join(map(str, lengths.values()))})"
                                if mode == "product" else f"{scenarios:,} scenarios",
                                f"at most {MAX_SCENARIOS:,} scenarios, the limit of montecarlo.n (fewer values)"))
    if problems:
        raise InputError(problems)
    rows = itertools.product(*values.values()) if mode == "product" else zip(*values.values())
    return pd.DataFrame(list(rows), columns=list(values))


def monte_carlo_inputs(dataset: Dataset, n: int, distributions: Mapping[str, Distribution | Mapping[str, Any]],
                       seed: int, where: str = "monte_carlo distributions") -> pd.DataFrame:
    """``n`` draws of each key, key by key in the order given, from ``default_rng(seed)``
    (a key added at the end leaves the draws of the others unchanged). A whole-number
    input (a year) set or shifted by a draw gets the rounded draw."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(Problem(f"{where}, n", None, None, short_text(n), "a whole number of draws of at least 1"))
    if not distributions:
        raise InputError(Problem(where, None, None, None, "a distribution for at least one key"))
    problems: list[Problem] = []
    checked: dict[str, tuple[Distribution, bool]] = {}
    for key, spec in distributions.items():
        location = f'{where}, key "{key}"'
        try:
            declared = override_field(dataset, key, location)
            operation = parse_override(key, None).operation
            if declared.kind not in ("int", "float"):
                raise InputError(Problem(location, None, None, None, f"a numeric input ({declared.name} is "
                                                                      f"{declared.kind})"))
            checked[key] = (distribution(spec, location), declared.kind == "int" and operation != "*")
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    rng = np.random.default_rng(seed)
    columns = {}
    for key, (spec, whole) in checked.items():
        drawn = spec.draw(rng, int(n))
        columns[key] = np.rint(drawn).astype(np.int64) if whole else drawn
    return pd.DataFrame(columns)


# -- running -------------------------------------------------------------------------------


def sweep(dataset: Dataset | str | Path, grid: Mapping[str, Sequence[Any]], *, mode: str = "product",
          client: "Client | str | None" = None, allocation: bool = False, abatement_steps: bool = False,
          reuse_model: bool = True, scenarios_per_task: int | None = None,
          progress: Progress | None = None) -> Study:
    """Solve the dataset once per combination of the grid's values (``mode="product"``) or
    per position in its lists (``mode="zip"``); e.g. ``{"sectors.aluminium.trading_from":
    [2027, 2028, 2029]}``. ``client``: None (in this process), "local" (a LocalCluster
    sized to the machine), a scheduler address, or a ``dask.distributed.Client``."""
    base = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    inputs = sweep_inputs(base, grid, mode)
    return run_scenarios(base, inputs, kind=SWEEP, info={"mode": mode}, client=client, allocation=allocation,
                         abatement_steps=abatement_steps, reuse_model=reuse_model,
                         scenarios_per_task=scenarios_per_task, progress=progress)


def monte_carlo(dataset: Dataset | str | Path, n: int, distributions: Mapping[str, Distribution | Mapping[str, Any]],
                seed: int, *, client: "Client | str | None" = None, allocation: bool = False,
                abatement_steps: bool = False, reuse_model: bool = True, scenarios_per_task: int | None = None,
                progress: Progress | None = None) -> Study:
    """Solve ``n`` scenarios whose inputs are drawn from ``distributions``, e.g.
    ``{"bau.steel.*.bau_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}}``
    (measurement error of +-5%). The same seed gives the same draws and the same results."""
    base = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    checked = {key: distribution(spec, f'monte_carlo distributions, key "{key}"')
               for key, spec in distributions.items()}
    inputs = monte_carlo_inputs(base, n, checked, seed)
    info = {"seed": seed, "distributions": {key: d.as_dict() for key, d in checked.items()}}
    return run_scenarios(base, inputs, kind=MONTECARLO, info=info, client=client, allocation=allocation,
                         abatement_steps=abatement_steps, reuse_model=reuse_model,
                         scenarios_per_task=scenarios_per_task, progress=progress)


def run_study_file(study_file: StudyFile, kind: str, *, client: "Client | str | None" = "local",
                   progress: Progress | None = None, scenarios: Sequence[str] | None = None,
                   checkpoint: "Checkpoint | None" = None, resume: bool = False) -> Study:
    """Run the sweep or the Monte Carlo study a study file describes, every scenario starting
    from the named ``scenarios`` of the dataset (default: the file's ``scenario`` key); finished
    chunks are saved to ``checkpoint``, and ``resume`` continues from it."""
    dataset = load_dataset(study_file.dataset, scenarios=study_file.scenarios if scenarios is None else scenarios)
    options: dict[str, Any] = dict(client=client, allocation=study_file.allocation,
                                   abatement_steps=study_file.abatement_steps, progress=progress,
                                   checkpoint=checkpoint, resume=resume)
    where = str(study_file.path)
    if kind == SWEEP:
        inputs = sweep_inputs(dataset, study_file.grid, study_file.mode, f"{where}, [sweep]")
        study = run_scenarios(dataset, inputs, kind=SWEEP, info={"mode": study_file.mode}, **options)
    else:
        assert study_file.n is not None and study_file.seed is not None  # read_study_file requires both
        inputs = monte_carlo_inputs(dataset, study_file.n, study_file.distributions, study_file.seed,
                                    f"{where}, [montecarlo.distributions]")
        info = {"seed": study_file.seed,
                "distributions": {key: d.as_dict() for key, d in study_file.distributions.items()}}
        study = run_scenarios(dataset, inputs, kind=MONTECARLO, info=info, **options)
    study.info["study_file"] = str(study_file.path)
    return study


@dataclass(frozen=True)
class _Task:
    """What every scenario of one study shares (sent once with each chunk)."""

    base_key: str  # the base dataset's sha256: identifies it in the workers' caches
    allocation: bool
    reuse_model: bool
    tables: tuple[str, ...]


@dataclass
class _Outcome:
    """A chunk's scenarios: status and objective of each, and the tables of the optimal ones."""

    scenario: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)
    objective_bn_cny: list[float] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def run_scenarios(dataset: Dataset | str | Path, inputs: pd.DataFrame, *, kind: str = "scenarios",
                  info: Mapping[str, Any] | None = None, client: "Client | str | None" = None,
                  allocation: bool = False, abatement_steps: bool = False, reuse_model: bool = True,
                  scenarios_per_task: int | None = None, progress: Progress | None = None,
                  checkpoint: "Checkpoint | None" = None, resume: bool = False) -> Study:
    """Solve one scenario per row of ``inputs`` (columns: override keys, values: what each
    scenario sets). ``reuse_model=False`` rebuilds every scenario through Pyomo (the slow
    path, for comparison). ``checkpoint``: save each finished chunk there; with ``resume``,
    solve only the scenarios it does not hold yet (the tables equal an uninterrupted run's)."""
    base = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    keys = [str(column) for column in inputs.columns]
    for key in keys:
        override_field(base, key, f'scenarios, key "{key}"')
    task = _Task(base.sha256, allocation, reuse_model, TABLES if abatement_steps else TABLES[:2])
    columns = [inputs[key].tolist() for key in keys]  # Python scalars: what a TOML file or --set gives
    rows = zip(*columns) if keys else itertools.repeat((), len(inputs))
    scenarios = [(i, dict(zip(keys, values))) for i, values in enumerate(rows)]
    plan = {"kind": kind, "inputs_sha256": base.sha256, "named_scenarios": [s["name"] for s in base.scenarios],
            "scenarios_sha256": _scenarios_sha256(inputs),
            "n": len(inputs), "allocation": allocation, "reuse_model": reuse_model, "tables": list(task.tables)}
    kept = checkpoint.start(plan, resume) if checkpoint is not None else []
    solved_before = {i for outcome in kept for i in outcome.scenario}
    todo = [s for s in scenarios if s[0] not in solved_before]
    started = time.perf_counter()
    with _dask_client(client) as dask_client:
        workers = len(dask_client.scheduler_info()["workers"]) if dask_client else 1
        size = scenarios_per_task or max(1, min(MAX_SCENARIOS_PER_TASK,
                                                math.ceil(len(scenarios) / (4 * max(workers, 1)))))
        chunks = _chunks(todo, size)
        ready = time.perf_counter()
        log.info("%s: %d scenarios in %d tasks on %s", kind, len(scenarios), len(chunks),
                 f"{workers} Dask workers" if dask_client else "this process")
        outcomes = list(kept)
        for outcome in _run_chunks(dask_client, base, task, chunks, len(scenarios), progress, len(solved_before)):
            if checkpoint is not None:
                checkpoint.save(outcome)
            outcomes.append(outcome)
    finished = time.perf_counter()
    study = _gather(outcomes, inputs, task.tables)
    counts = study.scenarios["status"].value_counts()
    study.info = {
        "kind": kind, "dataset": str(base.path), "parameters": keys, "n": len(inputs), "seed": None,
        **dict(info or {}),
        "allocation": allocation, "reuse_model": reuse_model and not allocation,
        "inputs_sha256": base.sha256,
        # scenarios/NAME.toml applied to the base: names (in order) and each one's overrides
        "named_scenarios": [str(s["name"]) for s in base.scenarios],
        "named_scenario_overrides": {str(s["name"]): dict(s["overrides"]) for s in base.scenarios},
        "run_on": f"{workers} Dask worker{'s' * (workers != 1)}" if dask_client else "this process",
        "workers": workers, "scenarios_per_task": size, "resumed_scenarios": len(solved_before),
        "seconds": {"start": round(ready - started, 3), "scenarios": round(finished - ready, 3)},
        "elapsed_seconds": round(finished - started, 3),
        "scenarios_per_second": round(len(inputs) / max(finished - ready, 1e-9), 2),
        "versions": {**_versions(), **{p: _version(p) for p in ("dask", "distributed", "pyarrow")}},
    }
    log.debug("%s: %d optimal, %d infeasible, %d errors in %.1f s", kind, counts.get(OPTIMAL, 0),
             counts.get(INFEASIBLE, 0), counts.get(ERROR, 0), finished - started)
    return study


def _chunks(scenarios: list[tuple[int, dict]], size: int) -> list[list[tuple[int, dict]]]:
    """Chunks of at most ``size`` consecutive scenarios (a resumed study's remaining ones may
    have gaps: a chunk never spans one, so chunks stay ordered runs of scenario numbers)."""
    chunks: list[list[tuple[int, dict]]] = []
    for scenario in scenarios:
        if chunks and len(chunks[-1]) < size and chunks[-1][-1][0] == scenario[0] - 1:
            chunks[-1].append(scenario)
        else:
            chunks.append([scenario])
    return chunks


def _scenarios_sha256(inputs: pd.DataFrame) -> str:
    """A fingerprint of the scenarios table (keys and values): a checkpoint resumes only the same study."""
    digest = hashlib.sha256(json.dumps([str(c) for c in inputs.columns]).encode())
    digest.update(pd.util.hash_pandas_object(inputs, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@contextlib.contextmanager
def _dask_client(client: "Client | str | None") -> Iterator["Client | None"]:
    """None: no Dask; "local": a LocalCluster of one single-threaded worker per core, closed
    afterwards; an address: connect to that scheduler; a Client: use it as it is."""
    if client is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        yield client
        return
    if client == "local":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        with _quiet_ctrl_c(), LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=logging.ERROR,
                                           preload=[__name__]) as cluster, Client(cluster) as local:
            try:
                yield local
            except KeyboardInterrupt:  # workers stop after their current scenario: the cluster closes at once
                with contextlib.suppress(Exception):
                    local.run(_stop_worker)
                raise
        return
    try:
        connected = Client(client, timeout="10s")
    except (ValueError, TypeError) as err:
        raise EtscapError(f"--scheduler {client!r} is not a Dask scheduler address ({err}): give one like "
                          "tcp://10.0.0.5:8786, or drop --scheduler") from None
    except OSError as err:
        raise EtscapError(f"cannot reach the Dask scheduler at {client!r} ({err}): start it with "
                          "`dask scheduler` and workers that can import etscap, or drop --scheduler") from None
    with connected:
        yield connected


@contextlib.contextmanager
def _quiet_ctrl_c() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt as usual and from that moment silences logging: a cluster
    closed mid-study logs its lost connections (distributed: as CRITICAL), expected and not news."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        logging.disable(logging.CRITICAL)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        logging.disable(logging.NOTSET)


_stopping = threading.Event()  # set in a local cluster's workers when its study is interrupted


def _stop_worker() -> None:
    """Run on each worker of an interrupted local study: its chunk ends after the current scenario
    (the cluster is then closed, so nothing of that chunk is needed)."""
    _stopping.set()


def dask_setup(worker: Any) -> None:
    """Preload of the local cluster's workers (``preload=["model.studies.study"]``): a worker ignores
    SIGINT (a terminal's Ctrl-C goes to the whole process group), so this process alone stops
    the study, cancels the work and closes the cluster, instead of every worker dying with
    its own traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunks(dask_client: "Client | None", base: Dataset, task: _Task, chunks: list[list[tuple[int, dict]]],
                total: int, progress: Progress | None, done: int = 0) -> Iterator[_Outcome]:
    if progress and done:
        progress(done, total)
    if dask_client is None:
        for chunk in chunks:
            yield _solve_chunk(base, task, chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        return
    from distributed import as_completed

    shared = dask_client.scatter(base, broadcast=True, hash=False)
    futures = [dask_client.submit(_solve_chunk, shared, task, chunk, pure=False) for chunk in chunks]
    try:
        for future in as_completed(futures):
            outcome = future.result()
            done += len(outcome.scenario)
            if progress:
                progress(done, total)
            yield outcome
    finally:
        dask_client.cancel(futures)


def _gather(outcomes: list[_Outcome], inputs: pd.DataFrame, tables: tuple[str, ...]) -> Study:
    """The chunks' outcomes in scenario order: the scenarios index and one table per output."""
    outcomes = sorted(outcomes, key=lambda o: o.scenario[0] if o.scenario else -1)
    scenario = np.concatenate([o.scenario for o in outcomes]).astype(np.int64) if outcomes else np.zeros(0, int)
    if not np.array_equal(scenario, np.arange(len(inputs))):
        raise EtscapError("internal: scenarios went missing between the workers and the study")
    index = pd.DataFrame({
        "scenario": scenario,
        "status": list(itertools.chain.from_iterable(o.status for o in outcomes)),
        "message": list(itertools.chain.from_iterable(o.message for o in outcomes)),
    })
    if not _numbered(inputs.index):  # the caller named its scenarios (the index): keep the names
        index.insert(1, "scenario_name", [str(n) for n in inputs.index])
    index = pd.concat([index, inputs.reset_index(drop=True)], axis=1)
    index["objective_bn_cny"] = np.concatenate([o.objective_bn_cny for o in outcomes]) if outcomes else []
    frames = {name: [o.tables[name] for o in outcomes if name in o.tables] for name in tables}
    return Study(info={}, scenarios=index,
                 **{name: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"scenario": []})
                    for name, parts in frames.items()})


def _numbered(index: pd.Index) -> bool:
    """Whether an index only numbers rows 0, 1, ... (what a table of scenarios has when unnamed)."""
    return index.name is None and index.equals(pd.RangeIndex(len(index)))


# -- in the worker ---------------------------------------------------------------------------

_thread = threading.local()  # each worker thread keeps its own Resolvers (HiGHS is not shared)
MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's own ceiling for its dynamic mmap threshold (64-bit)
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES  # and for its trim threshold, which follows it
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (glibc malloc.h)
_malloc_tuned = [False]  # whether this process's malloc thresholds were set (once, in a Dask worker)


def _keep_arrays_on_heap() -> None:
    """Give this process glibc's own malloc ceilings again when ``MALLOC_TRIM_THRESHOLD_`` is set,
    as Dask's nanny sets it for every worker (``distributed.nanny.pre-spawn-environ``): the
    variable also switches off glibc's dynamic thresholds, so every array above 128 KiB is
    mmap'ed and unmapped again, and the heap is trimmed at 64 KiB, and each new array pays
    its page faults afresh, which doubled a facility-resolution scenario's CPU on a worker
    (6,837 installations: 175 ms against 93 ms in one process). The mmap threshold is set to
    32 MiB and the trim threshold to 64 MiB, the ceilings glibc's dynamic thresholds reach by
    themselves. Without the variable, or without glibc, nothing changes."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
        _malloc_tuned[0] = True


def _in_dask_worker() -> bool:
    """Whether this thread runs a Dask worker's task (never imports distributed itself)."""
    if "distributed" not in sys.modules:
        return False
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


def _solve_chunk(base: Dataset, task: _Task, chunk: list[tuple[int, dict[str, Any]]]) -> _Outcome:
    """Solve a chunk of scenarios one after another; a scenario that fails is recorded, not raised."""
    if not _malloc_tuned[0] and _in_dask_worker():
        _keep_arrays_on_heap()
    outcome = _Outcome()
    solved: dict[str, list[pd.DataFrame]] = {name: [] for name in task.tables}
    solved_ids: list[int] = []
    for scenario, overrides in chunk:
        if _stopping.is_set():
            break
        status, message, objective = OPTIMAL, "", math.nan
        try:
            results = _solve_scenario(base, task, overrides)
        except InfeasibleError as err:
            status, message = INFEASIBLE, str(err)
        except EtscapError as err:
            status, message = ERROR, str(err)
        else:
            objective = float(results.summary["objective_bn_cny"])
            for name in task.tables:
                solved[name].append(getattr(results, name))
            solved_ids.append(scenario)
        outcome.scenario.append(scenario)
        outcome.status.append(status)
        outcome.message.append(message)
        outcome.objective_bn_cny.append(objective)
    for name, frames in solved.items():
        if frames:
            table = pd.concat(frames, ignore_index=True)
            table.insert(0, "scenario", np.repeat(solved_ids, [len(f) for f in frames]).astype(np.int64))
            outcome.tables[name] = table
    return outcome


def _solve_scenario(base: Dataset, task: _Task, overrides: dict[str, Any]) -> Results:
    """One scenario's results: re-solved on a kept LP, or rebuilt (allocation, or asked to)."""
    scenario = apply_overrides(base, overrides) if overrides else base
    if task.allocation or not task.reuse_model:
        return solve(scenario, allocation=task.allocation, installations=False)
    parameters = derive_parameters(scenario)
    kept = _kept_formulation(base, task.base_key)
    lp = kept.formulate(parameters) if kept is not None else formulate(parameters)
    resolver, start = _resolver(base, task.base_key, parameters, lp)
    return verified(resolver.solve(parameters, start=start, lp=lp))


def _resolver(base: Dataset, base_key: str, parameters: Parameters, lp: LinearProgram) -> tuple[Resolver, str]:
    """The thread's Resolver for this LP structure and its start: the base dataset's own LP
    re-solves from the base optimum ("reference"); any other structure solves cold."""
    if not hasattr(_thread, "resolvers"):
        _thread.resolvers, _thread.base_keys = OrderedDict(), {}
    resolvers: OrderedDict = _thread.resolvers
    key = (base_key, lp.structure(), _options_key(parameters))
    if key not in resolvers:
        if base_key not in _thread.base_keys:
            base_parameters = derive_parameters(base)
            _thread.base_keys[base_key] = (base_key, formulate(base_parameters).structure(),
                                           _options_key(base_parameters))
        if key == _thread.base_keys[base_key]:
            base_parameters = derive_parameters(base)
            resolver = Resolver(base_parameters, hash_inputs=False, installations=False)
            with contextlib.suppress(EtscapError):
                resolver.solve(base_parameters, start="reference")
            # an infeasible base leaves no optimum to start from: its scenarios then solve cold
            resolvers[key] = (resolver, "reference" if resolver.reference_basis is not None else "cold")
        else:
            resolvers[key] = (Resolver(parameters, hash_inputs=False, installations=False), "cold")
        while len(resolvers) > RESOLVERS_PER_THREAD:
            resolvers.popitem(last=False)
    resolvers.move_to_end(key)
    return resolvers[key]


def _kept_formulation(base: Dataset, base_key: str) -> KeptFormulation | None:
    """The thread's formulation of the base, family by family: a scenario's LP re-uses the
    families whose reads it leaves as the base has them (None: the base could not be recorded,
    and each scenario is formulated whole, raising what formulate raises). Recorded for this
    very base object: a scenario's tables are compared with the base's by identity, so one
    recorded from another load of the same files (same sha256) would compare every read by
    value instead (30% more per scenario of a sweep: measured on 608e945's default dataset)."""
    if not hasattr(_thread, "formulations"):
        _thread.formulations = OrderedDict()
    formulations: OrderedDict = _thread.formulations
    if base_key not in formulations or formulations[base_key][0] is not base:
        try:
            formulations[base_key] = (base, KeptFormulation(derive_parameters(base)))
        except Exception:  # noqa: BLE001 (a rule that cannot be recorded: its scenarios are written whole)
            formulations[base_key] = (base, None)
        while len(formulations) > RESOLVERS_PER_THREAD:
            formulations.popitem(last=False)
    formulations.move_to_end(base_key)
    return formulations[base_key][1]


def _options_key(parameters: Parameters) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in solver_options(parameters.dataset.settings).items()))


# -- the study and its folder -----------------------------------------------------------------


@dataclass
class Study:
    """A study's scenarios (one row each: status, message, the overridden inputs, objective)
    and the tables of its optimal scenarios, each with a leading ``scenario`` column."""

    info: dict[str, Any]
    scenarios: pd.DataFrame
    years: pd.DataFrame
    sector_years: pd.DataFrame
    abatement_steps: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def parameters(self) -> list[str]:
        """The override keys the study varies (columns of ``scenarios``)."""
        return list(self.info.get("parameters", []))

    def with_inputs(self, table: str = "years") -> pd.DataFrame:
        """A table of the study with each scenario's overridden values as leading columns."""
        named = ["scenario_name"] if "scenario_name" in self.scenarios.columns else []
        inputs = self.scenarios[["scenario", *named, *self.parameters]]
        return inputs.merge(getattr(self, table), on="scenario", how="inner", validate="one_to_many")

    def tables(self) -> dict[str, pd.DataFrame]:
        """years and sector_years, and abatement_steps if the study kept it."""
        tables = {name: getattr(self, name) for name in TABLES}
        if self.abatement_steps.empty:
            del tables["abatement_steps"]
        return tables

    def write(self, out: "str | Path | Target", force: bool = False, csv: bool = False,
              checkpoint: "Checkpoint | None" = None) -> Path:
        """Write the study folder (Parquet tables, scenarios.csv, study.json; with ``csv``
        also CSV tables); the folder appears whole or not at all. With the ``checkpoint`` the
        study ran with, the files are written into it and it becomes the folder; if that
        fails, the checkpoint keeps what was solved for --resume."""
        def write_into(folder: Path) -> None:
            self.scenarios.to_csv(folder / SCENARIOS_FILE, index=False, lineterminator="\n")
            for name, table in self.tables().items():
                table.to_parquet(folder / f"{name}.parquet", index=False)
                if csv:
                    write_csv(table, folder / f"{name}.csv")
            (folder / INFO_FILE).write_text(json.dumps(self.info, indent=2, default=str) + "\n")

        if checkpoint is not None:
            return checkpoint.write(write_into)
        return write_folder(out, write_into, force)

    @classmethod
    def read(cls, folder: str | Path) -> "Study":
        """A study folder written by ``write``."""
        folder = Path(folder)
        missing = [f for f in (*STUDY_FILES, "years.parquet") if not (folder / f).is_file()]
        if missing:
            raise EtscapError(f"{folder} is not a study folder: {', '.join(missing)} missing")
        info = read_json(folder / INFO_FILE)
        tables = {name: _read_parquet(folder / f"{name}.parquet") if (folder / f"{name}.parquet").is_file()
                  else pd.DataFrame() for name in TABLES}
        return cls(info=info, scenarios=read_csv(folder / SCENARIOS_FILE, ("scenario", "status")), **tables)


def _read_parquet(path: Path) -> pd.DataFrame:
    """A study table, or an EtscapError naming a file that is not whole Parquet."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pyarrow.ArrowException) as err:
        raise EtscapError(f"{path} is damaged or was not written by etscap ({err}): write the study again") from None


# -- the checkpoint: what a study has solved so far -------------------------------------------

PARTS = "parts"  # inside the checkpoint folder: plan.json and the finished chunks
PLAN_FILE = "plan.json"
RESUME_HINT = "run the same command again with --resume to continue"


class Checkpoint:
    """A study's staging folder beside its ``out`` (``.NAME.checkpoint``), made and locked
    before anything is solved: every finished chunk is saved to it (Parquet parts), so a
    study interrupted (Ctrl-C, a kill) or whose final write fails keeps what it solved, and
    ``resume`` continues from it. At the end the study's files are written into it and it is
    moved into place as the study folder (``results.commit``)."""

    def __init__(self, target: Target):
        self.target = target
        out = target.path
        self.folder = out.parent / f".{out.name}.checkpoint"
        self.parts = self.folder / PARTS
        self.saved = 0  # scenarios the checkpoint holds
        make_parent(out)
        remove_leftovers(out)
        try:
            self.folder.mkdir(exist_ok=True)
            descriptor = _lock(self.folder, blocking=False)
        except OSError as err:
            raise write_error(out, err, kept="nothing was solved") from None
        if descriptor is None:
            raise EtscapError(f"another run is writing {out} (it holds {self.folder}): wait for it to finish, "
                              "or choose another --out")
        self._descriptor: int | None = descriptor

    def start(self, plan: dict[str, Any], resume: bool) -> list[_Outcome]:
        """Check the checkpoint against this study's ``plan`` and return the chunks it holds
        (with ``resume``); a checkpoint holding scenarios is never silently discarded."""
        kept = self._load()
        solved = sum(len(o.scenario) for o in kept)
        if solved and not resume:
            self.close()
            raise EtscapError(f"{self.folder} holds {solved} scenarios an interrupted run of a study solved: "
                              "add --resume to continue it, or remove that folder to start over")
        if solved:
            try:
                before = json.loads((self.parts / PLAN_FILE).read_text())
            except (OSError, ValueError):
                before = {}
            differ = [key for key in plan if before.get(key) != plan[key]]
            if differ:
                self.close()
                raise EtscapError(f"{self.folder} is the checkpoint of another study (its {', '.join(differ)} "
                                  "differ): remove that folder to start over, or choose another --out")
            log.info("resuming: %d of %d scenarios solved before", solved, plan["n"])
            self.saved = solved
            return kept
        for entry in self.folder.iterdir():  # e.g. the old folder of a run killed after its swap
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        self.parts.mkdir()
        write_file(self.parts / PLAN_FILE, lambda path: path.write_text(json.dumps(plan, indent=2) + "\n"), force=True)
        return []

    def save(self, outcome: _Outcome) -> None:
        """Save a finished chunk: its tables, then its index (the index's presence marks it whole)."""
        if not outcome.scenario:
            return
        stem = f"{outcome.scenario[0]:09d}-{uuid.uuid4().hex[:8]}"
        try:
            for name, table in outcome.tables.items():
                write_file(self.parts / f"{stem}.{name}.parquet",
                           lambda path, table=table: table.to_parquet(path, index=False), force=True)
            index = pd.DataFrame({"scenario": np.asarray(outcome.scenario, dtype=np.int64), "status": outcome.status,
                                  "message": outcome.message, "objective_bn_cny": outcome.objective_bn_cny})
            write_file(self.parts / f"{stem}.index.parquet", lambda path: index.to_parquet(path, index=False),
                       force=True)
        except EtscapError as err:
            raise EtscapError(f"{err} (checkpoint of {self.target.path}: {self.saved} scenarios kept in "
                              f"{self.folder}; {RESUME_HINT})") from None
        self.saved += len(outcome.scenario)

    def _load(self) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        if not (self.parts / PLAN_FILE).is_file():
            return outcomes
        for index_file in sorted(self.parts.glob("*.index.parquet")):
            stem = index_file.name.removesuffix(".index.parquet")
            index = pd.read_parquet(index_file)
            outcome = _Outcome(scenario=index["scenario"].tolist(), status=index["status"].tolist(),
                               message=index["message"].tolist(),
                               objective_bn_cny=index["objective_bn_cny"].tolist())
            for name in TABLES:
                part = self.parts / f"{stem}.{name}.parquet"
                if part.is_file():
                    outcome.tables[name] = pd.read_parquet(part)
            outcomes.append(outcome)
        return outcomes

    def write(self, write_into: Callable[[Path], None]) -> Path:
        """Write the study's files into the checkpoint and move it into place; the parts are
        set aside during the move (and put back if it fails), then removed."""
        out = self.target.path
        kept = f"the {self.saved} solved scenarios are kept in {self.folder}; {RESUME_HINT}"
        try:
            for entry in self.folder.iterdir():  # a failed write's files: written again
                if entry.name != PARTS:
                    shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            write_into(self.folder)
        except OSError as err:
            raise write_error(out, err, kept=kept) from None
        parked = out.parent / f".{out.name}.writing-parts-{uuid.uuid4().hex[:8]}"
        os.rename(self.parts, parked)
        try:
            written = commit(self.folder, self.target)
        except BaseException as err:
            os.rename(parked, self.parts)
            if isinstance(err, EtscapError):
                raise EtscapError(f"{err}; {kept}") from None
            if isinstance(err, OSError):
                raise write_error(out, err, kept=kept) from None
            raise
        self.close()
        shutil.rmtree(parked, ignore_errors=True)
        return written

    def close(self) -> None:
        """Let go of the checkpoint; one that holds nothing solved is removed."""
        if self._descriptor is None:
            return
        os.close(self._descriptor)
        self._descriptor = None
        if self.saved == 0 and self.folder.is_dir() and not any((self.parts).glob("*.index.parquet")):
            shutil.rmtree(self.folder, ignore_errors=True)


def study_folder(study_file: StudyFile, out: str | Path | None) -> Path:
    """Where a study is written: ``out`` from the command line (anywhere), else the study
    file's ``out``, which must stay inside the study file's folder (so a careless ``out =
    ".."`` can never name the project around it), else results/<study file name>."""
    if out is not None:
        return Path(out)
    if study_file.out is None:
        return Path("results") / study_file.path.stem
    home = study_file.path.parent.resolve()
    if not study_file.out.resolve().is_relative_to(home) or study_file.out.resolve() == home:
        raise InputError(Problem(f"{study_file.path}, key out", None, None, str(study_file.out),
                                 f"a folder inside the study file's folder ({home}); give --out on the "
                                 "command line to write elsewhere"))
    return study_file.out
