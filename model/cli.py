"""The command line: ``python run.py COMMAND`` or ``etscap COMMAND``.

A user error prints one message (no traceback) and exits non-zero: 2 for bad inputs,
3 for targets that cannot be met, 4 for a solver that stopped early, 1 otherwise (also
any other OSError or RecursionError, as one line), 130 when interrupted (Ctrl-C).
``--debug`` shows the traceback and the HiGHS log instead.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .data.bundled import BUNDLED_NAMES, bundled_datasets
from .errors import EtscapError

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from .studies.study import Study

# Only click is imported here: `--help` and shell completion must start at once. Each command
# imports what it uses (pandas, the model, HiGHS; Pyomo only for a model a script changed).


BUNDLED = BUNDLED_NAMES
DEFAULT_DATASET = bundled_datasets() / "china"
HEADLINE = {  # years-table column -> heading of the table printed after a solve
    "ets_cap_mt": "ETS cap Mt",
    "emissions_mt": "emissions Mt",
    "allowance_price_cny_per_t": "price CNY/t",
    "national_carbon_value_cny_per_t": "national value CNY/t",
    "abatement_cost_bn_cny": "cost bn CNY",
}
INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
log = logging.getLogger("etscap")


class _Cli(click.Group):
    """Turns an EtscapError into one line on stderr and its exit code; as a last resort any
    other OSError or RecursionError too (exit 1), and Ctrl-C into one line (exit 130)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EtscapError as err:
            if (ctx.obj or {}).get("debug"):  # the traceback too, but the same exit code
                click.echo("".join(traceback.format_exception(err)).rstrip("\n"), err=True)
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written", err=True)
            ctx.exit(INTERRUPTED)
        except (OSError, RecursionError) as err:
            if (ctx.obj or {}).get("debug"):
                raise
            click.echo(f"error: {_describe(err)} (--debug shows where)", err=True)
            ctx.exit(1)


def _describe(err: OSError | RecursionError) -> str:
    """One line for an unexpected OSError or RecursionError: what failed, on which path."""
    if isinstance(err, RecursionError):
        return "an input is nested too deeply to read (RecursionError)"
    paths = " -> ".join(str(p) for p in (err.filename, getattr(err, "filename2", None)) if p)
    reason = err.strerror or str(err) or type(err).__name__
    name = errno.errorcode.get(err.errno or 0, type(err).__name__)
    return f"{reason} ({name})" + (f": {paths}" if paths else "")


def _configure(ctx: click.Context, debug: bool | None = None, quiet: bool | None = None,
               verbose: bool | None = None) -> None:
    """Record --debug/--verbose/--quiet (given before or after the command) and set up logging."""
    settings = ctx.find_root().ensure_object(dict)
    if debug is not None:
        settings["debug"] = debug
    if quiet:
        settings["quiet"] = True
    if verbose:
        settings["verbose"] = True
    settings.setdefault("debug", False)
    settings.setdefault("quiet", False)
    settings.setdefault("verbose", False)
    level = logging.DEBUG if settings["debug"] else logging.WARNING if settings["quiet"] else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    for noisy in ("pyomo", "distributed", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.INFO if settings["debug"] else logging.WARNING)


# pragma: no mutate start
# (verbosity_options decorates the commands when cli is imported, before mutmut switches a
# mutant on: as study_options below, its mutants all survive whatever the tests do)
def verbosity_options(command: Any) -> Any:
    """--debug/--verbose/--quiet on every command, as on the group (Calliope's shared options)."""
    command = click.option(
        "--debug/--no-debug", default=None, expose_value=False,
        callback=lambda ctx, _, value: _configure(ctx, debug=value),
        help="Show tracebacks and the HiGHS log.",
    )(command)
    command = click.option(
        "--verbose", "-v", is_flag=True, default=None, expose_value=False,
        callback=lambda ctx, _, value: _configure(ctx, verbose=value), help="Show the HiGHS log.",
    )(command)
    return click.option(
        "--quiet", "-q", is_flag=True, default=None, expose_value=False,
        callback=lambda ctx, _, value: _configure(ctx, quiet=value), help="Print errors only.",
    )(command)
