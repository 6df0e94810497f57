"""national_target on the toy: ETS cap + outside emissions (rest: BAU 50 - its abatement)
<= the national cap (170, 152.5, 135 Mt); its dual is the national carbon value."""

import pytest

from tests.families.helpers import price_by_perturbing, rows_of, toy_parameters, toy_results


def test_rows():
    rows = rows_of(toy_parameters(), "national_target")
    assert list(rows) == [2025, 2026, 2027]
    assert [r["upper"] for r in rows.values()] == [170.0, 152.5, 135.0]
    assert rows[2026] == {"constant": 50.0, "lower": None, "upper": 152.5, "coefs": {
        "ets_cap_mt[2026]": 1.0, "abatement_mt[('rest', 'A', 2026)]": -1.0, "abatement_mt[('rest', 'B', 2026)]": -1.0}}


def test_dual_is_the_national_carbon_value():
    """0.01 Mt more national cap in 2027 saves 60 CNY/t (year-2027 money), in 2026 40: the
    values the years table reports, the cost of the marginal steps (steel B at 60 in
    2027, power B at 40 in 2026; rest abates its step A at 30 fully, B at 80 not at all)."""
    values = toy_results().years.set_index("year")["national_carbon_value_cny_per_t"]
    assert values.tolist() == pytest.approx([40.0, 40.0, 60.0])
    assert price_by_perturbing(toy_parameters(), "national_target", 2027) == pytest.approx(60.0)
    assert price_by_perturbing(toy_parameters(), "national_target", 2026) == pytest.approx(40.0)


def _toy_targets(folder, lines, scope="co2"):
    """A copy of the toy with its targets.csv replaced by ``lines`` (and [targets] scope)."""
    import shutil

    from tests.conftest import TOY
    target = folder / "toy"
    shutil.copytree(TOY, target)
    (target / "targets.csv").write_text(
        "year,national_cap_mt,national_intensity_t_per_10k_cny,gdp_bn_cny,non_co2_mt,sinks_mt,min_auction_share,"
        "source\n" + "".join(f"{line},0,illustrative\n" for line in lines))
    if scope != "co2":
        with (target / "scenario.toml").open("a") as handle:
            handle.write(f'\n[targets]\nscope = "{scope}"\n')
    return target


def test_an_intensity_target_with_gdp_growth(tmp_path):
    """2025: 1.0 t/10,000 CNY x 1,700 bn CNY / 10 = 170 Mt (no absolute cap); 2027: the
    absolute 135 Mt and 0.9 x 1,600 / 10 = 144, the tighter binds; 2026, between: intensity
    0.95 x GDP 1,650 / 10 = 156.75 (no absolute cap between a blank row and 135). BAU 200 Mt
    less steel's own 3 Mt is above every cap, so national emissions equal it."""
    from model import solve
    folder = _toy_targets(tmp_path, ["2025,,1.0,1700,,", "2027,135,0.9,1600,,"])
    results = solve(folder)
    years = results.years.set_index("year")
    assert years["intensity_target_mt"].tolist() == pytest.approx([170.0, 156.75, 144.0])
    assert years["national_cap_mt"].tolist() == pytest.approx([170.0, 156.75, 135.0])
    assert years["emissions_mt"].tolist() == pytest.approx([170.0, 156.75, 135.0])
    grown = solve(folder, overrides={"targets.2025.gdp_bn_cny": 1870})  # GDP +10%: the cap moves with it
    assert grown.years.set_index("year").loc[2025, "emissions_mt"] == pytest.approx(187.0)


def test_a_net_ghg_target_with_sinks(tmp_path):
    """Net GHG within 170 Mt with 20 Mt of non-CO2 and 30 Mt of sinks: the model's CO2 may be
    170 - 20 + 30 = 180 Mt (BAU 197 after steel's own cut is above it); the national_count
    check counts the same from the years table, and fails by 30 Mt if the sinks are dropped."""
    from model import solve
    from model.results.checks import run_checks
    folder = _toy_targets(tmp_path, ["2025,170,,,20,30", "2027,135,,,20,30"], scope="net_ghg")
    results = solve(folder)
    years = results.years.set_index("year")
    assert years.loc[2025, "emissions_mt"] == pytest.approx(180.0)
    assert years.loc[2025, "national_cap_mt"] == pytest.approx(180.0)
    wrong = results.years.copy()
    wrong.loc[wrong["year"] == 2025, "sinks_mt"] = 0.0
    report = run_checks(wrong, results.sector_years, results.abatement_steps, results.summary["market"])
    assert report["national_count"]["worst_violation"] == pytest.approx(30.0)


def test_non_co2_under_a_co2_scope_is_refused(tmp_path):
    from model.errors import InputError
    from model.data.inputs import load_dataset
    with pytest.raises(InputError, match=r"targets.csv.*row 2.*non_co2_mt.*scope = 'net_ghg'"):
        load_dataset(_toy_targets(tmp_path, ["2025,170,,,20,", "2027,135,,,,"]))


def test_a_year_without_any_target_is_refused(tmp_path):
    from model.errors import InputError
    from model.data.inputs import load_dataset
    with pytest.raises(InputError, match=r"targets.csv.*row 3.*national_cap_mt"):
        load_dataset(_toy_targets(tmp_path, ["2025,170,,,,", "2027,,,,,"]))
