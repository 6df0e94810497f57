"""Facility-level abatement at scale: this project's model against hand-built HiGHS LPs.

    python benchmarks/scale.py [--sizes 1000 7000 20000] [--reference-up-to 1000] [--repeat 3] [--keep]

For each size, a dataset is made from inputs/china with a synthetic registry of that many
installations (model/data/registry.py, seed 2025) and 8 cost steps in every ETS sector over
2025-2060, keeping bau.csv, the net-GHG national target, the sectors' phases and
absolute caps from 2027, and leaving out the rules the floor does not write (offsets,
deployment and build limits, cap_rules.csv, banking, the installations' surrender rules, fixed ETS
caps: see ``make_dataset``). Each approach runs in a fresh child process that starts from
the loaded dataset (the tables in memory; reading the files is outside every timing) and
ends with the allowance prices (stage 1, the least-cost LP):

- ``ours``: model.solve at facility resolution, all of it on our side of the clock
  (overrides applied and checked, ``derive_parameters``, formulation blocks -> highspy,
  HiGHS, result tables and checks), with the installations that face no constraint of
  their own pooled and the simulation-phase ones solved in closed form;
- ``floor``: the same pooled LP built by hand, directly with numpy from the dataset's
  tables: its own derivation (BAU from sectors.csv and bau.csv, phases, cap shares, pools
  by cost path, the closed-form simulation installations, every row), charged to the
  floor's clock; nothing of ``model.parameters.derive`` or ``model.lp.formulation`` is used (only
  the HiGHS option helpers, so the options are the same), passed to highspy. It must be
  the LP ours solves: the same numbers of columns and rows, the objective to 1e-9
  relative and every year's allowance price to 1e-9 CNY/t, else the benchmark stops with
  the differences instead of printing a ratio;
  The floor stops at the prices: it builds no result table and runs no check, where ours
  also makes the steps table, the table by installation and year (installations x covered
  years rows: 6.6 million at 200,000 installations) and every check of them; that work is
  on ours' clock, as a user's solve does it.
- ``reference``: the full, unpooled facility-level LP (one column per installation, step
  and year) passed straight to highspy with HiGHS defaults: what pooling is worth (slow:
  only up to --reference-up-to installations);
- ``linopy``: only if linopy is installed (it is not a dependency): not implemented here.

Printed per size: the median seconds of --repeat child runs (and, as CPU ratio, the ratio of
the median CPU seconds, steadier on a loaded machine) and the largest peak memory
(the child's maximum resident set, imports included) of each approach, ours / floor and
ours / reference, LP columns, the objective's relative difference and the largest price
difference to the floor (ratios, not seconds, are what to compare: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STEPS = 8
LARGE_REGISTRY = 100_000  # installations above which facilities.csv is written without its source column


def make_dataset(folder: Path, installations: int) -> Path:
    """inputs/china with ``installations`` synthetic installations and 8 steps per ETS sector,
    without the rules the hand-built floor leaves out: offsets (offsets.csv), deployment and
    build limits (deployment_limits.csv, mac.csv max_build_mt_per_year and group), sector cap
    rules (cap_rules.csv: the shorthands of sectors.csv and absolute_cap_from stay), banking
    (scenario.toml [market] banking = false, so no bank limits either), the
    installations' surrender rules (benchmarks.csv shortfall_cap_share and
    obligation_capped_at_allocation), fixed ETS caps (targets.csv ets_cap_mt blank: the
    model chooses every cap) and banking (scenario.toml banking = false). BAU (bau.csv)
    and the net-GHG national target stay. Above
    ``LARGE_REGISTRY`` installations the registry has no source column (the same text on
    every row: 200,000 of them pass the 20 MiB limit on an input file)."""
    import pandas as pd

    from model import load_dataset
    from model.data.registry import make_registry

    shutil.copytree(ROOT / "inputs" / "china", folder)
    settings = (folder / "scenario.toml").read_text()  # banking (and so the bank limits): the floor has no bank
    (folder / "scenario.toml").write_text(re.sub(r"(?m)^banking = true", "banking = false", settings))
    for left_out in ("offsets.csv", "deployment_limits.csv", "cap_rules.csv"):
        (folder / left_out).unlink(missing_ok=True)
    scenario = (folder / "scenario.toml").read_text()
    (folder / "scenario.toml").write_text(re.sub(r"(?m)^banking = true\b", "banking = false", scenario))
    targets = pd.read_csv(folder / "targets.csv")
    targets["ets_cap_mt"] = float("nan")
    targets.to_csv(folder / "targets.csv", index=False)
    benchmarks = pd.read_csv(folder / "benchmarks.csv")
    benchmarks.drop(columns=["shortfall_cap_share", "obligation_capped_at_allocation"], errors="ignore").to_csv(
        folder / "benchmarks.csv", index=False)
    mac = pd.read_csv(folder / "mac.csv").drop(columns=["max_build_mt_per_year", "group"], errors="ignore")
    covered = pd.read_csv(folder / "sectors.csv").dropna(subset=["covered_from"])["sector"]
    mac = pd.concat([_with_steps(group, STEPS) if sector in set(covered) else group
                     for sector, group in mac.groupby("sector", sort=False)], ignore_index=True)
    mac.to_csv(folder / "mac.csv", index=False)
    china = load_dataset(folder)
    total = int(china.sectors["entities"].sum())
    registry = make_registry(china, seed=2025, scale=installations / total)
    if installations > LARGE_REGISTRY:  # its source text alone would pass the 20 MiB file limit
        registry = registry.drop(columns=["source"])
    registry.to_csv(folder / "facilities.csv", index=False)
    return folder


def _with_steps(steps, wanted: int):
    """Split the largest steps in two (the second half 2% dearer) until there are ``wanted``."""
    import pandas as pd

    steps = steps.copy()
    while len(steps) < wanted:
        largest = steps["potential_share"].idxmax()
        half = steps.loc[largest].copy()
        steps.loc[largest, "potential_share"] /= 2
        half["potential_share"] = steps.loc[largest, "potential_share"]
        half["step"] = f"{half['step']}_part{len(steps)}"
        half["cost_cny_per_t"] *= 1.02
        steps = pd.concat([steps, half.to_frame().T], ignore_index=True)
    return steps


def run_ours(dataset_path: Path) -> dict:
    import highspy  # noqa: F401  (imported on first use by model; imports are outside the timing, as for the floor)

    import model.data.overrides  # noqa: F401  (imported by the solve's first override: compiled there without a .pyc)
    from model import load_dataset, solve

    dataset = load_dataset(dataset_path)
    started, cpu_started = time.perf_counter(), time.process_time()
    results = solve(dataset, overrides={"model.resolution": "facility"}, allocation=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu_started,
            "objective_bn_cny": results.summary["objective_bn_cny"],
            "prices": results.years["allowance_price_cny_per_t"].fillna(-1).tolist(),
            "columns": results.summary["model"]["variables"], "rows": results.summary["model"]["constraints"],
            "phases": results.summary["seconds"]}


def run_floor(dataset_path: Path) -> dict:
    """The pooled stage-1 LP of the facility-resolution model, written by hand with numpy
    from the dataset's tables (not through model.parameters.derive or model.lp.formulation)."""
    import highspy
    import numpy as np
    import scipy.sparse

    from model import load_dataset
    from model.solving.highs import new_highs, set_options, sized_options, solver_options

    dataset = load_dataset(dataset_path)
    settings = dataset.settings
    for unsupported in ("market.banking", "market.borrowing_limit_share", "market.initial_bank_mt"):
        assert not settings[unsupported], f"the floor does not model {unsupported}"
    for table in ("facility_mac", "allocation", "offsets", "deployment_limits", "cap_rules", "reserve"):
        assert getattr(dataset, table).empty, f"the floor does not model {table}"
    assert dataset.targets["ets_cap_mt"].isna().all(), "the floor lets the model choose every ETS cap"
    started, cpu_started = time.perf_counter(), time.process_time()

    # sectors x years: BAU, phase, rule caps, cap shares
    sectors, mac, facilities, targets = dataset.sectors, dataset.mac, dataset.facilities, dataset.targets
    years = np.arange(settings["first_year"], settings["last_year"] + 1)
    n_sectors, n_years = len(sectors), years.size
    elapsed = (years - settings["base_year"]).astype(float)
    column = lambda table, name, missing=np.nan: table[name].to_numpy(dtype=float, na_value=missing)
    bau = column(sectors, "base_emissions_mt")[:, None] * (
        (1 + column(sectors, "output_growth")) * (1 + column(sectors, "intensity_change")))[:, None] ** elapsed
    given = dataset.bau.sort_values(["sector", "year"], kind="stable")  # bau.csv: interpolated, held outside
    for name, path in given.groupby("sector", sort=False):  # one step per sector listed (a few)
        bau[sectors["sector"].tolist().index(name)] = np.interp(years, column(path, "year"), column(path, "bau_mt"))
    covered_from = column(sectors, "covered_from", np.inf)
    trading_from = np.where(np.isnan(column(sectors, "trading_from")), covered_from, column(sectors, "trading_from"))
    phase = np.where(years < covered_from[:, None], 0, np.where(years < trading_from[:, None], 1, 2))  # out/sim/trade
    rule_cap = (1 - column(sectors, "simulation_reduction"))[:, None] * bau
    start = settings["allocation.absolute_cap_from"] or np.inf
    reference_year = np.where(years < start, years, np.where(np.isfinite(trading_from), np.maximum(start, trading_from),
                                                             np.inf)[:, None])
    reference_year = np.clip(np.where(np.isfinite(reference_year), reference_year, years), years[0], years[-1])
    weight = np.where(phase == 2, np.take_along_axis(bau, (reference_year - years[0]).astype(int), axis=1), 0.0)
    share = np.divide(weight, weight.sum(axis=0), out=np.zeros_like(weight), where=weight.sum(axis=0) > 0)
    discount = (1 + settings["discount_rate"]) ** -(years - years[0]).astype(float)
    target_years = targets["year"].to_numpy(dtype=float)
    national_cap = np.interp(years, target_years, column(targets, "national_cap_mt"))
    if settings["targets.scope"] == "net_ghg":  # the CO2 room: the net-GHG cap less non-CO2, plus sinks
        national_cap = national_cap - np.interp(years, target_years, column(targets, "non_co2_mt", 0.0)) + np.interp(
            years, target_years, column(targets, "sinks_mt", 0.0))

    # steps: a sector's own, or (sectors of the registry) each installation's inherited ones
    sector_code = {name: i for i, name in enumerate(sectors["sector"])}
    mac_sector = mac["sector"].map(sector_code).to_numpy()
    mac_cost, mac_share = column(mac, "cost_cny_per_t"), column(mac, "potential_share")
    mac_change, mac_from = column(mac, "cost_change"), column(mac, "available_from", -np.inf)
    available = years >= mac_from[:, None]  # mac row x year
    facility_sector = facilities["sector"].map(sector_code).to_numpy()
    with_registry = np.zeros(n_sectors, dtype=bool)
    with_registry[facility_sector] = True
    emissions = column(facilities, "emissions_mt")
    emission_share = emissions / np.bincount(facility_sector, weights=emissions, minlength=n_sectors)[facility_sector]
    benchmark = dataset.benchmarks.set_index(["sector", "unit_type"])["benchmark_t_per_unit"]
    basis = benchmark.reindex(list(zip(facilities["sector"], facilities["unit_type"]))).to_numpy(dtype=float)
    basis = np.where(np.isnan(basis), 1.0, basis) * column(facilities, "output")
    lacking = np.bincount(facility_sector, weights=np.isnan(basis), minlength=n_sectors) > 0
    basis = np.where(lacking[facility_sector], emissions, basis)  # a sector lacking output shares by emissions
    allocation_share = basis / np.bincount(facility_sector, weights=basis, minlength=n_sectors)[facility_sector]
    # installation x mac row of its sector
    order = np.argsort(mac_sector, kind="stable")
    first_row = np.searchsorted(mac_sector[order], np.arange(n_sectors))
    count = np.bincount(mac_sector, minlength=n_sectors)
    member_facility = np.repeat(np.arange(len(facilities)), count[facility_sector])
    within = np.arange(member_facility.size) - np.repeat(np.cumsum(count[facility_sector]) - count[facility_sector],
                                                         count[facility_sector])
    member_mac = order[first_row[facility_sector[member_facility]] + within]
    member_cost = mac_cost[member_mac] * column(facilities, "cost_factor", 1.0)[member_facility]

    # simulation-phase installations: each installation-year's merit order, outside the LP
    member_sector = facility_sector[member_facility]
    simulation_years = np.flatnonzero((phase == 1).any(axis=0))  # the few years any sector simulates
    simulated = available[member_mac][:, simulation_years] & (phase[member_sector][:, simulation_years] == 1)
    member, year = np.nonzero(simulated)  # member x simulation year
    year = simulation_years[year]
    facility_year = member_facility[member] * n_years + year
    facility_bau = bau[member_sector[member], year] * emission_share[member_facility[member]]
    cost = member_cost[member] * (1 + mac_change[member_mac[member]]) ** elapsed[year]
    potential = mac_share[member_mac[member]] * facility_bau
    needed = np.clip(facility_bau - rule_cap[member_sector[member], year] * allocation_share[member_facility[member]],
                     0, None)
    merit = np.lexsort((cost, facility_year))
    rows, potential, cost, needed = facility_year[merit], potential[merit], cost[merit], needed[merit]
    cumulative = np.cumsum(potential)
    group_first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    group_start = np.repeat(group_first, np.diff(np.r_[group_first, rows.size]))
    before = cumulative - potential - (cumulative[group_start] - potential[group_start])
    used = np.clip(needed - before, 0, potential)
    presolved_cost = float(np.sum(discount[year[merit]] * used * cost))

    # LP columns: sector steps (sectors without a registry), pools (the rest, outside simulation)
    step_row, step_year = np.nonzero(available & ~with_registry[mac_sector][:, None])
    # a cost path is a mac row at one installation cost factor: the distinct (row, factor) pairs
    factors, factor_code = np.unique(column(facilities, "cost_factor", 1.0), return_inverse=True)
    path_key, path_of_member = np.unique(member_mac * factors.size + factor_code[member_facility],
                                         return_inverse=True)
    path_mac = path_key // factors.size
    path_cost = mac_cost[path_mac] * factors[path_key % factors.size]
    path_weight = np.bincount(path_of_member.ravel(), weights=mac_share[member_mac] * emission_share[member_facility],
                              minlength=path_mac.size)
    pool_path, pool_year = np.nonzero(available[path_mac] & (phase[mac_sector[path_mac]] != 1))
    col_sector = np.r_[mac_sector[step_row], mac_sector[path_mac[pool_path]]]
    col_year = np.r_[step_year, pool_year]
    col_potential = np.r_[mac_share[step_row] * bau[mac_sector[step_row], step_year],
                          path_weight[pool_path] * bau[mac_sector[path_mac[pool_path]], pool_year]]
    col_cost = np.r_[mac_cost[step_row] * (1 + mac_change[step_row]) ** elapsed[step_year],
                     path_cost[pool_path] * (1 + mac_change[path_mac[pool_path]]) ** elapsed[pool_year]]
    n_abatement = col_year.size
    covered_sector, covered_year = np.nonzero(phase > 0)
    trading_years = np.unique(np.nonzero(phase == 2)[1])
    n_covered = covered_sector.size
    cap_of = np.full((n_sectors, n_years), -1)
    cap_of[covered_sector, covered_year] = n_abatement + n_years + np.arange(n_covered)
    ets_cap = n_abatement + np.arange(n_years)
    trading_cap = np.full(n_years, -1)
    trading_cap[trading_years] = n_abatement + n_years + n_covered + np.arange(trading_years.size)
    n_cols = n_abatement + n_years + n_covered + trading_years.size

    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row, column, coefficient)
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []

    def add(rows_: np.ndarray, cols_: np.ndarray, coefs: np.ndarray | float) -> None:
        entries.append((rows_ + sum(b.size for b in lower), cols_, np.broadcast_to(coefs, rows_.shape)))

    def close(lo: np.ndarray, up: np.ndarray) -> None:
        lower.append(lo)
        upper.append(up)

    col_phase = phase[col_sector, col_year]
    outside = np.flatnonzero(col_phase == 0)  # national target: ETS cap + outside emissions <= cap
    add(np.arange(n_years), ets_cap, 1.0)
    add(col_year[outside], outside, -1.0)
    close(np.full(n_years, -np.inf), national_cap - np.where(phase == 0, bau, 0).sum(axis=0))
    add(covered_year, cap_of[covered_sector, covered_year], 1.0)  # cap split
    add(np.arange(n_years), ets_cap, -1.0)
    close(np.zeros(n_years), np.zeros(n_years))
    sim_sector, sim_year = np.nonzero(phase == 1)  # rule caps
    add(np.arange(sim_sector.size), cap_of[sim_sector, sim_year], 1.0)
    close(rule_cap[sim_sector, sim_year], rule_cap[sim_sector, sim_year])
    own = ~with_registry[sim_sector]  # simulation compliance of sectors without a registry
    row_of = np.full((n_sectors, n_years), -1)
    row_of[sim_sector[own], sim_year[own]] = np.arange(own.sum())
    abates = np.flatnonzero(row_of[col_sector, col_year] >= 0)
    add(row_of[col_sector[abates], col_year[abates]], abates, -1.0)
    add(np.arange(own.sum()), cap_of[sim_sector[own], sim_year[own]], -1.0)
    close(np.full(own.sum(), -np.inf), -bau[sim_sector[own], sim_year[own]])
    market_row = np.full(n_years, -1)  # market balance in every trading year
    market_row[trading_years] = np.arange(trading_years.size)
    trade_sector, trade_year = np.nonzero(phase == 2)
    trades = np.flatnonzero(col_phase == 2)
    add(market_row[col_year[trades]], trades, -1.0)
    add(market_row[trade_year], cap_of[trade_sector, trade_year], -1.0)
    close(np.full(trading_years.size, -np.inf), -np.where(phase == 2, bau, 0).sum(axis=0)[trading_years])
    add(np.arange(trade_sector.size), cap_of[trade_sector, trade_year], 1.0)  # cap shares
    add(np.arange(trade_sector.size), trading_cap[trade_year], -share[trade_sector, trade_year])
    close(np.zeros(trade_sector.size), np.zeros(trade_sector.size))
    incumbent = (years[trade_year] >= start) & (trade_year > 0)  # absolute caps of incumbents:
    incumbent &= phase[trade_sector, np.maximum(trade_year - 1, 0)] == 2  # one row per sector-year
    n_incumbent = int(incumbent.sum())
    add(np.arange(n_incumbent), cap_of[trade_sector[incumbent], trade_year[incumbent]], 1.0)
    add(np.arange(n_incumbent), cap_of[trade_sector[incumbent], trade_year[incumbent] - 1], -1.0)
    close(np.full(n_incumbent, -np.inf), np.zeros(n_incumbent))

    rows_, cols_, coefs = (np.concatenate(part) for part in zip(*entries))
    n_rows = sum(b.size for b in lower)
    matrix = scipy.sparse.csc_array((coefs, (rows_, cols_)), shape=(n_rows, n_cols))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.r_[discount[col_year] * col_cost, np.zeros(n_cols - n_abatement)]
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.r_[col_potential, np.full(n_cols - n_abatement, np.inf)]
    lp.row_lower_, lp.row_upper_ = np.concatenate(lower), np.concatenate(upper)
    lp.offset_ = presolved_cost
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    built = time.perf_counter()
    highs = new_highs(verbose=False)
    set_options(highs, sized_options(solver_options(settings), n_cols))  # the same options as ours
    highs.passModel(lp)
    highs.run()
    solved, cpu_seconds = time.perf_counter(), time.process_time() - cpu_started
    row_dual = np.asarray(highs.getSolution().row_dual)
    market_start = 2 * n_years + sim_sector.size + int(own.sum())
    price = -row_dual[market_start: market_start + trading_years.size] / discount[trading_years]
    prices = np.full(n_years, -1.0)
    prices[trading_years] = np.where(np.abs(price) < 1e-9, 0.0, price)
    return {"seconds": solved - started, "cpu_seconds": cpu_seconds,
            "objective_bn_cny": highs.getInfo().objective_function_value / 1e3,
            "prices": prices.tolist(), "columns": n_cols, "rows": n_rows,
            "phases": {"build": built - started, "solve": solved - built},
            "status": highs.modelStatusToString(highs.getModelStatus())}


