"""Shared fixtures: the bundled datasets and a writer for small hand-made datasets."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Callable

import pytest

from model import Results, solve
from model.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "inputs" / "toy"
CHINA = ROOT / "inputs" / "china"


def refusal(call: Callable[..., Any], *args: Any) -> str:
    """The message of the InputError ``call(*args)`` must raise (the one a user reads)."""
    with pytest.raises(InputError) as refused:
        call(*args)
    return str(refused.value)


# Five installations of the toy's power and steel (no output, no own costs): their free
# shares follow their emissions and no installation binds on its own
FIVE_INSTALLATIONS = ("facility_id,sector,output,emissions_mt,cost_factor\n"
                      "p1,power,,60,1\np2,power,,40,1\ns1,steel,,25,1\ns2,steel,,15,1\ns3,steel,,10,1\n")
# The same with steel output and cost factors: s2 twice as dear, s3 half
FIVE_INSTALLATIONS_WITH_OUTPUT = ("facility_id,sector,output,emissions_mt,cost_factor\n"
                                  "p1,power,,60,1\np2,power,,40,1\ns1,steel,10,25,1\ns2,steel,6,15,2\n"
                                  "s3,steel,9,10,0.5\n")


def toy_with_registry(folder: Path, facilities_csv: str = FIVE_INSTALLATIONS) -> Path:
    """A copy of the toy at ``folder`` with ``facilities.csv`` as given."""
    import shutil

    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(facilities_csv)
    return folder


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return repr(value)


def write_dataset(
    folder: Path,
    *,
    sectors: list[dict[str, Any]],
    mac: list[dict[str, Any]],
    targets: list[dict[str, Any]],
    first_year: int = 2025,
    last_year: int = 2025,
    base_year: int | None = None,
    discount_rate: float = 0.1,
    banking: bool = False,
    initial_bank_mt: float = 0.0,
    extra_settings: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write a dataset folder from rows given as dicts (missing optional columns stay blank)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        'name = "case"',
        f"base_year = {base_year or first_year}",
        f"first_year = {first_year}",
        f"last_year = {last_year}",
        f"discount_rate = {discount_rate}",
        "[market]",
        f"banking = {_toml_value(banking)}",
        f"initial_bank_mt = {initial_bank_mt}",
    ]
    for table, values in (extra_settings or {}).items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    (folder / "scenario.toml").write_text("\n".join(lines) + "\n")
    defaults = {"value_added_bn_cny": 100}
    _write_csv(folder / "sectors.csv", [{**defaults, **row} for row in sectors])
    _write_csv(folder / "mac.csv", mac)
    _write_csv(folder / "targets.csv", targets)
    return folder


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


@pytest.fixture
def toy_path() -> Path:
    return TOY


@pytest.fixture
def china_path() -> Path:
    return CHINA


@pytest.fixture(scope="session")
def toy_results() -> Results:
    """The toy solved once for the whole session (tests must not change it)."""
    return solve(TOY)


@pytest.fixture(scope="session")
def china_results() -> Results:
    """The default dataset solved once for the whole session (tests must not change it)."""
    return solve(CHINA)
