"""A dataset as one Excel workbook, and new dataset folders.

- ``export_workbook(dataset, "book.xlsx")`` (``python run.py export-xlsx DATASET BOOK.xlsx``):
  a ``scenario`` sheet (key, value, unit, meaning), a sheet per table (row 1 the column
  names, row 2 their units, data from row 3) and a ``reference`` sheet (every input's
  declaration);
- ``read_workbook(path)`` (what ``load_dataset("book.xlsx")`` calls): the same checks as a
  folder's, with problems naming the workbook, sheet, row (as Excel numbers it) and column;
- ``write_dataset_folder(dataset, folder)`` and ``init_dataset(folder, source)``
  (``python run.py init NEW_FOLDER [--from china|toy|DATASET]``): a dataset folder with a
  README explaining each file.

Numbers are written as numbers and text as text, so a round trip folder -> workbook ->
folder gives the same tables and settings (floats keep every digit).
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import schema
from .bundled import BUNDLED_NAMES, bundled_datasets
from ..errors import EtscapError, InputError, Problem, did_you_mean
from .inputs import (MAX_FILE_BYTES, SCENARIO_NAME, Dataset, _not_already_reported, _only_cell_problems, check_dataset,
                     empty_table, load_dataset, parse_table)

SCENARIO_SHEET, REFERENCE_SHEET = "scenario", "reference"
NO_UNIT = "-"  # the units row's cell of a column without a unit (a blank would look like a missing row)
BUNDLED = bundled_datasets()  # inputs/ of a checkout, else the copy in the package (a wheel)
SCENARIO_COLUMNS = ["key", "value", "unit", "meaning"]
MAX_SHEET_ROWS = max(t.max_rows for t in schema.TABLES) + 1000  # data rows, headers and some blank rows
MAX_SHEET_COLUMNS = 200  # cells further right are not read (every table has far fewer columns)


# -- writing a workbook ------------------------------------------------------------------------


def export_workbook(source: Dataset | str | Path, path: str | Path, force: bool = False) -> Path:
    """Write a dataset (a folder, a workbook or a Dataset) as one workbook at ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..files import write_file

    dataset = source if isinstance(source, Dataset) else load_dataset(source)
    book = Workbook()
    sheet = book.active
    sheet.title = SCENARIO_SHEET
    sheet.append(SCENARIO_COLUMNS)
    for f in schema.SCENARIO_FIELDS:
        sheet.append([f.name, _cell(f, dataset.settings.get(f.name)), f.unit or NO_UNIT, f.description])
    _dress(sheet, Font)
    for spec in schema.TABLES:
        table = dataset.table(_table_name(spec))
        if not spec.required and table.empty:
            continue  # an optional file the dataset does not have
        sheet = book.create_sheet(_table_name(spec))
        fields = spec.fields
        sheet.append([f.name for f in fields])
        sheet.append([f.unit or NO_UNIT for f in fields])
        columns = [table[f.name].tolist() for f in fields]
        for values in zip(*columns):
            sheet.append([_cell(f, v) for f, v in zip(fields, values)])
        _dress(sheet, Font, header_rows=2)
    sheet = book.create_sheet(REFERENCE_SHEET)
    sheet.append(["sheet", "key or column", "type", "unit", "default", "allowed", "meaning"])
    for where, fields in [(SCENARIO_SHEET, schema.SCENARIO_FIELDS),
                          *((_table_name(t), t.fields) for t in schema.TABLES)]:
        for f in fields:
            sheet.append([where, *_reference_row(f)])
    _dress(sheet, Font)
    return write_file(path, lambda temporary: book.save(temporary), force=force)


def _table_name(spec: schema.TableSpec) -> str:
    return spec.file.removesuffix(".csv")


