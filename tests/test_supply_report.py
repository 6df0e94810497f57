"""The report's chart of allowance supply by source, and the overshoot said plainly, on the
toy with forestry offsets (4.737 Mt in 2027, tests/families/test_offsets.py) or a price
ceiling of 50 CNY/t in 2027 (5 Mt sold, tests/families/test_price_ceiling.py)."""

import numpy as np
import pytest
from click.testing import CliRunner

from model import solve
from model.cli import cli
from model.report.plots import declared_supply_sources, plot_supply_by_source, results_figures, results_lead
from tests.conftest import TOY
from tests.families.test_offsets import with_offsets
from tests.families.test_price_ceiling import with_ceiling


def bar_heights(figure):
    """The bars of each source, by legend label: {label: heights by year}."""
    ax = figure.axes[0]
    return {container.get_label(): [bar.get_height() for bar in container] for container in ax.containers}


def test_supply_by_source_stacks_the_cap_and_the_offsets():
    results = solve(with_offsets(), allocation=False)
    heights = bar_heights(plot_supply_by_source(results))
    assert heights["Cap (allowances issued)"] == pytest.approx([125.0, 107.5, 90.0])
    assert heights["Offsets"] == pytest.approx([0.0, 0.0, 90 / 0.95 * 0.05])
    assert set(heights) == {"Cap (allowances issued)", "Offsets"}  # no column, no bar
    assert "supply_by_source" in results_figures(results)


def test_supply_sources_are_a_list_another_rule_can_extend():
    """A removal (sign -1) is drawn below zero."""
    results = solve(with_offsets(), allocation=False)
    results.years["withdrawn_mt"] = [0.0, 2.0, 0.0]
    figure = plot_supply_by_source(results, [*declared_supply_sources(results), ("withdrawn_mt", "Withdrawn", -1.0)])
    assert bar_heights(figure)["Withdrawn"] == pytest.approx([0.0, -2.0, 0.0])


def test_no_supply_chart_without_a_supply_rule():
    assert "supply_by_source" not in results_figures(solve(TOY, allocation=False))


