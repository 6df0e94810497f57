"""supply_adjustment on the toy, with banking, steel trading from 2025 (both sectors trade
every year: BAU 150 Mt a year; steps power A 20 Mt @10, steel A 5 @20, power B 30 @40,
steel B 10 @60), ETS caps fixed at 115, 70, 75 Mt, the national cap slack (1,000 Mt: rest
abates nothing), an initial bank of 60 Mt, and the rule upper 50, lower 20, intake rate
0.5, release 10 Mt from 2025.

By hand: the bank before 2025 is the initial 60 > 50, so 2025 is an intake year: 0.5 x 60
= 30 Mt go into the reserve, and 2025's supply is 115 + 60 - 30 = 145. A release adds 10 Mt
to a year after the bank fell to 20 or below; holding the bank there costs only shifting
abatement in time, so the least cost takes both: the bank after 2025 is 145 - (150 - a25)
<= 20, so 2025 abates at most 25 (power A and steel A), which it does (bank 20, at the
threshold); 2026 and 2027 then have 70 + 10 + 20 and 75 + 10 allowances: 2026 + 2027
abate 300 - 185 = 115, 55 in 2026 (A steps and power B) and 60 in 2027 (steel B's 5 where
it is cheapest in present value); the bank after 2026 is 20 + 80 - 95 = 5 (< 20: 2027
releases too). Regimes: intake, release, release; the reserve 30, 20, 10 Mt. Cost (m CNY,
present value): 2025 200 + 100 = 300; 2026 1,500 / 1.1 = 1,363.636; 2027 (1,500 + 5 x 60)
/ 1.21 = 1,487.603: 3.151240 bn. Prices: 60 in 2027 (steel B at the margin), 60 / 1.1 =
54.545 in 2026 (banked into 2027, no threshold binding); in 2025 the bank is held at the
threshold, so any price from 20 (steel A, used) to 40 (power B, unused) clears it."""

import shutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from model import EtscapError, load_dataset, solve
from model.families.supply_adjustment import supply_adjustment
from tests.conftest import TOY
from tests.families.helpers import discount

RULE = {"upper_mt": 50.0, "lower_mt": 20.0, "intake_rate": 0.5, "release_mt": 10.0, "first_year": 2025}


def adjusted_toy(rule=RULE, caps=(115.0, 70.0, 75.0), initial_bank=60.0, banking=True):
    dataset = load_dataset(TOY)
    sectors = dataset.sectors.copy()
    sectors.loc[sectors["sector"] == "steel", "trading_from"] = 2025
    targets = dataset.targets.iloc[[0, 0, 0]].reset_index(drop=True).assign(
        year=[2025, 2026, 2027], national_cap_mt=1000.0, ets_cap_mt=list(caps))
    settings_ = {**dataset.settings, "market.banking": banking, "market.initial_bank_mt": initial_bank,
                 **{f"market.supply_adjustment.{name}": value for name, value in rule.items()}}
    return dataset.replace(sectors=sectors, targets=targets, settings=settings_)


def failed(results):
    return [name for name, check in results.summary["checks"].items() if not check["passed"]]


def test_intake_then_releases_by_hand():
    """The module docstring's case: regimes, flows, the reserve, bank, cost and prices."""
    results = solve(adjusted_toy(), allocation=False)
    years = results.years.set_index("year")
    assert years["adjustment_regime"].tolist() == ["intake", "release", "release"]
    assert years["adjustment_intake_mt"].tolist() == pytest.approx([30.0, 0.0, 0.0], abs=1e-7)
    assert years["adjustment_release_mt"].tolist() == pytest.approx([0.0, 10.0, 10.0], abs=1e-7)
    assert years["adjustment_reserve_mt"].tolist() == pytest.approx([30.0, 20.0, 10.0], abs=1e-7)
    assert years["adjustment_supply_mt"].tolist() == pytest.approx([-30.0, 10.0, 10.0], abs=1e-7)
    assert years["bank_mt"].tolist() == pytest.approx([20.0, 5.0, 0.0], abs=1e-7)
    assert years["ets_emissions_mt"].tolist() == pytest.approx([125.0, 95.0, 90.0], abs=1e-7)
    cost_m = 300.0 + 1500.0 * discount(2026) + 1800.0 * discount(2027)
    assert results.summary["objective_bn_cny"] == pytest.approx(cost_m / 1e3, abs=1e-9)
    price = years["allowance_price_cny_per_t"]
    assert (price[2026], price[2027]) == pytest.approx((60.0 / 1.1, 60.0))
    assert 20.0 - 1e-6 <= price[2025] <= 40.0 + 1e-6
    assert "adjustment_invalidated_mt" not in years  # no invalidation level given
    assert failed(results) == []


