"""Adding a rule with inputs of its own is one file too: this module is such a family file,
an ETS cap limit whose inputs (a scenario key, a targets.csv column and a table of its own,
ets_cap_limits.csv) are declared here as ``INPUTS`` and given to its ``Family``, exactly as in ``model/families/<rule>.py``. With
its family in ``FAMILIES`` (its one line), the inputs are validated, settable with ``--set``
and overrides, listed by ``run.py inputs`` and read by the LP, with no edit to schema.py or
inputs.py."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from model import load_dataset, solve
from model.cli import cli
from model.data import schema
from model.data.fields import SOURCE_COLUMN, Field, Inputs, TableSpec, year_field
from model.data.overrides import apply_overrides
from model.errors import InputError
from model.families import FAMILIES, Check, Family, market_balance
from model.families.checktools import worst
from model.lp.blocks import RowBlock, Term
from model.results.checks import run_checks
from tests.conftest import TOY

LIMITS_TABLE = TableSpec(
    "ets_cap_limits.csv", "Optional limits of the ETS cap by year (with market.ets_cap_limit_mt, the lowest binds).",
    ("year",),
    (year_field("year", "Year of the limit."),
     Field("limit_mt", "float", "Mt CO2", "The ETS cap of the year is at most this.", None, 0.0, 1e6),
     SOURCE_COLUMN),
    required=False,
)
INPUTS = Inputs(
    scenario=(Field("market.ets_cap_limit_mt", "float", "Mt CO2",
                    "The ETS cap of every year is at most this; blank: no limit.", None, 0.0, 1e6),),
    columns={"targets.csv": (Field("ets_cap_limit_mt", "float", "Mt CO2",
                                   "The ETS cap of the row's year is at most this (and market.ets_cap_limit_mt); "
                                   "blank: no limit of its own.", None, 0.0, 1e6),)},
    tables=(LIMITS_TABLE,),
)


def limit_by_year(p) -> np.ndarray:
    """The limit of each model year, Mt (inf: none): the year's targets.csv row, its
    ets_cap_limits.csv row and the scenario's, the lowest."""
    own = p.dataset.targets.set_index("year")["ets_cap_limit_mt"].reindex(p.years).to_numpy(dtype=float)
    table = p.dataset.table("ets_cap_limits").set_index("year")["limit_mt"].reindex(p.years).to_numpy(dtype=float)
    every = p.dataset.settings["market.ets_cap_limit_mt"]
    return np.fmin(np.fmin(np.nan_to_num(own, nan=np.inf), np.nan_to_num(table, nan=np.inf)),
                   np.inf if every is None else every)


def define_cap_limit(p, sums) -> RowBlock:
    """ets_cap_mt <= limit in the years that have one (Mt)."""
    limit = limit_by_year(p)
    years = np.flatnonzero(np.isfinite(limit))
    return RowBlock("ets_cap_limit", p.years[years].tolist(),
                    [Term("ets_cap_mt", np.arange(years.size), years, np.ones(years.size))],
                    constant=np.zeros(years.size), upper=limit[years], doc="ets_cap <= limit (Mt)")


def within_limit(years, sector_years, steps, market) -> float:
    """No year's ETS cap above its limit (summary["market"]["ets_cap_limit_mt"]), Mt over (worst)."""
    limits = market.get("ets_cap_limit_mt", {})
    limit = years["year"].map(lambda year: limits.get(int(year), np.inf)).to_numpy(dtype=float)
    return worst(years["ets_cap_mt"].to_numpy() - limit)


CAP_LIMIT = Check("ets_cap_limit", within_limit)
FAMILY = Family("ets_cap_limit", define_cap_limit, check=CAP_LIMIT, inputs=INPUTS,
                market=lambda p: {"ets_cap_limit_mt": {int(y): float(v) for y, v in zip(p.years, limit_by_year(p))
                                                       if np.isfinite(v)}})


