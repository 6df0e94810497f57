"""Named scenario files (model/data/scenarios.py): every refusal's whole message, as the CLI
prints it, and what a good file gives."""

from __future__ import annotations

import pytest

from model.data.scenarios import NamedScenario, read_scenario
from tests.conftest import refusal


def _message(folder, name) -> str:
    return refusal(read_scenario, folder, name)


def test_a_scenario_file_s_problems_are_each_named_with_the_fix(tmp_path):
    (tmp_path / "scenarios").mkdir()
    files = {
        "bad": 'descriptoin = "x"\ndescription = 3\nbanking = true\n[set]\n"a.b" = [1, 2]\nc = {d = 1}\n',
        "empty": 'description = "nothing"\n',
        "notable": "set = 3\n",
        "broken": "set = \n",
    }
    for name, text in files.items():
        (tmp_path / "scenarios" / f"{name}.toml").write_text(text)
    (tmp_path / "scenarios" / "latin1.toml").write_bytes(b'description = "\xe9"\n')
    assert _message(tmp_path, "bad") == (
        "4 problems in the inputs:\n"
        "  scenarios/bad.toml, key descriptoin: expected description or [set] (did you mean 'description'?); "
        'put overrides under [set], e.g. [set] "descriptoin" = ...\n'
        '  scenarios/bad.toml, key banking: expected description or [set]; put overrides under [set], '
        'e.g. [set] "banking" = ...\n'
        "  scenarios/bad.toml, key description: found '3', expected text in quotes\n"
        "  scenarios/bad.toml, key set.\"a.b\": found '[1, 2]', expected one value (a number, true/false or "
        "text), as after --set KEY=")
    assert _message(tmp_path, "empty") == (
        'scenarios/empty.toml: expected a [set] table with at least one override, e.g. "discount_rate" = 0.03')
    assert _message(tmp_path, "notable") == (
        "scenarios/notable.toml, key set: found '3', expected a table [set] of KEY = VALUE, "
        'e.g. "sectors.steel.trading_from" = 2028')
    assert _message(tmp_path, "broken") == (
        "scenarios/broken.toml: expected valid TOML (Invalid value (at line 1, column 7))")
    assert _message(tmp_path, "latin1") == "scenarios/latin1.toml: expected a UTF-8 text file"
    assert _message(tmp_path, "a b") == (
        "--scenario a b: expected a scenario name of letters, digits, '_', '-' and '.' (the stem of a file "
        f"in {tmp_path / 'scenarios'})")
    assert _message(tmp_path, "brokn") == (
        "--scenario brokn: expected one of bad, broken, empty, latin1, notable (did you mean 'broken'?)")


def test_a_dataset_without_named_scenarios_says_where_the_file_goes(tmp_path):
    assert _message(tmp_path, "banking") == (
        f"--scenario banking: expected a file {tmp_path / 'scenarios' / 'banking.toml'} (the dataset has no "
        "named scenarios yet; see README: Named scenarios)")


def test_a_scenario_links_outside_the_dataset_or_too_large_is_refused(tmp_path):
    (tmp_path / "scenarios").mkdir()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.toml"
    outside.write_text('[set]\n"discount_rate" = 0.03\n')
    (tmp_path / "scenarios" / "linked.toml").symlink_to(outside)
    assert _message(tmp_path, "linked") == (
        f"scenarios/linked.toml: found 'a link to {outside.resolve()}', expected a file inside the dataset "
        "folder (copy the file instead of linking it)")
    (tmp_path / "scenarios" / "big.toml").write_text("#" * (1024 * 1024 + 1))
    assert _message(tmp_path, "big") == "scenarios/big.toml: found '1048577 bytes', expected at most 1048576 bytes"
    overrides = '[set]\n"discount_rate" = 0.03\n'
    (tmp_path / "scenarios" / "big.toml").write_text(overrides + "#" * (1024 * 1024 - len(overrides)))  # 1 MiB: read
    assert read_scenario(tmp_path, "big").overrides == (("discount_rate", 0.03),)


def test_a_scenario_file_gives_its_overrides_in_order_dotted_keys_joined(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "mix.toml").write_text(
        'description = "banking at 3%"\n[set]\nmarket.banking = true\n"discount_rate" = 0.03\n'
        '"sectors.steel.trading_from" = 2028\n')
    assert read_scenario(tmp_path, "mix") == NamedScenario(
        "mix", "banking at 3%", (("market.banking", True), ("discount_rate", 0.03),
                                 ("sectors.steel.trading_from", 2028)), "scenarios/mix.toml")
    assert read_scenario(tmp_path, "mix").as_dict() == {
        "name": "mix", "description": "banking at 3%", "file": "scenarios/mix.toml",
        "overrides": {"market.banking": True, "discount_rate": 0.03, "sectors.steel.trading_from": 2028}}


