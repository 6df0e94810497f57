"""The declaration types of inputs (a leaf: numpy, pandas and ``model.errors`` only).

A ``Field`` is one input value (a scenario key or a table column: type, unit, default,
range, meaning), a ``TableSpec`` one CSV file, and ``Inputs`` what one policy rule owns,
declared at the top of its family file (``model/families/<rule>.py``) and gathered by
``schema`` into the scenario keys and tables that validation, ``--set``, ``run.py inputs``
and the workbook read. Family files import this module, never ``schema`` (which imports them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..errors import Problem
    from .inputs import Dataset

REQUIRED: Any = object()  # sentinel default: the value must be given
MAX_WHOLE_NUMBER = 2**53  # larger whole numbers do not survive a float
FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class Field:
    """One input value: a scenario setting or a table column."""

    name: str
    kind: str  # "str", "int", "float" or "bool"
    unit: str
    description: str
    default: Any = REQUIRED  # None: may be left blank (the description says what blank means)
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expected(self, with_unit: bool = True) -> str:
        """What a valid value looks like, in words, for error messages."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = {
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "str": "text",
        }[self.kind]
        if self.minimum is not None and self.maximum is not None:
            noun += f" from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        elif self.minimum is not None:
            noun += f" of at least {_fmt(self.minimum)}"
        elif self.maximum is not None:
            noun += f" of at most {_fmt(self.maximum)}"
        if with_unit and self.unit and self.kind in ("int", "float") and self.unit != "year":
            noun += f" ({self.unit})"
        return noun

    def convert(self, raw: Any) -> Any:
        """One value from TOML or the command line, in this field's type and range.

        Raises ValueError (with the expectation in words) if it does not fit.
        """
        if isinstance(raw, str):
            parsed, bad = self.parse_column(pd.Series([raw], dtype=object))
            if bad[0]:
                raise ValueError(self.expected())
            value = parsed.iloc[0]
            return None if pd.isna(value) else value
        if raw is None:
            if self.required:
                raise ValueError(self.expected())
            return self.default
        ok = {
            "str": False,  # text arrives as str above
            "bool": isinstance(raw, bool),
            "int": isinstance(raw, int) and not isinstance(raw, bool),
            "float": isinstance(raw, (int, float)) and not isinstance(raw, bool),
        }[self.kind]
        if not ok or (self.kind in ("int", "float") and not _finite(raw)):
            raise ValueError(self.expected())
        if self._scalar_out_of_range(raw):
            raise ValueError(self.expected())
        return float(raw) if self.kind == "float" else raw

    def _scalar_out_of_range(self, raw: Any) -> bool:
        """``out_of_range`` of one given value (a study converts one per scenario and key)."""
        if self.choices:
            return bool(self.out_of_range(pd.Series([raw]))[0])
        if self.kind not in ("int", "float"):
            return False
        number = float(raw)
        return ((self.minimum is not None and number < self.minimum)
                or (self.maximum is not None and number > self.maximum))

    def parse_column(self, raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
        """Parse a column of text cells; returns typed values and a mask of bad cells.

        Blank cells take the default; a blank required cell is bad. The masks are numpy
        arrays (pandas only strips, lowers and reads numbers): a dataset's small tables
        were dominated by pandas' per-call overhead.
        """
        text = stripped_text(raw)
        blank = text == ""
        default = None if self.required else self.default
        numbers: np.ndarray | None = None  # the values as floats (numeric kinds)
        if self.kind in ("str", "bool"):
            if self.kind == "str":
                values = text.copy()
                bad = np.zeros(len(text), dtype=bool)
            else:
                lower = pd.Series(text, dtype=object).str.lower()
                true = lower.isin(_TRUE).to_numpy()
                bad = ~(true | lower.isin(_FALSE).to_numpy()) & ~blank
                values = true.astype(object)
            values[blank] = np.nan if default is None else default
        else:
            cells = np.where(blank, np.array(None, dtype=object), text)  # blank cells are not numbers
            numbers = np.asarray(pd.to_numeric(cells, errors="coerce"), dtype=float)
            bad = ~np.isfinite(numbers) & ~blank
            if self.kind == "int":
                finite = np.where(bad | blank, 0.0, numbers)
                bad |= ~blank & ~bad & (finite % 1 != 0)
                bad |= ~blank & ~bad & (np.abs(finite) > MAX_WHOLE_NUMBER)
            numbers = np.where(bad, np.nan, numbers)  # a bad cell is blank to later steps
            if default is not None:
                numbers = np.where(blank, float(default), numbers)
            else:
                numbers = np.where(blank, np.nan, numbers)
        bad = bad | (blank & self.required)
        if self.kind == "int":
            assert numbers is not None
            typed = pd.Series(pd.array(np.round(numbers), dtype="Int64"), index=raw.index, name=raw.name)
        elif self.kind == "float":
            typed = pd.Series(numbers, index=raw.index, name=raw.name, dtype=float)
        else:
            typed = pd.Series(values, index=raw.index, name=raw.name, dtype=object)
        outside = (self.out_of_range(typed) if self.choices and numbers is not None
                   else self._outside(values if numbers is None else None, numbers))
        return typed, bad | (~bad & outside)

    def _outside(self, values: np.ndarray | None, numbers: np.ndarray | None) -> np.ndarray:
        """``out_of_range`` on the arrays ``parse_column`` holds: text or flags (``values``,
        blank as nan) or the numbers (blank as nan)."""
        if numbers is not None:
            outside = np.zeros(len(numbers), dtype=bool)
            if self.minimum is not None:
                outside |= numbers < self.minimum
            if self.maximum is not None:
                outside |= numbers > self.maximum
            return outside  # nan (blank) compares False
        assert values is not None
        if not self.choices:
            return np.zeros(len(values), dtype=bool)
        given = pd.notna(values)
        return given & ~pd.Series(values, dtype=object).isin(self.choices).to_numpy()

    def out_of_range(self, values: pd.Series) -> np.ndarray:
        """Mask of non-blank values outside the allowed range or choices."""
        given = values.notna().to_numpy()
        if self.choices:
            return given & ~values.isin(self.choices).to_numpy()
        if self.kind not in ("int", "float"):
            return np.zeros(len(values), dtype=bool)
        numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
        outside = np.zeros(len(values), dtype=bool)
        if self.minimum is not None:
            outside |= numbers < self.minimum
        if self.maximum is not None:
            outside |= numbers > self.maximum
        return given & outside


def _finite(number: int | float) -> bool:
    """False for nan, inf and integers too large for a float (TOML allows all three)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _fmt(x: float) -> str:
    if abs(x) >= 1e9 and float(x).is_integer() and float(f"{x:.0e}") == x:
        return f"{x:.0e}".replace("e+", "e")  # 1e15, not sixteen digits (when exact)
    return str(int(x)) if float(x).is_integer() else str(x)


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


# pragma: no mutate start
# (the declarations call these when schema and the family files are imported, before mutmut
# switches a mutant on: their mutants all survive whatever the tests do)
def year_field(name: str, description: str, default: Any = REQUIRED) -> Field:
    return Field(name, "int", "year", description, default, FIRST_YEAR, LAST_YEAR)


def share_field(name: str, description: str, default: Any = REQUIRED) -> Field:
    return Field(name, "float", "fraction", description, default, 0.0, 1.0)
# pragma: no mutate end


SOURCE_COLUMN = Field(
    "source", "str", "", "Where the row's figures come from, or 'estimate: ...'.", ""
)


@dataclass(frozen=True)
class TableSpec:
    """One CSV file of a dataset: its key columns and every column's declaration."""

    file: str
    description: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    required: bool = True
    max_rows: int = 10_000  # more data rows are refused (a runaway file, not a dataset)
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


@dataclass(frozen=True)
class DatasetCheck:
    """A check of a rule's inputs across cells and files, run by validation (``inputs.check_dataset``):
    ``test(dataset)`` returns the problems found (each naming file, row, column and the fix);
    ``reads`` names what it reads (``settings.KEY``, ``TABLE`` or ``TABLE.COLUMN``), so that an
    override re-runs it only when one of them changed."""

    reads: frozenset[str]
    test: Callable[["Dataset"], "list[Problem]"]


@dataclass(frozen=True)
class Inputs:
    """The inputs one rule owns, declared in its family file as ``INPUTS = Inputs(...)``:
    ``scenario`` keys of scenario.toml, ``columns`` it adds to a core table (by file name,
    e.g. ``{"targets.csv": (Field(...),)}``), ``tables`` of its own and ``checks`` across them.
    ``after`` places a file's fields (``"scenario.toml"`` or a table's file) after the named
    field of that file; by default scenario keys follow the other rules' keys (after
    discount_rate) and columns come last, before the table's source column."""

    scenario: tuple[Field, ...] = ()
    columns: Mapping[str, tuple[Field, ...]] = field(default_factory=dict)
    tables: tuple[TableSpec, ...] = ()
    after: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[DatasetCheck, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Its fields as a family's ``reads`` names inputs: scenario keys and ``table.column``."""
        return (*(f.name for f in self.scenario),
                *(f"{file.removesuffix('.csv')}.{f.name}" for file, fields in self.columns.items() for f in fields),
                *(f"{t.file.removesuffix('.csv')}.{f.name}" for t in self.tables for f in t.fields))


def stripped_text(raw: pd.Series) -> np.ndarray:
    """A column's cells as stripped text (an object array of str). Cells that are all text (a
    CSV's) are stripped by numpy: pandas' text dtype (pyarrow) cost a conversion per column,
    the largest part of reading a dataset's small tables. Other cells go through pandas as before."""
    cells = raw.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(cells, skipna=False) == "string":
        return np.strings.strip(cells.astype(np.str_)).astype(object)
    return raw.astype(str).str.strip().to_numpy(dtype=object)


def text_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A text column as (distinct names, code by row; -1 missing): a categorical's own
    categories and codes (the registry's text is read as categoricals), other text factorized."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.categories.to_numpy(dtype=object), column.cat.codes.to_numpy()
    codes, names = pd.factorize(column.to_numpy(dtype=object))
    return np.asarray(names, dtype=object), codes


def name_positions(names: Any, wanted: Any) -> np.ndarray:
    """Each of ``wanted``'s position among the distinct ``names`` (-1: not there), both as
    object text: given as object indexes, pandas looks them up without inferring a text
    dtype for either first (that inference cost ten times the lookup on a few names)."""
    return pd.Index(np.asarray(names, dtype=object), dtype=object).get_indexer(
        pd.Index(np.asarray(wanted, dtype=object), dtype=object))
