"""Every declared family has a check that run_checks runs, a test file of its own here,
a unique name, and a dual column the results tables carry."""

from pathlib import Path

import pytest

from model.results.checks import run_checks
from model.families import FAMILIES, with_rows
from model.solving.pipeline import OWN_FAMILIES
from tests.families.helpers import toy_results

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def toy():
    return toy_results()


def test_every_family_has_a_check_run_on_every_solve(toy):
    checks = run_checks(toy.years, toy.sector_years, toy.abatement_steps, toy.summary["market"])
    assert {family.name: family.check.name in checks for family in FAMILIES} == {f.name: True for f in FAMILIES}


def test_every_family_has_a_test_file():
    missing = [f.name for f in FAMILIES if not (HERE / f"test_{f.name}.py").is_file()]
    assert missing == []


def test_names_are_unique_and_the_pipeline_guards_every_family_with_rows():
    names = [family.name for family in FAMILIES]
    assert len(set(names)) == len(names)
    assert OWN_FAMILIES == tuple(f.name for f in with_rows())


def test_dual_columns_are_in_the_tables(toy):
    tables = {"years": toy.years, "sector_years": toy.sector_years, "facilities": toy.facilities}
    declared = {(f.dual.table, f.dual.name) for f in FAMILIES if f.dual is not None}
    assert declared == {("years", "allowance_price_cny_per_t"), ("years", "national_carbon_value_cny_per_t"),
                        ("sector_years", "own_price_cny_per_t"), ("facilities", "price_cny_per_t"),
                        ("years", "offset_limit_value_cny_per_t")}
    always = {(f.dual.table, f.dual.name) for f in FAMILIES if f.dual is not None and not f.dual.optional}
    assert [name for table, name in always if table != "facilities" and name not in tables[table]] == []


def test_relaxable_families_are_the_targets():
    assert [f.name for f in FAMILIES if f.relaxable] == ["national_target", "simulation_rule_cap"]


def test_every_input_a_family_reads_is_declared_in_the_schema():
    """``inputs_read`` (its own ``inputs`` and the others' ``reads``) names scenario.toml keys
    or table.column that the schema declares; every family reads some input."""
    from model.data import schema

    def declared(name):
        if name in schema.SCENARIO:
            return True
        table, _, column = name.partition(".")
        return table in schema.TABLES_BY_NAME and column in schema.TABLES_BY_NAME[table].by_name

    assert [(f.name, name) for f in FAMILIES for name in f.inputs_read if not declared(name)] == []
    assert [f.name for f in FAMILIES if not f.inputs_read] == []


def test_a_family_s_own_inputs_are_its_module_s_and_the_schema_gathers_every_one():
    """A family's ``inputs`` is its file's ``INPUTS``; the schema holds every field each family
    file declares as the very object declared (else it would silently not exist, or validation
    would read a copy); a family names none of its own inputs in ``reads`` (no second string)."""
    import importlib

    from model.data import schema

    gathered = {id(f) for f in schema.SCENARIO_FIELDS} | {id(f) for t in schema.TABLES for f in t.fields}
    owners = []
    for path in sorted((HERE.parents[1] / "model" / "families").glob("*.py")):
        inputs = getattr(importlib.import_module(f"model.families.{path.stem}"), "INPUTS", None)
        if inputs is None:
            continue
        owners.append(path.stem)
        fields = [*inputs.scenario, *(f for group in inputs.columns.values() for f in group),
                  *(f for t in inputs.tables for f in t.fields)]
        assert fields and all(id(f) in gathered for f in fields), path.stem
    for family in FAMILIES:
        module = importlib.import_module(f"model.families.{family.name}")
        assert family.inputs is getattr(module, "INPUTS", family.inputs), family.name
        assert set(family.reads).isdisjoint(family.inputs.names), family.name
    assert owners == sorted(schema.RULE_INPUT_MODULES)  # today's rules: listed for the reference's order