def test_invalidation_leaves_the_reserve_short():
    """invalidate_above_mt = 15: of 2025's 30 Mt intake 15 are invalidated (reserve 15);
    2026 releases 10 (reserve 5), 2027 only the 5 left (reserve 0). 2027 then has 75 + 5 +
    5 = 85 allowances: it abates 65 (steel B in full), 600 instead of 300 m CNY there:
    cost 3.151240 + 300 / 1.21 / 1e3 = 3.399174 bn."""
    results = solve(adjusted_toy({**RULE, "invalidate_above_mt": 15.0}), allocation=False)
    years = results.years.set_index("year")
    assert years["adjustment_regime"].tolist() == ["intake", "release", "release"]
    assert years["adjustment_invalidated_mt"].tolist() == pytest.approx([15.0, 0.0, 0.0], abs=1e-7)
    assert years["adjustment_release_mt"].tolist() == pytest.approx([0.0, 10.0, 5.0], abs=1e-7)
    assert years["adjustment_reserve_mt"].tolist() == pytest.approx([15.0, 5.0, 0.0], abs=1e-7)
    cost_m = 300.0 + 1500.0 * discount(2026) + 2100.0 * discount(2027)
    assert results.summary["objective_bn_cny"] == pytest.approx(cost_m / 1e3, abs=1e-9)
    assert failed(results) == []


def test_withheld_allowances_leave_the_national_count():
    """The toy with banking, the national cap binding and the ETS caps chosen; from 2026 a
    rule with upper 1 withholds half the bank above it. Withheld allowances are not issued
    under the national target, so each year the ETS cap less the intake, plus rest's
    emissions, is the national cap (135 in 2027: 90 + 45 without the rule), the chosen cap
    rises by the intake and the least cost is the one without the rule."""
    dataset = load_dataset(TOY)
    banked = dataset.replace(settings={**dataset.settings, "market.banking": True})
    rule = {"upper_mt": 1.0, "lower_mt": 0.0, "intake_rate": 0.5, "release_mt": 0.0, "first_year": 2026}
    results = solve(banked.replace(settings={**banked.settings,
                                             **{f"market.supply_adjustment.{k}": v for k, v in rule.items()}}),
                    allocation=False)
    years = results.years.set_index("year")
    rest = results.sector_years.query("sector == 'rest'").set_index("year")["emissions_mt"]
    issued = years["ets_cap_mt"] + years["adjustment_supply_mt"] + rest
    assert issued.tolist() == pytest.approx(years["national_cap_mt"].tolist(), abs=1e-7)
    bank_before = np.r_[0.0, years["bank_mt"].to_numpy()[:-1]]
    expected_intake = np.where((years.index >= 2026) & (bank_before > 1.0), 0.5 * bank_before, 0.0)
    assert years["adjustment_intake_mt"].to_numpy() == pytest.approx(expected_intake, abs=1e-7)
    assert years["adjustment_reserve_mt"].iloc[-1] == pytest.approx(years["adjustment_intake_mt"].sum(), abs=1e-7)
    without = solve(banked, allocation=False).summary["objective_bn_cny"]
    assert results.summary["objective_bn_cny"] == pytest.approx(without, abs=1e-9)
    assert failed(results) == []


