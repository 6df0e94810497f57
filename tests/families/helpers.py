"""The toy's stage-1 LP by family, as plain tables a test can compare with numbers by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from model import solve
from model.lp.formulation import formulate
from model.data.inputs import load_dataset
from model.data.overrides import apply_overrides
from model.parameters.derive import Parameters, derive_parameters
from model.solving.highs import solve_lp
from tests.conftest import TOY


def toy_parameters(overrides: dict[str, Any] | None = None, folder=TOY) -> Parameters:
    dataset = load_dataset(folder)
    return derive_parameters(apply_overrides(dataset, overrides) if overrides else dataset)


def rows_of(p: Parameters, family: str) -> dict[Any, dict[str, Any]]:
    """Family ``family``'s rows of the toy's LP: by row key, its coefficients by
    ``variable[key]`` (zeros dropped), its constant and bounds."""
    lp = formulate(p)
    block = next(b for b in lp.rows if b.name == family)
    table: dict[Any, dict[str, Any]] = {}
    for i, key in enumerate(block.keys):
        table[key] = {"constant": float(block.constant[i]),
                      "lower": None if block.lower is None else float(block.lower[i]),
                      "upper": None if block.upper is None else float(block.upper[i]), "coefs": {}}
    keys = list(block.keys)
    for term in block.terms:
        names = list(lp.variables[term.var].keys)
        for row, position, coef in zip(term.rows, term.positions, term.coefs):
            coefs = table[keys[row]]["coefs"]
            name = f"{term.var}[{names[position]}]"
            coefs[name] = round(coefs.get(name, 0.0) + float(coef), 12)
    return table


def objective_bn(p: Parameters) -> float:
    """Stage 1's least cost, billion CNY present value."""
    return solve_lp(formulate(p), "toy").objective / 1e3


def toy_results(**overrides):
    return solve(TOY, overrides=overrides or None)


def discount(year: int) -> float:
    return 1.1 ** -(year - 2025)


__all__ = ["toy_parameters", "rows_of", "objective_bn", "toy_results", "discount", "np"]


def price_by_perturbing(p: Parameters, family: str, key: Any, delta_mt: float = 0.01) -> float:
    """What a dual means, measured: raise the upper bound of ``family``'s row ``key`` by
    ``delta_mt`` and re-solve; the least cost falls by the price (CNY/t, year-t money) x
    the discount factor x delta. Returns that price."""
    lp = formulate(p)
    base = solve_lp(lp, "toy").objective
    block = next(b for b in lp.rows if b.name == family)
    row = list(block.keys).index(key)
    equality = block.lower is not None and block.lower[row] == block.upper[row]
    block.upper = block.upper.copy()  # the bounds may be views of the parameters' arrays
    block.upper[row] += delta_mt
    if equality:  # an equality row moves as a whole
        block.lower = block.lower.copy()
        block.lower[row] += delta_mt
    relaxed = solve_lp(lp, "toy").objective
    year = key[-1] if isinstance(key, tuple) else key
    return (base - relaxed) / delta_mt / discount(int(year))


__all__ += ["price_by_perturbing"]
