"""Properties on random small feasible datasets (hypothesis), built in memory.

Each dataset has 1-3 sectors (the first covered by the ETS, perhaps after a simulation
phase; the others covered or outside), 1-4 cost steps per sector with distinct costs, 1-4
years, banking on or off (with caps that tighten over time), and national caps chosen
between the least emissions the potentials allow and a little above business as usual,
so it is feasible by construction. The properties:

- every solution passes every verification check;
- a tighter national target never lowers a price or the total cost;
- scaling every cost by k scales the prices and the total cost by k;
- random byte edits of the toy dataset give a message, never a traceback.

Examples are derandomised so that CI runs the same cases every time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import Dataset, EtscapError, derive_parameters, load_dataset, solve
from model.data import schema
from model.data.inputs import check_dataset, parse_table, repeated_keys
from model.parameters.phases import SIMULATION
from tests.conftest import TOY

FIRST_YEAR = 2025
PRICES = ["allowance_price_cny_per_t", "national_carbon_value_cny_per_t"]
EXAMPLES = {"checks": 50, "tighter": 30, "scaled": 30, "edits": 80}
PROPERTY_SETTINGS = dict(deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow])


def _table(spec: schema.TableSpec, rows: list[dict]) -> pd.DataFrame:
    """Typed table from rows of values, read as the CSV reader reads text cells."""
    cells = pd.DataFrame([{k: "" if v is None else str(v) for k, v in row.items()} for row in rows],
                         dtype=object).fillna("")
    cells.index = pd.RangeIndex(2, len(cells) + 2, name="row")
    problems: list = []
    typed = parse_table(spec, cells, problems)
    assert not problems, problems
    return typed


def _dataset(settings_given: dict, sectors: list[dict], mac: list[dict], targets: list[dict]) -> Dataset:
    scenario = {key: field.convert(settings_given.get(key)) for key, field in schema.SCENARIO.items()}
    dataset = Dataset(Path("<hypothesis>"), scenario, _table(schema.SECTORS, sectors),
                      _table(schema.MAC, mac), _table(schema.TARGETS, targets))
    assert check_dataset(dataset) == []
    return dataset


@st.composite
def sector_rows(draw, name: str, years: list[int], covered: bool) -> tuple[dict, list[dict]]:
    """One sector and its cost steps; a simulation phase's cut is within its potential."""
    costs = draw(st.lists(st.integers(1, 300), min_size=1, max_size=4, unique=True))
    shares = [draw(st.integers(1, 25)) / 100 for _ in costs]
    steps = [{"sector": name, "step": f"S{i}", "potential_share": share, "cost_cny_per_t": cost}
             for i, (share, cost) in enumerate(zip(shares, costs))]
    sector = {"sector": name, "base_emissions_mt": draw(st.integers(10, 1000)),
              "output_growth": draw(st.sampled_from([-0.03, 0.0, 0.02])), "value_added_bn_cny": 100}
    if covered:  # by the ETS, perhaps after the first year
        covered_from = draw(st.sampled_from(years))
        sector["covered_from"] = covered_from
        sector["trading_from"] = covered_from + draw(st.integers(0, 2))
        sector["simulation_reduction"] = round(draw(st.floats(0, 1)) * sum(shares), 4)
    return sector, steps


@st.composite
def feasible_datasets(draw) -> Dataset:
    years = list(range(FIRST_YEAR, FIRST_YEAR + draw(st.integers(1, 4))))
    n_sectors = draw(st.integers(1, 3))
    covered = [True] + [draw(st.booleans()) for _ in range(n_sectors - 1)]  # the ETS has a sector
    drawn = [draw(sector_rows(f"sector{i}", years, covered[i])) for i in range(n_sectors)]
    banking = draw(st.sampled_from([True, False]))
    scenario = {"name": "property", "base_year": FIRST_YEAR, "first_year": years[0], "last_year": years[-1],
                "discount_rate": draw(st.sampled_from([0.0, 0.05, 0.1])), "market.banking": banking,
                "market.initial_bank_mt": draw(st.sampled_from([0.0, 5.0])) if banking else 0.0}
    sectors = [sector for sector, _ in drawn]
    mac = [step for _, steps in drawn for step in steps]
    loose = [{"year": y, "national_cap_mt": 1e6} for y in years]
    p = derive_parameters(_dataset(scenario, sectors, mac, loose))
    least, bau = least_national_emissions(p), p.sector_years["bau_mt"].groupby(level="year").sum()
    fractions = np.array([draw(st.floats(0, 1.1)) for _ in years])
    if banking:  # targets that tighten over time make banking worth while
        fractions = np.sort(fractions)[::-1]
    caps = least + fractions * (bau.to_numpy() - least)
    return _dataset(scenario, sectors, mac, [{"year": y, "national_cap_mt": repr(float(c))} for y, c in zip(years, caps)])


def least_national_emissions(p) -> np.ndarray:
    """By year, the smallest national count the potentials allow: every step used in full,
    simulation-phase sectors counted at their rule caps (their allowances are issued)."""
    potential = p.steps["potential_mt"].groupby(level=["sector", "year"]).sum()
    table = p.sector_years.assign(potential_mt=potential.reindex(p.sector_years.index, fill_value=0.0))
    counted = np.where(table["phase"] == SIMULATION, table["rule_cap_mt"], table["bau_mt"] - table["potential_mt"])
    return pd.Series(counted, index=table.index).groupby(level="year").sum().to_numpy()