@pytest.fixture
def listed():
    """The family in FAMILIES (its one line) and the schema gathered again (as on import), then out."""
    FAMILIES.insert(FAMILIES.index(market_balance.FAMILY) + 1, FAMILY)
    schema.gather()
    yield
    FAMILIES.remove(FAMILY)
    schema.gather()


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_inputs_are_listed_by_run_py_inputs_where_the_rules_go(listed):
    """The key follows the other rules' keys (after market.unsold_to), the column comes last
    before targets.csv's source column; both as the reference writes every input."""
    out = invoke("inputs").output
    assert ("| `market.ets_cap_limit_mt` | float | Mt CO2 | blank | a number from 0 to 1000000 | The ETS cap of every "
            "year is at most this; blank: no limit. |") in out
    keys = [f.name for f in schema.SCENARIO_FIELDS]
    assert keys[keys.index("market.unsold_to") + 1] == "market.ets_cap_limit_mt"
    assert [f.name for f in schema.TARGETS.fields][-2:] == ["ets_cap_limit_mt", "source"]
    targets_section = out.split("#### `targets.csv`")[1].split("#### ")[0]
    assert "| `ets_cap_limit_mt` | float | Mt CO2 | blank | a number from 0 to 1000000 |" in targets_section


def test_the_inputs_are_validated_in_their_files(listed, tmp_path):
    """A negative limit in scenario.toml, and 'ten' in targets.csv's column, are refused with
    the file, row, column and what was expected; the toy without them is valid (defaults blank)."""
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    assert invoke("validate", folder).exit_code == 0
    assert load_dataset(folder).settings["market.ets_cap_limit_mt"] is None
    (folder / "scenario.toml").write_text((TOY / "scenario.toml").read_text().replace(
        "[market]\n", "[market]\nets_cap_limit_mt = -5\n"))
    targets = pd.read_csv(TOY / "targets.csv", dtype=str, keep_default_na=False)
    targets.insert(len(targets.columns) - 1, "ets_cap_limit_mt", ["ten", ""])
    targets.to_csv(folder / "targets.csv", index=False)
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    messages = [str(problem) for problem in caught.value.problems]
    assert "scenario.toml, column market.ets_cap_limit_mt: found '-5', expected a number from 0 to 1000000 (Mt CO2)" \
        in messages
    assert "targets.csv, row 2, column ets_cap_limit_mt: found 'ten', expected a number from 0 to 1000000 (Mt CO2)" \
        in messages
    assert invoke("validate", folder).exit_code == 2


def test_the_inputs_are_set_by_overrides_and_refused_out_of_range(listed):
    """``--set`` keys for both: the setting and a cell (a column the toy's file does not have)."""
    dataset = apply_overrides(load_dataset(TOY), {"market.ets_cap_limit_mt": 107.5,
                                                  "targets.2027.ets_cap_limit_mt": 85})
    assert dataset.settings["market.ets_cap_limit_mt"] == 107.5
    assert dataset.targets.set_index("year")["ets_cap_limit_mt"].to_dict() == {2025: pytest.approx(np.nan, nan_ok=True),
                                                                                2027: 85.0}
    with pytest.raises(InputError, match=r"--set market.ets_cap_limit_mt=-1: expected a number from 0 to 1000000"):
        apply_overrides(load_dataset(TOY), {"market.ets_cap_limit_mt": -1})
    result = invoke("validate", TOY, "--set", "targets.2027.ets_cap_limit_mt=2e6")
    assert result.exit_code == 2
    assert "targets.2027.ets_cap_limit_mt=2e6" in result.output and "from 0 to 1000000" in result.output


