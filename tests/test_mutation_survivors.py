"""Tests for mutants of model/ that survived ``benchmarks/mutation.py`` (the known
``limit_variables__mutmut_83``, then ``--sample 40`` with ``--seed 41``, ``42`` and ``43``): each states
the behaviour the mutant broke (named in the docstring) with numbers or exact text, and fails
with that mutant."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from model import solve
from tests.conftest import TOY, refusal


def test_a_market_wide_limit_alone_lets_a_sector_cancel_what_the_market_cannot_bank():
    """The toy with banking, an initial bank of 30 Mt, ETS caps 125 / (107.5) / 90 Mt and only
    a market-wide limit of 2 Mt (no sector base): the bank is held sector by sector and a
    sector without a base of its own may cancel in any year because the market's limit can
    bind (bank_limits.limit_variables reads ``market.bank_limit_mt`` for the cancellations'
    bound; misspelt, power could cancel only in 2027 and 2025 would be infeasible).

    2025: only power trades; its cap is 125 - 47 (steel's rule cap) = 78 Mt, with the 30 Mt
    initial bank it holds 108 against BAU 100 at a zero price and may bank 2: it cancels
    108 - 100 - 2 = 6 Mt. 2026: 2 Mt in, 2 Mt out (the limit binds: 60 > 40 x 1.1), so the
    trading sectors cut 150 - 107.5 = 42.5 Mt: power A 20 @ 10, steel A 5 @ 20, 17.5 of
    power B @ 40: price 40. 2027: 150 - 90 - 2 = 58 Mt: power A + B 50, steel A 5, 3 of
    steel B @ 60: price 60."""
    results = solve(TOY, overrides={"market.banking": "true", "market.bank_limit_mt": 2, "market.initial_bank_mt": 30,
                                    "targets.2025.ets_cap_mt": 125, "targets.2027.ets_cap_mt": 90})
    years = results.years
    assert years["cancelled_mt"].tolist() == pytest.approx([6.0, 0.0, 0.0])
    assert years["bank_mt"].tolist() == pytest.approx([2.0, 2.0, 0.0])
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([0.0, 40.0, 60.0])
    power_2025 = results.sector_years.query("sector == 'power' and year == 2025").iloc[0]
    assert (power_2025["bank_mt"], power_2025["cancelled_mt"]) == pytest.approx((2.0, 6.0))
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_a_run_has_one_colour_in_every_comparison_chart_whatever_the_users_style():
    """With a user's matplotlib style whose colour cycle is red, green, the comparison still
    draws each run in its own tab10 colour (blue, orange) in every chart, free allocation
    included (compare._plot_free_allocation passes the run's colour, not the axes' cycle)."""
    import matplotlib as mpl
    from cycler import cycler
    from matplotlib.colors import to_hex

    from model import compare
    from model.studies.compare import comparison_figures

    comparison = compare([solve(TOY), solve(TOY, overrides={"market.banking": "true"})], labels=["a", "b"])
    with mpl.rc_context({"axes.prop_cycle": cycler(color=["red", "green"])}):
        figures = comparison_figures(comparison)
    blue, orange = (to_hex(c) for c in mpl.color_sequences["tab10"][:2])
    for name in ("prices", "ets_cap_and_emissions", "free_allocation"):
        for ax in figures[name].axes:
            assert [(line.get_label(), to_hex(line.get_color())) for line in ax.lines] == [("a", blue), ("b", orange)]


def test_pngs_carry_no_software_stamp(tmp_path):
    """Plots are the same bytes for the same figure whatever matplotlib wrote them: no
    "Software" text chunk (report.figure_png and the comparison's compare._png both drop it)."""
    from PIL import Image

    from model import compare
    from model.report.plots import results_figures

    comparison = compare([solve(TOY), solve(TOY, overrides={"market.banking": "true"})], labels=["a", "b"])
    folder = comparison.write(tmp_path / "compare")
    pngs = sorted((folder / "plots").glob("*.png"))
    assert pngs
    for png in pngs:
        with Image.open(png) as image:
            assert "Software" not in image.info, png.name
    from model.report.plots import figure_png

    figure = next(iter(results_figures(solve(TOY)).values()))
    with Image.open(io.BytesIO(figure_png(figure))) as image:
        assert "Software" not in image.info


def test_a_study_page_has_no_subtitle():
    """The study report page has a title and then the findings: html_page's subtitle is
    empty unless given (report.html_page), so no subtitle paragraph is written."""
    from model.report.plots import html_page, study_html
    from model.studies.study import sweep

    study = sweep(TOY, {"targets.2027.national_cap_mt": [130, 140]}, client=None)
    page = study_html(study, {}, {})
    assert 'class="subtitle"' not in page
    assert re.search(r"<h1>etscap study report: sweep of toy</h1>\n<h2>Findings</h2>", page)
    assert '<p class="subtitle">' not in html_page("t", [("A", "<p>x</p>")])
    assert '<p class="subtitle">given</p>' in html_page("t", [("A", "<p>x</p>")], subtitle="given")


def test_a_serial_study_chunks_a_quarter_of_its_scenarios_per_task():
    """Without scenarios_per_task, a study in this process (one worker) takes
    ceil(9 / (4 x 1)) = 3 scenarios a task, so a 9-scenario sweep is 3 tasks (studies.run_scenarios);
    50 at most."""
    from model.studies.study import sweep

    study = sweep(TOY, {"targets.2027.national_cap_mt": [130 + i for i in range(9)]}, client=None)
    assert study.info["scenarios_per_task"] == 3
    assert (study.scenarios["status"] == "optimal").all()
    # where it ran, in words and as the number of workers (this process counts as one)
    assert (study.info["run_on"], study.info["workers"], study.info["resumed_scenarios"]) == ("this process", 1, 0)


def test_price_percentiles_name_their_columns_by_percentile_and_unit():
    """Prices 10, 20, 30 CNY/t in 2030 over three scenarios: p5 11, median 20, p95 29 (linear
    between the sorted draws); the columns keep the unit last (allowance_price_median_cny_per_t),
    and a column without a price unit gets the percentile appended (emissions_mt_median)."""
    import pandas as pd

    from model.report.plots import price_percentiles

    years = pd.DataFrame({"year": [2030] * 3, "allowance_price_cny_per_t": [10.0, 30.0, 20.0],
                          "emissions_mt": [5.0, 7.0, 6.0]})
    table = price_percentiles(years)
    assert list(table.columns) == ["year", "allowance_price_p5_cny_per_t", "allowance_price_median_cny_per_t",
                                   "allowance_price_p95_cny_per_t", "scenarios"]
    assert table.iloc[0, 1:].tolist() == pytest.approx([11.0, 20.0, 29.0, 3])
    assert list(price_percentiles(years, "emissions_mt").columns)[1:4] == [
        "emissions_mt_p5", "emissions_mt_median", "emissions_mt_p95"]


def test_a_triangular_distribution_of_one_point_is_refused():
    """low = mode = high satisfies low <= mode <= high but leaves nothing to draw: refused
    with the same message (studies.distribution checks low < high for a triangular)."""
    from model import InputError
    from model.studies.study import distribution

    with pytest.raises(InputError) as caught:
        distribution({"kind": "triangular", "low": 1.0, "mode": 1.0, "high": 1.0})
    assert str(caught.value) == ("distribution.mode: found 'low 1.0, mode 1.0, high 1.0', "
                                 "expected low <= mode <= high with low < high")


def test_a_file_is_staged_hidden_beside_its_target(tmp_path):
    """write_file hands the writer a hidden temporary file in the target's folder (so the
    final rename stays on one file system and is atomic): .prices.csv.writing-XXXX.csv."""
    from model.results.tables import write_file

    seen = []

    def writer(path):
        seen.append(path)
        path.write_text("year\n2025\n")

    out = write_file(tmp_path / "prices.csv", writer)
    (staging,) = seen
    assert staging.parent == tmp_path and staging.name.startswith(".prices.csv.writing-")
    assert staging.suffix == ".csv"
    assert out.read_text() == "year\n2025\n" and [p.name for p in tmp_path.iterdir()] == ["prices.csv"]


def test_a_writer_that_removed_its_partial_file_still_gets_the_write_error(tmp_path):
    """A writer failing with an OSError after removing its own partial file (the staging
    file is gone): the user gets the write error naming the file, not a FileNotFoundError
    from the clean-up (results.write_file unlinks with missing_ok)."""
    import errno

    from model import EtscapError
    from model.results.tables import write_file

    def writer(path):
        path.unlink()
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "prices.csv"
    with pytest.raises(EtscapError) as caught:
        write_file(out, writer)
    assert str(caught.value) == (f"cannot write {out}: No space left on device; nothing was replaced; "
                                 "free some space or choose another --out")
    assert list(tmp_path.iterdir()) == []


def test_nothing_is_repaid_in_the_first_market_year():
    """The toy with 10% borrowing: each year's market row has +1 x borrowed[t] as supply
    (written -1: the row is demand - supply) and, from the second year on, the repayment of
    borrowed[t-1] (+1); the first year repays nothing, so its row has no other borrowing
    term (borrowing.borrowed_and_repaid: only positions > 0 repay; with >= 0 the first year
    would take borrowed[-1], the last year's column)."""
    from tests.families.helpers import rows_of, toy_parameters

    rows = rows_of(toy_parameters({"market.borrowing_limit_share": 0.1}), "market_balance")
    borrowing = {year: {name: coef for name, coef in row["coefs"].items() if name.startswith("borrowed_mt")}
                 for year, row in rows.items()}
    assert borrowing == {2025: {"borrowed_mt[2025]": -1.0},
                         2026: {"borrowed_mt[2026]": -1.0, "borrowed_mt[2025]": 1.0},
                         2027: {"borrowed_mt[2027]": -1.0, "borrowed_mt[2026]": 1.0}}


def test_the_findings_show_who_pays_in_the_last_year_by_default():
    """The toy models 2025-27 (not 2030), so the findings' single year is the last, 2027
    (report.results_findings chooses it): price 60, caps power 60 and steel 30 Mt, all free
    (max free share 1). Steel abates 10 Mt (0.4 bn), emits 40, buys 10 Mt (0.6 bn): burden
    1.0 bn = 2% of its 50 bn value added; power abates 50 Mt (1.4 bn), emits 50, sells 10
    (-0.6 bn): 0.8 bn = 0.8% of 100 bn. Free allocation worth 30 x 60 = 1.8 and 60 x 60 = 3.6 bn."""
    from model.report.plots import results_findings

    blocks = dict(results_findings(solve(TOY)))
    assert list(blocks)[3:] == ["Who pays in 2027 (bn CNY, 2027 money)"]
    table = blocks["Who pays in 2027 (bn CNY, 2027 money)"]
    assert table["sector"].tolist() == ["steel", "power"]
    for column, expected in {"abatement_cost_bn_cny": [0.4, 1.4], "allowance_purchases_bn_cny": [0.6, -0.6],
                             "burden_bn_cny": [1.0, 0.8], "burden_share_of_value_added": [0.02, 0.008],
                             "free_allocation_value_bn_cny": [1.8, 3.6]}.items():
        assert table[column].tolist() == pytest.approx(expected), column


def test_the_workbook_decimals_follow_the_unit():
    """Mt CO2 to 0.1, CNY/t and bn CNY to 0.01, a benchmark (t CO2/unit of output) to 0.001
    (report.number_format reads UNIT_DECIMALS by the column's unit); a typical value below 1
    gets two significant digits (0.15 Mt: 0.01)."""
    from model.report.plots import number_format

    values = pd.Series([125.0, 107.5])
    assert number_format("emissions_mt", values) == "#,##0.0"
    assert number_format("allowance_price_cny_per_t", values) == "#,##0.00"
    assert number_format("abatement_cost_bn_cny", values) == "#,##0.00"
    assert number_format("benchmark_t_per_unit", values) == "#,##0.000"
    assert number_format("emissions_mt", pd.Series([0.15, 0.25])) == "#,##0.00"


def test_solving_a_pyomo_model_is_quiet_unless_asked(capfd):
    """solve_model prints nothing by default (HiGHS's log only with verbose=True)."""
    from model import build_model, load_dataset
    from model.solving.highs import solve_model

    solution = solve_model(build_model(load_dataset(TOY)))
    assert solution.objective == pytest.approx(3147.024793, abs=1e-6)
    assert capfd.readouterr().out == ""
    solve_model(build_model(load_dataset(TOY)), verbose=True)
    assert "HiGHS" in capfd.readouterr().out


def test_a_workbook_year_stored_as_a_float_is_read_as_the_year(tmp_path):
    """Some tools store a whole number as 2025.0 in the sheet's XML (openpyxl then reads a
    float): an int setting such as base_year takes it as 2025 (workbook._read_settings turns
    a whole float into an int for an int setting), rather than refusing a non-whole number."""
    import zipfile

    import openpyxl

    from model import load_dataset
    from model.data.workbook import export_workbook

    path = export_workbook(TOY, tmp_path / "toy.xlsx")
    sheet = f"xl/worksheets/sheet{openpyxl.load_workbook(path).sheetnames.index('scenario') + 1}.xml"
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == sheet:
                assert data.count(b'<c r="B4" t="n"><v>2025</v>') == 1  # base_year, row 4
                data = data.replace(b'<c r="B4" t="n"><v>2025</v>', b'<c r="B4" t="n"><v>2025.0</v>')
            target.writestr(item, data)
    assert openpyxl.load_workbook(edited)["scenario"]["B4"].value == 2025.0
    dataset = load_dataset(edited)
    assert dataset.settings["base_year"] == 2025 and type(dataset.settings["base_year"]) is int


def test_every_check_says_its_unit():
    """Quantity checks report their worst violation in Mt, the price and cost checks as a
    share (relative), and a failure names the unit: power's 2026 benchmark (its 71.67 Mt cap
    over 100 TWh) reported 1e-5 t/MWh higher puts benchmark x output 0.001 Mt above the cap
    (checks.run_checks' table of checks and units)."""
    from model.results.checks import failed, run_checks

    results = solve(TOY)
    relative = {"price_ceiling", "price_floor", "equal_marginal_cost", "hotelling", "stage2_cost_within_tolerance",
                "stage2_at_its_optimum"}
    assert {name: r["unit"] for name, r in results.summary["checks"].items()} == {
        name: "relative" if name in relative else "Mt" for name in (
            "national_count", "sector_compliance", "market_clearing", "national_target", "cap_split",
            "market_balance", "simulation_compliance", "abatement_within_potential", "emissions_add_up",
            "bank_limits", "offset_limit", "price_ceiling", "price_floor", "reserve_release", "supply_adjustment",
            "equal_marginal_cost", "hotelling", "allocation_bounds", "facility_compliance", "cap_rules",
            "deployment_limits", "stage2_keeps_stage1", "stage2_cost_within_tolerance", "stage2_at_its_optimum")}
    sector_years = results.sector_years.copy()
    at = (sector_years["sector"] == "power") & (sector_years["year"] == 2026)
    sector_years.loc[at, "benchmark_t_per_unit"] += 1e-5
    report = run_checks(results.years, sector_years, results.abatement_steps, results.summary["market"])
    assert failed(report) == ["cap_rules (worst violation 0.001 Mt)"]


def test_each_limited_sector_year_has_both_regimes_rows():
    """With a sales factor (power base 0 x 0.2, steel base 1 x 1.5) every limited trading
    sector-year has its allowances row and the five rows of the two regimes, each named
    (bank_limits.define_bank_limits); the buyer's limit is bank <= base, loose for a seller
    by a big-M of the allowances it could hold: steel 2026, (170 + 152.5 issued + 1) x 1.5 =
    485.25; power 2025, (170 + 1) x 0.2 = 34.2."""
    from tests.families.helpers import rows_of, toy_parameters
    from tests.families.test_bank_limits import SALES

    rows = rows_of(toy_parameters(SALES), "bank_limits")
    kinds = {"allowances", "limit", "buyer_limit", "seller_sells", "buyer_buys", "buyer_keeps"}
    for sector_year in [("power", 2025), ("power", 2026), ("power", 2027), ("steel", 2026), ("steel", 2027)]:
        assert {kind for kind, *key in rows if tuple(key) == sector_year} == kinds, sector_year
    assert {kind for kind, *_ in rows} == kinds | {"market_bank"}
    steel = rows[("buyer_limit", "steel", 2026)]
    assert (steel["lower"], steel["upper"]) == (-np.inf, 1.0)
    assert steel["coefs"] == {"sector_bank_mt[('steel', 2026)]": 1.0, "net_seller[('steel', 2026)]": -485.25}
    power = rows[("buyer_limit", "power", 2025)]
    assert power["upper"] == 0.0
    assert power["coefs"] == {"sector_bank_mt[('power', 2025)]": 1.0,
                              "net_seller[('power', 2025)]": pytest.approx(-34.2)}


def test_an_old_results_folder_s_settings_come_from_its_tables():
    """A folder written before summary.json recorded the settings: the report derives the
    first and last year from years.csv (2025, 2027) and the discount rate from two
    consecutive discount factors, 1 / (1 / 1.1) - 1 = 0.1 (report.scenario_settings)."""
    import dataclasses

    from model.report.plots import scenario_settings

    results = solve(TOY)
    old = dataclasses.replace(results, summary={k: v for k, v in results.summary.items() if k != "settings"})
    settings = scenario_settings(old)
    assert (settings["first_year"], settings["last_year"]) == (2025, 2027)
    assert settings["discount_rate"] == pytest.approx(0.1)
    assert settings["market.banking"] is False and settings["market.initial_bank_mt"] == 0.0


def test_a_study_file_that_cannot_be_read_says_to_check_its_permissions(tmp_path, monkeypatch):
    """A study file that exists but cannot be read (permission denied) is named with the
    reason and what to do (studies.read_study_toml)."""
    from pathlib import Path

    from model import InputError
    from model.studies.study import read_study_toml

    study_file = tmp_path / "study.toml"
    study_file.write_text("[sweep]\n")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(InputError) as caught:
        read_study_toml(study_file)
    assert str(caught.value) == (f"{study_file}: found 'a file that cannot be read (Permission denied)', "
                                 "expected a file this user can read (check its permissions)")


def test_comparison_charts_tick_whole_years():
    """Over the toy's three years every comparison chart's year axis ticks whole years only
    (compare._year_axis: an integer locator; matplotlib would otherwise tick 2025.5)."""
    from model import compare
    from model.studies.compare import comparison_figures

    comparison = compare([solve(TOY), solve(TOY, overrides={"market.banking": "true"})], labels=["a", "b"])
    for name, figure in comparison_figures(comparison).items():
        figure.canvas.draw()
        for ax in figure.axes:
            if ax.get_xlabel() == "Year":
                ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
                assert ticks and all(float(t).is_integer() for t in ticks), (name, ticks)


def test_a_long_horizon_s_price_chart_enlarges_2025_to_2035(tmp_path):
    """Over 2025-2045 (more than 15 years) the comparison's price chart has a second panel,
    2025-2035, holding those eleven years of each run (compare._plot_prices filters
    span[0] <= year <= span[1]). Power alone: BAU 100 Mt, cap 100 in 2025 to 80 in 2045
    (1 Mt less a year), one step of 30 Mt at 10 CNY/t: the price is 10 from 2026 on."""
    from model import compare
    from model.studies.compare import comparison_figures
    from tests.conftest import write_dataset

    folder = write_dataset(
        tmp_path / "long", sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.3, "cost_cny_per_t": 10}],
        targets=[{"year": 2025, "national_cap_mt": 100}, {"year": 2045, "national_cap_mt": 80}],
        first_year=2025, last_year=2045, discount_rate=0.1)
    comparison = compare([solve(folder, allocation=False), solve(folder, allocation=False)], labels=["a", "b"])
    everything, detail = comparison_figures(comparison)["prices"].axes
    assert (everything.get_title(), detail.get_title()) == ("All years", "2025-2035")
    assert [list(line.get_xdata()) for line in detail.lines] == [list(range(2025, 2036))] * 2
    assert list(detail.lines[0].get_ydata()) == pytest.approx([0.0] + [10.0] * 10)
    assert list(everything.lines[0].get_xdata()) == list(range(2025, 2046))


