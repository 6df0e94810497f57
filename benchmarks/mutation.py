"""Mutation testing of model/ on a seeded random sample of mutants (mutmut 3).

    pip install -e '.[dev]'
    python benchmarks/mutation.py                 # the default sample: about 30 minutes on 2 cores
    python benchmarks/mutation.py --sample 15     # a quick look
    python benchmarks/mutation.py --sample 30 --only model.data.workbook   # one module's mutants
    python benchmarks/mutation.py --names NAME ...   # these mutants again (a sample's survivors, after new tests)

Every mutant mutmut can make of model/ and model/families/ (an operator, a constant, a
comparison changed in one place) is listed; ``--sample`` of them are drawn with ``random.Random(--seed)`` (the
same seed and code give the same sample; ``--only`` draws from the mutants whose names start
with one of its prefixes, to look at one module; ``--names`` runs exactly the mutants named, such as
an earlier sample's survivors once tests are written for them) and run by ``mutmut run`` with the tests of
``[tool.mutmut]`` in pyproject.toml. A mutant is *killed* when a test fails (or times
out) with it and *survives* when every test covering it passes. The score is killed /
sampled; each survivor is printed with its diff: either a test is missing (write one
that fails with the mutant) or the mutant is equivalent (it changes no result). A survivor
named in ``benchmarks/mutation_equivalent.txt`` (one ``name: why`` a line, each argued
equivalent) is listed apart with its reason, after the raw score and the share of the rest
killed; it still counts as a survivor in the raw score. mutmut keeps its tree and results in
mutants/ (``mutmut show NAME`` shows one mutant's diff); the summary printed last is also
written to mutants/score.txt (mutmut's spinner fills the terminal's log).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "model"
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # a failing test, pytest's internal error, a timeout, the type checker
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.txt")
DEFAULT_SAMPLE = 80  # about 30 minutes on 2 cores (measured under load: ~6 min to list, generate and map tests, then ~0.05 mutants a second)


def all_mutants() -> list[str]:
    """The names of every mutant mutmut makes of model/, as ``mutmut run`` takes them."""
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name

    names = []
    for path in sorted((ROOT / SOURCE).rglob("*.py")):  # model/families/ too
        relative = path.relative_to(ROOT)
        mutated = mutate_file_contents(str(relative), path.read_text())
        names += [get_mutant_name(relative, name) for name in mutated.mutant_names]
    return sorted(names)


def exit_codes(names: list[str]) -> dict[str, int | None]:
    """The last run's exit code of each mutant, from mutmut's result files in mutants/."""
    found: dict[str, int | None] = {}
    for meta in (ROOT / "mutants" / SOURCE).rglob("*.py.meta"):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return {name: found.get(name) for name in names}


def argued_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> why it changes no result, from ``name: why`` lines (``#`` starts a comment)."""
    argued = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(":")
            argued[name.strip()] = why.strip()
    return argued


def summary(sample: list[str], survivors: list[str], argued: dict[str, str], drawn: str, seconds: float) -> str:
    """The raw score (killed / sampled), then the survivors argued equivalent apart with their reasons."""
    killed = len(sample) - len(survivors)
    equivalent = [name for name in survivors if name in argued]
    lines = [f"mutation score: {killed} of {len(sample)} sampled mutants killed "
             f"({100 * killed / len(sample):.1f}%, raw) in {seconds / 60:.1f} min, {drawn}"]
    if equivalent:
        rest = len(sample) - len(equivalent)
        lines.append(f"{len(equivalent)} of the {len(survivors)} survivors argued equivalent in {EQUIVALENT.name}: "
                     f"{killed} of the other {rest} killed ({100 * killed / rest:.1f}%)")
        lines += [f"  equivalent: {name}: {argued[name]}" for name in equivalent]
    lines += [f"  survived: {name}" for name in survivors if name not in argued]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="mutants to run (default %(default)s)")
    parser.add_argument("--seed", type=int, default=18, help="seed of the sample (default %(default)s)")
    parser.add_argument("--only", nargs="+", default=(), metavar="PREFIX",
                        help="draw only mutants whose names start with one of these, e.g. model.data.workbook")
    parser.add_argument("--names", nargs="+", default=(), metavar="NAME",
                        help="run exactly these mutants (e.g. an earlier sample's survivors) instead of a sample")
    parser.add_argument("--max-children", type=int, default=2, help="mutants run at once (default %(default)s)")
    args = parser.parse_args()

    names = [name for name in all_mutants() if not args.only or name.startswith(tuple(args.only))]
    if not names:
        print(f"no mutant of {SOURCE}/ starts with {' or '.join(args.only)}", file=sys.stderr)
        return 2
    if args.names:
        unknown = sorted(set(args.names) - set(names))
        if unknown:  # a function changed since the names were printed: mutmut numbers its mutants anew
            print(f"no such mutant of {SOURCE}/ today: {' '.join(unknown)}", file=sys.stderr)
            return 2
        sample = sorted(set(args.names))
        print(f"running the {len(sample)} mutants named", flush=True)
    else:
        sample = sorted(random.Random(args.seed).sample(names, min(args.sample, len(names))))
        drawn_from = " ".join(args.only) or f"{SOURCE}/"
        print(f"{len(names)} mutants of {drawn_from}; running {len(sample)} drawn with seed {args.seed}", flush=True)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children), *sample],
                         cwd=ROOT)
    seconds = time.perf_counter() - started
    codes = exit_codes(sample)
    if run.returncode != 0 or any(code is None for code in codes.values()):
        print(f"mutmut run failed (exit {run.returncode}); mutants not checked: "
              f"{sorted(n for n, c in codes.items() if c is None)}", file=sys.stderr)
        return 1
    survivors = sorted(name for name, code in codes.items() if code not in KILLED)
    argued = argued_equivalent()
    for name in survivors:
        print(f"\nsurvived (exit code {codes[name]}): {name}", flush=True)
        if name in argued:
            print(f"argued equivalent: {argued[name]}", flush=True)
        subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT)
    text = summary(sample, survivors, argued, "named" if args.names else f"seed {args.seed}", seconds)
    (ROOT / "mutants" / "score.txt").write_text(text + "\n")
    print(f"\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
