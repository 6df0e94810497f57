"""Re-solve many scenarios of one structure without rebuilding: the fast path of studies.

A ``Resolver`` keeps stage 1 of one dataset as a HiGHS LP in memory, rendered from the
same ``formulate`` blocks as the Pyomo model. A scenario with the same structure (years,
sectors, phases, steps: see ``LinearProgram.structure``) differs only in numbers (costs,
potentials, targets, rule caps, cap shares); those are pushed into HiGHS and the LP is
re-solved from the previous basis. The tables are the same as those of
``model.solve(dataset, allocation=False)``.

Where the LP has many optima (a degenerate vertex: two steps at one cost, a cap at the
end of a step), the optimum HiGHS reports can depend on the basis it starts from. A
sequence of re-solves is then order dependent; ``start="reference"`` (every re-solve
starts from the basis of the Resolver's first optimal solve) or ``start="cold"`` make
each scenario's numbers independent of what was solved before, as studies need when
scenarios are spread over workers in any order.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from types import FunctionType
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from ..errors import EtscapError
from ..families import FAMILIES, Contribution, Family, Sums
from ..lp.formulation import define_variables, formulate
from ..data import fastpath
from ..data.fastpath import column_array
from ..data.inputs import Dataset
from ..lp.blocks import HighsArrays, LinearProgram, Objective, RowBlock, Term, VarBlock, highs_arrays, pass_to_highs
from ..parameters.derive import Parameters, derive_parameters
from ..parameters.installations import AbatementColumns
from ..results.tables import Results, build_results
from .highs import (new_highs, raise_unless_optimal, read_block_solution, run_highs, set_options, sized_options,
                    solve_market_passes, solver_options, undo_market_passes)


STARTS = ("previous", "reference", "cold")


class StructureChanged(EtscapError):
    """The scenario's LP has other rows or columns than the one kept in HiGHS: rebuild."""


