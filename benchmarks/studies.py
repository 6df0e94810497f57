"""Time studies: the fast path against the validated path and against rebuilding, and Monte Carlo on Dask.

    python benchmarks/studies.py [--scenarios 200] [--draws 1000] [--workers 2] [--facility-draws 200]
                                 [--no-serial-montecarlo] [--only-before]

1. A sweep of the 2035 national cap (``targets.2035.national_cap_mt``) over ``--scenarios``
   values on the default dataset, run in this process three ways on the same scenarios, in
   alternating blocks of a quarter of the scenarios so that every way meets the same machine
   load: every scenario rebuilt through Pyomo (``reuse_model=False``); one HiGHS LP kept and
   re-solved on the validated path (``model.data.fastpath.validated()``: every check of a changed
   table again, nothing derived kept: the path studies took before the fast path); and the
   same on the fast path (the default). Prints ms per scenario and scenarios per second each
   way, the ratio fast / validated (goal: at least 3), and checks all three give the same numbers.
2. The same three ways for a Monte Carlo of the sectors' BAU paths (the draws of 3.).
3. A Monte Carlo of ``--draws`` draws (the bau.csv BAU path of each newly covered sector
   x uniform[0.95, 1.05], as examples/measurement_uncertainty.py) on a LocalCluster of one
   and of ``--workers`` single-threaded workers (ratio: goal at least 1.7 for 2), and in this
   process: scenarios per second, with each cluster's start-up time given separately.
4. The same Monte Carlo at facility resolution on the default dataset's registry (6,837
   installations), ``--facility-draws`` draws on ``--workers`` workers (goal: at least 20
   scenarios per second on 2 cores).
5. The sweep of 1. on the default dataset with a synthetic registry of 1,000 installations
   at facility resolution (``--installations``).

Before 1. and 2., the same sweep and Monte Carlo are timed on the code of ``--before`` (a git
commit, default BEFORE: the last commit before the first work on issue 17, the code the issue's
"41 scenarios/s" was measured on), exported to a temporary folder and run in a child process,
in blocks alternating with this process's fast path, on ONE dataset both read: the default
dataset of that commit (its ``inputs/china``, exported with its code). Today's default cannot be
that dataset: it has tables and columns the old schema refuses (bau.csv, cap_rules.csv,
deployment_limits.csv, offsets.csv, the bank-limit columns), while today's code reads the old
default as it stands (the prices of both codes agree; the largest difference is printed). The
ratio is scenarios per second of today's code over the old code's on that dataset (goal: at
least 3). ``--before none`` leaves the comparison out; ``--only-before`` runs that comparison and
1. and 2. only (no cluster: a minute or two).

The machine's other load moves the seconds; compare the ratio, measured in one process.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import apply_overrides, load_dataset
from model.data import fastpath  # noqa: E402
from model.data.registry import make_registry  # noqa: E402
from model.studies.study import monte_carlo, sweep  # noqa: E402

NEWLY_COVERED = ("steel", "cement", "aluminium", "chemicals", "petrochemicals", "paper", "aviation")


# the last commit before the first work on issue 17 (786a0ce, light imports, 1 Dec 08:30): the code
# the issue measured "41 scenarios/s" on (29 Nov 22:12), on the default dataset of that day
BEFORE = "608e945"
BEFORE_BLOCK = """
import json, sys, time
import numpy as np
from model import load_dataset
try:
    from model.studies.study import monte_carlo, sweep
except ImportError:  # before model/ had subpackages, model/studies.py
    from model.studies import monte_carlo, sweep
china = load_dataset(sys.argv[1])
kind, values = sys.argv[2], json.loads(sys.argv[3])
distributions = json.loads(sys.argv[4])
def run(values):
    if kind == "sweep":
        return sweep(china, {"targets.2035.national_cap_mt": values})
    return monte_carlo(china, values[0], distributions, seed=values[1])
