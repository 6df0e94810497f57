"""Time the default solve: the whole `python run.py solve` and its phases.

    python benchmarks/solve_default.py [--repeat 5]

Prints the median wall time of the CLI run (a fresh process each time, imports included),
the in-process split into load / derive + formulate / solve / tables, and the CLI run
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
    args = parser.parse_args()

    compileall.compile_dir(ROOT / "model", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        cli_runs = [wall([sys.executable, "run.py", "-q", "solve", "--out", f"{tmp}/r{i}"])
                    for i in range(args.repeat)]
    import_runs = [wall([sys.executable, "-c", "import numpy, pandas, pyarrow, highspy, click"])
                   for _ in range(args.repeat)]

    from model import load_dataset
    from model.formulation import formulate
    from model.parameters import derive_parameters
    from model.pipeline import solve

    phases: dict[str, list[float]] = {"load": [], "derive + formulate": [], "solve (both stages, HiGHS)": [],
                                      "tables and checks": [], "total": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        dataset = load_dataset(ROOT / "inputs" / "china")
        loaded = time.perf_counter()
        formulate(derive_parameters(dataset))
        built = time.perf_counter()
        results = solve(dataset, installations=False)  # the route of `python run.py solve`
        done = time.perf_counter()
        solved = sum(results.summary["seconds"].values()) - results.summary["seconds"]["build"]
        phases["load"].append(loaded - started)
        phases["derive + formulate"].append(built - loaded)
        phases["solve (both stages, HiGHS)"].append(solved)
        phases["tables and checks"].append(done - built - (built - loaded) - solved)
        phases["total"].append(loaded - started + done - built)

    cli = statistics.median(cli_runs)
    floor = statistics.median(import_runs)
    print(f"default dataset: {results.summary['model']['variables']} variables, "
          f"{results.summary['model']['constraints']} constraints")
    print(f"python run.py solve: median {cli:.2f} s over {args.repeat} runs")
    print(f"import floor (numpy, pandas, pyarrow, highspy, click): median {floor:.2f} s; "
          f"solve - floor = {cli - floor:+.2f} s, solve / floor = {cli / floor:.2f}")
    for name, values in phases.items():
        print(f"  in process, {name}: median {statistics.median(values) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