# -- issue 18, user-facing outputs: the contract of each chart, page, workbook and message ------------------


@pytest.fixture(scope="module")
def toy_and_banking():
    """The toy (prices 40, 40, 60 CNY/t) and the toy with banking (40, 40, 44), labelled a and b."""
    from model import compare

    return compare([solve(TOY), solve(TOY, overrides={"market.banking": "true"})], labels=["a", "b"])


def _chart(figure):
    """What a reader sees of a chart: its title, each panel's title and axis labels, the legend."""
    suptitle = figure.get_suptitle()
    panels = [(ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in figure.axes]
    legends = [[text.get_text() for text in legend.get_texts()] for legend in figure.legends]
    return suptitle, panels, legends


def test_every_comparison_chart_says_what_it_shows(toy_and_banking):
    """The five comparison charts' titles, panel titles, axis labels (with units) and legends,
    exactly as a reader sees them (compare._plot_*: e.g. the cap chart's suptitle "ETS cap and
    emissions by run", not upper-cased)."""
    from model.studies.compare import comparison_figures

    charts = {name: _chart(figure) for name, figure in comparison_figures(toy_and_banking).items()}
    assert charts == {
        "prices": ("Allowance price by run (year-t money)", [("All years", "Year", "Allowance price (CNY/t CO2)")],
                   [["a", "b"]]),
        "price_difference": ("Allowance price minus a's", [("", "Year", "Price difference (CNY/t CO2)")], [["b"]]),
        "ets_cap_and_emissions": ("ETS cap and emissions by run",
                                  [("ETS cap", "Year", "Mt CO2"), ("ETS sectors' emissions", "Year", "")],
                                  [["a", "b"]]),
        "cost_by_sector": ("Abatement cost by sector (present value, all years)",
                           [("", "", "Abatement cost, present value (bn CNY)")], [["a", "b"]]),
        "free_allocation": ("Free allocation and auction revenue by run",
                            [("Free allocation", "Year", "Mt CO2"), ("Auction revenue", "Year", "bn CNY")],
                            [["a", "b"]]),
    }


def test_the_comparison_charts_draw_each_runs_numbers(toy_and_banking):
    """The lines and bars hold the runs' numbers. Cap 125, 107.5, 90 Mt in both runs; the
    toy emits its cap, with banking 125, 102.5, 95 (5 Mt banked in 2026, spent in 2027).
    Price difference b - a: 0, 0, 44 - 60 = -16. Present value of abatement cost at 10%
    (factors 1, 1/1.1, 1/1.21), bars sorted by the larger run: power a 0.28 + 0.9/1.1 +
    1.4/1.21 = 2.2552, b 0.28 + 1.1/1.1 + 1.4/1.21 = 2.4370; steel a 0.06 + 0.1/1.1 + 0.4/1.21
    = 0.4815, b 0.06 + 0.1/1.1 + 0.1/1.21 = 0.2336; rest 0.15 x (1 + 1/1.1 + 1/1.21) = 0.4103
    in both; two bars 0.4 wide either side of each sector's tick. Free allocation = the cap
    (all free), auction revenue 0."""
    from model.studies.compare import comparison_figures

    figures = comparison_figures(toy_and_banking)
    cap, emissions = figures["ets_cap_and_emissions"].axes
    assert cap.get_shared_y_axes().joined(cap, emissions)  # one scale: the cap reads against the emissions
    assert [list(line.get_xdata()) for line in cap.lines] == [[2025, 2026, 2027]] * 2
    assert [list(line.get_ydata()) for line in cap.lines] == [pytest.approx([125, 107.5, 90])] * 2
    assert [list(line.get_ydata()) for line in emissions.lines] == [pytest.approx([125, 107.5, 90]),
                                                                    pytest.approx([125, 102.5, 95])]
    assert [line.get_linestyle() for line in cap.lines] == ["-", "--"]
    (prices,) = figures["prices"].axes
    assert [list(line.get_ydata()) for line in prices.lines] == [pytest.approx([40, 40, 60]),
                                                                 pytest.approx([40, 40, 44])]
    (difference,) = figures["price_difference"].axes
    assert [line.get_label() for line in difference.lines[:1]] == ["b"]
    assert list(difference.lines[0].get_ydata()) == pytest.approx([0, 0, -16])
    (costs,) = figures["cost_by_sector"].axes
    assert [t.get_text() for t in costs.get_xticklabels()] == ["power", "steel", "rest"]
    bars = [(round(p.get_x() + p.get_width() / 2, 9), p.get_width(), p.get_height()) for p in costs.patches]
    expected = [(-0.2, 0.4, 2.255207), (0.8, 0.4, 0.481488), (1.8, 0.4, 0.410331),  # a's bars, then b's
                (0.2, 0.4, 2.437025), (1.2, 0.4, 0.233554), (2.2, 0.4, 0.410331)]
    assert bars == [pytest.approx(bar, abs=1e-6) for bar in expected]
    free, revenue = figures["free_allocation"].axes
    assert [list(line.get_ydata()) for line in free.lines] == [pytest.approx([125, 107.5, 90])] * 2
    for ax in (prices, difference, cap, emissions, free, revenue):  # every line by year (not by row number)
        runs = [line for line in ax.lines if line.get_label() in ("a", "b")]
        assert [list(line.get_xdata()) for line in runs] == [[2025, 2026, 2027]] * (1 if ax is difference else 2)
        assert [line.get_linestyle() for line in runs] == (["--"] if ax is difference else ["-", "--"])
    assert [list(line.get_ydata()) for line in revenue.lines] == [pytest.approx([0, 0, 0])] * 2


def test_a_results_workbook_is_titled_with_the_scenario_its_settings_name(tmp_path):
    """results.xlsx's Summary sheet opens with "etscap results: <name>", the name from the
    settings summary.json records (report.write_results_report reads settings['name'], the
    scenario field only for a folder without settings): a folder whose summary.json was
    written without the separate scenario field is still titled by its settings."""
    import json
    import re
    import zipfile

    import openpyxl
    from click.testing import CliRunner

    from model.cli import cli
    from model.report.plots import write_results_report

    folder = tmp_path / "toy"
    assert CliRunner().invoke(cli, ["-q", "solve", str(TOY), "--set", "name=toy-renamed", "--out", str(folder)]
                              ).exit_code == 0
    write_results_report(folder)
    assert openpyxl.load_workbook(folder / "results.xlsx")["Summary"]["A1"].value == "etscap results: toy-renamed"
    # every cell's type is one Excel opens (ECMA-376 ST_CellType): the title an inline string
    with zipfile.ZipFile(folder / "results.xlsx") as book:
        sheets = [book.read(name).decode() for name in book.namelist() if name.startswith("xl/worksheets/sheet")]
    types = {t for sheet in sheets for t in re.findall(r'<c r="[A-Z]+\d+"[^>]*? t="([^"]*)"', sheet)}
    assert types and types <= {"b", "d", "e", "inlineStr", "n", "s", "str"}, types
    assert re.search(r'<c r="A1"[^>]*? t="inlineStr"><is><t>etscap results: toy-renamed</t>', sheets[0])
    summary = json.loads((folder / "summary.json").read_text())
    del summary["scenario"]
    (folder / "summary.json").write_text(json.dumps(summary))
    write_results_report(folder)
    assert openpyxl.load_workbook(folder / "results.xlsx")["Summary"]["A1"].value == "etscap results: toy-renamed"


def test_the_comparison_page_and_workbook_say_what_differs(toy_and_banking, tmp_path):
    """compare.html: title "etscap comparison: a vs b", the four sections in order, each chart
    captioned by its title and file; the runs' PV costs 3.15 and 3.08 bn CNY, b's difference
    -0.07 bn = -2.1% (to 3 significant digits); headline b - a in 2027: price 44 - 60 = -16,
    emissions 140 - 135 = +5; the one setting b changed, market.banking = true (the name is
    not a change). compare.xlsx: one sheet per table and per run's years, headers frozen,
    each column as wide as its longest text + 2 (at least 10, at most 50: the quantity
    column fits national_carbon_value_cny_per_t, 31 characters, so 33)."""
    import openpyxl

    folder = toy_and_banking.write(tmp_path / "cmp")
    page = (folder / "compare.html").read_text()
    assert re.findall(r"<h1>(.*?)</h1>", page) == ["etscap comparison: a vs b"]
    assert re.findall(r"<title>(.*?)</title>", page) == ["etscap comparison: a vs b"]
    assert re.findall(r"^<h2>(.*?)</h2>$", page, re.M) == ["Runs", "Headline differences", "Charts",
                                                           "Settings that differ from the first run"]
    assert re.findall(r"<figcaption>(.*?)</figcaption>", page) == [
        "Allowance price by run (year-t money) (plots/prices.png)",
        "Allowance price minus a&#x27;s (plots/price_difference.png)",
        "ETS cap and emissions by run (plots/ets_cap_and_emissions.png)",
        "Abatement cost by sector (present value, all years) (plots/cost_by_sector.png)",
        "Free allocation and auction revenue by run (plots/free_allocation.png)"]
    assert re.findall(r'alt="(.*?)"', page)[2] == "ETS cap and emissions by run"
    assert len(re.findall(r"^<figure><img [^\n]*</figcaption></figure>$", page, re.M)) == 5  # a line each
    assert "<p>Differences are against the first run, a.</p>" in page
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>\s*(.*?)</tr>", page, re.S)]
    assert ["a", "toy", "", "optimal", "3.15", "0.00", "0%"] in rows
    assert ["b", "toy", "", "optimal", "3.08", "-0.07", "-2.1%"] in rows
    assert ["allowance_price_cny_per_t", "2027", "60.00", "44.00", "-16.00"] in rows
    assert ["emissions_mt", "2027", "135.00", "140.00", "5.00"] in rows
    assert rows[-2:] == [["a", "toy", "-"], ["b", "toy", "market.banking = true"]]
    book = openpyxl.load_workbook(folder / "compare.xlsx")
    assert book.sheetnames == ["runs", "years_differences", "sector_years_differences", "years 1 a", "years 2 b"]
    differences = book["years_differences"]
    assert [c.value for c in differences[1]] == ["run", "year", "quantity", "value", "reference", "difference",
                                                 "relative_difference"]
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
    assert [differences.column_dimensions[c].width for c in "ABCG"] == [10, 10, 33, 21]
    assert [c.value for c in book["runs"]["G"]] == ["relative_difference", 0, pytest.approx(-0.0661157 / 3.1470248)]


def test_a_sheet_name_excel_accepts():
    """Excel refuses []:*?/\\ in a sheet name and more than 31 characters: each is replaced
    by '_' and the name cut (compare._sheet_name); other letters stay (a run called XX)."""
    from model.studies.compare import _sheet_name

    assert _sheet_name("years 1 XX[b]:c*d?e/f\\g") == "years 1 XX_b__c_d_e_f_g"
    assert _sheet_name("years 2 " + "x" * 40) == "years 2 " + "x" * 23


def test_runs_in_memory_without_a_scenario_name_are_labelled_run():
    """A Results whose summary records no scenario (built by hand, or read from an old
    folder) is labelled "run", numbered when two share it (compare._label's default)."""
    import dataclasses

    from model import compare

    results = solve(TOY)
    unnamed = dataclasses.replace(results, summary={k: v for k, v in results.summary.items() if k != "scenario"})
    assert compare([unnamed, unnamed]).labels == ["run (1)", "run (2)"]
    assert compare([results, unnamed]).labels == ["toy", "run"]


def test_compare_refuses_a_study_folder_and_says_where_its_scenarios_are_compared(tmp_path):
    """A study folder (it holds study.json) is not a results folder: compare says so and
    points to the study's own report (compare._read)."""
    from model import EtscapError, compare
    from model.studies.study import sweep

    folder = sweep(TOY, {"targets.2027.national_cap_mt": [130, 140]}, client=None).write(tmp_path / "study")
    assert (folder / "study.json").is_file()
    with pytest.raises(EtscapError) as caught:
        compare([folder, solve(TOY)])
    assert str(caught.value) == (f"{folder} is a study folder: compare takes folders written by `solve` "
                                 "(a study's scenarios are compared in its own report)")


def test_a_comparison_folder_is_replaced_only_with_force(toy_and_banking, tmp_path):
    """Comparison.write refuses an existing folder unless force=True (passed on to
    write_folder; the default is False), and its CSV tables have no index column and
    Unix line ends: runs.csv starts "run,scenario,..." with b's row -0.0661157025 bn CNY
    (3.08090909 - 3.14702479), 9 significant digits."""
    from model import EtscapError

    folder = toy_and_banking.write(tmp_path / "cmp")
    with pytest.raises(EtscapError) as caught:
        toy_and_banking.write(folder)
    assert str(caught.value) == (f"results folder {folder} already exists: pass --force to replace it, "
                                 "or --out to choose another folder")
    (folder / "runs.csv").write_text("stale\n")
    assert toy_and_banking.write(folder, force=True) == folder
    lines = (folder / "runs.csv").read_bytes().split(b"\n")
    assert lines[0] == b"run,scenario,named_scenarios,status,objective_bn_cny,difference_bn_cny,relative_difference"
    assert lines[2] == b"b,toy,,optimal,3.08090909,-0.0661157025,-0.0210089551"
    assert b"\r" not in (folder / "years_differences.csv").read_bytes()


@pytest.fixture(scope="module")
def toy_sweep_folder(tmp_path_factory):
    """The toy swept over the 2027 national cap, 133 and 137 Mt, in this process, written (its
    report is written by the test of the report: mutmut maps what a module fixture runs to the
    first test that uses it only)."""
    from model.studies.study import sweep

    return sweep(TOY, {"targets.2027.national_cap_mt": [133, 137]}, client=None).write(
        tmp_path_factory.mktemp("sweep") / "study")


def test_study_json_says_what_ran_where(toy_sweep_folder):
    """study.json of a two-scenario sweep run in this process: its keys in order and what
    each says (one worker, ceil(2 / 4) = 1 scenario a task, nothing resumed, no seed for a
    sweep). scenarios.csv: the objectives by hand, each year's cut in merit order with
    2026's cap the mean of 170 and the 2027 cap: cap 133, 2026 cuts 48.5 (power B 18.5 @ 40:
    1,190 m CNY), 2027 cuts 67 (steel B 7 @ 60: 2,070), PV 490 + 1,190 / 1.1 + 2,070 / 1.21 =
    3,282.56 m CNY; cap 137, 2026 cuts 46.5 (1,110), 2027 cuts 63 (1,830): 3,011.49."""
    import json

    folder = toy_sweep_folder
    info = json.loads((folder / "study.json").read_text())
    assert list(info) == ["kind", "dataset", "parameters", "n", "seed", "mode", "allocation", "reuse_model",
                          "inputs_sha256", "named_scenarios", "named_scenario_overrides", "run_on", "workers",
                          "scenarios_per_task", "resumed_scenarios", "seconds", "elapsed_seconds",
                          "scenarios_per_second", "versions"]
    assert {k: info[k] for k in ("kind", "parameters", "n", "seed", "mode", "allocation", "reuse_model",
                                 "named_scenarios", "named_scenario_overrides", "run_on", "workers",
                                 "scenarios_per_task", "resumed_scenarios")} == {
        "kind": "sweep", "parameters": ["targets.2027.national_cap_mt"], "n": 2, "seed": None, "mode": "product",
        "allocation": False, "reuse_model": True, "named_scenarios": [], "named_scenario_overrides": {},
        "run_on": "this process", "workers": 1, "scenarios_per_task": 1, "resumed_scenarios": 0}
    assert info["dataset"] == str(TOY.resolve()) and list(info["seconds"]) == ["start", "scenarios"]
    # the times are plausible: the start and the scenarios' parts add up to the elapsed time (each
    # rounded to 1 ms), and the rate is the scenarios' count over their part
    start, solving, elapsed = info["seconds"]["start"], info["seconds"]["scenarios"], info["elapsed_seconds"]
    assert 0 <= start <= elapsed and 0 < solving <= elapsed and start + solving == pytest.approx(elapsed, abs=0.0015)
    assert 2 / (solving + 0.0005) - 0.005 <= info["scenarios_per_second"] <= 2 / max(solving - 0.0005, 1e-9) + 0.005
    assert {"python", "etscap", "highspy", "dask", "distributed", "pyarrow"} <= set(info["versions"])
    scenarios = (folder / "scenarios.csv").read_text().splitlines()
    assert scenarios[0] == "scenario,status,message,targets.2027.national_cap_mt,objective_bn_cny"
    assert [line.split(",")[:4] for line in scenarios[1:]] == [["0", "optimal", "", "133"], ["1", "optimal", "", "137"]]
    assert [float(line.split(",")[4]) for line in scenarios[1:]] == pytest.approx([3.2825620, 3.0114876])


def test_a_study_report_leads_with_its_findings(toy_sweep_folder):
    """The study's report: the files written; the page's headings in order and its lead (both
    scenarios price 40 in 2025 and 60 in 2027); each chart captioned; the workbook's sheets and
    its Summary sheet: title "etscap study: sweep of toy", then the findings, the cost
    percentiles of 3.011488 and 3.282562 bn CNY: p5 3.011488 + 0.05 x 0.271074 = 3.025041,
    median 3.147025, p95 3.269008 (report.write_study_report, study_html, study_findings)."""
    import openpyxl

    from model.report.plots import write_report

    folder = toy_sweep_folder
    written = write_report(folder)
    assert [p.relative_to(folder).as_posix() for p in written] == [
        "plots/price_fan.png", "plots/price_distribution.png", "plots/sweep.png", "report.html", "results.xlsx"]
    page = (folder / "report.html").read_text()
    assert re.findall(r"<h[123]>(.*?)</h[123]>", page) == [
        "etscap study report: sweep of toy", "Findings", "Scenarios",
        "Allowance price across scenarios in the target years", "Abatement cost, present value, across scenarios",
        "Inputs varied", "Charts", "Settings", "Scenarios"]
    assert re.findall(r'<p class="lead">(.*?)</p>', page) == [
        "2 of 2 scenarios solved. Median allowance price 40 CNY/t in 2025 (5-95%: 40-40) and 60 CNY/t in 2027 "
        "(5-95%: 60-60)."]
    assert re.findall(r"<figcaption>(.*?)</figcaption>", page) == [
        "Allowance price across 2 scenarios (plots/price_fan.png)",
        "Allowance price in 2027 across 2 scenarios (plots/price_distribution.png)",
        "Sweep of targets.2027.national_cap_mt (plots/sweep.png)"]
    book = openpyxl.load_workbook(folder / "results.xlsx")
    assert book.sheetnames == ["Summary", "scenarios", "price_percentiles", "years", "sector_years", "study"]
    cells = [[c for c in row if c is not None] for row in book["Summary"].iter_rows(values_only=True)]
    cells = [row for row in cells if row]
    assert cells[:5] == [["etscap study: sweep of toy"], ["Scenarios"], ["status", "scenarios"], ["optimal", 2],
                         ["Allowance price across scenarios in the target years"]]
    assert cells[9:14] == [["Abatement cost, present value, across scenarios"],
                            ["statistic", "objective_bn_cny (bn CNY)"], ["p5", pytest.approx(3.025041)],
                            ["median", pytest.approx(3.147025)], ["p95", pytest.approx(3.269008)]]
    assert cells[-3:] == [["Inputs varied"], ["input", "varied as", "values or parameters"],
                          ["targets.2027.national_cap_mt", "values", "133, 137"]]


def test_a_run_without_a_recorded_dataset_shows_a_blank_dataset(tmp_path):
    """A run whose summary records no dataset (built in memory) has a blank dataset cell in
    the comparison page's settings table, not "None" (compare._page's default "")."""
    import dataclasses

    from model import compare

    results = solve(TOY)
    bare = dataclasses.replace(results, summary={k: v for k, v in results.summary.items() if k != "dataset"})
    page = (compare([results, bare], labels=["a", "b"]).write(tmp_path / "cmp") / "compare.html").read_text()
    settings = page[page.index("<h2>Settings that differ from the first run</h2>"):]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>\s*(.*?)</tr>", settings, re.S)]
    assert rows == [["a", "toy", "-"], ["b", "", "-"]]


def test_an_exported_workbook_s_layout(tmp_path):
    """export-xlsx of the toy: the sheets it has (optional tables it lacks are left out), each
    header row bold and frozen (a table's units row too: panes at A3), the units row with "-"
    for a column without a unit, the reference sheet's columns, and each column as wide as its
    longest text + 2 (at least 10, at most 60): mac's cost_cny_per_t is 14 characters, 16
    wide (workbook.export_workbook, _dress)."""
    import openpyxl

    from model.data.workbook import export_workbook

    book = openpyxl.load_workbook(export_workbook(TOY, tmp_path / "toy.xlsx"))
    assert book.sheetnames == ["scenario", "sectors", "mac", "targets", "reference"]
    assert {name: book[name].freeze_panes for name in book.sheetnames} == {
        "scenario": "A2", "sectors": "A3", "mac": "A3", "targets": "A3", "reference": "A2"}
    scenario, mac, reference = book["scenario"], book["mac"], book["reference"]
    assert [c.value for c in scenario[1]] == ["key", "value", "unit", "meaning"]
    assert [c.value for c in scenario[2]] == ["name", "toy", "-", "Short name of the scenario; names the default "
                                                                  "results folder."]
    assert [c.value for c in reference[1]] == ["sheet", "key or column", "type", "unit", "default", "allowed",
                                               "meaning"]
    assert [c.value for c in mac[1]][:4] == ["sector", "step", "potential_share", "cost_cny_per_t"]
    assert [c.value for c in mac[2]][:4] == ["-", "-", "fraction", "CNY per t CO2"]
    assert all(c.font.bold for row in (1, 2) for c in mac[row]) and not mac["A3"].font.bold
    assert all(c.font.bold for c in scenario[1]) and not scenario["A2"].font.bold
    assert [mac.column_dimensions[c].width for c in "ABD"] == [10, 10, 16]
    assert scenario.column_dimensions["D"].width == 60  # meanings are longer: capped


@pytest.mark.parametrize("edit, message", [
    (lambda book: book["scenario"].__setitem__("A5", "discount_rat"),
     "2 problems in the inputs:\n"
     "  toy.xlsx, sheet scenario, row 5, column key: found 'discount_rat', expected a known key (did you mean "
     "'discount_rate'?)\n"
     "  toy.xlsx, sheet scenario, column first_year: expected a row for first_year: a whole number from 1990 to "
     "2100; the value is blank or the key missing"),
    (lambda book: book["scenario"].__setitem__("B5", None),
     "toy.xlsx, sheet scenario, row 5, column value: expected a whole number from 1990 to 2100; the value is blank "
     "or the key missing"),
    (lambda book: book["mac"].__setitem__("B1", "sector"),
     "2 problems in the inputs:\n"
     "  toy.xlsx, sheet mac, row 1, column sector: found 'sector', expected each column named once (also column A)\n"
     "  toy.xlsx, sheet mac, row 1, column step: expected a column named 'step'"),
    (lambda book: [setattr(cell, "value", None) for cell in book["targets"][1]],
     "toy.xlsx, sheet targets, row 1: found 'a blank row', expected the column names on row 1"),
    (lambda book: book.create_sheet("notes"),
     "toy.xlsx, sheet notes: expected a sheet named scenario, sectors, mac, targets, allocation, benchmarks, "
     "facilities, facility_mac, bau, cap_rules, deployment_limits, offsets, reserve or reference"),
], ids=["unknown key", "blank value", "column named twice", "blank header row", "unknown sheet"])
def test_a_workbook_problem_names_its_sheet_row_and_column(tmp_path, edit, message):
    """What a user is told for each kind of mistake in a dataset workbook: the sheet, the row
    as Excel numbers it, the column (a key's value: column value; a missing key: the key),
    what was found and what is expected (workbook._read_settings, _read_table, read_workbook)."""
    import openpyxl

    from model import InputError, load_dataset
    from model.data.workbook import export_workbook

    path = export_workbook(TOY, tmp_path / "toy.xlsx")
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    assert str(caught.value) == message


def test_a_changed_setting_json_cannot_hold_is_shown_as_text():
    """Settings held in memory may carry a value JSON has no type for (a numpy integer from a
    user's own code, a path): the comparison's settings column shows it as text rather than
    failing (compare._changed_settings dumps with default=str, as summary.json is written)."""
    from pathlib import Path

    from model.studies.compare import _changed_settings

    results = solve(TOY)
    settings = {**results.summary["settings"], "last_year": np.int64(2026), "note": Path("notes/a.txt")}
    assert _changed_settings(settings, results.summary["settings"]) == 'last_year = "2026", note = "notes/a.txt"'
    assert _changed_settings({**results.summary["settings"], "name": "other"}, results.summary["settings"]) == "-"


def test_each_command_says_what_it_wrote_and_what_to_do_next(tmp_path):
    """The last lines a user reads after solve, compare, init and export-xlsx: where the files
    went (with the trailing / of a folder) and the next command; make-registry on the toy,
    whose sectors give no installation counts, says what is missing (cli: the echo lines)."""
    from click.testing import CliRunner

    from model.cli import cli

    def run(*args):
        result = CliRunner().invoke(cli, [str(a) for a in args])
        return result.exit_code, result.stdout.splitlines(), result.stderr

    code, lines, _ = run("solve", TOY, "--out", tmp_path / "a")
    assert code == 0 and lines[-1] == f"results written to {tmp_path / 'a'}/"
    assert lines[0].startswith("toy: optimal, abatement cost 3.1 bn CNY (present value), built in ")
    assert run("-q", "solve", TOY, "--set", "market.banking=true", "--out", tmp_path / "b")[:2] == (0, [])
    assert run("compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "c")[:2] == (0, [
        "a: optimal, 3.1 bn CNY PV", "b: optimal, 3.1 bn CNY PV (-66.1 m CNY vs a)",
        f"comparison written to {tmp_path / 'c'}/: compare.html, compare.xlsx, plots/"])
    new = tmp_path / "new"
    assert run("init", new, "--from", "toy")[:2] == (0, [
        f"dataset written to {new}/ from toy: README.md, mac.csv, scenario.toml, scenarios, sectors.csv, targets.csv",
        f"next: python run.py validate {new} && python run.py solve {new}"])
    book = tmp_path / "t.xlsx"
    assert run("export-xlsx", TOY, book)[:2] == (0, [f"{TOY} written to {book}; solve it with: python run.py solve "
                                                     f"{book}"])
    assert run("validate", new)[:2] == (0, [f"{new}: valid (3 sectors, 6 cost steps, years 2025-2027); scenarios "
                                            "banking, dear-steel valid"])
    assert run("make-registry", TOY, "--out", tmp_path / "f.csv") == (2, [], (
        "error: sectors.csv, column entities: expected the number of installations of at least one covered sector: "
        "the dataset has none for make-registry to draw and calibrate to\n"))