def _cell(field: schema.Field, value: Any) -> Any:
    """A typed value as an Excel cell: blank, a number, TRUE/FALSE, or text (always text for a
    text column, so a step named 1 stays the text '1')."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if field.kind == "str":
        return str(value)
    if field.kind == "bool":
        return bool(value)
    if field.kind == "int":
        return int(value)
    return float(value)


def _reference_row(f: schema.Field) -> list[str]:
    cells = [c.strip() for c in schema._markdown_row(f).strip().strip("|").split(" | ")]
    return [c.strip("`") for c in cells]


def _dress(sheet: Any, font: Any, header_rows: int = 1) -> None:
    """Bold, frozen header rows and columns as wide as their first rows."""
    for row in sheet.iter_rows(min_row=1, max_row=header_rows):
        for cell in row:
            cell.font = font(bold=True)
    sheet.freeze_panes = sheet.cell(row=header_rows + 1, column=1)
    for cells in sheet.iter_cols(min_row=1, max_row=min(sheet.max_row, 60)):
        width = max((len(str(c.value)) for c in cells if c.value is not None), default=8)
        sheet.column_dimensions[cells[0].column_letter].width = min(max(width, 8) + 2, 60)


# -- reading a workbook ------------------------------------------------------------------------


def is_workbook(path: str | Path) -> bool:
    """Whether ``path`` names an Excel workbook (.xlsx) rather than a dataset folder."""
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def read_workbook(path: str | Path) -> Dataset:
    """Read and check a dataset workbook; every problem names the sheet, row and column."""
    from openpyxl import load_workbook

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputError(Problem(str(path), None, None, None, "a dataset folder or workbook (.xlsx) that exists"))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(Problem(name, None, None, f"{size} bytes", f"at most {MAX_FILE_BYTES} bytes"))
    try:
        book = load_workbook(path, read_only=True, data_only=True)  # formulas: their last computed values
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(Problem(name, None, None, None, f"an Excel workbook (.xlsx) ({type(err).__name__}: {err})")) \
            from None
    problems: list[Problem] = []
    try:
        sheets = {title: _rows(book[title], name, title, problems) for title in book.sheetnames}
    finally:
        book.close()
    known = [SCENARIO_SHEET, *(_table_name(t) for t in schema.TABLES), REFERENCE_SHEET]
    for title in sheets:
        if title not in known:
            problems.append(Problem(f"{name}, sheet {title}", None, None, None,
                                    "a sheet named " + ", ".join(known[:-1]) + " or " + known[-1]
                                    + did_you_mean(title, known)))
    located: dict[str, str] = {}  # a file's name in problems -> the sheet it is in
    settings, key_rows = _read_settings(name, sheets.get(SCENARIO_SHEET), problems)
    located[schema.SCENARIO_FILE] = f"{name}, sheet {SCENARIO_SHEET}"
    tables = {}
    for spec in schema.TABLES:
        sheet_name = _table_name(spec)
        located[spec.file] = f"{name}, sheet {sheet_name}"
        rows = sheets.get(sheet_name)
        if rows is None:
            if spec.required:
                problems.append(Problem(name, None, None, None, f"a sheet named {sheet_name} (the table {spec.file})"))
                tables[sheet_name] = pd.DataFrame()
            else:
                tables[sheet_name] = empty_table(spec)
            continue
        tables[sheet_name] = _read_table(spec, rows, problems)
    dataset = Dataset(path=path, settings=settings, **tables)
    if _only_cell_problems(problems, settings) and all(not t.empty or not s.required
                                                       for t, s in zip(tables.values(), schema.TABLES)):
        problems += _not_already_reported(check_dataset(dataset), problems, dataset)
    if problems:
        raise InputError([_in_sheet(p, located, key_rows) for p in problems])
    return dataset


def _rows(sheet: Any, book: str, title: str, problems: list[Problem]) -> list[list[Any]]:
    """A sheet's cells, row by row, reading no more than a dataset can hold (a sheet of a
    million rows, or a zip bomb, is refused rather than read whole)."""
    rows: list[list[Any]] = []
    columns = min(sheet.max_column or MAX_SHEET_COLUMNS, MAX_SHEET_COLUMNS)  # max_column: the sheet's stated size
    for row in sheet.iter_rows(values_only=True, max_col=columns):
        if len(rows) >= MAX_SHEET_ROWS:
            problems.append(Problem(f"{book}, sheet {title}", None, None, f"more than {MAX_SHEET_ROWS} rows",
                                    f"at most {MAX_SHEET_ROWS} rows (delete the rows below the table)"))
            break
        rows.append(list(row))
    return rows


def _read_settings(book: str, rows: list[list[Any]] | None, problems: list[Problem]) -> tuple[dict[str, Any],
                                                                                             dict[str, int]]:
    """The scenario sheet's key/value rows as settings, and the row of each key."""
    if rows is None:
        problems.append(Problem(book, None, None, None, f"a sheet named {SCENARIO_SHEET} (the settings of "
                                                        f"{schema.SCENARIO_FILE})"))
        return {}, {}
    header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else [])]
    if header[:2] != SCENARIO_COLUMNS[:2]:
        problems.append(Problem(schema.SCENARIO_FILE, 1, None, ", ".join(header[:2]) or "a blank row",
                                "the column names key and value on row 1"))
        return {}, {}
    raw: dict[str, Any] = {}
    key_rows: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        key = row[0] if row else None
        if key is None or str(key).strip() == "":
            continue
        key = str(key).strip()
        if key not in schema.SCENARIO:
            problems.append(Problem(schema.SCENARIO_FILE, number, "key", key,
                                    "a known key" + did_you_mean(key, schema.SCENARIO)))
            continue
        raw[key], key_rows[key] = (row[1] if len(row) > 1 else None), number
    settings: dict[str, Any] = {}
    for key, spec in schema.SCENARIO.items():
        value = raw.get(key)
        if isinstance(value, float) and spec.kind == "int" and value.is_integer():
            value = int(value)  # Excel keeps every number as a double
        if isinstance(value, (int, float)) and not isinstance(value, bool) and spec.kind == "str":
            value = _text(value)
        try:
            settings[key] = spec.convert(value)
        except ValueError:
            found = None if value is None else str(value)
            expected = spec.expected() + ("" if value is not None else "; the value is blank or the key missing")
            problems.append(Problem(schema.SCENARIO_FILE, key_rows.get(key), "value" if key in key_rows else key,
                                    found, expected if key in key_rows else f"a row for {key}: {expected}"))
    return settings, key_rows