@pytest.fixture(scope="module")
def toy_with_scenarios(tmp_path_factory):
    import shutil

    from tests.conftest import TOY

    folder = tmp_path_factory.mktemp("toy") / "toy"
    shutil.copytree(TOY, folder)
    files = {"bad": '[set]\n"sectors.steel.nope" = 1\n"disount_rate" = 0.2\n',
             "steep": '[set]\n"discount_rate" = 0.9\n',
             "early": '[set]\n"sectors.steel.trading_from" = 2024\n',
             "a": 'description = "A"\n[set]\n"discount_rate" = 0.05\n',
             "b": '[set]\n"discount_rate" = 0.07\n"market.banking" = true\n'}
    for name, text in files.items():
        (folder / "scenarios" / f"{name}.toml").write_text(text)
    from model import load_dataset

    return load_dataset(folder)


def _refused_scenarios(dataset, names) -> str:
    from model.data.scenarios import apply_scenarios

    return refusal(apply_scenarios, dataset, names)


def test_a_scenario_s_override_problems_name_its_file_and_key(toy_with_scenarios):
    tables = ("sectors, mac, targets, allocation, benchmarks, facilities, facility_mac, bau, cap_rules, "
              "deployment_limits, offsets, reserve")
    assert _refused_scenarios(toy_with_scenarios, ["bad"]).splitlines() == [
        "2 problems in the inputs:",
        '  scenarios/bad.toml, key set."sectors.steel.nope": expected a column of sectors.csv that may be changed',
        f'  scenarios/bad.toml, key set."disount_rate": expected a scenario key or TABLE.ROW.COLUMN with TABLE one '
        f"of {tables} (did you mean 'discount_rate'?)"]
    assert _refused_scenarios(toy_with_scenarios, ["a", "steep"]) == (
        'scenarios/steep.toml, key set."discount_rate": expected a number from 0 to 0.5 (fraction per year)')
    assert _refused_scenarios(toy_with_scenarios, "early") == (
        'scenarios/early.toml, key set."sectors.steel.trading_from", in sectors.csv, row 3, column trading_from: '
        "found '2024', expected a year not before covered_from (2025)")


def test_scenarios_apply_in_order_and_are_recorded(toy_with_scenarios):
    from model.data.scenarios import apply_scenarios

    assert apply_scenarios(toy_with_scenarios, []) is toy_with_scenarios
    both = apply_scenarios(toy_with_scenarios, ["a", "b"])
    assert both.settings["discount_rate"] == 0.07 and both.settings["market.banking"] is True  # b's, applied last
    assert both.scenarios == (
        {"name": "a", "description": "A", "file": "scenarios/a.toml", "overrides": {"discount_rate": 0.05}},
        {"name": "b", "description": "", "file": "scenarios/b.toml",
         "overrides": {"discount_rate": 0.07, "market.banking": True}})
    again = apply_scenarios(both, "a")  # on top of those: a's rate again, all three recorded
    assert again.settings["discount_rate"] == 0.05 and [s["name"] for s in again.scenarios] == ["a", "b", "a"]
    assert toy_with_scenarios.settings["discount_rate"] == 0.1 and toy_with_scenarios.scenarios == ()


def test_a_scenario_file_above_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    """A file larger than MAX_SCENARIO_FILE_BYTES is refused by its size (one byte over), and
    read at the limit."""
    import model.data.scenarios

    (tmp_path / "scenarios").mkdir()
    text = '[set]\ndiscount_rate = 0.03\n'
    (tmp_path / "scenarios" / "low.toml").write_text(text)
    monkeypatch.setattr(model.data.scenarios, "MAX_SCENARIO_FILE_BYTES", len(text) - 1)
    assert _message(tmp_path, "low") == f"scenarios/low.toml: found '{len(text)} bytes', expected at most " \
                                        f"{len(text) - 1} bytes"
    monkeypatch.setattr(model.data.scenarios, "MAX_SCENARIO_FILE_BYTES", len(text))
    assert read_scenario(tmp_path, "low").overrides == (("discount_rate", 0.03),)


def test_a_workbook_dataset_takes_the_scenarios_beside_it(tmp_path):
    """A dataset read from toy.xlsx applies scenarios/NAME.toml of the workbook's folder."""
    from model import load_dataset
    from model.data.scenarios import apply_scenarios
    from model.data.workbook import export_workbook
    from tests.conftest import TOY

    book = export_workbook(TOY, tmp_path / "toy.xlsx")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "low.toml").write_text('[set]\ndiscount_rate = 0.03\n')
    applied = apply_scenarios(load_dataset(book), "low")
    assert applied.settings["discount_rate"] == 0.03
    assert [s["name"] for s in applied.scenarios] == ["low"]
