"""Start-up of the command line against its floors, measured in one run (fresh processes).

    python benchmarks/startup.py [--repeat 7]

Prints the median wall time of
- `python -c pass` (the interpreter),
- `python run.py --help` and a shell-completion call (goal: within 0.15 s of the interpreter),
- the import floor of a solve: `import numpy, pandas, pyarrow, highspy, click`, the libraries
  the default solve needs (Pyomo is not among them: a dataset goes from the numpy blocks
  straight to HiGHS),
- `python run.py -q solve` on the default dataset (goal: within 0.3 s of that floor),
- `python -c "import pyomo.environ, highspy, pandas, click"`, the floor of the Pyomo route,
and the differences and ratios. The runs are interleaved, so load on the machine affects
every command alike; compare the differences and ratios, not the seconds.

Every command runs with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed, the caches
in a temporary ``PYTHONPYCACHEPREFIX``), as an installed package runs: without it each start
compiles etscap's modules again (about 0.1 s), which no installed copy does. The first round
writes the caches and is left out of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True, env={**environment, **(env or {})})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "python -c pass": ([python, "-c", "pass"], None),
            "run.py --help": ([python, "run.py", "--help"], None),
            "shell completion": ([python, "run.py"], {"_ETSCAP_COMPLETE": "bash_complete",
                                                      "COMP_WORDS": "etscap so", "COMP_CWORD": "1"}),
            "import floor of solve": ([python, "-c", "import numpy, pandas, pyarrow, highspy, click"], None),
            "run.py -q solve": ([python, "run.py", "-q", "solve", "--out", f"{tmp}/china", "--force"], None),
            "import floor with Pyomo": ([python, "-c", "import pyomo.environ, highspy, pandas, click"], None),
        }
        cache = {"PYTHONPYCACHEPREFIX": f"{tmp}/pycache"}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.repeat + 1):
            for name, (command, env) in commands.items():
                seconds = wall(command, {**cache, **(env or {})})
                if round_:  # the first round writes the bytecode caches
                    times[name].append(seconds)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"median of {args.repeat} interleaved runs (seconds)")
    for name, value in median.items():
        print(f"  {name:<26} {value:7.3f}")
    bare, floor = median["python -c pass"], median["import floor of solve"]
    print(f"--help - python -c pass            {median['run.py --help'] - bare:+.3f} s (goal <= 0.15)")
    print(f"completion - python -c pass        {median['shell completion'] - bare:+.3f} s (goal <= 0.15)")
    print(f"solve - import floor of solve      {median['run.py -q solve'] - floor:+.3f} s (goal <= 0.3)")
    print(f"solve / import floor of solve      {median['run.py -q solve'] / floor:.2f}x")
    print(f"--help / python -c pass            {median['run.py --help'] / bare:.2f}x")


if __name__ == "__main__":
    main()
