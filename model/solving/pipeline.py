"""The one way through: inputs -> formulation -> solve -> results."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .allocation import allocate, allocate_lp
from ..results.checks import failed
from ..errors import EtscapError, InfeasibleError
from ..families import market_passes, with_rows
from ..lp.formulation import build_model, formulate
from ..data.inputs import Dataset, load_dataset
from ..lazy import is_pyomo_model, lazy_module
from ..parameters.derive import derive_parameters
from ..results.tables import Results, allowance_prices, build_results
from .highs import solve_lp, solve_model, solver_options

if TYPE_CHECKING:
    import pyomo.environ as pyo
else:
    pyo = lazy_module("pyomo.environ")

log = logging.getLogger(__name__)


def prepare(source: Dataset | str | Path,
            overrides: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
            scenarios: Sequence[str] = ()) -> Dataset:
    """A validated dataset from a folder or a Dataset, with its named scenarios applied in
    order (``scenarios/NAME.toml``), then the overrides on top."""
    dataset = source if isinstance(source, Dataset) else load_dataset(source)
    if scenarios:
        from ..data.scenarios import apply_scenarios

        dataset = apply_scenarios(dataset, scenarios)
    if not overrides:
        return dataset
    from ..data.overrides import apply_overrides  # here: a plain solve of a folder sets nothing

    return apply_overrides(dataset, overrides)


def solve(
    source: Dataset | pyo.ConcreteModel | str | Path,
    *,
    overrides: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    highs_options: Mapping[str, Any] | None = None,
    allocation: bool = True,
    installations: bool = True,
    verbose: bool = False,
) -> Results:
    """Solve a dataset (folder or Dataset) or a model made by ``build_model``.

    Stage 1 finds the least-cost abatement, ETS cap and prices; stage 2 (unless
    ``allocation=False``) chooses sector caps and free allocation on the same model.
    ``overrides`` change inputs before building (see ``model.data.overrides``);
    ``highs_options`` are passed to HiGHS after the scenario's [solver] table;
    ``installations=False`` skips the sector-resolution table by installation.

    A dataset goes from the formulation's numpy blocks straight to HiGHS; a model from
    ``build_model`` (which a script may have changed) through Pyomo's standard-form
    compiler, so the script's own components count. Both routes solve the same LPs.
    """
    started = time.perf_counter()
    user_model = is_pyomo_model(source)
    if not user_model and not isinstance(source, (Dataset, str, os.PathLike)):  # a script's slip, not a path
        raise EtscapError("solve() needs a dataset folder or workbook (a path), a Dataset or a model made by "
                          f"model.build_model(), not {type(source).__name__}")
    if not user_model:  # no script has changed the model: hand the numpy blocks to HiGHS
        dataset = prepare(source, overrides)
        try:
            return verified(_solve_blocks(dataset, highs_options, allocation, installations, verbose, started))
        except InfeasibleError:  # the Pyomo route explains it (an elastic copy of the model)
            source, overrides = dataset, None
    if user_model:
        if overrides:
            raise EtscapError("overrides apply to a dataset: pass them to build_model's dataset instead")
        model = source
        if not hasattr(model, "parameters"):
            raise EtscapError("solve() needs a model made by model.build_model()")
        if hasattr(model, "free_allocation_mt"):
            raise EtscapError("this model has been solved with its allocation stage already: "
                              "build a new one with model.build_model()")
        _check_families_active(model)
        options = solver_options(model.parameters.dataset.settings, highs_options)
    else:
        dataset = prepare(source, overrides)
        options = solver_options(dataset.settings, highs_options)  # a refused option stops before the build
        model = build_model(dataset)
    built = time.perf_counter()
    log.info("built the model in %.2f s: %s abatement columns", built - started,
             f"{sum(len(columns) for columns in model.parameters.abatement):,}")
    try:
        least_cost = solve_model(model, options, verbose=verbose, market_passes=market_passes(model.parameters))
    except InfeasibleError:
        log.info("infeasible: finding the smallest relaxation of the targets")
        from .diagnose import explain_infeasibility  # here: only an infeasible model is diagnosed

        raise explain_infeasibility(model, options) from None
    log.info("least cost found in %.2f s (HiGHS %s, %s)", sum(least_cost.seconds.values()),
             least_cost.solver_version, iteration_counts(least_cost.iterations))
    allocated = None
    if allocation:
        allocated = allocate(model, least_cost, allowance_prices(model.parameters, least_cost), options, verbose)
        log.info("allocation (%s) in %.2f s", model.parameters.dataset.settings["allocation.objective"],
                 sum(allocated.seconds.values()))
    results = build_results(model.parameters, least_cost, allocated, seconds={"build": built - started},
                            installations=installations)
    if not user_model:
        return verified(results)
    for problem in failed(results.summary["checks"]):  # a script's own constraints may break a check
        log.warning("check failed on a model changed by a script: %s", problem)
    return results


def _solve_blocks(dataset: Dataset, highs_options: Mapping[str, Any] | None, allocation: bool,
                  installations: bool, verbose: bool, started: float) -> Results:
    """Stages 1 and 2 from the formulation's blocks straight to HiGHS: the same LPs as the
    Pyomo model's, without building it (nor importing Pyomo)."""
    parameters = derive_parameters(dataset)
    lp = formulate(parameters)
    built = time.perf_counter()
    log.info("built the LP in %.2f s: %s abatement columns", built - started,
             f"{sum(len(columns) for columns in parameters.abatement):,}")
    options = solver_options(dataset.settings, highs_options)
    least_cost = solve_lp(lp, dataset.name, options, verbose)
    log.info("least cost found in %.2f s (HiGHS %s, %s)", sum(least_cost.seconds.values()),
             least_cost.solver_version, iteration_counts(least_cost.iterations))
    allocated = None
    if allocation:
        allocated = allocate_lp(parameters, lp, least_cost, allowance_prices(parameters, least_cost), options, verbose)
        log.info("allocation (%s) in %.2f s", dataset.settings["allocation.objective"],
                 sum(allocated.seconds.values()))
    return build_results(parameters, least_cost, allocated, seconds={"build": built - started},
                         installations=installations)


