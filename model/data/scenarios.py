"""Named scenarios: ``DATASET/scenarios/NAME.toml``, a description and overrides in the
``--set`` syntax, applied by name (``solve --scenario NAME``, ``load_dataset(path,
scenarios=[NAME])``, ``scenario = ...`` in a study file).

A scenario file::

    description = "Aluminium trades from 2030 instead of 2027"
    [set]
    "sectors.aluminium.trading_from" = 2030
    "mac.cement.*.cost_cny_per_t*" = 1.2      # a trailing * multiplies, + adds
    discount_rate = 0.03

Several names compose in the order given (a later scenario's value for the same key wins;
``*`` and ``+`` apply to the value left by the earlier ones), and ``--set`` applies on top.
A scenario changes inputs only: every value is checked as a ``--set`` value is, and a
problem names the scenario file and key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import InputError, Problem, did_you_mean
from .inputs import Dataset

SCENARIOS_FOLDER = "scenarios"
SCENARIO_FILE_KEYS = ("description", "set")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as scenario.toml's name: a folder name
MAX_SCENARIO_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class NamedScenario:
    """One scenario file: its name (the file's stem), description and overrides in order."""

    name: str
    description: str
    overrides: tuple[tuple[str, Any], ...]  # (key as written, operator included; value)
    file: str  # as problems name it: scenarios/NAME.toml

    def as_dict(self) -> dict[str, Any]:
        """What summary.json and study.json record."""
        return {"name": self.name, "description": self.description, "file": self.file,
                "overrides": {key: value for key, value in self.overrides}}


def scenario_names(folder: str | Path) -> list[str]:
    """The named scenarios a dataset folder holds (``scenarios/*.toml``), sorted."""
    directory = Path(folder) / SCENARIOS_FOLDER
    return sorted(p.stem for p in directory.glob("*.toml")) if directory.is_dir() else []


def read_scenario(folder: str | Path, name: str) -> NamedScenario:
    """Read and check the form of ``folder/scenarios/NAME.toml`` (keys and values are
    checked against the dataset when applied)."""
    folder = Path(folder)
    file = f"{SCENARIOS_FOLDER}/{name}.toml"
    if not NAME_PATTERN.match(name):
        raise InputError(Problem(f"--scenario {name}", None, None, None,
                                 "a scenario name of letters, digits, '_', '-' and '.' (the stem of a file "
                                 f"in {folder / SCENARIOS_FOLDER})"))
    path = folder / file
    if not path.is_file():
        known = scenario_names(folder)
        listing = ("one of " + ", ".join(known) + did_you_mean(name, known)) if known else \
            f"a file {path} (the dataset has no named scenarios yet; see README: Named scenarios)"
        raise InputError(Problem(f"--scenario {name}", None, None, None, listing))
    if not path.resolve().is_relative_to(folder.resolve()):
        raise InputError(Problem(file, None, None, f"a link to {path.resolve()}",
                                 "a file inside the dataset folder (copy the file instead of linking it)"))
    if path.stat().st_size > MAX_SCENARIO_FILE_BYTES:
        raise InputError(Problem(file, None, None, f"{path.stat().st_size} bytes",
                                 f"at most {MAX_SCENARIO_FILE_BYTES} bytes"))
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(Problem(file, None, None, None, "a UTF-8 text file")) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(Problem(file, None, None, None, f"valid TOML ({err})")) from None
    problems: list[Problem] = []
    for key, value in document.items():
        if key not in SCENARIO_FILE_KEYS:
            hint = (f"; put overrides under [set], e.g. [set] \"{key}\" = ..." if not isinstance(value, dict)
                    else "")
            problems.append(Problem(f"{file}, key {key}", None, None, None,
                                    "description or [set]" + did_you_mean(key, SCENARIO_FILE_KEYS) + hint))
    description = document.get("description", "")
    if not isinstance(description, str):
        problems.append(Problem(f"{file}, key description", None, None, str(description), "text in quotes"))
    table = document.get("set", {})
    if not isinstance(table, dict):
        problems.append(Problem(f"{file}, key set", None, None, str(table),
                                'a table [set] of KEY = VALUE, e.g. "sectors.steel.trading_from" = 2028'))
        table = {}
    overrides = tuple(_flatten(table).items())
    if not overrides and not problems:
        problems.append(Problem(file, None, None, None,
                                'a [set] table with at least one override, e.g. "discount_rate" = 0.03'))
    for key, value in overrides:
        if isinstance(value, (dict, list)):
            problems.append(Problem(f"{file}, key set.\"{key}\"", None, None, str(value),
                                    "one value (a number, true/false or text), as after --set KEY="))
    if problems:
        raise InputError(problems)
    return NamedScenario(name, description if isinstance(description, str) else "", overrides, file)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``market.banking = true`` (a TOML dotted key, i.e. a nested table) as ``"market.banking"``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def apply_scenarios(dataset: Dataset, names: Sequence[str] | str, folder: str | Path | None = None) -> Dataset:
    """``dataset`` with the named scenarios of ``folder`` (default: the dataset's own folder)
    applied in order; the result records them in ``Dataset.scenarios``."""
    from .overrides import apply_overrides, override_field  # overrides imports inputs: no cycle at load

    names = [names] if isinstance(names, str) else list(names)
    if not names:
        return dataset
    folder = Path(folder) if folder is not None else _folder_of(dataset)
    named = [read_scenario(folder, name) for name in names]
    problems: list[Problem] = []
    where: dict[str, str] = {}  # the --set label apply_overrides gives a problem -> its scenario file and key
    for scenario in named:
        for key, value in scenario.overrides:
            location = f"{scenario.file}, key set.\"{key}\""
            try:
                override_field(dataset, key, location)
            except InputError as err:
                problems += err.problems
            where[f"--set {key}={value}"] = location
    if problems:
        raise InputError(problems)
    overrides = [pair for scenario in named for pair in scenario.overrides]
    try:
        applied = apply_overrides(dataset, overrides)
    except InputError as err:
        raise InputError([_located(p, where) for p in err.problems]) from None
    return _recorded(applied, dataset.scenarios + tuple(s.as_dict() for s in named))


def _folder_of(dataset: Dataset) -> Path:
    path = Path(dataset.path)
    return path.parent if path.is_file() else path  # a workbook dataset keeps scenarios beside it


def _located(problem: Problem, where: dict[str, str]) -> Problem:
    """A problem of one override, named by the scenario file and key it came from."""
    for label, location in where.items():  # apply_overrides names the --set, then perhaps ", in FILE"
        if problem.file == label or problem.file.startswith(f"{label}, in "):
            return Problem(location + problem.file[len(label):], problem.row, problem.column, problem.found,
                           problem.expected)
    return problem


def _recorded(dataset: Dataset, scenarios: Iterable[dict[str, Any]]) -> Dataset:
    import dataclasses

    return dataclasses.replace(dataset, scenarios=tuple(scenarios))


def describe(folder: str | Path) -> list[NamedScenario]:
    """Every named scenario of a dataset folder, read (for listings)."""
    return [read_scenario(folder, name) for name in scenario_names(folder)]
