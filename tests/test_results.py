"""Result tables, summary, and writing folders safely."""

from __future__ import annotations

import json

import pytest

from model import EtscapError, Results, solve
from model.results.tables import write_folder


def test_tables_have_the_promised_columns(toy_results):
    assert list(toy_results.years.columns)[:1] == ["year"]
    for column in ("ets_cap_mt", "bank_mt", "allowance_price_cny_per_t", "national_carbon_value_cny_per_t",
                   "emissions_mt", "ets_emissions_mt", "abatement_cost_bn_cny"):
        assert column in toy_results.years.columns
    assert list(toy_results.sector_years.columns) == [
        "sector", "year", "phase", "bau_mt", "emissions_mt", "abatement_mt", "cap_mt",
        "free_mt", "free_share", "auctioned_mt", "net_purchase_mt", "abatement_cost_bn_cny",
        "burden_bn_cny", "burden_share_of_value_added", "marginal_cost_cny_per_t", "own_price_cny_per_t",
        "rule_cap_mt", "implied_benchmark_t_per_unit", "basis", "cap_reduction", "benchmark_t_per_unit",
        "free_share_min", "free_share_max",
    ]
    for column in ("auction_revenue_bn_cny", "free_allocation_mt", "min_auction_share"):
        assert column in toy_results.years.columns


def test_summary(toy_results):
    summary = toy_results.summary
    assert summary["status"] == "optimal"
    assert summary["solver"] == "highs" and summary["solver_version"]
    assert len(summary["inputs_sha256"]) == 64
    assert all(check["passed"] for check in summary["checks"].values())
    assert {"pyomo", "highspy", "pandas"} <= set(summary["versions"])
    assert summary["settings"]["name"] == "toy" and summary["settings"]["discount_rate"] == 0.1
    assert summary["settings"]["market.banking"] is False


def test_write_and_read_back(tmp_path, toy_results):
    out = toy_results.write(tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == [
        "abatement_steps.csv", "sector_years.csv", "summary.json", "years.csv"]
    again = Results.read(out)
    assert again.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 60])
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"


def test_existing_folder_needs_force(tmp_path, toy_results):
    out = toy_results.write(tmp_path / "out")
    with pytest.raises(EtscapError, match="already exists: pass --force"):
        toy_results.write(out)
    toy_results.write(out, force=True)
    assert (out / "years.csv").is_file()


def test_interrupted_write_keeps_previous_results(tmp_path, toy_results):
    out = toy_results.write(tmp_path / "out")
    before = (out / "years.csv").read_bytes()

    def crash(folder):
        (folder / "years.csv").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_folder(out, crash, force=True)
    assert (out / "years.csv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left behind


def test_same_inputs_give_identical_files(tmp_path, toy_path):
    first = solve(toy_path).write(tmp_path / "a")
    second = solve(toy_path).write(tmp_path / "b")
    for name in ("years.csv", "sector_years.csv", "abatement_steps.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_the_toy_checksum_stays_as_recorded(toy_path):
    """The toy's inputs_sha256 as main recorded it (its seven empty tables, hashed without
    reading their cells, included): a study folder or results written before resume or
    compare by it, so a faster hash must give the same digest."""
    from model import load_dataset

    assert load_dataset(toy_path).sha256 == "62917330d27522804c2142b6c4dea7260aafe6183bf45a3032f4b98ac7b82da5"


def test_stale_results_folder_is_recognisable(tmp_path, toy_path):
    """summary.json records the inputs' checksum: it changes with any input value (a file
    edit or an override) and not with how a number is written."""
    import shutil

    from model import load_dataset

    dataset = tmp_path / "toy"
    shutil.copytree(toy_path, dataset)
    out = solve(dataset).write(tmp_path / "out")
    recorded = Results.read(out).summary["inputs_sha256"]
    assert recorded == load_dataset(dataset).sha256
    mac = dataset / "mac.csv"
    mac.write_text(mac.read_text().replace("power,B,0.3,40,", "power,B,0.30,40.0,"))
    assert load_dataset(dataset).sha256 == recorded
    assert solve(dataset, overrides={"discount_rate": 0.05}).summary["inputs_sha256"] != recorded
    mac.write_text(mac.read_text().replace("power,B,0.30,40.0,", "power,B,0.3,41,"))
    assert load_dataset(dataset).sha256 != recorded


def test_versions_come_from_the_dist_info_folder_names():
    """The summary's versions are read from the ``NAME-VERSION.dist-info`` folder names (reading
    each METADATA through importlib.metadata took ~20 ms a run) and equal what importlib.metadata
    says. The folder names end in "dist-info", whose own hyphen once made every name fail the
    one-hyphen test, so that importlib.metadata answered every time."""
    from importlib import metadata

    from model.results.tables import _versions_from_dist_info

    found = _versions_from_dist_info()
    for package in ("pyomo", "highspy", "pandas", "numpy", "click"):
        assert found[package] == metadata.version(package)
