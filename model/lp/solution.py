"""An LP's solution as arrays per component, the form the results tables read: what HiGHS
returned (``solving.highs`` fills it), so results need nothing of the solving code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Solution:
    """What HiGHS returned, mapped back to the model's components."""

    status: str
    objective: float  # in the objective's own units and sense
    values: dict[str, np.ndarray]  # Var name -> values in index order
    duals: dict[str, np.ndarray]  # Constraint name -> duals in index order (raw HiGHS sign)
    solver_version: str
    options: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    iterations: dict[str, int] = field(default_factory=dict)
