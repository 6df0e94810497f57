"""Reports: plots (as Figures), report.html, results.xlsx, study folders, and the CLI.

Each dataset is solved once per module. Study folders are built synthetically in the
format of model/studies/study.py.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import shutil
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgb

from model import EtscapError, Results, solve
from model.cli import cli
from model.report.plots import (
    Study, axis_label, facility_summary, figure_png, header_with_unit, headline, inputs_varied, milestone_table,
    plot_bank, plot_burden_share, plot_cap_and_emissions, plot_free_share, plot_installations, plot_mac_curves,
    plot_merit_order, plot_price_distribution, plot_price_fan, plot_prices, plot_sweep, plot_who_pays,
    price_setters, results_figures, study_html, unit_of, write_report,
)
from model.results.tables import milestone_years
from tests.conftest import CHINA, TOY

TOY_PV_COST_BN = (490 + 1150 / 1.1 + 1950 / 1.21) / 1e3  # inputs/toy/README.md
TOY_COST_PER_TONNE = (0.49 + 1.15 + 1.95) * 1e3 / (30 + 47.5 + 65)  # CNY/t: 3.59 bn CNY / 142.5 Mt


@pytest.fixture(scope="module")
def toy_least_cost():
    """Stage 1 only: no allocation columns."""
    return solve(TOY, allocation=False)


@pytest.fixture(scope="module")
def toy_banked():
    return solve(TOY, overrides={"market.banking": True})


@pytest.fixture(params=["toy", "china"])
def dataset_results(request):
    """Each bundled dataset's results, with its dataset folder."""
    return request.getfixturevalue(f"{request.param}_results"), {"toy": TOY, "china": CHINA}[request.param]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


# -- units ---------------------------------------------------------------------------------


def test_units_come_from_column_names():
    assert unit_of("allowance_price_cny_per_t") == "CNY/t CO2"
    assert unit_of("targets.2035.national_cap_mt") == "Mt CO2"
    assert unit_of("burden_bn_cny") == "bn CNY"
    assert unit_of("free_share") == unit_of("burden_share_of_value_added") == "fraction"
    assert unit_of("phase") is None
    assert axis_label("ets_cap_mt") == "ETS cap (Mt CO2)"
    assert axis_label("free_share", percent=True) == "Free share (%)"
    assert header_with_unit("allowance_price_cny_per_t") == "allowance_price_cny_per_t (CNY/t CO2)"
    assert header_with_unit("sector") == "sector"


# -- plots ---------------------------------------------------------------------------------


def _stack_tops(ax, suffix):
    """The top edge (year -> Mt) of the last area whose label ends with ``suffix``."""
    (area,) = [c for c in ax.collections if c.get_label().endswith(suffix)][-1:]
    vertices = pd.DataFrame(area.get_paths()[0].vertices, columns=["x", "y"])
    return vertices.groupby(vertices["x"].round().astype(int))["y"].max().to_dict()  # areas grow upwards


def test_cap_and_emissions_plot(dataset_results):
    """ETS sectors stacked from zero up to the ETS emissions; uncovered sectors stacked on the
    ETS cap (plus any allowances beyond the national count), so that cap + uncovered
    emissions (what the national target counts) meets the national cap line and never exceeds it.
    With banking (the default dataset) a lower panel, on the same years, shows the bank."""
    results, _ = dataset_results
    figure = plot_cap_and_emissions(results)
    ax = figure.axes[0]
    banking = bool(results.summary["market"].get("banking"))
    assert (figure.get_suptitle(), ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "ETS cap and emissions; outside the ETS on top", "", "" if banking else "Year", "Emissions (Mt CO2)")
    years = results.years.set_index("year")
    assert len(figure.axes) == 1 + banking
    if banking:
        bank_ax = figure.axes[1]
        assert bank_ax.get_xlabel() == "Year"
        assert [bar.get_height() for bar in bank_ax.patches] == pytest.approx(years["bank_mt"].to_numpy())
    assert _line(ax, "ETS cap (issued)").get_ydata() == pytest.approx(years["ets_cap_mt"].to_numpy())
    assert _line(ax, "National cap").get_ydata() == pytest.approx(years["national_cap_mt"].to_numpy())
    ets_top = _stack_tops(ax, "(ETS)")
    assert [ets_top[y] for y in years.index] == pytest.approx(years["ets_emissions_mt"].to_numpy())
    outside = years["emissions_mt"] - years["ets_emissions_mt"]
    national_top = _stack_tops(ax, "(outside ETS)")
    counted = (years["ets_cap_mt"] + outside).to_numpy()
    # allowances beyond the national count (offsets outside it in the default) lift the stack
    overshoot = years.get("national_overshoot_mt", pd.Series(0.0, index=years.index)).fillna(0.0).to_numpy()
    assert [national_top[y] for y in years.index] == pytest.approx(counted + overshoot)
    assert np.all(counted <= years["national_cap_mt"].to_numpy() + 1e-6)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    above_cap = (years["ets_emissions_mt"] > years["ets_cap_mt"] + 1e-6).any()  # offsets (china), a bank drawn
    below_cap = (years["ets_emissions_mt"] < years["ets_cap_mt"] - 1e-6).any()  # allowances banked
    # + the caps, the hatch key, the keys of emissions above and below the cap, the bank panel's
    assert len(labels) == results.sector_years["sector"].nunique() + 3 + above_cap + below_cap + banking
    assert _png_size(figure_png(figure))[0] >= 1600  # slide width at 150 dpi


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_chart_legends_clear_the_titles_and_the_axes(dataset_results):
    """What a person sees: a legend placed outside the axes covers no title (the figure's or
    an axes') and no axes, lies inside the figure, and leaves the panels at least half its width
    (the cap chart's long title once ran under its legend)."""
    results, _ = dataset_results
    for name, figure in results_figures(results).items():
        renderer = figure.canvas.get_renderer()
        figure.draw_without_rendering()
        page = figure.bbox
        titles = [text for text in figure.texts if text.get_text()]  # the suptitle among them
        titles += [ax.title for ax in figure.axes if ax.get_title()]
        for legend in figure.legends:
            box = legend.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1 + 1 and page.y0 <= box.y0 and box.y1 <= page.y1 + 1, name
            for title in titles:
                assert not _overlap(box, title.get_window_extent(renderer)), (name, title.get_text())
            for ax in figure.axes:
                assert not _overlap(box, ax.get_window_extent(renderer)), (name, ax.get_title())
        if figure.legends:
            boxes = [ax.get_window_extent(renderer) for ax in figure.axes]
            assert max(b.x1 for b in boxes) - min(b.x0 for b in boxes) >= 0.5 * page.width, name


def test_cap_chart_names_only_the_sources_that_add_allowances(china_results):
    """Emissions above the cap come from the bank and from what adds allowances (offsets here),
    never from a removal such as cancelled allowances, nor from a source of zero every year."""
    labels = [t.get_text() for t in plot_cap_and_emissions(china_results).legends[0].get_texts()]
    assert [label for label in labels if label.startswith("ETS above cap")] == ["ETS above cap: from bank, offsets"]


def test_cap_and_emissions_stacks_ets_sectors_first(toy_results):
    figure = plot_cap_and_emissions(toy_results)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["National cap", "ETS cap (issued)", "Hatched: outside the ETS", "rest", "steel", "power"]
    ax = figure.axes[0]
    assert [c.get_label() for c in ax.collections] == ["power (ETS)", "steel (ETS)", "rest (outside ETS)"]
    assert ax.collections[-1].get_hatch() == "//"


def test_prices_plot(dataset_results):
    results, _ = dataset_results
    ax = plot_prices(results).axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "Allowance price and national carbon value", "Year", "Price (CNY/t CO2)")
    years = results.years
    assert _line(ax, "Allowance price").get_ydata() == pytest.approx(years["allowance_price_cny_per_t"].to_numpy())
    assert _line(ax, "National carbon value").get_ydata() == pytest.approx(
        years["national_carbon_value_cny_per_t"].to_numpy())


def test_prices_plot_shows_simulation_own_price(toy_results):
    ax = plot_prices(toy_results).axes[0]
    (points,) = [c for c in ax.collections if c.get_label() == "Own price, steel (simulation)"]
    assert points.get_offsets().tolist() == [[2025, 20]]  # inputs/toy/README.md


def test_mac_curves_plot_default_year(dataset_results):
    """One panel per covered sector in 2030 (the toy: its last year, 2027); the price line
    at that year's price; the shaded part is the abatement used."""
    results, _ = dataset_results
    figure = plot_mac_curves(results)
    year = 2030 if 2030 in results.years["year"].values else 2027
    assert figure.get_suptitle() == f"Marginal abatement cost curves of the ETS sectors, {year}"
    rows = results.sector_years.query("year == @year and phase != 'outside'")
    assert [ax.get_title() for ax in figure.axes] == rows["sector"].tolist()
    price = results.years.set_index("year").loc[year, "allowance_price_cny_per_t"]
    for ax, row in zip(figure.axes, rows.itertuples()):
        price_line = next(line for line in ax.get_lines() if line.get_linestyle() == "--")
        assert price_line.get_ydata()[0] == pytest.approx(price)
        used = sum(bar.get_width() for bar in ax.containers[0] if bar.get_height() > 0)
        assert used == pytest.approx(row.abatement_mt)
    assert figure.axes[0].get_ylabel() == "Abatement cost (CNY/t CO2)"
    assert figure.axes[-1].get_xlabel() == "Cumulative potential (Mt CO2)"
    assert f"Allowance price {year}: {price:,.0f} CNY/t" in [t.get_text() for t in figure.legends[0].get_texts()]
    figure_png(figure)


def test_mac_curves_in_a_simulation_year(toy_results):
    figure = plot_mac_curves(toy_results, year=2025)
    power, steel = figure.axes
    assert steel.get_title() == "steel (simulation)"
    own_price = next(line for line in steel.get_lines() if line.get_linestyle() == ":")
    assert own_price.get_ydata()[0] == pytest.approx(20)
    assert sum(bar.get_width() for bar in power.containers[0]) == pytest.approx(22)  # 20 at 10 + 2 at 40
    with pytest.raises(EtscapError, match="year 2031 is not in the results .years 2025-2027."):
        plot_mac_curves(toy_results, year=2031)


def test_allocation_plots_need_stage2_columns(toy_least_cost):
    assert {"free_share", "burden_share"}.isdisjoint(results_figures(toy_least_cost))


