"""Read a dataset folder into typed tables and check it against ``schema.py``.

Nothing is built from a dataset that fails a check: every problem found is reported
together, each naming file, row (header = row 1), column, the value found and what
was expected.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import hashlib
import io
import json
import operator
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, NoReturn, Sequence

import numpy as np
import pandas as pd

from . import schema
from ..errors import EtscapError, InputError, Problem, did_you_mean, number_text, short_text
from .fastpath import float_column
from .registry_file import REGISTRY_PARQUET, with_categorical_text  # text of a registry as categoricals

MAX_FILE_BYTES = 20 * 1024 * 1024  # larger input files are refused rather than read
MAX_REGISTRY_BYTES = 128 * 1024 * 1024  # facilities.csv or .parquet: 250,000 rows of text fit
MAX_COLUMNS = 100  # columns of one CSV file: unknown columns are reported, but not without end
ZIP_SIGNATURE = b"PK\x03\x04"  # an .xlsx workbook is a zip file
SECTOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # no '.', which --set keys split on
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # safe as a folder name
# Names of steps, installations and unit types: they are --set keys and cells of output
# files, so no '.', and no leading '=', '+', '-' or '@' that a spreadsheet would run as a formula
ID_EXPECTED = ("a name of letters, digits, '_' and '-' starting with a letter or digit "
               "(it is part of --set keys and of output files)")
ID_COLUMNS = {"facilities": ("facility_id", "unit_type"), "benchmarks": ("unit_type",),
              "facility_mac": ("facility_id", "step")}
MIN_COVERED_VALUE_ADDED_BN_CNY = 0.001  # a covered sector's value added in base_year
MAX_BAU_MT = 1e6  # BAU emissions of one sector in any year, Mt CO2 (the world emits ~4e4)
MAX_COST_CNY_PER_T = 1e6  # a step's cost in any year after cost_change
MAX_ABATEMENT_VARIABLES = 200_000  # (step, year) pairs: bounds the LP's size and build time


class Settings(dict):
    """A dataset's scenario settings, read-only: a value set in place would skip the checks
    (``discount_rate = 7.0`` would be solved). Change settings with ``Dataset.replace`` or
    overrides, which check them again."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise EtscapError("the settings of a loaded Dataset are read-only (they were checked on load): "
                          "use dataset.replace(settings={**dataset.settings, KEY: VALUE}) or "
                          "overrides={KEY: VALUE}, which check the new value")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse

    def __reduce__(self) -> tuple:  # pickle (Dask) and copy rebuild it whole, not key by key
        return (Settings, (dict(self),))


def _table_state(table: pd.DataFrame) -> tuple:
    """What an in-place change of a frozen table alters: its index, columns and arrays
    (the arrays themselves are kept, so that a replaced one is never mistaken for its successor;
    the columns as their Index, immutable: its names are compared only when it was replaced,
    since reading them one by one from a text Index costs more than the rest of the state)."""
    return (table.index, table.columns, tuple(block.values for block in table._mgr.blocks))


def _same_columns(before: pd.Index, now: pd.Index) -> bool:
    """Whether a table's columns are the names they were: the same Index, or equal names in order."""
    return before is now or (len(before) == len(now) and list(before) == list(now))


def _arrays(table: pd.DataFrame) -> list[np.ndarray]:
    """The numpy arrays holding a table's values (a nullable column's values and mask)."""
    blocks = [block.values for block in table._mgr.blocks]
    return [array for values in blocks
            for array in ((values,) if isinstance(values, np.ndarray)
                          else (getattr(values, "_data", None), getattr(values, "_mask", None)))
            if isinstance(array, np.ndarray)]


