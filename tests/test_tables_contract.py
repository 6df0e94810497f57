"""The toy's output tables whole (model/results/tables.py): every column in order, its dtype and
every value, worked out by hand from inputs/toy (README: the toy by hand).

Power trades from 2025, steel simulates in 2025 (rule cap (1 - 0.06) x 50 = 47 Mt) and trades
from 2026, rest is outside. The ETS cap is the national cap less rest's 45 Mt; in 2026 it is
shared 2:1 as the BAU (71.667 / 35.833 Mt). Prices 40, 40, 60 (power B, power B, steel B at
the margin); a sector's burden is its cost plus its net purchases at the price."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NAN = np.nan
YEARS = {
    "year": [2025, 2026, 2027],
    "national_cap_mt": [170, 152.5, 135], "absolute_target_mt": [170, 152.5, 135],
    "intensity_target_mt": [NAN, NAN, NAN], "non_co2_mt": [0, 0, 0], "sinks_mt": [0, 0, 0],
    "ets_cap_mt": [125, 107.5, 90], "bank_mt": [0, 0, 0],
    "allowance_price_cny_per_t": [40, 40, 60], "national_carbon_value_cny_per_t": [40, 40, 60],
    "emissions_mt": [170, 152.5, 135], "ets_emissions_mt": [125, 107.5, 90], "abatement_mt": [30, 47.5, 65],
    # 20 x 10 + 2 x 40 + 3 x 20 + 5 x 30 = 490 m CNY; 200 + 700 + 100 + 150; 200 + 1,200 + 100 + 300 + 150
    "abatement_cost_bn_cny": [0.49, 1.15, 1.95],
    "min_auction_share": [0, 0, 0], "max_auction_share": [0, 0, 0], "max_burden_share": [0.05, 0.05, 0.05],
    "free_allocation_mt": [125, 107.5, 90], "auction_revenue_bn_cny": [0, 0, 0],
    "discount_factor": [1, 1 / 1.1, 1 / 1.21],
}
SECTOR_YEARS = {
    "sector": ["power"] * 3 + ["steel"] * 3 + ["rest"] * 3,
    "year": [2025, 2026, 2027] * 3,
    "phase": ["trading"] * 3 + ["simulation", "trading", "trading"] + ["outside"] * 3,
    "bau_mt": [100] * 3 + [50] * 3 + [50] * 3,
    "emissions_mt": [78, 62.5, 50, 47, 45, 40, 45, 45, 45],
    "abatement_mt": [22, 37.5, 50, 3, 5, 10, 5, 5, 5],
    "cap_mt": [78, 107.5 * 2 / 3, 60, 47, 107.5 / 3, 30, NAN, NAN, NAN],
    "free_mt": [78, 107.5 * 2 / 3, 60, 47, 107.5 / 3, 30, NAN, NAN, NAN],
    "free_share": [1, 1, 1, 1, 1, 1, NAN, NAN, NAN],
    "auctioned_mt": [0, 0, 0, 0, 0, 0, NAN, NAN, NAN],
    "net_purchase_mt": [0, 62.5 - 107.5 * 2 / 3, -10, NAN, 45 - 107.5 / 3, 10, NAN, NAN, NAN],
    "abatement_cost_bn_cny": [0.28, 0.9, 1.4, 0.06, 0.1, 0.4, 0.15, 0.15, 0.15],
    "burden_bn_cny": [0.28, 0.9 + 0.04 * (62.5 - 107.5 * 2 / 3), 1.4 - 0.06 * 10, 0.06,
                      0.1 + 0.04 * (45 - 107.5 / 3), 0.4 + 0.06 * 10, NAN, NAN, NAN],
    "burden_share_of_value_added": [0.0028, (0.9 + 0.04 * (62.5 - 107.5 * 2 / 3)) / 100, 0.008, 0.0012,
                                    (0.1 + 0.04 * (45 - 107.5 / 3)) / 50, 0.02, NAN, NAN, NAN],
    "marginal_cost_cny_per_t": [40, 40, 40, 20, 20, 60, 30, 30, 30],
    "own_price_cny_per_t": [NAN, NAN, NAN, 20, NAN, NAN, NAN, NAN, NAN],
    "rule_cap_mt": [NAN, NAN, NAN, 47, NAN, NAN, NAN, NAN, NAN],
    "implied_benchmark_t_per_unit": [0.78, 0.716667, 0.6, 1.88, 1.433333, 1.2, NAN, NAN, NAN],
    "basis": ["intensity"] * 3 + ["simulation", "intensity", "intensity"] + [NAN] * 3,
    "cap_reduction": [NAN, NAN, NAN, 0.06, NAN, NAN, NAN, NAN, NAN],
    "benchmark_t_per_unit": [0.78, 0.716667, 0.6, NAN, 1.433333, 1.2, NAN, NAN, NAN],
    "free_share_min": [0, 0, 0, NAN, 0.5, 0.5, NAN, NAN, NAN],
    "free_share_max": [1, 1, 1, NAN, 1, 1, NAN, NAN, NAN],
}
STEPS = {
    "sector": [s for s in ("power", "steel", "rest") for _ in range(6)],
    "step": [step for _ in range(3) for step in "AAABBB"],
    "year": [2025, 2026, 2027] * 6,
    "potential_mt": [20] * 3 + [30] * 3 + [5] * 3 + [10] * 3 + [5] * 3 + [20] * 3,
    "cost_cny_per_t": [10] * 3 + [40] * 3 + [20] * 3 + [60] * 3 + [30] * 3 + [80] * 3,
    "abatement_mt": [20, 20, 20, 2, 17.5, 30, 3, 5, 5, 0, 0, 5, 5, 5, 5, 0, 0, 0],
    "abatement_cost_bn_cny": [0.2, 0.2, 0.2, 0.08, 0.7, 1.2, 0.06, 0.1, 0.1, 0, 0, 0.3, 0.15, 0.15, 0.15, 0, 0, 0],
}
TEXT = ("sector", "phase", "basis", "step")


def _assert_table(table, expected: dict) -> None:
    assert table.columns.tolist() == list(expected)
    assert table.index.tolist() == list(range(len(next(iter(expected.values())))))
    for column, values in expected.items():
        if column in TEXT:  # text, blank (NaN) where it does not apply
            assert [v if isinstance(v, str) else None for v in table[column]] == [
                v if isinstance(v, str) else None for v in values], column
            assert not pd.api.types.is_numeric_dtype(table[column]), column
        elif column == "year":
            assert table[column].dtype == np.int64 and table[column].tolist() == values
        else:
            assert table[column].dtype == np.float64, column
            assert table[column].to_numpy() == pytest.approx(np.array(values, dtype=float), abs=1e-6, nan_ok=True), \
                column


def test_the_toy_s_years_table(toy_results):
    _assert_table(toy_results.years, YEARS)


def test_the_toy_s_sector_years_table(toy_results):
    _assert_table(toy_results.sector_years, SECTOR_YEARS)


def test_the_toy_s_abatement_steps_table(toy_results):
    _assert_table(toy_results.abatement_steps, STEPS)
    assert toy_results.facilities.empty  # no registry: no table by installation


def test_every_quantity_column_names_its_unit(toy_results):
    """A quantity's unit is the end of its name (Mt, bn CNY, CNY/t, t/unit) or it is a share
    or factor (no unit)."""
    units = ("_mt", "_bn_cny", "_cny_per_t", "_t_per_unit")
    unitless = {"free_share", "min_auction_share", "max_auction_share", "max_burden_share", "discount_factor",
                "burden_share_of_value_added", "cap_reduction", "free_share_min", "free_share_max"}
    for table in (toy_results.years, toy_results.sector_years, toy_results.abatement_steps):
        for column in table.columns:
            if table[column].dtype == np.float64:
                assert column.endswith(units) or column in unitless, column


def test_written_and_read_back_the_tables_are_the_same(toy_results, tmp_path):
    """A results folder read back: the same columns and numbers (9 decimals), text as text, the
    summary as written. A column of whole numbers (non_co2_mt's zeros, the 40 CNY/t prices) is
    float64 as solved, though CSV writes it as 0 and 40: a price set to 40.5 in the table read back
    is 40.5 (pandas 3 refuses a float in an int64 column)."""
    from model import Results

    out = toy_results.write(tmp_path / "r")
    assert sorted(p.name for p in out.iterdir()) == ["abatement_steps.csv", "sector_years.csv", "summary.json",
                                                      "years.csv"]
    back = Results.read(out)
    for name, expected in (("years", YEARS), ("sector_years", SECTOR_YEARS), ("abatement_steps", STEPS)):
        _assert_table(getattr(back, name), expected)
    back.years.loc[0, "allowance_price_cny_per_t"] = 40.5
    assert back.years["allowance_price_cny_per_t"].tolist() == [40.5, 40, 60]
    # Arrow's CSV: names quoted, numbers to 9 decimals without trailing zeros, a blank for NaN
    assert (out / "years.csv").read_text().splitlines() == [
        ",".join(f'"{c}"' for c in YEARS),
        "2025,170,170,,0,0,125,0,40,40,170,125,30,0.49,0,0,0.05,125,0,1",
        "2026,152.5,152.5,,0,0,107.5,0,40,40,152.5,107.5,47.5,1.15,0,0,0.05,107.5,0,0.909090909",
        "2027,135,135,,0,0,90,0,60,60,135,90,65,1.95,0,0,0.05,90,0,0.826446281"]
    assert (out / "abatement_steps.csv").read_text().splitlines()[1] == '"power","A",2025,20,10,20,0.2'
    assert back.summary["objective_bn_cny"] == toy_results.summary["objective_bn_cny"]
    assert back.facilities.empty


def test_a_folder_that_is_no_results_folder_says_what_is_missing(tmp_path):
    from model import EtscapError, Results

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "years.csv").write_text("year\n2025\n")
    with pytest.raises(EtscapError) as refused:
        Results.read(tmp_path / "r")
    assert str(refused.value) == (f"{tmp_path / 'r'} is not a results folder: sector_years.csv, abatement_steps.csv, "
                                  "summary.json missing")


@pytest.mark.parametrize("text, reason", [
    ("year,x\n2025,1\n2026.5,2\n", "column year holds values that are not years"),
    ("when,x\n2025,1\n", "no column year"),
    ("year,x\n2025,1", "it ends in the middle of a line: cut short?"),
    ("", None),
])
def test_a_damaged_table_is_named_with_why(tmp_path, text, reason):
    from model import EtscapError
    from model.results.tables import read_csv

    path = tmp_path / "years.csv"
    path.write_text(text)
    with pytest.raises(EtscapError) as refused:
        read_csv(path, ("year",))
    if reason is None:  # pandas' own reason for an empty file
        assert str(refused.value) == (f"{path} is damaged or was not written by etscap (No columns to parse from "
                                      "file): write it again (solve or the study)")
    else:
        assert str(refused.value) == (f"{path} is damaged or was not written by etscap ({reason}): write it again "
                                      "(solve or the study)")


def test_a_text_column_keeps_names_pandas_would_read_as_missing(tmp_path):
    from model.results.tables import read_csv

    path = tmp_path / "sector_years.csv"
    path.write_text("sector,year,x\nNA,2025,1\nnull,2025,\nNone,2026,2\n")
    table = read_csv(path, ("sector", "year"))
    assert table["sector"].tolist() == ["NA", "null", "None"] and table["year"].tolist() == [2025, 2025, 2026]
    assert table["x"].isna().tolist() == [False, True, False]


def test_the_milestone_years_are_the_ends_and_where_the_cap_path_bends():
    """Up to 8 years: all. Beyond: the first and last, and each year where the national cap's
    slope changes by more than 1e-6 Mt/yr (a target row); a study's table: any scenario's."""
    import pandas as pd

    from model.results.tables import milestone_years

    short = pd.DataFrame({"year": range(2025, 2033), "national_cap_mt": 100.0})
    assert milestone_years(short) == list(range(2025, 2033))
    years = list(range(2025, 2036))  # 11 years: 100 falling 2 a year to 2030, then 5 a year
    cap = [100 - 2 * (y - 2025) if y <= 2030 else 90 - 5 * (y - 2030) for y in years]
    assert milestone_years(pd.DataFrame({"year": years, "national_cap_mt": cap})) == [2025, 2030, 2035]
    nearly = [c + (1e-7 * (y - 2030) if y > 2030 else 0) for c, y in zip([100.0] * 11, years)]
    assert milestone_years(pd.DataFrame({"year": years, "national_cap_mt": nearly})) == [2025, 2035]
    study = pd.concat([pd.DataFrame({"scenario": 0, "year": years, "national_cap_mt": cap}),
                       pd.DataFrame({"scenario": 1, "year": years,
                                     "national_cap_mt": [100 - (y > 2028) * (y - 2028) for y in years]})])
    assert milestone_years(study.sample(frac=1.0, random_state=1)) == [2025, 2028, 2030, 2035]


def test_what_exceeds_the_national_target_in_words():
    from model.results.tables import overshoot_sources

    assert overshoot_sources({"national_overshoot_by_source_mt": {
        "offsets outside the national count": 517.44, "the reserve's releases": 1234.56}}) == (
        "offsets outside the national count (517.4 Mt); the reserve's releases (1,234.6 Mt)")
    assert overshoot_sources({}) == "rules' allowances"