# pragma: no mutate end


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@verbosity_options
@click.version_option(package_name="etscap", message="%(prog)s %(version)s")
def cli() -> None:
    """etscap: choose an emissions trading scheme's cap, sector caps and free
    allocation at least abatement cost under national targets (LP solved by HiGHS).

    Start with `solve` on the default China dataset; `inputs` lists every input file
    and column; `validate` checks a dataset without solving it.
    """


def find_dataset(path: Path) -> Path:
    """``path`` if it exists; else, for ``china`` or ``toy`` (also typed as ``inputs/china``),
    the dataset of that name that comes with etscap, so that they work from any folder."""
    if path.exists() or path.name not in BUNDLED or str(path.parent) not in (".", "inputs"):
        return path
    bundled = bundled_datasets() / path.name
    return bundled if bundled.is_dir() else path


def _pairs(values: tuple[str, ...]) -> list[tuple[str, str]]:
    if not values:  # a plain solve: the overrides module is not needed
        return []
    from .data.overrides import parse_assignment

    return [parse_assignment(v) for v in values]


def scenario_option(command: Any) -> Any:
    """--scenario NAME (repeatable): named scenarios of the dataset, applied in order."""
    return click.option(
        "--scenario", "-s", "scenarios", multiple=True, metavar="NAME", envvar="ETSCAP_SCENARIO",
        show_envvar=True,
        help="Apply the dataset's scenarios/NAME.toml before any --set; repeat to compose several "
             "in order (a later one wins on the same key).")(command)


def _results_name(dataset: Any) -> str:
    """The default results folder's name: the dataset's name, then the named scenarios applied."""
    return "-".join([dataset.name, *(s["name"] for s in dataset.scenarios)])


@cli.command()
@click.argument("dataset", required=False, type=click.Path(path_type=Path),
                default=DEFAULT_DATASET, metavar="[DATASET]")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Results folder.  [default: results/<scenario name>]")
@click.option("--force", is_flag=True, help="Replace the results folder if it exists.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override an input, e.g. discount_rate=0.03, market.banking=true, "
                   "sectors.aluminium.trading_from=2029, 'mac.cement.*.cost_cny_per_t*=1.2'. "
                   "Repeatable.")
@click.option("--resolution", type=click.Choice(["sector", "facility"]),
              help="Abate by sector or installation by installation (same as --set model.resolution=...).")
@click.option("--solver-option", "solver_options", multiple=True, metavar="KEY=VALUE",
              help="HiGHS option, e.g. presolve=off, solver=ipm, time_limit=60. Repeatable.")
@click.option("--solver-threads", type=click.IntRange(0, 1024), envvar="ETSCAP_SOLVER_THREADS", show_envvar=True,
              help="HiGHS threads (same as --set solver.threads=N, which wins if both are given).")
@click.option("--report", "with_report", is_flag=True,
              help="Also write plots/, report.html and results.xlsx (as the report command does).")
@click.option("--installations", "with_installations", is_flag=True,
              help="Also write the table by installation (facility_years.parquet) at "
                   "sector resolution: each installation's share of its sector.  [default: only at "
                   "facility resolution]")
@click.option("--installations-csv", "installations_csv", is_flag=True,
              help="Write the table by installation as CSV too (facilities.csv, beside facility_years.parquet); "
                   "at sector resolution it implies --installations.")