def test_a_new_dataset_s_readme_says_how_to_use_each_file(tmp_path):
    """The README init writes: its title names the dataset, the commands to solve and check
    it name its folder, each table's line says whether an optional one is present, its key
    and its columns with units, and the notes of the dataset it came from follow under their
    own heading (workbook.dataset_readme)."""
    from model.data.workbook import dataset_readme, init_dataset

    folder = init_dataset(tmp_path / "mine", "toy")
    lines = (folder / "README.md").read_text().splitlines()
    assert lines[:5] == ["# Dataset `mine`", "",
                         f"Solve it with `python run.py solve {folder}`; check it with `python run.py validate "
                         f"{folder}`. Every input's type, unit, default and range: `python run.py inputs`.", "",
                         "## Files"]
    assert lines[6].startswith("- `scenario.toml`: the settings (horizon, discount rate, market and allocation "
                               "rules, solver): `name`, `description`, `base_year`, ")
    assert lines[7].startswith("- `sectors.csv`: One row per sector, ETS-covered or not; together they make up "
                               "national emissions. One row per sector; columns `sector`, `covered_from` (year), ")
    assert lines[9].startswith("- `targets.csv`: National targets by year; years between rows are interpolated "
                               "linearly. One row per year; columns `year` (year), `national_cap_mt` (Mt CO2), ")
    assert lines[10].startswith("- `allocation.csv` (optional, not present: add it to use it): ")
    assert "## Notes from the dataset this one started from" in lines
    (folder / "allocation.csv").write_text("sector,year\n")
    assert "- `allocation.csv` (optional, present): " in dataset_readme("mine", folder)
    assert dataset_readme("mine", folder).endswith(
        f"overrides in the `--set` syntax; `python run.py solve {folder} --scenario NAME`.\n")


