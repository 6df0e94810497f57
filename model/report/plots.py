"""Plots, an HTML page and a workbook that people read, from a results or a study folder.

Every ``plot_*`` function takes a ``Results`` (or a study's tables) and returns a
``matplotlib.figure.Figure``. Figures are made without pyplot, on an Agg canvas: no
display is needed, nothing is kept in a global figure list, and in a notebook the
returned figure shows itself. ``write_report(folder)`` is what the CLI calls: it draws
every plot the folder's tables allow and writes ``plots/*.png``, ``report.html`` and
``results.xlsx`` into the folder, each file atomically, and touches no other file.

Units come from column names (``_mt`` Mt CO2, ``_cny_per_t`` CNY per t CO2, ``_bn_cny``
billion CNY; shares are fractions): ``unit_of`` is the one mapping, used for axis labels
and for the workbook's headers.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import logging
import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, MaxNLocator, PercentFormatter, ScalarFormatter

from ..data import schema
from ..errors import EtscapError
from ..files import write_file
from ..data.overrides import parse_override
from ..parameters.phases import OUTSIDE, SIMULATION, TRADING
from ..results.tables import (SHORT_HORIZON_YEARS, TABLE_FILES, Results, milestone_years, overshoot_sources,
                              read_csv)
from ..studies.study import STUDY_FILES, Study

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

log = logging.getLogger(__name__)

MAC_YEAR = 2030  # default year of the MAC curves and of a study's price distribution
PLOTS_FOLDER = "plots"
HTML_FILE = "report.html"
WORKBOOK_FILE = "results.xlsx"
# Rows of one table the workbook takes: openpyxl writes some 10^5 cells a second, and a sheet of
# hundreds of thousands of rows is no use in a spreadsheet; larger tables stay in the CSV and
# Parquet files (the installations are summarised by sector and year instead).
WORKBOOK_MAX_ROWS = 50_000

# -- units ---------------------------------------------------------------------------------

UNIT_SUFFIXES = {  # column-name suffix -> unit (the suffix is the unit, not the quantity)
    "_cny_per_t": "CNY/t CO2",
    "_t_per_unit": "t CO2/unit of output",
    "_bn_cny": "bn CNY",
    "_mt": "Mt CO2",
}
FRACTION = "fraction"
ACRONYMS = {"ets": "ETS", "bau": "BAU", "co2": "CO2", "mac": "MAC"}


def unit_of(column: str) -> str | None:
    """The unit a column's name declares: 'allowance_price_cny_per_t' -> 'CNY/t CO2'."""
    for suffix, unit in UNIT_SUFFIXES.items():
        if column.endswith(suffix):
            return unit
    if "share" in column or column == "discount_factor":
        return FRACTION
    return None


def quantity_of(column: str) -> str:
    """A column's name in words without its unit: 'ets_cap_mt' -> 'ETS cap'."""
    for suffix in UNIT_SUFFIXES:
        if column.endswith(suffix):
            column = column[: -len(suffix)]
            break
    words = [ACRONYMS.get(word, word) for word in column.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def axis_label(column: str, quantity: str | None = None, percent: bool = False) -> str:
    """'Allowance price (CNY/t CO2)'; fractions drawn as percentages read '(%)'."""
    unit = "%" if percent else unit_of(column)
    quantity = quantity or quantity_of(column)
    return f"{quantity} ({unit})" if unit else quantity


def header_with_unit(column: str) -> str:
    """A workbook header: 'allowance_price_cny_per_t (CNY/t CO2)'."""
    unit = unit_of(column)
    return f"{column} ({unit})" if unit else column


# -- figures -------------------------------------------------------------------------------

SLIDE_SIZE = (11.0, 6.2)  # inches; saved at PNG_DPI this is 1650 x 930 pixels, a 16:9 slide
PNG_DPI = 150
SLIDE_STYLE: dict[RcKeyType, Any] = {
    "font.size": 14,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "legend.title_fontsize": 13,
    "figure.titlesize": 19,
    "figure.labelsize": 15,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
}
slide_style = mpl.rc_context(SLIDE_STYLE)  # used as a decorator on every plot function


def _new_figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = SLIDE_SIZE,
                **subplots: Any) -> tuple[Figure, Any]:
    """A figure on an Agg canvas (no display, no pyplot) with constrained layout."""
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, **subplots)


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (no metadata: the same bytes for the same figure)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def figure_title(figure: Figure) -> str:
    """The figure's title (its suptitle, else its first axes' title)."""
    return figure.get_suptitle() or (figure.axes[0].get_title() if figure.axes else "")


class StepFormatter(Formatter):
    """Tick labels with thousands separators and as many decimals as the tick step needs:
    ticks 14,991.90 / 14,991.92 / ... rather than six labels '14,991.9'."""

    MAX_DECIMALS = 6

    def __init__(self) -> None:
        self.decimals = 0

    def set_locs(self, locs: Any) -> None:
        super().set_locs(locs)
        steps = np.diff(np.sort(np.asarray(locs, dtype=float)))
        steps = steps[steps > 0]
        # the step's first significant digit sets the precision (0.25 needs 2 decimals, 0.2 one)
        step = steps.min() if len(steps) else 1.0
        decimals = 0
        while decimals < self.MAX_DECIMALS and abs(round(step, decimals) - step) > 1e-9 * max(step, 1e-300):
            decimals += 1
        self.decimals = decimals

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = f"{x:,.{self.decimals}f}"
        return "0" if text.lstrip("-").strip("0.,") == "" else text  # no '-0.00'


def _thousands(*axes: Any) -> None:
    """Tick labels with thousands separators (10,000) and the decimals the tick step needs,
    on axes that show plain numbers."""
    for axis in axes:
        if type(axis.get_major_formatter()) is ScalarFormatter:  # not percentages or names
            axis.set_major_formatter(StepFormatter())


FLAT_RELATIVE = 1e-9  # values this close (relative) are one value: solver noise, not a spread


def _is_flat(values: Any) -> bool:
    """Whether the finite values are one number up to solver noise (or there are none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return len(values) == 0 or np.ptp(values) <= FLAT_RELATIVE * max(1.0, float(np.abs(values).max()))


def _flat_limits(values: Any) -> tuple[float, float]:
    """Axis limits around values that are one number: +-1% of it (at least +-1), so the
    ticks show that number rather than its rounding noise."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    centre = float(np.median(values)) if len(values) else 0.0
    half = max(abs(centre) * 0.01, 1.0)
    return centre - half, centre + half


def _is_year(key: str) -> bool:
    """Whether an input key is declared in years (trading_from, ...): no thousands separator."""
    name = parse_override(key, None).key
    if name in schema.SCENARIO:
        return schema.SCENARIO[name].unit == "year"
    table, *_, column = name.split(".")
    spec = schema.TABLES_BY_NAME.get(table)
    field = spec.by_name.get(column) if spec else None
    return field is not None and field.unit == "year"


def _year_axis(ax: Any) -> None:
    """Years on x as whole numbers; thousands separated on y."""
    ax.set_xlabel("Year")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _thousands(ax.yaxis)


def sector_colors(sectors: Iterable[str]) -> dict[str, Any]:
    """One colour per sector, the same in every plot of a report."""
    sectors = list(dict.fromkeys(sectors))
    palette = mpl.color_sequences["tab10" if len(sectors) <= 10 else "tab20"]  # the colormaps' colours
    return {sector: palette[i % len(palette)] for i, sector in enumerate(sectors)}


def sectors_by_coverage(sector_years: pd.DataFrame) -> list[str]:
    """Sectors in the order the ETS covers them (never covered last), file order within a year.

    Phases only move outside -> simulation -> trading, so in every year the covered sectors
    are a prefix of this order: stacked in it, the covered sectors lie below the others.
    """
    covered = sector_years[sector_years["phase"] != OUTSIDE]
    first_covered = covered.groupby("sector", sort=False)["year"].min()
    order = list(dict.fromkeys(sector_years["sector"]))
    return sorted(order, key=lambda s: (first_covered.get(s, math.inf), order.index(s)))


def _has_values(table: pd.DataFrame, column: str) -> bool:
    return column in table.columns and bool(table[column].notna().any())


def _outside_legend(figure: Figure, ax: Any, reverse: bool = False) -> None:
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", reverse=reverse)


LEGEND_LABEL_CHARS = 34  # longer legend labels wrap, so that the legend leaves the axes most of the width
OUTSIDE_HATCH = "//"  # emissions outside the ETS: hatched, stacked on top of the ETS cap
BANK_COLOR = "0.3"  # the bank in dark grey: no sector's colour
BANK_GAP_MT = 1e-6  # ETS emissions this close to the cap meet it


