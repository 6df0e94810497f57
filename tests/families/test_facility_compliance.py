"""facility_compliance on the toy with a registry (steel: s1 25, s2 15, s3 10 Mt) at
facility resolution without pooling: each steel installation emits within its share of
the 2025 rule cap (94% of its BAU); its dual is the installation's own price."""


import pytest

from model import solve
from tests.conftest import toy_with_registry
from tests.families.helpers import price_by_perturbing, rows_of, toy_parameters

UNPOOLED = {"model.resolution": "facility", "model.pool_installations": "false"}


@pytest.fixture(scope="module")
def registry_toy(tmp_path_factory):
    return toy_with_registry(tmp_path_factory.mktemp("families") / "toy")


def test_rows(registry_toy):
    rows = rows_of(toy_parameters(UNPOOLED, folder=registry_toy), "facility_compliance")
    assert list(rows) == [("s1", 2025), ("s2", 2025), ("s3", 2025)]
    assert [r["upper"] for r in rows.values()] == pytest.approx([23.5, 14.1, 9.4])
    assert rows[("s1", 2025)] == {"constant": 25.0, "lower": None, "upper": pytest.approx(23.5), "coefs": {
        "facility_abatement_mt[('s1', 'A', 2025)]": -1.0, "facility_abatement_mt[('s1', 'B', 2025)]": -1.0}}


def test_no_rows_at_sector_resolution():
    assert rows_of(toy_parameters(), "facility_compliance") == {}


def test_dual_is_the_installation_price(registry_toy):
    """s1 abates 1.5 Mt with step A (20 CNY/t, 2.5 Mt potential): its own price is 20."""
    facilities = solve(registry_toy, overrides=UNPOOLED).facilities.set_index(["facility_id", "year"])
    assert facilities.loc[("s1", 2025), "price_cny_per_t"] == pytest.approx(20.0)
    assert facilities.loc[("s1", 2025), "emissions_mt"] == pytest.approx(23.5)
    p = toy_parameters(UNPOOLED, folder=registry_toy)
    assert price_by_perturbing(p, "facility_compliance", ("s1", 2025)) == pytest.approx(20.0)


def test_the_check_refuses_installation_caps_that_do_not_share_out_the_rule_cap(registry_toy):
    """Steel's 2025 rule cap of 47 Mt is shared out as free allowances 23.5 + 14.1 + 9.4 (s1's
    binds: it emits 23.5). Free allowances reported 10% higher (what installation caps at 1.1 x
    their shares of the rule cap give: 25.85 + 15.51 + 10.34 = 51.7 Mt) leave every installation
    within its free allowances and steel within its rule cap, so only the sharing-out can tell:
    facility_compliance fails by 51.7 - 47 = 4.7 Mt, every other check holds."""
    from model.results.checks import run_checks

    results = solve(registry_toy, overrides=UNPOOLED)
    facilities = results.facilities.copy()
    simulation = (facilities["phase"] == "simulation").to_numpy()
    assert facilities.loc[simulation, "free_mt"].sum() == pytest.approx(47.0)
    report = run_checks(results.years, results.sector_years, results.abatement_steps, results.summary["market"],
                        facilities)
    assert all(check["passed"] for check in report.values())
    facilities.loc[simulation, "free_mt"] *= 1.1
    report = run_checks(results.years, results.sector_years, results.abatement_steps, results.summary["market"],
                        facilities)
    assert {name: check["worst_violation"] for name, check in report.items() if not check["passed"]} == {
        "facility_compliance": pytest.approx(4.7)}
