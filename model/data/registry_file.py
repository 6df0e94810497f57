"""The registry of installations as read: facilities.parquet by pyarrow, column by column,
and the text of every registry (facilities.csv too) as categoricals.

A registry's text repeats (a few sectors, regions and unit types over 200,000 rows), so
its text columns are categoricals: an integer code per row and each distinct name once,
from reading on (facility resolution works on the codes). A Parquet registry is not
turned into text to be parsed: its numbers are checked as numbers and its text as the
distinct values of each column (pyarrow's dictionary), with the same rules, problems and
messages as facilities.csv's cells (``Field.parse_column``), its records numbered as
the CSV's rows would be (the first is row 2). A column whose Parquet type is not its
declared kind's (numbers stored as text, say) is checked as text, as a CSV cell is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import schema
from ..errors import Problem, did_you_mean, short_text

REGISTRY_PARQUET = "facilities.parquet"  # the registry may be Parquet instead of CSV


def categorical_text(values: Any) -> pd.Categorical:
    """Text (blank as NaN) as a categorical, its categories the distinct names in order of
    first appearance (as ``pd.factorize`` orders them) and its codes as small as they fit."""
    codes, names = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return _from_codes(codes, np.asarray(names, dtype=object))


def with_categorical_text(spec: schema.TableSpec, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (parsed from a registry's cells) with its text columns as categoricals."""
    text = [f.name for f in spec.fields if f.kind == "str" and f.name in table
            and not isinstance(table[f.name].dtype, pd.CategoricalDtype)]
    if not text:
        return table
    return table.assign(**{name: pd.Series(categorical_text(table[name].to_numpy(dtype=object)), index=table.index)
                           for name in text})


def read_parquet_registry(data: bytes, spec: schema.TableSpec, problems: list[Problem]) -> pd.DataFrame | None:
    """facilities.parquet's typed columns (text as categoricals), or None if it is not a
    readable Parquet file of at most ``spec.max_rows`` records; bad cells are added to
    ``problems`` as facilities.csv's would be, named by this file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .inputs import _distinct_columns

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, ValueError, OSError) as err:  # pyarrow's ArrowInvalid is a ValueError
        problems.append(Problem(REGISTRY_PARQUET, None, None, None,
                                f"a Parquet file with the columns of {spec.file} (pyarrow: {err})"))
        return None
    if table.num_rows > spec.max_rows:
        problems.append(Problem(REGISTRY_PARQUET, None, None, f"{table.num_rows} data rows",
                                f"at most {spec.max_rows} data rows"))
        return None
    index_columns = set((table.schema.pandas_metadata or {}).get("index_columns", []))  # a frame's index
    table = table.select([i for i, name in enumerate(table.column_names) if name not in index_columns])
    header = [str(name).strip() for name in table.column_names]
    keep = _distinct_columns(REGISTRY_PARQUET, header, problems)
    columns = {header[i]: table.column(i) for i in keep}
    for name in columns:
        if name not in spec.by_name:
            problems.append(Problem(REGISTRY_PARQUET, 1, name, name,
                                    "a known column" + did_you_mean(name, spec.by_name)))
    missing = [f.name for f in spec.fields if f.required and f.name not in columns]
    for name in missing:
        problems.append(Problem(REGISTRY_PARQUET, 1, name, None, f"a column named {name!r}"))
    index = pd.RangeIndex(2, table.num_rows + 2, name="row")
    typed: dict[str, Any] = {}
    bad_cells: list[tuple[int, Problem]] = []
    for field in spec.fields:
        column = columns.get(field.name)
        values, bad, shown = _parsed(field, column, table.num_rows)
        if field.name in missing:
            bad[:] = False
        for row in np.flatnonzero(bad):
            bad_cells.append((int(index[row]), Problem(REGISTRY_PARQUET, int(index[row]), field.name,
                                                       short_text(shown(row)), field.expected())))
        typed[field.name] = pd.Series(values, index=index, name=field.name)
    problems += [problem for _, problem in sorted(bad_cells, key=lambda cell: cell[0])]  # row by row
    return pd.DataFrame(typed, index=index)


def _parsed(field: schema.Field, column: Any, n_rows: int) -> tuple[Any, np.ndarray, Any]:
    """One column's typed values (a categorical for text), its bad cells and a function
    giving a bad cell's text (stripped, as a CSV cell would show it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column is None:  # every cell blank: the default (a required column is reported missing)
        return _absent(field, n_rows)
    kind = column.type
    if field.kind == "str" and (pa.types.is_string(kind) or pa.types.is_large_string(kind) or (
            pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type)
                                              or pa.types.is_large_string(kind.value_type)))):
        return _text(field, column)
    if field.kind in ("int", "float") and not field.choices and (pa.types.is_integer(kind)
                                                                 or pa.types.is_floating(kind)):
        numbers = column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(float)  # null as NaN
        whole = pa.types.is_integer(kind)
        return (*_numbers(field, numbers),
                lambda row: "" if np.isnan(numbers[row]) else str(int(numbers[row])) if whole and np.isfinite(
                    numbers[row]) else str(numbers[row]))
    if field.kind == "bool" and pa.types.is_boolean(kind):
        given = pc.is_valid(column).to_numpy(zero_copy_only=False)
        true = pc.fill_null(column, False).to_numpy(zero_copy_only=False)
        values = true.astype(object)
        default = None if field.required else field.default
        values[~given] = np.nan if default is None else default
        return values, ~given & field.required, lambda row: ""
    # any other Parquet type: its cells as the text a CSV would hold, checked as CSV cells are
    return _as_cells(field, _as_text(column.to_pandas()))


