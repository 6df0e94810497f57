"""Mutation testing of model/ on a seeded random sample of mutants (mutmut 3).

    pip install -e '.[dev]'
    python benchmarks/mutation.py                 # the default sample: about an hour on 2 cores
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

mutmut forks each mutant's tests from a process that has already imported model/, so a
mutant of a function a module calls while it is imported (a decorator such as
``cli.scenario_option``, ``schema.gather()``) is never switched on there and always
survives. Such a survivor is run once more in a fresh interpreter with ``MUTANT_UNDER_TEST``
set before the import, against every test mutmut maps to any function of that module (``-x``:
the first failure kills it); the summary counts it killed if a test fails there.

mutmut maps a function to the tests during which it ran, so what a module- or session-scoped
fixture runs is mapped to the first test that uses the fixture only; a test that asserts on what
such a fixture made should call the function it tests itself (as the study report's test writes
the report of a fixture's sweep), or its mutants are never run against it.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "model"
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # a failing test, pytest's internal error, a timeout, the type checker
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.txt")
DEFAULT_SAMPLE = 80  # 50-63 min on 2 cores (seeds 57-63: ~25 min to list, generate and map tests, then ~0.03 mutants a second)


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


def _calls(nodes: list[ast.AST]) -> set[str]:
    """Names called in these statements, outside the bodies of functions and lambdas (not run at import)."""
    called: set[str] = set()
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                todo.append(child)
    return called


def _run_at_import(tree: ast.Module) -> set[str]:
    """The module's own functions it calls while it is imported: as decorators, in default values
    or in module- and class-level statements."""
    called: set[str] = set()
    for node in tree.body:
        defs = [node] + [m for m in getattr(node, "body", []) if isinstance(node, ast.ClassDef)]
        for definition in defs:
            if isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                called |= {d.id for d in definition.decorator_list if isinstance(d, ast.Name)}
                called |= _calls(list(definition.decorator_list))
                if not isinstance(definition, ast.ClassDef):
                    called |= _calls([*definition.args.defaults, *filter(None, definition.args.kw_defaults)])
            else:
                called |= _calls([definition])
    own = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return own & called


def import_time_functions() -> dict[str, str]:
    """mutmut's mangled name (``model.cli.x_scenario_option``) -> module (``model.cli``) of each
    function of model/ that its module calls while it is imported."""
    found = {}
    for path in sorted((ROOT / SOURCE).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for name in _run_at_import(ast.parse(path.read_text())):
            found[f"{module}.x_{name}"] = module
    return found


def _tests_of(module: str) -> tuple[str, ...]:
    """Every test mutmut maps to a function of ``module`` (``model.cli``), as pytest node ids."""
    stats = json.loads((ROOT / "mutants" / "mutmut-stats.json").read_text())
    return tuple(sorted(set().union(*(tests for function, tests in stats["tests_by_mangled_function_name"].items()
                                      if function.startswith(module + ".x")))))


@functools.cache
def _fresh_pytest(tests: tuple[str, ...], mutant: str = "") -> int:
    """pytest's exit code for these tests in a fresh interpreter in mutants/, ``mutant`` switched
    on before anything is imported (none when empty); ``-x`` stops at the first failure."""
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                          cwd=ROOT / "mutants", env={**os.environ, "MUTANT_UNDER_TEST": mutant},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def killed_in_a_fresh_process(name: str, module: str) -> tuple[bool, int]:
    """Whether a test mapped to any function of ``module`` fails with mutant ``name`` switched on
    before model/ is imported; with the number of tests run against it."""
    tests = _tests_of(module)
    if not tests:
        return False, 0
    code = _fresh_pytest(tests, name)
    # 1: a test failed; 2: collection stopped (the mutant broke the import); 4 is also what
    # pytest gives when -x stops a collection error among named tests, but also for an unknown
    # test id: it counts only if the same tests pass without the mutant
    return code in {1, 2, 3} or (code == 4 and _fresh_pytest(tests) == 0), len(tests)


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


def summary(sample: list[str], survivors: list[str], argued: dict[str, str], drawn: str, seconds: float,
            fresh: Sequence[str] = ()) -> str:
    """The raw score (killed / sampled; ``fresh`` were killed only in a fresh interpreter), then
    the survivors argued equivalent apart with their reasons."""
    killed = len(sample) - len(survivors)
    equivalent = [name for name in survivors if name in argued]
    lines = [f"mutation score: {killed} of {len(sample)} sampled mutants killed "
             f"({100 * killed / len(sample):.1f}%, raw) in {seconds / 60:.1f} min, {drawn}"]
    if equivalent:
        rest = len(sample) - len(equivalent)
        lines.append(f"{len(equivalent)} of the {len(survivors)} survivors argued equivalent in {EQUIVALENT.name}: "
                     f"{killed} of the other {rest} killed ({100 * killed / rest:.1f}%)")
        lines += [f"  equivalent: {name}: {argued[name]}" for name in equivalent]
    lines += [f"  killed in a fresh interpreter (runs at import): {name}" for name in fresh]
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
    from mutmut.utils.format_utils import mangled_name_from_mutant_name

    at_import = import_time_functions()
    fresh = []
    for name in [name for name in survivors if mangled_name_from_mutant_name(name) in at_import]:
        module = at_import[mangled_name_from_mutant_name(name)]
        killed, tests = killed_in_a_fresh_process(name, module)
        print(f"{name} runs when {module} is imported: {'killed' if killed else 'survived'} "
              f"in a fresh interpreter by the {tests} tests of {module}", flush=True)
        if killed:
            survivors.remove(name)
            fresh.append(name)
    argued = argued_equivalent()
    for name in survivors:
        print(f"\nsurvived (exit code {codes[name]}): {name}", flush=True)
        if name in argued:
            print(f"argued equivalent: {argued[name]}", flush=True)
        subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT)
    text = summary(sample, survivors, argued, "named" if args.names else f"seed {args.seed}", seconds, fresh)
    (ROOT / "mutants" / "score.txt").write_text(text + "\n")
    print(f"\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