# The model's own constraint families: prices, allocation and checks are read from their rows
OWN_FAMILIES = tuple(family.name for family in with_rows())


def _check_families_active(model: pyo.ConcreteModel) -> None:
    """An EtscapError naming a family of the model's own rows that a script deactivated whole."""
    for name in OWN_FAMILIES:
        family = getattr(model, name, None)
        if isinstance(family, pyo.Constraint) and len(family) and (
                not family.active or not any(row.active for row in family.values())):
            raise EtscapError(
                f"the model's constraint family {name} is deactivated (all {len(family)} rows): the results "
                f"are read from its rows, so keep it active (deactivate single rows such as "
                f"m.{name}[{next(iter(family.keys()))!r}], or add a constraint of your own)")


def iteration_counts(iterations: Mapping[str, int]) -> str:
    """'12 interior-point iterations, 3 simplex iterations': the count of each method that ran
    (interior point's crossover runs simplex iterations too); '0 iterations' if none did."""
    labels = {"ipm": "interior-point", "simplex": "simplex", "pdlp": "PDLP"}
    counts = [f"{count:,} {labels.get(method, method)} iterations"
              for method, count in sorted(iterations.items(), key=lambda item: list(labels).index(item[0])
                                          if item[0] in labels else len(labels)) if count]
    return ", ".join(counts) or "0 iterations"


def verified(results: Results) -> Results:
    """``results``, if they pass every check of ``checks.py``; else an EtscapError naming the failures."""
    problems = failed(results.summary["checks"])
    if problems:
        raise EtscapError("the solution failed verification: " + "; ".join(problems)
                          + " (please report this with the dataset)")
    return results