class Resolver:
    """Stage 1 of one dataset kept in HiGHS, re-solved for scenarios of the same structure."""

    def __init__(self, source: Dataset | Parameters, highs_options: Mapping[str, Any] | None = None,
                 hash_inputs: bool = True, installations: bool = True):
        """``hash_inputs=False``: results carry no inputs_sha256 (hashing each scenario's
        dataset costs more than re-solving it; studies record the base's checksum);
        ``installations=False``: no sector-resolution table by installation either."""
        self.hash_inputs = hash_inputs
        self.installations = installations
        parameters = source if isinstance(source, Parameters) else derive_parameters(source)
        self.options = solver_options(parameters.dataset.settings, highs_options)
        lp = formulate(parameters)
        self.structure = lp.structure()
        self.arrays = highs_arrays(lp)
        self.options = sized_options(self.options, self.arrays.matrix.shape[1])
        self.highs = new_highs(verbose=False)
        set_options(self.highs, self.options)
        pass_to_highs(self.highs, self.arrays)
        self.solves = 0
        self.reference_basis: Any = None  # the basis of the first optimal solve
        self._holds_lp = True  # whether HiGHS holds self.arrays' LP as it is, to push a scenario's changes into

    def fits(self, parameters: Parameters) -> bool:
        """Whether ``parameters`` give an LP of the kept structure."""
        return formulate(parameters).structure() == self.structure

    def solve(self, source: Dataset | Parameters, *, start: str = "previous",
              lp: LinearProgram | None = None) -> Results:
        """Push the scenario's numbers into HiGHS, re-solve, and tabulate.

        ``start``: "previous" warm-starts from the last solve's basis, changing in HiGHS only
        the numbers that differ (fastest along a sequence; after a solve that failed, or a MIP's,
        the LP is passed afresh: HiGHS may hold another LP then); "reference" passes the scenario's
        LP afresh and starts from the basis of the first optimal solve, "cold" passes it afresh
        with no basis: with either, a result does not depend on the scenarios solved before
        (passing the LP measured 20.4 against 20.1 ms per default-dataset scenario). ``lp`` is the
        scenario's formulation, if the caller has it already.
        """
        if start not in STARTS:
            raise ValueError(f"start must be one of {STARTS}, not {start!r}")
        started = time.perf_counter()
        parameters = source if isinstance(source, Parameters) else derive_parameters(source)
        lp = lp or formulate(parameters)
        if lp.structure() != self.structure:
            raise StructureChanged(f"scenario {parameters.dataset.name!r} changes the LP's structure")
        arrays = highs_arrays(lp)
        if start == "previous" and arrays.integer_columns is None and self._holds_lp:
            self._push(arrays)
        else:
            # The scenario's whole LP, passed afresh: HiGHS keeps nothing of earlier scenarios
            # (no edited matrix, factorisation or scaling), so the numbers depend on this
            # scenario alone (and the reference basis), whichever worker solved what before.
            pass_to_highs(self.highs, arrays)  # the pointer API: a HighsLp's fields took 20 ms at 7,000 installations
            self.arrays = arrays
            if start == "reference" and self.reference_basis is not None:
                self.highs.setBasis(self.reference_basis)
        pushed = time.perf_counter()
        # until pass 1's LP is back in HiGHS: a failed solve or market pass leaves another LP there
        # (pass 2's held caps), and a MIP's regime columns stay fixed; the next scenario is then passed afresh
        self._holds_lp = False
        run_highs(self.highs, self.options, arrays.integer_columns)  # a MIP is passed afresh above
        raise_unless_optimal(self.highs, parameters.dataset.name)
        if self.reference_basis is None:
            self.reference_basis = self.highs.getBasis()
        device = solve_market_passes(self.highs, lp, self.options, parameters.dataset.name)  # a price floor's
        solved = time.perf_counter()
        solution = read_block_solution(self.highs, lp, arrays, self.options,
                                       {"push": pushed - started, "solve": solved - pushed})
        solution.objective -= device
        undo_market_passes(self.highs, lp, self.arrays)  # HiGHS holds pass 1's LP again, as self.arrays says
        self._holds_lp = arrays.integer_columns is None
        self.solves += 1
        return build_results(parameters, solution, None, seconds={"build": pushed - started},
                             hash_inputs=self.hash_inputs, installations=self.installations)

    def _push(self, new: HighsArrays) -> None:
        """Change in HiGHS only what differs from the LP it holds."""
        old, highs = self.arrays, self.highs
        if new.offset != old.offset:
            highs.changeObjectiveOffset(new.offset)
        changed = np.flatnonzero(new.col_cost != old.col_cost)
        if changed.size:
            highs.changeColsCost(changed.size, changed.astype(np.int32), new.col_cost[changed])
        changed = np.flatnonzero((new.col_lower != old.col_lower) | (new.col_upper != old.col_upper))
        if changed.size:
            highs.changeColsBounds(changed.size, changed.astype(np.int32), new.col_lower[changed],
                                   new.col_upper[changed])
        changed = np.flatnonzero((new.row_lower != old.row_lower) | (new.row_upper != old.row_upper))
        if changed.size:  # highspy 1.16's stubs omit changeRowsBounds, which it has (changeColsBounds' twin)
            highs.changeRowsBounds(changed.size, changed.astype(np.int32), new.row_lower[changed],  # type: ignore[attr-defined,unused-ignore]
                                   new.row_upper[changed])
        same_pattern = (np.array_equal(new.matrix.indptr, old.matrix.indptr)
                        and np.array_equal(new.matrix.indices, old.matrix.indices))
        if not same_pattern:
            pass_to_highs(highs, new)  # a coefficient appeared or vanished: start afresh
        else:
            columns = new.matrix.entry_columns()
            for entry in np.flatnonzero(new.matrix.data != old.matrix.data):
                highs.changeCoeff(int(new.matrix.indices[entry]), int(columns[entry]), float(new.matrix.data[entry]))
        self.arrays = new