def run_reference(dataset_path: Path) -> dict:
    import numpy as np

    from model import apply_overrides, derive_parameters, load_dataset
    from model.lp.formulation import formulate
    from model.lp.blocks import highs_arrays, to_highs
    from model.solving.highs import new_highs

    dataset = apply_overrides(load_dataset(dataset_path),
                              {"model.resolution": "facility", "model.pool_installations": False})
    started = time.perf_counter()
    parameters = derive_parameters(dataset)
    lp = formulate(parameters)
    arrays = highs_arrays(lp)
    built = time.perf_counter()
    highs = new_highs(verbose=False)  # HiGHS defaults
    highs.passModel(to_highs(arrays))
    highs.run()
    solved = time.perf_counter()
    row_dual = np.asarray(highs.getSolution().row_dual)
    start = arrays.row_offsets["market_balance"]
    market_years = parameters.market_years
    price = -row_dual[start: start + market_years.size] / parameters.discount_factor.to_numpy()[
        market_years - parameters.first_year]
    prices = np.full(parameters.years.size, -1.0)
    prices[market_years - parameters.first_year] = np.where(np.abs(price) < 1e-9, 0.0, price)
    return {"seconds": solved - started, "objective_bn_cny": highs.getInfo().objective_function_value / 1e3,
            "prices": prices.tolist(), "columns": arrays.matrix.shape[1], "rows": arrays.matrix.shape[0],
            "phases": {"build": built - started, "solve": solved - built},
            "status": highs.modelStatusToString(highs.getModelStatus())}


