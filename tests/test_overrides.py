"""Overrides: one syntax for --set, sweeps and Monte Carlo draws."""

from __future__ import annotations

import pytest

from model import InputError, apply_overrides, load_dataset, solve
from model.data.overrides import known_keys


@pytest.fixture(scope="module")
def toy():
    from tests.conftest import TOY

    return load_dataset(TOY)


def test_scenario_key(toy):
    changed = apply_overrides(toy, {"discount_rate": "0.03", "market.banking": "true"})
    assert changed.setting("discount_rate") == 0.03
    assert changed.setting("market.banking") is True
    assert toy.setting("discount_rate") == 0.1  # the original is untouched


def test_table_cell(toy):
    changed = apply_overrides(toy, {"sectors.steel.trading_from": "2027", "targets.2027.national_cap_mt": 140})
    assert changed.sectors.set_index("sector").loc["steel", "trading_from"] == 2027
    assert changed.targets.set_index("year").loc[2027, "national_cap_mt"] == 140.0


def test_wildcard_multiply(toy):
    changed = apply_overrides(toy, {"mac.power.*.cost_cny_per_t*": 1.5})
    costs = changed.mac.set_index(["sector", "step"])["cost_cny_per_t"]
    assert costs[("power", "A")] == pytest.approx(15.0)
    assert costs[("power", "B")] == pytest.approx(60.0)
    assert costs[("steel", "A")] == pytest.approx(20.0)


def test_add_to_value(toy):
    changed = apply_overrides(toy, [("targets.*.national_cap_mt+", "-5")])
    assert changed.targets["national_cap_mt"].tolist() == [165.0, 130.0]


def test_a_setting_is_multiplied_and_added_to(toy):
    """``discount_rate*`` 1.5 turns the toy's 0.1 into 0.15 and ``discount_rate+`` 0.02 into
    0.12: the setting's current value is the base of the change (overrides._set_setting)."""
    assert apply_overrides(toy, {"discount_rate*": 1.5}).setting("discount_rate") == pytest.approx(0.15)
    assert apply_overrides(toy, {"discount_rate+": "0.02"}).setting("discount_rate") == pytest.approx(0.12)


def test_override_changes_the_solution(toy):
    """Power's costs x1.5 lift the 2025 price set by power's step B from 40 to 60."""
    results = solve(toy, overrides={"mac.power.*.cost_cny_per_t*": 1.5})
    assert results.years["allowance_price_cny_per_t"].iloc[0] == pytest.approx(60.0)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("discount_rat", "0.1", "did you mean 'discount_rate'?"),
        ("discount_rate", "2", "expected a number from 0 to 0.5"),
        ("market.banking", "maybe", "expected true or false"),
        ("sectors.stel.covered_from", "2020", "expected a sector of sectors.csv (did you mean 'steel'?)"),
        ("sectors.steel.coverd_from", "2020", "did you mean 'covered_from'"),
        ("mac.power.cost_cny_per_t", "1", "expected mac.<sector>.<step>.<column> for mac.csv"),
        ("sectors.steel.trading_from", "2020", "expected a year not before covered_from (2025)"),
    ],
)
def test_bad_override(toy, key, value, message):
    with pytest.raises(InputError) as caught:
        apply_overrides(toy, {key: value})
    assert message in str(caught.value)


def test_known_keys_name_every_cell(toy):
    keys = known_keys(toy)
    assert "discount_rate" in keys
    assert "mac.power.B.cost_cny_per_t" in keys
    assert "targets.2027.national_cap_mt" in keys


def test_an_overridden_table_is_frozen_and_shares_its_unchanged_columns(toy):
    """An override copies no more than the column it sets: the new table's other columns are
    the base's read-only arrays, its new column is read-only too (setting a cell raises), and
    the base table keeps its numbers (170 and 135 Mt in 2025 and 2027)."""
    import numpy as np

    base = toy.targets
    changed = apply_overrides(toy, {"targets.2025.national_cap_mt": 160}).targets
    assert changed["national_cap_mt"].tolist() == [160.0, 135.0]
    assert base["national_cap_mt"].tolist() == [170.0, 135.0]
    assert np.shares_memory(changed["ets_cap_mt"].to_numpy(), base["ets_cap_mt"].to_numpy())
    assert not np.shares_memory(changed["national_cap_mt"].to_numpy(), base["national_cap_mt"].to_numpy())
    with pytest.raises(ValueError):
        changed["national_cap_mt"].to_numpy()[0] = 1.0
    with pytest.raises(ValueError):
        changed["ets_cap_mt"].to_numpy()[0] = 1.0