# -- a base's formulation kept family by family --------------------------------------------


class KeptFormulation:
    """Stage 1 of a study's base, family by family, with the ``Parameters`` attributes (and the
    dataset's tables and settings) each family read to write its rows and variables. A scenario's
    LP re-uses a family's blocks when none of what it read differs from the base's (a sweep of
    one target changes the national target's bounds, not the deployment limits): the LP is the
    one ``formulate`` gives, without writing again the families the scenario leaves alone."""

    def __init__(self, base: Parameters):
        self.base = base
        self.families = list(FAMILIES)  # as recorded: a list changed since (a test's rule) formulates whole
        self.reads: list[frozenset[str]] = []
        self.rows: list[RowBlock | None] = []
        self.variables: list[list[VarBlock]] = []
        self.costs: list[list[Term]] = []
        # each family's terms of a shared sum, and what it read to write them
        self.parts: dict[tuple[str, str], tuple[frozenset[str], Contribution]] = {}
        # the grid's rows and indexes made on the fast path, before the recording switches it off:
        # the kept ones (fastpath.cached), which a scenario of the same phases finds again as the
        # same objects, so that its reads of them compare by identity, not by value (~1 ms a scenario)
        _ = base._grid
        with _recording(base) as noted:
            sums = _KeptSums(_noting_copy(base), self, None)
            for family in self.families:
                noted.append(set())
                p = _noting_copy(base)  # its own object: a rule's memo of the last Parameters misses, and it reads
                self.rows.append(family.rows(p, sums) if family.rows is not None else None)
                self.variables.append(family.variables(p) if family.variables is not None else [])
                self.costs.append(family.costs(p) if family.costs is not None else [])
                self.reads.append(frozenset(noted.pop()))
        self.lp = self._assemble(base, self.rows, self.variables, self.costs)
        self.reused = 0  # families' blocks and sums' parts re-used for scenarios (tests, benchmarks)
        self._base_values: dict[str, Any] = {}
        self._indexes: list[tuple[pd.DataFrame, pd.DataFrame, bool]] = []  # (scenario table, base table, same index)

    def formulate(self, p: Parameters) -> LinearProgram:
        """``formulate(p)``, re-using the blocks of the families whose reads ``p`` shares with
        the base (every family written afresh on the validated path)."""
        if p is self.base:
            return self.lp
        if not fastpath.enabled() or len(FAMILIES) != len(self.families) or any(
                a is not b for a, b in zip(FAMILIES, self.families)):
            return formulate(p)
        same: dict[str, bool] = {}

        def unchanged(reads: frozenset[str]) -> bool:
            for name in reads:
                if name not in same:
                    same[name] = self._unchanged(p, name)
                if not same[name]:
                    return False
            return True

        sums = _KeptSums(p, self, unchanged)
        rows, variables, costs = [], [], []
        for family, reads, kept_rows, kept_variables, kept_costs in zip(self.families, self.reads, self.rows,
                                                                         self.variables, self.costs):
            if unchanged(reads):
                rows.append(kept_rows)
                variables.append(kept_variables)
                costs.append(kept_costs)
                self.reused += 1
            else:
                rows.append(family.rows(p, sums) if family.rows is not None else None)
                variables.append(family.variables(p) if family.variables is not None else [])
                costs.append(family.costs(p) if family.costs is not None else [])
        return self._assemble(p, rows, variables, costs)

    def _unchanged(self, p: Parameters, name: str) -> bool:
        """Whether what ``name`` reads of ``p`` is the base's: the same table (a column or part
        of it), or equal values; the base's side is read once."""
        table = _table_of(name)
        if table is not None:
            base_frame, frame = _read(self.base, table), _read(p, table)
            if base_frame is frame:
                return True
            if name.endswith("]") and type(base_frame) is pd.DataFrame and type(frame) is pd.DataFrame:
                return self._same_column(name, base_frame, frame, name[len(table) + 1:-1])
        if name not in self._base_values:
            self._base_values[name] = _read(self.base, name)
        return _same(self._base_values[name], _read(p, name))

    def _same_column(self, name: str, base_frame: pd.DataFrame, frame: pd.DataFrame, column: str) -> bool:
        """Whether ``frame[column]`` is the base's: dtype, index and values (numpy columns read
        as the arrays the tables hold and compared in numpy, without making Series: a table of a
        scenario is a new object whose columns are mostly the base's)."""
        if (column in base_frame.columns) != (column in frame.columns):
            return False
        if column not in frame.columns:
            return True
        if name not in self._base_values:
            self._base_values[name] = column_array(base_frame, column)
        base, values = self._base_values[name], column_array(frame, column)
        if isinstance(base, np.ndarray) and isinstance(values, np.ndarray):
            return self._same_index(base_frame, frame) and fastpath.same_array(base, values)
        if isinstance(base, ExtensionArray) and type(base) is type(values):  # text, nullable numbers
            return base.dtype == values.dtype and self._same_index(base_frame, frame) and bool(base.equals(values))
        return _same(base_frame[column], frame[column])

    def _same_index(self, base_frame: pd.DataFrame, frame: pd.DataFrame) -> bool:
        """Whether ``frame``'s index is its base table's, compared once per frame (the last few kept)."""
        if base_frame.index is frame.index:
            return True
        for kept_frame, kept_base, same in self._indexes:
            if kept_frame is frame and kept_base is base_frame:
                return same
        same = _same(base_frame.index, frame.index)
        self._indexes = [*self._indexes[-7:], (frame, base_frame, same)]
        return same

    @staticmethod
    def _assemble(p: Parameters, rows: list[RowBlock | None], variables: list[list[VarBlock]],
                  costs: list[list[Term]]) -> LinearProgram:
        """The LinearProgram ``formulation.formulate`` builds, from the families' blocks; the
        objective as ``formulation.define_abatement_cost`` writes it, with the families' cost terms given."""
        from ..families import market_passes

        blocks = [*define_variables(p), *(block for family_blocks in variables for block in family_blocks)]
        discount = p.discount_factor.to_numpy()
        presolved_cost = float(np.sum(discount[p.year_of_row - p.first_year] * p.presolved_cost_by_row))
        objective = Objective("abatement_cost", [
            Term(columns.name, np.zeros(len(columns), dtype=int), np.arange(len(columns)),
                 discount[p.year_of_row[columns.rows] - p.first_year] * columns.cost_cny_per_t)
            for columns in p.abatement] + [term for family_costs in costs for term in family_costs],
            doc="present value of abatement cost, million CNY", constant=presolved_cost)
        return LinearProgram(variables={block.name: block for block in blocks},
                             rows=[block for block in rows if block is not None],
                             objective=objective, market_passes=market_passes(p))


