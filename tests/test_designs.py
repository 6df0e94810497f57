"""Plan-then-realise by hand: the toy with steel outside the ETS and a 2025 national cap of
165 Mt. Planned on expected output, power (BAU 100 Mt, output 100 TWh; steps A 20% at 10 and
B 30% at 40 CNY/t) gets 75 Mt in 2025 (price 40); steel and rest (BAU 50 each) abate their
step A (5 Mt at 20 and 30). Then power's output and BAU are drawn 10% lower or higher."""

import pandas as pd
import pytest

from model import load_dataset
from model.studies.designs import compare_designs, plan, realise
from model.data.overrides import apply_overrides
from tests.conftest import TOY

INTENSITY = [{"sector": "power", "from_year": 2025, "basis": "intensity"}]
ABSOLUTE = [{"sector": "power", "from_year": 2025, "basis": "absolute"}]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    import shutil
    folder = tmp_path_factory.mktemp("designs") / "toy"
    shutil.copytree(TOY, folder)
    sectors = folder / "sectors.csv"
    sectors.write_text(sectors.read_text().replace("steel,2025,2026,", "steel,,,"))  # steel outside the ETS
    return apply_overrides(load_dataset(folder), {"targets.2025.national_cap_mt": 165})


def _drawn(dataset, factor):
    return apply_overrides(dataset, {"sectors.power.base_emissions_mt*": factor, "sectors.power.base_output*": factor})


def test_the_expected_draw_realises_the_plan(toy):
    planned = plan(toy, INTENSITY, "intensity")
    outcome = realise(planned, toy)
    assert outcome["objective_bn_cny"] == pytest.approx(planned.objective_bn_cny, rel=1e-9)
    year = outcome["years"].set_index("year").loc[2025]
    assert (year["ets_cap_mt"], year["allowance_price_cny_per_t"], year["miss_mt"]) == pytest.approx((75, 40, 0))


def test_intensity_keeps_the_price_absolute_keeps_emissions(toy):
    """Output 10% lower (BAU 90): intensity holds 0.75 t/MWh, so 67.5 Mt: cut 22.5 = A 18 + B
    4.5, still 40 CNY/t; absolute holds 75 Mt: cut 15 < A's 18, the price falls to A's 10."""
    low = _drawn(toy, 0.9)
    intensity = realise(plan(toy, INTENSITY, "intensity"), low)["years"].set_index("year").loc[2025]
    absolute = realise(plan(toy, ABSOLUTE, "absolute"), low)["years"].set_index("year").loc[2025]
    assert (intensity["allowance_price_cny_per_t"], intensity["ets_emissions_mt"]) == pytest.approx((40.0, 67.5))
    assert (absolute["allowance_price_cny_per_t"], absolute["ets_emissions_mt"]) == pytest.approx((10.0, 75.0))


def test_the_realised_market_honours_a_price_floor(toy):
    """A floor of 30 CNY/t in 2025, 10% of the cap auctioned (up to 7.5 of power's 75 Mt may go
    unsold). Planned on expected output the 2025 price is 40, above the floor: the plan and its
    expected draw are unchanged. Realised on output 10% lower, absolute holds 75 Mt: BAU 90
    needs a cut of 15, less than step A's 18 at 10 CNY/t, so without the floor the price is 10
    and power emits 75. With it the market uses all of A (emits 72, 3 Mt unsold) at the floor,
    30; the extra cost is 3 Mt x 10 CNY/t = 30 million CNY in 2025 (discount factor 1)."""
    auctioned = apply_overrides(toy, {"targets.*.min_auction_share": 0.1})
    floored = auctioned.replace(targets=auctioned.targets.assign(price_floor_cny_per_t=[30.0, float("nan")]))
    outcomes = {}
    for name, dataset in (("without", auctioned), ("with", floored)):
        planned = plan(dataset, ABSOLUTE, "absolute")
        assert planned.allowance_price_cny_per_t[0] == pytest.approx(40.0)
        assert realise(planned, dataset)["objective_bn_cny"] == pytest.approx(planned.objective_bn_cny, rel=1e-9)
        outcomes[name] = realise(planned, _drawn(dataset, 0.9))
    without, floor = (outcomes[name]["years"].set_index("year").loc[2025] for name in ("without", "with"))
    assert (without["allowance_price_cny_per_t"], without["ets_emissions_mt"]) == pytest.approx((10.0, 75.0))
    assert (floor["allowance_price_cny_per_t"], floor["ets_emissions_mt"]) == pytest.approx((30.0, 72.0))
    assert floor["ets_cap_mt"] == pytest.approx(75.0)  # the cap is held; the 3 Mt are withdrawn from it
    assert outcomes["with"]["objective_bn_cny"] - outcomes["without"]["objective_bn_cny"] == pytest.approx(0.030,
                                                                                                        abs=1e-12)