def test_allocation_plots(dataset_results):
    allocated, _ = dataset_results
    figures = results_figures(allocated)
    assert [name for name in figures if name in ("who_pays", "free_share", "burden_share")] == [
        "who_pays", "free_share", "burden_share"]

    heatmap = figures["free_share"].axes[0]
    assert (heatmap.get_title(), heatmap.get_xlabel()) == ("Free allocation share by sector and year", "Year")
    covered = allocated.sector_years.dropna(subset=["free_share"])
    shown = [t.get_text() for t in heatmap.get_yticklabels()]
    assert sorted(shown) == sorted(covered["sector"].unique())
    cells = heatmap.collections[0].get_array()
    assert np.ma.count(cells) == len(covered)  # one coloured cell per covered sector-year
    assert cells.sum() == pytest.approx(covered["free_share"].sum())
    assert figures["free_share"].axes[1].get_ylabel() == "Free share of sector cap (%)"

    burden = figures["burden_share"].axes[0]
    assert burden.get_ylabel() == "Burden share of value added (%)"
    power = _line(burden, "power")
    expected = allocated.sector_years.query("sector == 'power'")["burden_share_of_value_added"]
    assert power.get_ydata() == pytest.approx(expected.to_numpy(), nan_ok=True)
    for figure in figures.values():
        figure_png(figure)


def test_free_share_heatmap_writes_shares_on_a_short_horizon(toy_results):
    """The toy auctions nothing (min_auction_share 0, max_auction_share blank): every sector-year
    gets 100% of its cap free."""
    ax = plot_free_share(toy_results).axes[0]
    assert [t.get_text() for t in ax.texts] == ["100%", "100%", "100%", "100%", "100%", "100%"]


def test_bank_drawn_with_cap_and_emissions_when_banking(toy_results, toy_banked):
    """With banking the toy banks 5 Mt in 2026 (ETS emissions 102.5 under a cap of 107.5) and
    draws them in 2027 (95 above 90): the gap is shaded and a lower panel shows the bank."""
    assert len(results_figures(toy_results)["cap_and_emissions"].axes) == 1
    figure = results_figures(toy_banked)["cap_and_emissions"]
    ax, bank = figure.axes
    assert bank.get_ylabel() == "Bank (Mt CO2)"
    assert [bar.get_height() for bar in bank.patches] == pytest.approx([0, 5, 0])
    labels = [c.get_label() for c in ax.collections]
    assert "Allowances banked" in labels and "Drawn from the bank" in labels
    assert _stack_tops(ax, "(ETS)")[2027] == pytest.approx(95) and _line(ax, "ETS cap (issued)").get_ydata()[2] == 90
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert {"Banked (not used)", "ETS above cap: from bank", "Bank at year end (below)"} <= set(legend)
    ax = plot_bank(toy_banked).axes[0]  # the bank alone, for a notebook
    assert [bar.get_height() for bar in ax.patches] == pytest.approx(toy_banked.years["bank_mt"].to_numpy())


def test_plot_burden_share_and_bank_are_figures(toy_banked):
    """The plot functions work on Results made in memory, as in a notebook."""
    for plot in (plot_bank, plot_burden_share, plot_free_share):
        assert type(plot(toy_banked)).__name__ == "Figure"


def test_burden_share_chart_legend_and_lines(toy_results):
    """The toy's burden chart (min-max burden): power's line (tab10 blue, the widest) and
    steel's (orange, the narrowest on top), each named in the legend beside the chart in its
    own colour; steel's 2027 burden is 1.0 bn CNY of 50 bn value added = 2%."""
    figure = plot_burden_share(toy_results)
    ax = figure.axes[0]
    assert (ax.get_title(), ax.get_ylabel()) == ("Compliance burden as a share of value added",
                                                 "Burden share of value added (%)")
    legend = figure.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == ["power", "steel"]
    assert [handle.get_color() for handle in legend.legend_handles] == [to_rgb("C0"), to_rgb("C1")]
    assert [handle.get_linewidth() for handle in legend.legend_handles] == [9.0, 2.0]
    assert _line(ax, "steel").get_ydata() == pytest.approx([0.06 / 50, 0.466667 / 50, 1.0 / 50], abs=1e-7)
    assert _line(ax, "power").get_ydata() == pytest.approx([0.28 / 100, 0.533333 / 100, 0.8 / 100], abs=1e-7)
    assert ax.yaxis.get_major_formatter().xmax == 1.0  # shares drawn as percentages of 1


# -- files in a results folder -------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_report(tmp_path_factory, toy_results):
    folder = toy_results.write(tmp_path_factory.mktemp("toy") / "toy")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return folder, write_report(folder), before


@pytest.fixture(scope="module")
def china_report(tmp_path_factory, china_results):
    folder = china_results.write(tmp_path_factory.mktemp("china") / "china")
    return folder, write_report(folder), {}


@pytest.fixture(params=["toy", "china"])
def report(request):
    return request.getfixturevalue(f"{request.param}_report")


def test_report_files(report):
    folder, written, _ = report
    registry = ["plots/installations.png"] if (folder / "facility_years.parquet").exists() else []
    offsets = ["plots/supply_by_source.png"] if (folder / "years.csv").read_text().count("offsets_used_mt") else []
    assert [p.relative_to(folder).as_posix() for p in written] == [
        "plots/cap_and_emissions.png", "plots/prices.png", "plots/merit_order.png", "plots/mac_curves.png",
        "plots/who_pays.png", "plots/free_share.png", "plots/burden_share.png", *registry, *offsets, "report.html",
        "results.xlsx"]
    assert sorted(p.name for p in (folder / "plots").iterdir()) == sorted(
        ["burden_share.png", "cap_and_emissions.png", "free_share.png", "mac_curves.png", "merit_order.png",
         "prices.png", "who_pays.png", *(p.removeprefix("plots/") for p in registry + offsets)])
    for png in (folder / "plots").iterdir():
        width, height = _png_size(png.read_bytes())
        assert width >= 1600 and height >= 550  # a two-sector heatmap is wide and short


def test_report_leaves_other_files_alone(toy_report):
    folder, _, before = toy_report
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}
    assert {name: after[name] for name in before if name in after} == {
        name: digest for name, digest in before.items()}
    assert not [p for p in folder.rglob(".*")]  # no temporary files left behind


def test_html_is_self_contained_with_every_plot(report):
    folder, _, _ = report
    page = (folder / "report.html").read_text()
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(script|link|iframe)\b", page)
    sources = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    pngs = sorted((folder / "plots").glob("*.png"))
    assert len(re.findall(r"<img\b", page)) == len(pngs) == len(sources)
    assert sorted(base64.b64decode(s) for s in sources) == sorted(p.read_bytes() for p in pngs)


def test_html_has_settings_and_headline_numbers(toy_report):
    page = (toy_report[0] / "report.html").read_text()
    assert "<h1>etscap report: toy</h1>" in page
    assert "<td>discount_rate</td>\n      <td>0.1</td>" in page
    assert "<td>market.banking</td>\n      <td>no</td>" in page
    assert f"<td>{TOY_PV_COST_BN:,.2f}</td>" in page
    assert f"<td>{TOY_COST_PER_TONNE:,.2f}</td>" in page  # 25.19
    assert "allowance_price_cny_per_t (CNY/t CO2)" in page
    assert "<td>60.00</td>" in page  # the 2027 price


def test_the_settings_table_keeps_each_value_beside_its_name(toy_report):
    """The Settings table is a key-values table: its cells wrap and sit left, so a long
    description does not widen the value column and push the short values (0.1, no) out of
    view to the right; the tables of numbers keep their right-aligned, unwrapped cells."""
    from model.report.plots import CSS

    page = (toy_report[0] / "report.html").read_text()
    settings = page[page.index("<h2>Settings</h2>"):]
    settings = settings[:settings.index("</table>")]
    assert '<table class="dataframe key-values">' in settings and "<td>discount_rate</td>" in settings
    assert page.count('class="dataframe key-values"') == 1
    assert "table.key-values td, table.key-values th { white-space: normal; text-align: left; }" in CSS
    assert "td { white-space: nowrap; }" in CSS


def test_html_shows_milestone_years_of_a_long_horizon(china_report):
    page = (china_report[0] / "report.html").read_text()
    assert "Sectors in 2025, 2030, 2035, 2040, 2045, 2050, 2055, 2060</h2>" in page


def test_milestone_years_are_the_target_years(china_results, toy_results):
    """The rows of targets.csv (where the interpolated cap path bends) and the horizon's ends;
    the CLI's headline and the report show the same years."""
    china = [2025, 2030, 2035, 2040, 2045, 2050, 2055, 2060]  # inputs/china/targets.csv (flat 2025-30: no bend in 2028-29)
    assert milestone_years(china_results.years) == china
    assert milestone_years(toy_results.years) == [2025, 2026, 2027]  # a short horizon: every year
    moved = china_results.years.assign(national_cap_mt=np.interp(
        china_results.years["year"], [2025, 2033, 2060], [11000, 10600, 1800]))
    assert milestone_years(moved) == [2025, 2033, 2060]
    study = pd.concat([china_results.years.assign(scenario=0), moved.assign(scenario=1)])
    assert milestone_years(study) == sorted({*china, 2033})
    from model.cli import _headline
    shown = [int(line.split()[0]) for line in _headline(china_results).splitlines()[3:]
             if not line.startswith("national target exceeded")]  # the overshoot's line (offsets)
    assert shown == china == milestone_table(china_results)["year"].tolist()


def test_headline_numbers(toy_results):
    numbers = headline(toy_results)
    assert numbers["total_abatement_cost_pv_bn_cny"] == pytest.approx(TOY_PV_COST_BN)
    assert numbers["total_abatement_mt"] == pytest.approx(142.5)
    assert numbers["cost_per_tonne_abated_cny_per_t"] == pytest.approx(TOY_COST_PER_TONNE)


def test_the_headline_table_names_each_number_and_its_unit(toy_results):
    """The report's and workbook's first table (plots.headline_table) on the toy: PV cost
    3.147 bn CNY, undiscounted 0.49 + 1.15 + 1.95 = 3.59 bn CNY, abatement 30 + 47.5 + 65 =
    142.5 Mt, 3.59e3 / 142.5 = 25.19 CNY/t; no overshoot row (the toy meets its targets)."""
    from model.report.plots import headline_table
    table = headline_table(toy_results)
    assert table[["quantity", "unit"]].values.tolist() == [
        ["Abatement cost, present value", "bn CNY"], ["Abatement cost, undiscounted", "bn CNY"],
        ["Abatement", "Mt CO2"], ["Cost per tonne abated (undiscounted)", "CNY/t CO2"]]
    assert table["value"].tolist() == pytest.approx([TOY_PV_COST_BN, 3.59, 142.5, TOY_COST_PER_TONNE])


