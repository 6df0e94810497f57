"""Named scenarios (scenarios/NAME.toml): applied by name, composed in order, recorded, checked."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from model import InputError, load_dataset, solve
from model.cli import cli
from model.report.plots import scenario_settings
from model.studies.study import read_study_file, run_scenarios, run_study_file
from tests.conftest import TOY


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def toy_copy(tmp_path):
    """The toy dataset in a folder of its own, to add scenario files to."""
    return shutil.copytree(TOY, tmp_path / "toy")


def _scenario(folder, name, text):
    (folder / "scenarios").mkdir(exist_ok=True)
    (folder / "scenarios" / f"{name}.toml").write_text(text)


def test_named_scenario_applies_its_overrides_and_is_recorded():
    """The toy's banking scenario: the 2027 price falls from 60 to 44 (40 x 1.1), as with --set."""
    results = solve(load_dataset(TOY, scenarios=["banking"]))
    prices = results.years["allowance_price_cny_per_t"].tolist()
    assert prices == pytest.approx([40, 40, 44])
    assert results.summary["settings"]["market.banking"] is True
    assert results.summary["scenarios"] == [{
        "name": "banking", "description": "Allowances may be banked for later years",
        "file": "scenarios/banking.toml", "overrides": {"market.banking": True}}]
    shown = scenario_settings(results)
    assert shown["scenario banking"] == "Allowances may be banked for later years (market.banking = True)"


def test_scenarios_compose_in_order_and_set_applies_on_top(toy_copy, tmp_path):
    _scenario(toy_copy, "low", 'description = "low"\n[set]\ndiscount_rate = 0.02\n"mac.steel.*.cost_cny_per_t*" = 2\n')
    _scenario(toy_copy, "high", 'description = "high"\n[set]\ndiscount_rate = 0.08\n')
    both = load_dataset(toy_copy, scenarios=["low", "high"])
    assert both.setting("discount_rate") == 0.08  # the later scenario wins on the same key
    assert both.mac.loc[both.mac["sector"] == "steel", "cost_cny_per_t"].tolist() == [40, 120]
    assert [s["name"] for s in both.scenarios] == ["low", "high"]
    assert load_dataset(toy_copy, scenarios=["high", "low"]).setting("discount_rate") == 0.02
    result = _run("solve", toy_copy, "-s", "low", "-s", "high", "--set", "discount_rate=0.05",
                  "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "toy + low + high: optimal" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["settings"]["discount_rate"] == 0.05
    assert [s["name"] for s in summary["scenarios"]] == ["low", "high"]


def test_default_results_folder_names_the_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run("-q", "solve", TOY, "--scenario", "banking")
    assert result.exit_code == 0, result.output
    years = pd.read_csv(tmp_path / "results" / "toy-banking" / "years.csv")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 44])


def test_unknown_scenario_lists_the_known_ones():
    result = _run("solve", TOY, "--scenario", "bankng")
    assert result.exit_code == 2
    assert result.output == "error: --scenario bankng: expected one of banking, dear-steel (did you mean 'banking'?)\n"