def test_compare_designs_counts_how_often_and_by_how_much_the_target_is_missed(toy):
    """Output 10% higher: intensity gives power 82.5 Mt, nationally 82.5 + 45 + 45 = 172.5
    against 165: a 7.5 Mt miss in one draw of three (mean 2.5); absolute misses nothing in
    2025 but its 2027 cap (50 Mt, power's full potential on 100) cannot be met on a BAU of
    110 (its steps abate at most half, leaving 55 Mt): that draw is infeasible."""
    draws = pd.DataFrame({"sectors.power.base_emissions_mt*": [1.0, 0.9, 1.1],
                          "sectors.power.base_output*": [1.0, 0.9, 1.1]})
    by_year, summary = compare_designs(toy, {"intensity": INTENSITY, "absolute": ABSOLUTE}, draws)
    first = summary[summary["year"] == 2025].set_index("design")
    assert first.loc["intensity", "miss_probability"] == pytest.approx(1 / 3)
    assert first.loc["intensity", "miss_mean_mt"] == pytest.approx(2.5)
    assert first.loc["intensity", ["price_p5", "price_p95"]].tolist() == pytest.approx([40.0, 40.0])
    assert first.loc["absolute", "infeasible_share"] == pytest.approx(1 / 3)
    assert first.loc["absolute", "price_mean"] == pytest.approx((40.0 + 10.0) / 2)
    assert set(by_year.loc[by_year["design"] == "absolute", "status"]) == {"optimal", "infeasible"}


@pytest.fixture(scope="module")
def without_output(tmp_path_factory):
    """The toy of this file with power's output not reported (its BAU is then the measure an
    intensity cap follows) and a covered cement sector of zero BAU, output not reported and
    no abatement steps; both under an intensity design from 2025."""
    import shutil
    folder = tmp_path_factory.mktemp("designs") / "toy"
    shutil.copytree(TOY, folder)
    sectors = folder / "sectors.csv"
    sectors.write_text(sectors.read_text().replace("steel,2025,2026,", "steel,,,")
                       .replace("power,2025,2025,100,100,TWh", "power,2025,2025,100,,")
                       + "cement,2025,2025,0,,,0,0,10,0,1,false,0,test\n")
    dataset = apply_overrides(load_dataset(folder), {"targets.2025.national_cap_mt": 165})
    rules = [{"sector": sector, "from_year": 2025, "basis": "intensity"} for sector in ("power", "cement")]
    return dataset, plan(dataset, rules, "intensity")


def _held(planned, drawn):
    from model.parameters.derive import derive_parameters
    from model.studies.designs import held_caps
    held, caps = held_caps(planned, derive_parameters(drawn.replace(cap_rules=planned.dataset.cap_rules)))
    return held.tolist(), caps


def test_an_intensity_cap_without_output_follows_bau(without_output):
    """Planned on BAU 100: power's caps are 75, 60 and 50 Mt (national caps 165, 150, 135 less
    steel's and rest's 45 + 45 after their step A); drawn on BAU 90 (power's BAU x 0.9, output
    not reported), the held caps are planned cap x 90 / 100: 67.5, 54 and 45 Mt. Cement's
    planned cap is 0 and stays 0."""
    dataset, planned = without_output
    assert planned.sector_cap_mt == pytest.approx([75.0, 60.0, 50.0, 0.0, 0.0, 0.0])
    held, caps = _held(planned, apply_overrides(dataset, {"sectors.power.base_emissions_mt*": 0.9}))
    assert held == [0, 1, 2, 3, 4, 5]  # power 2025-2027, cement 2025-2027
    assert caps == pytest.approx([67.5, 54.0, 45.0, 0.0, 0.0, 0.0])


