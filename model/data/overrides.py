"""One way to name and change any input: ``--set``, sweep grids and Monte Carlo draws.

Keys:

- a scenario key: ``discount_rate``, ``market.banking``, ``solver.method``;
- a table cell or column: ``TABLE.ROW.COLUMN`` with the table's key columns as ROW,
  e.g. ``sectors.aluminium.trading_from``, ``targets.2035.national_cap_mt``,
  ``mac.cement.T4.cost_cny_per_t``; ``*`` in ROW matches every row
  (``mac.cement.*.cost_cny_per_t``).

A key ending in ``*`` multiplies the current numbers by the value and one ending in
``+`` adds to them (``mac.cement.*.cost_cny_per_t*=1.2``); otherwise the value
replaces them. Values are checked against the declarations in ``schema.py``.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import fastpath, schema
from ..errors import InputError, Problem, did_you_mean
from .inputs import Dataset, freeze_own


@dataclass(frozen=True)
class Override:
    """A parsed override: where it applies and how."""

    key: str  # as written, without the operator
    operation: str  # "=", "*" or "+"
    value: Any

    @property
    def label(self) -> str:
        return f"{self.key}{'' if self.operation == '=' else self.operation}"


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``KEY=VALUE`` (also ``KEY*=VALUE`` and ``KEY+=VALUE``) as typed on the CLI."""
    if "=" not in text:
        raise InputError(Problem(f"--set {text}", None, None, None, "KEY=VALUE, e.g. discount_rate=0.03"))
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def apply_overrides(dataset: Dataset, overrides: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Dataset:
    """A copy of ``dataset`` with the overrides applied, checked as a loaded dataset is."""
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    settings = dict(dataset.settings)
    changed: dict[str, pd.DataFrame] = {}  # copies of the tables an override changes; the rest are shared
    tables = ChainMap(changed, {name: dataset.table(name) for name in schema.TABLES_BY_NAME})
    problems: list[Problem] = []
    touched: list[tuple[str, str, Sequence[int | None], str]] = []  # (--set, file, rows, column) of each override
    for raw_key, value in items:
        override = parse_override(raw_key, value)
        where = f"--set {raw_key}={value}"
        try:
            if override.key in schema.SCENARIO:
                _set_setting(settings, override)
                touched.append((where, schema.SCENARIO_FILE, [None], override.key))
            else:
                touched.append((where, *_set_cells(tables, override)))
        except _OverrideProblem as err:
            problems.append(Problem(where, None, None, None, str(err)))
    for where, file, rows, column in touched:
        problems += _replaced_by_bau_path(tables, where, file, rows, column)
    if problems:
        raise InputError(problems)
    columns: dict[str, set[str]] = {}  # of each changed table, the columns set: only their checks run again
    for _, file, _, column in touched:
        if file != schema.SCENARIO_FILE:
            columns.setdefault(file.removesuffix(".csv"), set()).add(column)
    try:
        return dataset.replace(changed_columns=columns if fastpath.enabled() else None, settings=settings, **changed)
    except InputError as err:
        raise InputError([_caused_by(problem, touched) for problem in err.problems]) from None


# sectors.csv columns that only make the BAU path bau.csv replaces (base_output and
# output_growth also make the output path, which a blank bau.csv output keeps)
_BAU_PATH_ONLY = ("base_emissions_mt", "intensity_change")


def _replaced_by_bau_path(tables: Mapping[str, pd.DataFrame], where: str, file: str,
                          rows: Sequence[int | None], column: str) -> list[Problem]:
    """An override of sectors.csv's base-year emissions or intensity change (``rows``,
    ``column``) whose every sector has a BAU path of its own in bau.csv: that path replaces
    the growth path, so the override would change no emission (a Monte Carlo of it would
    draw the same scenario every time). Refused at ``where``, naming the bau.csv key that
    does move the BAU."""
    if file != schema.SECTORS.file or column not in _BAU_PATH_ONLY or not len(tables["bau"]):
        return []
    with_path = set(tables["bau"]["sector"].astype(str))
    reached = [str(tables["sectors"].at[row, "sector"]) for row in rows if row is not None]
    if not reached or not set(reached) <= with_path:
        return []
    example = f"bau.{reached[0]}.*.bau_mt*" if len(reached) == 1 else "bau.SECTOR.*.bau_mt*"
    return [Problem(where, None, None, None, (
        f"an input the model reads: bau.csv gives the BAU path of {', '.join(reached)}, which replaces "
        f"sectors.csv {column} (vary {example} instead)"))]


def _caused_by(problem: Problem, touched: list[tuple[str, str, Sequence[int | None], str]]) -> Problem:
    """``problem`` located at the ``--set`` that caused it (the cell it set, else a cell of its
    row, else of its column, else any setting it changed), as well as at the file's cell."""
    tests = (lambda rows, column: problem.row in rows and problem.column == column,
             lambda rows, column: problem.row in rows and problem.row is not None,
             lambda rows, column: problem.column == column,
             lambda rows, column: problem.file == schema.SCENARIO_FILE)
    for test in tests:
        causes = [where for where, file, rows, column in touched if file == problem.file and test(rows, column)]
        if causes:
            return Problem(f"{causes[-1]}, in {problem.file}", problem.row, problem.column, problem.found,
                           problem.expected)
    return problem


class _OverrideProblem(Exception):
    pass


def parse_override(raw_key: str, value: Any) -> Override:
    """``KEY`` as written (a trailing ``*`` multiplies, ``+`` adds) with its value (a numpy
    scalar, as from a DataFrame of scenarios, counts as the Python number it holds)."""
    key = raw_key.strip()
    if isinstance(value, np.generic):
        value = value.item()
    operation = "="
    if key and key[-1] in "*+" and not key.endswith(".*"):
        operation, key = key[-1], key[:-1]
    return Override(key, operation, value)


def _set_setting(settings: dict[str, Any], override: Override) -> None:
    field = schema.SCENARIO[override.key]
    current = settings[override.key]
    value = _combined(field, current, override)
    try:
        settings[override.key] = field.convert(value)
    except ValueError:
        raise _OverrideProblem(field.expected()) from None


def _combined(field: schema.Field, current: Any, override: Override) -> Any:
    if override.operation == "=":
        return override.value
    if field.kind not in ("int", "float"):
        raise _OverrideProblem(f"'=' for {field.name}: {override.operation}= needs a number")
    try:
        amount = float(override.value)
    except (TypeError, ValueError):
        raise _OverrideProblem(f"a number after {override.operation}=") from None
    if current is None or (isinstance(current, float) and np.isnan(current)):
        raise _OverrideProblem(f"a value in {field.name} to change (it is blank)")
    result = current * amount if override.operation == "*" else current + amount
    if field.kind == "int" and override.operation == "+" and not float(amount).is_integer():
        # a year shifted by half a year would be rounded to a year nobody asked for
        raise _OverrideProblem(f"a whole number after +=, since {field.name} is {field.expected()}")
    return int(round(result)) if field.kind == "int" else float(result)


def _set_cells(tables: ChainMap, override: Override) -> tuple[str, list[int], str]:
    """Change the cells ``override`` names, in a copy of their table (made on first change);
    returns the file, the rows (as a spreadsheet counts them) and the column changed."""
    table_name, field, match = _cells(tables, override.key)
    column = field.name
    current = tables[table_name][column]
    numbers = field.kind == "float" and current.dtype == np.float64  # set in place of a copy, as floats
    new_values = [_cell(field, value, override)
                  for value in (current.to_numpy()[match] if numbers else current[match]).tolist()]
    if table_name not in tables.maps[0]:  # the other columns shared with the frozen table (read-only)
        tables.maps[0][table_name] = tables[table_name].copy(deep=False)
    table = tables[table_name]
    if numbers:  # a blank (None) is NaN, as pd.to_numeric makes it
        updated = current.to_numpy(copy=True)
        updated[match] = np.array(new_values, dtype=float)
        table[column] = updated
    else:
        updated = current.astype(object)
        updated[match] = new_values
        table[column] = _restore_dtype(field, updated)
    freeze_own(table)  # the new column's arrays are this table's alone: the Dataset keeps it uncopied
    return schema.TABLES_BY_NAME[table_name].file, [int(row) for row in table.index[match]], column


def _cells(tables: Mapping[str, pd.DataFrame], key: str) -> tuple[str, schema.Field, np.ndarray]:
    """The table, column declaration and row mask that ``TABLE.ROW.COLUMN`` names."""
    parts = key.split(".")
    table_name = parts[0]
    if table_name not in schema.TABLES_BY_NAME:
        raise _OverrideProblem(
            "a scenario key or TABLE.ROW.COLUMN with TABLE one of "
            + ", ".join(schema.TABLES_BY_NAME) + _nearest(key)
        )
    spec = schema.TABLES_BY_NAME[table_name]
    n_key = len(spec.key)
    if len(parts) != n_key + 2:
        example = ".".join([table_name, *(f"<{k}>" for k in spec.key), "<column>"])
        raise _OverrideProblem(f"{example} for {spec.file}")
    row_key, column = parts[1:-1], parts[-1]
    if column not in spec.by_name or column in spec.key:
        columns = [f.name for f in spec.fields if f.name not in spec.key]
        raise _OverrideProblem(f"a column of {spec.file} that may be changed{did_you_mean(column, columns)}")
    # the keys read from the dataset's own table (an override never sets a key column, and a copy
    # keeps its rows): its keys' text is found again (fastpath.cached) by the next override of the
    # table and the next scenario, not made again from the copy the first override made
    table = tables.maps[-1][table_name] if isinstance(tables, ChainMap) else tables[table_name]
    match = np.ones(len(table), dtype=bool)
    for key_column, wanted in zip(spec.key, row_key):
        if wanted == "*":
            continue
        def key_text(column: str = key_column) -> np.ndarray:
            return table[column].astype(str).to_numpy()

        values = fastpath.cached("key_text", (table, key_column), key_text)  # the keys of a table, as text, once
        match &= values == wanted
        if not (values == wanted).any():
            raise _OverrideProblem(
                f"a {key_column} of {spec.file}{did_you_mean(wanted, sorted(set(values)))}"
            )
    if not match.any():
        raise _OverrideProblem(f"a row of {spec.file} matching {'.'.join(row_key)}")
    return table_name, spec.by_name[column], match


def override_field(dataset: Dataset, raw_key: str, where: str | None = None) -> schema.Field:
    """The declaration of the input that ``raw_key`` (operator included) changes.

    Checks the key alone, before any value is known (sweeps and Monte Carlo check their
    keys once, up front); a key that names nothing raises an InputError located at
    ``where`` (default ``--set KEY``), listing the nearest valid names.
    """
    key = parse_override(raw_key, None).key
    if key in schema.SCENARIO:
        return schema.SCENARIO[key]
    where = where or f"--set {raw_key}"
    tables = {name: dataset.table(name) for name in schema.TABLES_BY_NAME}
    try:
        table_name, field, match = _cells(tables, key)
    except _OverrideProblem as err:
        raise InputError(Problem(where, None, None, None, str(err))) from None
    rows = [int(row) for row in tables[table_name].index[match]]
    problems = _replaced_by_bau_path(tables, where, schema.TABLES_BY_NAME[table_name].file, rows, field.name)
    if problems:
        raise InputError(problems)
    return field


def _cell(field: schema.Field, current: Any, override: Override) -> Any:
    value = _combined(field, None if pd.isna(current) else current, override)
    try:
        return field.convert(value if isinstance(value, str) else value)
    except ValueError:
        raise _OverrideProblem(field.expected()) from None


def _restore_dtype(field: schema.Field, column: pd.Series) -> pd.Series:
    if field.kind == "int":
        return pd.to_numeric(column, errors="coerce").astype("Int64")
    if field.kind == "float":
        return pd.to_numeric(column, errors="coerce").astype(float)
    if field.kind == "bool":
        return column.astype(bool)
    return column


def known_keys(dataset: Dataset) -> list[str]:
    """Every key that can be overridden in this dataset (rows named by their keys)."""
    keys = list(schema.SCENARIO)
    for name, spec in schema.TABLES_BY_NAME.items():
        table = dataset.table(name)
        columns = [f.name for f in spec.fields if f.name not in spec.key and f.kind != "str"]
        for _, row in table[list(spec.key)].iterrows():
            prefix = ".".join([name, *(str(row[k]) for k in spec.key)])
            keys += [f"{prefix}.{column}" for column in columns]
    return keys


def _nearest(key: str) -> str:
    return did_you_mean(key, list(schema.SCENARIO))
