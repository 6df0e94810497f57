"""The notebook views' tables (model/results/notebook.py): to_iamc's rows, columns, units and
order as pyam reads them, and to_xarray's variables and attributes, on the toy."""

from __future__ import annotations

import numpy as np
import pytest

# (variable, unit): rows in the toy (3 years; steel's own price only in its simulation year 2025;
# no burden, cap or free allocation for rest, outside the ETS)
TOY_IAMC = {
    ("Abatement|CO2", "Mt CO2/yr"): 3, ("Abatement|CO2|power", "Mt CO2/yr"): 3,
    ("Abatement|CO2|rest", "Mt CO2/yr"): 3, ("Abatement|CO2|steel", "Mt CO2/yr"): 3,
    ("Allowance Bank|CO2|ETS", "Mt CO2"): 3,
    ("Baseline Emissions|CO2|power", "Mt CO2/yr"): 3, ("Baseline Emissions|CO2|rest", "Mt CO2/yr"): 3,
    ("Baseline Emissions|CO2|steel", "Mt CO2/yr"): 3,
    ("Cost|Abatement", "billion CNY/yr"): 3, ("Cost|Abatement|power", "billion CNY/yr"): 3,
    ("Cost|Abatement|rest", "billion CNY/yr"): 3, ("Cost|Abatement|steel", "billion CNY/yr"): 3,
    ("Cost|Compliance Burden|power", "billion CNY/yr"): 3, ("Cost|Compliance Burden|steel", "billion CNY/yr"): 3,
    ("Emissions Cap|CO2|ETS", "Mt CO2/yr"): 3, ("Emissions Cap|CO2|ETS|power", "Mt CO2/yr"): 3,
    ("Emissions Cap|CO2|ETS|steel", "Mt CO2/yr"): 3, ("Emissions Cap|CO2|National", "Mt CO2/yr"): 3,
    ("Emissions Covered|CO2|ETS", "Mt CO2/yr"): 3, ("Emissions|CO2", "Mt CO2/yr"): 3,
    ("Emissions|CO2|power", "Mt CO2/yr"): 3, ("Emissions|CO2|rest", "Mt CO2/yr"): 3,
    ("Emissions|CO2|steel", "Mt CO2/yr"): 3,
    ("Free Allocation|CO2|ETS", "Mt CO2/yr"): 3, ("Free Allocation|CO2|ETS|power", "Mt CO2/yr"): 3,
    ("Free Allocation|CO2|ETS|steel", "Mt CO2/yr"): 3,
    ("Price|Carbon|ETS", "CNY/t CO2"): 3, ("Price|Carbon|Marginal Abatement Cost|power", "CNY/t CO2"): 3,
    ("Price|Carbon|Marginal Abatement Cost|rest", "CNY/t CO2"): 3,
    ("Price|Carbon|Marginal Abatement Cost|steel", "CNY/t CO2"): 3,
    ("Price|Carbon|National", "CNY/t CO2"): 3, ("Price|Carbon|Simulation|steel", "CNY/t CO2"): 1,
    ("Revenue|Auction|ETS", "billion CNY/yr"): 3,
}


def test_the_toy_in_iamc_format_row_by_row(toy_results):
    """97 rows sorted by variable then year, indexed 0..96; text columns then an integer year
    and a float value; the first rows are total abatement 30, 47.5, 65 Mt (5 + 3 + 22, ...)."""
    iamc = toy_results.to_iamc(model="m", scenario="s", region="r")
    assert iamc.columns.tolist() == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    assert iamc.index.tolist() == list(range(97))
    assert iamc.groupby(["variable", "unit"], sort=False).size().to_dict() == TOY_IAMC
    assert list(iamc.groupby(["variable", "unit"], sort=False).groups) == sorted(TOY_IAMC)
    assert iamc["year"].dtype == np.int64 and iamc["value"].dtype == np.float64
    assert all(iamc[c].map(type).eq(str).all() for c in ("model", "scenario", "region", "variable", "unit"))
    assert iamc.iloc[:4].to_dict("list") == {
        "model": ["m"] * 4, "scenario": ["s"] * 4, "region": ["r"] * 4,
        "variable": ["Abatement|CO2"] * 3 + ["Abatement|CO2|power"], "unit": ["Mt CO2/yr"] * 4,
        "year": [2025, 2026, 2027, 2025], "value": pytest.approx([30.0, 47.5, 65.0, 22.0])}
    default = toy_results.to_iamc()
    assert set(default["model"]) == {"etscap"} and set(default["scenario"]) == {"toy"}
    assert set(default["region"]) == {"China"}
    assert default[["variable", "unit", "year", "value"]].equals(iamc[["variable", "unit", "year", "value"]])


def test_the_toy_as_an_xarray_dataset(toy_results):
    """Each years column over year, each sector_years column over (sector, year), prefixed
    sector_ where years has it too; the scenario, status and PV cost as attributes."""
    pytest.importorskip("xarray")
    ds = toy_results.to_xarray()
    assert dict(ds.sizes) == {"year": 3, "sector": 3}
    assert ds["year"].values.tolist() == [2025, 2026, 2027]
    assert ds["sector"].values.tolist() == ["power", "rest", "steel"]
    years = [c for c in toy_results.years.columns if c != "year"]
    sectors = [c for c in toy_results.sector_years.columns if c not in ("sector", "year")]
    assert list(ds.data_vars) == years + [f"sector_{c}" if c in years else c for c in sectors]
    assert all(ds[c].dims == ("year",) for c in years)
    assert ds["sector_emissions_mt"].dims == ("sector", "year")
    assert ds.attrs == {"scenario": "toy", "status": "optimal",
                        "objective_bn_cny": pytest.approx(toy_results.summary["objective_bn_cny"])}
    assert ds["ets_cap_mt"].values.tolist() == pytest.approx([125.0, 107.5, 90.0])


def test_the_repr_of_results_without_years_or_objective():
    import pandas as pd

    from model import Results

    empty = Results(years=pd.DataFrame({"year": []}), sector_years=pd.DataFrame(), abatement_steps=pd.DataFrame())
    assert repr(empty) == "Results(: unknown, no objective; no years, 0 sectors)"
    named = Results(years=pd.DataFrame({"year": []}), sector_years=pd.DataFrame({"sector": ["a", "b", "a"]}),
                    abatement_steps=pd.DataFrame(),
                    summary={"scenario": "x", "scenarios": [{"name": "p"}, {"name": "q"}], "status": "infeasible",
                             "objective_bn_cny": 1234.56})
    assert repr(named) == ("Results(x+p+q: infeasible, abatement cost 1,234.6 bn CNY (present value); no years, "
                           "2 sectors)")
    assert named.to_iamc().columns.tolist() == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    assert named.to_iamc().empty


def test_the_headline_table_s_columns_and_years(toy_results):
    from model.results.notebook import HEADLINE, headline_table

    table = headline_table(toy_results)
    assert table.index.tolist() == [2025, 2026, 2027] and list(HEADLINE.values()) == table.columns.tolist()
    assert table.to_dict("list") == {"ETS cap Mt": [125, 107.5, 90], "emissions Mt": [170, 152.5, 135],
                                     "price CNY/t": pytest.approx([40, 40, 60]),
                                     "cost bn CNY": pytest.approx([0.49, 1.15, 1.95])}
    assert headline_table(toy_results, {"bank_mt": "bank Mt", "nope": "x"}).to_dict("list") == {
        "bank Mt": [0.0, 0.0, 0.0]}