def test_a_zero_bau_sector_is_held_without_a_warning(without_output):
    """Cement planned on a BAU of 0 has no ratio to follow: its cap is held at its planned
    0 Mt, drawn BAU 0 (0 / 0) or 2 Mt (2 / 0), with no division warning (a warning is an
    error here); power's held caps are those of its BAU x 0.9 (67.5, 54, 45 Mt)."""
    import warnings

    dataset, planned = without_output
    for cement in (0.0, 2.0):
        drawn = apply_overrides(dataset, {"sectors.power.base_emissions_mt*": 0.9,
                                          "sectors.cement.base_emissions_mt": cement})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            held, caps = _held(planned, drawn)
        assert held == [0, 1, 2, 3, 4, 5]
        assert caps == pytest.approx([67.5, 54.0, 45.0, 0.0, 0.0, 0.0])


def test_the_example_runs_on_the_default_dataset():
    """examples/intensity_vs_absolute.py with 2 draws: both designs, the milestone years."""
    import importlib.util

    from tests.conftest import ROOT
    path = ROOT / "examples" / "intensity_vs_absolute.py"
    spec = importlib.util.spec_from_file_location("intensity_vs_absolute", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    table = example.main(2)
    assert list(table.index) == [(design, year) for design in ("intensity to 2030", "absolute from 2027")
                                 for year in (2027, 2030, 2035)]
    assert (table["infeasible_share"] <= 1).all() and (table["expected_cost_bn_cny"] > 0).all()


DESIGN_STUDY = """dataset = "toy"
[design_comparison]
n = 3
seed = 7
years = [2025]
[design_comparison.designs]
"intensity" = [{sector = "power", from_year = 2025, basis = "intensity"}]
"absolute" = [{sector = "power", from_year = 2025, basis = "absolute"}]
[design_comparison.distributions]
"sectors.power.base_emissions_mt* sectors.power.base_output*" = {kind = "uniform", low = 0.85, high = 0.9}
"""


def test_design_comparison_command_end_to_end(tmp_path, toy):

    """run.py design-comparison on the toy of this file: three seeded draws of power's output
    and BAU together (uniform 0.85-0.9: BAU 85-90 Mt), so the intensity design keeps the price
    of 40 (cut 25 x f > step A's 20 x f) and the absolute one keeps power's 75 Mt at step A's
    10 (cut 10-15 Mt < A's 17-18). --force replaces the folder it wrote."""
    import json
    import shutil

    from click.testing import CliRunner

    from model.cli import cli
    from model.studies.designs import design_draws, read_design_study
    shutil.copytree(toy.path, tmp_path / "toy")
    (tmp_path / "toy" / "targets.csv").write_text(
        "year,national_cap_mt,min_auction_share,source\n2025,165,0,illustrative\n2027,135,0,illustrative\n")
    study = tmp_path / "designs.toml"
    study.write_text(DESIGN_STUDY)
    draws = design_draws(read_design_study(study))
    assert (draws.iloc[:, 0] == draws.iloc[:, 1]).all() and draws.iloc[:, 0].between(0.85, 0.9).all()
    result = CliRunner().invoke(cli, ["design-comparison", str(study), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "out" / "design_summary.csv").query("year == 2025").set_index("design")
    assert summary.loc["intensity", ["price_p5", "price_p95"]].tolist() == pytest.approx([40.0, 40.0])
    assert summary.loc["absolute", ["price_p5", "price_p95"]].tolist() == pytest.approx([10.0, 10.0])
    assert summary.loc["absolute", "ets_emissions_mean_mt"] == pytest.approx(75.0)
    again = CliRunner().invoke(cli, ["design-comparison", str(study), "--out", str(tmp_path / "out"), "--force"])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "out" / "designs.json").read_text())["kind"] == "design_comparison"
    refused = CliRunner().invoke(cli, ["design-comparison", str(study), "--out", str(tmp_path / "out")])
    assert refused.exit_code != 0 and "already exists" in refused.output


