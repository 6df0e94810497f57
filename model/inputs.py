"""Read a dataset folder into typed tables and check it against ``schema.py``.

Nothing is built from a dataset that fails a check: every problem found is reported
together, each naming file, row (header = row 1), column, the value found and what
was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .errors import InputError, Problem, did_you_mean

MAX_FILE_BYTES = 200 * 1024 * 1024  # larger input files are refused rather than read
SECTOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: scenario settings plus the sector, MAC and target tables.

    Tables keep their file order; their index is the row number a spreadsheet shows
    (the header is row 1), so later checks can still say where a value came from.
    """

    path: Path
    settings: dict[str, Any]  # dotted keys of schema.SCENARIO, e.g. "market.banking"
    sectors: pd.DataFrame
    mac: pd.DataFrame
    targets: pd.DataFrame
    allocation: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.ALLOCATION))
    benchmarks: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.BENCHMARKS))
    facilities: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_table(schema.FACILITIES))

    @property
    def name(self) -> str:
        return str(self.settings["name"])

    def setting(self, key: str) -> Any:
        return self.settings[key]

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def replace(self, **changes: Any) -> "Dataset":
        """A copy with some settings or tables replaced, checked again."""
        updated = dataclasses.replace(self, **changes)
        problems = check_dataset(updated)
        if problems:
            raise InputError(problems)
        return updated

    @functools.cached_property
    def sha256(self) -> str:
        """Checksum of the dataset's content (settings and tables, after overrides)."""
        digest = hashlib.sha256()
        digest.update(json.dumps(self.settings, sort_keys=True, default=str).encode())
        for spec in schema.TABLES:
            buffer = io.StringIO()
            self.table(spec.file.removesuffix(".csv")).to_csv(buffer, lineterminator="\n")
            digest.update(spec.file.encode())
            digest.update(buffer.getvalue().encode())
        return digest.hexdigest()


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate the dataset folder at ``path``."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(
            Problem(str(folder), None, None, None, "a dataset folder (see README: Inputs)")
        )
    problems: list[Problem] = []
    settings = _read_scenario(folder, problems)
    tables = {spec.file: _read_table(folder, spec, problems) for spec in schema.TABLES}
    if problems:
        raise InputError(problems)
    dataset = Dataset(path=folder, settings=settings,
                      **{spec.file.removesuffix(".csv"): tables[spec.file] for spec in schema.TABLES})
    problems = check_dataset(dataset)
    if problems:
        raise InputError(problems)
    return dataset


# -- reading ---------------------------------------------------------------------------


def _read_bytes(folder: Path, name: str, problems: list[Problem]) -> bytes | None:
    file = folder / name
    if not file.is_file():
        problems.append(Problem(name, None, None, None, f"the file {file} to exist"))
        return None
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        problems.append(
            Problem(name, None, None, f"{size} bytes", f"at most {MAX_FILE_BYTES} bytes")
        )
        return None
    return file.read_bytes()


