"""Adding a family costs one file and one line (issue 12): no module of ``model/`` outside a
family's own file names the family's variables, value columns or dual column, read from the
declarations (``Family.values``, ``Family.dual``, ``Family.variables`` on the toy) and searched
for in the source as text (whole words, comments and docstrings included). What follows
from a family elsewhere (the report's charts, the checks' supply and national count, the
summary's overshoot) reads the declarations, so a family removed or added changes nothing
outside its file.

Two explicit lists say where a name may still be read elsewhere, each with its reason:
``CORE`` (the market's own outputs, which every rule and every table reads) and ``KNOWN``
(places that still name a rule's column, by module file name: each is a leak to remove, not
a pattern to copy). A leak not on them fails with the file and the line."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import model
import model.families
from model import load_dataset
from model.families import FAMILIES, Check, DualColumn, Family, ValueColumn
from model.parameters.derive import derive_parameters
from tests.conftest import TOY

MODEL = Path(model.__file__).parent

# The market's own quantities, produced by the families the LP cannot do without (market
# clearing, the national target, the bank, the simulation phase, the installations): every
# rule's check, the report, comparisons, studies and the notebook export read them by name.
CORE = {
    "allowance_price_cny_per_t",  # market_balance's dual: the allowance price
    "national_carbon_value_cny_per_t",  # national_target's dual: the national carbon value
    "bank_mt",  # the bank's variable (bank) and a sector's bank (bank_limits)
    "own_price_cny_per_t",  # simulation_compliance's dual: a simulation sector's own price
    "price_cny_per_t",  # facility_compliance's dual: an installation's own price
}

# Generic places that still name a rule's column, by module file name (modules may move into
# subpackages; their names stay), then the column: why, and what would remove it.
KNOWN = {
    # the policy-wide price checks adjust the price a sector faces for rules that change it
    # (a sales-linked bank limit, an offset limit) and Hotelling's rule for borrowing: a
    # family-declared "price faced" term would move them into the families
    ("checks.py", "net_sales_mt"): "equal marginal cost and Hotelling under a sales-linked bank limit",
    ("checks.py", "offset_limit_value_cny_per_t"): "equal marginal cost under an offset limit",
    ("checks.py", "borrowed_mt"): "Hotelling's rule while borrowing",
    # borrowing adds borrowed less repaid to the market's supply: a market_supply column with
    # a sign would declare it; checktools.borrowed_mt is the helper the checks above use
    ("checktools.py", "borrowed_mt"): "the market's supply and the helper borrowed_mt",
    ("bank_limits.py", "borrowed_mt"): "its check: borrowing and a bank limit together (checktools.borrowed_mt)",
    ("national_target.py", "borrowed_mt"): "the national count: borrowed allowances count where issued",
}


def family_files() -> dict[str, Path]:
    """Each listed family's own file, by family name (the module that declares its FAMILY)."""
    files = {}
    for module in pkgutil.iter_modules(model.families.__path__):
        declared = getattr(importlib.import_module(f"model.families.{module.name}"), "FAMILY", None)
        if isinstance(declared, Family):
            files[declared.name] = Path(model.families.__path__[0]) / f"{module.name}.py"
    return files


def declared_names(families: list[Family]) -> dict[str, set[str]]:
    """{name: the families declaring it}: value columns, their variables, dual columns and the
    variables the families declare on the toy (where in use)."""
    p = derive_parameters(load_dataset(TOY))
    names: dict[str, set[str]] = {}
    for family in families:
        declared = {name for column in family.values for name in (column.name, column.variable)}
        declared |= {family.dual.name} if family.dual is not None else set()
        declared |= {block.name for block in family.variables(p)} if family.variables is not None else set()
        for name in declared:
            names.setdefault(name, set()).add(family.name)
    return names


def leaks(root: Path, families: list[Family], own_files: dict[str, Path],
          known: dict[tuple[str, str], str] | None = None) -> list[str]:
    """Every line of a module under ``root`` that names a family's declared name outside that
    family's own file, and not in ``CORE`` or ``known``: "path:line names <name> (<families>)"."""
    known = KNOWN if known is None else known
    owners = {name: by for name, by in declared_names(families).items() if name not in CORE}
    word = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(map(re.escape, owners), key=len, reverse=True))
                      + r")(?![A-Za-z0-9_])")
    found = []
    for path in sorted(root.rglob("*.py")):
        own = {family for family, file in own_files.items() if file.resolve() == path.resolve()}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in dict.fromkeys(word.findall(line)):
                if owners[name] & own or (path.name, name) in known:
                    continue
                found.append(f"{path.relative_to(root.parent)}:{number} names {name} "
                             f"(declared by {', '.join(sorted(owners[name]))})")
    return found


def test_no_module_names_a_family_s_columns_outside_its_file():
    found = leaks(MODEL, FAMILIES, family_files())
    assert not found, ("a family's variable or column is named outside its file (read it from the "
                       "declarations, or add it to KNOWN with a reason):\n" + "\n".join(found))


def test_every_known_leak_is_still_there():
    """An entry of KNOWN that no longer matches is removed (the list only shrinks)."""
    stale = [key for key in KNOWN if not leaks(MODEL, FAMILIES, family_files(), {k: v for k, v in KNOWN.items()
                                                                                 if k != key})]
    assert not stale


DEMO = Family("demo_rule", None, check=Check("demo_rule", lambda years, sector_years, steps, market: 0.0),
              values=(ValueColumn("demo_released_mt", "demo_release_mt"),),
              dual=DualColumn("demo_value_cny_per_t", "years"))


@pytest.mark.parametrize("text, name", [('supply = years["demo_released_mt"]\n', "demo_released_mt"),
                                        ("# what the rule sells (demo_release_mt)\n", "demo_release_mt"),
                                        ('value = years["demo_value_cny_per_t"]\n', "demo_value_cny_per_t")])
def test_a_leak_is_named_with_its_file_and_line(tmp_path, text, name):
    """A module naming a family's value column, its variable or its dual column, in code or a
    comment, is caught at its line; the same text in the family's own file is not, nor a
    longer name that contains it."""
    package = tmp_path / "model"
    (package / "families").mkdir(parents=True)
    (package / "report.py").write_text("import numpy\n" + text + "other = 'demo_released_mt_total'\n")
    own = package / "families" / "demo_rule.py"
    own.write_text(text)
    assert leaks(package, [DEMO], {"demo_rule": own}) == [f"model/report.py:2 names {name} (declared by demo_rule)"]
