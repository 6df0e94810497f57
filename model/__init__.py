"""etscap: set the cap of an emissions trading scheme by least-cost linear programming.

    from model import load_dataset, build_model, solve

    dataset = load_dataset("inputs/china")
    results = solve(dataset)                 # or solve(build_model(dataset)) after editing it
    results.years, results.sector_years      # tidy pandas tables
    results.write("results/china")
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from .errors import EtscapError, InfeasibleError, InputError, SolverError

# The rest is imported on first use: `python run.py --help` and `from model import Results`
# then load neither Pyomo nor HiGHS nor pandas until they are needed.
_LAZY = {
    "Comparison": "compare", "compare": "compare",
    "Dataset": "inputs", "load_dataset": "inputs",
    "build_model": "formulation",
    "apply_overrides": "overrides",
    "Parameters": "parameters", "derive_parameters": "parameters",
    "solve": "pipeline",
    "Results": "results",
}

if TYPE_CHECKING:
    from .compare import Comparison, compare
    from .formulation import build_model
    from .inputs import Dataset, load_dataset
    from .overrides import apply_overrides
    from .parameters import Parameters, derive_parameters
    from .pipeline import solve
    from .results import Results


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


_FUNCTIONS_NAMED_AS_MODULES = ("solve", "compare")


class _Package(types.ModuleType):
    """Keeps ``model.solve`` and ``model.compare`` the functions: importing the submodule of the
    same name later (they are imported on demand now) would otherwise rebind the name to it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FUNCTIONS_NAMED_AS_MODULES and isinstance(value, types.ModuleType):
            return  # the module stays reachable as sys.modules["model.<name>"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