run(values[:3] if kind == "sweep" else [3, 99])  # warm: imports, the first LP
started, cpu = time.perf_counter(), time.process_time()
study = run(values)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "price": study.years["allowance_price_cny_per_t"].fillna(-1).tolist()}))
"""


def export(commit: str, folder: Path) -> Path | None:
    """The ``model`` package and default dataset (``inputs/china``) of ``commit`` in ``folder``
    (None without git or that commit, e.g. ``--before none``)."""
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "model", "inputs/china"],
                                 capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def compare_before(before: Path, commit: str, common: Path, dataset, kind: str, parts: list, distributions,
                   label: str) -> float:
    """Each of ``parts`` (a sweep's caps, or a Monte Carlo's (draws, seed)) run on the dataset
    ``common`` by the code ``before`` in a child process (its imports and first solve not timed)
    and by this process's fast path on ``dataset`` (``common`` loaded, and warmed as the child warms
    its own load: a first solve of that object), alternately; the ratio of their scenarios per second."""
    before_s = fast_s = before_cpu = fast_cpu = 0.0
    difference, n = 0.0, 0
    for part in parts:
        child = subprocess.run([sys.executable, "-c", BEFORE_BLOCK, str(common), kind,
                                json.dumps(part), json.dumps(distributions)],
                               capture_output=True, text=True, check=True, cwd=before,
                               env={**os.environ, "PYTHONPATH": str(before)})
        old = json.loads(child.stdout.strip().splitlines()[-1])
        before_s += old["seconds"]
        before_cpu += old["cpu"]
        started, cpu = time.perf_counter(), time.process_time()
        if kind == "sweep":
            study = sweep(dataset, {"targets.2035.national_cap_mt": part})
        else:
            study = monte_carlo(dataset, part[0], distributions, seed=part[1])
        fast_s += time.perf_counter() - started
        fast_cpu += time.process_time() - cpu
        n += len(study.scenarios)
        difference = max(difference, float(np.max(np.abs(np.array(old["price"])
                                                          - study.years["allowance_price_cny_per_t"].fillna(-1)))))
    print(f"{label}, {n} scenarios: code of {commit} {n / before_s:.1f} scenarios/s ({before_s / n * 1e3:.1f} ms), "
          f"today's code {n / fast_s:.1f} scenarios/s ({fast_s / n * 1e3:.1f} ms): {before_s / fast_s:.2f}x "
          f"(goal: at least 3); CPU per scenario {before_cpu / n * 1e3:.1f} against {fast_cpu / n * 1e3:.1f} ms: "
          f"{before_cpu / fast_cpu:.2f}x (what another load on the machine moves less); largest price difference "
          f"{difference:.2g} CNY/t", flush=True)
    return before_s / fast_s


WAYS = ("rebuild every scenario (Pyomo)", "re-solve, validated path", "re-solve, fast path")


def timed(study, way: str):
    """``study()`` run the ``way`` of WAYS, and its seconds."""
    started = time.perf_counter()
    if way == WAYS[0]:
        result = study(reuse_model=False)
    elif way == WAYS[1]:
        with fastpath.validated():
            result = study(reuse_model=True)
    else:
        result = study(reuse_model=True)
    return result, time.perf_counter() - started


def compare_ways(blocks, label: str, ways=WAYS, goal: float | None = None) -> None:
    """``blocks`` (functions running a part of a study, given ``reuse_model``) run each way, way
    after way within each block, so that every way meets the same machine load."""
    for way in ways:  # warm up every path (imports, the first LP)
        timed(blocks[0], way)
    seconds = dict.fromkeys(ways, 0.0)
    difference, optimal, n = 0.0, 0, 0
    for block in blocks:
        results = {}
        for way in ways:
            results[way], spent = timed(block, way)
            seconds[way] += spent
        fast = results[ways[-1]]
        n += len(fast.scenarios)
        optimal += int((fast.scenarios["status"] == "optimal").sum())
        for way in ways[:-1]:
            assert results[way].scenarios["status"].equals(fast.scenarios["status"])
            difference = max(difference, float(np.nanmax(np.abs(
                results[way].years["allowance_price_cny_per_t"].to_numpy()
                - fast.years["allowance_price_cny_per_t"].to_numpy()), initial=0.0)))
    print(f"{label}, {n} scenarios, one process:")
    for way in ways:
        print(f"  {way + ':':34s} {seconds[way] / n * 1e3:6.1f} ms per scenario, {n / seconds[way]:6.1f} scenarios/s")
    if WAYS[1] in ways:
        print(f"  fast / validated path: {seconds[WAYS[1]] / seconds[ways[-1]]:.2f}x"
              + (f" (goal: at least {goal:g})" if goal else ""))
    if WAYS[0] in ways:
        print(f"  fast path / rebuild: {seconds[WAYS[0]] / seconds[ways[-1]]:.2f}x")
    print(f"  largest price difference between the ways {difference:.2g} CNY/t; {optimal} of {n} optimal",
          flush=True)


def sweep_blocks(dataset, caps):
    parts = [part.tolist() for part in np.array_split(np.array(caps), 4)]
    return [lambda reuse_model, part=part: sweep(dataset, {"targets.2035.national_cap_mt": part},
                                                 reuse_model=reuse_model)
            for part in parts]


def montecarlo_blocks(dataset, draws: int, distributions):
    return [lambda reuse_model, seed=seed: monte_carlo(dataset, max(1, draws // 4), distributions, seed=seed,
                                                       reuse_model=reuse_model)
            for seed in range(4)]


def on_cluster(dataset, draws: int, distributions, workers: int, label: str):
    """The Monte Carlo on a LocalCluster of ``workers``: its study and scenarios per second."""
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        up = time.perf_counter()
        monte_carlo(dataset, min(draws, 4 * workers), distributions, seed=1, client=client)  # workers warm
        cpu_before, client_before = client.run(time.process_time), time.process_time()
        warm = time.perf_counter()
        study = monte_carlo(dataset, draws, distributions, seed=42, client=client)
        done = time.perf_counter()
        cpu_after, client_after = client.run(time.process_time), time.process_time()
    rate = draws / (done - warm)
    # CPU seconds, not wall: the workers' summed CPU per scenario stays the same when the work is
    # split well; wall time on a shared machine also says how much CPU the other load left
    workers_cpu = sum(cpu_after[w] - cpu_before[w] for w in cpu_before)
    busy = workers_cpu / (done - warm) / workers
    print(f"Monte Carlo{label}, {draws} draws, {workers}-worker LocalCluster: {rate:.1f} scenarios/s "
          f"({done - warm:.1f} s, plus {up - started:.1f} s to start the cluster and {warm - up:.1f} s to warm "
          f"its workers); {int((study.scenarios['status'] == 'optimal').sum())} optimal; CPU per scenario: "
          f"workers {workers_cpu / draws * 1e3:.1f} ms in all, this process (client and scheduler) "
          f"{(client_after - client_before) / draws * 1e3:.1f} ms; each worker busy {busy:.0%} of the time",
          flush=True)
    return study, rate


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
    parser.add_argument("--facility-draws", type=int, default=200)
    parser.add_argument("--before", default=BEFORE, help="git commit whose code (on its default dataset) today's "
                        "code is compared with; none: leave the comparison out")
    parser.add_argument("--no-serial-montecarlo", action="store_true",
                        help="Skip the in-process Monte Carlo (the comparison for the cluster's speed-up).")
    parser.add_argument("--only-before", action="store_true",
                        help="Only the comparison with --before and parts 1 and 2 (no cluster, no facility "
                        "resolution).")
    args = parser.parse_args()

    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}" if Path("/proc/loadavg").exists() else "")
    china = load_dataset(ROOT / "inputs" / "china")
    caps = np.linspace(9_800.0, 11_000.0, args.scenarios).round(3).tolist()
    # the old default dataset grows BAU from base_emissions_mt; today's gives every sector a
    # bau.csv path, which replaces it (so its draws are of the paths, as the example's)
    old_distributions = {f"sectors.{sector}.base_emissions_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}
                         for sector in NEWLY_COVERED}
    distributions = {f"bau.{sector}.*.bau_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}
                     for sector in NEWLY_COVERED}
    with tempfile.TemporaryDirectory() as folder:
        before = export(args.before, Path(folder))
        if before is None:
            print(f"(no git commit {args.before!r}: the comparison with the code before is left out)")
        else:
            common = before / "inputs" / "china"
            print(f"Common dataset: the default dataset of {args.before} (its inputs/china), which the code of "
                  f"{args.before} and today's code both read; today's default has tables and columns the old "
                  "schema refuses", flush=True)
            common_dataset = load_dataset(common)
            # this process warm on the object it times, as the child's first solve of its own load
            sweep(common_dataset, {"targets.2035.national_cap_mt": caps[:3]})
            compare_before(before, args.before, common, common_dataset, "sweep",
                           [part.tolist() for part in np.array_split(np.array(caps), 4)], old_distributions,
                           f"common dataset, sweep of targets.2035.national_cap_mt, today's code against {args.before}")
            compare_before(before, args.before, common, common_dataset, "montecarlo",
                           [[max(1, args.scenarios // 4), seed] for seed in range(4)], old_distributions,
                           f"common dataset, Monte Carlo of base_emissions_mt, today's code against {args.before}")
    compare_ways(sweep_blocks(china, caps), "default dataset, sweep of targets.2035.national_cap_mt over "
                 f"{caps[0]:,.0f}-{caps[-1]:,.0f} Mt", goal=3)
    compare_ways(montecarlo_blocks(china, args.scenarios, distributions),
                 "default dataset, Monte Carlo of the newly covered sectors' BAU paths (bau.csv)", goal=3)
    if args.only_before:
        return

    single, one = on_cluster(china, args.draws, distributions, 1, "")
    study, many = on_cluster(china, args.draws, distributions, args.workers, "")
    print(f"  {args.workers} workers / 1 worker: {many / one:.2f}x (goal: at least 1.7 for 2); tables identical: "
          f"{single.years.equals(study.years)}", flush=True)
    by_installation = apply_overrides(china, {"model.resolution": "facility"})
    compare_ways(montecarlo_blocks(by_installation, max(8, args.facility_draws // 5), distributions),
                 f"{len(china.facilities):,} installations at facility resolution, Monte Carlo", ways=WAYS[1:])
    on_cluster(by_installation, args.facility_draws, distributions, args.workers,
               f" at facility resolution ({len(china.facilities):,} installations; goal: at least 20 scenarios/s)")
    with tempfile.TemporaryDirectory() as folder:
        registry = with_registry(china, Path(folder) / "china", args.installations)
        compare_ways(sweep_blocks(registry, caps), f"{args.installations:,}-installation registry at facility "
                     "resolution, sweep of targets.2035.national_cap_mt")

    if not args.no_serial_montecarlo:
        started = time.perf_counter()
        serial = monte_carlo(china, args.draws, distributions, seed=42)
        serial_s = time.perf_counter() - started
        same = serial.years.equals(study.years)
        print(f"Monte Carlo, {args.draws} draws, this process: {args.draws / serial_s:.1f} scenarios/s "
              f"({serial_s:.1f} s); tables identical to the cluster's: {same}")


if __name__ == "__main__":
    main()
