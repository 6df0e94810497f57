"""Time the default solve: the whole `python run.py solve` and its phases.

    python benchmarks/solve_default.py [--repeat 5]

Prints the median wall time of the CLI run (a fresh process each time, imports included),
the in-process split into load, build, handoff to HiGHS, HiGHS, stage 2, tables and checks, writing, and the CLI run
against the import floor of the libraries it needs, measured in the same run (the
machines are noisy, so compare differences and ratios, not seconds). The project's modules are
byte-compiled first, as the floor's libraries are in site-packages: where PYTHONDONTWRITEBYTECODE
is set, every run would otherwise compile them from source (about 45 ms here), which no installed copy does.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dataset", default="inputs/china", help="a dataset folder (default: the default dataset)")
    args = parser.parse_args()

    compileall.compile_dir(ROOT / "model", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        cli_runs = [wall([sys.executable, "run.py", "-q", "solve", args.dataset, "--out", f"{tmp}/r{i}"])
                    for i in range(args.repeat)]
    import_runs = [wall([sys.executable, "-c", "import numpy, pandas, pyarrow, highspy, click"])
                   for _ in range(args.repeat)]

    from model import load_dataset
    from model.solving.pipeline import solve

    # the split of `python run.py solve`'s own work (imports excluded): the solve's
    # summary["seconds"] says build (derive + blocks), compile (the handoff to HiGHS), solve
    # (HiGHS) and allocation_* (stage 2); tables and checks are the rest of the solve call
    phases: dict[str, list[float]] = {name: [] for name in (
        "load", "build (derive + blocks)", "handoff to HiGHS", "HiGHS", "stage 2 (allocation)",
        "tables and checks", "writing", "total")}
    for i in range(args.repeat):
        started = time.perf_counter()
        dataset = load_dataset(ROOT / args.dataset)
        loaded = time.perf_counter()
        results = solve(dataset, installations=False)  # the route of `python run.py solve`
        solved = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            results.write(Path(tmp) / f"w{i}")
            written = time.perf_counter()
        seconds = results.summary["seconds"]
        stage2 = sum(v for k, v in seconds.items() if k.startswith("allocation_"))
        phases["load"].append(loaded - started)
        phases["build (derive + blocks)"].append(seconds.get("build", 0.0))
        phases["handoff to HiGHS"].append(seconds.get("compile", 0.0))
        phases["HiGHS"].append(seconds.get("solve", 0.0))
        phases["stage 2 (allocation)"].append(stage2)
        phases["tables and checks"].append(solved - loaded - sum(seconds.values()))
        phases["writing"].append(written - solved)
        phases["total"].append(written - started)

    cli = statistics.median(cli_runs)
    floor = statistics.median(import_runs)
    print(f"{args.dataset}: {results.summary['model']['variables']} variables, "
          f"{results.summary['model']['constraints']} constraints")
    print(f"python run.py solve: median {cli:.2f} s over {args.repeat} runs")
    print(f"import floor (numpy, pandas, pyarrow, highspy, click): median {floor:.2f} s; "
          f"solve - floor = {cli - floor:+.2f} s, solve / floor = {cli / floor:.2f}")
    for name, values in phases.items():
        print(f"  in process, {name}: median {statistics.median(values) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