def test_every_results_chart_says_what_it_shows():
    """The toy's report charts, as a reader sees them: each chart's title, every panel's title
    and axis labels with units, and the legend entries in order (report.plot_*; mutmut 3 does
    not mutate these functions, decorated with @slide_style, so this test is their guard).
    2027 is the chosen year (no 2030 in the toy): price 60, all of it free (0.0 bn auctioned)."""
    from model.report.plots import results_figures

    def legends(figure):
        return [[t.get_text() for t in legend.get_texts()] for legend in figure.legends] + [
            [t.get_text() for t in ax.get_legend().get_texts()] for ax in figure.axes if ax.get_legend()]

    charts = {name: (figure.get_suptitle(), [(ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in figure.axes],
                     legends(figure)) for name, figure in results_figures(solve(TOY)).items()}
    assert charts == {
        "cap_and_emissions": ("ETS cap and emissions; outside the ETS on top", [("", "Year", "Emissions (Mt CO2)")],
                              [["National cap", "ETS cap (issued)", "Hatched: outside the ETS", "rest", "steel",
                                "power"]]),
        "prices": ("", [("Allowance price and national carbon value", "Year", "Price (CNY/t CO2)")],
                   [["National carbon value", "Allowance price", "Own price, steel (simulation)"]]),
        "merit_order": ("", [("Merit order of the ETS trading sectors, 2027: 60 Mt abated",
                              "Cumulative abatement potential of the trading sectors (Mt CO2)",
                              "Abatement cost (CNY/t CO2)")],
                        [["power", "steel", "used", "not used", "Allowance price 2027: 60 CNY/t"]]),
        "mac_curves": ("Marginal abatement cost curves of the ETS sectors, 2027",
                       [("power", "Cumulative potential (Mt CO2)", "Abatement cost (CNY/t CO2)"),
                        ("steel", "Cumulative potential (Mt CO2)", "")],
                       [["Abatement cost curve", "Abatement used", "Allowance price 2027: 60 CNY/t"]]),
        "who_pays": ("Who pays in 2027 (2027 money)",
                     [("Burden by sector, 2027", "", "Cost to the sector (bn CNY)"),
                      ("Each sector's cap: free or auctioned", "Cap valued at 60 CNY/t (bn CNY)", "")],
                     [["Burden (sum)", "Abatement cost", "Allowances bought net (below 0: sold)"],
                      ["Given free", "Auctioned: 0.0 bn CNY to the state"]]),
        "free_share": ("", [("Free allocation share by sector and year", "Year", "Sector"),
                            ("", "", "Free share of sector cap (%)")], []),
        "burden_share": ("", [("Compliance burden as a share of value added", "Year",
                               "Burden share of value added (%)")], [["power", "steel"]]),
    }


def test_the_first_run_s_horizon_decides_the_price_chart_s_panels(tmp_path):
    """The comparison's price chart adds a 2025-2035 panel when the first run (the reference)
    spans more than 15 years, whatever the others span (compare._plot_prices reads the first
    run's years): a 2025-2045 run first gives two panels, the toy (2025-27) first gives one."""
    from model import compare
    from model.studies.compare import comparison_figures
    from tests.conftest import write_dataset

    folder = write_dataset(
        tmp_path / "long", sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.3, "cost_cny_per_t": 10}],
        targets=[{"year": 2025, "national_cap_mt": 100}, {"year": 2045, "national_cap_mt": 80}],
        first_year=2025, last_year=2045, discount_rate=0.1)
    long, toy = solve(folder, allocation=False), solve(TOY, allocation=False)
    first_long = comparison_figures(compare([long, toy], labels=["long", "toy"]))["prices"]
    assert [ax.get_title() for ax in first_long.axes] == ["All years", "2025-2035"]
    first_toy = comparison_figures(compare([toy, long], labels=["toy", "long"]))["prices"]
    assert [ax.get_title() for ax in first_toy.axes] == ["All years"]


@pytest.mark.parametrize("last_year, titles", [(2040, ["All years"]), (2041, ["All years", "2025-2035"])])
def test_a_long_horizon_is_more_than_15_years_after_the_first(tmp_path, last_year, titles):
    """The comparison's price chart enlarges 2025-2035 only when the last year is more than 15
    years after the first: 2025-2040 (15) keeps one panel, 2025-2041 (16) gets the second
    (compare._plot_prices, at its threshold)."""
    from model import compare
    from model.studies.compare import comparison_figures
    from tests.conftest import write_dataset

    folder = write_dataset(
        tmp_path / "long", sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.3, "cost_cny_per_t": 10}],
        targets=[{"year": 2025, "national_cap_mt": 100}, {"year": last_year, "national_cap_mt": 85}],
        first_year=2025, last_year=last_year, discount_rate=0.1)
    results = solve(folder, allocation=False)
    figure = comparison_figures(compare([results, results], labels=["a", "b"]))["prices"]
    assert [ax.get_title() for ax in figure.axes] == titles


# --- seed 45 (a fresh sample of the merged tree, 31 of 40 killed): its four killable survivors


def test_a_mid_sized_lp_is_solved_with_presolve_off_as_the_summary_says(china_results, toy_results):
    """highs.sized_options_23 ("off" -> "OFF"): the default dataset's 5,054 columns lie in
    PRESOLVE_OFF_COLUMNS (5,000 to 200,000), so presolve is off and summary.json says exactly
    "off"; the toy's few columns keep HiGHS's own choice."""
    assert china_results.summary["solver_options"] == {"presolve": "off", "solver": "choose"}
    assert toy_results.summary["solver_options"].get("presolve", "choose") == "choose"


def test_check_can_write_refuses_an_existing_folder_unless_forced(tmp_path):
    """files.check_can_write_1 (force defaults to True): without force an existing folder is refused."""
    from model.errors import EtscapError
    from model.files import check_can_write

    out = tmp_path / "results"
    out.mkdir()
    with pytest.raises(EtscapError) as refused:
        check_can_write(out)
    assert str(refused.value) == (f"results folder {out} already exists: pass --force to replace it, "
                                  "or --out to choose another folder")
    assert check_can_write(out, force=True).path == out  # an empty folder may be replaced


def test_a_staging_folder_whose_parent_vanished_is_one_message(tmp_path, monkeypatch):
    """files.Staging.__init___19 (the OSError dropped from the message): another process removes
    the results' parent folder before the staging folder is made; the user gets one line naming
    the error and the path, not an AttributeError."""
    import errno
    import shutil
    import tempfile

    from model import files
    from model.errors import EtscapError

    parent = tmp_path / "runs"
    out = parent / "results"
    target = files.check_can_write(out)

    def vanished(prefix: str, dir: str) -> str:  # noqa: A002 - tempfile.mkdtemp's own argument name
        shutil.rmtree(dir)
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", f"{dir}/{prefix}")

    monkeypatch.setattr(tempfile, "mkdtemp", vanished)
    with pytest.raises(EtscapError) as failed:
        files.Staging(target)
    assert str(failed.value) == (f"cannot write {out}: No such file or directory ({parent / '.results.writing-'}); "
                                 "nothing was replaced; choose another --out")


def test_a_benchmark_on_a_rule_that_reads_none_is_named_with_its_value(tmp_path):
    """inputs._check_cap_rules_49 (the found value dropped): a benchmark given to a grandfathered rule."""
    from click.testing import CliRunner

    from model.cli import cli
    from tests.families.cap_rule_helpers import toy_with_rules

    folder = toy_with_rules(tmp_path, ["steel,2026,grandfathered,0.02,1.5"])
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "error: cap_rules.csv, row 2, column benchmark_t_per_unit: found '1.5', expected blank: only basis "
        "'intensity' reads a benchmark")


def test_a_misspelt_setting_given_to_replace_is_told_the_keys_it_may_mean():
    """Dataset.replace with the key market.bankng (inputs._check_setting_values__mutmut_19:
    the suggestion computed for None instead of the key gave no "did you mean")."""
    from model import load_dataset
    from model.errors import InputError

    toy = load_dataset(TOY)
    with pytest.raises(InputError) as caught:
        toy.replace(settings={**toy.settings, "market.bankng": True})
    assert str(caught.value) == ("scenario.toml, column market.bankng: found 'True', expected a known key (did you "
                                 "mean 'market.banking' or 'market.bank_limit_mt' or 'market.initial_bank_mt'?)")


# Seed 47's open survivors (``benchmarks/mutation.py --sample 40 --seed 47``), each planted by hand.


def test_a_reserve_release_just_below_a_low_trigger_fails_its_check():
    """Mutant model.families.reserve.x_reserve_release__mutmut_39 (the price tolerance
    1e-5 x max(1, trigger) -> 1e-5 x max(2, trigger)). A tier of 4 Mt with a trigger of
    0.5 CNY/t released at a price of 0.5 - 1.5e-5: the price is below the trigger by more
    than the tolerance 1e-5 x max(1, 0.5) = 1e-5 (so the 4 Mt should not have been sold:
    the check is off by 4 Mt), but within 1e-5 x max(2, 0.5) = 2e-5 (the mutant passes it)."""
    from model.families.reserve import reserve_release

    years = pd.DataFrame({"year": [2025, 2026], "allowance_price_cny_per_t": [0.5 - 1.5e-5, 3.0],
                          "reserve_released_mt": [4.0, 0.0], "reserve_pool_mt": [6.0, 6.0]})
    offers = {"year": [2025], "trigger_price_cny_per_t": [0.5], "volume_mt": [4.0]}
    assert reserve_release(years, None, None, {"reserve_offers": offers}) == pytest.approx(4.0)
    # within 1e-5 of the trigger (0.5 - 0.5e-5) the release is allowed
    years.loc[0, "allowance_price_cny_per_t"] = 0.5 - 0.5e-5
    assert reserve_release(years, None, None, {"reserve_offers": offers}) == 0.0