@slide_style
def plot_cap_and_emissions(results: Results) -> Figure:
    """What the national target counts, Mt CO2: the ETS sectors' emissions stacked from zero
    under the ETS cap, the uncovered sectors' emissions (hatched) stacked on the ETS cap, so
    that cap plus uncovered emissions meets the national cap line; with banking, the gap
    between the ETS sectors' emissions and the cap is the bank filled or drawn, and a lower
    panel shows the bank."""
    sector_years, years = results.sector_years, results.years
    order = sectors_by_coverage(sector_years)
    colors = sector_colors(sector_years["sector"])
    emissions = sector_years.pivot(index="year", columns="sector", values="emissions_mt")[order]
    covered = sector_years.pivot(index="year", columns="sector", values="phase")[order] != OUTSIDE
    x = emissions.index.to_numpy()
    cap = years.set_index("year").loc[x, "ets_cap_mt"].to_numpy(dtype=float)
    banking = banking_on(results)
    if banking:
        figure, (ax, bank_ax) = _new_figure(2, 1, figsize=(SLIDE_SIZE[0] + 1, SLIDE_SIZE[1] + 1.6), sharex=True,
                                            height_ratios=[3, 1])
    else:
        figure, ax = _new_figure(figsize=(SLIDE_SIZE[0] + 1, SLIDE_SIZE[1]))
    handles: dict[str, Any] = {}
    bottom = np.zeros(len(x))
    for sector in order:  # ETS sectors from zero: their emissions must fit under the cap
        values = emissions[sector].where(covered[sector], 0.0).to_numpy(dtype=float)
        if values.any():
            ax.fill_between(x, bottom, bottom + values, color=colors[sector], alpha=0.85, linewidth=0,
                            label=f"{sector} (ETS)")
            handles[sector] = Patch(color=colors[sector], alpha=0.85, label=sector)
        bottom = bottom + values
    ets_emissions = bottom
    # allowances a rule adds beyond the national count (ceiling sales, ...) lift the uncovered
    # stack too, so that the national overshoot shows above the national cap line
    indexed = years.set_index("year")
    overshoot = (np.nan_to_num(indexed.loc[x, "national_overshoot_mt"].to_numpy(dtype=float))
                 if "national_overshoot_mt" in indexed else np.zeros(len(x)))
    bottom = cap + overshoot
    for sector in order:  # outside the ETS: counted by the national target on top of the allowances issued
        values = emissions[sector].where(~covered[sector], 0.0).to_numpy(dtype=float)
        if values.any():
            ax.fill_between(x, bottom, bottom + values, facecolor=colors[sector], alpha=0.35,
                            edgecolor=colors[sector], hatch=OUTSIDE_HATCH, linewidth=0,
                            label=f"{sector} (outside ETS)")
            handles.setdefault(sector, Patch(color=colors[sector], alpha=0.85, label=sector))
        bottom = bottom + values
    handles["outside"] = Patch(facecolor="0.85", edgecolor="0.3", hatch=OUTSIDE_HATCH,
                               label="Hatched: outside the ETS")
    # the gap between the ETS sectors' emissions and the cap is the bank's change; drawn last,
    # unfilled, so that emissions above the cap (from the bank) show over the uncovered stack
    surplus = cap - ets_emissions
    if np.any(surplus > BANK_GAP_MT):
        ax.fill_between(x, ets_emissions, cap, where=surplus > BANK_GAP_MT, interpolate=True, facecolor="white",
                        edgecolor=BANK_COLOR, hatch="..", linewidth=0, label="Allowances banked")
        handles["banked"] = Patch(facecolor="white", edgecolor=BANK_COLOR, hatch="..", label="Banked (not used)")
    if np.any(surplus < -BANK_GAP_MT):
        # above the cap: the bank drawn, or what rules add (offsets, reserve, ceiling sales)
        # only what adds allowances in some year (not removals such as cancellations)
        added = [label.lower() for column, label, sign in supply_sources(results)[1:]
                 if sign > 0 and bool((indexed[column].fillna(0.0) > BANK_GAP_MT).any())]
        source = ", ".join((["bank"] if banking else []) + added) or "bank"
        ax.fill_between(x, cap, ets_emissions, where=surplus < -BANK_GAP_MT, interpolate=True, facecolor="none",
                        edgecolor="tab:red", hatch="xx", linewidth=0,
                        label="Drawn from the bank" if source == "bank" else f"Above the cap: {source}")
        handles["drawn"] = Patch(facecolor="white", edgecolor="tab:red", hatch="xx",
                                 label=f"ETS above cap: from {source}")
    handles["ETS cap"] = ax.plot(x, cap, color="black", label="ETS cap (issued)")[0]
    handles["National cap"] = ax.plot(years["year"], years["national_cap_mt"], color="black", linestyle="--",
                                      linewidth=3, label="National cap")[0]
    # a figure title: an axes title this long, over axes narrowed by the legend, runs into it
    figure.suptitle("ETS cap and emissions; outside the ETS on top")
    ax.set_ylabel(axis_label("emissions_mt"))
    ax.set_ylim(bottom=0)
    _year_axis(ax)
    if banking:
        bank_ax.bar(years["year"], years["bank_mt"], color=BANK_COLOR, label="Bank at year end")
        bank_ax.set_ylabel(axis_label("bank_mt", "Bank"))
        handles["Bank"] = Patch(color=BANK_COLOR, label="Bank at year end (below)")
        _year_axis(bank_ax)
        ax.set_xlabel("")
    ordered = [handles.pop("National cap"), handles.pop("ETS cap")] + list(handles.values())[::-1]
    # centred beside the panels: an upper legend would rise into the figure title's band
    figure.legend(ordered, [textwrap.fill(h.get_label(), LEGEND_LABEL_CHARS) for h in ordered],
                  loc="outside right center")
    return figure


DETAIL_YEARS = 10  # the price chart's detail panel: the first decade, whose prices a long horizon squeezes


@slide_style
def plot_prices(results: Results) -> Figure:
    """The allowance price and the national carbon value over time, CNY/t CO2 in year-t
    money; simulation-phase sectors' own prices as points. A long horizon gets a second
    panel with the first decade on its own scale (prices rise tenfold or more later)."""
    years, sector_years = results.years, results.sector_years
    first = int(years["year"].min())
    detail = int(years["year"].max()) - first > DETAIL_YEARS + 2
    axes: tuple[Axes, ...]
    if detail:
        figure, (ax, zoom) = _new_figure(1, 2, figsize=(SLIDE_SIZE[0] + 2, SLIDE_SIZE[1]), width_ratios=[3, 2])
        axes = (ax, zoom)
    else:
        figure, ax = _new_figure()
        axes = (ax,)
    simulation = sector_years[(sector_years["phase"] == SIMULATION)].dropna(subset=["own_price_cny_per_t"])
    colors = sector_colors(sector_years["sector"])
    for i, panel in enumerate(axes):
        shown = years if i == 0 else years[years["year"] <= first + DETAIL_YEARS]
        panel.plot(shown["year"], shown["national_carbon_value_cny_per_t"], color="tab:orange", linewidth=7,
                   alpha=0.45, label="National carbon value")
        panel.plot(shown["year"], shown["allowance_price_cny_per_t"], color="tab:blue", marker="o",
                   label="Allowance price")
        points = simulation if i == 0 else simulation[simulation["year"] <= first + DETAIL_YEARS]
        for sector, rows in points.groupby("sector", sort=False):
            panel.scatter(rows["year"], rows["own_price_cny_per_t"], marker="D", s=60, color=colors[sector],
                          edgecolor="black", zorder=3, label=f"Own price, {sector} (simulation)")
        panel.set_ylim(bottom=0)
        _year_axis(panel)
    ax.set_title("Allowance price and national carbon value")
    ax.set_ylabel(axis_label("price_cny_per_t"))
    if detail:
        zoom.set_title(f"{first}-{first + DETAIL_YEARS} in detail")
        ax.axvspan(first, first + DETAIL_YEARS, color="0.9", zorder=0, label="_detail")
    ax.legend(loc="upper left")
    return figure


def chosen_year(year: int | None, years: Iterable[int]) -> int:
    """The year a single-year plot shows: ``year`` if modelled; by default 2030 if
    modelled, else the last year."""
    years = sorted(int(y) for y in years)
    if year is None:
        return MAC_YEAR if MAC_YEAR in years else years[-1]
    if int(year) not in years:
        raise EtscapError(f"year {year} is not in the results (years {years[0]}-{years[-1]}): "
                          "choose --year within them")
    return int(year)


@slide_style
def plot_mac_curves(results: Results, year: int | None = None) -> Figure:
    """Each covered sector's marginal abatement cost curve in one year (cost against
    cumulative potential, used part shaded) with that year's allowance price across it."""
    year = chosen_year(year, results.years["year"])
    sector_years = results.sector_years
    covered = sector_years[(sector_years["year"] == year) & sector_years["phase"].isin([SIMULATION, TRADING])]
    if covered.empty:
        raise EtscapError(f"no sector is covered by the ETS in {year}: choose another --year")
    steps = results.abatement_steps
    steps = steps[(steps["year"] == year) & (steps["potential_mt"] > 0)]
    price = results.years.set_index("year").loc[year, "allowance_price_cny_per_t"]
    colors = sector_colors(sector_years["sector"])
    ncols = min(len(covered), 4)
    nrows = math.ceil(len(covered) / ncols)
    size = (max(SLIDE_SIZE[0], 4.4 * ncols), max(SLIDE_SIZE[1], 1.6 + 3.7 * nrows))
    figure, axes = _new_figure(nrows, ncols, figsize=size, squeeze=False)
    legend: dict[str, Any] = {  # grey stand-ins: the sectors' colours differ
        "Abatement cost curve": Line2D([], [], color="0.4", linewidth=2.5),
        "Abatement used": Patch(color="0.4", alpha=0.5, linewidth=0),
    }
    for i, (ax, row) in enumerate(zip(axes.flat, covered.itertuples())):
        curve = steps[steps["sector"] == row.sector].sort_values("cost_cny_per_t", kind="stable")
        edges = np.concatenate([[0.0], curve["potential_mt"].cumsum().to_numpy()])
        ax.stairs(curve["cost_cny_per_t"], edges, color=colors[row.sector], linewidth=2.5)
        ax.bar(edges[:-1], curve["cost_cny_per_t"], width=curve["abatement_mt"], align="edge",
               color=colors[row.sector], alpha=0.5, linewidth=0)
        if np.isfinite(price):
            legend[f"Allowance price {year}: {price:,.0f} CNY/t"] = ax.axhline(price, color="black",
                                                                             linestyle="--", linewidth=2)
        if row.phase == SIMULATION and np.isfinite(row.own_price_cny_per_t):
            legend["Own price (simulation phase)"] = ax.axhline(row.own_price_cny_per_t, color="tab:red",
                                                                linestyle=":", linewidth=2.5)
        ax.set_title(row.sector + (" (simulation)" if row.phase == SIMULATION else ""))
        ax.text(0.03, 0.97, f"used {curve['abatement_mt'].sum():,.0f} of {edges[-1]:,.0f} Mt",
                transform=ax.transAxes, va="top", fontsize=12, bbox={"facecolor": "white", "alpha": 0.8,
                                                                     "edgecolor": "none"})
        ax.set_xlim(0, max(edges[-1], 1e-9))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        if i + ncols >= len(covered):  # nothing below: the bottom of its column
            ax.set_xlabel(axis_label("potential_mt", "Cumulative potential"))
        if i % ncols == 0:
            ax.set_ylabel(axis_label("cost_cny_per_t", "Abatement cost"))
        ax.set_ylim(0, 1.2 * np.nanmax([curve["cost_cny_per_t"].max(), price, row.own_price_cny_per_t, 1.0]))
        _thousands(ax.xaxis, ax.yaxis)  # 1,200 as on every other chart
    for ax in axes.flat[len(covered):]:
        ax.remove()
    figure.suptitle(f"Marginal abatement cost curves of the ETS sectors, {year}")
    figure.legend(list(legend.values()), list(legend), loc="outside lower center",
                  ncols=len(legend) if ncols > 2 else 2)
    return figure