def test_the_families_import_no_module_that_reads_the_schema():
    """The schema imports the family modules for their INPUTS, so a family file imports at its
    top only light modules (fields, lp.blocks, base, checktools, errors, phases): importing the
    families loads neither the schema nor the dataset reader nor the parameters."""
    import subprocess
    import sys

    code = ("import sys, model.families; print(sorted(m for m in ('model.data.schema', 'model.data.inputs', "
            "'model.parameters.derive', 'model.parameters.installations') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_family_file_imports_at_its_top_only_the_light_modules():
    """Read from the source: outside functions and ``if TYPE_CHECKING``, a family file imports
    from model/ only the leaf of declarations, the blocks, base, checktools, errors, the phases'
    names and its sibling families (so that a new import of data.inputs or parameters fails here)."""
    import ast

    allowed = {"..data.fields", "..lp.blocks", "..errors", "..parameters.phases", ".base", ".checktools", "."}
    siblings = {f".{path.stem}" for path in (HERE.parents[1] / "model" / "families").glob("*.py")}
    found = []
    for path in sorted((HERE.parents[1] / "model" / "families").glob("*.py")):
        for node in ast.parse(path.read_text()).body:  # top level only: not functions, not `if TYPE_CHECKING`
            if isinstance(node, ast.ImportFrom) and node.level:
                name = "." * node.level + (node.module or "")
                if name not in allowed | siblings:
                    found.append((path.name, name))
            elif isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names if alias.name.startswith("model")]
    assert found == []


def test_a_dual_becomes_its_column_signed_undiscounted_with_tiny_values_zero():
    """Duals -4.4, -1e-10 and 2.42 of rows in 2025-2027 at a 10% discount rate (factors 1, 1/1.1,
    1/1.21): the price is -dual / factor, 4.4, 0 (|x| < 1e-9) and -2.42 x 1.21; a column not
    discounted keeps -dual; rows keyed by other years (2026, 2030: one outside the horizon) read
    their factors by year (NaN outside, before or after)."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from model.families import dual_prices
    from model.families.base import DualColumn, Family
    from model.parameters.derive import Parameters

    p = SimpleNamespace(years=np.array([2025, 2026, 2027]), first_year=2025,
                        discount_factor=pd.Series([1.0, 1 / 1.1, 1 / 1.21], index=pd.RangeIndex(2025, 2028)))
    p.discount_factors = lambda years: Parameters.discount_factors(p, years)
    _discount_factors = Parameters.discount_factors
    family = Family("f", None, None, dual=DualColumn("price", "years"))
    assert dual_prices(p, family, np.array([-4.4, -1e-10, 2.42])).tolist() == pytest.approx([4.4, 0.0, -2.42 * 1.21])
    assert dual_prices(p, family, np.array([-4.4, -1e-10, 2.42]))[1] == 0.0
    plain = Family("f", None, None, dual=DualColumn("price", "years", discounted=False, sign=1.0))
    assert dual_prices(p, plain, np.array([-4.4, 3e-10, 2.0])).tolist() == [-4.4, 0.0, 2.0]
    by_year = Family("f", None, None, dual=DualColumn("price", "years", year_of_row=lambda p: np.array([2026, 2026])))
    assert dual_prices(p, by_year, np.array([-1.0, -2.0])).tolist() == pytest.approx([1.1, 2.2])
    outside = _discount_factors(p, np.array([2026, 2030]))
    assert outside[0] == pytest.approx(1 / 1.1) and np.isnan(outside[1])
    assert np.isnan(_discount_factors(p, np.array([2024, 2025]))[0])  # before the horizon: none, not the last
    assert np.isnan(_discount_factors(p, np.array([2027, 2028]))[1])
    # a script's own factors, not by consecutive years from the first: read by year, as reindex does
    gaps = SimpleNamespace(first_year=2025, discount_factor=pd.Series([1.0, 0.5, 0.25], index=[2025, 2027, 2028]))
    assert _discount_factors(gaps, np.array([2027, 2026, 2028])).tolist() == pytest.approx([0.5, np.nan, 0.25],
                                                                                          nan_ok=True)
