"""The dataset checks across rows and files (model/data/inputs.py), each refusal's whole
message, and each check at its threshold, on copies of the toy with one file rewritten."""

from __future__ import annotations

import shutil

import pytest

from model import load_dataset
from model.errors import InputError
from tests.conftest import TOY, refusal

SECTORS = ("sector,covered_from,trading_from,base_emissions_mt,base_output,output_unit,output_growth,"
           "intensity_change,value_added_bn_cny,free_share_min,free_share_max,leakage_exposed,"
           "simulation_reduction,source\n")
MAC = "sector,step,potential_share,cost_cny_per_t,available_from,cost_change,source\n"
TARGETS = ("year,national_cap_mt,ets_cap_mt,min_auction_share,max_auction_share,national_intensity_t_per_10k_cny,"
           "gdp_bn_cny,non_co2_mt,sinks_mt,source\n")


def _toy_with(folder, **files):
    shutil.copytree(TOY, folder)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def _problems(folder) -> list[str]:
    return refusal(load_dataset, folder).splitlines()


def test_sectors_csv_s_rules_across_columns_and_rows(tmp_path):
    folder = _toy_with(tmp_path / "d", sectors=SECTORS
                       + "power,2025,2024,100,100,TWh,0,0,100,0.9,0.8,false,0,x\n"
                       + "steel,2025,2026,50,25,Mt steel,0,0,0.0009,0.5,1,true,0.06,x\n"
                       + "rest,,2026,50,,,0,0,0.0001,0,1,false,0,x\n"
                       + "power,2025,2025,1,1,TWh,0,0,100,0,1,false,0,x\n"
                       + "9bad,2025,2025,1,1,TWh,0,0,100,0,1,false,0,x\n")
    assert _problems(folder) == [
        "6 problems in the inputs:",
        "  sectors.csv, row 6, column sector: found '9bad', expected a name of letters, digits and _ starting "
        "with a letter",
        "  sectors.csv, row 5, column sector: found 'power', expected a key not used in an earlier row",
        "  sectors.csv, row 4, column trading_from: found '2026', expected blank, since covered_from is blank",
        "  sectors.csv, row 2, column trading_from: found '2024', expected a year not before covered_from (2025)",
        "  sectors.csv, row 2, column free_share_min: found '0.9', expected at most free_share_max (0.8)",
        # rest (row 4) is not covered: its tiny value added is no burden's denominator
        "  sectors.csv, row 3, column value_added_bn_cny: found '0.0009', expected at least 0.001 (billion CNY) "
        "for a sector the ETS covers (covered_from given): its compliance burden is a share of it",
    ]


def test_the_thresholds_themselves_are_accepted(tmp_path):
    """A covered sector's value added of exactly 0.001 bn CNY, free shares min = max, trading from
    the year coverage starts, one sector's potential shares summing to exactly 1."""
    folder = _toy_with(tmp_path / "d", sectors=SECTORS
                       + "power,2025,2025,100,100,TWh,0,0,100,0.5,0.5,false,0,x\n"
                       + "steel,2025,2025,50,25,Mt steel,0,0,0.001,0.5,1,true,0.06,x\n"
                       + "rest,,,50,,,0,0,0.0001,0,1,false,0,x\n",
                       mac=MAC + "power,A,0.5,10,,0,x\npower,B,0.5,40,,0,x\nsteel,A,0.1,20,,0,x\n")
    dataset = load_dataset(folder)
    assert dataset.sectors["value_added_bn_cny"].tolist() == [100, 0.001, 0.0001]
    assert dataset.mac.groupby("sector")["potential_share"].sum().to_dict() == {"power": 1.0, "steel": 0.1}


def test_mac_csv_s_rules(tmp_path):
    folder = _toy_with(tmp_path / "d", mac=MAC + "power,A,0.6,10,,0,x\npower,B,0.6,40,,0,x\nstel,A,0.1,20,,0,x\n"
                       "steel,B!,0.2,60,,0,x\nsteel,C,0.2,60,,0,x\nsteel,C,0.1,60,,0,x\nrest,A,0.1,30,,0,x\n")
    assert _problems(folder) == [
        "4 problems in the inputs:",
        "  mac.csv, row 4, column sector: found 'stel', expected a sector of sectors.csv (did you mean 'steel'?)",
        "  mac.csv, row 5, column step: found 'B!', expected a name of letters, digits, '_' and '-' starting with "
        "a letter or digit (it is part of --set keys and of output files)",
        "  mac.csv, row 7, column step: found 'steel / C', expected a key not used in an earlier row",
        "  mac.csv, row 3, column potential_share: found '1.2 in total for power', expected shares of one sector "
        "summing to at most 1",
    ]


def test_targets_csv_s_rules(tmp_path):
    folder = _toy_with(tmp_path / "d", targets=TARGETS + "2025,170,180,0.5,0.2,,,0,0,x\n2026,,,0,,1.2,,5,0,x\n"
                       "2026,,,0,,,,0,2,x\n")
    assert _problems(folder) == [
        "8 problems in the inputs:",
        "  targets.csv, row 4, column year: found '2026', expected a key not used in an earlier row",
        "  targets.csv, row 2, column ets_cap_mt: found '180', expected at most national_cap_mt (170), which "
        "counts the allowances issued",
        "  targets.csv, row 2, column max_auction_share: found '0.2', expected at least min_auction_share (0.5) "
        "of the same row, or blank (auction exactly min_auction_share)",
        "  targets.csv, row 4, column national_cap_mt: expected a national cap, or a "
        "national_intensity_t_per_10k_cny with gdp_bn_cny (or both)",
        "  targets.csv, row 3, column gdp_bn_cny: expected the year's GDP (billion CNY): the intensity target's "
        "cap is intensity x GDP",
        "  targets.csv, row 3, column non_co2_mt: found '5', expected 0 or blank, since [targets] scope = 'co2' "
        "counts CO2 only (or scope = 'net_ghg' in scenario.toml)",
        "  targets.csv, row 4, column sinks_mt: found '2', expected 0 or blank, since [targets] scope = 'co2' "
        "counts CO2 only (or scope = 'net_ghg' in scenario.toml)",
        "  targets.csv, column year: found '2025-2026', expected target years covering the horizon 2025-2027 "
        "(add rows for the missing ends)",
    ]


@pytest.mark.parametrize("rows, span", [("2026,170,x\n2027,135,x\n", "2026-2027"), ("2025,170,x\n2026,135,x\n",
                                                                                     "2025-2026")])
def test_the_target_years_must_reach_both_ends_of_the_horizon(tmp_path, rows, span):
    folder = _toy_with(tmp_path / "d", targets="year,national_cap_mt,source\n" + rows)
    assert _problems(folder) == [f"targets.csv, column year: found '{span}', expected target years covering the "
                                 "horizon 2025-2027 (add rows for the missing ends)"]


def test_equal_ets_and_national_caps_and_auction_shares_are_accepted(tmp_path):
    folder = _toy_with(tmp_path / "d", targets=TARGETS + "2025,170,125,0.2,0.2,,,0,0,x\n2027,135,135,0,,,,,,x\n")
    targets = load_dataset(folder).targets
    assert targets["ets_cap_mt"].tolist() == [125, 135] and targets["max_auction_share"].tolist()[0] == 0.2


def test_a_path_that_is_no_folder(tmp_path):
    with pytest.raises(InputError) as refused:
        load_dataset(tmp_path / "nowhere")
    assert str(refused.value) == f"{tmp_path / 'nowhere'}: expected a dataset folder (see README: Inputs)"
