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

import time
from typing import Any, Mapping

import numpy as np

from ..errors import EtscapError
from ..lp.formulation import formulate
from ..data.inputs import Dataset
from ..lp.blocks import HighsArrays, LinearProgram, highs_arrays, pass_to_highs
from ..parameters.derive import Parameters, derive_parameters
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

    def fits(self, parameters: Parameters) -> bool:
        """Whether ``parameters`` give an LP of the kept structure."""
        return formulate(parameters).structure() == self.structure

    def solve(self, source: Dataset | Parameters, *, start: str = "previous",
              lp: LinearProgram | None = None) -> Results:
        """Push the scenario's numbers into HiGHS, re-solve, and tabulate.

        ``start``: "previous" warm-starts from the last solve's basis, changing in HiGHS only
        the numbers that differ (fastest along a sequence); "reference" passes the scenario's
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
        if start == "previous" and arrays.integer_columns is None:
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
            columns = np.repeat(np.arange(new.matrix.shape[1]), np.diff(new.matrix.indptr))
            for entry in np.flatnonzero(new.matrix.data != old.matrix.data):
                highs.changeCoeff(int(new.matrix.indices[entry]), int(columns[entry]), float(new.matrix.data[entry]))
        self.arrays = new