def test_the_overshoot_is_said_in_the_report_and_the_cli(tmp_path):
    results = solve(with_ceiling(50.0), allocation=False)
    assert results_lead(results).endswith(
        "The national target is exceeded by 5.0 Mt CO2 over the horizon (2027): allowances sold at the price "
        "ceiling (5.0 Mt).")
    assert results.summary["national_overshoot_by_source_mt"] == pytest.approx(
        {"allowances sold at the price ceiling": 5.0})
    np.testing.assert_allclose(bar_heights(plot_supply_by_source(results))["Sales at the price ceiling"],
                               [0.0, 0.0, 5.0])
    with (tmp_path / "targets.csv").open("w") as handle:  # the toy with the ceiling, as a user would write it
        handle.write((TOY / "targets.csv").read_text().replace("year,national_cap_mt,ets_cap_mt,min_auction_share,source",
                                                               "year,national_cap_mt,ets_cap_mt,min_auction_share,source,price_ceiling_cny_per_t")
                     .replace("2025,170,,0,illustrative", "2025,170,,0,illustrative,")
                     .replace("2027,135,,0,illustrative", "2027,135,,0,illustrative,50"))
    for name in ("sectors.csv", "mac.csv", "scenario.toml"):
        (tmp_path / name).write_text((TOY / name).read_text())
    run = CliRunner().invoke(cli, ["solve", str(tmp_path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    assert ("national target exceeded by 5.0 Mt over the horizon (allowances sold at the price ceiling (5.0 Mt); "
            "years.csv national_overshoot_mt)") in run.output


def test_the_workbook_holds_the_supply_columns_and_the_overshoot(tmp_path):
    """years sheet: the offsets and ceiling columns with units; Summary: the overshoot row."""
    import openpyxl

    from model.report.plots import write_report

    dataset = with_offsets()
    results = solve(dataset.replace(targets=dataset.targets.assign(price_ceiling_cny_per_t=[None, 50.0])))
    results.write(tmp_path / "out")
    write_report(tmp_path / "out")
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    header = [cell.value for cell in book["years"][1]]
    assert {"offsets_used_mt (Mt CO2)", "ceiling_sales_mt (Mt CO2)", "offset_price_cny_per_t (CNY/t CO2)",
            "national_overshoot_mt (Mt CO2)"} <= set(header)
    rows = [row for row in book["Summary"].iter_rows(values_only=True) if row[0] and "exceeded" in str(row[0])]
    assert rows[0][:3] == ("National target exceeded by (over the horizon)", pytest.approx(5.0), "Mt CO2")


def test_cap_and_emissions_names_what_the_ets_emits_above_its_cap():
    """Offsets let the ETS emit 4.737 Mt above its 2027 cap: the hatch says where they come from."""
    from model.report.plots import plot_cap_and_emissions

    figure = plot_cap_and_emissions(solve(with_offsets(), allocation=False))
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "ETS above cap: from offsets" in labels


def test_cap_chart_shows_the_ceiling_overshoot_above_the_national_cap():
    """With a ceiling of 50 CNY/t the toy sells 5 Mt in 2027 that the national target does not
    count: the uncovered stack sits on the ETS cap plus those 5 Mt, so its top in 2027 is the
    national cap (135 Mt) + 5, the emissions actually emitted."""
    from model.report.plots import plot_cap_and_emissions
    from tests.test_report import _stack_tops

    results = solve(with_ceiling(50.0), allocation=False)
    years = results.years.set_index("year")
    top = _stack_tops(plot_cap_and_emissions(results).axes[0], "(outside ETS)")
    assert years.loc[2027, "national_overshoot_mt"] == pytest.approx(5.0)
    assert top[2027] == pytest.approx(years.loc[2027, "national_cap_mt"] + 5.0)
    assert top[2027] == pytest.approx(years.loc[2027, "emissions_mt"])


def test_the_charts_read_their_sources_from_the_results_written(tmp_path):
    """The supply chart's sources are the families' declarations, written to summary.json and
    read back with the results: the price ceiling of 50 CNY/t sells 5 Mt in 2027 (above), drawn
    from the folder alone; a label changed in summary.json is the label drawn."""
    from model import Results

    solve(with_ceiling(50.0), allocation=False).write(tmp_path / "out")
    results = Results.read(tmp_path / "out")
    declared = {entry["column"]: entry for entry in results.summary["charts"]["supply_by_source"]}
    assert declared["ceiling_sales_mt"] == {"column": "ceiling_sales_mt", "label": "Sales at the price ceiling",
                                            "sign": 1.0, "color": ""}
    assert [entry["column"] for entry in results.summary["charts"]["bank_rules"]] == [
        "cancelled_mt", "borrowed_mt", "withdrawn_mt"]
    np.testing.assert_allclose(bar_heights(plot_supply_by_source(results))["Sales at the price ceiling"],
                               [0.0, 0.0, 5.0])
    declared["ceiling_sales_mt"]["label"], declared["ceiling_sales_mt"]["sign"] = "Backstop sales", -1.0
    np.testing.assert_allclose(bar_heights(plot_supply_by_source(results))["Backstop sales"], [0.0, 0.0, -5.0])


def test_supply_legend_names_each_source_in_the_colour_of_its_bars(toy_results):
    """The legend beside the supply chart reads, top to bottom, the cap, the offsets and the
    withdrawals, each swatch in the colour of its own bars (tab10's first three): a legend
    whose swatches were matched to the axes' artists by position would colour the offsets
    like the cap's 2026 bar."""
    import dataclasses

    from matplotlib.colors import to_rgba

    years = toy_results.years.assign(offsets_used_mt=[0.0, 1.0, 4.0], withdrawn_mt=[0.0, 2.0, 0.0])
    results = dataclasses.replace(toy_results, years=years)
    sources = [("ets_cap_mt", "Cap (allowances issued)", 1.0), ("offsets_used_mt", "Offsets", 1.0),
               ("withdrawn_mt", "Withdrawn (unsold at the floor)", -1.0)]
    figure = plot_supply_by_source(results, sources)
    legend = figure.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == [label for _, label, _ in sources]
    tab10 = [to_rgba(f"C{i}") for i in range(3)]
    assert [tuple(handle.get_facecolor()) for handle in legend.legend_handles] == tab10
    ax = figure.axes[0]
    assert [tuple(c.patches[0].get_facecolor()) for c in ax.containers] == tab10
    assert bar_heights(figure) == {"Cap (allowances issued)": pytest.approx([125.0, 107.5, 90.0]),
                                   "Offsets": pytest.approx([0.0, 1.0, 4.0]),
                                   "Withdrawn (unsold at the floor)": pytest.approx([0.0, -2.0, 0.0])}
    assert (ax.get_title(), ax.get_ylabel()) == ("Allowance supply by source", "Allowance supply (Mt CO2)")