def test_the_check_fails_a_wrong_regime():
    """From the tables: 2027 labelled intake while the bank before it is 5 (below upper 50):
    45 Mt on the wrong side of the threshold. 2025 labelled neutral with its 30 Mt intake: the
    bank before it (60) is 10 above upper, and a neutral year takes in nothing: 30 Mt off."""
    results = solve(adjusted_toy(), allocation=False)
    market = results.summary["market"]
    years = results.years
    assert supply_adjustment(years, results.sector_years, results.abatement_steps, market) == pytest.approx(0.0,
                                                                                                          abs=1e-6)
    wrong_2027 = years.assign(adjustment_regime=["intake", "release", "intake"])
    assert supply_adjustment(wrong_2027, results.sector_years, results.abatement_steps, market) == pytest.approx(45.0)
    wrong_2025 = years.assign(adjustment_regime=["neutral", "release", "release"])
    assert supply_adjustment(wrong_2025, results.sector_years, results.abatement_steps, market) == pytest.approx(30.0)
    short = years.assign(adjustment_release_mt=[0.0, 10.0, 4.0])  # 2027 releases 4, not min(10, 20)
    assert supply_adjustment(short, results.sector_years, results.abatement_steps, market) == pytest.approx(6.0)


@settings(max_examples=12, deadline=None)
@given(upper=st.floats(5.0, 80.0), lower_share=st.floats(0.0, 0.95), rate=st.floats(0.05, 1.0),
       release=st.floats(0.0, 30.0), first_year=st.sampled_from([2025, 2026, 2027]))
def test_the_regime_found_satisfies_the_rule_every_year(upper, lower_share, rate, release, first_year):
    """Whatever the thresholds, the MIP's regimes follow the bank every year (the check
    passes), and without a release nothing leaves the reserve."""
    rule = {"upper_mt": upper, "lower_mt": lower_share * upper, "intake_rate": rate, "release_mt": release,
            "first_year": first_year}
    results = solve(adjusted_toy(rule, caps=(140.0, 110.0, 90.0)), allocation=False)
    assert results.summary["checks"]["supply_adjustment"]["passed"]
    years = results.years.set_index("year")
    assert (years.loc[years.index < first_year, "adjustment_regime"] == "").all()
    assert (years["adjustment_reserve_mt"] >= -1e-7).all()


@pytest.mark.parametrize(("rule", "banking", "message"), [
    ({"upper_mt": 50.0}, True, "market.supply_adjustment.lower_mt, market.supply_adjustment.intake_rate"),
    ({**RULE, "lower_mt": 50.0}, True, "lower_mt (50) must be below upper_mt (50)"),
    (RULE, False, "set market.banking = true"),
])
def test_incomplete_rules_are_refused(rule, banking, message):
    with pytest.raises(EtscapError, match=message.replace("(", r"\(").replace(")", r"\)")):
        solve(adjusted_toy(rule, banking=banking), allocation=False)


def test_the_rule_from_its_files(tmp_path):
    """[market.supply_adjustment] in scenario.toml as a user writes it, solved from the CLI:
    years.csv has the hand case's regimes. --set lowers the release to 4 Mt: holding the bank
    at 20 after 2025 no longer pays. By hand (present value, m CNY): releasing in 2026 and
    2027 leaves 298 allowances, 152 Mt to abate, 2025 at most 25 (300), 2026 62 (1,920 /
    1.1) and 2027 65 (2,100 / 1.21): 3,781.0; releasing in 2027 only (2026 neutral) leaves
    294, 156 Mt to abate at one present-value price of 40: 2025 46 (1,140), 2026 and 2027
    55 each (1,500 / 1.1 + 1,500 / 1.21): 3,743.3, the bank 41 (neutral) then 16 (< 20:
    release); no release at all needs 160 Mt. So the releases are 0, 0, 4."""
    import pandas as pd
    from click.testing import CliRunner

    from model.cli import cli

    folder = tmp_path / "toy"
    shutil.copytree(TOY, folder)
    sectors = (folder / "sectors.csv").read_text().replace("steel,2025,2026", "steel,2025,2025")
    (folder / "sectors.csv").write_text(sectors)
    (folder / "targets.csv").write_text("year,national_cap_mt,ets_cap_mt,min_auction_share,source\n"
                                        "2025,1000,115,0,illustrative\n2026,1000,70,0,illustrative\n"
                                        "2027,1000,75,0,illustrative\n")
    scenario = (folder / "scenario.toml").read_text().replace("banking = false", "banking = true")
    scenario = scenario.replace("initial_bank_mt = 0.0", "initial_bank_mt = 60.0")
    (folder / "scenario.toml").write_text(scenario + "\n[market.supply_adjustment]\nupper_mt = 50\nlower_mt = 20\n"
                                          "intake_rate = 0.5\nrelease_mt = 10\nfirst_year = 2025\n")
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["solve", str(folder), "--out", str(out)])
    assert run.exit_code == 0, run.output
    years = pd.read_csv(out / "years.csv")
    assert years["adjustment_regime"].tolist() == ["intake", "release", "release"]
    assert years["adjustment_reserve_mt"].tolist() == pytest.approx([30.0, 20.0, 10.0], abs=1e-6)
    run = CliRunner().invoke(cli, ["solve", str(folder), "--out", str(out), "--force",
                                   "--set", "market.supply_adjustment.release_mt=4"])
    assert run.exit_code == 0, run.output
    assert pd.read_csv(out / "years.csv")["adjustment_release_mt"].tolist() == pytest.approx([0.0, 0.0, 4.0],
                                                                                             abs=1e-6)