def test_a_simulation_installation_short_by_more_than_1e_9_of_a_small_cut_is_refused():
    """Mutant of the feasibility tolerance 1e-9 x max(1, needed) -> 1e-9 x max(2, needed)
    (seed 47 ``installations.presolve__mutmut_103``, the tolerance now in
    ``installations._check_potential``). An installation in the simulation phase needing a
    cut of 0.5 Mt (BAU 1.5, cap 1.0) with steps of 0.5 - 1.5e-9 Mt is short by 1.5e-9 >
    1e-9 x max(1, 0.5) = 1e-9: refused; the mutant's 2e-9 lets it through. Short by 0.5e-9
    it is accepted."""
    from model.errors import InfeasibleError
    from model.parameters.installations import PHASES, SIMULATION, _check_potential

    grid = pd.DataFrame({"phase_code": [PHASES.index(SIMULATION)], "bau_mt": [1.5], "cap_mt": [1.0]},
                        index=pd.MultiIndex.from_tuples([("S1", 2025)], names=["facility_id", "year"]))
    with pytest.raises(InfeasibleError, match=r"S1 in 2025: needs 0\.5 Mt, can abate 0\.5 Mt"):
        _check_potential(grid, np.array([0.5 - 1.5e-9]))
    _check_potential(grid, np.array([0.5 - 0.5e-9]))


def test_the_invalidation_bound_rows_are_named_invalidated_at_most():
    """Mutant model.families.supply_adjustment.x_define_supply_adjustment__mutmut_442 (the row
    kind "invalidated_at_most" -> None). The Pyomo model a script gets names each row
    ("invalidated_at_most", year): with invalidate_above_mt = 15 (the toy of
    tests/families/test_supply_adjustment.py) the row of 2025 is invalidated - intake +
    release + big x invalidating <= big - 15, big = 2,121 Mt: upper bound 2,106."""
    from model import build_model
    from tests.families.test_supply_adjustment import RULE, adjusted_toy

    rows = build_model(adjusted_toy({**RULE, "invalidate_above_mt": 15.0})).component("supply_adjustment")
    kinds = [key for key in rows.keys() if key[0] == "invalidated_at_most"]
    assert kinds == [("invalidated_at_most", 2025), ("invalidated_at_most", 2026), ("invalidated_at_most", 2027)]
    assert rows["invalidated_at_most", 2025].upper == pytest.approx(2121.0 - 15.0)
    assert all(key[0] is not None for key in rows.keys())


def test_the_pyomo_sets_say_what_they_hold():
    """Mutant model.lp.formulation.x_define_sets__mutmut_46 (the covered set's doc "ETS" ->
    "ets"): a script's Pyomo model documents its sets in the project's words."""
    from model import build_model, load_dataset

    m = build_model(load_dataset(TOY))
    assert m.component("covered").doc == "(sector, year) covered by the ETS, trading or in simulation"
    assert m.component("years").doc == "model years"


def test_figures_use_constrained_layout():
    """Mutant model.report.plots.x__new_figure__mutmut_7 (``layout="constrained"`` dropped):
    without it titles, tick labels and legends of the slide charts overlap; every figure has
    a constrained layout engine."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from model.report.plots import _new_figure, results_figures

    figure, _ = _new_figure(1, 2)
    assert isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine)
    for name, figure in results_figures(solve(TOY)).items():
        assert isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine), name


def test_comparison_workbook_columns_are_sized_on_their_first_50_cells(tmp_path):
    """Mutant model.studies.compare.x__write_workbook__mutmut_23 (``cells[:50]`` -> ``cells[:51]``).
    A column's width is its longest text among the header and first 49 values, + 2, at least
    10 and at most 50. Column "a": header "a", values 1-49 "x", value 50 twenty "y"s (the
    51st cell): width 10 (max(1, 8) + 2), not 22 as when the 51st cell counts; column
    "name_of_it" (10 letters) over "x"s: 12."""
    from openpyxl import load_workbook

    from model.studies.compare import _write_workbook

    table = pd.DataFrame({"a": ["x"] * 49 + ["y" * 20], "name_of_it": ["x"] * 50})
    _write_workbook(tmp_path / "t.xlsx", {"runs": table})
    sheet = load_workbook(tmp_path / "t.xlsx")["runs"]
    assert sheet.column_dimensions["A"].width == 10
    assert sheet.column_dimensions["B"].width == 12


# -- seed 51 (--only model.data.inputs model.report.plots model.studies.study model.results.tables
#    model.studies.compare, 30 mutants): its survivors ------------------------------------------


def test_a_table_made_in_python_is_refused_below_its_minimum_and_above_its_maximum():
    """inputs._check_declared mutant 42 (``field.minimum is not None`` -> ``is None``: no number
    of a Python-made float column checked against its minimum). The toy's sectors table made in
    Python with steel's base emissions -5 Mt (below 0) and then 200,000 Mt (above 1e5) is
    refused each time with the file, row, column and range."""
    from model import load_dataset
    from model.errors import InputError

    toy = load_dataset(TOY)
    for row, value in ((toy.sectors.index[0], -5.0), (toy.sectors.index[1], 2e5)):
        sectors = toy.sectors.copy()
        sectors.loc[row, "base_emissions_mt"] = value
        with pytest.raises(InputError) as refused:
            toy.replace(sectors=sectors)
        assert str(refused.value) == (f"sectors.csv, row {row}, column base_emissions_mt: found '{value}', "
                                      "expected a number from 0 to 100000 (Mt CO2)")


def test_an_installation_whose_unit_type_has_no_benchmark_in_its_sector_is_refused_with_a_suggestion():
    """inputs._check_optional_tables mutant 140 (``"sector"`` -> ``"XXsectorXX"``: a KeyError
    instead of the message). China's registry with its first power installation's unit type
    misspelt ``coal_above_300mwx``: refused naming facilities.csv, that row and column, with
    the two nearest power unit types of benchmarks.csv."""
    from model import load_dataset
    from model.errors import InputError
    from tests.conftest import CHINA

    china = load_dataset(CHINA)
    facilities = china.facilities.copy()
    row = facilities.index[facilities["sector"] == "power"][0]
    facilities["unit_type"] = facilities["unit_type"].astype(object)
    facilities.loc[row, "unit_type"] = "coal_above_300mwx"
    with pytest.raises(InputError) as refused:
        china.replace(facilities=facilities)
    assert str(refused.value) == (f"facilities.csv, row {row}, column unit_type: found 'coal_above_300mwx', "
                                  "expected a unit_type of benchmarks.csv for this sector "
                                  "(did you mean 'coal_above_300mw' or 'coal_up_to_300mw'?)")


def test_a_results_parquet_file_without_its_columns_is_refused_naming_them(tmp_path):
    """tables.read_parquet mutant 15 (``', '.join(missing)`` -> ``join(None)``: a TypeError, not
    the project's error). A Parquet file holding only ``year`` read as needing ``year``,
    ``sector`` and ``emissions_mt``: refused naming the two missing columns."""
    from model.errors import EtscapError
    from model.results.tables import read_parquet

    path = tmp_path / "sector_years.parquet"
    pd.DataFrame({"year": [2025, 2026]}).to_parquet(path, index=False)
    with pytest.raises(EtscapError) as refused:
        read_parquet(path, ("year", "sector", "emissions_mt"))
    assert str(refused.value) == (f"{path} is damaged or was not written by etscap (no column sector, emissions_mt): "
                                  "write it again (solve)")


def test_the_study_file_reference_lists_every_key_then_the_distributions():
    """study.study_file_reference mutant 15 (``lines +=`` -> ``lines =``: the keys' table thrown
    away; what is left is still a part of the README, so the README test passes). The reference
    starts with the keys' header, has one row per key of STUDY_FIELDS in order, then the
    distributions' table with one row per kind."""
    from model.studies.study import DISTRIBUTIONS, STUDY_FIELDS, study_file_reference

    lines = study_file_reference().splitlines()
    assert lines[:2] == ["| key | type | unit | default | allowed | meaning |", "|---|---|---|---|---|---|"]
    keys = [line.split("|")[1].strip().strip("`") for line in lines[2:2 + len(STUDY_FIELDS)]]
    assert keys == [field.name for field in STUDY_FIELDS]
    assert lines[2 + len(STUDY_FIELDS):2 + len(STUDY_FIELDS) + 3] == [
        "", "| distribution | parameters (numpy.random.Generator's) |", "|---|---|"]
    assert len(lines) == 2 + len(STUDY_FIELDS) + 3 + len(DISTRIBUTIONS)


def test_a_study_written_again_with_force_replaces_the_folder_it_wrote(tmp_path):
    """Study.write mutant 38 (``write_folder(out, write_into, force)`` -> ``None``: ``force``
    dropped). A toy sweep of two 2027 caps written to a folder, then written again: without
    force it is refused and the folder keeps its files; with force it is replaced, and the
    scenarios file read back has the two caps."""
    from model.errors import EtscapError
    from model.studies.study import sweep

    study = sweep(TOY, {"targets.2027.national_cap_mt": [300.0, 310.0]})
    out = study.write(tmp_path / "study")
    with pytest.raises(EtscapError):
        study.write(out)
    again = study.write(out, force=True)
    assert again == out
    assert pd.read_csv(out / "scenarios.csv")["targets.2027.national_cap_mt"].tolist() == [300.0, 310.0]

def test_parquet_whole_number_column_keeps_good_cells_and_reports_fractions():
    """Mutant model.data.registry_file.x__numbers__mutmut_26 (``~blank & ~bad`` -> ``~blank | ...``
    marks every given cell of a whole-number column bad). A Parquet table whose whole-number
    column ``count`` (default 4, 0-10) holds 3, blank, 2.5: row 2 reads 3, row 3 the default
    4, row 4 is the one problem (row 4, column count, found '2.5')."""
    from model.data.fields import Field, TableSpec
    from model.data.registry_file import read_parquet_registry

    spec = TableSpec("things.csv", "", ("id",), (Field("id", "str", "", "An id."),
                                                   Field("count", "int", "", "A count.", 4, 0, 10)))
    data = io.BytesIO()
    pd.DataFrame({"id": ["a", "b", "c"], "count": [3.0, np.nan, 2.5]}).to_parquet(data, index=False)
    problems: list = []
    table = read_parquet_registry(data.getvalue(), spec, problems)
    assert [(p.row, p.column, p.found) for p in problems] == [(4, "count", "2.5")]
    assert table["count"].tolist()[:2] == [3, 4]


def test_a_numeric_workbook_value_of_a_text_setting_is_its_text():
    """Mutant model.data.workbook.x__read_settings__mutmut_106 (``_text(value)`` -> ``_text(None)``):
    Excel gives a name typed as 2026 as the number 2026.0 and a description 1.5 as 1.5;
    they read as the text '2026' and '1.5', not as blank."""
    from model.data.workbook import _read_settings

    problems: list = []
    settings, rows = _read_settings("book.xlsx", [["key", "value"], ["name", 2026.0], ["description", 1.5]],
                                    problems)
    assert settings["name"] == "2026" and settings["description"] == "1.5"
    assert rows == {"name": 2, "description": 3}


def test_a_dataset_folder_is_written_into_folders_that_do_not_exist_yet(tmp_path):
    """Mutant model.data.workbook.x_write_dataset_folder__mutmut_3 (``mkdir(parents=None)``):
    writing the toy to tmp/a/b/toy (a and b absent) makes them and reads back the same
    settings and 2 sectors."""
    from model import load_dataset
    from model.data.workbook import write_dataset_folder

    folder = write_dataset_folder(load_dataset(TOY), tmp_path / "a" / "b" / "toy")
    assert folder == tmp_path / "a" / "b" / "toy"
    again = load_dataset(folder)
    assert again.settings == load_dataset(TOY).settings
    assert len(again.sectors) == len(load_dataset(TOY).sectors)


def test_renaming_onto_an_existing_file_is_a_file_exists_error_naming_both():
    """Mutant model.files.x__renameat2__mutmut_26 (the errno dropped from the OSError): renameat2's
    EEXIST must raise FileExistsError (errno 17) naming source and target, which callers catch."""
    import errno
    import tempfile
    from pathlib import Path

    from model.files import _libc, rename_no_replace

    if _libc() is None:
        pytest.skip("no renameat2 here")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "new", Path(folder) / "old"
        source.write_text("new")
        target.write_text("old")
        with pytest.raises(FileExistsError) as raised:
            rename_no_replace(source, target)
        assert raised.value.errno == errno.EEXIST
        assert (raised.value.filename, raised.value.filename2) == (str(source), str(target))
        assert target.read_text() == "old" and source.read_text() == "new"


def test_a_forwarded_name_that_is_a_subfolder_is_not_forwarded():
    """Mutant model.lazy.x_forwarded_names__mutmut_15 (``isdir(None)``): for model/ a name that is
    a folder beside __init__.py ('data', no data.py) is an AttributeError with this exact
    message (so the import system finds the subpackage), not a TypeError."""
    import model
    from model.lazy import forwarded_names

    lookup = forwarded_names("model", model.__file__, "errors")
    with pytest.raises(AttributeError, match=r"^module 'model' has no attribute 'data'$"):
        lookup("data")
    assert lookup("EtscapError") is model.errors.EtscapError


def test_python_format_of_excel_percent_and_number_formats():
    """Mutant model.report.plots.x__python_format__mutmut_2 (the ``endswith("%")`` string changed):
    Excel's '0.0%' is Python's '.1%' (0.125 -> '12.5%'), '0%' is '.0%', '#,##0.00' is ',.2f'
    (1234.5 -> '1,234.50') and '0.000' is '.3f'."""
    from model.report.plots import _python_format

    assert [_python_format(f) for f in ("0.0%", "0%", "#,##0.00", "0.000")] == [".1%", ".0%", ",.2f", ".3f"]
    assert format(0.125, _python_format("0.0%")) == "12.5%"
    assert format(1234.5, _python_format("#,##0.00")) == "1,234.50"


def test_a_backtest_held_target_row_has_no_ets_cap():
    """Mutant model.studies.backtest.x_backtest_dataset__mutmut_34 (``ets_cap_mt=np.nan`` dropped):
    the row the back-test adds in 2021 copies the first target (2025) but must not carry its ETS
    cap of 7,551.7 Mt back to 2021 (no ETS cap before the targets' first row); 2025 keeps it."""
    from model import load_dataset
    from model.studies.backtest import backtest_dataset
    from tests.conftest import CHINA

    targets = backtest_dataset(load_dataset(CHINA), 2021).targets
    assert targets["year"].tolist()[:2] == [2021, 2025]
    assert np.isnan(targets["ets_cap_mt"].iloc[0]) and targets["ets_cap_mt"].iloc[1] == 7551.7


def test_a_montecarlo_study_file_records_its_seed_and_distributions_in_the_study(tmp_path):
    """study.run_study_file mutant 73 (the info key ``"distributions"`` renamed: the study's
    study.json no longer says what was drawn). A toy study file of 3 draws, seed 7, the 2027
    national cap uniform on [300, 320] Mt: the study's info has that seed and that one
    distribution, and its draws lie in the range."""
    from model.studies.study import read_study_file, run_study_file

    path = tmp_path / "study.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\n[montecarlo]\nn = 3\nseed = 7\n'
                    '[montecarlo.distributions]\n'
                    '"targets.2027.national_cap_mt" = { kind = "uniform", low = 300.0, high = 320.0 }\n')
    study = run_study_file(read_study_file(path, "montecarlo"), "montecarlo", client=None)
    assert study.info["seed"] == 7 and study.info["study_file"] == str(path)
    assert study.info["kind"] == "montecarlo" and study.info["n"] == 3
    assert study.info["distributions"] == {"targets.2027.national_cap_mt": {"kind": "uniform", "low": 300.0,
                                                                             "high": 320.0}}
    draws = study.scenarios["targets.2027.national_cap_mt"]
    assert len(draws) == 3 and draws.between(300.0, 320.0).all()


