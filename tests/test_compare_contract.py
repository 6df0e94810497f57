"""compare's tables (model/studies/compare.py) whole: their columns in order, dtypes, rows and
numbers, for the toy against the toy with banking (and the toy again)."""

from __future__ import annotations

import numpy as np
import pytest

from model import EtscapError, compare, load_dataset, solve
from model.studies.compare import _changed_settings, headline_differences
from tests.conftest import TOY


@pytest.fixture(scope="module")
def three_runs():
    """The toy, the toy with banking, the toy again. Banking moves 5 Mt of cuts from 2027 to
    2026: power's B at 40 (+0.2 bn CNY in 2026), steel's B at 60 (-0.3 bn in 2027); PV
    0.2 / 1.1 - 0.3 / 1.21 = -0.0661 bn CNY, and 2027's price 40 x 1.1 = 44."""
    toy = solve(TOY)
    return compare([toy, solve(load_dataset(TOY, scenarios=["banking"])), toy])


def test_the_runs_table(three_runs):
    runs = three_runs.runs
    assert runs.columns.tolist() == ["run", "scenario", "named_scenarios", "status", "objective_bn_cny",
                                     "difference_bn_cny", "relative_difference"]
    assert runs.drop(columns=["objective_bn_cny", "difference_bn_cny", "relative_difference"]).to_dict("list") == {
        "run": ["toy (1)", "toy+banking", "toy (2)"], "scenario": ["toy"] * 3,
        "named_scenarios": ["", "banking", ""], "status": ["optimal"] * 3}
    assert runs["objective_bn_cny"].tolist() == pytest.approx([3.147024793, 3.080909091, 3.147024793])
    assert runs["difference_bn_cny"].tolist() == pytest.approx([0.0, 0.2 / 1.1 - 0.3 / 1.21, 0.0], abs=1e-12)
    assert runs["relative_difference"].tolist() == pytest.approx([0.0, (0.2 / 1.1 - 0.3 / 1.21) / 3.147024793, 0.0],
                                                                 abs=1e-9)


@pytest.mark.parametrize("table, keys", [("years", ["year"]), ("sector_years", ["sector", "year"])])
def test_a_difference_table_s_columns_order_and_types(three_runs, table, keys):
    """run, the keys, quantity, value, reference, difference, relative_difference; rows by run
    (in the order given), then quantity (alphabetical), then the keys; every numeric column of
    the table but no text one (phase, basis)."""
    tidy = getattr(three_runs, table)
    assert tidy.columns.tolist() == ["run", *keys, "quantity", "value", "reference", "difference",
                                     "relative_difference"]
    assert tidy.index.tolist() == list(range(len(tidy)))
    assert [str(tidy[c].dtype) for c in ("value", "reference", "difference", "relative_difference")] == ["float64"] * 4
    assert tidy["year"].dtype == np.int64
    source = getattr(three_runs.results["toy (1)"], table)
    numeric = sorted(c for c in source.columns if c not in keys and source[c].dtype.kind in "fiu")
    assert sorted(tidy["quantity"].unique()) == numeric and "phase" not in numeric
    per_run = len(numeric) * len(source)
    assert len(tidy) == 3 * per_run
    assert tidy["run"].tolist() == ["toy (1)"] * per_run + ["toy+banking"] * per_run + ["toy (2)"] * per_run
    first = tidy.iloc[:per_run]
    assert first["quantity"].tolist() == sorted(first["quantity"].tolist())
    assert first[[*keys, "quantity"]].equals(tidy.iloc[per_run:2 * per_run][[*keys, "quantity"]].reset_index(drop=True))
    assert (first["difference"].fillna(0.0) == 0.0).all()


def test_the_headline_differences(three_runs):
    """Price, ETS cap, emissions and cost in every year of the short horizon, each run's value
    and each run's difference from the first: banking's 2027 price 16 lower, 5 Mt more cut in
    2026 and 5 less in 2027, and the costs moved by +0.2 and -0.3 bn CNY."""
    table = headline_differences(three_runs)
    assert table.columns.tolist() == ["quantity", "year", "toy (1)", "toy+banking", "toy (2)",
                                      "toy+banking - toy (1)", "toy (2) - toy (1)"]
    assert table["quantity"].tolist() == [q for q in ("allowance_price_cny_per_t", "ets_cap_mt", "emissions_mt",
                                                      "abatement_cost_bn_cny") for _ in range(3)]
    assert table["year"].tolist() == [2025, 2026, 2027] * 4
    assert table["toy+banking"].tolist() == pytest.approx([40, 40, 44, 125, 107.5, 90, 170, 147.5, 140,
                                                           0.49, 1.35, 1.65])
    assert table["toy+banking - toy (1)"].tolist() == pytest.approx([0, 0, -16, 0, 0, 0, 0, -5, 5, 0, 0.2, -0.3],
                                                                     abs=1e-12)
    assert (table["toy (2) - toy (1)"] == 0).all()


def test_the_settings_that_differ_are_listed_as_json(three_runs):
    banking, toy = (three_runs.results[k].summary["settings"] for k in ("toy+banking", "toy (1)"))
    assert _changed_settings(banking, toy) == "market.banking = true"
    assert _changed_settings(toy, toy) == "-"
    # the name is no setting; a blank (None) is as if missing
    assert _changed_settings({"name": "other", "a": [1, "x"], "b": 2, "c": None}, {"name": "toy", "b": 1}) == (
        'a = [1, "x"], b = 2')


def test_compare_refuses_one_run_and_labels_that_do_not_match(three_runs):
    toy = three_runs.results["toy (1)"]
    with pytest.raises(EtscapError) as refused:
        compare([toy])
    assert str(refused.value) == ("compare needs at least two results to compare, got 1: give two or more results "
                                  "folders (python run.py solve writes one)")
    with pytest.raises(EtscapError) as refused:
        compare([toy, toy], labels=["a", "b", "c"])
    assert str(refused.value) == "compare: 3 labels for 2 runs: give one label per run"
    assert compare([toy, toy], labels=["a", "a"]).labels == ["a (1)", "a (2)"]
    assert compare([toy, toy], labels=["a", "b"]).runs["run"].tolist() == ["a", "b"]


def test_labels_relative_differences_and_sheet_names():
    from model.studies.compare import _distinct, _label, _relative, _sheet_name

    assert _distinct(["a", "b", "a", "c", "a"]) == ["a (1)", "b", "a (2)", "c", "a (3)"]
    assert _distinct(["a", "b"]) == ["a", "b"]
    assert _relative(np.array([1.0, 2.0, 3.0, -4.0, 5.0]), np.array([0.0, np.nan, -2.0, 8.0, 1e-13])).tolist() == \
        pytest.approx([np.nan, np.nan, 1.5, -0.5, np.nan], nan_ok=True)  # against |reference|; none for ~0 or blank
    assert _sheet_name("years 1 a/b:c[d]*e?f\\g and more than thirty-one") == "years 1 a_b_c_d__e_f_g and more"
    assert len(_sheet_name("x" * 40)) == 31
    assert _label("results/china-banking/", None) == "china-banking"