def _read_table(spec: schema.TableSpec, rows: list[list[Any]], problems: list[Problem]) -> pd.DataFrame:
    """A table sheet as typed columns (row 1 names, an optional units row 2), indexed by the
    row Excel shows, so that problems name it."""
    if not rows or not any(c is not None and str(c).strip() for c in rows[0]):
        problems.append(Problem(spec.file, 1, None, "a blank row", "the column names on row 1"))
        return pd.DataFrame()
    header = [_text(c).strip() for c in rows[0]]
    while header and not header[-1]:
        header.pop()  # cells to the right of the table
    first = 2 + _has_units_row(spec, header, rows[1] if len(rows) > 1 else None)
    records, numbers = [], []
    for number, row in enumerate(rows[first - 1:], start=first):
        cells = [_text(c) for c in (list(row) + [None] * len(header))[: len(header)]]
        if not any(c.strip() for c in cells):
            continue  # blank rows are skipped, as in a CSV file
        records.append(cells)
        numbers.append(number)
        if len(records) > spec.max_rows:
            problems.append(Problem(spec.file, None, None, f"more than {spec.max_rows} data rows",
                                    f"at most {spec.max_rows} data rows"))
            return pd.DataFrame()
    blank = [i for i, h in enumerate(header) if not h]
    for i in blank:
        problems.append(Problem(spec.file, 1, _column_letter(i), "", "a column name (or delete the empty column)"))
    keep = [i for i, h in enumerate(header) if h and h not in header[:i]]
    for i, h in enumerate(header):
        if h and h in header[:i]:
            problems.append(Problem(spec.file, 1, h, h, f"each column named once (also column "
                                                          f"{_column_letter(header.index(h))})"))
    cells = pd.DataFrame([[r[i] for i in keep] for r in records], columns=[header[i] for i in keep], dtype=object)
    cells.index = pd.Index(numbers, name="row", dtype=int)
    return parse_table(spec, cells, problems)


def _has_units_row(spec: schema.TableSpec, header: list[str], row: list[Any] | None) -> bool:
    """Whether row 2 holds the units export_workbook writes (an analyst may delete it)."""
    if row is None:
        return False
    cells = [_text(c).strip() for c in (list(row) + [None] * len(header))[: len(header)]]
    units = [(spec.by_name[h].unit or NO_UNIT) if h in spec.by_name and h not in header[:i] else None
             for i, h in enumerate(header)]
    # a column without a known name (blank, misspelt, or a name repeated: each its own problem)
    # says nothing either way, else the units row under it would be read as a row of data, with
    # a problem per cell
    given = [(c, u) for c, u in zip(cells, units) if c and u is not None]
    return bool(given) and all(c == u for c, u in given)


def _text(value: Any) -> str:
    """A cell as the text a CSV file would hold: blank, true/false, a whole number without
    '.0', any other number with every digit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value)


def _column_letter(position: int) -> str:
    letters, position = "", position + 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _in_sheet(problem: Problem, located: dict[str, str], key_rows: dict[str, int]) -> Problem:
    """A problem named by the sheet it is in (a setting: by the row of its key)."""
    if problem.file not in located:
        return problem
    row, column = problem.row, problem.column
    if problem.file == schema.SCENARIO_FILE and row is None and column in key_rows:
        row, column = key_rows[column], "value"
    return Problem(located[problem.file], row, column, problem.found, problem.expected)


# -- writing a dataset folder ------------------------------------------------------------------


def write_dataset_folder(dataset: Dataset, folder: str | Path) -> Path:
    """Write ``dataset`` as a folder: scenario.toml, the tables it has as CSV and a README.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / schema.SCENARIO_FILE).write_text(settings_toml(dataset.settings), encoding="utf-8")
    for spec in schema.TABLES:
        table = dataset.table(_table_name(spec))
        if spec.required or not table.empty:
            table_csv(spec, table, folder / spec.file)
    (folder / "README.md").write_text(dataset_readme(dataset.name, folder), encoding="utf-8")
    return folder