def test_a_bad_design_study_names_its_key(tmp_path):
    from model.studies.designs import read_design_study
    from model.errors import InputError
    study = tmp_path / "designs.toml"
    study.write_text(DESIGN_STUDY.replace("n = 3", "n = 0")
                     .replace('basis = "absolute"}', 'basis = "absolute", cap = 1}'))
    with pytest.raises(InputError) as caught:
        read_design_study(study)
    message = str(caught.value)
    assert "key design_comparison.n" in message and "from 1 to 100000" in message
    assert 'key design_comparison.designs."absolute"' in message and "cap" in message
    from model.data import schema
    assert ('key design_comparison.designs."absolute": found \'cap\', expected columns of cap_rules.csv: '
            + ", ".join(schema.CAP_RULES.by_name)) in message  # the columns a rule may have


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace('dataset = "toy"', 'dataset = 3\nouts = "x"'),
     "2 problems in the inputs:\n  {path}, key outs: found 'outs', expected dataset, out or [design_comparison]\n"
     "  {path}, key dataset: found '3', expected the dataset folder, relative to the study file"),
    (lambda t: 'dataset = "toy"\nouts = 1\ndesign_comparison = 1\n',
     "2 problems in the inputs:\n  {path}, key outs: found 'outs', expected dataset, out or [design_comparison]\n"
     "  {path}, key design_comparison: found '1', expected a [design_comparison] table with n, seed, designs and "
     "distributions"),
    (lambda t: t.replace('"intensity" = [{sector = "power", from_year = 2025, basis = "intensity"}]',
                         '"intensity" = "' + "x" * 100 + '"'),  # what was found is cut at 80 characters
     "{path}, key design_comparison.designs.\"intensity\": found '" + "x" * 80 + "', expected a list of "
     "cap_rules.csv rows as tables"),
    (lambda t: t.replace("seed = 7", "seed = -1\nseeds = 2").replace("years = [2025]", "years = 2025"),
     "3 problems in the inputs:\n"
     "  {path}, key design_comparison.seeds: found 'seeds', expected n, seed, years, [designs] or [distributions]\n"
     "  {path}, key design_comparison.seed: found '-1', expected a whole number from 0 to 4294967295\n"
     "  {path}, key design_comparison.years: found '2025', expected a list of years, e.g. [2027, 2030]"),
    (lambda t: t.replace("seed = 7", "seed = true").replace("n = 3", "n = 100001"),
     "2 problems in the inputs:\n"
     "  {path}, key design_comparison.n: found '100001', expected a whole number of draws from 1 to 100000\n"
     "  {path}, key design_comparison.seed: found 'True', expected a whole number from 0 to 4294967295"),
    (lambda t: t.replace('"intensity" = [{sector = "power", from_year = 2025, basis = "intensity"}]',
                         '"intensity" = 5'),
     "{path}, key design_comparison.designs.\"intensity\": found '5', expected a list of cap_rules.csv rows as tables"),
    (lambda t: t.split("[design_comparison.designs]")[0] + '[design_comparison.distributions]\n'
     '"x" = {kind = "uniform", low = 2, high = 1}\n"y" = {kind = "normal", mean = 1}\n',
     "3 problems in the inputs:\n"
     "  {path}, key design_comparison.designs: expected a table of NAME = [{sector = ..., from_year = ..., "
     "basis = ...}, ...]\n"
     "  {path}, key design_comparison.distributions.\"x\".high: found '1.0', expected at least low (2.0)\n"
     "  {path}, key design_comparison.distributions.\"y\".sd: expected a number of at least 0"),
    (lambda t: t.split("[design_comparison.distributions]")[0],
     "{path}, key design_comparison.distributions: expected a table of \"KEY [KEY ...]\" = { kind = ..., ... }"),
    (lambda t: t.replace('basis = "intensity"}]', 'basis = "intensity", cap = 1}]')
     .replace('"absolute" = [{sector = "power", from_year = 2025, basis = "absolute"}]', '"absolute" = 5'),
     "2 problems in the inputs:\n"  # a design with a stray column does not stop the next design's check
     "  {path}, key design_comparison.designs.\"intensity\": found 'cap', expected columns of cap_rules.csv: "
     "sector, from_year, basis, reduction, benchmark_t_per_unit, source\n"
     "  {path}, key design_comparison.designs.\"absolute\": found '5', expected a list of cap_rules.csv rows as "
     "tables"),
])
def test_each_design_study_problem_in_full(tmp_path, change, message):
    """A design_comparison file's problems, all in one message: each names the file and the
    key, what was found and what to write (a bad distribution's own words included)."""
    from model.errors import InputError
    from model.studies.designs import read_design_study
    study = tmp_path / "designs.toml"
    study.write_text(change(DESIGN_STUDY))
    with pytest.raises(InputError) as caught:
        read_design_study(study)
    assert str(caught.value) == message.replace("{path}", str(study))