@scenario_option
@verbosity_options
@click.pass_context
def solve(ctx: click.Context, dataset: Path, out: Path | None, force: bool, sets: tuple[str, ...],
          resolution: str | None, solver_options: tuple[str, ...], solver_threads: int | None,
          with_report: bool, with_installations: bool, installations_csv: bool, scenarios: tuple[str, ...]) -> None:
    """Solve DATASET (a folder, or china or toy: the datasets that come with etscap;
    default: china) and write the results.

    --scenario NAME applies the dataset's scenarios/NAME.toml first (the default results
    folder is then results/<name>-<NAME>), --set applies on top.

    Writes years.csv, sector_years.csv, abatement_steps.csv and summary.json (and, with a
    registry at facility resolution or with --installations, facility_years.parquet, with
    --installations-csv also facilities.csv), and with --report the plots,
    report.html and results.xlsx. An existing results folder is only replaced with --force.
    """
    from .solving.pipeline import prepare, solve as solve_dataset
    from .results.tables import Staging, check_can_write

    threads = [("solver.threads", solver_threads)] if solver_threads is not None else []
    overrides = threads + _pairs(sets) + ([("model.resolution", resolution)] if resolution else [])
    prepared = prepare(find_dataset(dataset), overrides, scenarios=scenarios)
    out = out or Path("results") / _results_name(prepared)
    target = check_can_write(out, force, protect=[prepared.path])
    staging = Staging(target)  # made now: a folder that cannot be written is found before solving
    # at sector resolution the table by installation is only each sector's shares (6,837
    # installations x 34 years: 46 MB a run), so it is written when asked for
    installations = with_installations or installations_csv or prepared.setting("model.resolution") == "facility"
    try:
        log.info("solving %s (%s)", prepared.name, prepared.path)
        results = solve_dataset(prepared, highs_options=dict(_pairs(solver_options)),
                                verbose=ctx.obj["debug"] or ctx.obj["verbose"], installations=installations)
    except BaseException:
        staging.discard()
        raise
    from .data import fastpath

    fastpath.forget()  # no next scenario: the parameters' caches are not held through the write
    written = results.write(target, staging=staging, installations_csv=installations_csv)
    if not ctx.obj["quiet"]:
        click.echo(_headline(results))
        click.echo(f"results written to {written}/")
    if with_report:
        _write_report(ctx, written, year=None)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), metavar="RESULTS_DIR")
@click.option("--year", type=int,
              help="Year of the merit order, MAC curves, who pays and installations (of a study: of the "
                   "price distribution).  "
                   "[default: 2030 if modelled, else the last year]")
@click.option("--base", type=click.Path(path_type=Path), metavar="RESULTS_DIR",
              help="Of a study: the base dataset's results folder (from `solve`), whose price path the fan "
                   "chart shows.")
@verbosity_options
@click.pass_context
def report(ctx: click.Context, folder: Path, year: int | None, base: Path | None) -> None:
    """Draw the plots and write report.html and results.xlsx into RESULTS_DIR.

    RESULTS_DIR is a folder written by `solve`, or a study folder (scenarios.csv and
    study.json): then the price fan chart, one year's price distribution and, for a
    sweep, the headline outputs against the swept value. Only plots/, report.html and
    results.xlsx are written; the folder's other files are left as they are.
    """
    _write_report(ctx, folder, year, base)


def _write_report(ctx: click.Context, folder: Path, year: int | None, base: Path | None = None) -> None:
    from .report.plots import write_report  # matplotlib is imported only when a report is asked for

    written = write_report(folder, year=year, base=base)
    if not ctx.obj["quiet"]:
        click.echo(f"report written to {folder}/: " + ", ".join(str(p.relative_to(folder)) for p in written))


def _headline(results: Any) -> str:
    from .results.notebook import headline_table
    from .results.tables import overshoot_sources

    summary = results.summary
    table = headline_table(results, HEADLINE)  # the milestone years, as the report's headline table
    lines = [
        f"{' + '.join([summary['scenario'], *(n['name'] for n in summary.get('scenarios') or [])])}: "
        f"{summary['status']}, abatement cost "
        f"{summary['objective_bn_cny']:,.1f} bn CNY (present value), "
        f"built in {summary['build_seconds']:.2f} s, solved in {summary['solve_seconds']:.2f} s",
        table.to_string(float_format=lambda x: f"{x:,.1f}", na_rep="-"),
    ]
    overshoot = summary.get("national_overshoot_mt")
    if overshoot is not None and overshoot > 0:  # allowances sold beyond the national target
        lines.append(f"national target exceeded by {overshoot:,.1f} Mt over the horizon "
                     f"({overshoot_sources(summary)}; years.csv national_overshoot_mt)")
    return "\n".join(lines)


