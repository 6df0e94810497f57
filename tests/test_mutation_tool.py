"""benchmarks/mutation.py: which functions run while their module is imported (mutmut cannot
switch their mutants on after the import, so the script runs those in a fresh interpreter)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mutation_tool", ROOT / "benchmarks" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)

MODULE = '''
def decorator(f): return f
def factory(x): return decorator
def at_module_level(): return 1
def in_a_default(): return 2
def in_a_lambda(): return 3
def in_a_body(): return 4
def referenced_only(): return 5
def method_decorator(f): return f

@decorator
def a(x=in_a_default()):
    return in_a_body()

@factory(1)
def b(): pass

VALUE = at_module_level()
LATER = lambda: in_a_lambda()
TABLE = {"rows": referenced_only}

class C:
    SIZE = at_module_level()
    @method_decorator
    def m(self): return in_a_body()
'''


def test_the_functions_a_module_calls_as_it_is_imported_are_found_and_no_others():
    assert mutation._run_at_import(ast.parse(MODULE)) == {
        "decorator", "factory", "at_module_level", "in_a_default", "method_decorator"}


def test_the_cli_s_option_decorators_and_schema_gathering_are_run_at_import():
    found = mutation.import_time_functions()
    assert found["model.cli.x_scenario_option"] == "model.cli"
    assert found["model.data.schema.x_gather"] == "model.data.schema"
    assert "model.cli.x_main" not in found
    assert all(module.startswith("model.") and name.startswith(module + ".x_") for name, module in found.items())


def test_the_summary_counts_a_mutant_killed_in_a_fresh_interpreter_as_killed():
    """4 sampled, b and d survived (b argued equivalent), c killed only in a fresh interpreter:
    2 of 4 killed (50.0%), 2 of the other 3 (66.7%), and c named as killed that way."""
    text = mutation.summary(["a", "b", "c", "d"], ["b", "d"], {"b": "same LP"}, "seed 1", 90.0, fresh=["c"])
    assert text.splitlines() == [
        "mutation score: 2 of 4 sampled mutants killed (50.0%, raw) in 1.5 min, seed 1",
        "1 of the 2 survivors argued equivalent in mutation_equivalent.txt: 2 of the other 3 killed (66.7%)",
        "  equivalent: b: same LP",
        "  killed in a fresh interpreter (runs at import): c",
        "  survived: d"]