def measure(approach: str, dataset: Path, repeat: int = 1) -> dict:
    """Run ``approach`` in ``repeat`` child processes; the run of median time (phases as
    measured in that run), with the largest peak resident memory (MiB) of all."""
    runs = sorted((_measure_once(approach, dataset) for _ in range(repeat)), key=lambda run: run["seconds"])
    cpu = sorted(run.get("cpu_seconds", float("nan")) for run in runs)
    return {**runs[(len(runs) - 1) // 2], "cpu_seconds": cpu[(len(cpu) - 1) // 2],
            "peak_mib": max(run["peak_mib"] for run in runs)}


OBJECTIVE_TOLERANCE = 1e-9  # relative
PRICE_TOLERANCE = 1e-9  # CNY/t


def same_lp(size: int, ours: dict, floor: dict) -> tuple[float, float]:
    """The objective's relative difference and the largest price difference of ours to the
    floor; stops the benchmark if the two are not the same LP (size, objective or prices),
    since a ratio against a different LP means nothing."""
    gap = abs(ours["objective_bn_cny"] - floor["objective_bn_cny"]) / abs(floor["objective_bn_cny"])
    price_gap = max(abs(a - b) for a, b in zip(ours["prices"], floor["prices"], strict=True))
    differences = [f"{what}: ours {ours[what]}, floor {floor[what]}" for what in ("columns", "rows")
                   if ours[what] != floor[what]]
    if gap > OBJECTIVE_TOLERANCE:
        differences.append(f"objective: ours {ours['objective_bn_cny']!r}, floor {floor['objective_bn_cny']!r} "
                           f"(relative difference {gap:.1e} > {OBJECTIVE_TOLERANCE:g})")
    if price_gap > PRICE_TOLERANCE:
        differences.append(f"allowance prices differ by up to {price_gap:.1e} CNY/t (> {PRICE_TOLERANCE:g})")
    if floor.get("status") != "Optimal":
        differences.append(f"floor status {floor.get('status')}")
    if differences:
        raise SystemExit(f"{size} installations: the floor is not the LP ours solves, no ratio reported: "
                         + "; ".join(differences))
    return gap, price_gap


def _measure_once(approach: str, dataset: Path) -> dict:
    child = subprocess.Popen([sys.executable, __file__, "--run", approach, "--dataset", str(dataset)],
                             stdout=subprocess.PIPE, cwd=ROOT)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{approach} failed on {dataset}")
    result = json.loads(output)
    result["peak_mib"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="facility-level LP: ours against hand-built HiGHS LPs")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 7000, 20000])
    parser.add_argument("--reference-up-to", type=int, default=1000,
                        help="run the unpooled reference only up to this many installations (it is slow)")
    parser.add_argument("--repeat", type=int, default=3, help="child runs per approach and size (the median counts)")
    parser.add_argument("--keep", action="store_true", help="keep the generated datasets")
    parser.add_argument("--run", choices=["ours", "floor", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps({"ours": run_ours, "floor": run_floor, "reference": run_reference}[args.run](args.dataset)))
        return
    try:
        import linopy  # noqa: F401
        print("linopy is installed, but no linopy build of this LP exists here yet")
    except ImportError:
        print("linopy: not installed (not a dependency of etscap): skipped")
    workspace = Path(tempfile.mkdtemp(prefix="etscap-scale-"))
    header = (f"{'installations':>13} {'columns':>8} {'ours s':>7} {'floor s':>7} {'ours/floor':>10} {'CPU ratio':>9} "
              f"{'ours MiB':>8} {'floor MiB':>9} {'memory ratio':>12} {'objective rel diff':>18} "
              f"{'max price diff':>14} {'reference s':>11} {'ours/reference':>14}")
    print(header)
    try:
        for size in args.sizes:
            dataset = make_dataset(workspace / f"n{size}", size)
            floor = measure("floor", dataset, args.repeat)
            ours = measure("ours", dataset, args.repeat)
            reference = measure("reference", dataset) if size <= args.reference_up_to else None
            gap, price_gap = same_lp(size, ours, floor)
            print(f"{size:>13} {floor['columns']:>8} {ours['seconds']:>7.3f} {floor['seconds']:>7.3f} "
                  f"{ours['seconds'] / floor['seconds']:>10.2f} {ours['cpu_seconds'] / floor['cpu_seconds']:>9.2f} "
                  f"{ours['peak_mib']:>8.0f} {floor['peak_mib']:>9.0f} "
                  f"{ours['peak_mib'] / floor['peak_mib']:>12.2f} {gap:>18.1e} {price_gap:>14.1e} "
                  + (f"{reference['seconds']:>11.2f} {ours['seconds'] / reference['seconds']:>14.3f}"
                     if reference else f"{'-':>11} {'-':>14}"))
            print(f"{'':>13} ours: " + ", ".join(f"{k} {v:.3f} s" for k, v in ours["phases"].items())
                  + f" ({ours['columns']} columns); floor: "
                  + ", ".join(f"{k} {v:.3f} s" for k, v in floor["phases"].items()), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workspace, ignore_errors=True)
        else:
            print(f"datasets kept in {workspace}")


if __name__ == "__main__":
    main()
