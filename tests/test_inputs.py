"""Reading, validating and deriving the LP's numbers from a dataset folder."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from model import InputError, apply_overrides, derive_parameters, load_dataset, solve
from model.data.inputs import interpolate_by_year


def test_china_dataset_loads(china_path):
    dataset = load_dataset(china_path)
    assert len(dataset.sectors) == 9
    assert set(dataset.sectors["sector"]) >= {"power", "steel", "cement", "aluminium", "rest_of_economy"}
    assert dataset.setting("first_year") == 2025 and dataset.setting("last_year") == 2060
    assert dataset.sectors["source"].str.len().min() > 0  # every row names its source
    assert dataset.mac["source"].str.len().min() > 0


def test_china_bau_follows_bau_csv(china_path):
    """inputs/china/bau.csv: power 5,012.5 Mt in 2025 and 4,700.8 Mt in 2030, so 4,825.5 in
    2028 (linear); aluminium output held at its 45 Mt capacity ceiling in 2030."""
    p = derive_parameters(load_dataset(china_path))
    bau, output = p.sector_years["bau_mt"], p.sector_years["output"]
    assert bau[("power", 2025)] == pytest.approx(5012.5)
    assert bau[("power", 2028)] == pytest.approx(5012.5 + 3 / 5 * (4700.8 - 5012.5))
    assert output[("aluminium", 2030)] == pytest.approx(45.0)
    assert output.xs("aluminium").max() <= 45.0


def test_bau_grows_with_output_and_intensity(toy_path):
    """Without bau.csv rows a sector's BAU is base x ((1 + output_growth)(1 + intensity_change))^t."""
    dataset = apply_overrides(load_dataset(toy_path), {"sectors.power.output_growth": 0.02,
                                                       "sectors.power.intensity_change": -0.01})
    bau = derive_parameters(dataset).sector_years["bau_mt"]
    assert bau[("power", 2027)] == pytest.approx(100 * (1.02 * 0.99) ** 2)


def test_phases_follow_coverage_dates(china_path):
    phase = derive_parameters(load_dataset(china_path)).sector_years["phase"]
    assert phase[("power", 2025)] == "trading"
    assert phase[("steel", 2025)] == "trading"  # trading from entry
    assert phase[("chemicals", 2026)] == "outside" and phase[("chemicals", 2027)] == "simulation"
    assert (phase.xs("rest_of_economy") == "outside").all()


def test_steps_available_from_and_learning(china_path):
    steps = derive_parameters(load_dataset(china_path)).steps
    deep = steps.xs(("power", "P4_renewables_storage_at_scale_b"), level=("sector", "step"))
    assert deep.index.min() == 2030
    assert deep.loc[2040, "cost_cny_per_t"] == pytest.approx(250 * 0.98 ** 16)  # learning from base_year 2024
    assert deep.loc[2040, "potential_mt"] == pytest.approx(0.10 * 3756.6)  # share of bau.csv's 2040 BAU


def test_targets_interpolate_between_rows(toy_path):
    p = derive_parameters(load_dataset(toy_path))
    assert p.targets["national_cap_mt"].tolist() == pytest.approx([170, 152.5, 135])
    assert p.targets["ets_cap_mt"].isna().all()


def test_interpolation_keeps_blank_neighbours_blank():
    import pandas as pd

    table = pd.DataFrame({"year": [2025, 2030, 2035], "ets_cap_mt": [100.0, 90.0, np.nan]})
    values = interpolate_by_year(table, "ets_cap_mt", np.arange(2025, 2036))
    assert values[2027] == pytest.approx(96.0)
    assert values[2030] == pytest.approx(90.0)
    assert np.isnan(values[2031]) and np.isnan(values[2035])


# -- bad inputs: one message naming file, row, column, value and expectation ----------------