def settings_toml(settings: dict[str, Any]) -> str:
    """scenario.toml from settings: top-level keys first, then a [table] per dotted prefix;
    a blank setting is left out (blank is its default)."""
    groups: dict[str, list[str]] = {}
    for f in schema.SCENARIO_FIELDS:
        value = settings.get(f.name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        table, _, key = f.name.rpartition(".")
        groups.setdefault(table, []).append(f"{key} = {_toml(value)}")
    lines = ["# Written by etscap (python run.py init / a workbook); see README.md for each key.", *groups.pop("", [])]
    for table, entries in groups.items():
        lines += ["", f"[{table}]", *entries]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def table_csv(spec: schema.TableSpec, table: pd.DataFrame, path: Path) -> None:
    """A typed table as CSV text that parses back to the same values (floats keep every digit)."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([f.name for f in spec.fields])
        columns = [table[f.name].tolist() for f in spec.fields]
        for values in zip(*columns):
            writer.writerow([_text(_cell(f, v)) for f, v in zip(spec.fields, values)])


def dataset_readme(name: str, folder: Path, notes: str = "") -> str:
    """A README for a dataset folder: what each file holds and its columns (from schema.py)."""
    present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    lines = [f"# Dataset `{name}`", "",
             "Solve it with `python run.py solve " + str(folder) + "`; check it with `python run.py validate "
             + str(folder) + "`. Every input's type, unit, default and range: `python run.py inputs`.", "",
             "## Files", "",
             f"- `{schema.SCENARIO_FILE}`: the settings (horizon, discount rate, market and allocation rules, "
             "solver): " + ", ".join(f"`{f.name}`" for f in schema.SCENARIO_FIELDS) + "."]
    for spec in schema.TABLES:
        optional = "" if spec.required else (" (optional" + (", present" if spec.file in present else
                                                           ", not present: add it to use it") + ")")
        columns = ", ".join(f"`{f.name}`" + (f" ({f.unit})" if f.unit else "") for f in spec.fields)
        lines.append(f"- `{spec.file}`{optional}: {spec.description} One row per {', '.join(spec.key)}; "
                     f"columns {columns}.")
    lines.append("- `scenarios/NAME.toml` (optional): named scenarios, a `description` and a `[set]` table of "
                 "overrides in the `--set` syntax; `python run.py solve " + str(folder) + " --scenario NAME`.")
    if notes.strip():
        lines += ["", "## Notes from the dataset this one started from", "", notes.strip()]
    return "\n".join(lines) + "\n"


def init_dataset(folder: str | Path, source: str | Path = "china") -> Path:
    """Start a dataset at ``folder`` (new, or an empty folder) from a bundled dataset
    (``china`` or ``toy``: copied as it is, notes and named scenarios included) or from any
    dataset folder or workbook (written from its checked tables); then a README.md. The new
    dataset is named after its folder (its results go to results/<folder name>)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise EtscapError(f"{folder} already exists and is not an empty folder: choose a new folder name "
                          "(init never overwrites a dataset)")
    if str(source) in BUNDLED_NAMES and not Path(source).exists():
        origin = BUNDLED / str(source)
        dataset = load_dataset(origin)  # checked before anything is written
        notes = (origin / "README.md").read_text(encoding="utf-8") if (origin / "README.md").is_file() else ""
        shutil.copytree(origin, folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("README.md", "__pycache__", ".*"))
        name = _new_name(folder, dataset.name)
        settings = folder / schema.SCENARIO_FILE  # the name line only: the file's comments stay
        settings.write_text(re.sub(r'(?m)^name\s*=\s*"[^"\n]*"', f'name = "{name}"',
                                   settings.read_text(encoding="utf-8"), count=1), encoding="utf-8")
        (folder / "README.md").write_text(dataset_readme(name, folder, notes), encoding="utf-8")
        return folder
    if not Path(source).exists():
        raise EtscapError(f"--from {source}: expected china, toy, or a dataset folder or workbook that exists")
    dataset = load_dataset(source)
    return write_dataset_folder(dataset.replace(settings={**dataset.settings,
                                                          "name": _new_name(folder, dataset.name)}), folder)


def _new_name(folder: Path, current: str) -> str:
    """The new dataset's name (it names its results folder): the folder's, when it makes a
    valid name, so that results of the copy and of the original do not share a folder."""
    return folder.resolve().name if SCENARIO_NAME.match(folder.resolve().name) else current


def sheets_of(path: str | Path) -> Iterable[str]:
    """The sheet names of a workbook (for messages and tests)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()
