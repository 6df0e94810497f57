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
    """``reads`` names scenario.toml keys or table.column of model/data/schema.py."""
    from model.data import schema

    def declared(name):
        if name in schema.SCENARIO:
            return True
        table, _, column = name.partition(".")
        return table in schema.TABLES_BY_NAME and column in schema.TABLES_BY_NAME[table].by_name

    assert [(f.name, name) for f in FAMILIES for name in f.reads if not declared(name)] == []
    assert all(f.reads for f in FAMILIES)