@pytest.mark.parametrize("text, message", [
    ('description = "x"\n[set]\n"sectors.stel.trading_from" = 2026\n',
     "scenarios/bad.toml, key set.\"sectors.stel.trading_from\": expected a sector of sectors.csv "
     "(did you mean 'steel'?)"),
    ('description = "x"\n[set]\ndiscount_rate = 0.9\n',
     "scenarios/bad.toml, key set.\"discount_rate\": expected a number from 0 to 0.5 (fraction per year)"),
    ('description = "x"\ndiscount_rate = 0.03\n',
     "scenarios/bad.toml, key discount_rate: expected description or [set]; put overrides under [set], "
     "e.g. [set] \"discount_rate\" = ..."),
    ('description = "x"\n[set]\n"sectors.steel.trading_from" = 2020\n',
     "scenarios/bad.toml, key set.\"sectors.steel.trading_from\", in sectors.csv, row 3, column trading_from: "
     "found '2020', expected a year not before covered_from (2025)"),
    ('description = "x"\n', 'scenarios/bad.toml: expected a [set] table with at least one override, '
                            'e.g. "discount_rate" = 0.03'),
    ('description = "x\n', "scenarios/bad.toml: expected valid TOML"),
    ('description = "x"\n[set]\n"discount_rate" = [0.03, 0.05]\n',
     "scenarios/bad.toml, key set.\"discount_rate\": found '[0.03, 0.05]', expected one value (a number, "
     "true/false or text), as after --set KEY="),
])
def test_scenario_file_problems_name_the_file_and_key(toy_copy, text, message):
    _scenario(toy_copy, "bad", text)
    with pytest.raises(InputError) as caught:
        load_dataset(toy_copy, scenarios=["bad"])
    assert str(caught.value).startswith(message)
    result = _run("validate", toy_copy)  # validate checks every named scenario
    assert result.exit_code == 2
    assert result.output.startswith("error: " + message)


def test_validate_lists_the_scenarios_it_checked():
    result = _run("validate", TOY)
    assert result.exit_code == 0, result.output
    assert result.output == ("inputs/toy: valid (3 sectors, 6 cost steps, years 2025-2027); "
                             "scenarios banking, dear-steel valid\n").replace("inputs/toy", str(TOY))


def test_study_file_scenario_key_and_cli_option(tmp_path):
    study_file = tmp_path / "study.toml"
    study_file.write_text(f'dataset = "{TOY}"\nscenario = "banking"\n[sweep]\n'
                          '"targets.2027.national_cap_mt" = [135, 140]\n')
    spec = read_study_file(study_file, "sweep")
    assert spec.scenarios == ("banking",)
    study = run_study_file(spec, "sweep", client=None)
    assert study.info["named_scenarios"] == ["banking"]
    assert study.info["named_scenario_overrides"] == {"banking": {"market.banking": True}}
    first = study.years[study.years["scenario"] == 0]["allowance_price_cny_per_t"].tolist()
    assert first == pytest.approx([40, 40, 44])  # the banking scenario's prices at the base targets
    plain = run_study_file(spec, "sweep", client=None, scenarios=[])  # --scenario replaces the key
    assert plain.info["named_scenarios"] == []
    assert plain.years[plain.years["scenario"] == 0]["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 60])
    result = _run("sweep", study_file, "--serial", "-s", "dear-steel", "--out", tmp_path / "s", "--report")
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "s" / "study.json").read_text())
    assert info["named_scenarios"] == ["dear-steel"]
    assert info["named_scenario_overrides"] == {"dear-steel": {"mac.steel.*.cost_cny_per_t*": 1.5}}
    assert "<td>named_scenarios</td>\n      <td>dear-steel</td>" in (tmp_path / "s" / "report.html").read_text()


def test_study_file_scenario_must_be_names(tmp_path):
    study_file = tmp_path / "study.toml"
    study_file.write_text(f'dataset = "{TOY}"\nscenario = 3\n[sweep]\n"discount_rate" = [0.1]\n')
    with pytest.raises(InputError) as caught:
        read_study_file(study_file, "sweep")
    assert str(caught.value) == (f"{study_file}, key scenario: found '3', expected a scenario name or a list "
                                 'of them, e.g. "aluminium-2030" or ["a", "b"]')


def test_run_scenarios_keeps_scenario_names():
    """Issue 11.9: the index of the table of scenarios names them; the study keeps the names."""
    table = pd.DataFrame({"market.banking": [False, True]}, index=["no-banking", "banking"])
    study = run_scenarios(TOY, table)
    assert study.scenarios["scenario_name"].tolist() == ["no-banking", "banking"]
    prices = study.with_inputs("years").query("year == 2027").set_index("scenario_name")
    assert prices["allowance_price_cny_per_t"].to_dict() == pytest.approx({"no-banking": 60, "banking": 44})
    assert "scenario_name" not in run_scenarios(TOY, table.reset_index(drop=True)).scenarios.columns
