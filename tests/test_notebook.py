"""Issue 16.7: Results in a notebook: repr, IAMC long format, xarray."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from model import EtscapError, load_dataset, solve
from tests.conftest import TOY


def test_repr_shows_status_objective_and_headline_rows(toy_results):
    assert repr(toy_results) == (
        "Results(toy: optimal, abatement cost 3.1 bn CNY (present value); 2025-2027, 3 sectors)\n"
        "      ETS cap Mt  emissions Mt  price CNY/t  cost bn CNY\n"
        "year                                                    \n"
        "2025       125.0         170.0         40.0          0.5\n"
        "2026       107.5         152.5         40.0          1.1\n"
        "2027        90.0         135.0         60.0          1.9")
    assert "<table" in toy_results._repr_html_() and "toy: optimal" in toy_results._repr_html_()


def test_repr_names_the_named_scenarios():
    results = solve(load_dataset(TOY, scenarios=["banking"]))
    assert repr(results).startswith("Results(toy+banking: optimal")
    assert set(results.to_iamc()["scenario"]) == {"toy+banking"}


def test_iamc_long_format(toy_results):
    iamc = toy_results.to_iamc(region="Toyland")
    assert iamc.columns.tolist() == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    assert set(iamc["model"]) == {"etscap"} and set(iamc["region"]) == {"Toyland"}
    price = iamc[iamc["variable"] == "Price|Carbon|ETS"]
    assert price["year"].tolist() == [2025, 2026, 2027]
    assert price["value"].tolist() == pytest.approx([40, 40, 60])
    assert set(price["unit"]) == {"CNY/t CO2"}
    steel = iamc[iamc["variable"] == "Emissions|CO2|steel"].set_index("year")["value"]
    expected = toy_results.sector_years.query("sector == 'steel'").set_index("year")["emissions_mt"]
    assert steel.to_dict() == pytest.approx(expected.to_dict())
    # a parent is the sum of its children (pyam's check_aggregate)
    wide = iamc.pivot(index="variable", columns="year", values="value")
    for parent in ("Emissions|CO2", "Abatement|CO2", "Cost|Abatement", "Emissions Cap|CO2|ETS"):
        children = [v for v in wide.index if v.startswith(parent + "|") and v.count("|") == parent.count("|") + 1]
        assert len(children) >= 2
        assert wide.loc[children].sum().to_numpy() == pytest.approx(wide.loc[parent].to_numpy())
    # the own price exists only where steel simulates (2025): blanks are left out
    own = iamc[iamc["variable"] == "Price|Carbon|Simulation|steel"]
    assert own["year"].tolist() == [2025] and np.isfinite(own["value"]).all()
    assert iamc["value"].notna().all()


def test_to_xarray(toy_results):
    pytest.importorskip("xarray")
    ds = toy_results.to_xarray()
    assert ds["allowance_price_cny_per_t"].sel(year=2027).item() == pytest.approx(60)
    steel = toy_results.sector_years.query("sector == 'steel'").set_index("year")["emissions_mt"]
    assert ds["sector_emissions_mt"].sel(sector="steel").to_numpy() == pytest.approx(steel.to_numpy())
    assert ds.attrs["scenario"] == "toy"


def test_to_xarray_without_xarray_says_how_to_get_it(toy_results, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now raises ImportError
    with pytest.raises(EtscapError) as caught:
        toy_results.to_xarray()
    assert str(caught.value) == ("Results.to_xarray() needs xarray, an optional dependency: pip install "
                                 "'etscap[xarray]' (or pip install xarray), or use the pandas tables "
                                 "results.years and results.sector_years")


def test_html_repr_writes_numbers_as_the_text_repr(toy_results):
    """Jupyter's view of a Results: the summary line, then the headline rows with one
    decimal and thousands separators (an ETS cap of 1,713.125 Mt reads 1,713.1) and '-' for
    a year without a price."""
    import dataclasses
    import re

    html = toy_results._repr_html_()
    assert html.startswith("<p><code>Results(toy: optimal, abatement cost 3.1 bn CNY (present value); "
                           "2025-2027, 3 sectors)</code></p><table")
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>\s*<th>\d{4}</th>(.*?)</tr>", html,
                                                                         re.S)]
    assert cells == [["125.0", "170.0", "40.0", "0.5"], ["107.5", "152.5", "40.0", "1.1"],
                     ["90.0", "135.0", "60.0", "1.9"]]
    years = toy_results.years.assign(ets_cap_mt=[1713.125, 107.5, 90.0],
                                     allowance_price_cny_per_t=[40.0, float("nan"), 60.0])
    html = dataclasses.replace(toy_results, years=years)._repr_html_()
    assert re.search(r"<th>2025</th>\s*<td>1,713.1</td>\s*<td>170.0</td>", html)
    assert re.search(r"<th>2026</th>\s*<td>107.5</td>\s*<td>152.5</td>\s*<td>-</td>\s*<td>1.1</td>", html)


def test_repr_of_a_run_without_years_objective_or_status(toy_results):
    """A Results built by hand may lack parts: the repr says so rather than failing."""
    import dataclasses

    empty = dataclasses.replace(toy_results, years=toy_results.years.iloc[:0],
                                summary={"scenario": "toy", "scenarios": [{"name": "banking"}, {"name": "x"}]})
    assert repr(empty) == "Results(toy+banking+x: unknown, no objective; no years, 3 sectors)"
    bare = dataclasses.replace(toy_results, sector_years=toy_results.sector_years[["year"]],
                               summary={"status": "optimal", "objective_bn_cny": 12345.678})
    assert repr(bare).splitlines()[0] == (
        "Results(: optimal, abatement cost 12,345.7 bn CNY (present value); 2025-2027, 0 sectors)")


def test_headline_table_takes_the_headings_asked_for(toy_results):
    from model.results.notebook import headline_table
    table = headline_table(toy_results, {"allowance_price_cny_per_t": "price", "no_such_column": "x",
                                         "ets_cap_mt": "cap"})
    assert table.columns.tolist() == ["price", "cap"] and table.index.tolist() == [2025, 2026, 2027]
    assert table.to_dict("list") == {"price": pytest.approx([40.0, 40.0, 60.0]), "cap": pytest.approx([125, 107.5, 90])}


def test_iamc_of_a_run_without_tables_is_an_empty_long_table(toy_results):
    import dataclasses

    import pandas as pd
    empty = dataclasses.replace(toy_results, years=pd.DataFrame({"year": []}), sector_years=pd.DataFrame())
    iamc = empty.to_iamc(model="m", scenario="s")
    assert iamc.columns.tolist() == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    assert iamc.empty
    full = toy_results.to_iamc(model="m", scenario="s")
    assert set(full["model"]) == {"m"} and set(full["scenario"]) == {"s"} and set(full["region"]) == {"China"}
    assert full["year"].dtype == np.int64
    assert full[["variable", "year"]].values.tolist()[:3] == [["Abatement|CO2", 2025], ["Abatement|CO2", 2026],
                                                               ["Abatement|CO2", 2027]]
    from model.results.notebook import to_iamc
    direct = to_iamc(toy_results)  # the function's own defaults, as Results.to_iamc's
    assert (set(direct["model"]), set(direct["scenario"]), set(direct["region"])) == ({"etscap"}, {"toy"}, {"China"})