def test_the_supply_chart_shows_intake_and_releases():
    """The report's supply by source: the caps 115, 70, 75, the 30 Mt withheld in 2025 below
    zero and the 10 Mt released in 2026 and 2027 (the hand case)."""
    from tests.test_supply_report import bar_heights
    from model.report.plots import plot_supply_by_source

    heights = bar_heights(plot_supply_by_source(solve(adjusted_toy(), allocation=False)))
    assert heights["Cap (allowances issued)"] == pytest.approx([115.0, 70.0, 75.0])
    assert heights["Withheld by the supply adjustment"] == pytest.approx([-30.0, 0.0, 0.0], abs=1e-7)
    assert heights["Released by the supply adjustment"] == pytest.approx([0.0, 10.0, 10.0], abs=1e-7)


def test_the_national_target_check_counts_the_change_to_the_allowances_issued():
    """The rule declares adjustment_supply_mt as a change to the allowances issued
    (``changes_issued``), so the national-target check counts it with the ETS cap: with the
    national cap of 1000 Mt, raising 2026's adjustment_supply_mt until cap + change + outside
    emissions = 1000.5 Mt fails national_target by 0.5 Mt; without the change it passes."""
    from model.results.checks import run_checks
    from model.parameters.phases import OUTSIDE
    from model.families import changes_issued_columns

    assert changes_issued_columns() == ("adjustment_supply_mt",)
    results = solve(adjusted_toy(), allocation=False)
    years, sector_years = results.years.copy(), results.sector_years
    arguments = (sector_years, results.abatement_steps, results.summary["market"], results.facilities)
    assert run_checks(years, *arguments)["national_target"]["passed"]
    row = years.index[years["year"] == 2026][0]
    in_2026 = sector_years[sector_years["year"] == 2026]
    outside = in_2026.loc[in_2026["phase"] == OUTSIDE, "emissions_mt"].sum()
    years.loc[row, "adjustment_supply_mt"] = 1000.5 - years.loc[row, "ets_cap_mt"] - outside
    assert run_checks(years, *arguments)["national_target"]["worst_violation"] == pytest.approx(0.5, abs=1e-9)


def test_a_scripts_model_names_each_row_of_the_rule_by_its_kind_and_year():
    """A script that builds the model (``build_model``) finds the rule's rows as
    ``m.supply_adjustment[kind, year]``, the kinds as the module writes them (a misspelt kind,
    supply_adjustment.define_supply_adjustment_175, survived a mutation run)."""
    from model import build_model

    m = build_model(adjusted_toy())
    keys = list(m.supply_adjustment.keys())
    kinds = list(dict.fromkeys(kind for kind, _ in keys))
    assert kinds == ["above_if", "above_only_if", "below_if", "below_only_if", "intake_at_most", "intake_at_least",
                     "intake_only_above", "release_only_below", "release_within_reserve", "release_full",
                     "release_rest", "short_if", "short_only_if", "reserve_balance"]
    assert keys[:4] == [("above_if", 2025), ("above_if", 2026), ("above_if", 2027), ("above_only_if", 2025)]


