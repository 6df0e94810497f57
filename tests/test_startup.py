"""What each entry point imports, and the default solve route (numpy blocks -> HiGHS) against
the Pyomo route. Timings are measured by benchmarks/startup.py, not asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from model import apply_overrides, build_model, load_dataset, solve
from tests.conftest import CHINA, ROOT, TOY

HEAVY = ("pyomo", "highspy", "pandas", "numpy", "scipy", "dask", "distributed", "matplotlib")


def _imported_after(code: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """The heavy top-level modules imported by ``code`` in a fresh interpreter, and its stdout."""
    probe = (code + "\nimport sys, json\n"
             f"print('\\n' + json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    output, _, modules = done.stdout.rstrip("\n").rpartition("\n")
    return json.loads(modules), output.rstrip("\n")


CLI = "from model.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass"


def test_help_imports_only_click():
    imported, output = _imported_after(CLI.format(args=["--help"]))
    assert "Commands:" in output and "solve" in output
    assert imported == []
    imported, output = _imported_after(CLI.format(args=["solve", "--help"]))
    assert "--installations" in output
    assert imported == []


def test_shell_completion_imports_only_click():
    imported, output = _imported_after(CLI.format(args=None), env={
        "_ETSCAP_COMPLETE": "bash_complete", "COMP_WORDS": "etscap mont", "COMP_CWORD": "1"})
    assert output.splitlines() == ["plain,montecarlo"]
    assert imported == []


def test_results_and_report_import_neither_pyomo_nor_highs_nor_dask(tmp_path):
    solve(TOY, allocation=False).write(tmp_path / "toy")
    imported, output = _imported_after(
        f"from model import Results\nimport model.report.plots\nprint(len(Results.read({str(tmp_path / 'toy')!r}).years))")
    assert output == "3"
    assert not {"pyomo", "highspy", "dask", "distributed"} & set(imported)
    assert {"pandas", "numpy"} <= set(imported)


def test_default_solve_imports_neither_pyomo_nor_scipy(tmp_path):
    """A dataset goes straight from the numpy blocks to HiGHS: Pyomo (and the scipy.stats
    its import hook loads) is not imported at all."""
    imported, _ = _imported_after(CLI.format(args=["-q", "solve", str(TOY), "--out", str(tmp_path / "t")]))
    assert (tmp_path / "t" / "years.csv").exists()
    assert "highspy" in imported
    assert not {"pyomo", "scipy", "dask", "distributed", "matplotlib"} & set(imported)


def _prices(results) -> dict[str, np.ndarray]:
    years, sectors = results.years, results.sector_years
    return {"allowance": years["allowance_price_cny_per_t"].to_numpy(),
            "national": years["national_carbon_value_cny_per_t"].to_numpy(),
            "own": sectors["own_price_cny_per_t"].to_numpy()}


@pytest.mark.parametrize("overrides", [
    {},
    {"allocation.objective": "max_auction_revenue"},
    {"market.banking": "true", "allocation.cost_tolerance": "0.01"},
    {"model.resolution": "facility"},
], ids=["default", "max_auction_revenue", "banking_tolerance", "facility"])
def test_blocks_route_equals_pyomo_route(overrides):
    """The default route (blocks -> HiGHS) and the Pyomo model give the same objective and
    prices to 1e-9 (relative), and the same allocation."""
    dataset = apply_overrides(load_dataset(CHINA), overrides) if overrides else load_dataset(CHINA)
    direct, through_pyomo = solve(dataset, installations=False), solve(build_model(dataset), installations=False)
    assert direct.summary["objective_bn_cny"] == pytest.approx(through_pyomo.summary["objective_bn_cny"], rel=1e-9)
    for name, price in _prices(direct).items():
        np.testing.assert_allclose(price, _prices(through_pyomo)[name], rtol=1e-9, atol=1e-9, err_msg=name)
    for column in ("cap_mt", "emissions_mt", "free_mt"):
        np.testing.assert_allclose(direct.sector_years[column], through_pyomo.sector_years[column],
                                   rtol=1e-9, atol=1e-6, err_msg=column)
    assert direct.summary["model"] == through_pyomo.summary["model"]
