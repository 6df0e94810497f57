"""etscap: set the cap of an emissions trading scheme by least-cost linear programming.

    from model import load_dataset, build_model, solve

    dataset = load_dataset("inputs/china")
    results = solve(dataset)                 # or solve(build_model(dataset)) after editing it
    results.years, results.sector_years      # tidy pandas tables
    results.write("results/china")
"""

from .compare import Comparison, compare
from .errors import EtscapError, InfeasibleError, InputError, SolverError
from .formulation import build_model
from .inputs import Dataset, load_dataset
from .overrides import apply_overrides
from .parameters import Parameters, derive_parameters
from .pipeline import solve
from .results import Results

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