def _absent(field: schema.Field, n_rows: int) -> tuple[Any, np.ndarray, Any]:
    """A column the file does not have: ``Field.parse_column`` of blank cells, without the cells."""
    default = None if field.required else field.default
    bad = np.full(n_rows, field.required)
    if field.kind in ("int", "float"):
        return (*_numbers(field, np.full(n_rows, np.nan)), lambda row: "")
    if field.kind == "str":
        names = np.array([] if default is None else [default], dtype=object)
        return _from_codes(np.full(n_rows, -1 if default is None else 0), names), bad, lambda row: ""
    values = np.full(n_rows, np.nan if default is None else default, dtype=object)
    return values, bad, lambda row: ""


def _as_cells(field: schema.Field, cells: pd.Series) -> tuple[Any, np.ndarray, Any]:
    values, bad = field.parse_column(cells)
    text = cells.to_numpy(dtype=object)
    typed = (categorical_text(values.to_numpy(dtype=object)) if field.kind == "str"
             else values.to_numpy() if field.kind == "float" else values.array)
    return typed, bad, lambda row: str(text[row]).strip()


def _text(field: schema.Field, column: Any) -> tuple[pd.Categorical, np.ndarray, Any]:
    """A text column checked on its distinct values (pyarrow's dictionary), not cell by cell."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):  # chunks may have dictionaries of their own: one for all
        column = column.cast(column.type.value_type)
    encoded = column.combine_chunks().dictionary_encode()
    names = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    # the distinct names as cells, with a blank cell after them for the missing ones
    cells = pd.Series(np.append(names, np.array([""], dtype=object)), dtype=object)
    parsed, bad_name = field.parse_column(cells)
    indices[indices < 0] = len(names)  # a missing cell is the blank one
    parsed_names = parsed.to_numpy(dtype=object)
    if column.null_count == 0 and bool(np.all(parsed_names[:-1] == names)):  # names as given, no blank cell:
        return (_from_codes(indices, names), bad_name[indices],  # the dictionary's order is first appearance
                lambda row: str(names[indices[row]]).strip())
    value_codes, distinct = pd.factorize(parsed_names, use_na_sentinel=True)  # stripped names may merge
    codes = value_codes[indices]
    _, used = pd.factorize(codes, use_na_sentinel=False)  # categories in order of first appearance
    renumbered = np.full(len(distinct) + 1, -1, dtype=np.int64)
    real = used >= 0
    renumbered[used[real]] = np.arange(real.sum())
    categories = np.asarray(distinct, dtype=object)[used[real]]
    final = np.where(codes >= 0, renumbered[np.maximum(codes, 0)], -1)
    stripped = cells.to_numpy(dtype=object)
    return (_from_codes(final, categories), bad_name[indices],
            lambda row: str(stripped[indices[row]]).strip())


def _numbers(field: schema.Field, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Field.parse_column`` on cells that are numbers already (NaN: blank)."""
    blank = np.isnan(numbers)
    default = None if field.required else field.default
    bad = ~np.isfinite(numbers) & ~blank
    if field.kind == "int":
        finite = np.where(bad | blank, 0.0, numbers)
        bad |= ~blank & ~bad & (finite % 1 != 0)
        bad |= ~blank & ~bad & (np.abs(finite) > schema.MAX_WHOLE_NUMBER)
    numbers = np.where(bad, np.nan, numbers)
    numbers = np.where(blank, np.nan if default is None else float(default), numbers)
    bad = bad | (blank & field.required)
    outside = np.zeros(len(numbers), dtype=bool)
    if field.minimum is not None:
        outside |= numbers < field.minimum
    if field.maximum is not None:
        outside |= numbers > field.maximum
    values: Any = pd.array(np.round(numbers), dtype="Int64") if field.kind == "int" else numbers
    return values, bad | (~bad & outside)


def _as_text(column: pd.Series) -> pd.Series:
    """A column's cells as CSV would hold them: numbers in full (round-trip) precision,
    missing as blank."""
    text = column.astype(str).to_numpy(dtype=object)
    text[pd.isna(column).to_numpy()] = ""
    return pd.Series(text, dtype=object)


def _from_codes(codes: np.ndarray, names: np.ndarray) -> pd.Categorical:
    code_dtype = np.int8 if names.size < 127 else np.int16 if names.size < 32_000 else np.int32
    return pd.Categorical.from_codes(np.asarray(codes).astype(code_dtype), validate=False,
                                     categories=pd.Index(names, dtype=object))
