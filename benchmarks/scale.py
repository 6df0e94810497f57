"""Facility-level abatement at scale: this project's model against a hand-built HiGHS LP.

    python benchmarks/scale.py [--sizes 100 1000 7000] [--keep]

For each size, a dataset is made from inputs/china with a synthetic registry of that many
installations (model/registry.py, seed 2025) and 8 cost steps in every ETS sector over
2025-2060. Each approach runs in a fresh child process that starts from the loaded dataset
and ends with the allowance prices (stage 1, the least-cost LP):

- ``ours``: model.solve at facility resolution, through Pyomo (formulation blocks ->
  Pyomo model -> Pyomo's standard-form compiler -> highspy), with pooling of the
  installations that face no constraint of their own, and the result tables;
- ``reference``: the full, unpooled facility-level LP (one column per installation, step
  and year) passed as sparse arrays straight to highspy with HiGHS defaults: the floor of
  modelling overhead;
- ``linopy``: only if linopy is installed (it is not a dependency): not implemented here.

Printed per size and approach: LP columns and rows, wall seconds, peak memory (the child's
maximum resident set), the objective and the largest price difference to the reference;
and the ratios of time and memory to the reference (ratios, not seconds, are what to
compare: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STEPS = 8


def make_dataset(folder: Path, installations: int) -> Path:
    """inputs/china with ``installations`` synthetic installations and 8 steps per ETS sector."""
    import pandas as pd

    from model import load_dataset
    from model.registry import make_registry

    shutil.copytree(ROOT / "inputs" / "china", folder)
    mac = pd.read_csv(folder / "mac.csv")
    covered = pd.read_csv(folder / "sectors.csv").dropna(subset=["covered_from"])["sector"]
    mac = pd.concat([_with_steps(group, STEPS) if sector in set(covered) else group
                     for sector, group in mac.groupby("sector", sort=False)], ignore_index=True)
    mac.to_csv(folder / "mac.csv", index=False)
    china = load_dataset(folder)
    total = int(china.sectors["entities"].sum())
    make_registry(china, seed=2025, scale=installations / total).to_csv(folder / "facilities.csv", index=False)
    return folder


def _with_steps(steps, wanted: int):
    """Split the largest steps in two (the second half 2% dearer) until there are ``wanted``."""
    import pandas as pd

    steps = steps.copy()
    while len(steps) < wanted:
        largest = steps["potential_share"].idxmax()
        half = steps.loc[largest].copy()
        steps.loc[largest, "potential_share"] /= 2
        half["potential_share"] = steps.loc[largest, "potential_share"]
        half["step"] = f"{half['step']}_part{len(steps)}"
        half["cost_cny_per_t"] *= 1.02
        steps = pd.concat([steps, half.to_frame().T], ignore_index=True)
    return steps


def run_ours(dataset_path: Path) -> dict:
    from model import load_dataset, solve

    dataset = load_dataset(dataset_path)
    started = time.perf_counter()
    results = solve(dataset, overrides={"model.resolution": "facility"}, allocation=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "objective_bn_cny": results.summary["objective_bn_cny"],
            "prices": results.years["allowance_price_cny_per_t"].fillna(-1).tolist(),
            "columns": results.summary["model"]["variables"], "rows": results.summary["model"]["constraints"],
            "phases": results.summary["seconds"]}


def run_reference(dataset_path: Path) -> dict:
    import numpy as np

    from model import apply_overrides, derive_parameters, load_dataset
    from model.formulation import formulate
    from model.lp import highs_arrays, to_highs
    from model.solve import new_highs

    dataset = apply_overrides(load_dataset(dataset_path),
                              {"model.resolution": "facility", "model.pool_installations": False})
    started = time.perf_counter()
    parameters = derive_parameters(dataset)
    lp = formulate(parameters)
    arrays = highs_arrays(lp)
    built = time.perf_counter()
    highs = new_highs(verbose=False)  # HiGHS defaults
    highs.passModel(to_highs(arrays))
    highs.run()
    solved = time.perf_counter()
    row_dual = np.asarray(highs.getSolution().row_dual)
    start = arrays.row_offsets["market_balance"]
    market_years = parameters.market_years
    price = -row_dual[start: start + market_years.size] / parameters.discount_factor.to_numpy()[
        market_years - parameters.first_year]
    prices = np.full(parameters.years.size, -1.0)
    prices[market_years - parameters.first_year] = np.where(np.abs(price) < 1e-9, 0.0, price)
    return {"seconds": solved - started, "objective_bn_cny": highs.getInfo().objective_function_value / 1e3,
            "prices": prices.tolist(), "columns": arrays.matrix.shape[1], "rows": arrays.matrix.shape[0],
            "phases": {"build": built - started, "solve": solved - built},
            "status": highs.modelStatusToString(highs.getModelStatus())}


def measure(approach: str, dataset: Path) -> dict:
    """Run ``approach`` in a child process; add its peak resident memory (MiB)."""
    child = subprocess.Popen([sys.executable, __file__, "--run", approach, "--dataset", str(dataset)],
                             stdout=subprocess.PIPE, cwd=ROOT)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{approach} failed on {dataset}")
    result = json.loads(output)
    result["peak_mib"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="facility-level LP: ours against a hand-built HiGHS LP")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 7000])
    parser.add_argument("--keep", action="store_true", help="keep the generated datasets")
    parser.add_argument("--run", choices=["ours", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps({"ours": run_ours, "reference": run_reference}[args.run](args.dataset)))
        return
    try:
        import linopy  # noqa: F401
        print("linopy is installed, but no linopy build of this LP exists here yet")
    except ImportError:
        print("linopy: not installed (not a dependency of etscap): skipped")
    workspace = Path(tempfile.mkdtemp(prefix="etscap-scale-"))
    header = (f"{'installations':>13} {'approach':>9} {'columns':>9} {'rows':>7} {'seconds':>8} "
              f"{'peak MiB':>8} {'objective bn CNY':>17} {'max price diff':>14} {'time ratio':>10} {'memory ratio':>12}")
    print(header)
    try:
        for size in args.sizes:
            dataset = make_dataset(workspace / f"n{size}", size)
            reference = measure("reference", dataset)
            ours = measure("ours", dataset)
            for name, result in (("reference", reference), ("ours", ours)):
                price_gap = max(abs(a - b) for a, b in zip(result["prices"], reference["prices"]))
                print(f"{size:>13} {name:>9} {result['columns']:>9} {result['rows']:>7} {result['seconds']:>8.2f} "
                      f"{result['peak_mib']:>8.0f} {result['objective_bn_cny']:>17.6f} {price_gap:>14.2e} "
                      f"{result['seconds'] / reference['seconds']:>10.3f} {result['peak_mib'] / reference['peak_mib']:>12.2f}")
            gap = abs(ours["objective_bn_cny"] - reference["objective_bn_cny"]) / abs(reference["objective_bn_cny"])
            print(f"{'':>13} objective relative difference {gap:.2e}; ours phases "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in ours["phases"].items())
                  + "; reference " + ", ".join(f"{k} {v:.2f} s" for k, v in reference["phases"].items()),
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workspace, ignore_errors=True)
        else:
            print(f"datasets kept in {workspace}")


if __name__ == "__main__":
    main()
