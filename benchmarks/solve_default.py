"""Time the default solve: the whole `python run.py solve` and its phases.

    python benchmarks/solve_default.py [--repeat 5]

Prints the median wall time of the CLI run (a fresh process each time, imports included),
the in-process split into load / build / compile / solve / results, and the ratio of the
CLI run to a bare `python -c "import model"` measured in the same run (the machines are
noisy, so compare ratios, not seconds).
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cli_runs = [wall([sys.executable, "run.py", "-q", "solve", "--out", f"{tmp}/r{i}"])
                    for i in range(args.repeat)]
    import_runs = [wall([sys.executable, "-c", "import model"]) for _ in range(args.repeat)]

    from model import build_model, load_dataset
    from model.pipeline import solve

    phases: dict[str, list[float]] = {"load": [], "build": [], "solve (compile + HiGHS)": [], "total": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        dataset = load_dataset(ROOT / "inputs" / "china")
        loaded = time.perf_counter()
        model = build_model(dataset)
        built = time.perf_counter()
        results = solve(model)
        done = time.perf_counter()
        phases["load"].append(loaded - started)
        phases["build"].append(built - loaded)
        phases["solve (compile + HiGHS)"].append(results.summary["solve_seconds"])
        phases["total"].append(done - started)

    cli = statistics.median(cli_runs)
    bare = statistics.median(import_runs)
    print(f"default dataset: {len(model.abatement_mt)} abatement variables, "
          f"{results.summary['model']['constraints']} constraints")
    print(f"python run.py solve: median {cli:.2f} s over {args.repeat} runs (goal: under 3 s)")
    print(f"python -c 'import model': median {bare:.2f} s; ratio solve/import = {cli / bare:.2f}")
    for name, values in phases.items():
        print(f"  in process, {name}: median {statistics.median(values) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
