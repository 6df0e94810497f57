"""The toy with a cap_rules.csv, for the cap-rule families' hand cases."""

from __future__ import annotations

import shutil
from pathlib import Path

from model import solve
from tests.conftest import TOY

SLACK_TARGETS = {"targets.2025.national_cap_mt": 1000, "targets.2027.national_cap_mt": 1000}


def toy_with_rules(folder: Path, rules: list[str]) -> Path:
    """A copy of the toy in ``folder`` whose cap_rules.csv has ``rules``
    (``sector,from_year,basis,reduction,benchmark_t_per_unit`` lines)."""
    target = folder / "toy"
    shutil.copytree(TOY, target)
    (target / "cap_rules.csv").write_text(
        "sector,from_year,basis,reduction,benchmark_t_per_unit,source\n"
        + "".join(f"{line},illustrative\n" for line in rules))
    return target


def by_sector_year(results, column: str):
    return results.sector_years.set_index(["sector", "year"])[column]


def solved(folder: Path, rules: list[str], **overrides):
    return solve(toy_with_rules(folder, rules), overrides={**SLACK_TARGETS, **overrides})