def _toy_with_steel_bau_path(tmp_path):
    """The toy with bau.csv giving steel a path of its own: 50 Mt in 2025 falling to 46 in 2027."""
    import shutil

    from tests.conftest import TOY

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "bau.csv").write_text("sector,year,bau_mt,output,source\n"
                                    "steel,2025,50,,test\nsteel,2027,46,,test\n")
    return load_dataset(folder)


def test_an_override_of_what_a_bau_path_replaces_is_refused(tmp_path):
    """bau.csv gives steel's BAU, replacing sectors.csv's growth path: an override of steel's
    base_emissions_mt or intensity_change would change no emission (a Monte Carlo of it drew
    the same scenario 1,000 times), so it is refused naming the key that moves the BAU;
    power, without a path, still moves with its base_emissions_mt (100 x 1.05 = 105 Mt), and
    so does a wildcard that reaches power."""
    dataset = _toy_with_steel_bau_path(tmp_path)
    for key in ("sectors.steel.base_emissions_mt*", "sectors.steel.intensity_change"):
        with pytest.raises(InputError) as refused:
            apply_overrides(dataset, {key: 1.05 if key.endswith("*") else 0.01})
        column = key.split(".")[2].rstrip("*")
        assert str(refused.value) == (
            f"--set {key}={1.05 if key.endswith('*') else 0.01}: expected an input the model reads: bau.csv gives "
            f"the BAU path of steel, which replaces sectors.csv {column} (vary bau.steel.*.bau_mt* instead)")
    bau = solve(apply_overrides(dataset, {"sectors.*.base_emissions_mt*": 1.05})).sector_years
    by_sector = bau[bau["year"] == 2025].set_index("sector")["bau_mt"]
    assert by_sector[["power", "steel"]].tolist() == pytest.approx([105.0, 50.0])


def test_a_monte_carlo_of_what_a_bau_path_replaces_is_refused_before_any_draw(tmp_path):
    """The study's keys are checked up front, with the bau.csv key to vary instead."""
    from model.studies.study import monte_carlo_inputs

    dataset = _toy_with_steel_bau_path(tmp_path)
    with pytest.raises(InputError) as refused:
        monte_carlo_inputs(dataset, 10, {"sectors.steel.base_emissions_mt*":
                                         {"kind": "uniform", "low": 0.95, "high": 1.05}}, seed=1)
    assert str(refused.value) == (
        'monte_carlo distributions, key "sectors.steel.base_emissions_mt*": expected an input the model reads: '
        "bau.csv gives the BAU path of steel, which replaces sectors.csv base_emissions_mt "
        "(vary bau.steel.*.bau_mt* instead)")
    drawn = monte_carlo_inputs(dataset, 10, {"bau.steel.*.bau_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05}},
                               seed=1)
    assert drawn.shape == (10, 1)


def test_a_draw_of_bau_values_does_not_recheck_the_tables_names_but_a_new_bau_table_is(tmp_path, monkeypatch):
    """The optional tables' check (sectors known, keys unique, names well formed) reads their
    sector, key and name columns: an override of bau.csv's bau_mt does not run it again (at
    facility resolution it re-read the whole registry), a bau.csv given afresh does, and its
    unknown sector is refused."""
    import pandas as pd

    from model.data import inputs

    dataset = _toy_with_steel_bau_path(tmp_path)
    runs = []
    original = inputs._check_optional_tables
    monkeypatch.setattr(inputs, "_check_optional_tables", lambda d: runs.append(1) or original(d))
    drawn = apply_overrides(dataset, {"bau.steel.*.bau_mt*": 1.05})
    assert runs == []
    assert drawn.bau["bau_mt"].tolist() == pytest.approx([52.5, 48.3])
    renamed = dataset.bau.assign(sector=pd.Series(["steel", "stel"], index=dataset.bau.index, dtype=object))
    with pytest.raises(InputError) as refused:
        dataset.replace(bau=renamed)
    assert runs == [1]
    assert str(refused.value) == ("bau.csv, row 3, column sector: found 'stel', expected a sector of sectors.csv "
                                  "(did you mean 'steel'?)")