def test_a_design_study_reads_its_designs_draws_and_paths(tmp_path):
    """The file of test_design_comparison_command_end_to_end, read: the dataset and out beside
    it, both designs' rules, one distribution for two keys drawn together, the years."""
    from model.studies.designs import read_design_study
    study = tmp_path / "sub" / "designs.toml"
    study.parent.mkdir()
    study.write_text(DESIGN_STUDY.replace('dataset = "toy"', 'dataset = "../toy"\nout = "out"'))
    read = read_design_study(study)
    assert (read.dataset, read.out, read.n, read.seed, read.years) == (tmp_path / "toy", tmp_path / "sub" / "out", 3,
                                                                       7, (2025,))
    assert read.designs == {"intensity": INTENSITY, "absolute": ABSOLUTE}
    (keys, spec), = read.distributions.items()
    assert keys == ("sectors.power.base_emissions_mt*", "sectors.power.base_output*")
    assert (spec.kind, spec.parameters) == ("uniform", {"low": 0.85, "high": 0.9})
    study.write_text(DESIGN_STUDY.replace('dataset = "toy"', 'dataset = "toy"\nout = ""'))
    assert read_design_study(study).out is None


def test_a_design_s_rules_become_a_cap_rules_table():
    """Rules given as rows are numbered as CSV rows from 2 (the header is row 1); a column not
    given takes its declared default (reduction 0, source blank), a benchmark not given stays
    blank; the types are those cap_rules.csv reads to."""
    from model.studies.designs import cap_rules_table
    table = cap_rules_table([{"sector": "power", "from_year": 2025, "basis": "intensity"},
                             {"sector": "steel", "from_year": 2027, "basis": "absolute", "reduction": 0.02,
                              "benchmark_t_per_unit": None}])
    assert (list(table.index), table.index.name) == ([2, 3], "row")
    assert table.columns.tolist() == ["sector", "from_year", "basis", "reduction", "benchmark_t_per_unit", "source"]
    assert table[["sector", "from_year", "basis", "reduction", "source"]].to_dict("list") == {
        "sector": ["power", "steel"], "from_year": [2025, 2027], "basis": ["intensity", "absolute"],
        "reduction": [0.0, 0.02], "source": ["", ""]}
    assert table["benchmark_t_per_unit"].isna().all()
    assert [str(t) for t in table.dtypes] == ["object", "Int64", "object", "float64", "float64", "object"]
    assert cap_rules_table(pd.DataFrame(table.reset_index(drop=True))).equals(table)  # a table is taken as it is


def test_the_realised_years_of_a_draw_10_percent_higher(toy):
    """Intensity held, power's output and BAU 10% higher (BAU 110): its caps are 75, 60, 50 x
    1.1 = 82.5, 66, 55 Mt, met at 40 CNY/t (step B at the margin; in 2027 all of A 22 and B
    33). Steel and rest keep their planned measures: 45 + 45 Mt in 2025-26; in 2027 the plan
    had steel also use 5 Mt of B (national 135 = power 50 + 85), so 40 + 45. National count
    172.5, 156, 140 against 165, 150, 135: missed by 7.5, 6 and 5 Mt. PV cost: 2025 power 22
    x 10 + 5.5 x 40, steel 5 x 20, rest 5 x 30 = 690 M; 2026 (220 + 22 x 40 + 250) / 1.1;
    2027 (220 + 33 x 40 + 100 + 5 x 60 + 150) / 1.21."""
    # a net-GHG target: 10 Mt of non-CO2 gases counted and 10 Mt of sinks deducted each year, the same count
    toy = apply_overrides(toy, {"targets.scope": "net_ghg", "targets.*.non_co2_mt": 10.0, "targets.*.sinks_mt": 10.0})
    planned = plan(toy, INTENSITY, "intensity")
    outcome = realise(planned, _drawn(toy, 1.1))
    years = outcome["years"]
    assert years.columns.tolist() == ["year", "allowance_price_cny_per_t", "ets_cap_mt", "ets_emissions_mt",
                                      "national_count_mt", "national_target_mt", "miss_mt"]
    assert years.to_dict("list") == {
        "year": [2025, 2026, 2027], "allowance_price_cny_per_t": pytest.approx([40.0, 40.0, 40.0]),
        "ets_cap_mt": pytest.approx([82.5, 66.0, 55.0]), "ets_emissions_mt": pytest.approx([82.5, 66.0, 55.0]),
        "national_count_mt": pytest.approx([172.5, 156.0, 140.0]),
        "national_target_mt": pytest.approx([165.0, 150.0, 135.0]), "miss_mt": pytest.approx([7.5, 6.0, 5.0])}
    assert outcome["objective_bn_cny"] == pytest.approx((690 + (220 + 880 + 250) / 1.1
                                                         + (220 + 1320 + 100 + 300 + 150) / 1.21) / 1e3)