def test_a_scripts_model_documents_each_variable_of_the_rule():
    """With invalidate_above_mt, a script's model (``build_model``) has the rule's eight
    variables, each documented in words and units as the module declares them (the doc of
    ``adjustment_invalidating`` in capitals, supply_adjustment.adjustment_variables_168,
    survived a mutation run)."""
    from model import build_model

    m = build_model(adjusted_toy({**RULE, "invalidate_above_mt": 15.0}))
    docs = {name: m.find_component(name).doc for name in (
        "adjustment_intake_mt", "adjustment_release_mt", "adjustment_reserve_mt", "adjustment_above",
        "adjustment_below", "adjustment_short", "adjustment_invalidated_mt", "adjustment_invalidating")}
    assert docs == {
        "adjustment_intake_mt": "allowances withheld into the reserve, Mt",
        "adjustment_release_mt": "allowances released from the reserve, Mt",
        "adjustment_reserve_mt": "the adjustment reserve at year end, Mt",
        "adjustment_above": "1: the bank before the year is above upper_mt",
        "adjustment_below": "1: the bank before the year is below lower_mt",
        "adjustment_short": "1: the reserve before the year is below release_mt",
        "adjustment_invalidated_mt": "reserve above invalidate_above_mt invalidated, Mt",
        "adjustment_invalidating": "1: the reserve would end the year above invalidate_above_mt"}


def test_the_check_by_hand_on_a_years_table():
    """upper 100, lower 20, intake 10%, release 5 Mt, from 2026, invalidation above 8 Mt. Banks
    brought in: 0 (2025, before the rule), 150, 120, 10. 2026 takes in 15 (reserve 15: 7
    invalidated, 8 kept), 2027 12 (8 + 12 = 20: 12 invalidated, 8 kept), 2028 releases
    min(5, 8) = 5 (reserve 3). That table passes; 2025's columns are not the rule's. Broken:
    2027 neutral with 120 brought in is 20 above upper_mt; an unknown regime is infinitely off;
    a reserve 1 Mt short in 2028 is 1 off, and the same Mt in 2025 (before the rule) nothing."""
    import numpy as np
    import pandas as pd

    from model.families.supply_adjustment import supply_adjustment

    rule = {"upper_mt": 100, "lower_mt": 20, "intake_rate": 0.1, "release_mt": 5, "from_year": 2026,
            "invalidate_above_mt": 8}
    market = {"supply_adjustment": rule, "initial_bank_mt": 0.0}
    years = pd.DataFrame({"year": [2025, 2026, 2027, 2028], "bank_mt": [150.0, 120.0, 10.0, 30.0],
                          "adjustment_regime": np.array(["", "intake", "intake", "release"], dtype=object),
                          "adjustment_intake_mt": [0.0, 15.0, 12.0, 0.0],
                          "adjustment_release_mt": [0.0, 0.0, 0.0, 5.0],
                          "adjustment_invalidated_mt": [0.0, 7.0, 12.0, 0.0],
                          "adjustment_reserve_mt": [50.0, 8.0, 8.0, 3.0],
                          "adjustment_supply_mt": [0.0, -15.0, -12.0, 5.0]})

    def off(**changes):
        table = years.copy()
        for name, (row, value) in changes.items():
            table.loc[row, name] = value
        return supply_adjustment(table, None, None, market)

    assert off() == pytest.approx(0.0, abs=1e-12)
    assert off(adjustment_regime=(2, "neutral")) == pytest.approx(20.0)
    assert off(adjustment_regime=(1, "bogus")) == np.inf
    assert off(adjustment_regime=(0, "bogus"), adjustment_intake_mt=(0, 9.0)) == 0.0  # before the rule
    assert off(adjustment_reserve_mt=(3, 2.0)) == pytest.approx(1.0)
    assert off(adjustment_supply_mt=(3, 4.5)) == pytest.approx(0.5)
    # 11 invalidated in 2027 where 12 are above the 8 Mt (reserve 9, adding up): 1 off
    assert off(adjustment_invalidated_mt=(2, 11.0), adjustment_reserve_mt=(2, 9.0)) == pytest.approx(1.0)
    assert supply_adjustment(years, None, None, {}) == 0.0
    assert supply_adjustment(years.drop(columns="adjustment_regime"), None, None, market) == 0.0