def _bn_or_m(bn_cny: float) -> str:
    """A cost difference readable at any size: -968.4 bn CNY, -9.1 m CNY."""
    return f"{bn_cny:+,.1f} bn CNY" if abs(bn_cny) >= 1 else f"{bn_cny * 1e3:+,.1f} m CNY"


# pragma: no mutate start
# (study_options runs once, when cli is imported to build the commands: mutmut switches a
# mutant on only in a test's process, after that import, so its mutants all survive whatever
# the tests do; tests/test_scenarios.py and test_cli.py run sweep and montecarlo with them)
def study_options(command: Any) -> Any:
    """The options of `sweep` and `montecarlo`."""
    for option in reversed([
        click.argument("study_file", type=click.Path(path_type=Path), metavar="STUDY.toml"),
        click.option("--out", "-o", type=click.Path(path_type=Path),
                     help="Study folder.  [default: the study file's out, else results/<study file name>]"),
        click.option("--force", is_flag=True,
                     help="Replace the study folder if it exists and holds only what etscap wrote."),
        click.option("--resume", is_flag=True,
                     help="Continue an interrupted study from its checkpoint (.OUT.checkpoint beside --out)."),
        click.option("--scheduler", metavar="ADDRESS", envvar="ETSCAP_SCHEDULER", show_envvar=True,
                     help="Run on the Dask scheduler at ADDRESS (e.g. tcp://10.0.0.5:8786), whose workers "
                          "can import etscap.  [default: a local cluster, one worker per core]"),
        click.option("--serial", is_flag=True, help="Solve every scenario in this process, without Dask."),
        click.option("--report", "with_report", is_flag=True,
                     help="Also write plots/, report.html and results.xlsx (as the report command does)."),
        click.option("--scenario", "-s", "scenarios", multiple=True, metavar="NAME",
                     help="Named scenario of the dataset that every scenario starts from (repeatable, "
                          "applied in order).  [default: the study file's scenario key]"),
    ]):
        command = option(command)
    return command
# pragma: no mutate end


@cli.command()
@study_options
@verbosity_options
@click.pass_context
def sweep(ctx: click.Context, **options: Any) -> None:
    """Solve the dataset of STUDY.toml for every value of the keys in its [sweep] table
    (every combination, or with mode = "zip" the values side by side).

    Writes scenarios.csv (one row per scenario: status, message, the values set, the
    abatement cost), years.parquet and sector_years.parquet (optimal scenarios, with a
    scenario column) and study.json. Infeasible scenarios are recorded, not dropped.
    """
    from .studies.study import SWEEP

    _run_study(ctx, SWEEP, **options)


@cli.command()
@study_options
@verbosity_options
@click.pass_context
def montecarlo(ctx: click.Context, **options: Any) -> None:
    """Solve the dataset of STUDY.toml for n draws of the inputs in its
    [montecarlo.distributions] table (normal, lognormal, uniform, triangular), seeded.

    Writes the same files as `sweep`; the same seed gives the same draws and results.
    """
    from .studies.study import MONTECARLO

    _run_study(ctx, MONTECARLO, **options)


def _run_study(ctx: click.Context, kind: str, study_file: Path, out: Path | None, force: bool,
               resume: bool, scheduler: str | None, serial: bool, with_report: bool,
               scenarios: tuple[str, ...]) -> None:
    if serial and scheduler:
        raise click.UsageError("--serial and --scheduler exclude each other: choose one")
    from .results.tables import check_can_write
    from .studies.study import RESUME_HINT, Checkpoint, read_study_file, run_study_file, study_folder

    spec = read_study_file(study_file, kind)
    out = study_folder(spec, out)
    target = check_can_write(out, force, protect=[spec.dataset])
    if not serial:
        importlib.import_module("distributed")  # importing it sets its loggers to INFO: set them back
        _configure(ctx)
    checkpoint = Checkpoint(target)  # made before solving; finished chunks are saved to it
    try:
        with contextlib.ExitStack() as stack:
            bar = _ProgressBar(stack, shown=not ctx.obj["quiet"])
            study = run_study_file(spec, kind, client=None if serial else scheduler or "local", progress=bar,
                                   scenarios=scenarios or None, checkpoint=checkpoint, resume=resume)
        written = study.write(target, csv=spec.csv, checkpoint=checkpoint)
    except KeyboardInterrupt:
        checkpoint.close()
        kept = (f"{checkpoint.saved} solved scenarios kept in {checkpoint.folder}; {RESUME_HINT}"
                if checkpoint.saved else "nothing was solved yet")
        click.echo(f"interrupted: {kept}", err=True)
        ctx.exit(INTERRUPTED)
    finally:
        checkpoint.close()
    if not ctx.obj["quiet"]:
        click.echo(_study_headline(study))
        click.echo(f"study written to {written}/")
    if with_report:
        _write_report(ctx, written, year=None)