def test_the_realised_national_target_is_the_tighter_of_absolute_and_intensity(tmp_path):
    """targets.csv with both: an absolute cap of 165 and 135 Mt (150 in 2026) and an intensity
    of 1.8 and 1.3 t/10,000 CNY on a GDP of 1,000 bn CNY, i.e. 180, 155 and 130 Mt. The tighter
    binds each year: 165, 150, 130 (absolute, absolute, intensity); the plan realised on its own
    dataset meets each, so no miss."""
    import shutil
    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    sectors = folder / "sectors.csv"
    sectors.write_text(sectors.read_text().replace("steel,2025,2026,", "steel,,,"))
    (folder / "targets.csv").write_text(
        "year,national_cap_mt,ets_cap_mt,min_auction_share,national_intensity_t_per_10k_cny,gdp_bn_cny,source\n"
        "2025,165,,0,1.8,1000,illustrative\n2027,135,,0,1.3,1000,illustrative\n")
    both = load_dataset(folder)
    years = realise(plan(both, INTENSITY, "intensity"), both)["years"]
    assert years["national_target_mt"].tolist() == pytest.approx([165.0, 150.0, 130.0])
    assert years["national_count_mt"].tolist() == pytest.approx([165.0, 150.0, 130.0])
    assert years["miss_mt"].tolist() == pytest.approx([0.0, 0.0, 0.0])


def test_a_draw_that_changes_the_plan_s_lp_is_refused_with_the_design_named(toy):
    """Steel traded from 2025 rather than never (it is outside the ETS here): the draw adds
    rows to the LP, so no held cap of the plan maps onto it; the user is told, with the
    project's error, which design and what a draw may change."""
    from model.errors import EtscapError
    planned = plan(toy, INTENSITY, "intensity")
    for call in (lambda: realise(planned, apply_overrides(toy, {"sectors.steel.covered_from": 2025,
                                                                 "sectors.steel.trading_from": 2025})),
                 lambda: compare_designs(toy, {"intensity": INTENSITY},
                                         pd.DataFrame({"sectors.steel.covered_from": [2025],
                                                       "sectors.steel.trading_from": [2025]}))):
        with pytest.raises(EtscapError) as refused:
            call()
        assert str(refused.value) == (
            "design 'intensity': a draw changes the rows or columns of its LP; a draw must change numbers only, "
            "not when a sector is covered or trades, the years or the rules (compare those as designs, not as draws)")


def test_a_design_study_takes_from_1_to_100000_draws(tmp_path):
    """read_design_study's bounds on n are inclusive: 1 and 100,000 draws are read, 0 and
    100,001 refused with the range in the message."""
    from model.errors import InputError
    from model.studies.designs import read_design_study

    study = tmp_path / "designs.toml"
    for n in (1, 100_000):
        study.write_text(DESIGN_STUDY.replace("n = 3", f"n = {n}"))
        assert read_design_study(study).n == n
    for n in (0, 100_001):
        study.write_text(DESIGN_STUDY.replace("n = 3", f"n = {n}"))
        with pytest.raises(InputError, match="a whole number of draws from 1 to 100000"):
            read_design_study(study)