def _with_targets(dataset: Dataset, caps: np.ndarray) -> Dataset:
    targets = dataset.targets.copy()
    targets["national_cap_mt"] = caps
    return dataset.replace(targets=targets)


def _prices(results) -> pd.DataFrame:
    return results.years[PRICES].fillna(0.0)


@settings(max_examples=EXAMPLES["checks"], **PROPERTY_SETTINGS)
@given(feasible_datasets())
def test_every_check_passes(dataset):
    results = solve(dataset)  # raises if a check fails
    assert results.summary["status"] == "optimal"
    assert all(check["passed"] for check in results.summary["checks"].values())


@settings(max_examples=EXAMPLES["tighter"], **PROPERTY_SETTINGS)
@given(feasible_datasets(), st.floats(0.01, 1.0))
def test_tighter_target_never_lowers_price_or_cost(dataset, tightening):
    """Caps moved a share of the way towards the least possible emissions."""
    p = derive_parameters(dataset)
    caps = dataset.targets["national_cap_mt"].to_numpy()
    least = least_national_emissions(p)
    tighter = caps - tightening * np.maximum(caps - least, 0.0)
    base, tight = solve(dataset), solve(_with_targets(dataset, tighter))
    assert tight.summary["objective_bn_cny"] >= base.summary["objective_bn_cny"] * (1 - 1e-9) - 1e-9
    drop = _prices(base).to_numpy() - _prices(tight).to_numpy()
    assert (drop <= 1e-6 * np.maximum(1.0, np.abs(_prices(base).to_numpy()))).all()


@settings(max_examples=EXAMPLES["scaled"], **PROPERTY_SETTINGS)
@given(feasible_datasets(), st.floats(0.1, 10.0))
def test_costs_times_k_scale_prices_and_cost_by_k(dataset, k):
    mac = dataset.mac.copy()
    mac["cost_cny_per_t"] = mac["cost_cny_per_t"] * k
    base, scaled = solve(dataset), solve(dataset.replace(mac=mac))
    assert scaled.summary["objective_bn_cny"] == pytest.approx(k * base.summary["objective_bn_cny"], rel=1e-6, abs=1e-9)
    assert _prices(scaled).to_numpy() == pytest.approx(k * _prices(base).to_numpy(), rel=1e-6, abs=1e-6)
    own = [r.sector_years["own_price_cny_per_t"].fillna(0.0).to_numpy() for r in (base, scaled)]
    assert own[1] == pytest.approx(k * own[0], rel=1e-6, abs=1e-6)


TOY_FILES = ["scenario.toml", "sectors.csv", "mac.csv", "targets.csv"]
EDIT_TOKENS = [b"", b",", b"\n", b'"', b" ", b"\xff", b"\x00", b"-1", b"1e308", b"inf", b"nan", b"=",
               b"[", b"2100", b"true", b"power"]


@settings(max_examples=EXAMPLES["edits"], **PROPERTY_SETTINGS)
@given(st.lists(st.tuples(st.sampled_from(TOY_FILES), st.floats(0, 1), st.integers(0, 4),
                          st.sampled_from(EDIT_TOKENS)), min_size=1, max_size=3))
def test_random_edits_give_a_message_never_a_traceback(edits):
    """Bytes of the toy dataset replaced at random: the dataset loads (and solves, or is
    explained as infeasible) or fails with an InputError; nothing else escapes."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "toy"
        shutil.copytree(TOY, folder)
        for name, where, removed, token in edits:
            data = (folder / name).read_bytes()
            at = int(where * len(data))
            (folder / name).write_bytes(data[:at] + token + data[at + removed:])
        try:
            solve(load_dataset(folder))
        except EtscapError as err:
            assert str(err)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "power", "steel", "cement"]),
                          st.sampled_from([np.nan, 2025.0, 2026.0, 2030.0]),
                          st.sampled_from(["A", "B", None])), max_size=25))
def test_repeated_keys_are_the_rows_a_key_of_an_earlier_row_repeats(rows):
    """A row is refused when every cell of its key is given and an earlier row has the same key:
    the rows ``DataFrame.duplicated`` marks (keep the first), less those with a blank key cell;
    for keys of one, two and three columns, with blanks (None, NaN) among text and years."""
    table = pd.DataFrame(rows or None, columns=["sector", "year", "step"])
    for key in (["sector"], ["year"], ["sector", "year"], ["sector", "year", "step"]):
        expected = table.duplicated(subset=key, keep="first") & table[key].notna().all(axis=1)
        problems = repeated_keys("cap_rules.csv", table, key)
        assert [problem.row for problem in problems] == [int(row) for row in table.index[expected.to_numpy()]]
        assert all(problem.column == key[-1] for problem in problems)


def test_repeated_keys_by_hand():
    """Rows 0-4 of (sector, year): power 2025, power 2026, power 2025 (a repeat of row 0), then
    twice a blank sector in 2025 (not a repeat: a blank cell is no key): row 2 alone, shown by its
    key (the rows are the table's index: a file's, as a spreadsheet counts them)."""
    table = pd.DataFrame({"sector": ["power", "power", "power", None, None], "year": [2025, 2026, 2025, 2025, 2025]})
    problems = repeated_keys("bau.csv", table, ["sector", "year"])
    assert [(problem.row, problem.column, problem.found) for problem in problems] == [(2, "year", "power / 2025")]