def test_the_lp_reads_the_inputs_a_hand_case(listed, tmp_path):
    """The toy (no banking: its years are independent) caps 2027 at 90 Mt; a limit of 85 in
    targets.csv's 2027 row takes 5 Mt more from the ETS: power has abated all it can (50 Mt),
    so steel's B (60 CNY/t) gives it, 300 million CNY, and the rest of the economy no longer
    needs its 5 Mt at 30 (-150): +150 million CNY in 2027 money, /1.1^2 = 0.123966942 bn,
    so the least cost goes from 3.147024793 to 3.270991735 bn CNY. The 2025 and 2026 caps
    (125, 107.5) stay; the rule's check passes, and fails by 1 Mt on a cap 1 Mt over."""
    out = tmp_path / "limited"
    result = invoke("solve", TOY, "--out", out, "--set", "targets.2027.ets_cap_limit_mt=85")
    assert result.exit_code == 0, result.output
    years = pd.read_csv(out / "years.csv")
    assert years["ets_cap_mt"].tolist() == pytest.approx([125.0, 107.5, 85.0])
    results = solve(apply_overrides(load_dataset(TOY), {"targets.2027.ets_cap_limit_mt": 85}), allocation=False)
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793 + 150 / 1.1**2 / 1000, abs=1e-9)
    assert results.summary["checks"]["ets_cap_limit"]["passed"]
    broken = results.years.copy()
    broken.loc[broken["year"] == 2027, "ets_cap_mt"] = 86.0
    report = run_checks(broken, results.sector_years, results.abatement_steps, results.summary["market"])
    assert report["ets_cap_limit"]["worst_violation"] == pytest.approx(1.0)


def test_without_the_module_in_the_list_the_inputs_do_not_exist():
    """The family in the list is what makes them inputs: unlisted, the key is unknown."""
    assert "market.ets_cap_limit_mt" not in schema.SCENARIO
    with pytest.raises(InputError, match="market.ets_cap_limit_mt"):
        apply_overrides(load_dataset(TOY), {"market.ets_cap_limit_mt": 100})


def test_a_table_of_its_own_is_read_validated_set_listed_and_written(listed, tmp_path):
    """ets_cap_limits.csv in a toy copy: 2027 at 87.5 takes 2.5 Mt more from the ETS (steel's
    B at 60: +150, the rest's 2.5 Mt at 30 no longer needed: -75; +75 million CNY in 2027 money,
    /1.1^2 = 0.061983471 bn, so 3.209008264 bn CNY); ``--set ets_cap_limits.2027.limit_mt=85``
    gives the column's hand case (3.270991735); a bad cell is refused at its row and column;
    the reference lists the file, and a workbook round trip keeps the table."""
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "ets_cap_limits.csv").write_text("year,limit_mt,source\n2027,87.5,test\n")
    dataset = load_dataset(folder)
    assert dataset.table("ets_cap_limits")["limit_mt"].tolist() == [87.5]
    results = solve(dataset, allocation=False)
    assert results.years["ets_cap_mt"].tolist() == pytest.approx([125.0, 107.5, 87.5])
    assert results.summary["objective_bn_cny"] == pytest.approx(3.147024793 + 75 / 1.1**2 / 1000, abs=1e-9)
    tighter = apply_overrides(dataset, {"ets_cap_limits.2027.limit_mt": 85})
    assert solve(tighter, allocation=False).summary["objective_bn_cny"] == pytest.approx(3.270991735, abs=1e-9)
    assert dataset.table("ets_cap_limits")["limit_mt"].tolist() == [87.5]  # the override copied the table
    assert "#### `ets_cap_limits.csv` (one row per year)" in invoke("inputs").output
    book = tmp_path / "toy.xlsx"
    assert invoke("export-xlsx", folder, book).exit_code == 0
    assert load_dataset(book).table("ets_cap_limits")["limit_mt"].tolist() == [87.5]
    (folder / "ets_cap_limits.csv").write_text("year,limit_mt,source\n2027,lots,test\n")
    result = invoke("validate", folder)
    assert result.exit_code == 2
    assert "ets_cap_limits.csv, row 2, column limit_mt: found 'lots', expected a number from 0 to 1000000" \
        in result.output