def test_a_misspelt_distribution_parameter_is_reported_with_its_value_and_the_right_name():
    """study.distribution mutant 63 (``short_text(value)`` -> ``short_text(None)``: the problem
    no longer shows what was found). ``{kind = "uniform", low = 1, hihg = 2}``: the stray key is
    reported with its value 2 and "did you mean 'high'?", and the missing ``high`` after it."""
    from model.errors import InputError
    from model.studies.study import distribution

    with pytest.raises(InputError) as refused:
        distribution({"kind": "uniform", "low": 1, "hihg": 2}, "study.toml, key x")
    assert str(refused.value) == (
        "2 problems in the inputs:\n"
        "  study.toml, key x.hihg: found '2', expected a parameter of a uniform distribution: low, high "
        "(did you mean 'high'?)\n"
        "  study.toml, key x.high: expected a number")


# Seed 52 survivors (``benchmarks/mutation.py --sample 80 --seed 52``), each planted by hand.

def test_comparison_figures_render_to_pixels_through_their_own_canvas():
    """Mutant model.studies.compare.x__figure__mutmut_9 (``FigureCanvasAgg(figure)`` ->
    ``FigureCanvasAgg(None)``: the figure keeps matplotlib's blank canvas). A comparison's
    figure is drawn by its canvas into an RGBA buffer of its size in pixels (the Agg canvas
    a notebook or script reads pixels from; the blank canvas has no buffer)."""
    from model import compare
    from model.studies.compare import comparison_figures

    comparison = compare([solve(TOY), solve(TOY)], labels=["a", "b"])
    figure = comparison_figures(comparison)["prices"]
    figure.canvas.draw()
    width, height = figure.get_size_inches() * figure.dpi
    assert np.asarray(figure.canvas.buffer_rgba()).shape == (round(height), round(width), 4)



def test_relief_rules_by_unit_type_when_an_installation_has_no_unit_type():
    """Mutant model.results.facilities.x_relief_rules__mutmut_22 (``keys = (MultiIndex of the
    installations' sector, unit type) if row is None ...`` -> ``keys = None``). An installation
    with no unit type sends the join to pandas (benchmark_rows gives None); power/coal's rule
    (shortfall cap share 0.2, obligation capped) reaches the coal unit only: shares 0.2 and
    NaN, capped True and False (the mutant spreads benchmarks.csv's one row to both)."""
    from types import SimpleNamespace

    from model.results.facilities import relief_rules

    facilities = pd.DataFrame({"sector": ["power", "power"], "unit_type": ["coal", None]})
    benchmarks = pd.DataFrame({"sector": ["power"], "unit_type": ["coal"], "shortfall_cap_share": [0.2],
                               "obligation_capped_at_allocation": [1.0]})
    share, capped = relief_rules(SimpleNamespace(dataset=SimpleNamespace(facilities=facilities,
                                                                         benchmarks=benchmarks)))
    assert share[0] == 0.2 and np.isnan(share[1])
    assert capped.tolist() == [True, False]


def test_a_scripts_model_indexes_sector_caps_by_the_covered_sector_years():
    """Mutant model.lp.formulation.x_build_model__mutmut_19 (the key "sector_cap_mt" of the
    index sets misspelt: the Var gets an anonymous index of its own). In the Pyomo model a
    script edits, ``sector_cap_mt`` is indexed by ``m.covered``, the toy's covered (sector,
    year) pairs, so a script's rows over ``m.covered`` and the model's listing name that set."""
    from model import build_model, load_dataset

    m = build_model(load_dataset(TOY))
    assert m.sector_cap_mt.index_set() is m.covered
    assert list(m.sector_cap_mt.keys()) == list(m.covered)


def test_a_scripts_model_with_a_floor_and_no_trading_year_solves_as_the_dataset(tmp_path):
    """Mutant model.solving.highs.x_solve_model__mutmut_67 (``np.array(..., dtype=np.int32)`` ->
    no dtype: a block with no columns gives a float array, and the held columns' index turns
    float). Power covered from 2025 and trading from 2030 (after the 2025-26 horizon: no
    trading year, so ``trading_cap_mt`` has no columns), banking, floor 30 CNY/t, 10% auctioned:
    the Pyomo route's market pass gives the prices the dataset route gives, 30 in 2025 and 30 x 1.1 = 33
    in 2026 (banking at 10%), nothing withdrawn."""
    from model import build_model, load_dataset
    from tests.conftest import write_dataset

    targets = {"national_cap_mt": 1000, "min_auction_share": 0.1, "price_floor_cny_per_t": 30}
    folder = write_dataset(
        tmp_path / "sim", sectors=[{"sector": "power", "covered_from": 2025, "trading_from": 2030,
                                    "base_emissions_mt": 100}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.3, "cost_cny_per_t": 10}],
        targets=[{"year": 2025, **targets}, {"year": 2026, **targets}], first_year=2025, last_year=2026,
        banking=True)
    years = solve(build_model(load_dataset(folder)), allocation=False).years
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([30.0, 33.0])
    assert years["withdrawn_mt"].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)


# Seed 52's survivors found after tests3-8 (``benchmarks/mutation.py --sample 80 --seed 52``), each planted by hand.

def test_a_benchmark_without_output_names_that_sectors_benchmark_row(tmp_path):
    """derive._check_benchmarked_output_10 (``&`` -> ``|``: the first row of the sector OR with any
    benchmark named, here power's): steel without output, its 2026 intensity rule with a benchmark
    on row 4, after power's benchmark on row 2 and steel's own absolute row 3."""
    from model import load_dataset, solve
    from tests.families.cap_rule_helpers import toy_with_rules

    folder = toy_with_rules(tmp_path, ["power,2025,intensity,0,0.5", "steel,2025,absolute,0,",
                                       "steel,2026,intensity,0,1.5"])
    sectors = (folder / "sectors.csv").read_text().replace("steel,2025,2026,50,25,Mt steel",
                                                            "steel,2025,2026,50,,Mt steel")
    (folder / "sectors.csv").write_text(sectors)
    assert refusal(solve, load_dataset(folder)) == (
        "cap_rules.csv, row 4, column benchmark_t_per_unit: found '1.5 for steel', expected blank, or the output "
        "of steel (sectors.csv base_output or bau.csv output): allowances are benchmark x output")


def test_a_blank_first_row_is_refused_asking_for_the_column_names(tmp_path):
    """inputs._csv_cells_40 (the expected text of a blank row 1 changed)."""
    import shutil

    from model import load_dataset

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "mac.csv").write_text("\n" + (TOY / "mac.csv").read_text())
    assert refusal(load_dataset, folder) == "mac.csv, row 1: found 'a blank row', expected the column names on row 1"


def test_a_field_with_only_a_maximum_says_what_kind_of_value_it_wants():
    """fields.Field.expected: an upper bound alone is added to the noun ("a number of at most
    ..."), not put in its place (mutant xǁFieldǁexpected__mutmut_37 dropped "a number")."""
    from model.data.fields import Field

    share = Field("cap_share", "float", "fraction", "a share", maximum=0.5)
    assert share.expected() == "a number of at most 0.5 (fraction)"
    assert Field("n", "int", "", "a count", maximum=3).expected() == "a whole number of at most 3"


def test_checks_share_nothing_outside_a_run_even_in_a_thread_that_never_ran_one():
    """checktools.shared outside run_checks makes its value each time; in a thread where no
    run ever set the memo (threading.local has no attribute there) it must not fail (mutant
    x_shared__mutmut_6 dropped getattr's default and raised AttributeError)."""
    import threading

    from model.families import checktools

    made, errors = [], []

    def ask():
        try:
            made.append(checktools.shared(("k",), lambda: len(made) + 1))
            made.append(checktools.shared(("k",), lambda: len(made) + 1))
        except Exception as err:  # noqa: BLE001 (reported below, the thread would swallow it)
            errors.append(err)

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join()
    assert (errors, made) == ([], [1, 2])


def test_a_table_given_from_python_with_text_in_a_number_column_is_refused_by_name():
    """Dataset.replace checks a table made in Python against its declarations: text in a
    whole-number column (covered_from 'soon') is a refused cell named by file, row and column,
    not a ValueError from a later check (it passed as a number before: the coerced NaN was
    filled with 0 before the finiteness test; mutant x__check_declared__mutmut_83 raised)."""
    from model import InputError, load_dataset

    dataset = load_dataset(TOY)
    sectors = dataset.sectors.copy()
    sectors["covered_from"] = sectors["covered_from"].astype(object)
    sectors.loc[sectors.index[0], "covered_from"] = "soon"
    with pytest.raises(InputError) as refused:
        dataset.replace(sectors=sectors)
    assert str(refused.value) == "sectors.csv, row 2, column covered_from: found 'soon', expected a whole number from 1990 to 2100"
    sectors.loc[sectors.index[0], "covered_from"] = float("inf")
    with pytest.raises(InputError, match="column covered_from: found 'inf'"):
        dataset.replace(sectors=sectors)


def test_a_rule_s_columns_sit_where_it_places_them_in_the_input_reference_order():
    """schema.gathered places each rule's columns after the column the rule names for that
    file (bank_limits: its sectors.csv columns after simulation_reduction), so that the
    reference, the Excel sheet and a written CSV keep related columns together, and `source`
    stays last (mutant x_gathered__mutmut_18 read the placement of no file)."""
    from model.data import schema

    names = [field.name for field in schema.TABLES_BY_NAME["sectors"].fields]
    at = names.index("simulation_reduction")
    assert names[at + 1:at + 4] == ["bank_limit_base_mt", "bank_limit_sales_factor", "intra_sector_sales_mt"]
    assert names[-1] == "source"


def test_a_study_file_asking_for_abatement_steps_keeps_them_for_every_scenario(tmp_path):
    """study.run_study_file mutant 21 (``abatement_steps=None`` passed on: the study file's
    ``abatement_steps = true`` was dropped). A toy sweep of the 2027 national cap over 130 and
    135 Mt keeps the steps table of both scenarios, and scenario 1's steps are those of a
    solve with its cap."""
    from model import apply_overrides, load_dataset
    from model.studies.study import read_study_file, run_study_file

    path = tmp_path / "study.toml"
    path.write_text(f'dataset = "{TOY.as_posix()}"\nabatement_steps = true\n'
                    '[sweep]\n"targets.2027.national_cap_mt" = [130.0, 135.0]\n')
    study = run_study_file(read_study_file(path, "sweep"), "sweep", client=None)
    steps = study.abatement_steps
    alone = solve(apply_overrides(load_dataset(TOY), {"targets.2027.national_cap_mt": 135.0})).abatement_steps
    assert sorted(set(steps["scenario"])) == [0, 1]
    mine = steps[steps["scenario"] == 1].drop(columns="scenario").reset_index(drop=True)
    assert len(mine) == len(alone) > 0
    assert np.allclose(mine["abatement_mt"].to_numpy(), alone["abatement_mt"].to_numpy(), atol=1e-9)
    assert mine["abatement_mt"].sum() == pytest.approx(alone["abatement_mt"].sum(), abs=1e-9)


def test_solve_help_names_the_scenario_option_s_value_as_the_file_name_it_takes():
    """cli.scenario_option mutant 26 (metavar ``NAME`` -> ``name``): the help's placeholder is the
    NAME its text refers to ("scenarios/NAME.toml")."""
    from click.testing import CliRunner

    from model.cli import cli

    text = CliRunner().invoke(cli, ["solve", "--help"], terminal_width=200).output
    assert "-s, --scenario NAME" in text
    assert "scenarios/NAME.toml" in text


def test_init_copies_no_hidden_file_of_a_bundled_dataset(tmp_path, monkeypatch):
    """workbook.init_dataset mutant 51 (``".*"`` dropped from what the copy ignores): an editor's
    or a system's hidden file (``.DS_Store``, ``.~lock.mac.csv#``) beside a bundled dataset is not
    copied into the user's new dataset; its tables are."""
    import shutil

    from model.data import workbook

    bundled = tmp_path / "bundled"
    shutil.copytree(TOY, bundled / "toy")
    (bundled / "toy" / ".DS_Store").write_text("x")
    (bundled / "toy" / ".~lock.mac.csv#").write_text("x")
    monkeypatch.setattr(workbook, "BUNDLED", bundled)
    made = workbook.init_dataset(tmp_path / "mine", "toy")
    names = sorted(p.name for p in made.iterdir())
    assert not [name for name in names if name.startswith(".")]
    assert {"mac.csv", "sectors.csv", "targets.csv", "scenario.toml", "README.md"} <= set(names)


# Seed 56 on 6632c92 (``benchmarks/mutation.py --seed 56``: a new sample, the code having changed), each
# planted by hand.


def test_value_added_grows_with_output():
    """derive._make_sector_years mutant 147 (``* (1 + output_growth) ** elapsed`` -> ``/``): a
    sector's value added grows with its output, as its BAU does: power at 100 bn CNY in 2025 with
    10% output growth holds 110 in 2026 and 121 in 2027 (the burden share divides by it)."""
    from model import apply_overrides, load_dataset
    from model.parameters.derive import derive_parameters

    p = derive_parameters(apply_overrides(load_dataset(TOY), {"sectors.power.output_growth": 0.1}))
    value_added = p.sector_years["value_added_bn_cny"]
    assert value_added.loc["power"].tolist() == pytest.approx([100.0, 110.0, 121.0])
    assert value_added.loc["steel"].tolist() == pytest.approx([50.0, 50.0, 50.0])


