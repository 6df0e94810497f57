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
import html
import io
import json
import logging
import math
from pathlib import Path
from typing import Any, Callable, Iterable

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter, ScalarFormatter, StrMethodFormatter

from . import schema
from .errors import EtscapError
from .overrides import parse_override
from .phases import OUTSIDE, SIMULATION, TRADING
from .results import TABLE_FILES, Results, write_file
from .studies import STUDY_FILES, Study

log = logging.getLogger(__name__)

MILESTONE_YEARS = (2025, 2030, 2035, 2040, 2050, 2060)
MAC_YEAR = 2030  # default year of the MAC curves and of a study's price distribution
SHORT_HORIZON_YEARS = 8  # a horizon this short shows every year instead of the milestones
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
SLIDE_STYLE = {
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


def _thousands(*axes: Any) -> None:
    """Tick labels with thousands separators (10,000) on axes that show plain numbers."""
    for axis in axes:
        if type(axis.get_major_formatter()) is ScalarFormatter:  # not percentages or names
            axis.set_major_formatter(StrMethodFormatter("{x:,g}"))


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
    palette = mpl.colormaps["tab10" if len(sectors) <= 10 else "tab20"].colors
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


@slide_style
def plot_cap_and_emissions(results: Results) -> Figure:
    """Emissions by sector stacked (ETS sectors at the bottom) with the ETS cap and the
    national cap over time, Mt CO2."""
    sector_years, years = results.sector_years, results.years
    order = sectors_by_coverage(sector_years)
    colors = sector_colors(sector_years["sector"])
    emissions = sector_years.pivot(index="year", columns="sector", values="emissions_mt")[order]
    never_covered = set(order) - set(sector_years.loc[sector_years["phase"] != OUTSIDE, "sector"])
    figure, ax = _new_figure()
    ax.stackplot(emissions.index, emissions.T.to_numpy(), colors=[colors[s] for s in order], alpha=0.85,
                 labels=[f"{s} (outside ETS)" if s in never_covered else s for s in order])
    ax.plot(years["year"], years["ets_cap_mt"], color="black", label="ETS cap")
    ax.plot(years["year"], years["national_cap_mt"], color="black", linestyle="--", label="National cap")
    ax.set_title("ETS cap and emissions by sector")
    ax.set_ylabel(axis_label("emissions_mt"))
    ax.set_ylim(bottom=0)
    _year_axis(ax)
    _outside_legend(figure, ax, reverse=True)
    return figure


@slide_style
def plot_prices(results: Results) -> Figure:
    """The allowance price and the national carbon value over time, CNY/t CO2 in year-t
    money; simulation-phase sectors' own prices as points."""
    years, sector_years = results.years, results.sector_years
    figure, ax = _new_figure()
    ax.plot(years["year"], years["national_carbon_value_cny_per_t"], color="tab:orange", linewidth=7,
            alpha=0.45, label="National carbon value")
    ax.plot(years["year"], years["allowance_price_cny_per_t"], color="tab:blue", marker="o",
            label="Allowance price")
    simulation = sector_years[(sector_years["phase"] == SIMULATION)].dropna(subset=["own_price_cny_per_t"])
    colors = sector_colors(sector_years["sector"])
    for sector, rows in simulation.groupby("sector", sort=False):
        ax.scatter(rows["year"], rows["own_price_cny_per_t"], marker="D", s=60, color=colors[sector],
                   edgecolor="black", zorder=3, label=f"Own price, {sector} (simulation)")
    ax.set_title("Allowance price and national carbon value")
    ax.set_ylabel(axis_label("price_cny_per_t"))
    ax.set_ylim(bottom=0)
    _year_axis(ax)
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


def milestone_years(years: Iterable[int]) -> list[int]:
    """The milestone years modelled; every year of a short horizon."""
    years = sorted(int(y) for y in years)
    shown = [y for y in MILESTONE_YEARS if y in years]
    return years if len(years) <= SHORT_HORIZON_YEARS or not shown else shown


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
    for ax in axes.flat[len(covered):]:
        ax.remove()
    figure.suptitle(f"Marginal abatement cost curves of the ETS sectors, {year}")
    figure.legend(list(legend.values()), list(legend), loc="outside lower center",
                  ncols=len(legend) if ncols > 2 else 2)
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


@slide_style
def plot_burden_share(results: Results) -> Figure:
    """Each covered sector's compliance burden (abatement cost plus allowances bought)
    as a share of its value added, over time."""
    sector_years = results.sector_years
    burden = sector_years.pivot(index="year", columns="sector", values="burden_share_of_value_added")
    colors = sector_colors(sector_years["sector"])
    figure, ax = _new_figure()
    for sector in sectors_by_coverage(sector_years):
        if burden[sector].notna().any():
            ax.plot(burden.index, burden[sector], color=colors[sector], marker="o", markersize=4,
                    label=sector)
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


def banking_on(results: Results) -> bool:
    """Whether the run allowed banking (summary.json's market.banking)."""
    return bool(results.summary.get("market", {}).get("banking", False))


def results_figures(results: Results, year: int | None = None) -> dict[str, Figure]:
    """Every plot the results allow, by file name (without .png), in report order.

    The allocation plots need stage 2's columns (``free_share``,
    ``burden_share_of_value_added``); the bank plot needs banking on.
    """
    figures = {"cap_and_emissions": plot_cap_and_emissions(results), "prices": plot_prices(results)}
    covered = results.sector_years[results.sector_years["phase"] != OUTSIDE]
    if not covered.empty:
        figures["mac_curves"] = plot_mac_curves(results, year)
    if _has_values(results.sector_years, "free_share"):
        figures["free_share"] = plot_free_share(results)
    if _has_values(results.sector_years, "burden_share_of_value_added"):
        figures["burden_share"] = plot_burden_share(results)
    if banking_on(results):
        figures["bank"] = plot_bank(results)
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
    """ETS cap, allowance price and national carbon value in the milestone years."""
    years = results.years.set_index("year")
    columns = ["ets_cap_mt", "allowance_price_cny_per_t", "national_carbon_value_cny_per_t", "emissions_mt"]
    return years.loc[milestone_years(years.index), columns].reset_index()


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


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary path)`` beside ``path``, then move the file into place: a reader
    sees the old file or the new one, never half of one (``results.write_file``, the one
    writer of files)."""
    return write_file(path, write, force=True)


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
        write_atomic(folder / f"{name}.png", lambda temporary, png=png: temporary.write_bytes(png))
    return images


def write_workbook(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """One sheet per table, headers with units, header row frozen; atomically."""

    def write(temporary: Path) -> None:
        with pd.ExcelWriter(temporary, engine="openpyxl") as writer:
            for name, table in tables.items():
                sheet = name[:31]
                table.rename(columns=header_with_unit).to_excel(writer, sheet_name=sheet, index=False,
                                                               freeze_panes=(1, 0))
                _fit_columns(writer.sheets[sheet])

    return write_atomic(path, write)


def _fit_columns(sheet: Any) -> None:
    """Columns as wide as their header or first rows (within limits), readable without resizing."""
    for cells in sheet.columns:
        width = max(len(str(cell.value)) for cell in cells[:50] if cell.value is not None)
        sheet.column_dimensions[cells[0].column_letter].width = min(max(width, 8) + 2, 60)


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
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1.5em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.95em; }
.scroll { overflow-x: auto; }
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


def html_table(table: pd.DataFrame) -> str:
    """A table with unit-bearing headers; quantities to 2 decimals, fractions to 3."""
    formatted = table.copy()
    for column in table.columns:
        values = table[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and column not in IDENTIFIERS:
            number_format = ",.3f" if unit_of(column) == FRACTION else ",.2f"
            formatted[column] = values.astype(float).map(lambda v, f=number_format: _text(v, f))
    formatted = formatted.rename(columns=header_with_unit)
    return '<div class="scroll">' + formatted.to_html(index=False, border=0, na_rep="-") + "</div>"


def _key_values(rows: dict[str, Any], heading: str, number_format: str = ",.2f") -> str:
    """A two-column table of names and values (given as text: the values' types differ)."""
    values = [_text(v, number_format) for v in rows.values()]
    return html_table(pd.DataFrame({heading: list(rows), "value": values}))


def html_page(title: str, sections: list[tuple[str, str]]) -> str:
    """A self-contained page: inline CSS, no scripts, no links."""
    body = "\n".join(f"<h2>{html.escape(heading)}</h2>\n{content}" for heading, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def html_figures(figures: dict[str, Figure], images: dict[str, bytes]) -> str:
    """Each PNG embedded as a data URI, captioned with the plot's title and file name."""
    parts = []
    for name, png in images.items():
        title = html.escape(figure_title(figures[name]))
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="{name}"><img src="data:image/png;base64,{data}" alt="{title}">'
                     f"<figcaption>{title} ({PLOTS_FOLDER}/{name}.png)</figcaption></figure>")
    return "\n".join(parts)


def results_html(results: Results, figures: dict[str, Figure], images: dict[str, bytes]) -> str:
    """The report page of one solve: settings, headline numbers, plots, key tables."""
    summary = results.summary
    settings = scenario_settings(results)
    numbers = headline(results)
    milestones = milestone_table(results)
    sector_years = results.sector_years[results.sector_years["year"].isin(milestones["year"])]
    headline_rows = {
        "status": summary.get("status", ""),
        "total abatement cost, present value (bn CNY)": numbers["total_abatement_cost_pv_bn_cny"],
        "total abatement cost, undiscounted (bn CNY)": numbers["total_abatement_cost_bn_cny"],
        "total abatement (Mt CO2)": numbers["total_abatement_mt"],
        "cost per tonne abated (CNY/t CO2)": numbers["cost_per_tonne_abated_cny_per_t"],
    }
    return html_page(f"etscap report: {settings.get('name', summary.get('scenario', ''))}", [
        ("Scenario", _key_values(settings, "setting", "g")),
        ("Headline numbers", _key_values(headline_rows, "quantity") + html_table(milestones)
         + "<p>Prices in year-t money; cost per tonne abated is the undiscounted abatement cost "
           "over all years divided by the total abatement.</p>"),
        ("Plots", html_figures(figures, images)),
        ("Years", html_table(results.years)),
        (f"Sectors in {', '.join(str(y) for y in milestones['year'])}", html_table(sector_years)),
    ])


# -- a results folder ----------------------------------------------------------------------


def other_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """CSV tables in a results folder besides the three every solve writes."""
    known = set(TABLE_FILES.values())
    return {path.stem: pd.read_csv(path) for path in sorted(folder.glob("*.csv")) if path.name not in known}


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
    page = results_html(results, figures, images)
    written.append(write_atomic(folder / HTML_FILE, lambda temporary: temporary.write_text(page, "utf-8")))
    tables = {**results.tables(), **other_tables(folder), "summary": summary_table(results.summary)}
    if len(results.facilities) > WORKBOOK_MAX_ROWS:
        tables["facilities"] = facility_summary(results.facilities)
    written.append(write_workbook(folder / WORKBOOK_FILE, tables))
    return written


def facility_summary(facilities: pd.DataFrame) -> pd.DataFrame:
    """Installations by sector and year: how many, how many short, total shortfall and
    surplus, and their compliance cost (the rows themselves are in facilities.csv)."""
    short = facilities["shortfall_mt"] > 0
    table = facilities.assign(
        short=short, shortfall=facilities["shortfall_mt"].where(short, 0.0),
        surplus=(-facilities["shortfall_mt"]).where(~short, 0.0),
    ).groupby(["sector", "year"], sort=False).agg(
        installations=("facility_id", "size"), installations_short=("short", "sum"),
        shortfall_mt=("shortfall", "sum"), surplus_mt=("surplus", "sum"),
        compliance_cost_bn_cny=("compliance_cost_bn_cny", "sum"),
    )
    return table.reset_index()


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
def plot_price_fan(years: pd.DataFrame) -> Figure:
    """The allowance price path across a study's scenarios: median and 5-95% band by year."""
    band = years.groupby("year")["allowance_price_cny_per_t"].quantile(list(PERCENTILES.values())).unstack()
    low, median, high = (band[q] for q in PERCENTILES.values())
    figure, ax = _new_figure()
    ax.fill_between(band.index, low, high, color="tab:blue", alpha=0.25, linewidth=0,
                    label="5-95% of scenarios")
    ax.plot(band.index, median, color="tab:blue", marker="o", markersize=4, label="Median")
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
    ax.hist(price, bins="auto", color="tab:blue", alpha=0.75, edgecolor="white")
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
    for year in milestone_years(prices.columns):
        left.plot(swept, prices.loc[swept.index, year], marker="o", label=str(year))
    left.set_title("Allowance price by year")
    left.set_ylabel(axis_label("allowance_price_cny_per_t"))
    right.plot(swept, optimal["objective_bn_cny"], marker="o", color="black")
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


def study_figures(study: Study, year: int | None = None) -> dict[str, Figure]:
    """Every plot a study allows: the price fan chart and one year's price distribution;
    for a sweep of one parameter, the headline outputs against it."""
    if study.years.empty:
        raise EtscapError("the study has no optimal scenario to draw: see scenarios.csv (status, message)")
    figures = {"price_fan": plot_price_fan(study.years),
               "price_distribution": plot_price_distribution(study.years, year)}
    if study.info.get("kind") == "sweep" and len(study.parameters) == 1:
        figures["sweep"] = plot_sweep(study)
    elif study.info.get("kind") == "sweep":
        log.info("a sweep of %d parameters: no plot against one swept value", len(study.parameters))
    return figures


def study_html(study: Study, figures: dict[str, Figure], images: dict[str, bytes]) -> str:
    """The report page of a study: what was varied, how many scenarios solved, the spread
    of prices and costs, the plots and the scenarios table."""
    info, scenarios = study.info, study.scenarios
    counts = scenarios["status"].value_counts()
    settings = {**{k: (", ".join(v) if isinstance(v, list) else v) for k, v in info.items()},
                **{f"scenarios {status}": int(n) for status, n in counts.items()}}
    percentiles = price_percentiles(study.years)
    milestones = percentiles[percentiles["year"].isin(milestone_years(percentiles["year"]))]
    objective = scenarios.loc[scenarios["status"] == "optimal", "objective_bn_cny"]
    cost_rows = {f"abatement cost PV, {name} (bn CNY)": objective.quantile(q)
                 for name, q in PERCENTILES.items()}
    return html_page(f"etscap study report: {info.get('kind', 'study')} of {info.get('dataset', '')}", [
        ("Study", _key_values(settings, "setting", "g")),
        ("Headline numbers", _key_values(cost_rows, "quantity") + html_table(milestones)),
        ("Plots", html_figures(figures, images)),
        ("Scenarios", html_table(scenarios)),
    ])


def write_study_report(folder: Path, year: int | None = None) -> list[Path]:
    """Plots, report.html and results.xlsx of a study folder."""
    study = Study.read(folder)
    figures = study_figures(study, year)
    images = save_figures(figures, plots_folder(folder))
    written = [folder / PLOTS_FOLDER / f"{name}.png" for name in images]
    page = study_html(study, figures, images)
    written.append(write_atomic(folder / HTML_FILE, lambda temporary: temporary.write_text(page, "utf-8")))
    tables = {"scenarios": study.scenarios, "price_percentiles": price_percentiles(study.years),
              "years": study.years, "sector_years": study.sector_years,
              "study": summary_table(study.info)}
    tables = {name: t for name, t in tables.items() if not t.empty and _fits_a_sheet(name, t)}
    written.append(write_workbook(folder / WORKBOOK_FILE, tables))
    return written


def write_report(folder: str | Path, year: int | None = None) -> list[Path]:
    """Write plots/*.png, report.html and results.xlsx into a results or study folder.

    ``year`` chooses the MAC curves' year (a study: the price distribution's year);
    default 2030 if modelled, else the last year. Returns the files written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EtscapError(f"{folder} is not a folder: give a results folder written by "
                          "`solve` (or a study folder)")
    if is_study_folder(folder):
        written = write_study_report(folder, year)
    else:
        written = write_results_report(folder, year)
    log.debug("report written to %s: %s", folder, ", ".join(str(p.relative_to(folder)) for p in written))
    return written