class _ProgressBar:
    """click's progress bar on stderr, opened once the number of scenarios is known; when
    stderr is not a terminal (a log file, CI), a line at every further 10% of scenarios."""

    def __init__(self, stack: contextlib.ExitStack, shown: bool, terminal: bool | None = None):
        self.stack, self.shown = stack, shown
        self.bar: ProgressBar[int] | None = None  # opened on the first call with a terminal
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.tenths = 0  # tenths of the scenarios reported so far (no terminal)

    def __call__(self, done: int, total: int) -> None:
        if not self.shown:
            return
        if not self.terminal:
            tenths = 10 * done // max(total, 1)
            if tenths > self.tenths:
                self.tenths = tenths
                click.echo(f"scenarios: {done}/{total} solved ({100 * done // max(total, 1)}%)", err=True)
            return
        if self.bar is None:
            self.bar = self.stack.enter_context(click.progressbar(
                length=total, label="scenarios", file=sys.stderr, show_pos=True, show_eta=True))
        self.bar.update(done - self.bar.pos)


def _study_headline(study: Study) -> str:
    info, status = study.info, study.scenarios["status"].value_counts()
    counts = ", ".join(f"{status.get(s, 0)} {label}" for s, label in
                       (("optimal", "optimal"), ("infeasible", "infeasible"), ("error", "errors")))
    lines = [f"{info['kind']} of {info['dataset']}: {info['n']} scenarios ({counts}) in "
             f"{info['elapsed_seconds']:.1f} s on {info['run_on']} ({info['scenarios_per_second']:.1f} "
             f"scenarios/s once started)"]
    if status.get("optimal", 0) < info["n"]:
        lines.append("scenarios not solved are listed with their message in scenarios.csv")
    return "\n".join(lines)


@cli.command("design-comparison")
@click.argument("study_file", type=click.Path(path_type=Path), metavar="STUDY.toml")
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="Folder to write.  [default: the study file's out, else results/<study file name>]")
@click.option("--force", is_flag=True, help="Replace the folder if it exists and holds only what etscap wrote.")
@verbosity_options
@click.pass_context
def design_comparison(ctx: click.Context, study_file: Path, out: Path | None, force: bool) -> None:
    """Plan every cap design of STUDY.toml ([design_comparison.designs]: cap_rules.csv rows) on
    expected output, then realise each with its policy held under the same n seeded draws
    ([design_comparison.distributions]; keys separated by spaces share a draw), in this process.

    Writes design_years.csv (design x draw x year: price, ETS cap and emissions, national
    count, target and miss), design_summary.csv (design x year: price and emission spreads,
    miss_probability, miss_mean_mt, infeasible_share, expected_cost_bn_cny) and designs.json.
    """
    from .studies.designs import read_design_study, run_design_study

    spec = read_design_study(study_file)
    folder = out if out is not None else spec.out or Path("results") / spec.path.stem
    written, summary = run_design_study(spec, folder, force)
    if not ctx.obj["quiet"]:
        shown = summary[summary["year"].isin(spec.years)] if spec.years else summary
        columns = ["design", "year", "price_mean", "price_p5", "price_p95", "ets_emissions_mean_mt",
                   "miss_probability", "miss_mean_mt", "infeasible_share", "expected_cost_bn_cny"]
        click.echo(shown[columns].round(1).to_string(index=False))
        click.echo(f"design comparison written to {written}/")