class _KeptSums(Sums):
    """The shared sums of a scenario's LP, re-using a family's part of a sum where what it read
    is unchanged (``unchanged``); for the base (``unchanged`` None) each part is noted with its reads."""

    def __init__(self, p: Parameters, kept: KeptFormulation, unchanged: Callable[[frozenset[str]], bool] | None):
        super().__init__(p, kept.families)
        self.kept, self.unchanged = kept, unchanged

    def of(self, name: str) -> Contribution:
        terms: list[Term] = []
        constant = np.zeros(self.size(name))
        for family in self.families:
            if name in family.adds:
                part = self._part(family, name)
                terms += part.terms
                constant = constant + part.constant
        return Contribution(terms, constant)

    def _part(self, family: Family, name: str) -> Contribution:
        key = (family.name, name)
        if self.unchanged is None:  # the base, noted
            noted = _notes.stack
            noted.append(set())
            part = family.adds[name](_noting_copy(self.p))
            reads = noted.pop()
            noted[-1].update(reads)
            self.kept.parts.setdefault(key, (frozenset(reads), part))
            return part
        kept = self.kept.parts.get(key)
        if kept is not None and self.unchanged(kept[0]):
            self.kept.reused += 1
            return kept[1]
        return family.adds[name](self.p)


_notes = threading.local()
_record_lock = threading.Lock()  # one recording at a time: it changes the class of shared objects