def _decode(name: str, data: bytes, problems: list[Problem]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.append(
            Problem(name, None, None, f"a byte that is not UTF-8 at offset {err.start}",
                    "a UTF-8 text file (save as 'CSV UTF-8')")
        )
        return None


def _read_scenario(folder: Path, problems: list[Problem]) -> dict[str, Any]:
    name = schema.SCENARIO_FILE
    data = _read_bytes(folder, name, problems)
    text = _decode(name, data, problems) if data is not None else None
    if text is None:
        return {}
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        problems.append(Problem(name, None, None, None, f"valid TOML ({err})"))
        return {}
    flat = _flatten(document)
    settings: dict[str, Any] = {}
    for key, raw in flat.items():
        if key not in schema.SCENARIO:
            problems.append(
                Problem(name, None, key, _short(raw), "a known key" + did_you_mean(key, schema.SCENARIO))
            )
    for key, spec in schema.SCENARIO.items():
        raw = flat.get(key)
        try:
            settings[key] = spec.convert(raw)
        except ValueError:
            found = None if raw is None else _short(raw)
            problems.append(Problem(name, None, key, found, spec.expected()))
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
    if not spec.required and not (folder / spec.file).exists():
        return empty_table(spec)
    data = _read_bytes(folder, spec.file, problems)
    text = _decode(spec.file, data, problems) if data is not None else None
    if text is None:
        return pd.DataFrame()
    if not text.strip():
        problems.append(Problem(spec.file, None, None, "an empty file", "a header row and data rows"))
        return pd.DataFrame()
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        problems.append(Problem(spec.file, None, None, None, f"a well-formed CSV file ({err})"))
        return pd.DataFrame()
    raw.columns = [str(c).strip() for c in raw.columns]
    raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
    return parse_table(spec, raw, problems)


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
    typed = pd.DataFrame(index=raw.index)
    for field in spec.fields:
        column = raw[field.name] if field.name in raw.columns else pd.Series("", index=raw.index)
        values, bad = field.parse_column(column)
        if field.name in missing:
            bad[:] = False
        for row in raw.index[bad]:
            problems.append(Problem(spec.file, int(row), field.name, column.loc[row].strip(), field.expected()))
        typed[field.name] = values
    return typed


# -- checks across rows and files -----------------------------------------------------


def check_dataset(dataset: Dataset) -> list[Problem]:
    """Problems that involve more than one cell: keys, coverage, sums, orderings."""
    problems: list[Problem] = []
    settings = dataset.settings
    first, last, base = settings["first_year"], settings["last_year"], settings["base_year"]
    scenario = schema.SCENARIO_FILE
    if last < first:
        problems.append(Problem(scenario, None, "last_year", str(last), f"a year not before first_year ({first})"))
    if base > first:
        problems.append(Problem(scenario, None, "base_year", str(base), f"a year not after first_year ({first})"))

    sectors = dataset.sectors
    file = schema.SECTORS.file
    for row, name in sectors["sector"].items():
        if not SECTOR_NAME.match(name):
            problems.append(Problem(file, row, "sector", name, "a name of letters, digits and _ starting with a letter"))
    problems += _duplicates(file, sectors, ["sector"])
    covered, trading = sectors["covered_from"], sectors["trading_from"]
    for row in sectors.index[(trading.notna() & covered.isna()).to_numpy()]:
        problems.append(Problem(file, row, "trading_from", str(trading[row]), "blank, since covered_from is blank"))
    for row in sectors.index[(trading < covered).fillna(False).to_numpy()]:
        problems.append(Problem(file, row, "trading_from", str(trading[row]), f"a year not before covered_from ({covered[row]})"))
    for row in sectors.index[(sectors["free_share_min"] > sectors["free_share_max"]).to_numpy()]:
        problems.append(
            Problem(file, row, "free_share_min", str(sectors.loc[row, "free_share_min"]),
                    f"at most free_share_max ({sectors.loc[row, 'free_share_max']})")
        )

    mac = dataset.mac
    file = schema.MAC.file
    known = set(sectors["sector"])
    for row, name in mac["sector"].items():
        if name not in known:
            problems.append(Problem(file, row, "sector", name, "a sector of sectors.csv" + did_you_mean(name, known)))
    problems += _duplicates(file, mac, ["sector", "step"])
    total = mac.groupby("sector", sort=False)["potential_share"].sum()
    for name, share in total[total > 1 + 1e-9].items():
        rows = mac.index[mac["sector"] == name]
        problems.append(
            Problem(file, int(rows[-1]), "potential_share", f"{share:.4g} in total for {name}",
                    "shares of one sector summing to at most 1")
        )

    targets = dataset.targets
    file = schema.TARGETS.file
    problems += _duplicates(file, targets, ["year"])
    if len(targets):
        years = targets["year"]
        if years.min() > first or years.max() < last:
            problems.append(
                Problem(file, None, "year", f"{years.min()}-{years.max()}",
                        f"target years covering the horizon {first}-{last} (add rows for the missing ends)")
            )
    problems += _check_optional_tables(dataset)
    return problems


def _check_optional_tables(dataset: Dataset) -> list[Problem]:
    """allocation.csv, benchmarks.csv and facilities.csv refer to known sectors and units."""
    problems: list[Problem] = []
    sectors = dataset.sectors.set_index("sector")
    known = list(sectors.index)
    covered = sectors.index[sectors["covered_from"].notna().to_numpy()]
    for spec, table in ((schema.ALLOCATION, dataset.allocation), (schema.BENCHMARKS, dataset.benchmarks),
                        (schema.FACILITIES, dataset.facilities)):
        if table.empty:
            continue
        unknown = ~table["sector"].isin(known).to_numpy()
        for row in table.index[unknown]:
            name = table.at[row, "sector"]
            problems.append(Problem(spec.file, row, "sector", name, "a sector of sectors.csv" + did_you_mean(name, known)))
        if spec is schema.FACILITIES:
            for row in table.index[~unknown & ~table["sector"].isin(covered).to_numpy()]:
                problems.append(Problem(spec.file, row, "sector", table.at[row, "sector"],
                                        "a sector the ETS covers (covered_from given)"))
        problems += _duplicates(spec.file, table, list(spec.key))
    allocation = dataset.allocation
    for row in allocation.index[(allocation["free_share_min"] > allocation["free_share_max"]).to_numpy()]:
        problems.append(Problem(schema.ALLOCATION.file, row, "free_share_min", str(allocation.loc[row, "free_share_min"]),
                                f"at most free_share_max ({allocation.loc[row, 'free_share_max']})"))
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


def _duplicates(file: str, table: pd.DataFrame, key: list[str]) -> list[Problem]:
    repeated = table.duplicated(subset=key, keep="first")
    return [
        Problem(file, int(row), key[-1], " / ".join(str(table.loc[row, k]) for k in key),
                "a key not used in an earlier row")
        for row in table.index[repeated.to_numpy()]
    ]


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def interpolate_by_year(table: pd.DataFrame, column: str, years: np.ndarray) -> pd.Series:
    """Linear interpolation of ``column`` over ``years`` between the table's rows.

    A year outside the rows, or between two rows of which one is blank, is NaN.
    """
    ordered = table.sort_values("year")
    known = ordered["year"].to_numpy(dtype=float)
    values = ordered[column].to_numpy(dtype=float)
    at_or_before = np.clip(np.searchsorted(known, years, side="right") - 1, 0, len(known) - 1)
    after = np.clip(at_or_before + 1, 0, len(known) - 1)
    t0, t1 = known[at_or_before], known[after]
    v0, v1 = values[at_or_before], values[after]
    weight = np.divide(years - t0, t1 - t0, out=np.zeros(len(years)), where=t1 > t0)
    result = np.where(years == t0, v0, v0 + weight * (v1 - v0))
    result[(years < known[0]) | (years > known[-1])] = np.nan
    return pd.Series(result, index=pd.Index(years, name="year"), name=column)