@cli.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="RESULTS_DIR...")
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Folder to write.  [default: results/compare]")
@click.option("--force", is_flag=True, help="Replace the folder if it exists.")
@verbosity_options
@click.pass_context
def compare(ctx: click.Context, folders: tuple[Path, ...], out: Path | None, force: bool) -> None:
    """Compare two or more results folders (written by `solve`) with the first: difference
    tables of years and sector_years (absolute and relative), charts of price paths, ETS cap
    and emissions, cost by sector and free allocation, compare.html and compare.xlsx."""
    from .studies.compare import compare as compare_runs  # matplotlib and openpyxl load only here
    from .results.tables import check_can_write

    out = out or Path("results") / "compare"
    check_can_write(out, force)
    comparison = compare_runs(list(folders))
    written = comparison.write(out, force=force)
    if not ctx.obj["quiet"]:
        runs = comparison.runs
        click.echo("\n".join(f"{row.run}: {row.status}, {row.objective_bn_cny:,.1f} bn CNY PV"
                             + ("" if i == 0 else f" ({_bn_or_m(row.difference_bn_cny)} vs {runs.run.iloc[0]})")
                             for i, row in enumerate(runs.itertuples())))
        click.echo(f"comparison written to {written}/: compare.html, compare.xlsx, plots/")


@cli.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Check with this override.")
@scenario_option
@verbosity_options
@click.pass_context
def validate(ctx: click.Context, dataset: Path, sets: tuple[str, ...], scenarios: tuple[str, ...]) -> None:
    """Check DATASET against the input declarations without solving it (with --scenario:
    those named scenarios; without: every named scenario of the dataset, one by one)."""
    from .data.inputs import load_dataset
    from .solving.pipeline import prepare
    from .data.scenarios import scenario_names

    base = load_dataset(find_dataset(dataset))
    checked = prepare(base, _pairs(sets), scenarios=scenarios)
    named = [] if scenarios else scenario_names(base.path if base.path.is_dir() else base.path.parent)
    for name in named:  # each on its own, as `solve --scenario NAME` would apply it
        prepare(base, _pairs(sets), scenarios=[name])
    if not ctx.obj["quiet"]:
        applied = f" with scenario {', '.join(scenarios)}" if scenarios else ""
        listed = f"; scenarios {', '.join(named)} valid" if named else ""
        click.echo(
            f"{dataset}{applied}: valid ({len(checked.sectors)} sectors, {len(checked.mac)} cost steps, "
            f"years {checked.setting('first_year')}-{checked.setting('last_year')}){listed}"
        )


@cli.command("init")
@click.argument("folder", type=click.Path(path_type=Path), metavar="NEW_FOLDER")
@click.option("--from", "source", default="china", show_default=True, metavar="china|toy|DATASET",
              help="Start from the bundled China or toy dataset, or from a dataset folder or workbook.")
@verbosity_options
@click.pass_context
def init_command(ctx: click.Context, folder: Path, source: str) -> None:
    """Write a new dataset folder (refused if NEW_FOLDER exists and is not empty) with a
    README.md explaining each file; it solves as it is."""
    from .data.workbook import init_dataset

    written = init_dataset(folder, source)
    if not ctx.obj["quiet"]:
        files = sorted(p.name for p in written.iterdir())
        click.echo(f"dataset written to {written}/ from {source}: {', '.join(files)}")
        click.echo(f"next: python run.py validate {written} && python run.py solve {written}")


@cli.command("export-xlsx")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path), metavar="BOOK.xlsx")
@click.option("--force", is_flag=True, help="Replace BOOK.xlsx if it exists.")
@verbosity_options
@click.pass_context
def export_xlsx(ctx: click.Context, dataset: Path, book: Path, force: bool) -> None:
    """Write DATASET as one workbook: a scenario sheet, a sheet per table (row 2: units) and
    the input reference; solve and validate take BOOK.xlsx as the dataset."""
    from .data.workbook import export_workbook

    written = export_workbook(dataset, book, force=force)
    if not ctx.obj["quiet"]:
        click.echo(f"{dataset} written to {written}; solve it with: python run.py solve {written}")