def test_workbook_holds_every_table(report):
    folder, _, _ = report
    results = Results.read(folder)
    sheets = pd.read_excel(folder / "results.xlsx", sheet_name=None)
    with_registry = not results.facilities.empty
    assert list(sheets) == ["Summary", "years", "sector_years", "abatement_steps", *(["facilities"] * with_registry),
                            "summary.json"]
    for name, table in results.tables().items():
        if name == "facilities":  # 6,837 installations x 34 years: summarised by sector and year
            summary = facility_summary(table)
            assert len(sheets[name]) == len(summary)
            assert sheets[name]["installations"].sum() == len(table)
            continue
        assert len(sheets[name]) == len(table)
        assert list(sheets[name].columns) == [header_with_unit(c) for c in table.columns]
    price = sheets["years"]["allowance_price_cny_per_t (CNY/t CO2)"]
    assert price.to_numpy() == pytest.approx(results.years["allowance_price_cny_per_t"].to_numpy(), nan_ok=True)
    summary = sheets["summary.json"].set_index("key")["value"]
    assert float(summary["objective_bn_cny"]) == pytest.approx(results.summary["objective_bn_cny"])


def test_report_with_stage2_columns_and_another_table(tmp_path, toy_results):
    """Allocation plots appear when the columns do; any other CSV table becomes a sheet."""
    folder = toy_results.write(tmp_path / "allocated")
    pd.DataFrame({"sector": ["power"], "benchmark_t_per_unit": [0.8]}).to_csv(folder / "benchmarks.csv", index=False)
    written = write_report(folder)
    assert {"free_share.png", "burden_share.png"} <= {p.name for p in written}
    sheets = pd.read_excel(folder / "results.xlsx", sheet_name=None)
    assert list(sheets) == ["Summary", "years", "sector_years", "abatement_steps", "benchmarks", "summary.json"]
    assert "free_share (fraction)" in sheets["sector_years"].columns
    assert "auction_revenue_bn_cny (bn CNY)" in sheets["years"].columns
    assert sheets["benchmarks"].columns.tolist() == ["sector", "benchmark_t_per_unit (t CO2/unit of output)"]
    assert (folder / "report.html").read_text().count("<img") == 7


def test_not_a_results_folder(tmp_path):
    with pytest.raises(EtscapError, match="is not a folder"):
        write_report(tmp_path / "missing")
    with pytest.raises(EtscapError, match="years.csv, sector_years.csv, abatement_steps.csv, summary.json "
                                          "missing: give a folder written by `solve`"):
        write_report(tmp_path)


# -- study folders -------------------------------------------------------------------------

MC_FACTORS = 0.5 + 0.05 * np.arange(21)  # price multipliers of 21 Monte Carlo scenarios


def write_study(folder, results: Results, kind: str, parameter: str, values, factors, failed=()):
    """A study folder as issue 5 will write it: scenario i's prices are factors[i] x the
    toy's; scenarios in ``failed`` are infeasible and have no rows in the tables."""
    folder.mkdir()
    status = ["infeasible" if i in failed else "optimal" for i in range(len(values))]
    scenarios = pd.DataFrame({
        "scenario": range(len(values)), "status": status,
        "message": ["targets cannot be met" if s != "optimal" else "" for s in status],
        parameter: values,
        "objective_bn_cny": [results.summary["objective_bn_cny"] * f if s == "optimal" else np.nan
                             for f, s in zip(factors, status)],
    })
    scenarios.to_csv(folder / "scenarios.csv", index=False)
    optimal = [i for i in range(len(values)) if i not in failed]
    years = pd.concat([results.years.assign(
        allowance_price_cny_per_t=results.years["allowance_price_cny_per_t"] * factors[i]) for i in optimal])
    years.insert(0, "scenario", np.repeat(optimal, len(results.years)))
    years.to_parquet(folder / "years.parquet", index=False)
    sector_years = pd.concat([results.sector_years] * len(optimal))
    sector_years.insert(0, "scenario", np.repeat(optimal, len(results.sector_years)))
    sector_years.to_parquet(folder / "sector_years.parquet", index=False)
    (folder / "study.json").write_text(json.dumps(
        {"kind": kind, "dataset": "inputs/toy", "parameters": [parameter], "n": len(values), "seed": 7}))
    return folder


@pytest.fixture(scope="module")
def montecarlo(tmp_path_factory, toy_results):
    folder = write_study(tmp_path_factory.mktemp("mc") / "mc", toy_results, "montecarlo",
                         "mac.*.*.cost_cny_per_t*", MC_FACTORS, MC_FACTORS)
    return folder, write_report(folder)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, toy_results):
    caps = [125.0, 130.0, 135.0, 140.0, 145.0]
    folder = write_study(tmp_path_factory.mktemp("sweep") / "sweep", toy_results, "sweep",
                         "targets.2027.national_cap_mt", caps, [1.6, 1.4, 1.2, 1.0, 0.8], failed=(0,))
    return folder, write_report(folder)


def test_price_fan_chart(montecarlo):
    study = Study.read(montecarlo[0])
    ax = plot_price_fan(study.years).axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "Allowance price across 21 scenarios", "Year", "Allowance price (CNY/t CO2)")
    assert _line(ax, "Median").get_ydata() == pytest.approx([40, 40, 60])  # factor 1.0 is the median
    band = ax.collections[0].get_paths()[0].vertices
    at_2027 = band[np.isclose(band[:, 0], 2027), 1]
    assert at_2027.min() == pytest.approx(60 * 0.55) and at_2027.max() == pytest.approx(60 * 1.45)


def test_price_distribution(montecarlo):
    study = Study.read(montecarlo[0])
    ax = plot_price_distribution(study.years).axes[0]  # no 2030 in the toy: its last year
    assert (ax.get_title(), ax.get_xlabel()) == ("Allowance price in 2027 across 21 scenarios",
                                                 "Allowance price (CNY/t CO2)")
    assert sum(bar.get_height() for bar in ax.patches) == 21
    assert _line(ax, "Median: 60 CNY/t").get_xdata()[0] == pytest.approx(60)
    assert plot_price_distribution(study.years, 2025).axes[0].get_title() == (
        "Allowance price in 2025 across 21 scenarios")


def test_sweep_plot(sweep):
    study = Study.read(sweep[0])
    figure = plot_sweep(study)
    price, cost = figure.axes
    assert figure.get_suptitle() == "Sweep of targets.2027.national_cap_mt"
    assert price.get_xlabel() == cost.get_xlabel() == "targets.2027.national_cap_mt (Mt CO2)"
    assert (price.get_ylabel(), cost.get_ylabel()) == ("Allowance price (CNY/t CO2)", "Abatement cost (bn CNY)")
    line_2027 = _line(price, "2027")
    assert line_2027.get_xdata().tolist() == [130, 135, 140, 145]
    assert line_2027.get_ydata() == pytest.approx([60 * 1.4, 60 * 1.2, 60, 60 * 0.8])
    assert cost.get_lines()[0].get_ydata() == pytest.approx(np.array([1.4, 1.2, 1.0, 0.8]) * TOY_PV_COST_BN)
    assert _line(cost, "Infeasible or error").get_xdata().tolist() == [125]


def test_study_report_files(montecarlo, sweep):
    for (folder, written), plots in ((montecarlo, ["price_fan", "price_distribution"]),
                                     (sweep, ["price_fan", "price_distribution", "sweep"])):
        assert [p.relative_to(folder).as_posix() for p in written] == [
            *(f"plots/{name}.png" for name in plots), "report.html", "results.xlsx"]
        page = (folder / "report.html").read_text()
        assert page.count("<img ") == len(plots) and "http" not in page
        sheets = pd.read_excel(folder / "results.xlsx", sheet_name=None)
        assert list(sheets) == ["Summary", "scenarios", "price_percentiles", "years", "sector_years", "study"]
        assert len(sheets["years"]) == 3 * (sheets["scenarios"]["status"] == "optimal").sum()
    page = (sweep[0] / "report.html").read_text()
    assert "<td>infeasible</td>\n      <td>1</td>" in page  # the findings count scenarios by status
    percentiles = pd.read_excel(montecarlo[0] / "results.xlsx", sheet_name="price_percentiles")
    assert percentiles["allowance_price_median_cny_per_t (CNY/t CO2)"].tolist() == pytest.approx([40, 40, 60])


# -- command line --------------------------------------------------------------------------


