"""The synthetic registry's spread of intensities, and the run summary's timings (each test
here caught a mutant that the rest of the suite let survive: see benchmarks/mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model import load_dataset, solve
from model.data.registry import INTENSITY_SIGMA, make_registry
from tests.conftest import CHINA, TOY


def test_installations_of_one_unit_type_differ_in_intensity():
    """Emissions per unit of output scatter around the unit type's benchmark, lognormal with
    sigma INTENSITY_SIGMA = 0.08: in every unit type of at least 80 installations the
    standard deviation of log intensity is 0.08 +- 0.015 (about 2.5 standard errors at 80)."""
    registry = make_registry(load_dataset(CHINA), seed=7).dropna(subset=["output"])
    log_intensity = np.log(registry["emissions_mt"] / registry["output"])
    spread = log_intensity.groupby([registry["sector"], registry["unit_type"]]).agg(["std", "count"])
    spread = spread[spread["count"] >= 80]
    assert len(spread) == 7 and INTENSITY_SIGMA == 0.08
    assert spread["std"].to_numpy() == pytest.approx(np.full(7, 0.08), abs=0.015)


def test_solve_seconds_add_up_the_solver_stages():
    summary = solve(TOY).summary
    stages = {k: v for k, v in summary["seconds"].items() if k != "build"}
    assert summary["solve_seconds"] == pytest.approx(sum(stages.values()), abs=5e-4)
    assert summary["build_seconds"] == summary["seconds"]["build"]