MERIT_LABELS = 10  # measures named on the merit-order curve: those at the margin, then the largest
MERIT_LABEL_WIDTH = 0.03  # other than at the margin, only steps this share of the axis wide are named
MERIT_PRICE_MULTIPLE = 3.0  # the merit order shows steps costing up to this multiple of the price


@slide_style
def plot_merit_order(results: Results, year: int | None = None) -> Figure:
    """The ETS-wide merit order in one year: every trading sector's abatement steps sorted by
    cost (width: potential, Mt CO2; height: cost, CNY/t CO2), the part used solid, with the
    allowance price across it; the measures at the margin and the largest ones are named."""
    year = chosen_year(year, results.years["year"])
    phase = results.sector_years.set_index(["sector", "year"])["phase"]
    steps = results.abatement_steps[(results.abatement_steps["year"] == year)
                                    & (results.abatement_steps["potential_mt"] > 0)]
    trading = phase.reindex(pd.MultiIndex.from_frame(steps[["sector", "year"]])).to_numpy() == TRADING
    steps = steps[trading].sort_values(["cost_cny_per_t", "sector"], kind="stable").reset_index(drop=True)
    if steps.empty:
        raise EtscapError(f"no sector trades in {year}: choose another --year")
    price = float(results.years.set_index("year").loc[year, "allowance_price_cny_per_t"])
    # the axes show the steps up to MERIT_PRICE_MULTIPLE x the price: far dearer ones would
    # squeeze the margin, where the answer is, into a corner
    cheap = float(steps["cost_cny_per_t"].quantile(0.3))
    top = MERIT_PRICE_MULTIPLE * price if np.isfinite(price) and price > 0 else max(cheap, 1.0)
    hidden = steps[steps["cost_cny_per_t"] > top]
    steps = steps[steps["cost_cny_per_t"] <= top].reset_index(drop=True)
    if steps.empty:
        raise EtscapError(f"every trading step costs more than {top:,.0f} CNY/t in {year}: nothing to draw")
    colors = sector_colors(results.sector_years["sector"])
    left = np.concatenate([[0.0], steps["potential_mt"].cumsum().to_numpy()[:-1]])
    figure, ax = _new_figure(figsize=(SLIDE_SIZE[0] + 2, SLIDE_SIZE[1] + 0.8))
    face = [colors[sector] for sector in steps["sector"]]
    ax.bar(left, steps["cost_cny_per_t"], width=steps["potential_mt"], align="edge", color=face, alpha=0.3,
           edgecolor="white", linewidth=0.5)
    ax.bar(left, steps["cost_cny_per_t"], width=steps["abatement_mt"], align="edge", color=face, alpha=0.95,
           linewidth=0, label="_used")
    ax.set_ylim(0, top * 1.08)
    if np.isfinite(price):
        ax.axhline(price, color="black", linestyle="--", linewidth=2,
                   label=f"Allowance price {year}: {price:,.0f} CNY/t")
    margin = price_setters(results, [year])
    marginal = set(zip(margin["sector"], margin["step"]))
    named = [i for i, row in steps.iterrows() if (row["sector"], row["step"]) in marginal]
    wide = steps["potential_mt"] >= MERIT_LABEL_WIDTH * steps["potential_mt"].sum()  # room for a label
    named += [i for i in steps.loc[wide, "potential_mt"].sort_values(ascending=False, kind="stable").index
              if i not in named][:max(0, MERIT_LABELS - len(named))]
    for i in sorted(named):
        row = steps.loc[i]
        at_margin = (row["sector"], row["step"]) in marginal
        height = row["cost_cny_per_t"]
        ax.text(left[i] + row["potential_mt"] / 2, height + top * 0.015, f"{row['sector']}: {row['step']}",
                rotation=90, ha="center", va="bottom" if height < top * 0.55 else "top", fontsize=10,
                fontweight="bold" if at_margin else "normal",
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1})
    ax.set_xlim(0, left[-1] + steps["potential_mt"].iloc[-1])
    ax.set_xlabel(axis_label("potential_mt", "Cumulative abatement potential of the trading sectors"))
    ax.set_ylabel(axis_label("cost_cny_per_t", "Abatement cost"))
    _thousands(ax.xaxis, ax.yaxis)
    used = steps["abatement_mt"].sum()
    ax.set_title(f"Merit order of the ETS trading sectors, {year}: {used:,.0f} Mt abated")
    if len(hidden):
        ax.text(0.99, 0.98, f"not shown: {len(hidden)} steps above {top:,.0f} CNY/t, "
                f"{hidden['potential_mt'].sum():,.0f} Mt", transform=ax.transAxes, ha="right", va="top",
                fontsize=11, color="0.3")
    sectors = list(dict.fromkeys(steps["sector"]))
    handles = [Patch(color=colors[s], label=s) for s in sectors]
    handles += [Patch(color="0.4", alpha=0.95, label="used"), Patch(color="0.4", alpha=0.3, label="not used")]
    handles += [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    figure.legend(handles, [str(h.get_label()) for h in handles], loc="outside right upper")
    return figure


@slide_style
def plot_who_pays(results: Results, year: int | None = None) -> Figure:
    """Who pays in one year, bn CNY: by covered sector, the abatement cost and the allowances
    bought net (negative: sold), whose sum is the burden (diamond); beside it, each sector's
    cap valued at the allowance price, given free or auctioned (auction revenue: the state's)."""
    table = burden_table(results, year)
    year = chosen_year(year, results.years["year"])
    price = float(results.years.set_index("year").loc[year, "allowance_price_cny_per_t"])
    rows = results.sector_years[(results.sector_years["year"] == year)].set_index("sector")
    auctioned = rows.loc[table["sector"], "auctioned_mt"].fillna(0.0).to_numpy() * price / 1e3
    figure, (burden_ax, value_ax) = _new_figure(1, 2, figsize=(SLIDE_SIZE[0] + 3, SLIDE_SIZE[1] + 0.6),
                                                width_ratios=[1, 1])
    x = np.arange(len(table))
    cost, purchases = table["abatement_cost_bn_cny"].to_numpy(), table["allowance_purchases_bn_cny"].to_numpy()
    burden_ax.bar(x, cost, color="tab:blue", label="Abatement cost")
    # purchases stack on the cost; sales (negative) hang below zero
    burden_ax.bar(x, purchases, bottom=np.where(purchases >= 0, cost, 0.0), color="tab:orange",
                  label="Allowances bought net (below 0: sold)")
    burden_ax.scatter(x, table["burden_bn_cny"], marker="D", s=70, color="black", zorder=3, label="Burden (sum)")
    burden_ax.axhline(0, color="black", linewidth=1)
    burden_ax.set_xticks(x, table["sector"], rotation=35, ha="right")
    burden_ax.set_ylabel(axis_label("burden_bn_cny", "Cost to the sector"))
    burden_ax.set_title(f"Burden by sector, {year}")
    burden_ax.legend(loc="upper right", fontsize=11)
    free = table["free_allocation_value_bn_cny"].to_numpy()
    value_ax.barh(x, free, color="tab:green", alpha=0.8, label="Given free")
    value_ax.barh(x, auctioned, left=free, color="tab:purple", alpha=0.8,
                  label=f"Auctioned: {auctioned.sum():,.1f} bn CNY to the state")
    value_ax.set_yticks(x, table["sector"])
    value_ax.invert_yaxis()
    value_ax.set_xlabel(axis_label("value_bn_cny", f"Cap valued at {price:,.0f} CNY/t"))
    value_ax.set_title("Each sector's cap: free or auctioned")
    value_ax.legend(loc="lower right", fontsize=11)
    _thousands(burden_ax.yaxis, value_ax.xaxis)
    figure.suptitle(f"Who pays in {year} ({year} money)")
    return figure


INSTALLATION_SHORTFALL_REGIONS = 30  # regions shown, by total shortfall


@slide_style
def plot_installations(results: Results, year: int | None = None) -> Figure:
    """One year's installations: the distribution of each installation's shortfall as a
    share of its emissions, by sector (box: quartiles, whiskers: 5th-95th percentile), and
    the net shortfall by region stacked by sector, Mt CO2 (positive: must buy)."""
    year = chosen_year(year, results.years["year"])
    facilities = results.facilities[results.facilities["year"] == year]
    if facilities.empty:
        raise EtscapError(f"no installation is covered in {year}: choose another --year")
    colors = sector_colors(results.sector_years["sector"])
    sectors = [s for s in sectors_by_coverage(results.sector_years) if s in set(facilities["sector"])]
    share = facilities["shortfall_mt"] / facilities["emissions_mt"].where(facilities["emissions_mt"] > 0)
    figure, (box_ax, region_ax) = _new_figure(1, 2, figsize=(SLIDE_SIZE[0] + 3, SLIDE_SIZE[1] + 1.5),
                                              width_ratios=[1, 1])
    data = [share[facilities["sector"] == s].dropna().to_numpy() for s in sectors]
    boxes = box_ax.boxplot(data, whis=(5, 95), showfliers=False, patch_artist=True, widths=0.6,
                           orientation="horizontal", medianprops={"color": "black", "linewidth": 2})
    for patch, sector in zip(boxes["boxes"], sectors):
        patch.set_facecolor(colors[sector])
        patch.set_alpha(0.8)
    # a sector whose installations all have one share (allocation by emissions) has no box: a dot shows it
    medians = [np.median(d) if len(d) else np.nan for d in data]
    box_ax.scatter(medians, np.arange(1, len(sectors) + 1), marker="o", s=60, zorder=3, edgecolor="black",
                   color=[colors[s] for s in sectors], label="Median")
    counts = facilities.groupby("sector")["facility_id"].size()
    box_ax.set_yticks(np.arange(1, len(sectors) + 1), [f"{s} ({counts[s]:,})" for s in sectors])
    box_ax.invert_yaxis()
    box_ax.axvline(0, color="black", linewidth=1)
    box_ax.xaxis.set_major_locator(MaxNLocator(7))  # "-20.0%-15.0%..." ran together at nine ticks
    box_ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    box_ax.set_xlabel("Shortfall / the installation's emissions (%)")
    box_ax.set_title("Shortfall by sector (installations)")
    by_region = facilities.pivot_table(index="region", columns="sector", values="shortfall_mt", aggfunc="sum",
                                       fill_value=0.0)
    by_region = by_region.loc[by_region.sum(axis=1).sort_values(ascending=False).index]
    by_region = by_region.iloc[:INSTALLATION_SHORTFALL_REGIONS][[s for s in sectors if s in by_region.columns]]
    y = np.arange(len(by_region))
    positive, negative = np.zeros(len(y)), np.zeros(len(y))
    for sector in by_region.columns:  # surpluses stack to the left of zero, shortfalls to the right
        values = by_region[sector].to_numpy()
        region_ax.barh(y, values, left=np.where(values >= 0, positive, negative), color=colors[sector],
                       label=sector, height=0.8)
        positive, negative = positive + np.maximum(values, 0), negative + np.minimum(values, 0)
    region_ax.scatter(by_region.sum(axis=1), y, marker="D", color="black", s=25, zorder=3, label="Net")
    region_ax.set_yticks(y, by_region.index, fontsize=10)
    region_ax.invert_yaxis()
    region_ax.axvline(0, color="black", linewidth=1)
    region_ax.set_xlabel(axis_label("shortfall_mt", "Net shortfall"))
    region_ax.set_title("Net shortfall by region")
    region_ax.legend(loc="lower right", fontsize=10)
    _thousands(region_ax.xaxis)
    figure.suptitle(f"Installations in {year}: {len(facilities):,}, {(facilities['shortfall_mt'] > 0).sum():,} "
                    "short of allowances")
    return figure


@slide_style
def plot_free_share(results: Results) -> Figure:
    """Free allocation as a share of each covered sector's cap, by sector and year (heatmap)."""
    sector_years = results.sector_years
    share = sector_years.pivot(index="sector", columns="year", values="free_share")
    share = share.loc[[s for s in sectors_by_coverage(sector_years) if share.loc[s].notna().any()]]
    years = share.columns.to_numpy()
    figure, ax = _new_figure(figsize=(SLIDE_SIZE[0], max(4.0, 1.8 + 0.55 * len(share))))
    mesh = ax.pcolormesh(np.append(years - 0.5, years[-1] + 0.5), np.arange(len(share) + 1),
                         np.ma.masked_invalid(share.to_numpy(dtype=float)), cmap="viridis", vmin=0, vmax=1)
    ax.set_facecolor("0.85")
    ax.grid(False)
    ax.set_yticks(np.arange(len(share)) + 0.5, share.index)
    ax.invert_yaxis()
    ax.set_title("Free allocation share by sector and year")
    ax.set_ylabel("Sector")
    _year_axis(ax)
    figure.colorbar(mesh, ax=ax, format=PercentFormatter(1.0),
                    label=axis_label("free_share", "Free share of sector cap", percent=True))
    if len(years) <= SHORT_HORIZON_YEARS:  # few cells: write each share in it
        for (row, column), value in np.ndenumerate(share.to_numpy(dtype=float)):
            if np.isfinite(value):
                ax.text(years[column], row + 0.5, f"{value:.0%}", ha="center", va="center",
                        color="white" if value < 0.5 else "black")
    if share.isna().to_numpy().any():
        ax.legend(handles=[Patch(color="0.85", label="not covered")], loc="upper left",
                  bbox_to_anchor=(0, -0.12), frameon=False)
    return figure


BURDEN_WIDEST, BURDEN_NARROWEST = 9.0, 2.0  # line widths of the first and the last sector drawn


@slide_style
def plot_burden_share(results: Results) -> Figure:
    """Each covered sector's compliance burden (abatement cost plus allowances bought)
    as a share of its value added, over time."""
    sector_years = results.sector_years
    burden = sector_years.pivot(index="year", columns="sector", values="burden_share_of_value_added")
    colors = sector_colors(sector_years["sector"])
    figure, ax = _new_figure()
    shown = [s for s in sectors_by_coverage(sector_years) if burden[s].notna().any()]
    # min-max burden gives many sectors the same share: lines drawn from wide to narrow, each
    # on top of the last, keep every colour visible where they coincide
    widths = np.linspace(BURDEN_WIDEST, BURDEN_NARROWEST, len(shown)) if len(shown) > 1 else [2.5]
    for i, (sector, width) in enumerate(zip(shown, widths)):
        ax.plot(burden.index, burden[sector], color=colors[sector], linewidth=width, zorder=2 + i,
                solid_capstyle="butt", label=sector)
    ax.axhline(0, color="black", linewidth=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title("Compliance burden as a share of value added")
    ax.set_ylabel(axis_label("burden_share_of_value_added", "Burden share of value added", percent=True))
    _year_axis(ax)
    _outside_legend(figure, ax)
    return figure


@slide_style
def plot_bank(results: Results) -> Figure:
    """Allowances banked at the end of each year, Mt CO2 (drawn when banking is on)."""
    years = results.years
    figure, ax = _new_figure()
    ax.bar(years["year"], years["bank_mt"], color="tab:green", label="Bank at year end")
    ax.set_title("Allowance bank")
    ax.set_ylabel(axis_label("bank_mt", "Bank at year end"))
    _year_axis(ax)
    return figure


# Allowance supply by source: (years column, label, sign); the cap first, then the sources the
# families declare (summary.json's charts, written with the results); removals (withdrawals,
# cancellations) take sign -1 and are drawn below zero
CAP_SOURCE: tuple[str, str, float] = ("ets_cap_mt", "Cap (allowances issued)", 1.0)


def _chart_entries(results: Results, chart: str) -> list[dict[str, Any]]:
    """The columns a chart draws, as the families declared them (``families.chart_entries``):
    from summary.json, or (results written before it held them) from today's declarations."""
    charts = results.summary.get("charts")
    if charts is None:
        from ..families import chart_entries

        charts = chart_entries()
    return list(charts.get(chart, []))


def declared_supply_sources(results: Results) -> list[tuple[str, str, float]]:
    """The cap and every source the families declare for the supply chart, in its order."""
    return [CAP_SOURCE, *((entry["column"], entry["label"], float(entry["sign"]))
                          for entry in _chart_entries(results, "supply_by_source"))]


def supply_sources(results: Results,
                   sources: list[tuple[str, str, float]] | None = None) -> list[tuple[str, str, float]]:
    """The sources of ``sources`` (default ``declared_supply_sources``) the years table has values for."""
    return [source for source in (declared_supply_sources(results) if sources is None else sources)
            if _has_values(results.years, source[0])]


@slide_style
def plot_supply_by_source(results: Results, sources: list[tuple[str, str, float]] | None = None) -> Figure:
    """Allowance supply by source each year, Mt CO2, stacked: the cap, then what rules add
    (reserve releases, sales at the price ceiling, offsets), removals below zero."""
    years = results.years
    figure, ax = _new_figure()
    above, below = np.zeros(len(years)), np.zeros(len(years))
    colors = mpl.colormaps["tab10"]
    for i, (column, label, sign) in enumerate(supply_sources(results, sources)):
        values = sign * np.nan_to_num(years[column].to_numpy(dtype=float))
        base = np.where(values >= 0, above, below)
        ax.bar(years["year"], values, bottom=base, color=colors(i), label=label)
        above, below = above + np.maximum(values, 0), below + np.minimum(values, 0)
    ax.set_title("Allowance supply by source")
    ax.set_ylabel(axis_label("supply_mt", "Allowance supply"))
    _year_axis(ax)
    _outside_legend(figure, ax)
    return figure


BANK_COLUMN = ("bank_mt", "Bank at year end", "tab:green")  # the bank first, then the rules' bars


def bank_rule_columns(results: Results) -> dict[str, tuple[str, str]]:
    """The bank and the bars the families declare for the bank-rules chart: {column: (label, colour)}."""
    return {BANK_COLUMN[0]: BANK_COLUMN[1:], **{entry["column"]: (entry["label"], entry["color"])
                                               for entry in _chart_entries(results, "bank_rules")}}


def has_bank_rules(results: Results) -> bool:
    """Whether a bank limit, borrowing or a floor's withdrawals reported anything."""
    return any(_has_values(results.years, column) and (results.years[column].abs() > 1e-9).any()
               for column in bank_rule_columns(results) if column != BANK_COLUMN[0])


@slide_style
def plot_bank_rules(results: Results) -> Figure:
    """The bank and what the supply rules took out of or brought into a year, Mt CO2:
    allowances cancelled because they could not be banked, borrowed from the next year,
    withdrawn unsold at a price floor (bars side by side, each rule that is in use)."""
    years = results.years
    columns = bank_rule_columns(results)
    shown = [c for c in columns if c in years and (c == BANK_COLUMN[0] or (years[c].abs() > 1e-9).any())]
    figure, ax = _new_figure()
    width = 0.8 / len(shown)
    for i, column in enumerate(shown):
        label, color = columns[column]
        ax.bar(years["year"] + (i - (len(shown) - 1) / 2) * width, years[column].fillna(0.0), width=width,
               color=color or None, label=label)
    ax.set_title("Bank, cancellations and borrowing")
    ax.set_ylabel("Mt CO2")
    _year_axis(ax)
    _thousands(ax.yaxis)
    _outside_legend(figure, ax)
    return figure


def banking_on(results: Results) -> bool:
    """Whether the run allowed banking (summary.json's market.banking)."""
    return bool(results.summary.get("market", {}).get("banking", False))


def results_figures(results: Results, year: int | None = None) -> dict[str, Figure]:
    """Every plot the results allow, by file name (without .png), in report order.

    ``year`` is that of the single-year plots (merit order, MAC curves, who pays,
    installations). The merit order needs a trading sector in that year; who pays and the
    allocation plots need stage 2's columns (``burden_bn_cny``, ``free_share``,
    ``burden_share_of_value_added``); the installations plot needs a registry. The bank is
    drawn under the cap and emissions when banking is on (``plot_bank`` draws it alone).
    """
    figures = {"cap_and_emissions": plot_cap_and_emissions(results), "prices": plot_prices(results)}
    sector_years = results.sector_years
    chosen = chosen_year(year, results.years["year"])
    this_year = sector_years[sector_years["year"] == chosen]
    if (this_year["phase"] == TRADING).any():
        figures["merit_order"] = plot_merit_order(results, chosen)
    if (sector_years["phase"] != OUTSIDE).any():
        figures["mac_curves"] = plot_mac_curves(results, year)
    if _has_values(sector_years, "burden_bn_cny") and this_year["phase"].isin([SIMULATION, TRADING]).any():
        figures["who_pays"] = plot_who_pays(results, chosen)
    if _has_values(sector_years, "free_share"):
        figures["free_share"] = plot_free_share(results)
    if _has_values(sector_years, "burden_share_of_value_added"):
        figures["burden_share"] = plot_burden_share(results)
    if not results.facilities.empty and (results.facilities["year"] == chosen).any():
        figures["installations"] = plot_installations(results, chosen)
    if len(supply_sources(results)) > 1:  # a rule adds to the cap's supply
        figures["supply_by_source"] = plot_supply_by_source(results)
    if has_bank_rules(results):
        figures["bank_rules"] = plot_bank_rules(results)
    return figures


# -- headline numbers ----------------------------------------------------------------------


def headline(results: Results) -> dict[str, float]:
    """Total abatement cost (present value and undiscounted, bn CNY), total abatement
    (Mt CO2) and cost per tonne abated (undiscounted cost / abatement, CNY/t CO2)."""
    years = results.years
    cost_bn_cny = float(years["abatement_cost_bn_cny"].sum())
    abatement_mt = float(years["abatement_mt"].sum())
    return {
        "total_abatement_cost_pv_bn_cny": float(results.summary.get("objective_bn_cny", math.nan)),
        "total_abatement_cost_bn_cny": cost_bn_cny,
        "total_abatement_mt": abatement_mt,
        "cost_per_tonne_abated_cny_per_t": cost_bn_cny * 1e3 / abatement_mt if abatement_mt > 0 else math.nan,
    }


def milestone_table(results: Results) -> pd.DataFrame:
    """The answers by milestone year (the target years): allowance price, national
    carbon value, caps, emissions and the year's abatement cost (year-t money)."""
    years = results.years.set_index("year")
    columns = ["allowance_price_cny_per_t", "national_carbon_value_cny_per_t", "ets_cap_mt", "national_cap_mt",
               "emissions_mt", "abatement_cost_bn_cny"]
    return years.loc[milestone_years(results.years), columns].reset_index()


PRICE_MATCH_RELATIVE = 1e-6  # a step costing the price to this precision is at the margin


def price_setters(results: Results, years: Iterable[int] | None = None) -> pd.DataFrame:
    """What sets the price: in each year, the abatement measures at the margin.

    In a least-cost market the allowance price equals the cost of the measure bought last:
    a step whose cost is the price (an ETS sector's, or an uncovered sector's when the national
    target binds and the national carbon value is the price). When the price lies between two
    step costs (a cap ending exactly at a step's end), the dearest step used and the cheapest
    unused one of the trading sectors are listed, as 'dearest used' and 'cheapest unused'.
    """
    years = milestone_years(results.years) if years is None else list(years)
    price = results.years.set_index("year")["allowance_price_cny_per_t"]
    phase = results.sector_years.set_index(["sector", "year"])["phase"]
    steps = results.abatement_steps[results.abatement_steps["year"].isin(years)
                                    & (results.abatement_steps["potential_mt"] > 0)]
    steps = steps.assign(phase=phase.reindex(pd.MultiIndex.from_frame(steps[["sector", "year"]])).to_numpy(),
                         price=steps["year"].map(price).to_numpy())
    steps = steps.assign(used_share=steps["abatement_mt"] / steps["potential_mt"])
    at_price = np.isclose(steps["cost_cny_per_t"], steps["price"],
                          rtol=PRICE_MATCH_RELATIVE, atol=PRICE_MATCH_RELATIVE)
    rows = [steps[at_price & steps["phase"].isin([TRADING, OUTSIDE])].assign(margin="at the price")]
    trading = steps[steps["phase"] == TRADING]
    for year in years:
        if at_price[steps["year"] == year].any() or not np.isfinite(price.get(year, np.nan)):
            continue
        these = trading[trading["year"] == year]
        # a step used above the price was built ahead under a deployment limit: not the margin
        used = these[(these["abatement_mt"] > 0) & (these["cost_cny_per_t"] <= these["price"])]
        unused = these[(these["abatement_mt"] <= 0) & (these["cost_cny_per_t"] >= these["price"])]
        if not used.empty:
            rows.append(used.nlargest(1, "cost_cny_per_t").assign(margin="dearest used"))
        if not unused.empty:
            rows.append(unused.nsmallest(1, "cost_cny_per_t").assign(margin="cheapest unused"))
    table = pd.concat(rows, ignore_index=True).sort_values(["year", "cost_cny_per_t", "sector"], kind="stable")
    table = table.rename(columns={"price": "allowance_price_cny_per_t"})
    return table[["year", "allowance_price_cny_per_t", "sector", "phase", "step", "cost_cny_per_t", "margin",
                  "used_share", "abatement_mt"]].reset_index(drop=True)


def burden_table(results: Results, year: int | None = None) -> pd.DataFrame:
    """Who pays in one year, by covered sector (bn CNY, year-t money): the abatement cost,
    the allowances bought net of free allocation (negative: sold) at the allowance price,
    their sum (the burden), its share of value added, and the value of the free allocation
    (allowances the sector did not pay for). Needs stage 2's columns."""
    year = chosen_year(year, results.years["year"])
    price = float(results.years.set_index("year").loc[year, "allowance_price_cny_per_t"])
    rows = results.sector_years[(results.sector_years["year"] == year)
                                & results.sector_years["phase"].isin([SIMULATION, TRADING])]
    table = pd.DataFrame({
        "sector": rows["sector"].to_numpy(), "phase": rows["phase"].to_numpy(),
        "abatement_cost_bn_cny": rows["abatement_cost_bn_cny"].to_numpy(),
        "allowance_purchases_bn_cny": (rows["burden_bn_cny"] - rows["abatement_cost_bn_cny"]).to_numpy(),
        "burden_bn_cny": rows["burden_bn_cny"].to_numpy(),
        "burden_share_of_value_added": rows["burden_share_of_value_added"].to_numpy(),
        # simulation-phase sectors get their whole rule cap free and cannot sell it: no market value
        "free_allocation_value_bn_cny": np.where(rows["phase"] == TRADING, rows["free_mt"] * price / 1e3, 0.0),
    })
    return table.sort_values("burden_bn_cny", ascending=False, kind="stable").reset_index(drop=True)


def headline_table(results: Results) -> pd.DataFrame:
    """The run's headline numbers as rows of quantity, value and unit."""
    numbers = headline(results)
    return pd.DataFrame([
        ("Abatement cost, present value", numbers["total_abatement_cost_pv_bn_cny"], "bn CNY"),
        ("Abatement cost, undiscounted", numbers["total_abatement_cost_bn_cny"], "bn CNY"),
        ("Abatement", numbers["total_abatement_mt"], "Mt CO2"),
        ("Cost per tonne abated (undiscounted)", numbers["cost_per_tonne_abated_cny_per_t"], "CNY/t CO2"),
        *([("National target exceeded by (over the horizon)", results.summary["national_overshoot_mt"], "Mt CO2")]
          if "national_overshoot_mt" in results.summary else []),
    ], columns=["quantity", "value", "unit"])


def scenario_settings(results: Results) -> dict[str, Any]:
    """The scenario's settings as recorded in summary.json; derived from the tables for a
    folder written before summary.json recorded them."""
    summary, years = results.summary, results.years
    settings = dict(summary.get("settings") or {})
    if not settings:
        factors = years["discount_factor"].to_numpy()
        settings = {
            "name": summary.get("scenario", ""),
            "first_year": int(years["year"].min()),
            "last_year": int(years["year"].max()),
            "discount_rate": float(factors[0] / factors[1] - 1) if len(factors) > 1 else math.nan,
            "market.banking": summary.get("market", {}).get("banking"),
            "market.initial_bank_mt": summary.get("market", {}).get("initial_bank_mt"),
        }
    settings.setdefault("dataset", summary.get("dataset", ""))
    for named in summary.get("scenarios") or []:  # named scenarios (scenarios/NAME.toml) applied, in order
        changes = ", ".join(f"{key} = {value}" for key, value in named.get("overrides", {}).items())
        settings[f"scenario {named['name']}"] = f"{named.get('description', '')} ({changes})"
    return settings


# -- writing files -------------------------------------------------------------------------


def plots_folder(folder: Path) -> Path:
    """``folder/plots``, refused if it is a link or leads out of ``folder``: a report writes
    only inside the results folder."""
    plots = folder / PLOTS_FOLDER
    if plots.is_symlink() or (plots.exists() and not plots.resolve().is_relative_to(folder.resolve())):
        raise EtscapError(f"{plots} is a symbolic link (to {plots.resolve()}): a report writes only inside "
                          f"the results folder; remove the link and run report again")
    if plots.exists() and not plots.is_dir():
        raise EtscapError(f"{plots} is a file, not a folder: remove it and run report again")
    return plots


def save_figures(figures: dict[str, Figure], folder: Path) -> dict[str, bytes]:
    """Write each figure to ``folder/<name>.png``; returns the PNG bytes by name."""
    images = {name: figure_png(figure) for name, figure in figures.items()}
    for name, png in images.items():
        write_file(folder / f"{name}.png", functools.partial(Path.write_bytes, data=png), force=True)
    return images


SUMMARY_SHEET = "Summary"
SUMMARY_JSON_SHEET = "summary.json"  # summary.json as rows ("summary" would clash: sheet names ignore case)
KEY_COLUMNS = ("scenario", "year", "sector", "step", "facility_id", "key", "quantity")  # frozen with the header
UNIT_DECIMALS = {"Mt CO2": 1, "CNY/t CO2": 2, "bn CNY": 2, "t CO2/unit of output": 3}
MAX_DECIMALS = 6
HEADER_STYLE = {"bold": True, "fill": "DDE4EE"}
MAX_COLUMN_WIDTH = 45


def number_format(column: str, values: pd.Series) -> str | None:
    """The Excel number format of a column: years and ids as they are, counts and quantities
    with thousands separators, shares as percentages, and decimals by unit (Mt CO2 to 0.1,
    prices and bn CNY to 0.01), more where the column's typical value is small (an
    installation's 0.15 Mt shows as 0.15, not 0.1). None: not a number column."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if column in IDENTIFIERS or column.endswith("year") or column in ("seed", "n"):
        return "0"
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if column == "discount_factor":
        return "0.0000"
    if unit_of(column) == FRACTION:
        return "0.0%"
    if unit_of(column) is None and (pd.api.types.is_integer_dtype(values)
                                    or (len(finite) and np.all(finite == np.round(finite)))):
        return "#,##0"  # counts; a quantity with a unit keeps its decimals even when whole (a CSV's 60)
    decimals = UNIT_DECIMALS.get(unit_of(column) or "", 2)
    typical = float(np.median(np.abs(finite[finite != 0]))) if np.any(finite != 0) else 1.0
    if typical < 1:  # at least two significant digits for small values (an installation's 0.15 Mt)
        decimals = max(decimals, min(MAX_DECIMALS, 1 - math.floor(math.log10(typical))))
    return "#,##0." + "0" * decimals


def _cell_text(value: Any, fmt: str | None) -> str:
    """How wide a cell shows: its value as the number format writes it."""
    if fmt is None or not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
        return str(value)
    if fmt.endswith("%"):
        return f"{value:.1%}"
    decimals = len(fmt.split(".")[1]) if "." in fmt else 0
    return f"{value:,.{decimals}f}" if fmt.startswith("#") else f"{value:.{decimals}f}"


def _write_block(sheet: Any, table: pd.DataFrame, first_row: int, header_font: Any, header_fill: Any) -> int:
    """Write a table's header (with units) and rows from ``first_row``; returns the next free row.

    Every cell gets an explicit type: text is written as text (a cell starting with '='
    stays text, never a formula), numbers with their column's number format, blanks empty.
    """
    from openpyxl.styles import Alignment

    formats = [number_format(column, table[column]) for column in table.columns]
    for j, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row=first_row, column=j, value=header_with_unit(column))
        cell.data_type = "s"
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    columns = [table[c].to_numpy(dtype=object) for c in table.columns]
    for i in range(len(table)):
        row = first_row + 1 + i
        for j, (values, fmt) in enumerate(zip(columns, formats), start=1):
            value = values[i]
            if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
                continue
            if isinstance(value, np.generic):
                value = value.item()
            cell = sheet.cell(row=row, column=j)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # text, even when it starts with '='
            else:
                cell.value = value
                if fmt is not None:
                    cell.number_format = fmt
    return first_row + 1 + len(table)


def _fit_columns(sheet: Any, tables: list[pd.DataFrame], first_column_min: int = 8) -> None:
    """Columns as wide as their formatted values (first 200 rows) and their header's longest
    word, within limits: readable without resizing, headers wrap."""
    widths: dict[int, int] = {}  # characters
    for table in tables:
        for j, column in enumerate(table.columns, start=1):
            fmt = number_format(column, table[column])
            texts = [_cell_text(v, fmt) for v in table[column].head(200) if not pd.isna(v)]
            header = header_with_unit(column)
            width = max([len(t) for t in texts] + [max(len(word) for word in header.split()), first_column_min])
            widths[j] = max(widths.get(j, 0), width)
    from openpyxl.utils import get_column_letter

    for j, width in widths.items():
        sheet.column_dimensions[get_column_letter(j)].width = min(width + 2, MAX_COLUMN_WIDTH)


def write_workbook(path: Path, tables: dict[str, pd.DataFrame],
                   summary: list[tuple[str, pd.DataFrame]] | None = None, title: str = "") -> Path:
    """A workbook people can read, atomically: a first sheet "Summary" with the headline
    tables (``summary``: headings and tables, under ``title``), then one sheet per table;
    headers carry the unit and stay frozen with the key columns, numbers have formats by
    unit, columns are sized to their contents, text is stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor=HEADER_STYLE["fill"])

    def write(temporary: Path) -> None:
        book = Workbook()
        book.remove(book.active)
        if summary is not None:
            sheet = book.create_sheet(SUMMARY_SHEET)
            sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
            sheet.cell(row=1, column=1).data_type = "s"
            row = 3
            for heading, table in summary:
                cell = sheet.cell(row=row, column=1, value=heading)
                cell.data_type, cell.font = "s", Font(bold=True, size=12)
                row = _write_block(sheet, table, row + 1, header_font, header_fill) + 1
            sheet.freeze_panes = "A2"  # the title stays in view
            _fit_columns(sheet, [t for _, t in summary], first_column_min=12)
        for name, table in tables.items():
            sheet = book.create_sheet(name[:31])
            _write_block(sheet, table, 1, header_font, header_fill)
            keys = 0
            while keys < len(table.columns) and table.columns[keys] in KEY_COLUMNS:
                keys += 1
            sheet.freeze_panes = sheet.cell(row=2, column=keys + 1).coordinate
            if len(table.columns):
                sheet.auto_filter.ref = sheet.dimensions
            _fit_columns(sheet, [table])
        book.save(temporary)

    return write_file(path, write, force=True)


def summary_table(summary: dict[str, Any]) -> pd.DataFrame:
    """summary.json as rows of dotted key and value."""
    flat = pd.json_normalize(summary, sep=".").iloc[0] if summary else pd.Series(dtype=object)
    values = [json.dumps(v) if isinstance(v, (list, dict)) else v for v in flat]
    return pd.DataFrame({"key": flat.index, "value": values})


def _fits_a_sheet(name: str, table: pd.DataFrame) -> bool:
    if len(table) > WORKBOOK_MAX_ROWS:
        log.warning("%s has %d rows, more than the %d a sheet of %s takes: it is in the folder's "
                    "Parquet or CSV file", name, len(table), WORKBOOK_MAX_ROWS, WORKBOOK_FILE)
        return False
    return True


# -- HTML ----------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; } td { white-space: nowrap; }
figure { margin: 1.5em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.95em; }
.scroll { overflow-x: auto; }
table.key-values td, table.key-values th { white-space: normal; text-align: left; }
.lead { font-size: 1.15em; } .subtitle { color: #555; margin-top: 0; }
h3 { margin-top: 1.4em; }
"""


IDENTIFIERS = ("year", "scenario", "step")  # numbers that name rows: shown as they are


def _text(value: Any, number_format: str = ",.2f") -> str:
    """A cell as text: yes/no, '-' for missing, numbers with thousands separators."""
    if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):  # years, counts, seeds
        return str(value)
    if isinstance(value, (float, np.floating)):
        return format(value, number_format)
    return str(value)


def _python_format(excel_format: str) -> str:
    """The Python format spec that writes a number as an Excel number format shows it."""
    if excel_format.endswith("%"):
        return f".{len(excel_format.split('.')[1]) - 1 if '.' in excel_format else 0}%"
    decimals = len(excel_format.split(".")[1]) if "." in excel_format else 0
    return f"{',' if excel_format.startswith('#') else ''}.{decimals}f"


def html_table(table: pd.DataFrame, readable: bool = False, classes: str | None = None) -> str:
    """A table with unit-bearing headers and numbers as the workbook shows them (decimals by
    unit, thousands separators, shares as percentages). ``readable``: headers in words
    ('Allowance price (CNY/t CO2)') rather than column names; ``classes``: the table's CSS classes."""
    formatted = table.copy()
    headers = {}
    for column in table.columns:
        values = table[column]
        fmt = number_format(column, values)
        headers[column] = axis_label(column) if readable else header_with_unit(column)
        if fmt is None or column in IDENTIFIERS:
            continue
        if fmt.endswith("%"):
            headers[column] = axis_label(column, percent=True) if readable else f"{column} (%)"
        spec = _python_format(fmt)
        formatted[column] = values.astype(float).map(lambda v, f=spec: _text(v, f))
    formatted = formatted.rename(columns=headers)
    return '<div class="scroll">' + formatted.to_html(index=False, border=0, na_rep="-", classes=classes) + "</div>"


def _key_values(rows: dict[str, Any], heading: str, number_format: str = ",.2f") -> str:
    """A two-column table of names and values (given as text: the values' types differ), each
    value beside its name and wrapped (a long description would otherwise widen the column and
    push every short value out of view)."""
    values = [_text(v, number_format) for v in rows.values()]
    return html_table(pd.DataFrame({heading: list(rows), "value": values}), classes="key-values")


def html_page(title: str, sections: list[tuple[str, str]], subtitle: str = "") -> str:
    """A self-contained page: inline CSS, no scripts, no links."""
    body = "\n".join(f"<h2>{html.escape(heading)}</h2>\n{content}" for heading, content in sections)
    sub = f'<p class="subtitle">{html.escape(subtitle.strip())}</p>\n' if subtitle.strip() else ""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{sub}{body}\n</body>\n</html>\n")


def html_figures(figures: dict[str, Figure], images: dict[str, bytes]) -> str:
    """Each PNG embedded as a data URI, captioned with the plot's title and file name."""
    parts = []
    for name, png in images.items():
        title = html.escape(figure_title(figures[name]))
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="{name}"><img src="data:image/png;base64,{data}" alt="{title}">'
                     f"<figcaption>{title} ({PLOTS_FOLDER}/{name}.png)</figcaption></figure>")
    return "\n".join(parts)


def results_findings(results: Results, year: int | None = None) -> list[tuple[str, pd.DataFrame]]:
    """The answers of a run, as headed tables (the report's first section and the workbook's
    Summary sheet): headline numbers; price, caps and cost in the target years; the measures
    that set the price; who pays in one year (with stage 2); installations (with a registry)."""
    year = chosen_year(year, results.years["year"])
    blocks = [
        ("Headline numbers", headline_table(results)),
        ("Price, caps, emissions and cost in the target years", milestone_table(results)),
        ("What sets the price: the abatement measures at the margin", price_setters(results)),
    ]
    if _has_values(results.sector_years, "burden_bn_cny"):
        blocks.append((f"Who pays in {year} (bn CNY, {year} money)", burden_table(results, year)))
    if not results.facilities.empty:
        blocks.append((f"Installations in {year}", installations_table(results.facilities, year)))
    return blocks


def _dataset_name(path: Any) -> str:
    """A dataset's folder name: reports embed no local paths."""
    return Path(str(path)).name if path else ""


def _findings_html(blocks: list[tuple[str, pd.DataFrame]], lead: str) -> str:
    parts = [f"<p class=\"lead\">{html.escape(lead)}</p>"]
    parts += [f"<h3>{html.escape(heading)}</h3>\n{html_table(table, readable=True)}" for heading, table in blocks]
    return "\n".join(parts)


def results_lead(results: Results) -> str:
    """One sentence of answers: the price path and the present-value cost."""
    years = results.years.set_index("year")
    first, last = int(years.index.min()), int(years.index.max())
    price = years["allowance_price_cny_per_t"]
    numbers = headline(results)
    return (f"The allowance price goes from {price[first]:,.0f} CNY/t in {first} to {price[last]:,.0f} CNY/t "
            f"in {last} (year-t money) while the ETS cap goes from {years.loc[first, 'ets_cap_mt']:,.0f} to "
            f"{years.loc[last, 'ets_cap_mt']:,.0f} Mt CO2; the abatement cost is "
            f"{numbers['total_abatement_cost_pv_bn_cny']:,.0f} bn CNY in present value."
            + _overshoot_sentence(results))


def _overshoot_sentence(results: Results) -> str:
    """Allowances sold beyond the national target, said plainly (empty when none)."""
    overshoot = results.summary.get("national_overshoot_mt")
    if overshoot is None or overshoot <= 0:
        return ""
    years = results.years[results.years["national_overshoot_mt"] > 0]["year"]
    first, last = int(years.min()), int(years.max())
    return (f" The national target is exceeded by {overshoot:,.1f} Mt CO2 over the horizon "
            f"({first if first == last else f'{first}-{last}'}): {overshoot_sources(results.summary)}.")



INSTALLATION_FIGURES = ("installations",)  # drawn in the installations section, not among the charts


def results_html(results: Results, figures: dict[str, Figure], images: dict[str, bytes],
                 year: int | None = None) -> str:
    """The report page of one solve: the findings first (headline numbers, the target
    years, what sets the price, who pays), then the charts, the installations (with a
    registry), the settings and the tables."""
    summary = results.summary
    settings = {**scenario_settings(results)}
    settings["dataset"] = _dataset_name(settings.get("dataset"))
    milestones = milestone_table(results)
    sector_years = results.sector_years[results.sector_years["year"].isin(milestones["year"])]
    charts = {name: png for name, png in images.items() if name not in INSTALLATION_FIGURES}
    sections = [
        ("Findings", _findings_html(results_findings(results, year), results_lead(results))
         + "<p>Prices in year-t money; cost per tonne abated is the undiscounted abatement cost "
           "over all years divided by the total abatement. A measure 'at the price' costs the "
           "allowance price: the market buys it last.</p>"),
        ("Charts", html_figures(figures, charts)),
    ]
    if not results.facilities.empty:
        shown = {name: png for name, png in images.items() if name in INSTALLATION_FIGURES}
        chosen = chosen_year(year, results.years["year"])
        sections.append(("Installations", html_figures(figures, shown) + "<h3>Net shortfall by region and "
                         f"sector in {chosen} (Mt CO2; negative: surplus)</h3>\n"
                         + html_table(shortfall_by_region(results.facilities, chosen))))
    sections += [
        ("Settings", _key_values(settings, "setting", "g")),
        ("Years", html_table(results.years)),
        (f"Sectors in {', '.join(str(y) for y in milestones['year'])}", html_table(sector_years)),
    ]
    status = summary.get("status", "")
    return html_page(f"etscap report: {settings.get('name', summary.get('scenario', ''))}", sections,
                     subtitle=f"{str(settings.get('description', '')).rstrip('.')}. Dataset {settings['dataset']}, "
                              f"status {status}.".lstrip(". "))


# -- a results folder ----------------------------------------------------------------------


def other_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """CSV tables in a results folder besides the three every solve writes."""
    known = set(TABLE_FILES.values())
    return {path.stem: read_csv(path) for path in sorted(folder.glob("*.csv")) if path.name not in known}


def write_results_report(folder: Path, year: int | None = None) -> list[Path]:
    """Plots, report.html and results.xlsx of one solve's results folder."""
    try:
        results = Results.read(folder)
    except EtscapError as err:
        raise EtscapError(f"{err}: give a folder written by `solve` (or a study folder with "
                          f"{' and '.join(STUDY_FILES)})") from err
    figures = results_figures(results, year)
    images = save_figures(figures, plots_folder(folder))
    written = [folder / PLOTS_FOLDER / f"{name}.png" for name in images]
    page = results_html(results, figures, images, year)
    written.append(write_file(folder / HTML_FILE, lambda temporary: temporary.write_text(page, "utf-8"),
                               force=True))
    tables = {**results.tables(), **other_tables(folder), SUMMARY_JSON_SHEET: summary_table(results.summary)}
    if len(results.facilities) > WORKBOOK_MAX_ROWS:
        tables["facilities"] = facility_summary(results.facilities)
    settings = scenario_settings(results)
    title = f"etscap results: {settings.get('name', results.summary.get('scenario', ''))}"
    written.append(write_workbook(folder / WORKBOOK_FILE, tables, results_findings(results, year), title))
    return written


def facility_summary(facilities: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Installations by sector and year (or ``by``): how many, how many short, total
    shortfall and surplus, and their compliance cost (the rows are in facility_years.parquet)."""
    short = facilities["shortfall_mt"] > 0
    table = facilities.assign(
        short=short, shortfall=facilities["shortfall_mt"].where(short, 0.0),
        surplus=(-facilities["shortfall_mt"]).where(~short, 0.0),
    ).groupby(by or ["sector", "year"], sort=False).agg(
        installations=("facility_id", "size"), installations_short=("short", "sum"),
        shortfall_mt=("shortfall", "sum"), surplus_mt=("surplus", "sum"),
        compliance_cost_bn_cny=("compliance_cost_bn_cny", "sum"),
    )
    return table.reset_index()


def shortfall_by_region(facilities: pd.DataFrame, year: int) -> pd.DataFrame:
    """One year's net shortfall (Mt CO2; positive: allowances to buy) by region, a column per
    sector and the total, regions by total, largest first."""
    rows = facilities[facilities["year"] == year]
    table = rows.pivot_table(index="region", columns="sector", values="shortfall_mt", aggfunc="sum",
                             fill_value=0.0, sort=False)
    table["total"] = table.sum(axis=1)
    table = table.sort_values("total", ascending=False, kind="stable")
    table.columns.name = None
    return table.reset_index()


def installations_table(facilities: pd.DataFrame, year: int, by: list[str] | None = None) -> pd.DataFrame:
    """One year's installations by sector (or ``by``): counts, shortfall and surplus (Mt CO2),
    the median installation's shortfall as a share of its emissions, compliance cost."""
    rows = facilities[facilities["year"] == year]
    by = by or ["sector"]
    table = facility_summary(rows, by)
    share = (rows["shortfall_mt"] / rows["emissions_mt"].where(rows["emissions_mt"] > 0)).groupby(
        [rows[c] for c in by], sort=False).median()
    table["median_shortfall_share"] = share.reindex(pd.MultiIndex.from_frame(table[by]) if len(by) > 1
                                                    else table[by[0]]).to_numpy()
    return table.sort_values(by, kind="stable").reset_index(drop=True)


# -- a study folder (sweeps, Monte Carlo) --------------------------------------------------


def is_study_folder(folder: Path) -> bool:
    return all((folder / f).is_file() for f in STUDY_FILES)


PERCENTILES = {"p5": 0.05, "median": 0.5, "p95": 0.95}


def price_percentiles(years: pd.DataFrame, column: str = "allowance_price_cny_per_t") -> pd.DataFrame:
    """5th percentile, median and 95th percentile of a column by year across scenarios."""
    grouped = years.groupby("year")[column]
    table = pd.DataFrame({name: grouped.quantile(q) for name, q in PERCENTILES.items()})
    table.columns = [f"{column.removesuffix('_cny_per_t')}_{name}_cny_per_t" if column.endswith("_cny_per_t")
                     else f"{column}_{name}" for name in PERCENTILES]
    table["scenarios"] = grouped.count()
    return table.reset_index()


@slide_style
def plot_price_fan(years: pd.DataFrame, base: pd.DataFrame | None = None) -> Figure:
    """The allowance price path across a study's scenarios: median and 5-95% band by year,
    the 5th and 95th percentiles drawn over the median (they coincide with it where the
    scenarios agree); with ``base`` (the base dataset's years table) its price path."""
    band = years.groupby("year")["allowance_price_cny_per_t"].quantile(list(PERCENTILES.values())).unstack()
    low, median, high = (band[q] for q in PERCENTILES.values())
    figure, ax = _new_figure()
    ax.fill_between(band.index, low, high, color="tab:blue", alpha=0.25, linewidth=0,
                    label="5-95% of scenarios")
    ax.plot(band.index, median, color="tab:blue", linewidth=4, marker="o", markersize=7, zorder=3, label="Median")
    ax.plot(band.index, high, color="navy", linestyle="--", linewidth=1.8, marker="^", markersize=6, zorder=4,
            label="95th percentile")
    ax.plot(band.index, low, color="navy", linestyle=":", linewidth=1.8, marker="v", markersize=6, zorder=4,
            label="5th percentile")
    if base is not None:
        # thin and dashed: where the median is the base path, the median still shows around it
        ax.plot(base["year"], base["allowance_price_cny_per_t"], color="black", linewidth=1.5, linestyle=(0, (4, 2)),
                zorder=5, label="Base dataset")
    ax.set_title(f"Allowance price across {years['scenario'].nunique()} scenarios")
    ax.set_ylabel(axis_label("allowance_price_cny_per_t"))
    ax.set_ylim(bottom=0)
    _year_axis(ax)
    ax.legend(loc="upper left")
    return figure


@slide_style
def plot_price_distribution(years: pd.DataFrame, year: int | None = None) -> Figure:
    """The distribution of one year's allowance price across a study's scenarios."""
    year = chosen_year(year, years["year"])
    price = years.loc[years["year"] == year, "allowance_price_cny_per_t"].dropna()
    figure, ax = _new_figure()
    if _is_flat(price):  # one price up to solver noise: one bar, not "too many bins" for a 1e-14 range
        low, high = _flat_limits(price)
        width = (high - low) / 20  # a bar of a twentieth of the axis at the one price
        centre = (low + high) / 2
        ax.hist(price, bins=1, range=(centre - width / 2, centre + width / 2), color="tab:blue", alpha=0.75,
                edgecolor="white")
        ax.set_xlim(*_flat_limits(price))
    else:
        ax.hist(price, bins="auto", color="tab:blue", alpha=0.75, edgecolor="white")
    _thousands(ax.xaxis)
    ax.axvline(price.median(), color="black", label=f"Median: {price.median():,.0f} CNY/t")
    for q in (0.05, 0.95):
        ax.axvline(price.quantile(q), color="black", linestyle="--", linewidth=1.8,
                   label="5th and 95th percentiles" if q == 0.05 else None)
    ax.set_title(f"Allowance price in {year} across {len(price)} scenarios")
    ax.set_xlabel(axis_label("allowance_price_cny_per_t"))
    ax.set_ylabel("Scenarios")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper right")
    return figure


@slide_style
def plot_sweep(study: Study, parameter: str | None = None) -> Figure:
    """A sweep's headline outputs against the swept value: the allowance price in the
    milestone years, and the present value of abatement cost."""
    parameter = parameter or study.parameters[0]
    scenarios = study.scenarios.sort_values(parameter, kind="stable")
    optimal = scenarios[scenarios["status"] == "optimal"]
    prices = study.years.pivot(index="scenario", columns="year", values="allowance_price_cny_per_t")
    swept = optimal.set_index("scenario")[parameter]
    figure, (left, right) = _new_figure(1, 2, figsize=(SLIDE_SIZE[0] + 2, SLIDE_SIZE[1]))
    for year in milestone_years(study.years):
        left.plot(swept, prices.loc[swept.index, year], marker="o", label=str(year))
    left.set_title("Allowance price by year")
    left.set_ylabel(axis_label("allowance_price_cny_per_t"))
    right.plot(swept, optimal["objective_bn_cny"], marker="o", color="black")
    if _is_flat(optimal["objective_bn_cny"]):  # equal costs: show the number, not float noise
        right.set_ylim(*_flat_limits(optimal["objective_bn_cny"]))
    right.set_title("Abatement cost, present value")
    right.set_ylabel(axis_label("objective_bn_cny", "Abatement cost"))
    failed = scenarios[scenarios["status"] != "optimal"]
    for ax in (left, right):
        ax.set_xlabel(header_with_unit(parameter))
        if not failed.empty:
            ax.plot(failed[parameter], np.zeros(len(failed)), linestyle="none", marker="x", color="tab:red",
                    markersize=10, markeredgewidth=2.5, clip_on=False, label="Infeasible or error")
        _thousands(*((ax.yaxis,) if _is_year(parameter) else (ax.xaxis, ax.yaxis)))
    handles, labels = left.get_legend_handles_labels()
    handles, labels = [*handles, *right.lines[:1]], [*labels, "Abatement cost"]
    figure.legend(handles, labels, loc="outside lower center", ncols=len(handles))
    figure.suptitle(f"Sweep of {parameter}")
    return figure


def study_figures(study: Study, year: int | None = None, base: Results | None = None) -> dict[str, Figure]:
    """Every plot a study allows: the price fan chart (with ``base``'s price path if given)
    and one year's price distribution; for a sweep of one parameter, the headline outputs
    against it."""
    if study.years.empty:
        raise EtscapError("the study has no optimal scenario to draw: see scenarios.csv (status, message)")
    figures = {"price_fan": plot_price_fan(study.years, None if base is None else base.years),
               "price_distribution": plot_price_distribution(study.years, year)}
    if study.info.get("kind") == "sweep" and len(study.parameters) == 1:
        figures["sweep"] = plot_sweep(study)
    elif study.info.get("kind") == "sweep":
        log.info("a sweep of %d parameters: no plot against one swept value", len(study.parameters))
    return figures


STUDY_SETTINGS = ("kind", "dataset", "study_file", "n", "seed", "mode", "allocation", "run_on", "workers",
                  "elapsed_seconds", "scenarios_per_second", "inputs_sha256")  # shown; versions stay in the workbook


def inputs_varied(study: Study) -> pd.DataFrame:
    """The inputs a study varies: each key with its distribution or its values, as text."""
    distributions = study.info.get("distributions") or {}
    rows = []
    for key in study.parameters:
        if key in distributions:
            spec = dict(distributions[key])
            kind = spec.pop("kind", "")
            rows.append((key, kind, ", ".join(f"{name} = {value:g}" if isinstance(value, (int, float))
                                              else f"{name} = {value}" for name, value in spec.items())))
        elif key in study.scenarios.columns:
            values = pd.unique(study.scenarios[key].dropna())
            rows.append((key, "values", ", ".join(_text(v, "g") for v in values)))
    return pd.DataFrame(rows, columns=["input", "varied as", "values or parameters"])


def study_findings(study: Study) -> list[tuple[str, pd.DataFrame]]:
    """A study's answers as headed tables (the page's first section, the workbook's Summary):
    how many scenarios solved, the price spread in the target years, the cost spread."""
    scenarios = study.scenarios
    counts = scenarios["status"].value_counts()
    percentiles = price_percentiles(study.years)
    milestones = percentiles[percentiles["year"].isin(milestone_years(study.years))].reset_index(drop=True)
    objective = scenarios.loc[scenarios["status"] == "optimal", "objective_bn_cny"]
    costs = pd.DataFrame({"statistic": list(PERCENTILES),
                          "objective_bn_cny": [objective.quantile(q) for q in PERCENTILES.values()]})
    return [
        ("Scenarios", pd.DataFrame({"status": counts.index.astype(str), "scenarios": counts.to_numpy()})),
        ("Allowance price across scenarios in the target years", milestones),
        ("Abatement cost, present value, across scenarios", costs),
        ("Inputs varied", inputs_varied(study)),
    ]


def _study_settings(info: dict[str, Any]) -> dict[str, Any]:
    settings = {key: info[key] for key in STUDY_SETTINGS if key in info and info[key] is not None}
    for key in ("dataset", "study_file"):
        if key in settings:
            settings[key] = _dataset_name(settings[key])
    settings["parameters"] = ", ".join(info.get("parameters", []))
    if info.get("named_scenarios"):
        settings["named_scenarios"] = ", ".join(str(name) for name in info["named_scenarios"])
    return settings


def study_html(study: Study, figures: dict[str, Figure], images: dict[str, bytes]) -> str:
    """The report page of a study: the findings first (scenarios solved, spread of prices
    and costs, the inputs varied), then the charts, the settings and the scenarios table."""
    info = study.info
    settings = _study_settings(info)
    percentiles = price_percentiles(study.years)
    first, last = percentiles.iloc[0], percentiles.iloc[-1]
    lead = (f"{(study.scenarios['status'] == 'optimal').sum()} of {len(study.scenarios)} scenarios solved. "
            f"Median allowance price {first.iloc[2]:,.0f} CNY/t in {int(first['year'])} "
            f"(5-95%: {first.iloc[1]:,.0f}-{first.iloc[3]:,.0f}) and {last.iloc[2]:,.0f} CNY/t in "
            f"{int(last['year'])} (5-95%: {last.iloc[1]:,.0f}-{last.iloc[3]:,.0f}).")
    return html_page(f"etscap study report: {info.get('kind', 'study')} of {settings.get('dataset', '')}", [
        ("Findings", _findings_html(study_findings(study), lead)),
        ("Charts", html_figures(figures, images)),
        ("Settings", _key_values(settings, "setting", "g")),
        ("Scenarios", html_table(study.scenarios)),
    ])


def write_study_report(folder: Path, year: int | None = None, base: Results | None = None) -> list[Path]:
    """Plots, report.html and results.xlsx of a study folder."""
    study = Study.read(folder)
    figures = study_figures(study, year, base)
    images = save_figures(figures, plots_folder(folder))
    written = [folder / PLOTS_FOLDER / f"{name}.png" for name in images]
    page = study_html(study, figures, images)
    written.append(write_file(folder / HTML_FILE, lambda temporary: temporary.write_text(page, "utf-8"),
                               force=True))
    tables = {"scenarios": study.scenarios, "price_percentiles": price_percentiles(study.years),
              "years": study.years, "sector_years": study.sector_years,
              "study": summary_table(study.info)}
    tables = {name: t for name, t in tables.items() if not t.empty and _fits_a_sheet(name, t)}
    title = f"etscap study: {study.info.get('kind', 'study')} of {_dataset_name(study.info.get('dataset'))}"
    written.append(write_workbook(folder / WORKBOOK_FILE, tables, study_findings(study), title))
    return written


def write_report(folder: str | Path, year: int | None = None, base: str | Path | Results | None = None) -> list[Path]:
    """Write plots/*.png, report.html and results.xlsx into a results or study folder.

    ``year`` chooses the year of the merit order, MAC curves, who pays and installations
    (a study: the price distribution's year); default 2030 if modelled, else the last year.
    ``base`` (a study only): the base dataset's results (or their folder), whose price path
    the fan chart shows. Returns the files written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EtscapError(f"{folder} is not a folder: give a results folder written by "
                          "`solve` (or a study folder)")
    if isinstance(base, (str, Path)):
        try:
            base = Results.read(base)
        except EtscapError as err:
            raise EtscapError(f"--base: {err}: give the results folder `solve` wrote for the study's dataset") from err
    if is_study_folder(folder):
        written = write_study_report(folder, year, base)
    elif base is not None:
        raise EtscapError(f"--base applies to a study folder; {folder} is a results folder: leave --base out")
    else:
        written = write_results_report(folder, year)
    log.debug("report written to %s: %s", folder, ", ".join(str(p.relative_to(folder)) for p in written))
    return written