def _broken_copy(tmp_path, toy_path, file, old, new):
    folder = tmp_path / "broken"
    shutil.copytree(toy_path, folder)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        ("mac.csv", "power,B,0.3,40", "power,B,0.3,forty",
         "mac.csv, row 3, column cost_cny_per_t: found 'forty', expected a number from 0 to 100000 (CNY per t CO2)"),
        ("mac.csv", "rest,A,", "rst,A,",
         "mac.csv, row 6, column sector: found 'rst', expected a sector of sectors.csv (did you mean 'rest'?)"),
        ("sectors.csv", "steel,2025,2026", "steel,2025,2024",
         "sectors.csv, row 3, column trading_from: found '2024', expected a year not before covered_from (2025)"),
        ("sectors.csv", "power,2025,2025,100", "power,2025,2025,-100",
         "sectors.csv, row 2, column base_emissions_mt: found '-100', expected a number from 0 to 100000 (Mt CO2)"),
        ("targets.csv", "2027,135", "2026,135",
         "targets.csv, column year: found '2025-2026', expected target years covering the horizon 2025-2027 (add rows for the missing ends)"),
        ("scenario.toml", "discount_rate = 0.1", "discount_rate = 0.1\nbogus = 1",
         "scenario.toml, column bogus: found '1', expected a known key"),
        ("scenario.toml", "banking = false", "banking = flase",
         "scenario.toml: expected valid TOML (Invalid value (at line 10, column 11))"),
        ("mac.csv", "power,A,0.2", "power,A,0.9",
         "mac.csv, row 3, column potential_share: found '1.2 in total for power', expected shares of one sector summing to at most 1"),
    ],
)
def test_bad_input_message(tmp_path, toy_path, file, old, new, message):
    with pytest.raises(InputError) as caught:
        load_dataset(_broken_copy(tmp_path, toy_path, file, old, new))
    assert str(caught.value) == message


def test_all_problems_reported_together(tmp_path, toy_path):
    folder = _broken_copy(tmp_path, toy_path, "mac.csv", "power,B,0.3,40", "power,B,x,y")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    assert [p.column for p in caught.value.problems] == ["potential_share", "cost_cny_per_t"]
    assert str(caught.value).startswith("2 problems in the inputs:")


def test_missing_file_and_column(tmp_path, toy_path):
    folder = tmp_path / "broken"
    shutil.copytree(toy_path, folder)
    (folder / "targets.csv").unlink()
    text = (folder / "mac.csv").read_text().replace("cost_cny_per_t", "cost")
    (folder / "mac.csv").write_text(text)
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    message = str(caught.value)
    assert "mac.csv, row 1, column cost: found 'cost', expected a known column (did you mean 'cost_cny_per_t'" in message
    assert "mac.csv, row 1, column cost_cny_per_t: expected a column named 'cost_cny_per_t'" in message
    assert "targets.csv: expected the file" in message


def test_not_a_folder(tmp_path):
    with pytest.raises(InputError, match="expected a dataset folder"):
        load_dataset(tmp_path / "nowhere")


# -- accepted on purpose ---------------------------------------------------------------------


def _toy_copy(tmp_path, toy_path):
    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    return folder


def test_byte_order_mark_and_excel_blank_rows_are_read(tmp_path, toy_path):
    """Excel's 'CSV UTF-8' starts with a BOM and may end with rows of bare commas."""
    folder = _toy_copy(tmp_path, toy_path)
    mac = folder / "mac.csv"
    mac.write_bytes(b"\xef\xbb\xbf" + mac.read_bytes() + b",,,,,,\n\n")
    assert load_dataset(folder).mac.equals(load_dataset(toy_path).mac)


def test_sector_without_steps_cannot_abate(tmp_path, toy_path):
    """A sector listed in sectors.csv with no rows in mac.csv is valid: it just cannot abate."""
    folder = _toy_copy(tmp_path, toy_path)
    mac = folder / "mac.csv"
    mac.write_text("".join(line for line in mac.read_text().splitlines(keepends=True)
                           if not line.startswith("rest,")))
    folder.joinpath("targets.csv").write_text("year,national_cap_mt\n2025,200\n2027,200\n")
    results = solve(folder)
    rest = results.sector_years.query("sector == 'rest'")
    assert rest["abatement_mt"].tolist() == [0, 0, 0]


def test_step_available_after_the_horizon_is_never_used(tmp_path, toy_path):
    folder = _broken_copy(tmp_path, toy_path, "mac.csv", "power,B,0.3,40,,", "power,B,0.3,40,2040,")
    steps = derive_parameters(load_dataset(folder)).steps
    assert ("power", "B") not in steps.index.droplevel("year")


def test_target_rows_beyond_the_horizon_are_interpolated(tmp_path, toy_path):
    folder = _toy_copy(tmp_path, toy_path)
    folder.joinpath("targets.csv").write_text("year,national_cap_mt\n2020,200\n2030,100\n")
    p = derive_parameters(load_dataset(folder))
    assert p.targets["national_cap_mt"].tolist() == pytest.approx([150, 140, 130])


