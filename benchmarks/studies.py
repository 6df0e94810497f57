"""Time studies: re-solving one kept LP against rebuilding every scenario, and Monte Carlo on Dask.

    python benchmarks/studies.py [--scenarios 200] [--draws 1000] [--workers 2] [--no-serial-montecarlo]

1. A sweep of the 2035 national cap (``targets.2035.national_cap_mt``) over ``--scenarios``
   values on the default dataset, run in this process twice on the same scenarios: with
   every scenario rebuilt through Pyomo (``reuse_model=False``) and with one HiGHS LP kept
   and re-solved (the default), in alternating blocks of a quarter of the scenarios so
   that both ways meet the same machine load. Prints ms per scenario both ways, the ratio (goal: at
   least 3) and scenarios per second, and checks that both ways give the same numbers.
2. A Monte Carlo of ``--draws`` draws (baseline emissions of the newly covered sectors
   x uniform[0.95, 1.05], as examples/measurement_uncertainty.py) on a LocalCluster of
   ``--workers`` single-threaded workers, and in this process for comparison: scenarios per
   second, with the cluster's start-up time given separately.

3. The same sweep on the default dataset with a synthetic registry of 1,000 installations
   at facility resolution (``--installations``; goal: ratio at least 5).

The machine's other load moves the seconds; compare the ratio, measured in one process.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import apply_overrides, load_dataset  # noqa: E402
from model.registry import make_registry  # noqa: E402
from model.studies import monte_carlo, sweep  # noqa: E402

NEWLY_COVERED = ("steel", "cement", "aluminium", "chemicals", "petrochemicals", "paper", "aviation")


def timed_sweep(dataset, caps, reuse_model: bool):
    started = time.perf_counter()
    study = sweep(dataset, {"targets.2035.national_cap_mt": caps}, reuse_model=reuse_model)
    return study, time.perf_counter() - started


def compare_ways(dataset, caps, label: str, goal: float) -> None:
    """The sweep over ``caps`` rebuilt and re-solved, in alternating blocks of one process."""
    timed_sweep(dataset, caps[:3], reuse_model=False)  # warm up both paths (imports, first LP)
    timed_sweep(dataset, caps[:3], reuse_model=True)
    rebuild_s = reuse_s = 0.0
    difference, optimal = 0.0, 0
    for block in np.array_split(np.array(caps), 4):  # alternate, so that both ways see the same load
        rebuilt, seconds = timed_sweep(dataset, block.tolist(), reuse_model=False)
        rebuild_s += seconds
        reused, seconds = timed_sweep(dataset, block.tolist(), reuse_model=True)
        reuse_s += seconds
        optimal += int((reused.scenarios["status"] == "optimal").sum())
        difference = max(difference, np.nanmax(np.abs(rebuilt.years["allowance_price_cny_per_t"].to_numpy()
                                                       - reused.years["allowance_price_cny_per_t"].to_numpy())))
    n = len(caps)
    print(f"{label}, sweep of targets.2035.national_cap_mt over {n} values "
          f"({caps[0]:,.0f}-{caps[-1]:,.0f} Mt), one process:")
    print(f"  rebuild every scenario (Pyomo):  {rebuild_s / n * 1e3:6.1f} ms per scenario, "
          f"{n / rebuild_s:5.1f} scenarios/s")
    print(f"  re-solve one kept HiGHS LP:      {reuse_s / n * 1e3:6.1f} ms per scenario, "
          f"{n / reuse_s:5.1f} scenarios/s")
    print(f"  ratio {rebuild_s / reuse_s:.2f} (goal: at least {goal}); largest price difference between the two "
          f"ways {difference:.2g} CNY/t; {optimal} of {n} optimal", flush=True)


def with_registry(dataset, folder: Path, installations: int):
    """``dataset`` at facility resolution with a synthetic registry of ``installations``."""
    shutil.copytree(dataset.path, folder)
    scale = installations / float(dataset.sectors["entities"].sum())
    make_registry(dataset, seed=2025, scale=scale).to_csv(folder / "facilities.csv", index=False)
    return apply_overrides(load_dataset(folder), {"model.resolution": "facility"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=200)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--installations", type=int, default=1000)
    parser.add_argument("--no-serial-montecarlo", action="store_true",
                        help="Skip the in-process Monte Carlo (the comparison for the cluster's speed-up).")
    args = parser.parse_args()

    china = load_dataset(ROOT / "inputs" / "china")
    caps = np.linspace(9_800.0, 11_000.0, args.scenarios).round(3).tolist()
    compare_ways(china, caps, "default dataset", goal=3)
    with tempfile.TemporaryDirectory() as folder:
        registry = with_registry(china, Path(folder) / "china", args.installations)
        compare_ways(registry, caps, f"{args.installations:,}-installation registry at facility resolution", goal=5)

    distributions = {f"sectors.{sector}.base_emissions_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}
                     for sector in NEWLY_COVERED}
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        up = time.perf_counter()
        study = monte_carlo(china, args.draws, distributions, seed=42, client=client)
        done = time.perf_counter()
    print(f"Monte Carlo, {args.draws} draws, {args.workers}-worker LocalCluster: "
          f"{args.draws / (done - up):.1f} scenarios/s ({done - up:.1f} s, plus {up - started:.1f} s "
          f"to start the cluster: {args.draws / (done - started):.1f} scenarios/s overall); "
          f"{int((study.scenarios['status'] == 'optimal').sum())} optimal")
    if not args.no_serial_montecarlo:
        started = time.perf_counter()
        serial = monte_carlo(china, args.draws, distributions, seed=42)
        serial_s = time.perf_counter() - started
        same = serial.years.equals(study.years)
        print(f"Monte Carlo, {args.draws} draws, this process: {args.draws / serial_s:.1f} scenarios/s "
              f"({serial_s:.1f} s); tables identical to the cluster's: {same}")


if __name__ == "__main__":
    main()
