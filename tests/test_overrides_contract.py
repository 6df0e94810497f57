"""--set (model/data/overrides.py): what each override changes and, for each way one can be
wrong, the whole message naming the --set and the fix, on the toy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import load_dataset
from model.data.overrides import Override, apply_overrides, override_field, parse_assignment, parse_override
from model.errors import InputError
from tests.conftest import TOY, refusal

TABLES = ("sectors, mac, targets, allocation, benchmarks, facilities, facility_mac, bau, cap_rules, "
          "deployment_limits, offsets, reserve")


@pytest.fixture(scope="module")
def toy():
    return load_dataset(TOY)


def _refused(dataset, overrides) -> str:
    return refusal(apply_overrides, dataset, overrides)


def test_every_wrong_override_is_listed_with_its_fix(toy):
    assert _refused(toy, [
        ("discount_rate", "abc"), ("market.banking*", 2), ("discount_rate+", "x"),
        ("sectors.steel.covered_from+", 0.5), ("sectorz.steel.base_emissions_mt", 1), ("sectors.steel", 1),
        ("sectors.steel.base_emisions_mt", 1), ("sectors.stel.base_emissions_mt", 1), ("sectors.steel.sector", "x"),
        ("targets.2026.national_cap_mt*", 2), ("disount_rate", 1), ("sectors.rest.covered_from+", 1),
        ("sectors.steel.leakage_exposed", "maybe"),
    ]).splitlines() == [
        "13 problems in the inputs:",
        "  --set discount_rate=abc: expected a number from 0 to 0.5 (fraction per year)",
        "  --set market.banking*=2: expected '=' for market.banking: *= needs a number",
        "  --set discount_rate+=x: expected a number after +=",
        "  --set sectors.steel.covered_from+=0.5: expected a whole number after +=, since covered_from is a whole "
        "number from 1990 to 2100",
        f"  --set sectorz.steel.base_emissions_mt=1: expected a scenario key or TABLE.ROW.COLUMN with TABLE one of "
        f"{TABLES}",
        "  --set sectors.steel=1: expected sectors.<sector>.<column> for sectors.csv",
        "  --set sectors.steel.base_emisions_mt=1: expected a column of sectors.csv that may be changed (did you "
        "mean 'base_emissions_mt'?)",
        "  --set sectors.stel.base_emissions_mt=1: expected a sector of sectors.csv (did you mean 'steel'?)",
        "  --set sectors.steel.sector=x: expected a column of sectors.csv that may be changed",
        "  --set targets.2026.national_cap_mt*=2: expected a year of targets.csv (did you mean '2027' or '2025'?)",
        f"  --set disount_rate=1: expected a scenario key or TABLE.ROW.COLUMN with TABLE one of {TABLES} "
        "(did you mean 'discount_rate'?)",
        "  --set sectors.rest.covered_from+=1: expected a value in covered_from to change (it is blank)",
        "  --set sectors.steel.leakage_exposed=maybe: expected true or false",
    ]


def test_a_problem_the_override_causes_is_located_at_it_and_at_the_cell(toy):
    """A value that is fine alone but breaks a rule of its table: the problem names the --set
    that caused it, then the file's row and column where it shows (row 3: steel, after the
    header and power). The cell itself; a cell of the row it changed; a column it changed."""
    assert _refused(toy, [("sectors.steel.base_emissions_mt", -5)]) == (
        "--set sectors.steel.base_emissions_mt=-5: expected a number from 0 to 100000 (Mt CO2)")
    assert _refused(toy, [("sectors.steel.trading_from", 2024)]) == (
        "--set sectors.steel.trading_from=2024, in sectors.csv, row 3, column trading_from: found '2024', "
        "expected a year not before covered_from (2025)")
    assert _refused(toy, [("discount_rate", 0.2), ("sectors.steel.covered_from", 2027)]) == (
        "--set sectors.steel.covered_from=2027, in sectors.csv, row 3, column trading_from: found '2026', "
        "expected a year not before covered_from (2027)")
    assert _refused(toy, [("sectors.steel.free_share_min", 0.9), ("sectors.steel.free_share_max", 0.8)]) == (
        "--set sectors.steel.free_share_min=0.9, in sectors.csv, row 3, column free_share_min: found '0.9', "
        "expected at most free_share_max (0.8)")
    # the same cell set twice: the last --set is what holds, and is named
    assert _refused(toy, [("sectors.steel.trading_from", 2030), ("sectors.steel.trading_from", 2024)]) == (
        "--set sectors.steel.trading_from=2024, in sectors.csv, row 3, column trading_from: found '2024', "
        "expected a year not before covered_from (2025)")


def test_overrides_set_multiply_and_add_where_they_say(toy):
    """``*`` on every sector doubles each base (100, 50, 50 Mt), ``+`` adds to a setting and to
    a year (steel covered from 2026, rest still blank), ``=`` sets one cell; the other cells,
    the dtypes and the dataset given are unchanged."""
    changed = apply_overrides(toy, [("sectors.*.base_emissions_mt*", 2), ("discount_rate+", 0.01),
                                    ("sectors.steel.covered_from+", np.int64(1)), ("mac.power.B.cost_cny_per_t", 45),
                                    ("mac.*.A.cost_cny_per_t+", 1)])
    sectors = changed.table("sectors")
    assert sectors["base_emissions_mt"].tolist() == [200.0, 100.0, 100.0]
    assert sectors["covered_from"].tolist()[:2] == [2025, 2026] and pd.isna(sectors["covered_from"].iloc[2])
    assert str(sectors["covered_from"].dtype) == "Int64" and sectors["base_emissions_mt"].dtype == np.float64
    assert changed.settings["discount_rate"] == pytest.approx(0.11)
    assert changed.table("mac")["cost_cny_per_t"].tolist() == [11.0, 45.0, 21.0, 60.0, 31.0, 80.0]
    assert toy.table("sectors")["base_emissions_mt"].tolist() == [100.0, 50.0, 50.0]
    assert toy.settings["discount_rate"] == 0.1 and toy.table("mac")["cost_cny_per_t"].tolist()[1] == 40.0
    assert changed.table("targets") is toy.table("targets")  # an untouched table is shared


def test_keys_as_typed():
    assert parse_assignment(" discount_rate = 0.03 ") == ("discount_rate", "0.03")
    assert parse_assignment("a=b=c") == ("a", "b=c")
    with pytest.raises(InputError) as refused:
        parse_assignment("discount_rate")
    assert str(refused.value) == "--set discount_rate: expected KEY=VALUE, e.g. discount_rate=0.03"
    assert parse_override(" sectors.steel.base_emissions_mt* ", np.float64(2.0)) == Override(
        "sectors.steel.base_emissions_mt", "*", 2.0)
    assert type(parse_override("x", np.int64(3)).value) is int
    assert parse_override("targets.2027.national_cap_mt+", 1).label == "targets.2027.national_cap_mt+"
    assert parse_override("discount_rate", 1).label == "discount_rate"
    assert parse_override("sectors.steel.*", 1) == Override("sectors.steel.*", "=", 1)  # a wildcard, no operator


def test_a_study_key_is_checked_alone_and_named_where_it_was_written(toy):
    assert override_field(toy, "sectors.steel.base_emissions_mt*").name == "base_emissions_mt"
    assert override_field(toy, "discount_rate+").name == "discount_rate"
    with pytest.raises(InputError) as refused:
        override_field(toy, "sectors.steel.nope", "study.toml, [sweep]")
    assert str(refused.value) == "study.toml, [sweep]: expected a column of sectors.csv that may be changed"
    with pytest.raises(InputError) as refused:
        override_field(toy, "sectors.steel.nope")
    assert str(refused.value) == "--set sectors.steel.nope: expected a column of sectors.csv that may be changed"
