"""Issue 16.2: compare results side by side (tables of differences, charts, page, workbook)."""

from __future__ import annotations

import base64
import re

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from model import EtscapError, compare, load_dataset, solve
from model.cli import cli
from tests.conftest import TOY

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def banking():
    return solve(load_dataset(TOY, scenarios=["banking"]))


def test_differences_against_the_first_run(toy_results, banking):
    comparison = compare([toy_results, banking])
    assert comparison.labels == ["toy", "toy+banking"]
    price = comparison.years.query("quantity == 'allowance_price_cny_per_t' and run == 'toy+banking'")
    assert price["year"].tolist() == [2025, 2026, 2027]
    assert price["value"].tolist() == pytest.approx([40, 40, 44])
    assert price["reference"].tolist() == pytest.approx([40, 40, 60])
    assert price["difference"].tolist() == pytest.approx([0, 0, -16])
    assert price["relative_difference"].tolist() == pytest.approx([0, 0, -16 / 60])
    first = comparison.years[comparison.years["run"] == "toy"]
    assert (first["difference"].fillna(0) == 0).all()
    steel = comparison.sector_years.query("run == 'toy+banking' and sector == 'steel' and quantity == 'emissions_mt'")
    expected = (banking.sector_years.query("sector == 'steel'")["emissions_mt"].to_numpy()
                - toy_results.sector_years.query("sector == 'steel'")["emissions_mt"].to_numpy())
    assert steel["difference"].to_numpy() == pytest.approx(expected)
    assert "phase" not in set(comparison.sector_years["quantity"])
    runs = comparison.runs.set_index("run")
    assert runs.loc["toy+banking", "difference_bn_cny"] == pytest.approx(
        banking.summary["objective_bn_cny"] - toy_results.summary["objective_bn_cny"])
    assert runs.loc["toy+banking", "named_scenarios"] == "banking"


def test_relative_difference_is_blank_where_the_reference_is_zero(toy_results, banking):
    bank = compare([toy_results, banking]).years.query("quantity == 'bank_mt' and run == 'toy+banking'")
    assert bank["reference"].tolist() == [0, 0, 0]
    assert bank["relative_difference"].isna().all()


def test_labels_are_distinct_and_checked(toy_results):
    assert compare([toy_results, toy_results]).labels == ["toy (1)", "toy (2)"]
    assert compare([toy_results, toy_results], labels=["a", "b"]).labels == ["a", "b"]
    with pytest.raises(EtscapError, match="compare needs at least two results to compare, got 1"):
        compare([toy_results])


def test_compare_command_writes_page_workbook_and_charts(tmp_path):
    runner = CliRunner()
    for args in (["--out", tmp_path / "toy"], ["--scenario", "banking", "--out", tmp_path / "toy-banking"]):
        assert runner.invoke(cli, ["-q", "solve", str(TOY), *map(str, args)]).exit_code == 0
    result = runner.invoke(cli, ["compare", str(tmp_path / "toy"), str(tmp_path / "toy-banking"),
                                 "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "toy: optimal, 3.1 bn CNY PV"
    costs = [pd.read_json(tmp_path / name / "summary.json", typ="series")["objective_bn_cny"]
             for name in ("toy", "toy-banking")]
    assert lines[1] == f"toy-banking: optimal, 3.1 bn CNY PV ({(costs[1] - costs[0]) * 1e3:+,.1f} m CNY vs toy)"
    assert (costs[1] - costs[0]) * 1e3 == pytest.approx(-66.1, abs=0.05)  # banking lets 2027 abate less
    folder = tmp_path / "cmp"
    plots = sorted(p.name for p in (folder / "plots").iterdir())
    assert plots == ["cost_by_sector.png", "ets_cap_and_emissions.png", "free_allocation.png",
                     "price_difference.png", "prices.png"]
    assert all((folder / "plots" / p).read_bytes().startswith(PNG) for p in plots)
    page = (folder / "compare.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5 and all(base64.b64decode(i).startswith(PNG) for i in images)
    assert str(tmp_path) not in page and str(TOY) not in page  # no local paths embedded
    book = openpyxl.load_workbook(folder / "compare.xlsx", read_only=True)
    assert book.sheetnames == ["runs", "years_differences", "sector_years_differences",
                               "years 1 toy", "years 2 toy-banking"]
    table = pd.read_csv(folder / "years_differences.csv")
    row = table.query("run == 'toy-banking' and year == 2027 and quantity == 'allowance_price_cny_per_t'")
    assert row[["value", "reference", "difference"]].iloc[0].tolist() == pytest.approx([44, 60, -16])


def test_compare_command_errors(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["-q", "solve", str(TOY), "--out", str(tmp_path / "toy")]).exit_code == 0
    one = runner.invoke(cli, ["compare", str(tmp_path / "toy"), "--out", str(tmp_path / "c")])
    assert one.exit_code == 1
    assert one.output == ("error: compare needs at least two results to compare, got 1: give two or more "
                          "results folders (python run.py solve writes one)\n")
    missing = runner.invoke(cli, ["compare", str(tmp_path / "toy"), str(tmp_path / "nope"), "--out", str(tmp_path / "c")])
    assert missing.exit_code == 1
    assert missing.output.startswith(f"error: {tmp_path / 'nope'} is not a results folder: years.csv")