def test_the_columns_beyond_the_national_cap_are_those_of_the_families_given():
    """families.beyond_national_cap_columns mutant 2 (the families given replaced by every
    family): run_checks given a list of families counts only their columns beyond the national
    target, none for no family."""
    from model.families import FAMILIES, beyond_national_cap_columns

    by_name = {family.name: family for family in FAMILIES}
    assert beyond_national_cap_columns([]) == ()
    assert beyond_national_cap_columns([by_name["price_ceiling"]]) == ("ceiling_sales_mt",)
    assert beyond_national_cap_columns([by_name["reserve"], by_name["market_balance"]]) == ("reserve_uncounted_mt",)
    assert beyond_national_cap_columns() == ("offsets_overshoot_mt", "ceiling_sales_mt", "reserve_uncounted_mt")


def test_market_clearing_without_word_of_stage_2_tests_both_sides():
    """market_balance.market_clearing mutant 64 (``market.get("equilibrium", True)`` -> no
    default): tables whose market facts say nothing of stage 2 are an equilibrium: 1 Mt of
    power's 2027 emissions taken away leaves 1 Mt of allowances unused at the 2027 price of 60
    CNY/t, a violation of 1 Mt, as with ``equilibrium`` true; with it false only demand above
    supply counts (0)."""
    from model.families.market_balance import market_clearing

    results = solve(TOY, allocation=False)
    sector_years = results.sector_years.copy()
    row = sector_years.index[(sector_years["sector"] == "power") & (sector_years["year"] == 2027)]
    sector_years.loc[row, "emissions_mt"] -= 1.0
    market = {key: value for key, value in results.summary["market"].items() if key != "equilibrium"}
    steps = results.abatement_steps
    assert results.years.set_index("year").loc[2027, "allowance_price_cny_per_t"] == pytest.approx(60.0)
    assert market_clearing(results.years, sector_years, steps, market) == pytest.approx(1.0)
    assert market_clearing(results.years, sector_years, steps, {**market, "equilibrium": True}) == pytest.approx(1.0)
    assert market_clearing(results.years, sector_years, steps, {**market, "equilibrium": False}) == 0.0


def test_replace_names_every_unknown_setting_and_checks_the_known_ones_after():
    """inputs._check_setting_values mutant 23 (``continue`` -> ``break`` after an unknown key):
    Dataset.replace given two misspelt keys and a bad value of a known key (sorted after them)
    names all three."""
    from model import load_dataset

    toy = load_dataset(TOY)
    message = refusal(lambda: toy.replace(settings={**toy.settings, "a.bogus": 1, "b.bogus": 2,
                                                    "market.banking": "maybe"}))
    assert "column a.bogus: found '1', expected a known key" in message
    assert "column b.bogus: found '2', expected a known key" in message
    assert "column market.banking: found 'maybe'" in message


def test_a_study_logs_its_counts_and_seconds(caplog):
    """study.run_scenarios mutant 263 (the seconds logged replaced by None: logging's own error):
    at DEBUG a sweep of two toy scenarios logs one line with its counts and seconds."""
    import logging

    from model.studies.study import sweep

    with caplog.at_level(logging.DEBUG, logger="model.studies.study"):
        sweep(TOY, {"targets.2027.national_cap_mt": [150.0, 160.0]})
    lines = [record.getMessage() for record in caplog.records if record.name == "model.studies.study"]
    assert any(re.fullmatch(r"sweep: 2 optimal, 0 infeasible, 0 errors in \d+\.\d s", line) for line in lines), lines


def test_model_years_with_a_repeated_year_are_refused():
    """tables._by_model_year mutant 16 (the years dropped from the Series made for repeated years):
    values given for 2026 twice are refused (pandas' duplicate labels), never placed by position."""
    from model import load_dataset
    from model.parameters.derive import derive_parameters
    from model.results.tables import _by_model_year

    p = derive_parameters(load_dataset(TOY))
    np.testing.assert_array_equal(_by_model_year(p, np.array([2027, 2026]), np.array([7.0, 6.0])), [np.nan, 6.0, 7.0])
    with pytest.raises(ValueError, match="duplicate"):
        _by_model_year(p, np.array([2026, 2026]), np.array([1.0, 2.0]))


# -- the other survivors of seed 56 on 6632c92 ------------------------------------------------------


def test_a_regime_mip_without_an_optimum_leaves_its_columns_continuous_and_unfixed_for_the_lp_run():
    """highs._fix_integers: x integer in [0.2, 0.8] with the row x >= 1 has no MIP optimum, so
    x is made continuous again with its bounds untouched and the LP's own run reports the LP's
    status (infeasible too: x <= 0.8 < 1)."""
    import highspy

    from model.solving.highs import run_highs

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.addVar(0.2, 0.8)
    highs.changeColCost(0, 1.0)
    highs.addRow(1.0, highspy.kHighsInf, 1, np.array([0], dtype=np.int32), np.array([1.0]))
    run_highs(highs, {}, np.array([0]))
    assert highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible
    lp = highs.getLp()
    assert list(lp.integrality_) in ([], [highspy.HighsVarType.kContinuous])
    assert (list(lp.col_lower_), list(lp.col_upper_)) == ([0.2], [0.8])


def test_a_step_of_half_a_megatonne_at_the_price_sets_it():
    """plots.price_setters keeps every step with any potential: the toy's 2027 price setter,
    steel's step B at 60 CNY/t, with its potential cut to 0.5 Mt (0.25 used) is still the step
    at the price, half used."""
    import dataclasses

    from model.report.plots import price_setters

    results = solve(TOY)
    steps = results.abatement_steps.copy()
    setter = (steps["sector"] == "steel") & (steps["step"] == "B") & (steps["year"] == 2027)
    steps.loc[setter, ["potential_mt", "abatement_mt"]] = [0.5, 0.25]
    table = price_setters(dataclasses.replace(results, abatement_steps=steps), [2027])
    assert table[["sector", "step", "cost_cny_per_t", "margin", "used_share", "abatement_mt"]].values.tolist() == [
        ["steel", "B", 60.0, "at the price", 0.5, 0.25]]


def test_the_auction_share_rows_say_which_way_they_bound_the_free_allocation():
    """allocation._auction_share_rows: a minimum auctioned share caps the free allocation
    (sum free - (1 - min_auction_share) x sum caps <= 0), a maximum floors it (>= 0); the doc a
    script reads on the Pyomo rows says so, and the bounds are those."""
    from model import load_dataset
    from model.parameters.derive import derive_parameters
    from model.solving.allocation import define_maximum_auction, define_minimum_auction

    p = derive_parameters(load_dataset(TOY))
    minimum, maximum = define_minimum_auction(p), define_maximum_auction(p)
    assert minimum.doc == "sum free - (1 - min_auction_share) x sum caps <= 0 (Mt)"
    assert maximum.doc == "sum free - (1 - max_auction_share) x sum caps >= 0 (Mt)"
    assert (minimum.lower, maximum.upper) == (None, None)
    assert minimum.upper.tolist() == maximum.lower.tolist() == [0.0, 0.0, 0.0]


# -- survivors of ``benchmarks/mutation.py --seed 57`` on 3ee779e ----------------------------------


def test_a_scenario_that_changes_only_matrix_coefficients_is_re_solved_with_them():
    """The toy's power BAU at 80 and 130 Mt (of 100) changes the cap shares of the trading
    sectors, coefficients of the trading_cap_shares rows, not the LP's pattern. A Resolver
    warm-started from the previous scenario (``start="previous"``: only what differs is
    pushed, coefficient by coefficient) gives each scenario the objective, prices and sector
    caps of its own solve; a study (sweep) passes each scenario afresh instead."""
    from model import apply_overrides, load_dataset
    from model.lp.blocks import highs_arrays
    from model.lp.formulation import formulate
    from model.parameters.derive import derive_parameters
    from model.solving.resolve import Resolver
    from model.studies.study import sweep

    toy = load_dataset(TOY)
    values = [80.0, 130.0]
    resolver = Resolver(toy)
    resolver.solve(toy)
    study = sweep(toy, {"sectors.power.base_emissions_mt": values})
    assert study.scenarios["status"].tolist() == ["optimal", "optimal"]
    for scenario, value in enumerate(values):
        dataset = apply_overrides(toy, {"sectors.power.base_emissions_mt": value})
        before = resolver.arrays.matrix
        after = highs_arrays(formulate(derive_parameters(dataset))).matrix
        assert np.array_equal(before.indices, after.indices) and np.count_nonzero(before.data != after.data) == 4
        own = solve(dataset)
        warm = resolver.solve(dataset, start="previous")
        assert float(warm.summary["objective_bn_cny"]) == pytest.approx(
            float(own.summary["objective_bn_cny"]), rel=1e-9)
        np.testing.assert_allclose(warm.years["allowance_price_cny_per_t"].to_numpy(),
                                   own.years["allowance_price_cny_per_t"].to_numpy(), rtol=1e-9)
        np.testing.assert_allclose(warm.sector_years["cap_mt"].to_numpy(),
                                   own.sector_years["cap_mt"].to_numpy(), rtol=1e-9)
        assert study.scenarios["objective_bn_cny"][scenario] == pytest.approx(
            float(own.summary["objective_bn_cny"]), rel=1e-9)


def test_a_report_logs_the_files_it_wrote(tmp_path, caplog):
    """plots.write_report's DEBUG line names the folder and every file written, relative to it."""
    import logging

    from model.report.plots import write_report

    folder = solve(TOY).write(tmp_path / "toy")
    with caplog.at_level(logging.DEBUG, logger="model.report.plots"):
        written = write_report(folder)
    line = [r.getMessage() for r in caplog.records if r.getMessage().startswith("report written to")]
    assert line == [f"report written to {folder}: " + ", ".join(str(p.relative_to(folder)) for p in written)]
    assert "report.html" in line[0] and "results.xlsx" in line[0]


def test_the_summary_says_what_its_objective_is():
    """tables._summary: summary.json names the objective's meaning and unit next to its value
    (the toy: 490 + 1,150 / 1.1 + 1,950 / 1.21 million CNY, inputs/toy/README.md)."""
    summary = solve(TOY).summary
    assert summary["objective"] == "present value of abatement cost at first_year, billion CNY"
    assert summary["objective_bn_cny"] == pytest.approx((490 + 1150 / 1.1 + 1950 / 1.21) / 1e3, rel=1e-9)


def test_a_script_s_model_bounds_stage_1_cost_by_the_tolerance_in_million_cny():
    """allocation._keep_stage1_outcome on a model from build_model with a 10% cost tolerance:
    the row stage1_cost_limit says what it bounds and in which unit, and bounds the abatement
    cost (million CNY, PV) at 1.1 x the toy's least cost, 3,147.02 million CNY (490 + 1,150 / 1.1
    + 1,950 / 1.21), which stage 2 then spends in full to lower the largest burden."""
    import pyomo.environ as pyo

    from model import apply_overrides, build_model, load_dataset

    model = build_model(apply_overrides(load_dataset(TOY), {"allocation.cost_tolerance": 0.1}))
    results = solve(model)
    least = (490 + 1150 / 1.1 + 1950 / 1.21)
    assert results.summary["objective_bn_cny"] == pytest.approx(least / 1e3, rel=1e-9)
    limit = model.stage1_cost_limit
    assert limit.doc == "abatement cost within the tolerance of its least value (million CNY, PV)"
    assert limit.lower is None and pyo.value(limit.upper) == pytest.approx(1.1 * least, rel=1e-9)
    assert pyo.value(model.abatement_cost.expr) == pytest.approx(1.1 * least, rel=1e-6)


def test_a_facility_resolution_dataset_whose_registry_is_replaced_by_an_empty_one_is_refused(tmp_path):
    """inputs.check_dataset re-runs the resolution check when only facilities.csv changes
    (Dataset.replace, as a study's scenario does): facility resolution with no installations
    left is refused, naming the setting and what would fix it."""
    import shutil

    from model import apply_overrides, load_dataset
    from tests.conftest import FIVE_INSTALLATIONS

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "facilities.csv").write_text(FIVE_INSTALLATIONS)
    by_installation = apply_overrides(load_dataset(folder), {"model.resolution": "facility"})
    empty = by_installation.facilities.iloc[:0]
    message = refusal(lambda: by_installation.replace(facilities=empty))
    assert "model.resolution" in message and "facilities.csv with the installations" in message
    assert by_installation.replace(facilities=by_installation.facilities.iloc[:2]).facilities.shape[0] == 2


# -- survivors of ``benchmarks/mutation.py --seed 59`` on 84efe00 ----------------------------------


