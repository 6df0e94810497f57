"""Compare solved scenarios side by side: tidy difference tables, charts, one HTML page
and a workbook (``python run.py compare RESULTS_DIR RESULTS_DIR ... --out DIR``).

    from model import compare, solve
    comparison = compare(["results/china", "results/china-aluminium-2030"])
    comparison.years          # run, year, quantity, value, reference, difference, relative_difference
    comparison.write("results/compare")

Every difference is against the first run (the reference): ``difference = value -
reference`` in the quantity's unit, ``relative_difference = difference / |reference|``
(blank where the reference is 0). A run is named by its folder, or for Results given in
memory by its scenario name with any named scenarios (``china+banking``).
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from ..errors import EtscapError
from ..results.tables import Results, milestone_years, write_folder

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

YEAR_KEYS, SECTOR_KEYS = ["year"], ["sector", "year"]
LABEL_COLUMNS = {"phase"}  # text columns of sector_years: not compared
PLOTS = ("prices", "price_difference", "ets_cap_and_emissions", "cost_by_sector", "free_allocation")
PNG_DPI = 150
FIGURE_SIZE = (12.0, 5.6)
STYLE: dict[RcKeyType, Any] = {"font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13, "xtick.labelsize": 12,
         "ytick.labelsize": 12, "legend.fontsize": 12, "figure.titlesize": 16, "axes.grid": True,
         "grid.alpha": 0.35, "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 2.2}
DETAIL_YEARS = (2025, 2035)  # a second price panel shows these years when the horizon is long


@dataclass
class Comparison:
    """Runs compared with the first: one row per run, and tidy difference tables."""

    runs: pd.DataFrame  # run, scenario, status, objective_bn_cny, difference vs the first (bn and %)
    years: pd.DataFrame  # run, year, quantity, value, reference, difference, relative_difference
    sector_years: pd.DataFrame  # run, sector, year, quantity, value, reference, difference, relative_difference
    results: dict[str, Results] = field(default_factory=dict, repr=False)

    @property
    def labels(self) -> list[str]:
        return list(self.results)

    def figures(self) -> dict[str, Any]:
        """The comparison charts by name (matplotlib Figures)."""
        return comparison_figures(self)

    def write(self, out: str | Path, force: bool = False) -> Path:
        """compare.html, compare.xlsx, years_differences.csv, sector_years_differences.csv,
        runs.csv and plots/*.png in ``out`` (the folder appears whole or not at all)."""
        return write_folder(out, self._write_into, force)

    def _write_into(self, folder: Path) -> None:
        figures = self.figures()
        (folder / "plots").mkdir()
        images = {}
        for name, figure in figures.items():
            images[name] = _png(figure)
            (folder / "plots" / f"{name}.png").write_bytes(images[name])
        tables = {"runs": self.runs, "years_differences": self.years,
                  "sector_years_differences": self.sector_years}
        for name, table in tables.items():
            table.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n", float_format="%.9g")
        each = {_sheet_name(f"years {i + 1} {label}"): r.years for i, (label, r) in enumerate(self.results.items())}
        _write_workbook(folder / "compare.xlsx", {**tables, **each})
        (folder / "compare.html").write_text(_page(self, figures, images), encoding="utf-8")


def compare(runs: Sequence[Results | str | Path], labels: Sequence[str] | None = None) -> Comparison:
    """Compare solved runs (results folders or Results) with the first; e.g.
    ``compare(["results/china", "results/china-banking"])``. ``labels`` name the runs
    (default: the folder names, or the scenario names of Results in memory)."""
    if len(runs) < 2:
        raise EtscapError(f"compare needs at least two results to compare, got {len(runs)}: "
                          "give two or more results folders (python run.py solve writes one)")
    loaded = [run if isinstance(run, Results) else _read(run) for run in runs]
    names = list(labels) if labels is not None else [_label(run, result) for run, result in zip(runs, loaded)]
    if len(names) != len(loaded):
        raise EtscapError(f"compare: {len(names)} labels for {len(loaded)} runs: give one label per run")
    names = _distinct(names)
    results = dict(zip(names, loaded))
    return Comparison(runs=_runs(results), years=differences(results, "years", YEAR_KEYS),
                      sector_years=differences(results, "sector_years", SECTOR_KEYS), results=results)


def _read(folder: str | Path) -> Results:
    folder = Path(folder)
    if (folder / "study.json").is_file():
        raise EtscapError(f"{folder} is a study folder: compare takes folders written by `solve` "
                          "(a study's scenarios are compared in its own report)")
    return Results.read(folder)


def _label(run: Results | str | Path, result: Results) -> str:
    if isinstance(run, Results):
        summary = result.summary
        return "+".join([str(summary.get("scenario", "run")), *(s["name"] for s in summary.get("scenarios") or [])])
    return Path(run).resolve().name


def _distinct(names: list[str]) -> list[str]:
    """Labels made unique by a numbered suffix where two runs share a name."""
    seen: dict[str, int] = {}
    distinct = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        distinct.append(name if seen[name] == 1 and names.count(name) == 1 else f"{name} ({seen[name]})")
    return distinct


def _runs(results: dict[str, Results]) -> pd.DataFrame:
    """One row per run: its scenario, status and PV cost, and the cost's difference from the first."""
    rows = pd.DataFrame({
        "run": list(results),
        "scenario": [r.summary.get("scenario", "") for r in results.values()],
        "named_scenarios": [", ".join(s["name"] for s in r.summary.get("scenarios") or []) for r in results.values()],
        "status": [r.summary.get("status", "") for r in results.values()],
        "objective_bn_cny": [float(r.summary.get("objective_bn_cny", np.nan)) for r in results.values()],
    })
    reference = rows["objective_bn_cny"].iloc[0]
    rows["difference_bn_cny"] = rows["objective_bn_cny"] - reference
    rows["relative_difference"] = _relative(rows["difference_bn_cny"].to_numpy(), np.full(len(rows), reference))
    return rows


def differences(results: dict[str, Results], table: str, keys: list[str]) -> pd.DataFrame:
    """Tidy differences of every numeric column of ``table`` from the first run's, one row
    per run, key and quantity; rows (years, sectors) missing from the first run have a
    blank reference."""
    frames = []
    for label, result in results.items():
        data = getattr(result, table)
        quantities = [c for c in data.columns if c not in keys and c not in LABEL_COLUMNS
                      and pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])]
        long = data.melt(id_vars=keys, value_vars=quantities, var_name="quantity", value_name="value")
        long.insert(0, "run", label)
        frames.append(long)
    tidy = pd.concat(frames, ignore_index=True)
    tidy["value"] = tidy["value"].astype(float)
    first = tidy[tidy["run"] == next(iter(results))][[*keys, "quantity", "value"]]
    tidy = tidy.merge(first.rename(columns={"value": "reference"}), on=[*keys, "quantity"], how="left")
    tidy["difference"] = tidy["value"] - tidy["reference"]
    tidy["relative_difference"] = _relative(tidy["difference"].to_numpy(), tidy["reference"].to_numpy())
    order = {label: i for i, label in enumerate(results)}
    tidy = tidy.sort_values(["quantity", *keys], kind="stable")
    tidy = tidy.sort_values("run", key=lambda runs: runs.map(order), kind="stable")
    return tidy.reset_index(drop=True)[["run", *keys, "quantity", "value", "reference", "difference",
                                        "relative_difference"]]


def _relative(difference: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """difference / |reference|, blank where the reference is 0 or blank (no meaningful ratio)."""
    reference = np.asarray(reference, dtype=float)
    usable = np.isfinite(reference) & (np.abs(reference) > 1e-12)
    out = np.full(len(reference), np.nan)
    np.divide(difference, np.abs(reference), out=out, where=usable)
    return out


# -- charts --------------------------------------------------------------------------------


def comparison_figures(comparison: Comparison) -> dict[str, Any]:
    """Price paths, price differences from the first run, ETS cap and emissions, PV cost by
    sector, and free allocation (when every run has stage 2), one line or bar per run."""
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        figures = {"prices": _plot_prices(comparison), "price_difference": _plot_price_difference(comparison),
                   "ets_cap_and_emissions": _plot_cap_and_emissions(comparison),
                   "cost_by_sector": _plot_cost_by_sector(comparison)}
        if all("free_allocation_mt" in r.years.columns for r in comparison.results.values()):
            figures["free_allocation"] = _plot_free_allocation(comparison)
    return figures


def _figure(ncols: int = 1, **subplots: Any) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, ncols, squeeze=False, **subplots)[0]


def _colors(labels: list[str]) -> dict[str, Any]:
    import matplotlib as mpl

    palette = mpl.color_sequences["tab10"]  # the tab10 colormap's colours
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def _year_axis(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    ax.set_xlabel("Year")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,g}"))


def _legend(figure: Any, ax: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))


def _line_styles(n: int) -> list[str]:
    """Runs drawn over each other stay visible: dashes differ as well as colours."""
    return [("-", "--", "-.", ":")[i % 4] for i in range(n)]


def _plot_prices(comparison: Comparison) -> Any:
    """Allowance price by year of every run (and, over a long horizon, 2025-2035 enlarged)."""
    years = comparison.results[comparison.labels[0]].years["year"]
    detail = years.max() - years.min() > 15 and years.min() <= DETAIL_YEARS[1]
    figure, axes = _figure(2 if detail else 1)
    colors, styles = _colors(comparison.labels), _line_styles(len(comparison.labels))
    for ax, span in zip(axes, [None, DETAIL_YEARS] if detail else [None]):
        for (label, result), style in zip(comparison.results.items(), styles):
            table = result.years
            if span:
                table = table[(table["year"] >= span[0]) & (table["year"] <= span[1])]
            ax.plot(table["year"], table["allowance_price_cny_per_t"], style, color=colors[label], label=label)
        ax.set_ylabel("Allowance price (CNY/t CO2)")
        ax.set_title("All years" if span is None else f"{span[0]}-{span[1]}")
        _year_axis(ax)
    figure.suptitle("Allowance price by run (year-t money)")
    _legend(figure, axes[0])
    return figure


def _plot_price_difference(comparison: Comparison) -> Any:
    """Each run's allowance price minus the first run's, by year (small changes made visible)."""
    figure, (ax,) = _figure()
    colors = _colors(comparison.labels)
    rows = comparison.years[comparison.years["quantity"] == "allowance_price_cny_per_t"]
    styles = _line_styles(len(comparison.labels))
    for label, style in zip(comparison.labels[1:], styles[1:]):  # dashes keep equal lines apart
        run = rows[rows["run"] == label]
        ax.plot(run["year"], run["difference"], style, marker="o", color=colors[label], label=label, markersize=4)
    ax.axhline(0, color="0.3", linewidth=1)
    ax.set_ylabel("Price difference (CNY/t CO2)")
    _year_axis(ax)
    figure.suptitle(f"Allowance price minus {comparison.labels[0]}'s")
    _legend(figure, ax)
    return figure


def _plot_cap_and_emissions(comparison: Comparison) -> Any:
    """ETS cap (left) and the ETS sectors' emissions (right) by year, one line per run."""
    figure, axes = _figure(2, sharey=True)
    colors, styles = _colors(comparison.labels), _line_styles(len(comparison.labels))
    for ax, column, title in zip(axes, ["ets_cap_mt", "ets_emissions_mt"], ["ETS cap", "ETS sectors' emissions"]):
        for (label, result), style in zip(comparison.results.items(), styles):
            ax.plot(result.years["year"], result.years[column], style, color=colors[label], label=label)
        ax.set_title(title)
        _year_axis(ax)
    axes[0].set_ylabel("Mt CO2")
    figure.suptitle("ETS cap and emissions by run")
    _legend(figure, axes[0])
    return figure


def _plot_cost_by_sector(comparison: Comparison) -> Any:
    """Present value of abatement cost by sector, a bar per run in each sector's group."""
    from matplotlib.ticker import StrMethodFormatter

    figure, (ax,) = _figure()
    colors = _colors(comparison.labels)
    costs = pd.DataFrame({label: _pv_cost_by_sector(result) for label, result in comparison.results.items()})
    costs = costs.fillna(0.0)
    costs = costs.loc[costs.max(axis=1).sort_values(ascending=False).index]
    width = 0.8 / len(costs.columns)
    positions = np.arange(len(costs))
    for i, label in enumerate(costs.columns):
        ax.bar(positions + (i - (len(costs.columns) - 1) / 2) * width, costs[label], width,
               color=colors[label], label=label)
    ax.set_xticks(positions, costs.index, rotation=30, ha="right")
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("Abatement cost, present value (bn CNY)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,g}"))
    figure.suptitle("Abatement cost by sector (present value, all years)")
    _legend(figure, ax)
    return figure


def _pv_cost_by_sector(result: Results) -> pd.Series:
    discount = result.years.set_index("year")["discount_factor"]
    sectors = result.sector_years
    pv = sectors["abatement_cost_bn_cny"] * sectors["year"].map(discount)
    return pv.groupby(sectors["sector"], sort=False).sum()


def _plot_free_allocation(comparison: Comparison) -> Any:
    """Free allocation (left) and auction revenue (right) by year, one line per run."""
    figure, axes = _figure(2)
    colors, styles = _colors(comparison.labels), _line_styles(len(comparison.labels))
    for ax, column, title, unit in zip(axes, ["free_allocation_mt", "auction_revenue_bn_cny"],
                                       ["Free allocation", "Auction revenue"], ["Mt CO2", "bn CNY"]):
        for (label, result), style in zip(comparison.results.items(), styles):
            if column in result.years.columns:
                ax.plot(result.years["year"], result.years[column], style, color=colors[label], label=label)
        ax.set_title(title)
        ax.set_ylabel(unit)
        _year_axis(ax)
    figure.suptitle("Free allocation and auction revenue by run")
    _legend(figure, axes[0])
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


# -- page and workbook ---------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1250px; padding: 0 1em; color: #222; }
h2 { border-bottom: 2px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; } .scroll { overflow-x: auto; }
"""
HEADLINE_QUANTITIES = ("allowance_price_cny_per_t", "ets_cap_mt", "emissions_mt", "abatement_cost_bn_cny")


def headline_differences(comparison: Comparison) -> pd.DataFrame:
    """Price, ETS cap, emissions and cost of every run in the milestone years (all years
    when there are few), with the difference from the first run: one row per year and quantity."""
    years = comparison.years
    shown = milestone_years(pd.concat([r.years.assign(scenario=i) for i, r in enumerate(comparison.results.values())]))
    rows = years[years["year"].isin(shown) & years["quantity"].isin(HEADLINE_QUANTITIES)]
    wide = rows.pivot_table(index=["quantity", "year"], columns="run", values="value", sort=False)
    wide = wide[comparison.labels]
    wide.columns.name = None  # else the page shows an empty "run" column
    for label in comparison.labels[1:]:
        wide[f"{label} - {comparison.labels[0]}"] = wide[label] - wide[comparison.labels[0]]
    order = {q: i for i, q in enumerate(HEADLINE_QUANTITIES)}
    wide = wide.reset_index().sort_values(["quantity", "year"],
                                          key=lambda c: c.map(order) if c.name == "quantity" else c)
    return wide


def _html_table(table: pd.DataFrame) -> str:
    formatted = table.copy()
    for column in formatted.columns:
        values = formatted[column]
        if pd.api.types.is_float_dtype(values) and str(column).startswith("relative"):
            # a percentage to 3 significant digits: small differences do not show as -0.0000
            formatted[column] = values.map(lambda v: "-" if pd.isna(v) else f"{v * 100:.3g}%")
        elif pd.api.types.is_float_dtype(values):
            formatted[column] = values.map(lambda v: "-" if pd.isna(v) else f"{v:,.2f}")
    return '<div class="scroll">' + formatted.to_html(index=False, border=0, na_rep="-") + "</div>"


def _page(comparison: Comparison, figures: dict[str, Any], images: dict[str, bytes]) -> str:
    title = "etscap comparison: " + " vs ".join(comparison.labels)
    sections = [
        ("Runs", _html_table(comparison.runs)
         + f"<p>Differences are against the first run, {html.escape(comparison.labels[0])}.</p>"),
        ("Headline differences", _html_table(headline_differences(comparison))),
    ]
    plots = []
    for name, figure in figures.items():
        uri = "data:image/png;base64," + base64.b64encode(images[name]).decode()
        caption = html.escape(figure.get_suptitle())
        plots.append(f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption} '
                     f"(plots/{name}.png)</figcaption></figure>")
    sections.append(("Charts", "\n".join(plots)))
    settings = pd.DataFrame([{"run": label, "dataset": Path(str(r.summary.get("dataset", ""))).name,  # no local paths
                              "settings changed": _changed_settings(r.summary.get("settings") or {},
                                                                    comparison.results[comparison.labels[0]]
                                                                    .summary.get("settings") or {})}
                             for label, r in comparison.results.items()])
    sections.append(("Settings that differ from the first run", _html_table(settings)))
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{content}" for h, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}'
            f"</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def _changed_settings(settings: dict[str, Any], reference: dict[str, Any]) -> str:
    changed = [f"{key} = {json.dumps(value, default=str)}" for key, value in settings.items()
               if reference.get(key) != value and key != "name"]
    return ", ".join(changed) or "-"


def _sheet_name(text: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return "".join("_" if c in "[]:*?/\\" else c for c in text)[:31]


def _write_workbook(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31], index=False, freeze_panes=(1, 0))
            sheet = writer.sheets[name[:31]]
            for cells in sheet.columns:
                width = max(len(str(c.value)) for c in cells[:50] if c.value is not None)
                sheet.column_dimensions[cells[0].column_letter].width = min(max(width, 8) + 2, 50)
