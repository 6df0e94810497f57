"""Soak test of the file safety (issue 10): not run in CI, it takes a few minutes.

    python benchmarks/soak.py [--kills 50] [--pairs 10] [--interrupts 3]

Repeats, many more times than tests/test_files_safety.py:
- kills: a process rewriting a results folder with --force in a loop, killed (SIGKILL) at a
  random moment; the folder must be the old complete one or the new complete one;
- concurrent writes: pairs of processes checking the same folder, then writing it at the
  same moment, without and with --force; exactly one folder must result, complete, and the
  other run must be told;
- Ctrl-C: a serial study interrupted by SIGINT must exit 130 within 3 s with one line and
  keep its checkpoint; and a study interrupted, then continued with --resume, must give
  the same tables as an uninterrupted run.

Prints counts such as "50 kills: 50 old-or-new complete, 0 lost".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.results.tables import write_folder  # noqa: E402
from tests.test_files_safety import (  # noqa: E402
    concurrent_pair, ctrl_c_study, kill_at_random, leftovers, write_generation,
)


def soak_kills(kills: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        write_folder(out, lambda f: write_generation(f, "first"))
        counts = kill_at_random(out, kills, seed=2026, longest_s=0.6)
        write_folder(out, lambda f: write_generation(f, "last"), force=True)
        left = leftovers(out)
    print(f"{kills} kills: {counts['old'] + counts['new']} old-or-new complete ({counts['old']} old, "
          f"{counts['new']} new), {counts['lost']} lost; leftovers after the next write: {len(left)}")
    for detail in counts.get("details", []):
        print("  lost:", detail)
    return counts["lost"] == 0 and not left


def soak_pairs(pairs: int, force: bool) -> bool:
    good = 0
    with tempfile.TemporaryDirectory() as folder:
        for i in range(pairs):
            out = Path(folder) / f"out{i}"
            if force:
                write_folder(out, lambda f: write_generation(f, "old"))
            codes, generation, told = concurrent_pair(out, force)
            good += codes == [0, 1] and generation in ("a-0", "b-0") and len(told) == 1 and not leftovers(out)
    print(f"{pairs} concurrent pairs {'with' if force else 'without'} --force: {good} with one complete folder "
          f"and the other run told, {pairs - good} not")
    return good == pairs


def soak_ctrl_c(interrupts: int) -> bool:
    good = 0
    for _ in range(interrupts):
        with tempfile.TemporaryDirectory() as folder:
            code, stopped, stderr, kept = ctrl_c_study(Path(folder), serial=True)
            one_line = len(stderr.strip().splitlines()) == 1 and "--resume" in stderr
            ok = code == 130 and stopped < 3.0 and one_line and kept > 0
            good += ok
            print(f"  Ctrl-C: exit {code} after {stopped:.2f} s, {kept} scenarios kept, "
                  f"{'one line' if one_line else repr(stderr)}")
    print(f"{interrupts} Ctrl-C of a serial study: {good} stopped within 3 s with exit 130, one line and the "
          f"checkpoint kept, {interrupts - good} not")
    return good == interrupts


def soak_resume() -> bool:
    """A study interrupted, then resumed from the command line: its tables equal an uninterrupted run's."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        study_file = folder / "s.toml"
        study_file.write_text(f'dataset = "{(ROOT / "inputs" / "toy").as_posix()}"\n[montecarlo]\nn = 1000\n'
                              'seed = 5\n[montecarlo.distributions]\n'
                              '"sectors.power.base_emissions_mt*" = { kind = "uniform", low = 0.9, high = 1.1 }\n')
        run = [sys.executable, str(ROOT / "run.py"), "-q", "montecarlo", str(study_file), "--serial"]
        whole = subprocess.run([*run, "--out", str(folder / "whole")], capture_output=True, text=True)
        process = subprocess.Popen([*run, "--out", str(folder / "cut")], stderr=subprocess.PIPE, text=True)
        parts = folder / ".cut.checkpoint" / "parts"
        while len(list(parts.glob("*.index.parquet"))) < 3 and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(2)
        process.communicate()
        resumed = subprocess.run([*run, "--out", str(folder / "cut"), "--resume"], capture_output=True, text=True)
        same = whole.returncode == 0 and resumed.returncode == 0 and all(
            pd.read_parquet(folder / "whole" / f"{t}.parquet").equals(pd.read_parquet(folder / "cut" / f"{t}.parquet"))
            for t in ("years", "sector_years"))
        print(f"Ctrl-C (exit {process.returncode}) then --resume: tables {'equal' if same else 'DIFFERENT'} "
              "to an uninterrupted run's")
        return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--interrupts", type=int, default=3)
    started = time.perf_counter()
    parser.add_argument("--no-resume", action="store_true", help="Skip the Ctrl-C then --resume study.")
    args = parser.parse_args()
    ok = [soak_kills(args.kills), soak_pairs(args.pairs, force=False), soak_pairs(args.pairs, force=True),
          soak_ctrl_c(args.interrupts), args.no_resume or soak_resume()]
    print(f"soak {'passed' if all(ok) else 'FAILED'} in {time.perf_counter() - started:.0f} s")
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