def _noting() -> bool:
    return bool(getattr(_notes, "stack", None)) and not _notes.quiet


def _note(name: str) -> None:
    if _noting():
        _notes.stack[-1].add(name)


def _own_code(cls: type) -> frozenset[str]:
    """Methods and properties of ``cls``: what they read is noted as it is read."""
    return frozenset(name for klass in cls.__mro__ for name, value in vars(klass).items()
                     if isinstance(value, (FunctionType, property, staticmethod, classmethod)))


_PARAMETERS_CODE = _own_code(Parameters)
_DATASET_CODE = _own_code(Dataset)
COLUMNS = "abatement#"  # the abatement column families' names and sizes (p.abatement, p.installation_columns)
FRAME_PARTS = ("index", "columns")  # a table's parts noted apart from its values (NAME.index)


class _NotingParameters(Parameters):
    """Parameters noting each attribute read (the dataset's, the tables' columns and the
    abatement column families' fields are noted by those objects)."""

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name[0] != "_" and name != "dataset" and name not in _PARAMETERS_CODE and type(value) is not _NotingFrame:
            _note(COLUMNS if name in ("abatement", "installation_columns") else name)
        return value


class _NotingDataset(Dataset):
    """A dataset noting each table or setting read, as ``dataset.NAME``."""

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name[0] != "_" and name not in _DATASET_CODE and type(value) is not _NotingFrame:
            _note("dataset." + name)
        return value


class _NotingColumns(AbatementColumns):
    """An abatement column family noting the fields read, as ``abatement.FIELD`` (of every family)."""

    def __getattribute__(self, name: str) -> Any:
        if name[0] != "_":
            _note("abatement." + name)
        return object.__getattribute__(self, name)

    def __len__(self) -> int:
        _note(COLUMNS)
        with _quiet():
            return AbatementColumns.__len__(self)


class _NotingFrame(pd.DataFrame):
    """A table of the Parameters or the dataset noting a column read by name as ``NAME[column]``
    and any other use of it as ``NAME`` (the whole table)."""

    def __getitem__(self, key: Any) -> Any:
        name = _notes.frames.get(id(self)) if _noting() else None
        if name is None:
            return super().__getitem__(key)
        _note(f"{name}[{key}]" if isinstance(key, str) else name)
        with _quiet():
            return super().__getitem__(key)

    def __getattribute__(self, attr: str) -> Any:
        if attr[0] != "_" and _noting():
            name = _notes.frames.get(id(self))
            if name is not None:
                _note(f"{name}.{attr}" if attr in FRAME_PARTS else name)
                if attr in FRAME_PARTS:
                    return object.__getattribute__(self, attr)
        return object.__getattribute__(self, attr)

    def __len__(self) -> int:
        name = _notes.frames.get(id(self)) if _noting() else None
        if name is not None:
            _note(f"{name}.index")
        with _quiet():
            return super().__len__()


class _quiet:
    """Within the block nothing is noted (pandas' own reads inside a noted read)."""

    def __enter__(self) -> None:
        self.before, _notes.quiet = _notes.quiet, True

    def __exit__(self, *exc: object) -> None:
        _notes.quiet = self.before