def _toy_with_bau(tmp_path, toy_path, text: str):
    folder = tmp_path / "toy"
    shutil.copytree(toy_path, folder)
    (folder / "bau.csv").write_text(text)
    return folder


def test_bau_table_replaces_growth_rates(tmp_path, toy_path):
    """bau.csv gives power 100 Mt (output 100 TWh) in 2025 and 80 Mt (90 TWh) in 2027:
    2026 is interpolated (90 Mt, 95 TWh); steel and rest, without rows, keep their flat
    growth (50 Mt). Hand solve: 2026 cuts 190 - 152.5 = 37.5 Mt (power A 18 @ 10, steel A
    5 @ 20, rest A 5 @ 30, power B 9.5 @ 40): price 40, cost 810 million CNY; 2027 cuts
    180 - 135 = 45 Mt (power A 16, steel A 5, rest A 5, power B 19 of 24): price 40 (60
    with constant BAU), cost 160 + 100 + 150 + 760 = 1,170 million CNY."""
    folder = _toy_with_bau(tmp_path, toy_path, "sector,year,bau_mt,output,source\n"
                                               "power,2025,100,100,hand\npower,2027,80,90,hand\n")
    sector_years = derive_parameters(load_dataset(folder)).sector_years
    assert sector_years.loc["power", "bau_mt"].tolist() == pytest.approx([100.0, 90.0, 80.0])
    assert sector_years.loc["power", "output"].tolist() == pytest.approx([100.0, 95.0, 90.0])
    assert sector_years.loc["steel", "bau_mt"].tolist() == pytest.approx([50.0, 50.0, 50.0])
    years = solve(folder).years.set_index("year")
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 40.0, 40.0])
    assert years["abatement_cost_bn_cny"].tolist() == pytest.approx([0.49, 0.81, 1.17])


def test_bau_table_is_held_outside_its_rows(tmp_path, toy_path):
    """One row for power in 2026 (70 Mt, output blank): 70 Mt in every year, output from
    sectors.csv's growth (100 TWh)."""
    folder = _toy_with_bau(tmp_path, toy_path, "sector,year,bau_mt,output\npower,2026,70,\n")
    power = derive_parameters(load_dataset(folder)).sector_years.loc["power"]
    assert power["bau_mt"].tolist() == pytest.approx([70.0, 70.0, 70.0])
    assert power["output"].tolist() == pytest.approx([100.0, 100.0, 100.0])


def test_bau_table_errors_name_row_and_column(tmp_path, toy_path):
    folder = _toy_with_bau(tmp_path, toy_path, "sector,year,bau_mt,output,source\n"
                                               "powr,2025,100,100,x\npower,2027,-80,90,x\npower,2027,80,90,x\n")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    message = str(caught.value)
    assert "bau.csv, row 3, column bau_mt: found '-80', expected a number from 0 to 1000000 (Mt CO2)" in message
    assert "bau.csv, row 2, column sector: found 'powr', expected a sector of sectors.csv (did you mean 'power'?)" in message


def test_china_bau_respects_physical_paths(china_path):
    """Thermal generation never rises after 2024 (non-fossil covers growth) and aluminium
    output never exceeds its ~45 Mt capacity ceiling."""
    output = derive_parameters(load_dataset(china_path)).sector_years["output"]
    assert (np.diff(output.xs("power").to_numpy()) <= 1e-9).all()
    assert output.xs("aluminium").max() == pytest.approx(45.0)


@pytest.mark.parametrize("name, year, cap_mt", [("ndc_2035_7pct", 2035, 11997), ("ndc_2035_10pct", 2035, 11610),
                                                ("neutrality_2060", 2060, 2050), ("current_policy", 2035, 11340)])
def test_china_named_target_scenarios(china_path, name, year, cap_mt):
    targets = load_dataset(china_path, scenarios=[name]).targets.set_index("year")
    assert targets.loc[year, "national_cap_mt"] == cap_mt


def test_new_sectors_simulation_scenario(china_path):
    phase = derive_parameters(load_dataset(china_path, scenarios=["new-sectors-simulation"])).sector_years["phase"]
    assert [phase[(s, 2026)] for s in ("steel", "cement", "aluminium")] == ["simulation"] * 3
    assert [phase[(s, 2027)] for s in ("steel", "cement", "aluminium")] == ["trading"] * 3
