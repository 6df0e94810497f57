"""etscap: set the cap of an emissions trading scheme by least-cost linear programming.

    from model import load_dataset, build_model, solve

    dataset = load_dataset("inputs/china")
    results = solve(dataset)                 # or solve(build_model(dataset)) after editing it
    results.years, results.sector_years      # tidy pandas tables
    results.write("results/china")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import EtscapError, InfeasibleError, InputError, SolverError

# The rest is imported on first use: `python run.py --help` and `from model import Results`
# then load neither Pyomo nor HiGHS nor pandas until they are needed.
_LAZY = {
    "Comparison": "studies.compare", "compare": "studies.compare",
    "Dataset": "data.inputs", "load_dataset": "data.inputs",
    "build_model": "lp.formulation",
    "apply_overrides": "data.overrides",
    "Parameters": "parameters.derive", "derive_parameters": "parameters.derive",
    "solve": "solving.pipeline",
    "Results": "results.tables",
}

if TYPE_CHECKING:
    from .studies.compare import Comparison, compare
    from .lp.formulation import build_model
    from .data.inputs import Dataset, load_dataset
    from .data.overrides import apply_overrides
    from .parameters.derive import Parameters, derive_parameters
    from .solving.pipeline import solve
    from .results.tables import Results


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Comparison",
    "Dataset",
    "EtscapError",
    "InfeasibleError",
    "InputError",
    "Parameters",
    "Results",
    "SolverError",
    "apply_overrides",
    "build_model",
    "compare",
    "derive_parameters",
    "load_dataset",
    "solve",
]