class _recording:
    """Within the block, reads of copies of ``p`` (``_noting_copy``), of its dataset, their tables'
    columns and the abatement column families' fields are noted in the innermost set of the list
    it gives (the classes of those objects are switched for the block, then restored), and the
    fast path is off (nothing derived is found again without reading its inputs)."""

    def __init__(self, p: Parameters):
        self.p = p

    def __enter__(self) -> list[set[str]]:
        _record_lock.acquire()
        self.fastpath = fastpath.validated()  # nothing derived is kept or found: every read is made, and noted
        self.fastpath.__enter__()
        p, dataset = self.p, self.p.dataset
        _ = p.abatement  # made before noting, so that its families note their fields
        switched: list[tuple[Any, type, type]] = [(dataset, _NotingDataset, type(dataset))]
        frames: dict[int, str] = {}
        for owner, prefix in ((p, ""), (dataset, "dataset.")):
            for name, value in vars(owner).items():
                if name[0] != "_" and type(value) is pd.DataFrame and id(value) not in frames:
                    frames[id(value)] = prefix + name
                    switched.append((value, _NotingFrame, pd.DataFrame))
        switched += [(columns, _NotingColumns, AbatementColumns) for columns in p.abatement
                     if type(columns) is AbatementColumns]
        self.switched = switched
        for obj, noting, _ in switched:
            object.__setattr__(obj, "__class__", noting)
        _notes.stack, _notes.quiet, _notes.frames = [], False, frames
        return _notes.stack

    def __exit__(self, *exc: object) -> None:
        _notes.stack, _notes.frames = None, {}
        for obj, _, original in self.switched:
            object.__setattr__(obj, "__class__", original)
        self.fastpath.__exit__(None, None, None)
        _record_lock.release()


def _noting_copy(p: Parameters) -> Parameters:
    """A copy of ``p`` (its fields and what it has derived, shared) noting each read."""
    copy = object.__new__(_NotingParameters)
    copy.__dict__.update(object.__getattribute__(p, "__dict__"))
    return copy


_MISSING = object()



def _table_of(name: str) -> str | None:
    """The table a noted column or part is of (``sector_years[bau_mt]``: ``sector_years``), else None."""
    if name.endswith("]"):
        return name[:name.index("[")]
    for part in FRAME_PARTS:
        if name.endswith("." + part) and not name.startswith("abatement."):
            return name[:-len(part) - 1]
    return None


def _read(p: Parameters, name: str) -> Any:
    """What a noted name reads of ``p`` (see the noting classes)."""
    if name == COLUMNS:
        return tuple((columns.name, len(columns)) for columns in p.abatement)
    if name.startswith("abatement."):
        return tuple(getattr(columns, name[len("abatement."):]) for columns in p.abatement)
    for part in FRAME_PARTS:
        if name.endswith("." + part) and not name.startswith("abatement."):
            return getattr(_read(p, name[:-len(part) - 1]), part)
    if name.endswith("]"):
        table, column = name[:-1].split("[", 1)
        frame = _read(p, table)
        return frame[column] if column in frame.columns else _MISSING
    if name.startswith("dataset."):
        return getattr(p.dataset, name[len("dataset."):])
    return getattr(p, name)


def _same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` hold the same values (arrays, tables with their index and column
    names and dtypes, containers and dataclasses element by element); a type not known here is
    compared with ``==`` and counts as changed if that is not a plain truth."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, pd.DataFrame):
        return (a.shape == b.shape and list(a.columns) == list(b.columns) and list(a.dtypes) == list(b.dtypes)
                and _same(a.index, b.index) and a.equals(b))
    if isinstance(a, pd.Series):
        return a.dtype == b.dtype and a.name == b.name and _same(a.index, b.index) and a.equals(b)
    if isinstance(a, pd.Index):
        return list(a.names) == list(b.names) and a.dtype == b.dtype and len(a) == len(b) and a.equals(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    try:
        equal = a == b
    except Exception:  # noqa: BLE001 (a type whose == raises: treat as changed)
        return False
    return equal is True or (isinstance(equal, (bool, np.bool_)) and bool(equal))