def _freeze(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` if it is frozen already (a table shared with the dataset it came from keeps
    its identity, which caches use), else a copy of it with read-only arrays."""
    arrays = _arrays(table)
    if arrays and not any(array.flags.writeable for array in arrays):
        return table
    table = table.copy(deep=True)
    for array in _arrays(table):
        array.flags.writeable = False
    return table


def freeze_own(table: pd.DataFrame) -> pd.DataFrame:
    """Make the arrays of ``table`` read-only in place, so that ``Dataset`` keeps it as it is:
    for a table made here whose writeable arrays are its own (a shallow copy of a frozen
    table with a column set anew), where ``_freeze`` would copy every column again."""
    for array in _arrays(table):
        array.flags.writeable = False
    return table


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: scenario settings plus the sector, MAC and target tables.

    Tables keep their file order; their index is the row number a spreadsheet shows
    (the header is row 1), so later checks can still say where a value came from.

    A Dataset is frozen when made, since its checks, ``sha256`` and the caches of derived
    tables hold only for the content they saw: ``settings`` is read-only, the tables are
    copies with read-only arrays (setting a cell raises ValueError), and a column replaced
    in place (``dataset.mac["cost_cny_per_t"] *= 2``) is refused with an EtscapError when
    the dataset is next used to build a model. Change a dataset with ``replace`` or
    overrides, which check the change and give a new Dataset (and a new ``sha256``).
    """

    path: Path
    settings: dict[str, Any]  # dotted keys of schema.SCENARIO, e.g. "market.banking"
    sectors: pd.DataFrame
    mac: pd.DataFrame
    targets: pd.DataFrame
    allocation: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.ALLOCATION))
    cap_rules: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.CAP_RULES))
    benchmarks: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.BENCHMARKS))
    facilities: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.FACILITIES))
    facility_mac: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.FACILITY_MAC))
    bau: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.BAU))
    deployment_limits: pd.DataFrame = dataclasses.field(
        default_factory=lambda: empty_table(schema.DEPLOYMENT_LIMITS))
    offsets: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.OFFSETS))
    reserve: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.RESERVE))
    # named scenarios applied (model/data/scenarios.py), in order: name, description, file, overrides
    scenarios: tuple[dict[str, Any], ...] = ()
    # the tables a rule declares in its family file (fields.Inputs.tables) that no field above
    # holds, by name (Dataset(..., NAME=table) and replace(NAME=table) put them here; empty
    # when not given): read with dataset.table(NAME)
    rule_tables: Mapping[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    # each table's identity and arrays when the dataset was made (__post_init__), for check_unchanged
    _states: dict[str, tuple] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", Settings(self.settings))
        rule_tables = dict(self.rule_tables)
        for spec in schema.TABLES:
            name = spec.file.removesuffix(".csv")
            if name in _DATASET_FIELDS:
                object.__setattr__(self, name, _freeze(getattr(self, name)))
            else:
                rule_tables[name] = _freeze(rule_tables[name] if name in rule_tables else empty_table(spec))
        object.__setattr__(self, "rule_tables", rule_tables)
        object.__setattr__(self, "_states", {spec.file: _table_state(self.table(spec.file.removesuffix(".csv")))
                                             for spec in schema.TABLES})

    def __reduce__(self) -> tuple:
        # rebuilt through __init__, so that a copy or an unpickled dataset (a Dask worker's)
        # is frozen again: numpy arrays are unpickled writeable
        return (Dataset, tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.init))

    def check_unchanged(self) -> None:
        """Raise an EtscapError if a table was changed in place since the dataset was made
        (a replaced column or index, or rows dropped or sorted in place)."""
        for spec in schema.TABLES:
            if spec.file not in self._states:  # a rule's table declared after the dataset was made
                continue
            before, now = self._states[spec.file], _table_state(self.table(spec.file.removesuffix(".csv")))
            same = (before[0] is now[0] and _same_columns(before[1], now[1]) and len(before[2]) == len(now[2])
                    and all(a is b for a, b in zip(before[2], now[2])))
            if not same:
                name = spec.file.removesuffix(".csv")
                raise EtscapError(
                    f"the {name} table ({spec.file}) of this Dataset was changed in place after it was checked: "
                    f"make the change with dataset.replace({name}=new_table) or with overrides "
                    "(they check it and give a new Dataset)")

    @property
    def name(self) -> str:
        return str(self.settings["name"])

    def setting(self, key: str) -> Any:
        return self.settings[key]

    def table(self, name: str) -> pd.DataFrame:
        return self.rule_tables[name] if name in self.rule_tables else getattr(self, name)

    def replace(self, changed_columns: Mapping[str, Iterable[str]] | None = None, **changes: Any) -> "Dataset":
        """A copy with some settings or tables replaced, checked again where they matter
        (``changed_columns``: of a replaced table, the only columns that differ, e.g. from
        an override; the checks that read none of them are not repeated)."""
        updated = dataclasses.replace(self, **changes)
        changed = {name for name, value in changes.items() if value is not self._value(name)
                   and not (name == "settings" and value == self.settings)}
        if "settings" in changed:
            new = updated.settings
            keys = {key for key in {*self.settings, *new} if key not in new or key not in self.settings
                    or new[key] != self.settings[key]}
            problems = _check_setting_values(new, keys)
            if problems:  # the checks across settings and files need valid settings
                raise InputError(problems)
            if changed_columns is not None:
                changed_columns = {**changed_columns, "settings": keys}
        problems = check_dataset(updated, changed, changed_columns)
        if problems:
            raise InputError(problems)
        return updated

    def _value(self, name: str) -> Any:
        """A field's value, or a rule's table by name."""
        return self.table(name) if name in self.rule_tables else getattr(self, name)

    @functools.cached_property
    def sha256(self) -> str:
        """Checksum of the dataset's content (settings and tables, after overrides)."""
        digest = hashlib.sha256()
        digest.update(json.dumps(self.settings, sort_keys=True, default=str).encode())
        for spec in schema.TABLES:
            table = self.table(spec.file.removesuffix(".csv"))
            digest.update(spec.file.encode())
            digest.update(json.dumps([[str(c) for c in table.columns], [str(t) for t in table.dtypes]]).encode())
            if not len(table):  # no rows (a rule not in use): the text of no index and no cells, as below
                digest.update(b"[[], []]")
                continue
            if table.size <= SMALL_TABLE_CELLS:  # a few rows: the cells as text, at once
                digest.update(repr([table.index.tolist(), table.to_numpy(dtype=object).tolist()]).encode())
                continue
            # a registry: column by column in bulk (writing its cells as text took longer)
            for level in range(table.index.nlevels):
                digest.update(_cells_digest(table.index.get_level_values(level)))
            for _, column in table.items():
                digest.update(_cells_digest(column))
        return digest.hexdigest()


SMALL_TABLE_CELLS = 2_000  # a table of at most this many cells is hashed as the text of its cells


def _cells_digest(values: pd.Series | pd.Index) -> bytes:
    """The bytes that stand for a large table's column in ``Dataset.sha256``: numbers as
    their own bytes, a categorical as its names' hashes by row (whatever the order of its
    categories: a registry read from CSV or from Parquet hashes the same), other text and
    numbers with missing values hashed by pandas (``hash_array``)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categorical = pd.Categorical(values)
        by_name = pd.util.hash_array(np.asarray(categorical.categories, dtype=object), categorize=False)
        codes = categorical.codes
        return np.where(codes >= 0, by_name[codes] if by_name.size else 0, np.uint64(0)).tobytes()
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return np.ascontiguousarray(values.to_numpy()).tobytes()
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False).tobytes()


_DATASET_FIELDS = frozenset(f.name for f in dataclasses.fields(Dataset))
_dataclass_init = Dataset.__init__


@functools.wraps(_dataclass_init)
def _dataset_init(self: Dataset, *args: Any, **named: Any) -> None:
    """``Dataset(...)`` as generated, and a rule's own table by its name (``NAME=table``, as
    for the core tables) into ``rule_tables``: readers and ``replace`` pass every table so."""
    tables = {name: named.pop(name) for name in [key for key in named if key not in _DATASET_FIELDS]}
    unknown = sorted(set(tables) - set(schema.TABLES_BY_NAME))
    if unknown:
        raise TypeError(f"Dataset() got an unexpected keyword argument {unknown[0]!r}")
    if tables:
        named["rule_tables"] = {**named.get("rule_tables", {}), **tables}
    _dataclass_init(self, *args, **named)


Dataset.__init__ = _dataset_init  # type: ignore[method-assign]


def load_dataset(path: str | Path, scenarios: Sequence[str] | str = ()) -> Dataset:
    """Read and validate the dataset folder (or workbook, ``.xlsx``) at ``path``, then apply its named ``scenarios``
    (``scenarios/NAME.toml``, in order; see ``model.data.scenarios``).

        dataset = load_dataset("inputs/china", scenarios=["aluminium-2030"])
    """
    if scenarios:
        from .scenarios import apply_scenarios  # scenarios.py imports this module

        return apply_scenarios(load_dataset(path), scenarios)
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):  # a dataset as one workbook (model/data/workbook.py)
        from .workbook import read_workbook

        return read_workbook(path)
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(
            Problem(str(folder), None, None, None, "a dataset folder (see README: Inputs)")
        )
    problems: list[Problem] = []
    settings = _read_scenario(folder, problems)
    tables = {spec.file: _read_table(folder, spec, problems) for spec in schema.TABLES}
    dataset = Dataset(path=folder, settings=settings,
                      **{spec.file.removesuffix(".csv"): tables[spec.file] for spec in schema.TABLES})
    if _only_cell_problems(problems, settings):
        problems += _not_already_reported(check_dataset(dataset), problems, dataset)
    if problems:
        raise InputError(problems)
    return dataset


CROSS_CHECKED_SETTINGS = ("name", "base_year", "first_year", "last_year")


def _only_cell_problems(problems: list[Problem], settings: dict[str, Any]) -> bool:
    """Whether every file was read whole, so that checks across rows and files can run
    next to the problems in single cells (a bad cell is blank to those checks)."""
    complete_settings = all(key in settings for key in CROSS_CHECKED_SETTINGS)
    cells_only = all(p.file == schema.SCENARIO_FILE or ((p.row or 0) >= 2 and p.column) for p in problems)
    return complete_settings and cells_only


# Rows of other tables that refer to a row of these tables by its key (a facility's sector)
REFERRED_BY = {"sectors.csv": "sector", "facilities.csv": "facility_id"}


def _not_already_reported(found: list[Problem], reported: list[Problem],
                          dataset: Dataset | None = None) -> list[Problem]:
    """Problems across rows, without those that follow from a bad cell already reported: a
    bad cell is blank to the checks, so its row's other checks, the rows that refer to its
    row by its key (every installation of a sector whose covered_from is '2025x') and checks of
    its whole column would only repeat it."""
    bad_rows = {(p.file, p.row) for p in reported if p.row is not None}
    bad_columns = {(p.file, p.column) for p in reported}
    tables = {spec.file: dataset.table(spec.file.removesuffix(".csv")) for spec in schema.TABLES} if dataset else {}
    bad_keys = {column: {tables[file].at[row, column] for f, row in bad_rows if f == file
                         and row in tables[file].index and column in tables[file].columns}
                for file, column in REFERRED_BY.items() if file in tables}

    def follows(p: Problem) -> bool:
        if (p.file, p.row) in bad_rows or (p.row is None and (p.file, p.column) in bad_columns):
            return True
        table, keys = tables.get(p.file), bad_keys.get(p.column) if p.column is not None else None
        if not keys or table is None:
            return False
        return (REFERRED_BY.get(p.file) != p.column and p.row in table.index
                and table.at[p.row, p.column] in keys)  # a reference to a row with a bad cell

    return [p for p in found if not follows(p)]


# -- reading ---------------------------------------------------------------------------


def _read_bytes(folder: Path, name: str, problems: list[Problem], max_bytes: int = MAX_FILE_BYTES) -> bytes | None:
    """The file's bytes, or None with a problem if it is missing, a link out of the
    dataset folder, not a plain file (a pipe or device could hang a read) or too large."""
    file = folder / name
    if not file.exists() and not file.is_symlink():
        problems.append(Problem(name, None, None, None, f"the file {file} to exist"))
        return None
    resolved = file.resolve()
    if file.is_symlink() and not resolved.exists():
        problems.append(Problem(name, None, None, f"a link to {resolved}, which does not exist",
                                "a file (remove the link, or copy the file it should point to)"))
        return None
    if not resolved.is_relative_to(folder.resolve()):
        problems.append(Problem(name, None, None, f"a link to {resolved}",
                                "a file inside the dataset folder (copy the file instead of linking it)"))
        return None
    if not resolved.is_file():
        problems.append(Problem(name, None, None, "something that is not a plain file", "a plain file"))
        return None
    size = resolved.stat().st_size
    if size > max_bytes:
        problems.append(
            Problem(name, None, None, f"{size} bytes", f"at most {max_bytes} bytes")
        )
        return None
    try:
        return resolved.read_bytes()
    except OSError as err:  # e.g. no read permission
        problems.append(Problem(name, None, None, f"a file that cannot be read ({err.strerror or err})",
                                "a file this user can read (check its permissions)"))
        return None


def _decode(name: str, data: bytes, problems: list[Problem], by_row: bool) -> str | None:
    """UTF-8 text (a byte-order mark is allowed); ``by_row`` says where a bad byte is as a
    spreadsheet row, otherwise as a line of the text file."""
    save_as = "a UTF-8 text file" + (" (in Excel: Save As 'CSV UTF-8')" if by_row else "")
    if data.startswith(ZIP_SIGNATURE):
        problems.append(Problem(name, None, None, "an Excel workbook or other zip file", save_as))
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problems.append(Problem(name, None, None, "UTF-16 text", save_as))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        byte = f"byte 0x{data[err.start]:02x}, which is not UTF-8"
        if by_row:
            problems.append(Problem(name, line, None, byte, save_as))
        else:
            problems.append(Problem(name, None, None, f"{byte}, on line {line}", save_as))
        return None


def _read_scenario(folder: Path, problems: list[Problem]) -> dict[str, Any]:
    name = schema.SCENARIO_FILE
    data = _read_bytes(folder, name, problems)
    text = _decode(name, data, problems, by_row=False) if data is not None else None
    if text is None:
        return {}
    if not text.strip():
        required = [f.name for f in schema.SCENARIO_FIELDS if f.required]
        problems.append(Problem(name, None, None, "an empty file",
                                "the settings " + ", ".join(required[:-1]) + " and " + required[-1]))
        return {}
    try:
        document = tomllib.loads(text)
        flat = _flatten(document)
    except tomllib.TOMLDecodeError as err:
        problems.append(Problem(name, None, None, None, f"valid TOML ({err})"))
        return {}
    except RecursionError:  # tables or arrays nested thousands deep
        problems.append(Problem(name, None, None, "values nested too deeply to read",
                                "the settings of the input reference (tables at most two deep)"))
        return {}
    settings: dict[str, Any] = {}
    for key, raw in flat.items():
        if key not in schema.SCENARIO:
            problems.append(
                Problem(name, None, key, short_text(raw), "a known key" + did_you_mean(key, schema.SCENARIO))
            )
    for key, spec in schema.SCENARIO.items():
        raw = flat.get(key)
        try:
            settings[key] = spec.convert(raw)
        except ValueError:
            if raw is None:
                problems.append(Problem(name, None, key, None, f"a value, {spec.expected()}; the key is missing"))
            else:
                problems.append(Problem(name, None, key, short_text(raw), spec.expected()))
    return settings


def _flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def empty_table(spec: schema.TableSpec) -> pd.DataFrame:
    """A table with the declared columns and no rows (an optional file that is absent)."""
    return parse_table(spec, pd.DataFrame(columns=[f.name for f in spec.fields], dtype=str), [])


def _read_table(folder: Path, spec: schema.TableSpec, problems: list[Problem]) -> pd.DataFrame:
    registry = spec is schema.FACILITIES
    if registry and (folder / REGISTRY_PARQUET).exists():
        if (folder / spec.file).exists():
            problems.append(Problem(REGISTRY_PARQUET, None, None, f"both {spec.file} and {REGISTRY_PARQUET}",
                                    "one registry (delete one of the two files)"))
            return pd.DataFrame()
        from .registry_file import read_parquet_registry  # pyarrow only for a Parquet registry

        data = _read_bytes(folder, REGISTRY_PARQUET, problems, MAX_REGISTRY_BYTES)
        table = read_parquet_registry(data, spec, problems) if data is not None else None
        return pd.DataFrame() if table is None else table
    if not spec.required and not (folder / spec.file).exists() and not (folder / spec.file).is_symlink():
        return empty_table(spec)  # absent; a dangling link is reported by _read_bytes
    data = _read_bytes(folder, spec.file, problems, MAX_REGISTRY_BYTES if registry else MAX_FILE_BYTES)
    text = _decode(spec.file, data, problems, by_row=True) if data is not None else None
    if text is None:
        return pd.DataFrame()
    if not text.strip():
        problems.append(Problem(spec.file, None, None, "an empty file", "a header row and data rows"))
        return pd.DataFrame()
    raw = _csv_cells(spec.file, text, problems, spec.max_rows)
    return pd.DataFrame() if raw is None else parse_table(spec, raw, problems)


def _csv_cells(file: str, text: str, problems: list[Problem], max_rows: int) -> pd.DataFrame | None:
    """The CSV's cells as text, indexed by spreadsheet row (header = row 1).

    Blank rows are skipped but counted; a row whose number of fields differs from the
    header's (a misplaced comma) is reported and left out; a repeated column name is
    reported and only its first column kept.
    """
    regular = _regular_csv_cells(text, max_rows)
    if regular is not None:
        return regular
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    row = 1
    try:
        header = [name.strip() for name in next(reader)]
        if not any(header):
            problems.append(Problem(file, 1, None, "a blank row", "the column names on row 1"))
            return None
        if header[0].lower().startswith("sep="):  # Excel's hint line for its own separator
            line = short_text(",".join(header))
            problems.append(Problem(file, 1, None, line, f"the column names on row 1 (delete the first line "
                                                         f"'{line}', which Excel writes to name its separator)"))
            return None
        separator = next((name for s, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'"))
                          if len(header) == 1 and s in header[0]), None)
        if separator is not None:
            problems.append(Problem(file, 1, None, f"columns separated by {separator}",
                                    "columns separated by commas (in Excel: Save As 'CSV UTF-8 (Comma delimited)')"))
            return None
        if len(header) > MAX_COLUMNS:
            problems.append(Problem(file, 1, None, f"{len(header)} columns",
                                    f"at most {MAX_COLUMNS} columns (the widest file declares "
                                    f"{max(len(t.fields) for t in schema.TABLES)})"))
            return None
        records: dict[int, list[str]] = {}
        for fields in reader:
            row += 1
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                problems.append(Problem(
                    file, row, None, f"{len(fields)} fields",
                    f"{len(header)} fields as in the header row (a misplaced comma? "
                    "quote a value that contains one)"))
                continue
            records[row] = fields
            if len(records) > max_rows:
                problems.append(Problem(file, None, None, f"more than {max_rows} data rows",
                                        f"at most {max_rows} data rows"))
                return None
    except csv.Error as err:
        problems.append(_malformed(file, row + 1, err))
        return None
    keep = _distinct_columns(file, header, problems)
    cells = pd.DataFrame([[fields[i] for i in keep] for fields in records.values()],
                         columns=[header[i] for i in keep], dtype=object)
    cells.index = pd.Index(list(records), name="row", dtype=int)
    return cells


def _regular_csv_cells(text: str, max_rows: int) -> pd.DataFrame | None:
    """The cells of a CSV with nothing to report, read in one pass of the csv module (no
    Python step per row), as ``_csv_cells`` would return them; None if anything might be
    reported (a malformed or blank row, a row of another width, a header problem, too many
    rows), and then ``_csv_cells`` reads it row by row to say where."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True))
    except csv.Error:
        return None
    if not rows:
        return None
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if (len(header) < 2 or len(header) > MAX_COLUMNS or not all(header) or len(set(header)) < len(header)
            or header[0].lower().startswith("sep=") or len(body) > max_rows):
        return None
    if set(map(len, body)) - {len(header)}:
        return None
    if not all(map(str.strip, map(operator.itemgetter(0), body))):  # a row that may be blank
        return None
    cells = pd.DataFrame(body, columns=header, dtype=object)
    cells.index = pd.Index(np.arange(2, len(body) + 2), name="row", dtype=int)
    return cells


def _malformed(file: str, row: int, err: csv.Error) -> Problem:
    if "unexpected end of data" in str(err):
        return Problem(file, row, None, "a quote (\") that is never closed",
                       "well-formed CSV (every opening quote closed)")
    return Problem(file, row, None, None, f"well-formed CSV ({err})")


def _distinct_columns(file: str, header: list[str], problems: list[Problem]) -> list[int]:
    """Positions of the named columns, each name's first; blank and repeated names are reported."""
    keep: list[int] = []
    first_position: dict[str, int] = {}  # a dict, not a search of the header so far: linear in its length
    for i, name in enumerate(header):
        if not name:
            problems.append(Problem(file, 1, _column_letter(i), "", "a column name (or delete the empty column)"))
        elif name in first_position:
            first = _column_letter(first_position[name])
            problems.append(Problem(file, 1, name, name, f"each column named once (also column {first})"))
        else:
            first_position[name] = i
            keep.append(i)
    return keep


def _column_letter(position: int) -> str:
    """The spreadsheet's letter for a column: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


# What ``Field.parse_column`` returns for no cells, by kind
EMPTY_VALUES = {"str": pd.array([], dtype=object), "bool": pd.array([], dtype=object),
                "int": pd.array([], dtype="Int64"), "float": np.array([], dtype=float)}


def parse_table(spec: schema.TableSpec, raw: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Typed columns from a table of text cells; bad cells are added to ``problems``."""
    for column in raw.columns:
        if column not in spec.by_name:
            problems.append(
                Problem(spec.file, 1, column, column, "a known column" + did_you_mean(column, spec.by_name))
            )
    missing = [f.name for f in spec.fields if f.required and f.name not in raw.columns]
    for column in missing:
        problems.append(Problem(spec.file, 1, column, None, f"a column named {column!r}"))
    if len(raw) == 0 and spec.required:
        problems.append(Problem(spec.file, None, None, "no data rows", "at least one row"))
    columns: dict[str, pd.Series] = {}  # one frame built at the end: adding columns one by one cost more
    if len(raw) == 0:  # an absent optional file, or a header alone: the declared types, no cells to parse
        columns = {field.name: pd.Series(EMPTY_VALUES[field.kind], index=raw.index, name=field.name)
                   for field in spec.fields}
        table = pd.DataFrame(columns, index=raw.index)
        return with_categorical_text(spec, table) if spec.file == schema.FACILITIES.file else table
    bad_cells: list[tuple[int, Problem]] = []  # (row, problem)
    for field in spec.fields:
        column = raw[field.name] if field.name in raw.columns else pd.Series("", index=raw.index)
        values, bad = field.parse_column(column)
        if field.name in missing:
            bad[:] = False
        for row in raw.index[bad] if bad.any() else ():
            bad_cells.append((int(row), Problem(spec.file, int(row), field.name, short_text(column.loc[row].strip()),
                                                field.expected())))
        columns[field.name] = values
    # row by row, as a reader scans the file
    problems += [problem for _, problem in sorted(bad_cells, key=lambda cell: cell[0])]
    table = pd.DataFrame(columns, index=raw.index)
    return with_categorical_text(spec, table) if spec.file == schema.FACILITIES.file else table


# -- checks across rows and files -----------------------------------------------------


HORIZON = ("settings.first_year", "settings.last_year", "settings.base_year")


def check_dataset(dataset: Dataset, changed: set[str] | None = None,
                  columns: Mapping[str, Iterable[str]] | None = None) -> list[Problem]:
    """Problems that involve more than one cell: keys, coverage, sums, orderings, and
    limits on what the numbers grow to over the horizon and on the model's size.

    With ``changed`` (names of the settings or tables that differ from a checked dataset),
    only the checks that read them run again; ``columns`` narrows a changed table (or the
    settings) to the columns (keys) that differ, as an override knows, so that a scenario of
    a study re-checks only what its numbers touch."""
    checks = (
        ({"settings.name", *HORIZON}, lambda d: _check_scenario(d.settings)),
        ({"sectors.sector"}, lambda d: _check_sector_names(d.sectors)),
        ({"sectors.covered_from", "sectors.trading_from", "sectors.free_share_min", "sectors.free_share_max",
          "sectors.value_added_bn_cny", "sectors.base_emissions_mt", "sectors.output_growth",
          "sectors.intensity_change", *HORIZON}, lambda d: _check_sectors(d.sectors, d.settings)),
        ({"mac", "sectors.sector", *HORIZON}, lambda d: _check_mac(d.mac, d.sectors, d.settings)),
        ({"targets.year"}, lambda d: repeated_keys(schema.TARGETS.file, d.targets, ["year"])),
        ({"targets.ets_cap_mt", "targets.national_cap_mt", "targets.min_auction_share", "targets.max_auction_share",
          "targets.national_intensity_t_per_10k_cny", "targets.gdp_bn_cny", "targets.non_co2_mt", "targets.sinks_mt",
          "settings.targets.scope"}, lambda d: _check_target_values(d.targets, d.settings)),
        ({"targets.year", "settings.first_year", "settings.last_year"},
         lambda d: _check_target_years(d.targets, d.settings)),
        (_OPTIONAL_TABLES_READ, _check_optional_tables),  # cap_rules.csv's rows: its family's checks
        ({"settings.model.resolution", "facilities"}, _check_resolution),
        *((set(check.reads), check.test) for check in schema.DATASET_CHECKS),  # the rules' own (their INPUTS)
    )
    narrowed = {name: set(keys) for name, keys in (columns or {}).items() if changed is None or name in changed}
    touched = None if changed is None else {
        *changed, *(f"{name}.{key}" for name in changed for key in narrowed.get(name, ()))}

    def reads_changed(reads: set[str]) -> bool:
        # "table" reads every column; "table.column" one column, changed when its table changed
        # wholly (not narrowed) or the column is among those narrowed to
        assert changed is not None and touched is not None  # asked only when some tables changed
        return any(read in touched if "." not in read else
                   read in touched or (read.split(".", 1)[0] in changed and read.split(".", 1)[0] not in narrowed)
                   for read in reads)

    # a table given to Dataset.replace was not parsed from text: check its cells' ranges too
    declared = [problem for name in sorted((changed or set()) & set(schema.TABLES_BY_NAME))
                for problem in _check_declared(dataset.table(name), schema.TABLES_BY_NAME[name], narrowed.get(name))]
    if declared:  # the checks across tables read the cells as their declared types: refused cells first
        return declared
    return [problem for reads, check in checks if changed is None or reads_changed(reads)
            for problem in check(dataset)]


def _check_declared(table: pd.DataFrame, spec: schema.TableSpec, columns: set[str] | None = None) -> list[Problem]:
    """Cells of a table made in Python that its declarations refuse: a column missing, a
    required cell blank, a number out of range or not finite, a value not among the choices
    (only in ``columns``, if given)."""
    problems: list[Problem] = []
    for field in spec.fields:
        if columns is not None and field.name not in columns:
            continue
        if field.name not in table.columns:
            if field.required:
                problems.append(Problem(spec.file, 1, field.name, None, f"a column named {field.name!r}"))
            continue
        values = table[field.name]
        if field.kind == "float" and values.dtype == np.float64 and not field.choices:  # as below, on the array
            numbers = values.to_numpy()
            blank = np.isnan(numbers)
            bad = (blank & field.required) | (~blank & ~np.isfinite(numbers))
            outside = np.zeros(len(numbers), dtype=bool)
            if field.minimum is not None:
                outside |= numbers < field.minimum
            if field.maximum is not None:
                outside |= numbers > field.maximum
            bad |= ~bad & ~blank & outside
            problems += [Problem(spec.file, int(row), field.name, short_text(values.loc[row]), field.expected())
                         for row in _rows(table, bad)]
            continue
        bad = values.isna().to_numpy() & field.required
        if field.kind in ("int", "float"):
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            # text that is no number (coerced to NaN) or an infinite number, in a cell not blank
            bad |= (values.notna() & (numbers.isna() | ~np.isfinite(numbers.fillna(0.0)))).to_numpy()
            bad |= ~bad & field.out_of_range(numbers)
        else:
            bad |= ~bad & field.out_of_range(values)
        problems += [Problem(spec.file, int(row), field.name, short_text(values.loc[row]), field.expected())
                     for row in _rows(table, bad)]
    return problems


def _check_scenario(settings: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    scenario = schema.SCENARIO_FILE
    first, last, base = settings["first_year"], settings["last_year"], settings["base_year"]
    if not SCENARIO_NAME.match(settings["name"]):
        problems.append(Problem(scenario, None, "name", short_text(settings["name"]),
                                "a name of letters, digits, '_', '-' and '.' starting with a letter "
                                "or digit, at most 64 long (it names the results folder)"))
    if last < first:
        problems.append(Problem(scenario, None, "last_year", str(last), f"a year not before first_year ({first})"))
    if base > first:
        problems.append(Problem(scenario, None, "base_year", str(base), f"a year not after first_year ({first})"))
    return problems


def _check_setting_values(settings: Mapping[str, Any], keys: Iterable[str]) -> list[Problem]:
    """Settings given to Dataset.replace that their declarations refuse (values read from
    scenario.toml or --set were converted already; these were not)."""
    problems: list[Problem] = []
    for key in sorted(keys):
        if key not in schema.SCENARIO:
            problems.append(Problem(schema.SCENARIO_FILE, None, key, short_text(settings.get(key)),
                                    "a known key" + did_you_mean(key, schema.SCENARIO)))
            continue
        value = settings.get(key)
        value = value.item() if isinstance(value, np.generic) else value  # a value parsed from text
        try:
            valid = schema.SCENARIO[key].convert(value) == value
        except ValueError:
            valid = False
        if not valid:
            problems.append(Problem(schema.SCENARIO_FILE, None, key, short_text(value),
                                    schema.SCENARIO[key].expected()))
    return problems


def _check_sector_names(sectors: pd.DataFrame) -> list[Problem]:
    file = schema.SECTORS.file
    return (misnamed(file, sectors, "sector", SECTOR_NAME, "a name of letters, digits and _ starting with a letter")
            + repeated_keys(file, sectors, ["sector"]))


def _check_sectors(sectors: pd.DataFrame, settings: dict[str, Any]) -> list[Problem]:
    """Coverage years, free-share bounds, value added and BAU growth of each sector (its
    name is checked by ``_check_sector_names``)."""
    problems: list[Problem] = []
    file = schema.SECTORS.file
    covered, trading = sectors["covered_from"], sectors["trading_from"]

    def column(name: str) -> np.ndarray:  # blank as NaN, which no comparison holds for, as in pandas
        return float_column(sectors, name)

    # masks on the arrays (a Monte Carlo re-checks this for every draw of a sector's numbers)
    covered_year, trading_year = column("covered_from"), column("trading_from")
    for row in _rows(sectors, ~np.isnan(trading_year) & np.isnan(covered_year)):
        problems.append(Problem(file, row, "trading_from", str(trading[row]), "blank, since covered_from is blank"))
    for row in _rows(sectors, trading_year < covered_year):
        problems.append(Problem(file, row, "trading_from", str(trading[row]),
                                f"a year not before covered_from ({covered[row]})"))
    for row in _rows(sectors, column("free_share_min") > column("free_share_max")):
        problems.append(
            Problem(file, row, "free_share_min", number_text(sectors.loc[row, "free_share_min"]),
                    f"at most free_share_max ({number_text(sectors.loc[row, 'free_share_max'])})")
        )
    # burdens are shares of value added: stage 2 divides by it (0 would be an infinite coefficient)
    tiny_value_added = ~np.isnan(covered_year) & (column("value_added_bn_cny") < MIN_COVERED_VALUE_ADDED_BN_CNY)
    for row in _rows(sectors, tiny_value_added):
        problems.append(Problem(file, row, "value_added_bn_cny", number_text(sectors.loc[row, "value_added_bn_cny"]),
                                f"at least {MIN_COVERED_VALUE_ADDED_BN_CNY} (billion CNY) for a sector the ETS "
                                "covers (covered_from given): its compliance burden is a share of it"))
    yearly_factor = (1.0 + column("output_growth")) * (1.0 + column("intensity_change"))
    peak = _peak_over_horizon(column("base_emissions_mt"), yearly_factor, settings)
    too_high = peak > MAX_BAU_MT
    for row, row_peak in zip(sectors.index[too_high], peak[too_high]):
        problems.append(Problem(
            file, row, "output_growth", number_text(sectors.loc[row, "output_growth"]),
            f"growth that keeps BAU emissions within {MAX_BAU_MT:.0f} Mt CO2 over the horizon "
            f"(with intensity_change {number_text(sectors.loc[row, 'intensity_change'])} they reach "
            f"{row_peak:.3g} Mt)"))
    return problems


def _check_mac(mac: pd.DataFrame, sectors: pd.DataFrame, settings: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    file = schema.MAC.file
    known = set(sectors["sector"])
    for row, name in _given(mac["sector"]).items():
        if name not in known:
            problems.append(Problem(file, row, "sector", short_text(name),
                                    "a sector of sectors.csv" + did_you_mean(name, known)))
    problems += misnamed(file, mac, "step", STEP_NAME, ID_EXPECTED)
    problems += repeated_keys(file, mac, ["sector", "step"])
    total = mac.groupby("sector", sort=False)["potential_share"].sum()
    for name, share in total[total > 1 + 1e-9].items():
        rows = mac.index[mac["sector"] == name]
        problems.append(
            Problem(file, int(rows[-1]), "potential_share", f"{share:.4g} in total for {name}",
                    "shares of one sector summing to at most 1")
        )
    peak = _peak_over_horizon(mac["cost_cny_per_t"], 1.0 + mac["cost_change"], settings)
    for row in mac.index[(peak > MAX_COST_CNY_PER_T).to_numpy()]:
        problems.append(Problem(
            file, row, "cost_change", number_text(mac.loc[row, "cost_change"]),
            f"a change that keeps the cost within {MAX_COST_CNY_PER_T:.0f} CNY per t CO2 over the "
            f"horizon (it reaches {peak[row]:.3g} CNY per t CO2)"))
    first, last = settings["first_year"], settings["last_year"]
    available_from = mac["available_from"].fillna(first).clip(lower=first).astype(float)
    variables = float(np.clip(last - available_from + 1, 0, None).sum())
    if variables > MAX_ABATEMENT_VARIABLES:
        problems.append(Problem(
            file, None, None, f"{variables:.0f} step-years", f"at most {MAX_ABATEMENT_VARIABLES} "
            "abatement variables (steps times years available; fewer steps or a shorter horizon)"))
    return problems


def _rows(table: pd.DataFrame, mask: np.ndarray) -> list[Any]:
    """The row labels where ``mask`` holds: ``table.index[mask]``, without indexing when none does
    (a study re-checks a changed table for every scenario, and a valid one has no such row)."""
    return table.index[mask].tolist() if mask.any() else []


def _check_target_values(targets: pd.DataFrame, settings: dict[str, Any]) -> list[Problem]:
    """The ETS cap within the national cap, the auction shares in order, a national target
    in every row and only CO2 under scope 'co2', row by row."""
    problems: list[Problem] = []
    file = schema.TARGETS.file
    def column(name: str) -> np.ndarray:  # blank as NaN, which no comparison holds for, as in pandas
        return float_column(targets, name)

    for row in _rows(targets, column("ets_cap_mt") > column("national_cap_mt")):
        problems.append(Problem(file, row, "ets_cap_mt", number_text(targets.loc[row, "ets_cap_mt"]),
                                f"at most national_cap_mt ({number_text(targets.loc[row, 'national_cap_mt'])}), "
                                "which counts the allowances issued"))
    for row in _rows(targets, column("max_auction_share") < column("min_auction_share")):
        problems.append(Problem(file, row, "max_auction_share", number_text(targets.loc[row, "max_auction_share"]),
                                f"at least min_auction_share ({number_text(targets.loc[row, 'min_auction_share'])}) "
                                "of the same row, or blank (auction exactly min_auction_share)"))
    # masks on the arrays (a study re-checks this for every scenario that sets a target)
    intensity_blank = np.isnan(column("national_intensity_t_per_10k_cny"))
    no_target = np.isnan(column("national_cap_mt")) & intensity_blank
    problems += [Problem(file, row, "national_cap_mt", None,
                         "a national cap, or a national_intensity_t_per_10k_cny with gdp_bn_cny (or both)")
                 for row in _rows(targets, no_target)]
    no_gdp = ~intensity_blank & np.isnan(column("gdp_bn_cny"))
    problems += [Problem(file, row, "gdp_bn_cny", None,
                         "the year's GDP (billion CNY): the intensity target's cap is intensity x GDP")
                 for row in _rows(targets, no_gdp)]
    if settings.get("targets.scope", "co2") == "co2":
        for name in ("non_co2_mt", "sinks_mt"):
            problems += [Problem(file, row, name, number_text(targets.at[row, name]),
                                 "0 or blank, since [targets] scope = 'co2' counts CO2 only "
                                 "(or scope = 'net_ghg' in scenario.toml)")
                         for row in _rows(targets, column(name) > 0)]
    return problems


def _check_target_years(targets: pd.DataFrame, settings: dict[str, Any]) -> list[Problem]:
    """The target years cover the horizon."""
    problems: list[Problem] = []
    file = schema.TARGETS.file
    first, last = settings["first_year"], settings["last_year"]
    years = targets["year"].dropna()
    if len(years) and (years.min() > first or years.max() < last):
        problems.append(
            Problem(file, None, "year", f"{years.min()}-{years.max()}",
                    f"target years covering the horizon {first}-{last} (add rows for the missing ends)")
        )
    return problems


def _check_resolution(dataset: Dataset) -> list[Problem]:
    """Facility resolution needs installations."""
    if dataset.settings["model.resolution"] == "facility" and dataset.facilities.empty:
        return [Problem(schema.SCENARIO_FILE, None, "model.resolution", "facility",
                        "'sector', or a facilities.csv with the installations (run.py make-registry makes one)")]
    return []


def _check_facility_mac(dataset: Dataset) -> list[Problem]:
    """facility_mac.csv names known installations, once per step, shares summing to at most 1."""
    steps, file = dataset.facility_mac, schema.FACILITY_MAC.file
    if steps.empty:
        return []
    known = set(dataset.facilities["facility_id"])
    problems = [Problem(file, row, "facility_id", steps.at[row, "facility_id"], "an installation of facilities.csv")
                for row in steps.index[~steps["facility_id"].isin(known).to_numpy()]]
    problems += repeated_keys(file, steps, ["facility_id", "step"])
    total = steps.groupby("facility_id", sort=False)["potential_share"].sum()
    for name, share in total[total > 1 + 1e-9].items():
        row = int(steps.index[(steps["facility_id"] == name).to_numpy()][-1])
        problems.append(Problem(file, row, "potential_share", f"{share:.4g} in total for {name}",
                                "shares of one installation summing to at most 1"))
    return problems


# what _check_optional_tables reads: each table's sector and key columns, the names it
# checks and the columns it compares (not the numbers, so that a draw of bau.csv's or
# allocation.csv's values does not re-check a registry's names)
_OPTIONAL_TABLES_READ = {
    "sectors.sector", "sectors.covered_from", "allocation.free_share_min", "allocation.free_share_max",
    "facility_mac.potential_share",
    *(f"{name}.{column}" for name in ("allocation", "benchmarks", "facilities", "bau", "cap_rules")
      for column in ("sector", *schema.TABLES_BY_NAME[name].key)),
    *(f"{name}.{column}" for name, columns in ID_COLUMNS.items() for column in columns),
    *(f"facility_mac.{column}" for column in schema.FACILITY_MAC.key)}


def _check_optional_tables(dataset: Dataset) -> list[Problem]:
    """allocation.csv, benchmarks.csv, facilities.csv and bau.csv refer to known sectors and units."""
    problems: list[Problem] = []
    sectors = dataset.sectors.set_index("sector")
    known = list(sectors.index)
    covered = sectors.index[sectors["covered_from"].notna().to_numpy()]
    for spec, table in ((schema.ALLOCATION, dataset.allocation), (schema.BENCHMARKS, dataset.benchmarks),
                        (schema.FACILITIES, dataset.facilities), (schema.BAU, dataset.bau),
                        (schema.CAP_RULES, dataset.cap_rules)):
        if table.empty:
            continue
        unknown = ~table["sector"].isin(known).to_numpy()
        for row in table.index[unknown]:
            name = table.at[row, "sector"]
            problems.append(Problem(spec.file, row, "sector", name,
                                    "a sector of sectors.csv" + did_you_mean(name, known)))
        if spec in (schema.FACILITIES, schema.CAP_RULES):
            for row in table.index[~unknown & ~table["sector"].isin(covered).to_numpy()]:
                problems.append(Problem(spec.file, row, "sector", table.at[row, "sector"],
                                        "a sector the ETS covers (covered_from given)"))
        problems += repeated_keys(spec.file, table, list(spec.key))
    for name, columns in ID_COLUMNS.items():
        for column in columns:
            problems += misnamed(schema.TABLES_BY_NAME[name].file, dataset.table(name), column, STEP_NAME,
                                  ID_EXPECTED)
    allocation = dataset.allocation
    for row in allocation.index[(allocation["free_share_min"] > allocation["free_share_max"]).to_numpy()]:
        problems.append(Problem(schema.ALLOCATION.file, row, "free_share_min",
                                str(allocation.loc[row, "free_share_min"]),
                                f"at most free_share_max ({allocation.loc[row, 'free_share_max']})"))
    problems += _check_facility_mac(dataset)
    benchmarks, facilities = dataset.benchmarks, dataset.facilities
    if benchmarks.empty or facilities.empty:
        return problems
    benchmarked = facilities["sector"].isin(benchmarks["sector"]).to_numpy()
    has_benchmark = pd.MultiIndex.from_frame(facilities[["sector", "unit_type"]]).isin(
        pd.MultiIndex.from_frame(benchmarks[["sector", "unit_type"]]))
    for row in facilities.index[benchmarked & ~has_benchmark]:
        units = benchmarks.loc[benchmarks["sector"] == facilities.at[row, "sector"], "unit_type"]
        unit_type = facilities.at[row, "unit_type"]
        problems.append(Problem(schema.FACILITIES.file, row, "unit_type", unit_type,
                                "a unit_type of benchmarks.csv for this sector" + did_you_mean(unit_type, units)))
    return problems


def _given(names: pd.Series) -> pd.Series:
    """The names that are not blank (a blank name is reported as a bad cell)."""
    return names[names.notna() & (names != "")]


def misnamed(file: str, table: pd.DataFrame, column: str, pattern: re.Pattern, expected: str) -> list[Problem]:
    """A name in ``column`` that ``pattern`` refuses (blank names are reported as bad cells)."""
    names = _given(table[column])
    if pattern is STEP_NAME and _all_step_names(names.to_numpy()):  # a registry's ids: one scan, not one per row
        return []
    return [Problem(file, int(row), column, short_text(name), expected)
            for row, name in names.items() if not pattern.match(name)]


_STEP_NAMES = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9_-]*\n)*")  # names STEP_NAME accepts, one a line


def _all_step_names(names: np.ndarray) -> bool:
    """Whether every name matches STEP_NAME, found by one match over the names joined one a
    line (False, and so each name matched on its own, if a name holds a line break or is not text)."""
    try:
        text = "\n".join(names) + "\n" * bool(len(names))
    except TypeError:
        return False
    return text.count("\n") == len(names) and _STEP_NAMES.fullmatch(text) is not None


def _peak_over_horizon(base: Any, yearly_factor: Any, settings: dict[str, Any]) -> Any:
    """Largest value of base x factor^(t - base_year) over the horizon (it peaks at an end)."""
    elapsed = [settings["first_year"] - settings["base_year"], settings["last_year"] - settings["base_year"]]
    with np.errstate(over="ignore"):
        return np.maximum(*(base * yearly_factor.astype(float) ** years for years in elapsed))


def repeated_keys(file: str, table: pd.DataFrame, key: list[str]) -> list[Problem]:
    """A row whose key (its ``key`` columns, none blank) an earlier row already used."""
    # the key's codes column by column (as ``table.duplicated`` makes them), without the
    # frames it builds: a few ms for the dozen small tables every load checks
    group = np.zeros(len(table), dtype=np.int64)
    complete = np.ones(len(table), dtype=bool)
    for name in key:
        codes, distinct = pd.factorize(table[name], use_na_sentinel=True)
        complete &= codes >= 0
        group, _ = pd.factorize(group * (len(distinct) + 1) + codes + 1)  # bounded: at most rows x (names + 1)
    repeated = np.ones(len(table), dtype=bool)
    repeated[np.unique(group, return_index=True)[1]] = False  # each key's first row
    repeated &= complete
    return [
        Problem(file, int(row), key[-1], " / ".join(str(table.loc[row, k]) for k in key),
                "a key not used in an earlier row")
        for row in table.index[repeated]
    ]


def interpolate_by_year(table: pd.DataFrame, column: str, years: np.ndarray) -> pd.Series:
    """Linear interpolation of ``column`` over ``years`` between the table's rows.

    A year outside the rows, or between two rows of which one is blank, is NaN.
    """
    return pd.Series(interpolated(table, column, years), index=pd.Index(years, name="year"), name=column)


def optional_by_year(table: pd.DataFrame, column: str, years: np.ndarray) -> np.ndarray:
    """An optional column of a yearly table (e.g. a price floor or ceiling, CNY/t) for each of
    ``years``, interpolated as ``interpolate_by_year``; NaN throughout where it is not given."""
    if column not in table or np.isnan(float_column(table, column)).all():  # arrays: a study asks per scenario
        return np.full(np.asarray(years).size, np.nan)
    return interpolated(table, column, years).astype(float)


def interpolated(table: pd.DataFrame, column: str, years: np.ndarray) -> np.ndarray:
    """``interpolate_by_year`` as an array (no sorting of the table: a study interpolates
    every scenario's targets and BAU paths)."""
    known = float_column(table, "year")
    order = np.argsort(known, kind="stable")  # as sort_values("year"): blank years last
    return interpolate(known[order], float_column(table, column)[order], years)


def interpolate(known: np.ndarray, values: np.ndarray, years: np.ndarray) -> np.ndarray:
    """``values`` given at the sorted years ``known``, interpolated linearly over ``years``."""
    years = np.asarray(years)
    at_or_before = np.clip(np.searchsorted(known, years, side="right") - 1, 0, len(known) - 1)
    after = np.clip(at_or_before + 1, 0, len(known) - 1)
    t0, t1 = known[at_or_before], known[after]
    v0, v1 = values[at_or_before], values[after]
    weight = np.divide(years - t0, t1 - t0, out=np.zeros(len(years)), where=t1 > t0)
    result = np.where(years == t0, v0, v0 + weight * (v1 - v0))
    result[(years < known[0]) | (years > known[-1])] = np.nan
    return result