@cli.command("make-registry")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Installations per sector = entities in sectors.csv x SCALE (at least one).")
@click.option("--seed", type=int, default=2025, show_default=True, help="Random seed: same seed, same registry.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; a name ending in .parquet writes Parquet (e.g. DATASET/facilities.parquet).  "
                   "[default: DATASET/facilities.csv]")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@verbosity_options
@click.pass_context
def make_registry_command(ctx: click.Context, dataset: Path, scale: float, seed: int, out: Path | None,
                          force: bool) -> None:
    """Write a synthetic registry of installations (facilities.csv) for DATASET, calibrated
    to its sector totals and entity counts; every row is labelled synthetic."""
    from .data.inputs import load_dataset
    from .data.registry import make_registry, registry_csv
    from .files import write_file

    registry = make_registry(load_dataset(dataset), seed=seed, scale=scale)
    out = out or dataset / "facilities.csv"
    if out.suffix == ".parquet":  # a large registry reads faster as Parquet (facilities.parquet)
        write_file(out, lambda path: registry.to_parquet(path, index=False), force=force)
    else:
        data = registry_csv(registry, scale)
        write_file(out, lambda path: path.write_bytes(data), force=force)
    if not ctx.obj["quiet"]:
        click.echo(f"{len(registry)} installations in {registry['sector'].nunique()} sectors written to {out}")


@cli.command()
@click.option("--update", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rewrite the input and study-file references inside this Markdown file (e.g. README.md).")
@verbosity_options
def inputs(update: Path | None) -> None:
    """Print every input file, key and column with its type, unit, default and range."""
    from .data import schema
    from .studies.study import study_file_reference

    if update is None:
        click.echo(schema.markdown())
        return
    document = update.read_text()
    missing = [marker for marker in ("<!-- inputs:begin -->", "<!-- inputs:end -->") if marker not in document]
    if missing:
        raise EtscapError(f"{update} has no {' and no '.join(missing)} line: add the two lines "
                          "<!-- inputs:begin --> and <!-- inputs:end --> where the input reference belongs")
    document = schema.with_reference(document)
    if "<!-- study-file:begin -->" in document:
        document = schema.with_section(document, "study-file", study_file_reference())
    update.write_text(document)


@cli.command()
@click.argument("dataset", required=False, type=click.Path(path_type=Path),
                default=DEFAULT_DATASET, metavar="[DATASET]")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override an input before the back-test (as for solve). Repeatable.")
@click.option("--from", "first_year", type=int, default=2021, show_default=True, help="First year.")
@click.option("--to", "last_year", type=int, default=2025, show_default=True, help="Last year.")
@scenario_option
@verbosity_options
def backtest(dataset: Path, sets: tuple[str, ...], first_year: int, last_year: int,
             scenarios: tuple[str, ...]) -> None:
    """Solve DATASET over 2021-2025 with the rules of those years the model has and print its
    allowance price next to the observed CEA price each year, the gap, and the abatement
    the observed price would buy on the curves. A test of the data, not a fit."""
    from .studies.backtest import backtest as run_backtest
    from .studies.backtest import describe
    from .solving.pipeline import prepare

    prepared = prepare(find_dataset(dataset), _pairs(sets), scenarios=scenarios)
    click.echo(describe(run_backtest(prepared, first_year, last_year)))


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="RESULTS_DIR")
@click.option("--year", "years", type=int, multiple=True,
              help="A year to explain. Repeatable.  [default: the milestone years]")
@verbosity_options
def margin(folder: Path, years: tuple[int, ...]) -> None:
    """Print the abatement steps that set each year's price in RESULTS_DIR (from `solve`): the
    step at the margin, or the dearest used and cheapest unused steps the price lies between,
    and cheaper steps a deployment limit holds back."""
    from .studies.margin import describe, marginal_steps
    from .results.tables import Results, milestone_years

    results = Results.read(folder)
    click.echo(describe(marginal_steps(results, years or milestone_years(results.years))))


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="etscap")