def test_cli_report(toy_report):
    folder = toy_report[0]
    result = CliRunner().invoke(cli, ["report", str(folder), "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"report written to {folder}/: plots/cap_and_emissions.png")
    assert "Marginal abatement cost curves of the ETS sectors, 2025" in (folder / "report.html").read_text()
    wrong_year = CliRunner().invoke(cli, ["report", str(folder), "--year", "2040"])
    assert wrong_year.exit_code == 1
    assert wrong_year.output == "error: year 2040 is not in the results (years 2025-2027): choose --year within them\n"


def test_cli_solve_with_report(tmp_path):
    out = tmp_path / "toy"
    result = CliRunner().invoke(cli, ["-q", "solve", str(TOY), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "abatement_steps.csv", "plots/burden_share.png", "plots/cap_and_emissions.png", "plots/free_share.png",
        "plots/mac_curves.png", "plots/merit_order.png", "plots/prices.png", "plots/who_pays.png", "report.html",
        "results.xlsx", "sector_years.csv",
        "summary.json", "years.csv"]
    sheets = pd.read_excel(out / "results.xlsx", sheet_name=None)
    assert sheets["years"]["allowance_price_cny_per_t (CNY/t CO2)"].tolist() == pytest.approx([40, 40, 60])


# -- issue 11.3: prices or costs that differ only by solver noise ---------------------------


def _study_folder(folder, results: Results, parameters: dict, price_shift, objective):
    """A sweep folder with one scenario per row of ``parameters``; scenario i's prices are
    the toy's plus price_shift[i] and its objective objective[i]."""
    folder.mkdir()
    n = len(next(iter(parameters.values())))
    pd.DataFrame({"scenario": range(n), "status": "optimal", "message": "", **parameters,
                  "objective_bn_cny": objective}).to_csv(folder / "scenarios.csv", index=False)
    years = pd.concat([results.years.assign(
        allowance_price_cny_per_t=results.years["allowance_price_cny_per_t"] + price_shift[i]) for i in range(n)])
    years.insert(0, "scenario", np.repeat(np.arange(n), len(results.years)))
    years.to_parquet(folder / "years.parquet", index=False)
    sector_years = pd.concat([results.sector_years] * n)
    sector_years.insert(0, "scenario", np.repeat(np.arange(n), len(results.sector_years)))
    sector_years.to_parquet(folder / "sector_years.parquet", index=False)
    (folder / "study.json").write_text(json.dumps(
        {"kind": "sweep", "dataset": "toy", "parameters": list(parameters), "n": n, "mode": "product"}))
    return folder


def _tick_labels(figure, ax, axis="y"):
    figure.canvas.draw()
    return [t.get_text() for t in getattr(ax, f"get_{axis}ticklabels")() if t.get_text()]


def test_study_report_of_prices_equal_up_to_noise(tmp_path, toy_results):
    """A 2x2 sweep whose prices differ by 7e-15: one bar of 4 scenarios, no 'Too many bins'."""
    folder = _study_folder(tmp_path / "flat", toy_results,
                           {"discount_rate": [0.03, 0.03, 0.05, 0.05], "market.banking": [0, 1, 0, 1]},
                           [0.0, 7e-15, 0.0, 7e-15], [1.0, 1.0, 1.0, 1.0])
    written = write_report(folder, year=2027)
    assert [p.name for p in written] == ["price_fan.png", "price_distribution.png", "report.html", "results.xlsx"]
    study = Study.read(folder)
    figure = plot_price_distribution(study.years, 2027)
    ax = figure.axes[0]
    assert [bar.get_height() for bar in ax.patches] == [4]
    labels = _tick_labels(figure, ax, "x")
    assert len(labels) == len(set(labels)) >= 3 and "60.00" in labels  # the price, not its noise


def test_sweep_ticks_show_close_costs_apart(tmp_path, toy_results):
    """Costs 14,991.90 to 14,991.95: distinct tick labels with the decimals the step needs."""
    costs = 14991.9 + np.array([0.0, 0.01, 0.03, 0.05])
    folder = _study_folder(tmp_path / "close", toy_results, {"discount_rate": [0.02, 0.03, 0.04, 0.05]},
                           [0.0, 0.0, 0.0, 0.0], costs)
    figure = plot_sweep(Study.read(folder))
    labels = _tick_labels(figure, figure.axes[1])
    assert len(labels) == len(set(labels)) >= 3
    assert "14,991.90" in labels or "14,991.92" in labels
    flat = _study_folder(tmp_path / "flat", toy_results, {"discount_rate": [0.02, 0.03, 0.04, 0.05]},
                         [0.0, 0.0, 0.0, 0.0], 14991.9 + np.array([0, 7e-12, 0, 7e-12]))
    figure = plot_sweep(Study.read(flat))
    labels = _tick_labels(figure, figure.axes[1])
    assert len(labels) == len(set(labels)) >= 3
    assert "15,000" in labels and not any("." in label for label in labels)  # +-1% around the cost


# -- the charts an ETS analyst expects (issue 16.5) ------------------------------------------


def test_price_setters_are_the_steps_at_the_price(toy_results):
    """inputs/toy/README.md: power's step B (40 CNY/t) is partly used in 2025 (2 of 30 Mt) and
    2026 (17.5 Mt) and sets the price; in 2027 steel's step B (60 CNY/t, 5 of 10 Mt)."""
    table = price_setters(toy_results)
    assert table[["year", "sector", "step", "cost_cny_per_t", "margin", "abatement_mt"]].values.tolist() == [
        [2025, "power", "B", 40.0, "at the price", 2.0], [2026, "power", "B", 40.0, "at the price", 17.5],
        [2027, "steel", "B", 60.0, "at the price", 5.0]]
    assert table["used_share"].tolist() == pytest.approx([2 / 30, 17.5 / 30, 0.5])


def test_price_between_two_steps_lists_both(china_results):
    """The default dataset's 2060 price (506.8 CNY/t) lies between power's CCS on the remaining
    coal, tranche b (487.5, all used), and steel's process upgrade tranche c (508.8, unused);
    in 2050 petrochemicals' process step, tranche b (220), is at the price (README, Default
    dataset)."""
    table = price_setters(china_results, [2050, 2060]).round({"cost_cny_per_t": 1})  # learning: 487.489...
    assert table[["year", "sector", "step", "cost_cny_per_t", "margin"]].values.tolist() == [
        [2050, "petrochemicals", "PC2_process_b", 220.0, "at the price"],
        [2060, "power", "P7_ccs_remaining_coal_b", 487.5, "dearest used"],
        [2060, "steel", "S3_process_upgrade_c", 508.8, "cheapest unused"]]


def test_a_step_used_above_the_price_is_not_the_margin(toy_results):
    """The toy's 2027 tables with the price at 70, steel B (60) used whole and a step C at 90
    used 5 Mt (built ahead under a deployment limit, as a build rate makes the model do):
    steel B (60) is the dearest step used at or below the price, not C; every other trading
    step is used (rest B, unused at 80, is outside the ETS)."""
    import dataclasses

    years = toy_results.years.copy()
    years.loc[years["year"] == 2027, "allowance_price_cny_per_t"] = 70.0
    steps = toy_results.abatement_steps.copy()
    steps.loc[(steps["sector"] == "steel") & (steps["step"] == "B") & (steps["year"] == 2027), "abatement_mt"] = 10.0
    extra = steps[(steps["sector"] == "power") & (steps["step"] == "B") & (steps["year"] == 2027)].assign(
        step="C", cost_cny_per_t=90.0, abatement_mt=5.0)
    results = dataclasses.replace(toy_results, years=years, abatement_steps=pd.concat([steps, extra]))
    table = price_setters(results, [2027])
    assert table[["sector", "step", "cost_cny_per_t", "margin"]].values.tolist() == [
        ["steel", "B", 60.0, "dearest used"]]


def test_merit_order(toy_results):
    """2027: power A 20 Mt @ 10, steel A 5 @ 20, power B 30 @ 40, steel B 10 @ 60 (5 used)."""
    figure = plot_merit_order(toy_results)
    ax = figure.axes[0]
    potential, used = ax.containers
    assert [(bar.get_x(), bar.get_width(), bar.get_height()) for bar in potential] == [
        (0, 20, 10), (20, 5, 20), (25, 30, 40), (55, 10, 60)]
    assert [bar.get_width() for bar in used] == [20, 5, 30, 5]
    assert ax.get_title() == "Merit order of the ETS trading sectors, 2027: 60 Mt abated"
    price = _line(ax, "Allowance price 2027: 60 CNY/t")
    assert price.get_ydata()[0] == 60
    names = {t.get_text(): t.get_fontweight() for t in ax.texts}
    assert names["steel: B"] == "bold"  # the measure at the margin
    assert {"power: A", "power: B", "steel: A"} <= set(names)
    assert ax.get_xlabel() == "Cumulative abatement potential of the trading sectors (Mt CO2)"


def test_merit_order_leaves_out_steps_far_above_the_price(china_results):
    ax = plot_merit_order(china_results, 2050).axes[0]  # 2050: the first milestone year with a price above 100
    price = china_results.years.set_index("year").loc[2050, "allowance_price_cny_per_t"]
    heights = [bar.get_height() for bar in ax.containers[0]]
    assert max(heights) <= 3 * price and heights == sorted(heights)
    steps = china_results.abatement_steps.query("year == 2050 and sector != 'rest_of_economy'")
    hidden = steps[steps["cost_cny_per_t"] > 3 * price]
    assert ax.texts[-1].get_text() == (f"not shown: {len(hidden)} steps above {3 * price:,.0f} CNY/t, "
                                       f"{hidden['potential_mt'].sum():,.0f} Mt")
    assert sum(bar.get_width() for bar in ax.containers[1]) == pytest.approx(steps["abatement_mt"].sum())


def test_who_pays(toy_results):
    """2027 at 60 CNY/t, nothing auctioned (caps 60 and 30 Mt all free): steel abates for 0.4 bn
    and buys 10 Mt (0.6 bn): burden 1.0; power abates for 1.4 bn and sells 10 Mt (-0.6 bn):
    burden 0.8; free allocation worth 30 x 60 = 1.8 and 60 x 60 = 3.6 bn."""
    figure = plot_who_pays(toy_results)
    burden, value = figure.axes
    cost, purchases = burden.containers[:2]
    assert [b.get_height() for b in cost] == pytest.approx([0.4, 1.4])
    assert [b.get_height() for b in purchases] == pytest.approx([0.6, -0.6])
    assert [b.get_y() for b in purchases] == pytest.approx([0.4, 0.0])  # a purchase stacked on the cost, a sale below 0
    assert burden.collections[0].get_offsets()[:, 1].tolist() == pytest.approx([1.0, 0.8])
    assert [t.get_text() for t in burden.get_xticklabels()] == ["steel", "power"]
    free, auctioned = value.containers
    assert [b.get_width() for b in free] == pytest.approx([1.8, 3.6])
    assert [b.get_width() for b in auctioned] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert "Auctioned: 0.0 bn CNY to the state" in [t.get_text() for t in value.get_legend().get_texts()]
    assert figure.get_suptitle() == "Who pays in 2027 (2027 money)"


def test_installations_chart(china_results):
    year = 2030
    figure = plot_installations(china_results, year)
    box, region = figure.axes
    rows = china_results.facilities.query("year == @year")
    assert figure.get_suptitle() == (f"Installations in 2030: {len(rows):,}, "
                                     f"{(rows['shortfall_mt'] > 0).sum():,} short of allowances")
    sectors = [t.get_text().split(" (")[0] for t in box.get_yticklabels()]
    assert sorted(sectors) == sorted(rows["sector"].unique())
    share = (rows["shortfall_mt"] / rows["emissions_mt"]).groupby(rows["sector"]).median()
    assert box.collections[0].get_offsets()[:, 0].tolist() == pytest.approx(share[sectors].to_numpy())
    net = rows.groupby("region")["shortfall_mt"].sum().sort_values(ascending=False)
    assert [t.get_text() for t in region.get_yticklabels()] == net.index.tolist()
    assert region.collections[0].get_offsets()[:, 0].tolist() == pytest.approx(net.to_numpy())


def test_prices_chart_shows_the_first_decade_in_detail(china_results, toy_results):
    figure = plot_prices(china_results)
    full, detail = figure.axes
    assert detail.get_title() == "2025-2035 in detail"
    shown = _line(detail, "Allowance price")
    assert shown.get_xdata().tolist() == list(range(2025, 2036))
    # the detail is scaled to what it shows (prices 0 before 2038, simulation sectors' own
    # prices in 2027-28), at least five times finer than the full chart
    years = china_results.years.set_index("year").loc[2025:2035]
    own = china_results.sector_years.query("year <= 2035")["own_price_cny_per_t"]
    shown = max(years["allowance_price_cny_per_t"].max(), years["national_carbon_value_cny_per_t"].max(), own.max())
    assert shown > 0 and shown <= detail.get_ylim()[1] < shown * 1.2
    assert detail.get_ylim()[1] < full.get_ylim()[1] / 4  # 120.75 against 532.2 (2060's 506.8 CNY/t)
    assert len(plot_prices(toy_results).axes) == 1  # three years need no detail


def test_fan_chart_draws_percentiles_over_the_median(montecarlo, toy_results):
    study = Study.read(montecarlo[0])
    ax = plot_price_fan(study.years, toy_results.years).axes[0]
    median, p95, p5 = _line(ax, "Median"), _line(ax, "95th percentile"), _line(ax, "5th percentile")
    assert p95.get_ydata() == pytest.approx([40 * 1.45, 40 * 1.45, 60 * 1.45])
    assert p5.get_ydata() == pytest.approx([40 * 0.55, 40 * 0.55, 60 * 0.55])
    assert p95.get_zorder() > median.get_zorder() and p5.get_zorder() > median.get_zorder()
    base = _line(ax, "Base dataset")
    assert base.get_ydata().tolist() == [40, 40, 60] and base.get_linewidth() < median.get_linewidth()


def test_burden_lines_that_coincide_stay_visible(china_results):
    """Min-max burden gives power and cement the same (largest) share in 2040-2049: power's
    line, drawn first, is wider than cement's, so it shows around it."""
    ax = plot_burden_share(china_results).axes[0]
    power, cement = _line(ax, "power"), _line(ax, "cement")
    years = list(power.get_xdata())
    both = slice(years.index(2040), years.index(2049) + 1)
    assert power.get_ydata()[both] == pytest.approx(cement.get_ydata()[both], rel=1e-6)
    assert power.get_linewidth() > cement.get_linewidth() + 1 and power.get_zorder() < cement.get_zorder()


# -- a workbook people can read (issue 16.4) -------------------------------------------------


@pytest.fixture(scope="module")
def china_book(china_report):
    openpyxl = pytest.importorskip("openpyxl")
    return openpyxl.load_workbook(china_report[0] / "results.xlsx")


def _header(sheet, row=1):
    return {cell.value: cell for cell in sheet[row]}


def test_workbook_sheets_headers_and_panes(china_book):
    assert china_book.sheetnames == ["Summary", "years", "sector_years", "abatement_steps", "facilities",
                                     "summary.json"]
    years, sector_years = china_book["years"], china_book["sector_years"]
    assert years.freeze_panes == "B2"  # the header row and the year column stay in view
    assert sector_years.freeze_panes == "C2"  # sector and year
    assert china_book["abatement_steps"].freeze_panes == "D2"  # sector, step, year
    assert china_book["Summary"].freeze_panes == "A2"
    header = _header(years)
    assert header["allowance_price_cny_per_t (CNY/t CO2)"].font.b
    assert years.auto_filter.ref == years.dimensions


def test_workbook_number_formats_by_unit(china_book):
    years = china_book["years"]
    header = _header(years)
    column = {name: cell.column_letter for name, cell in header.items()}
    row = 7  # 2030
    assert years[f"{column['year']}{row}"].value == 2030 and years[f"{column['year']}{row}"].number_format == "0"
    assert years[f"{column['ets_cap_mt (Mt CO2)']}{row}"].number_format == "#,##0.0"
    assert years[f"{column['allowance_price_cny_per_t (CNY/t CO2)']}{row}"].number_format == "#,##0.00"
    assert years[f"{column['abatement_cost_bn_cny (bn CNY)']}{row}"].number_format == "#,##0.00"
    assert years[f"{column['min_auction_share (fraction)']}{row}"].number_format == "0.0%"
    assert years[f"{column['discount_factor (fraction)']}{row}"].number_format == "0.0000"
    assert years[f"{column['allowance_price_cny_per_t (CNY/t CO2)']}{row}"].data_type == "n"
    facilities = china_book["facilities"]
    fcolumn = {name: cell.column_letter for name, cell in _header(facilities).items()}
    assert facilities[f"{fcolumn['installations']}2"].number_format == "#,##0"
    sector_years = china_book["sector_years"]
    scolumn = {name: cell.column_letter for name, cell in _header(sector_years).items()}
    phase = sector_years[f"{scolumn['phase']}2"]
    assert (phase.value, phase.data_type) == ("trading", "s")
    assert sector_years[f"{scolumn['implied_benchmark_t_per_unit (t CO2/unit of output)']}2"].number_format == (
        "#,##0.000")
    assert sector_years.column_dimensions[scolumn["sector"]].width >= len("rest_of_economy")
    assert 8 <= years.column_dimensions[column["allowance_price_cny_per_t (CNY/t CO2)"]].width <= 45


def test_workbook_summary_sheet_has_the_answers(china_book, china_results):
    sheet = china_book["Summary"]
    cells = {row[0].value: row for row in sheet.iter_rows() if row[0].value is not None}
    assert sheet["A1"].value == "etscap results: china"
    pv = cells["Abatement cost, present value"]
    assert pv[1].value == pytest.approx(china_results.summary["objective_bn_cny"])
    assert (pv[1].number_format, pv[2].value) == ("#,##0.00", "bn CNY")
    headings = [row[0].value for row in sheet.iter_rows() if row[0].font.b and row[0].font.sz == 12]
    assert headings == ["Headline numbers", "Price, caps, emissions and cost in the target years",
                        "What sets the price: the abatement measures at the margin", "Who pays in 2030 (bn CNY, 2030 money)",
                        "Installations in 2030"]
    target_years = [row[0].value for row in sheet.iter_rows()
                    if isinstance(row[0].value, int) and row[1].number_format == "#,##0.00"][:8]
    assert target_years == [2025, 2030, 2035, 2040, 2045, 2050, 2055, 2060]


def test_workbook_summary_sheet_layout_title_gap_heading_table_gap(tmp_path):
    """The Summary sheet: the title in A1, a blank row, then each heading in bold over its
    table (header with units, then rows) and one blank row before the next heading."""
    openpyxl = pytest.importorskip("openpyxl")
    from model.report.plots import write_workbook

    first = pd.DataFrame({"year": [2025, 2030], "ets_cap_mt": [80.0, 70.0]})
    second = pd.DataFrame({"sector": ["power"]})
    path = write_workbook(tmp_path / "book.xlsx", {"years": first}, summary=[("First", first), ("Second", second)],
                          title="etscap results: toy")
    sheet = openpyxl.load_workbook(path)["Summary"]
    assert [sheet.cell(row=r, column=1).value for r in range(1, 10)] == [
        "etscap results: toy", None, "First", "year", 2025, 2030, None, "Second", "sector"]
    assert sheet["B4"].value == "ets_cap_mt (Mt CO2)" and sheet["A10"].value == "power"
    assert sheet["A3"].font.b and sheet["A3"].font.sz == 12 and sheet["A8"].font.b


def test_workbook_writes_text_as_text(tmp_path):
    """A cell that looks like a formula stays text; numbers stay numbers, blanks stay empty."""
    openpyxl = pytest.importorskip("openpyxl")
    from model.report.plots import write_workbook

    table = pd.DataFrame({"sector": ["=1+1", "+steel", "power"], "cap_mt": [0.15, np.nan, 0.25],
                          "free_share": [0.5, 1.0, np.nan]})
    path = write_workbook(tmp_path / "book.xlsx", {"caps": table})
    sheet = openpyxl.load_workbook(path)["caps"]
    assert [(c.value, c.data_type) for c in sheet["A"][1:]] == [("=1+1", "s"), ("+steel", "s"), ("power", "s")]
    assert [c.value for c in sheet["B"][1:]] == [0.15, None, 0.25]
    assert sheet["B2"].number_format == "#,##0.00"  # a typical value of 0.2 Mt: two significant digits
    assert sheet["C2"].number_format == "0.0%"
    assert openpyxl.load_workbook(path).sheetnames == ["caps"]  # no Summary unless given


# -- a report that leads with findings (issue 16.6) ------------------------------------------


def _sections(page):
    return re.findall(r"<h2>([^<]+)</h2>", page)


def test_report_leads_with_findings(report):
    folder, _, _ = report
    page = (folder / "report.html").read_text()
    registry = (folder / "facility_years.parquet").exists()
    expected = ["Findings", "Charts", *(["Installations"] * registry), "Settings", "Years"]
    assert _sections(page)[:len(expected)] == expected
    findings = page[page.index("<h2>Findings</h2>"):page.index("<h2>Charts</h2>")]
    assert re.findall(r"<h3>([^<]+)</h3>", findings)[:3] == [
        "Headline numbers", "Price, caps, emissions and cost in the target years",
        "What sets the price: the abatement measures at the margin"]
    assert "<h3>Who pays in" in findings and "<img" not in findings
    assert "<th>Allowance price (CNY/t CO2)</th>" in findings  # headers in words with units


def test_report_embeds_no_local_paths(report):
    folder, _, _ = report
    page = (folder / "report.html").read_text()
    dataset = Results.read(folder).summary["dataset"]
    assert dataset.startswith("/") and dataset not in page and str(folder) not in page
    assert "<td>dataset</td>\n      <td>" + dataset.rsplit("/", 1)[-1] + "</td>" in page


def test_report_installations_section(china_report):
    page = (china_report[0] / "report.html").read_text()
    section = page[page.index("<h2>Installations</h2>"):page.index("<h2>Settings</h2>")]
    assert section.count("<img ") == 1 and 'id="installations"' in section
    assert "<h3>Net shortfall by region and sector in 2030 (Mt CO2; negative: surplus)</h3>" in section
    net = Results.read(china_report[0]).facilities.query("year == 2030")
    total = net.groupby("region")["shortfall_mt"].sum().sort_values(ascending=False)
    regions = re.findall(r"<tr>\s*<td>([^<]+)</td>", section)
    assert regions == total.index.tolist()  # largest shortfall first
    assert re.search(rf"<td>{total.index[0]}</td>(\s*<td>[^<]*</td>)*\s*<td>{total.iloc[0]:,.2f}</td>\s*</tr>", section)


def test_toy_findings_numbers(tmp_path, toy_results):
    folder = toy_results.write(tmp_path / "toy")  # its own folder: test_cli_report rewrites toy_report's for 2025
    write_report(folder)
    page = (folder / "report.html").read_text()
    findings = page[page.index("<h2>Findings</h2>"):page.index("<h2>Charts</h2>")]
    assert "The allowance price goes from 40 CNY/t in 2025 to 60 CNY/t in 2027" in findings
    assert re.search(r"<td>2027</td>\s*<td>60.00</td>\s*<td>steel</td>\s*<td>trading</td>\s*<td>B</td>", findings)
    assert re.search(r"<td>power</td>\s*<td>trading</td>\s*<td>1.40</td>\s*<td>-0.60</td>\s*<td>0.80</td>", findings)


def test_study_page_has_tables_not_dicts(tmp_path, toy_results):
    folder = write_study(tmp_path / "mc", toy_results, "montecarlo", "mac.*.*.cost_cny_per_t*", MC_FACTORS,
                         MC_FACTORS)
    info = json.loads((folder / "study.json").read_text())
    info.update(dataset="/home/someone/etscap/inputs/toy", versions={"python": "3.12"}, seconds={"start": 1.0},
                distributions={"mac.*.*.cost_cny_per_t*": {"kind": "lognormal", "mean": 0.0, "sigma": 0.1}})
    (folder / "study.json").write_text(json.dumps(info))
    write_report(folder)
    page = (folder / "report.html").read_text()
    assert _sections(page) == ["Findings", "Charts", "Settings", "Scenarios"]
    assert "{" not in page.split("</style>")[1] and "/home/someone" not in page
    assert re.search(r"<td>mac.\*.\*.cost_cny_per_t\*</td>\s*<td>lognormal</td>\s*<td>mean = 0, sigma = 0.1</td>",
                     page)
    assert "<h1>etscap study report: montecarlo of toy</h1>" in page


@pytest.fixture
def small_values_sweep(tmp_path, toy_results):
    """A sweep of the initial bank over 1e-05, 2.5e-05 and 1e+20 Mt (numbers whose short
    form has an exponent), read back as a Study."""
    folder = write_study(tmp_path / "sweep", toy_results, "sweep", "market.initial_bank_mt", [1e-05, 2.5e-05, 1e20],
                         [1.0, 1.1, 1.2])
    return Study.read(folder)


def test_inputs_varied_writes_swept_values_in_short_form(small_values_sweep):
    """The 'Inputs varied' table a reader sees: the swept values as Python's 'g' writes them
    (lower-case exponents), in the order swept."""
    table = inputs_varied(small_values_sweep)
    assert table.to_dict("records") == [{"input": "market.initial_bank_mt", "varied as": "values",
                                         "values or parameters": "1e-05, 2.5e-05, 1e+20"}]


def test_study_page_title_names_the_kind_and_the_dataset(small_values_sweep):
    """'etscap study report: sweep of toy' (the dataset's folder name); a study.json without
    a dataset names none, and one without a kind says 'study'."""
    def heading(info):
        page = study_html(dataclasses.replace(small_values_sweep, info=info), {}, {})
        title = re.search(r"<title>(.*)</title>", page).group(1)
        assert f"<h1>{title}</h1>" in page
        return title

    info = small_values_sweep.info
    assert heading(info) == "etscap study report: sweep of toy"
    assert heading({k: v for k, v in info.items() if k != "dataset"}) == "etscap study report: sweep of "
    assert heading({k: v for k, v in info.items() if k != "kind"}) == "etscap study report: study of toy"


def test_study_page_settings_table(small_values_sweep):
    """The Settings section: a 'setting' / 'value' table, numbers in short form (12.3456 s,
    1234.5 scenarios a second: not rounded to two decimals), the dataset by its folder name."""
    info = {**small_values_sweep.info, "dataset": "/home/someone/inputs/toy", "elapsed_seconds": 12.3456,
            "scenarios_per_second": 1234.5}
    page = study_html(dataclasses.replace(small_values_sweep, info=info), {}, {})
    settings = page[page.index("<h2>Settings</h2>"):page.index("<h2>Scenarios</h2>")]
    assert re.findall(r"<th>([^<]*)</th>", settings) == ["setting", "value"]
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*</tr>", settings)
    assert rows == [("kind", "sweep"), ("dataset", "toy"), ("n", "3"), ("seed", "7"), ("elapsed_seconds", "12.3456"),
                    ("scenarios_per_second", "1234.5"), ("parameters", "market.initial_bank_mt")]


CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium installed")
@pytest.mark.parametrize("which", ["toy_report", "montecarlo"])
def test_report_renders_in_chromium_without_broken_images(which, request, tmp_path):
    """Headless Chromium loads the page; a script marks every image that did not decode."""
    folder = request.getfixturevalue(which)[0]
    page = (folder / "report.html").read_text()
    probe = tmp_path / "probe.html"  # a copy with a probe script: the report itself has none
    probe.write_text(page.replace("</body>", "<script>window.onload = () => { document.body.dataset.images ="
                                  " [...document.images].map(i => i.complete && i.naturalWidth > 0 ? 'ok' : 'broken')"
                                  ".join(','); };</script></body>"))
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                           "--dump-dom", probe.as_uri()], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    states = re.search(r'data-images="([^"]*)"', done.stdout).group(1).split(",")
    assert states == ["ok"] * page.count("<img ") and len(states) >= 2


def test_cli_report_of_a_study_with_its_base(tmp_path, montecarlo, toy_report):
    """--base draws the base dataset's price path on the fan chart; it needs a study folder
    and a results folder."""
    folder = shutil.copytree(montecarlo[0], tmp_path / "mc")
    without = (folder / "plots" / "price_fan.png").read_bytes()
    result = CliRunner().invoke(cli, ["-q", "report", str(folder), "--base", str(toy_report[0])])
    assert result.exit_code == 0, result.output
    assert (folder / "plots" / "price_fan.png").read_bytes() != without
    wrong = CliRunner().invoke(cli, ["report", str(folder), "--base", str(tmp_path)])
    assert wrong.exit_code == 1
    assert wrong.output == (f"error: --base: {tmp_path} is not a results folder: years.csv, sector_years.csv, "
                            "abatement_steps.csv, summary.json missing: give the results folder `solve` wrote for "
                            "the study's dataset\n")
    not_a_study = CliRunner().invoke(cli, ["report", str(toy_report[0]), "--base", str(toy_report[0])])
    assert not_a_study.exit_code == 1
    assert not_a_study.output == (f"error: --base applies to a study folder; {toy_report[0]} is a results folder: "
                                  "leave --base out\n")


def test_results_figures_draw_installations_for_the_chosen_year(china_results):
    """The single-year charts of a report all show the --year asked for, the installations
    chart too (a mutation that drew it for the default year, 2030, survived the suite)."""
    figures = results_figures(china_results, 2040)
    rows = china_results.facilities.query("year == 2040")
    assert figures["installations"].get_suptitle() == (f"Installations in 2040: {len(rows):,}, "
                                                       f"{(rows['shortfall_mt'] > 0).sum():,} short of allowances")


# -- the helpers behind what a reader sees (each kills a one-token change in them) ----------


def test_sector_colours_follow_the_sectors_first_appearance():
    """tab10's colours in the order the sectors first appear (repeats ignored); eleven or
    more sectors take tab20's, so that no two sectors share a colour."""
    from matplotlib import color_sequences

    from model.report.plots import sector_colors
    assert sector_colors(["steel", "power", "steel", "rest"]) == {
        "steel": color_sequences["tab10"][0], "power": color_sequences["tab10"][1], "rest": color_sequences["tab10"][2]}
    ten = [f"s{i}" for i in range(10)]
    assert list(sector_colors(ten).values()) == list(color_sequences["tab10"])
    eleven = sector_colors([f"s{i}" for i in range(11)])
    assert list(eleven.values()) == list(color_sequences["tab20"][:11])


def test_sectors_ordered_as_the_ets_covers_them():
    """Covered first by the year their coverage starts (file order within a year), never
    covered last: the covered sectors stack below the others in every year."""
    from model.report.plots import sectors_by_coverage
    sector_years = pd.DataFrame({
        "sector": ["rest", "cement", "steel", "power"] * 2,
        "year": [2025] * 4 + [2026] * 4,
        "phase": ["outside", "outside", "trading", "simulation", "outside", "trading", "trading", "trading"]})
    assert sectors_by_coverage(sector_years) == ["steel", "power", "cement", "rest"]


def test_step_formatter_shows_the_decimals_the_tick_step_needs():
    """Ticks 0.02 apart at about 15,000 show two decimals with thousands separators; a step of
    0.25 needs two, 0.2 one, whole steps none; a tick at minus zero reads '0'."""
    from model.report.plots import StepFormatter
    formatter = StepFormatter()
    formatter.set_locs([14991.90, 14991.92, 14991.94])
    assert [formatter(x) for x in (14991.9, 14991.92)] == ["14,991.90", "14,991.92"]
    for locs, decimals in (([0.0, 0.25, 0.5], 2), ([0.0, 0.2, 0.4], 1), ([1000.0, 2000.0], 0), ([5.0], 0),
                           ([3.0, 3.0, 3.5], 1)):
        formatter.set_locs(locs)
        assert formatter.decimals == decimals, locs
    formatter.set_locs([-0.5, 0.0, 0.5])
    assert (formatter(-0.0001), formatter(-0.5), formatter(1234.5)) == ("0", "-0.5", "1,234.5")
    formatter.set_locs([0.0, 1e-8])
    assert formatter.decimals == StepFormatter.MAX_DECIMALS == 6
    formatter.set_locs([0.0, 1.00001])  # a step a hundred-thousandth off a whole number shows it
    assert formatter.decimals == 5


def test_flat_values_and_their_axis_limits():
    """Values within 1e-9 (relative, of at least 1) of each other are one value, drawn on an
    axis of +-1% around their median, at least +-1."""
    from model.report.plots import _flat_limits, _is_flat
    assert _is_flat([100.0, 100.0 + 1e-8, np.nan]) and _is_flat([]) and _is_flat([0.0, 5e-10])
    assert _is_flat([0.0, 1e-9])  # exactly at the tolerance
    assert not _is_flat([100.0, 100.0 + 1e-6]) and not _is_flat([0.0, 2e-9])
    assert _flat_limits([500.0, 500.0, np.inf]) == pytest.approx((495.0, 505.0))
    assert _flat_limits([0.5]) == pytest.approx((-0.5, 1.5))
    assert _flat_limits([-300.0]) == pytest.approx((-303.0, -297.0))
    assert _flat_limits([]) == (-1.0, 1.0)


def test_year_keys_are_told_from_quantities():
    """A swept year (trading_from, first_year) is drawn without a thousands separator."""
    from model.report.plots import _is_year
    assert _is_year("sectors.steel.trading_from") and _is_year("first_year")
    assert _is_year("sectors.*.covered_from")
    assert not _is_year("targets.2027.national_cap_mt") and not _is_year("discount_rate")
    assert not _is_year("sectors.steel.base_emissions_mt*") and not _is_year("unknown.steel.trading_from")


def test_number_formats_by_unit_and_size():
    """The workbook's (and the page's) number formats: years and counts plain or with
    separators, fractions as percentages, decimals by unit, more for small typical values
    (median of the non-zero magnitudes)."""
    from model.report.plots import number_format

    def fmt(column, values):
        return number_format(column, pd.Series(values))

    assert fmt("year", [2025, 2026]) == fmt("first_year", [2025]) == fmt("seed", [7]) == fmt("n", [3]) == "0"
    assert fmt("scenario", [0, 1]) == fmt("step", [1]) == "0"
    assert fmt("discount_factor", [1.0, 0.9]) == "0.0000"
    assert fmt("free_share", [0.5, 1.0]) == "0.0%"
    assert fmt("installations", [3, 4]) == fmt("count", [3.0, 40.0]) == "#,##0"
    assert fmt("emissions_mt", [100.0, 60.0]) == "#,##0.0"  # whole but with a unit: its decimals
    assert fmt("allowance_price_cny_per_t", [40.0, 60.0]) == fmt("cost_bn_cny", [1.5]) == "#,##0.00"
    assert fmt("benchmark_t_per_unit", [1.5]) == "#,##0.000"
    assert fmt("shortfall_mt", [0.15, -0.25, 0.0, 0.2]) == "#,##0.00"  # typical 0.2 Mt: two significant digits
    assert fmt("shortfall_mt", [0.0012, 0.0015]) == "#,##0.0000"
    assert fmt("shortfall_mt", [1e-12]) == "#,##0.000000"  # at most six decimals
    assert fmt("ratio", [0.5, 1.25]) == "#,##0.00"
    assert fmt("emissions_mt", [0.0, 0.0]) == "#,##0.0"
    assert fmt("banked", [True, False]) is None and fmt("sector", ["power"]) is None


def test_cell_text_is_the_number_as_its_format_writes_it():
    from model.report.plots import _cell_text
    assert _cell_text(1234.5, "#,##0.00") == "1,234.50"
    assert _cell_text(1234.5, "0.0000") == "1234.5000"
    assert _cell_text(0.1234, "0.0%") == "12.3%"
    assert _cell_text(2027, "0") == "2027"
    assert _cell_text(np.float64(12345.678), "#,##0") == "12,346"
    assert _cell_text(True, "0") == "True" and _cell_text("power", "0") == "power" and _cell_text(5, None) == "5"


def test_python_format_matches_the_excel_format():
    from model.report.plots import _python_format
    assert [_python_format(f) for f in ("#,##0.00", "#,##0", "0", "0.0000", "0.0%", "0%", "0.00%")] == [
        ",.2f", ",.0f", ".0f", ".4f", ".1%", ".0%", ".2%"]


def test_cell_as_text_on_the_page():
    """'-' for missing and infinite, yes/no, whole numbers as they are, floats with thousands
    separators and two decimals (or the format given)."""
    from model.report.plots import _text
    assert [_text(v) for v in (None, np.nan, np.inf, True, np.bool_(False), 7, np.int64(2027), 1234.567,
                               np.float32(0.5), "power")] == [
        "-", "-", "-", "yes", "no", "7", "2027", "1,234.57", "0.50", "power"]
    assert _text(0.000125, "g") == "0.000125" and _text(1e-05, "g") == "1e-05"


def test_html_table_headers_and_numbers():
    """Headers with units (column names, or in words when readable), numbers formatted as in
    the workbook, shares as percentages with '(%)', years plain, missing values '-'."""
    from model.report.plots import html_table
    table = pd.DataFrame({"year": [2025, 2030], "allowance_price_cny_per_t": [40.0, 1234.5],
                          "free_share": [0.5, np.nan], "sector": ["power", "steel"]})
    page = html_table(table)
    assert page.startswith('<div class="scroll"><table') and page.endswith("</table></div>")
    assert re.findall(r"<th>([^<]*)</th>", page) == ["year", "allowance_price_cny_per_t (CNY/t CO2)",
                                                     "free_share (%)", "sector"]
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells == ["2025", "40.00", "50.0%", "power", "2030", "1,234.50", "-", "steel"]
    readable = html_table(table, readable=True)
    assert re.findall(r"<th>([^<]*)</th>", readable) == ["Year", "Allowance price (CNY/t CO2)", "Free share (%)",
                                                         "Sector"]


def test_html_table_shows_whole_number_columns_plain_when_one_is_missing():
    """A year, count or seed column that holds a missing value is float (or Int64) in pandas:
    its numbers still show as whole numbers without separators (2027, 12000), the gap as '-',
    not '2027.0' or '<NA>'."""
    from model.report.plots import html_table
    table = pd.DataFrame({"year": [2025, 2026], "from_year": pd.array([2027, None], dtype="Int64"),
                          "first_year": [2027.0, np.nan], "n": [12000.0, np.nan], "seed": [7, 8]})
    assert re.findall(r"<td>([^<]*)</td>", html_table(table)) == [
        "2025", "2027", "2027", "12000", "7", "2026", "-", "-", "-", "8"]


def test_html_page_title_subtitle_and_sections():
    from model.report.plots import html_page
    page = html_page("a <b> report", [("First & last", "<p>x</p>")], subtitle="  Dataset toy.  ")
    assert "<title>a &lt;b&gt; report</title>" in page and "<h1>a &lt;b&gt; report</h1>" in page
    assert '<p class="subtitle">Dataset toy.</p>\n<h2>First &amp; last</h2>\n<p>x</p>\n</body>' in page
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    assert 'class="subtitle"' not in html_page("t", [], subtitle="   ")


def test_html_figures_caption_each_png_with_its_title_and_file(toy_results):
    from model.report.plots import html_figures
    figures = {"prices": plot_prices(toy_results)}
    page = html_figures(figures, {"prices": b"\x89PNG"})
    assert page == ('<figure id="prices"><img src="data:image/png;base64,iVBORw==" alt="Allowance price and '
                    'national carbon value"><figcaption>Allowance price and national carbon value '
                    '(plots/prices.png)</figcaption></figure>')


def test_summary_json_as_rows():
    from model.report.plots import summary_table
    table = summary_table({"status": "optimal", "market": {"banking": False, "initial_bank_mt": 0.0},
                           "years": ["2025", 2027]})
    # pandas' json_normalize puts the nested keys after the plain ones
    assert table.to_dict("list") == {"key": ["status", "years", "market.banking", "market.initial_bank_mt"],
                                     "value": ["optimal", '["2025", 2027]', False, 0.0]}
    assert summary_table({}).empty and list(summary_table({}).columns) == ["key", "value"]


def test_the_lead_says_an_overshoot_over_several_years_and_its_sources(toy_results):
    """The findings' first sentence on the toy (prices 40 -> 60 CNY/t, ETS cap 125 -> 90 Mt),
    then an overshoot of 1,234.56 Mt over 2026-2027 from two sources, each with its Mt;
    none is said for an overshoot of 0."""
    import dataclasses

    from model.report.plots import _overshoot_sentence, results_lead
    years = toy_results.years.assign(national_overshoot_mt=[0.0, 1000.0, 234.56])
    summary = {**toy_results.summary, "national_overshoot_mt": 1234.56,
               "national_overshoot_by_source_mt": {"offsets outside the national count": 1000.0,
                                                   "allowances sold at the price ceiling": 234.56}}
    results = dataclasses.replace(toy_results, years=years, summary=summary)
    assert results_lead(results) == (
        "The allowance price goes from 40 CNY/t in 2025 to 60 CNY/t in 2027 (year-t money) while the ETS cap goes "
        "from 125 to 90 Mt CO2; the abatement cost is 3 bn CNY in present value. The national target is exceeded "
        "by 1,234.6 Mt CO2 over the horizon (2026-2027): offsets outside the national count (1,000.0 Mt); "
        "allowances sold at the price ceiling (234.6 Mt).")
    no_sources = dataclasses.replace(results, summary={**summary, "national_overshoot_by_source_mt": {}})
    assert _overshoot_sentence(no_sources).endswith("(2026-2027): rules' allowances.")
    assert _overshoot_sentence(dataclasses.replace(results, summary={**summary, "national_overshoot_mt": 0.0})) == ""
    assert _overshoot_sentence(toy_results) == ""


def test_study_settings_shown_on_the_page():
    """The Settings a study page shows: the listed keys in their order, present and not
    None; the dataset and the study file by their names only; parameters and named
    scenarios joined."""
    from model.report.plots import _study_settings
    info = {"seed": 7, "kind": "montecarlo", "dataset": "/home/x/inputs/china", "study_file": "/home/x/s/mc.toml",
            "n": None, "workers": 2, "versions": {"python": "3.12"}, "parameters": ["a.b", "c.d"],
            "named_scenarios": ["banking", "aluminium-2030"]}
    assert _study_settings(info) == {"kind": "montecarlo", "dataset": "china", "study_file": "mc.toml", "seed": 7,
                                     "workers": 2, "parameters": "a.b, c.d",
                                     "named_scenarios": "banking, aluminium-2030"}
    assert _study_settings({"kind": "sweep"}) == {"kind": "sweep", "parameters": ""}


def test_a_study_without_an_optimal_scenario_has_nothing_to_draw(small_values_sweep, caplog):
    import dataclasses
    import logging

    from model.report.plots import study_figures
    with pytest.raises(EtscapError) as caught:
        study_figures(dataclasses.replace(small_values_sweep, years=small_values_sweep.years.iloc[:0]))
    assert str(caught.value) == "the study has no optimal scenario to draw: see scenarios.csv (status, message)"
    two = dataclasses.replace(small_values_sweep, info={**small_values_sweep.info, "parameters": ["a", "b"]})
    with caplog.at_level(logging.INFO, logger="model.report.plots"):
        assert list(study_figures(two)) == ["price_fan", "price_distribution"]
    assert "a sweep of 2 parameters: no plot against one swept value" in caplog.messages
    none = dataclasses.replace(small_values_sweep, info={**small_values_sweep.info, "parameters": []})
    with caplog.at_level(logging.INFO, logger="model.report.plots"):  # no swept value to plot against either
        assert list(study_figures(none)) == ["price_fan", "price_distribution"]
    assert "a sweep of 0 parameters: no plot against one swept value" in caplog.messages
    assert list(study_figures(small_values_sweep)) == ["price_fan", "price_distribution", "sweep"]


def test_who_pays_table_by_hand(toy_results):
    """2027 at 60 CNY/t: steel emits 40 Mt on 30 free, buys 10 Mt (0.6 bn) on top of its 0.4
    bn abatement cost, a burden of 1.0 bn (2% of its 50 bn value added), its free allowances
    worth 30 x 60 = 1.8 bn; power emits 50 on 60 free and sells 10 (-0.6 bn) besides its 1.4
    bn cost: 0.8 bn, and 3.6 bn of free allowances. Largest burden first. In 2025 steel
    simulates: its free allocation, the whole rule cap, has no market value."""
    from model.report.plots import burden_table
    table = burden_table(toy_results)  # the toy's last year, 2027
    assert table.columns.tolist() == ["sector", "phase", "abatement_cost_bn_cny", "allowance_purchases_bn_cny",
                                      "burden_bn_cny", "burden_share_of_value_added", "free_allocation_value_bn_cny"]
    assert table[["sector", "phase"]].values.tolist() == [["steel", "trading"], ["power", "trading"]]
    numbers = table.drop(columns=["sector", "phase"]).to_numpy()
    assert numbers.tolist() == [pytest.approx([0.4, 0.6, 1.0, 0.02, 1.8]), pytest.approx([1.4, -0.6, 0.8, 0.008, 3.6])]
    first = burden_table(toy_results, 2025)
    assert first[["sector", "phase"]].values.tolist() == [["power", "trading"], ["steel", "simulation"]]
    assert first["free_allocation_value_bn_cny"].tolist() == pytest.approx([78 * 40 / 1e3, 0.0])


def test_installations_summarised_by_sector_and_year():
    """Three steel installations in 2030 short by 1.5 and 2.5 Mt and long by 1 Mt (emitting
    10, 5 and 4 Mt); three power ones: short by 0.5 Mt of 20, exactly covered (0 of 8, not
    short) and short by 0.2 Mt with no emissions of its own (no share). By sector: how many,
    how many short, the shortfall and surplus, their compliance cost, and the median
    installation's shortfall share (steel: 0.15, 0.5, -0.25 -> 0.15; power: 0.025, 0 -> 0.0125)."""
    from model.report.plots import facility_summary, installations_table
    facilities = pd.DataFrame({
        "facility_id": ["s1", "s2", "s3", "p1", "p2", "p3", "s1"],
        "sector": ["steel", "steel", "steel", "power", "power", "power", "steel"],
        "year": [2030] * 6 + [2031], "region": ["Hebei", "Hebei", "Jiangsu", "Hebei", "Hebei", "Hebei", "Hebei"],
        "shortfall_mt": [1.5, 2.5, -1.0, 0.5, 0.0, 0.2, 3.0], "emissions_mt": [10.0, 5.0, 4.0, 20.0, 8.0, 0.0, 9.0],
        "compliance_cost_bn_cny": [0.1, 0.2, -0.05, 0.03, 0.0, 0.01, 0.3]})
    summary = facility_summary(facilities)
    assert summary.to_dict("list") == {
        "sector": ["steel", "power", "steel"], "year": [2030, 2030, 2031], "installations": [3, 3, 1],
        "installations_short": [2, 2, 1], "shortfall_mt": pytest.approx([4.0, 0.7, 3.0]),
        "surplus_mt": [1.0, 0.0, 0.0], "compliance_cost_bn_cny": pytest.approx([0.25, 0.04, 0.3])}
    table = installations_table(facilities, 2030)
    assert table["sector"].tolist() == ["power", "steel"]  # by name
    assert table[["installations", "installations_short", "shortfall_mt", "surplus_mt"]].values.tolist() == [
        [3, 2, pytest.approx(0.7), 0.0], [3, 2, 4.0, 1.0]]
    assert table["median_shortfall_share"].tolist() == pytest.approx([0.0125, 0.15])
    by_region = installations_table(facilities, 2030, by=["region", "sector"])
    assert by_region[["region", "sector", "installations", "median_shortfall_share"]].values.tolist() == [
        ["Hebei", "power", 3, pytest.approx(0.0125)], ["Hebei", "steel", 2, pytest.approx((0.15 + 0.5) / 2)],
        ["Jiangsu", "steel", 1, pytest.approx(-0.25)]]


def test_results_page_title_subtitle_and_settings(toy_results):
    """The toy's page: titled by the scenario's name, its description as the subtitle with
    the dataset's folder name and the status; the Settings table writes numbers in short
    form (0.1, 0.05), switches as yes/no, unset values as '-'; the sectors table is headed
    with the milestone years. Without a description the subtitle starts at 'Dataset'."""
    import dataclasses

    from model.report.plots import results_html
    page = results_html(toy_results, {}, {})
    assert "<title>etscap report: toy</title>" in page
    assert re.findall(r'<p class="subtitle">(.*?)</p>', page) == [
        "Power trades from 2025, steel simulates in 2025 and trades from 2026, rest of economy outside. "
        "Dataset toy, status optimal."]
    assert _sections(page) == ["Findings", "Charts", "Settings", "Years", "Sectors in 2025, 2026, 2027"]
    settings = page[page.index("<h2>Settings</h2>"):page.index("<h2>Years</h2>")]
    assert re.findall(r"<th>([^<]*)</th>", settings) == ["setting", "value"]
    rows = dict(re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*</tr>", settings))
    assert {key: rows[key] for key in ("name", "first_year", "discount_rate", "market.banking",
                                       "market.bank_limit_mt", "allocation.max_burden_share", "dataset")} == {
        "name": "toy", "first_year": "2025", "discount_rate": "0.1", "market.banking": "no",
        "market.bank_limit_mt": "-", "allocation.max_burden_share": "0.05", "dataset": "toy"}
    settings = {k: v for k, v in toy_results.summary["settings"].items() if k != "description"}
    plain = dataclasses.replace(toy_results, summary={**toy_results.summary, "settings": settings})
    assert re.findall(r'<p class="subtitle">(.*?)</p>', results_html(plain, {}, {})) == [
        "Dataset toy, status optimal."]
    dotted = dataclasses.replace(toy_results, summary={**toy_results.summary,
                                                       "settings": {**settings, "description": "A case."}})
    assert re.findall(r'<p class="subtitle">(.*?)</p>', results_html(dotted, {}, {})) == [
        "A case. Dataset toy, status optimal."]  # one full stop, not two
    # titled by the scenario's name (its settings' name), not the dataset's folder ("toy")
    named = dataclasses.replace(toy_results, summary={**toy_results.summary,
                                                      "settings": {**settings, "name": "tight 2030"}})
    assert "<title>etscap report: tight 2030</title>" in results_html(named, {}, {})


def test_plots_folder_refuses_a_file_in_its_place(tmp_path):
    from model.report.plots import plots_folder
    assert plots_folder(tmp_path) == tmp_path / "plots"  # not made yet: the figures' writer makes it
    (tmp_path / "plots").write_text("not a folder")
    with pytest.raises(EtscapError) as caught:
        plots_folder(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'plots'} is a file, not a folder: remove it and run report again"


def test_workbook_columns_fit_their_numbers_and_header_words(tmp_path):
    """A sheet's column is as wide as its widest formatted value or its header's longest word
    (headers wrap), at least 8 characters, plus 2, at most 45; the Summary sheet's at least 12.
    Key columns (year, sector) stay frozen with the header, and the sheet has a filter."""
    import openpyxl

    from model.report.plots import write_workbook
    table = pd.DataFrame({"year": [2025], "sector": ["power"], "allowance_price_cny_per_t": [1234567.891],
                          "source": ["x" * 60]})
    path = write_workbook(tmp_path / "book.xlsx", {"prices": table}, [("Heading", table[["year"]])], "title")
    book = openpyxl.load_workbook(path)
    sheet = book["prices"]
    widths = [sheet.column_dimensions[c].width for c in "ABCD"]
    # year: 8 + 2; sector: 'sector' 6 -> 8 + 2; price: '1,234,567.89' 12 and 'allowance_price_cny_per_t' 25 -> 27;
    # source: 60 -> 45
    assert widths == [10, 10, 27, 45]
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == "A1:D2"
    assert book["Summary"].column_dimensions["A"].width == 14 and book["Summary"]["A1"].value == "title"
    assert book.sheetnames == ["Summary", "prices"]
    long = pd.DataFrame({"note": ["a"] * 199 + ["b" * 20, "c" * 40]})  # only the first 200 rows are measured
    path = write_workbook(tmp_path / "long.xlsx", {"long": long})
    assert openpyxl.load_workbook(path)["long"].column_dimensions["A"].width == 22


def test_findings_headings_by_what_the_run_has(toy_results, toy_least_cost):
    """The findings' headed tables: who pays in the chosen year (default the toy's last, 2027)
    only with stage 2's burden; installations only with a registry."""
    from model.report.plots import results_findings
    common = ["Headline numbers", "Price, caps, emissions and cost in the target years",
              "What sets the price: the abatement measures at the margin"]
    assert [h for h, _ in results_findings(toy_results)] == [*common, "Who pays in 2027 (bn CNY, 2027 money)"]
    assert [h for h, _ in results_findings(toy_results, 2025)][-1] == "Who pays in 2025 (bn CNY, 2025 money)"
    assert [h for h, _ in results_findings(toy_least_cost)] == common
    who_pays_2025 = results_findings(toy_results, 2025)[-1][1]
    assert who_pays_2025["free_allocation_value_bn_cny"].tolist() == pytest.approx([78 * 40 / 1e3, 0.0])