def test_workbook_columns_are_as_wide_as_their_first_60_rows():
    """workbook._dress sizes each column on its first 60 rows (a registry's sheet has many
    thousands): a longer cell further down does not widen it; width = longest + 2, from 8 to 60."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from model.data.workbook import _dress

    sheet = Workbook().active
    sheet.append(["facility_id", "x"])
    for row in range(2, 71):
        sheet.append([f"id{row}" if row != 61 else "an identifier of thirty letters", "y" * 20])
    _dress(sheet, Font)
    assert sheet.column_dimensions["A"].width == len("facility_id") + 2
    assert sheet.column_dimensions["B"].width == 22
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold


def test_name_codes_of_two_columns_of_one_table_in_one_check_run():
    """checktools.name_codes keeps a text column's codes for one run_checks by table and
    column: two columns of one table asked in the same run each get their own names and codes
    (today's checks all ask for sector_years' "sector"; a rule's check may ask for another)."""
    import pandas as pd

    from model.families import checktools

    table = pd.DataFrame({"sector": ["power", "steel", "power"], "phase": ["trading", "trading", None]})
    checktools.sums.by_year = {}
    try:
        sectors, sector_codes = checktools.name_codes(table, "sector")
        phases, phase_codes = checktools.name_codes(table, "phase")
        again = checktools.name_codes(table, "sector")
    finally:
        checktools.sums.by_year = None
    assert (list(sectors), sector_codes.tolist()) == (["power", "steel"], [0, 1, 0])
    assert (list(phases), phase_codes.tolist()) == (["trading"], [0, 0, -1])
    assert again[1] is sector_codes


def test_only_the_listed_families_may_declare_allowances_beyond_the_national_cap():
    """checks.run_checks with ``families``: the national count allows the overshoot declared
    by those families' columns only. The toy's tables with power emitting 1,000 Mt more in
    2027 and a reserve_uncounted_mt of 1,000 Mt that year: with every family (the reserve's
    column declared) the count holds; with the national target's family alone the reserve's
    column is not declared, and the count fails by what it fails by without that column."""
    from model.families import FAMILIES
    from model.families import national_target
    from model.results.checks import run_checks

    results = solve(TOY)
    years, sector_years = results.years.copy(), results.sector_years.copy()
    power_2027 = (sector_years["sector"] == "power") & (sector_years["year"] == 2027)
    sector_years.loc[power_2027, "emissions_mt"] += 1000.0
    market = results.summary["market"]
    listed = [national_target.FAMILY]
    without_column = run_checks(years, sector_years, results.abatement_steps, market, families=listed)
    years["reserve_uncounted_mt"] = np.where(years["year"] == 2027, 1000.0, 0.0)
    every = run_checks(years, sector_years, results.abatement_steps, market, families=list(FAMILIES))
    alone = run_checks(years, sector_years, results.abatement_steps, market, families=listed)
    assert every["national_count"]["passed"]
    assert without_column["national_count"]["worst_violation"] > 900
    assert not alone["national_count"]["passed"]
    assert alone["national_count"]["worst_violation"] == pytest.approx(
        without_column["national_count"]["worst_violation"])


def test_an_override_of_the_intensity_target_alone_is_checked_for_its_gdp():
    """check_dataset re-runs the target values' check when a scenario sets only
    ``national_intensity_t_per_10k_cny`` (inputs.check_dataset reads that column's name; in
    capitals, an override of it alone would skip the check): the toy has no GDP, so an
    intensity target for 2025 has no cap to give and is refused at targets.csv row 2, column
    gdp_bn_cny."""
    from model.data.inputs import load_dataset
    from model.data.overrides import apply_overrides

    toy = load_dataset(TOY)
    message = refusal(lambda: apply_overrides(toy, {"targets.2025.national_intensity_t_per_10k_cny": 1.0}))
    assert message == ("--set targets.2025.national_intensity_t_per_10k_cny=1.0, in targets.csv, row 2, "
                       "column gdp_bn_cny: expected the year's GDP (billion CNY): the intensity target's "
                       "cap is intensity x GDP")


def test_a_csv_cell_s_trailing_nul_is_stripped_as_whitespace(tmp_path):
    """fields.stripped_text strips all-text cells with numpy, whose text arrays drop trailing
    NUL characters (an editor does not show them): the toy's sectors.csv with
    "illustrative\\x00" as power's source reads "illustrative" (with the pandas path for every
    column, as when the text check is misspelt, the NUL stays)."""
    import shutil

    from model.data.inputs import load_dataset

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    sectors = folder / "sectors.csv"
    sectors.write_text(sectors.read_text().replace("illustrative", "illustrative\x00", 1))
    assert load_dataset(folder).sectors["source"].tolist() == ["illustrative"] * 3


# -- survivors of ``benchmarks/mutation.py --seed 61`` on 85e143f ----------------------------------


def test_a_monte_carlo_of_a_dataset_folder_loads_it():
    """study.monte_carlo given a folder (not a Dataset) loads it before drawing: the same
    draws and tables as of the loaded dataset (with the folder passed on unloaded, the draws'
    keys cannot be looked up in it)."""
    from model.data.inputs import load_dataset
    from model.studies.study import monte_carlo

    drawn = {"mac.*.*.cost_cny_per_t*": {"kind": "uniform", "low": 0.9, "high": 1.1}}
    from_folder = monte_carlo(TOY, 3, drawn, seed=4)
    loaded = monte_carlo(load_dataset(TOY), 3, drawn, seed=4)
    pd.testing.assert_frame_equal(from_folder.scenarios, loaded.scenarios)
    pd.testing.assert_frame_equal(from_folder.years, loaded.years)
    assert from_folder.scenarios["objective_bn_cny"].nunique() == 3


def test_a_sector_with_a_tonne_of_potential_is_not_listed_at_full_potential(tmp_path):
    """diagnose lists a sector at its full potential only when it has more than
    FULL_TOLERANCE (1e-6 Mt, a tonne) to abate: power (BAU 100, 20% potential) and a sector
    of 1e-6 Mt BAU with all of it abatable, under a national cap of 70: the cap must rise
    by 10 Mt (less the tonne), and only power is at full potential."""
    from model import InfeasibleError
    from tests.conftest import write_dataset

    folder = write_dataset(
        tmp_path / "case",
        sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100},
                 {"sector": "tiny", "covered_from": 2025, "base_emissions_mt": 1e-6}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.2, "cost_cny_per_t": 10},
             {"sector": "tiny", "step": "A", "potential_share": 1.0, "cost_cny_per_t": 10}],
        targets=[{"year": 2025, "national_cap_mt": 70}])
    with pytest.raises(InfeasibleError) as caught:
        solve(folder)
    relaxation = caught.value.relaxation
    assert relaxation["relaxation_mt"].tolist() == pytest.approx([10.0])
    assert relaxation["sectors_at_full_potential"].tolist() == ["power"]


def test_a_study_report_without_a_kind_is_titled_a_study(tmp_path):
    """write_study_report's titles (the page's and the workbook's Summary sheet's) name the
    study's kind, "study" when study.json gives none (a folder written by another tool or
    edited by hand)."""
    import json

    from model.report.plots import write_report
    from model.studies.study import sweep

    folder = sweep(TOY, {"targets.2027.national_cap_mt": [133, 137]}, client=None).write(tmp_path / "study")
    info = json.loads((folder / "study.json").read_text())
    del info["kind"]
    (folder / "study.json").write_text(json.dumps(info))
    import openpyxl

    write_report(folder)
    page = (folder / "report.html").read_text()
    assert re.findall(r"<h1>(.*?)</h1>", page) == ["etscap study report: study of toy"]
    summary = openpyxl.load_workbook(folder / "results.xlsx")["Summary"]
    assert next(summary.iter_rows(values_only=True))[0] == "etscap study: study of toy"


# -- survivors of ``benchmarks/mutation.py --seed 63`` on e3e72f3 ----------------------------------


def test_a_csv_of_a_filtered_table_holds_no_index_column(tmp_path):
    """tables.write_csv writes the columns only: a table whose index is not 0..n-1 (rows
    picked from a bigger one) gets no index column (pyarrow's preserve_index=None would
    write it as __index_level_0__)."""
    from model.results.tables import write_csv

    table = pd.DataFrame({"year": [2025, 2026, 2027, 2028], "price": [0.0, 40.0, 60.0, 70.0]}).iloc[[0, 1, 3]]
    assert list(table.index) == [0, 1, 3]
    write_csv(table, tmp_path / "picked.csv")
    assert (tmp_path / "picked.csv").read_text() == '"year","price"\n2025,0\n2026,40\n2028,70\n'


def test_a_relaxation_is_reported_to_the_tonne(tmp_path):
    """diagnose.relaxation_table rounds each relaxation to 1e-6 Mt (a tonne): BAU 100, 20%
    potential, national cap 69.9999996 Mt: the cap must rise by 10.0000004 Mt, reported as
    10.0 (to seven places it would be 10.0000004)."""
    from model import InfeasibleError
    from tests.conftest import write_dataset

    folder = write_dataset(
        tmp_path / "case", sectors=[{"sector": "power", "covered_from": 2025, "base_emissions_mt": 100}],
        mac=[{"sector": "power", "step": "A", "potential_share": 0.2, "cost_cny_per_t": 10}],
        targets=[{"year": 2025, "national_cap_mt": 69.9999996}])
    with pytest.raises(InfeasibleError) as caught:
        solve(folder)
    assert caught.value.relaxation["relaxation_mt"].tolist() == [10.0]


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("targets.2025.non_co2_mt", 5.0, "found '5', expected 0 or blank, since [targets] scope = 'co2' counts CO2 only "
                                     "(or scope = 'net_ghg' in scenario.toml)"),
    ("targets.2025.sinks_mt", 5.0, "found '5', expected 0 or blank, since [targets] scope = 'co2' counts CO2 only "
                                   "(or scope = 'net_ghg' in scenario.toml)"),
    ("targets.2025.ets_cap_mt", 200.0, "found '200', expected at most national_cap_mt (170), which counts the "
                                       "allowances issued"),
])
def test_an_override_of_one_target_column_alone_is_checked_against_the_others(key, value, expected):
    """check_dataset re-runs the target values' check when a scenario sets only one of the
    columns it reads (inputs.check_dataset_65: "targets.non_co2_mt" misspelt, an override of
    non_co2_mt alone skipped it): the toy counts CO2 only, and its 2025 national cap is 170 Mt."""
    from model.data.inputs import load_dataset
    from model.data.overrides import apply_overrides

    toy = load_dataset(TOY)
    column = key.rsplit(".", 1)[1]
    assert refusal(lambda: apply_overrides(toy, {key: value})) == (
        f"--set {key}={value}, in targets.csv, row 2, column {column}: {expected}")


# -- survivors of ``benchmarks/mutation.py --seed 67`` on a66f350 ----------------------------------


def test_the_progress_bar_of_a_terminal_is_labelled_scenarios(capsys):
    """A study's progress bar on a terminal is click's, labelled "scenarios" (cli._ProgressBar
    __call___36: the label dropped); click shows only its label where stderr is not a terminal."""
    import contextlib

    from model.cli import _ProgressBar

    with contextlib.ExitStack() as stack:
        bar = _ProgressBar(stack, shown=True, terminal=True)
        bar(1, 4)
        bar(4, 4)
    assert capsys.readouterr().err == "scenarios\n"


@pytest.mark.parametrize("categorical", [False, True])
def test_a_bau_path_in_any_row_order_gives_the_same_bau(categorical):
    """bau.csv's rows reversed (each sector's years from last to first), its sector column as
    text or as a script's categorical: every sector-year's BAU is the sorted table's, to the
    bit (derive._by_sector_37: a categorical's years left unsorted)."""
    from model.data.inputs import load_dataset
    from model.parameters.derive import derive_parameters
    from tests.conftest import CHINA

    china = load_dataset(CHINA)
    reversed_bau = china.bau.iloc[::-1].reset_index(drop=True)
    if categorical:
        reversed_bau = reversed_bau.assign(sector=reversed_bau["sector"].astype("category"))
    shuffled = china.replace(bau=reversed_bau)
    assert reversed_bau["year"].iloc[0] > reversed_bau["year"].iloc[-1]
    np.testing.assert_array_equal(derive_parameters(shuffled).sector_years["bau_mt"].to_numpy(),
                                  derive_parameters(china).sector_years["bau_mt"].to_numpy())


def test_a_schedule_lowers_the_free_share_floor_of_a_sector_not_leakage_exposed(tmp_path):
    """Power (not leakage-exposed) with sectors.csv free_share_min 0.3 and an allocation.csv
    schedule of min 0 and max 1 in 2025, 0 and 0 in 2027: the schedule replaces the minimum,
    no floor is kept, and power gets nothing free in 2027 (derive._free_share_bounds_74:
    ``leakage_exposed >= 0`` kept every sector's 0.3 as a floor, above the 2027 maximum 0,
    and the dataset was refused)."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "allocation.csv").write_text(
        "sector,year,free_share_min,free_share_max,source\npower,2025,0,1,test\npower,2027,0,0,test\n")
    results = solve(folder, overrides={"sectors.power.free_share_min": 0.3, "targets.*.max_auction_share": 1.0})
    power = results.sector_years.query("sector == 'power'").set_index("year")
    assert power["free_share_min"].tolist() == [0.0, 0.0, 0.0]
    assert power["free_share_max"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert power.loc[2027, "free_mt"] == pytest.approx(0.0, abs=1e-7)


def test_a_verbose_solve_of_a_dataset_shows_the_log_of_each_of_its_four_solves(capfd):
    """``solve(toy, verbose=True)`` on the blocks route: HiGHS's log of stage 1 and of stage 2's
    three goals, each ending "Model status : Optimal" (pipeline._solve_blocks_26: stage 1
    solved quietly, three shown); without verbose, none."""
    solve(TOY, verbose=True, installations=False)
    assert capfd.readouterr().out.count("Model status        : Optimal") == 4
    solve(TOY, installations=False)
    assert "Model status" not in capfd.readouterr().out


def test_the_pyomo_model_of_a_script_documents_its_sets():
    """A script's model (build_model) says what its sets hold (formulation.define_sets_32: the
    steps' doc changed)."""
    from model import build_model
    from model.data.inputs import load_dataset

    model = build_model(load_dataset(TOY))
    assert {name: model.component(name).doc for name in ("years", "abatement_steps", "covered", "simulation")} == {
        "years": "model years", "abatement_steps": "(sector, step, year) available",
        "covered": "(sector, year) covered by the ETS, trading or in simulation",
        "simulation": "(sector, year) in the simulation phase: own compliance against a rule cap"}


# -- survivors of ``benchmarks/mutation.py --seed 69`` on 8055cec ----------------------------------


def test_dual_columns_are_those_of_the_families_given():
    """``dual_columns(table, families)`` chooses among the families given, by column name; without
    them, among every family (families.dual_columns_3: the families given ignored)."""
    from model.families import dual_columns, market_balance, national_target

    assert [f.name for f in dual_columns("years")] == ["market_balance", "national_target", "offsets"]
    assert dual_columns("years", [national_target.FAMILY, market_balance.FAMILY]) == [
        market_balance.FAMILY, national_target.FAMILY]  # allowance_price_cny_per_t before national_carbon_value
    assert dual_columns("years", []) == []
    assert [f.name for f in dual_columns("sector_years")] == ["simulation_compliance"]


def test_a_schedule_below_the_leakage_floor_is_refused_at_its_column(tmp_path):
    """Steel (leakage-exposed, floor 0.5) scheduled to at most 0.2 free in 2027: the refusal
    names allocation.csv's column free_share_max (derive._free_share_bounds_91: no column)."""
    import shutil

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    (folder / "allocation.csv").write_text(
        "sector,year,free_share_min,free_share_max\nsteel,2025,0,1\nsteel,2027,0,0.2\n")
    assert refusal(lambda: solve(folder)) == (
        "allocation.csv, column free_share_max: found '0.2 for steel in 2027', expected at least the leakage "
        "floor 0.5 (sectors.csv free_share_min of a leakage-exposed sector), or leakage_exposed = false")


def test_a_study_with_no_optimal_scenario_has_empty_tables_with_their_scenario_column():
    """National caps of 1 and 2 Mt in 2027 cannot be met by the toy: both scenarios are infeasible,
    and each table of the study is empty with its ``scenario`` column, so a script can still
    select by scenario (study._gather_85: the column named "SCENARIO")."""
    from model import load_dataset
    from model.studies.study import sweep

    study = sweep(load_dataset(TOY), {"targets.2027.national_cap_mt": [1.0, 2.0]})
    assert study.scenarios["status"].tolist() == ["infeasible", "infeasible"]
    for table in (study.years, study.sector_years):
        assert list(table.columns) == ["scenario"] and len(table) == 0
    assert study.years[study.years["scenario"] == 0].empty
