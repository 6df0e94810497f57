"""The checks (model/results/checks.py and the families' checks) on tables a script hands to
``run_checks``: what each reads, at the edges the solved toy does not reach by itself."""

from __future__ import annotations

import pytest

from model.results.checks import run_checks
from tests.test_check_terms import _report, _set, _tables, toy_bases  # noqa: F401 (a fixture)


def test_a_negative_price_counts_as_zero_for_hotelling_under_sector_bank_limits(toy_bases):  # noqa: F811
    """Under sector bank limits (power 2, steel 1 Mt: 3 Mt banked in 2026 at 40, both limits
    binding) a bank is never worth less than nothing to a holder who may cancel it: a price of
    -10 in 2027 counts as 0. 2026's 40 should rise at most to 40 x 1.1 = 44, never more slowly:
    too slow by (44 - 0) / 44 = 1.0 (were -10 taken as it is: (44 + 10) / 44 = 1.227)."""
    tables = _tables(toy_bases, "toy_bases")
    assert tables["market"]["sector_bank_limits"]
    assert tables["years"]["bank_mt"].tolist() == pytest.approx([0.0, 3.0, 0.0], abs=1e-9)
    _set(tables["years"], "allowance_price_cny_per_t", -10.0, year=2027)
    assert _report(tables)["hotelling"] == {"passed": False, "worst_violation": pytest.approx(1.0),
                                            "unit": "relative"}
    # the same tables without sector limits: a negative price is taken as it is
    tables["market"]["sector_bank_limits"] = {}
    assert _report(tables)["hotelling"]["worst_violation"] == pytest.approx(54 / 44)


def test_the_checks_read_a_price_column_of_text_as_numbers(toy_results):
    """A script's years table whose price column is text (as ``pd.read_csv(..., dtype=str)``
    gives) or Python objects is checked as the numbers it holds: the toy's report, every check
    passed with the same worst violations."""
    tables = (toy_results.years, toy_results.sector_years, toy_results.abatement_steps)
    market = toy_results.summary["market"]
    reference = run_checks(*tables, market, toy_results.facilities)
    assert all(check["passed"] for check in reference.values()) and "market_clearing" in reference
    for dtype in (str, object):
        years = toy_results.years.copy()
        years["allowance_price_cny_per_t"] = years["allowance_price_cny_per_t"].astype(dtype)
        assert run_checks(years, *tables[1:], market, toy_results.facilities) == reference


POLICY = ["national_count", "sector_compliance", "market_clearing", "national_target", "market_balance",
          "abatement_within_potential", "emissions_add_up", "equal_marginal_cost", "hotelling", "allocation_bounds"]
FAMILY_CHECKS = ["cap_split", "simulation_compliance", "facility_compliance", "bank_limits", "offset_limit",
                 "price_ceiling", "price_floor", "reserve_release", "supply_adjustment", "cap_rules",
                 "deployment_limits"]
STAGE2 = ["stage2_keeps_stage1", "stage2_cost_within_tolerance", "stage2_at_its_optimum"]


def test_the_checks_run_in_the_report_s_order(toy_results):
    """The policy-wide checks, then each family's own (in the families' order, a check shared
    by families once), then stage 2's; without equilibrium no equal marginal cost; the toy's
    summary (stage 2 too) lists them so, each passed, with its unit."""
    from model.families import FAMILIES
    from model.results.checks import checks_of

    assert [c.name for c in checks_of()] == POLICY + FAMILY_CHECKS
    assert [c.name for c in checks_of(stage2=True)] == POLICY + FAMILY_CHECKS + STAGE2
    assert [c.name for c in checks_of(equilibrium=False)] == [c for c in POLICY if c != "equal_marginal_cost"] + \
        FAMILY_CHECKS
    assert [c.name for c in checks_of(families=[])] == POLICY
    assert [c.name for c in checks_of(families=list(reversed(FAMILIES)))][len(POLICY):] == list(
        dict.fromkeys(f.check.name for f in reversed(FAMILIES) if f.check.name not in POLICY))
    report = toy_results.summary["checks"]
    assert list(report) == POLICY + FAMILY_CHECKS + STAGE2  # solved with its allocation stage
    relative = {"equal_marginal_cost", "hotelling", "price_ceiling", "price_floor", "stage2_cost_within_tolerance",
                "stage2_at_its_optimum"}
    assert {name: (r["passed"], r["unit"]) for name, r in report.items()} == {
        name: (True, "relative" if name in relative else "Mt") for name in report}


def test_failed_checks_are_named_with_their_worst_violation():
    from model.results.checks import failed

    assert failed({"a": {"passed": True, "worst_violation": 0.0, "unit": "Mt"},
                   "hotelling": {"passed": False, "worst_violation": 0.123456, "unit": "relative"},
                   "market_balance": {"passed": False, "worst_violation": 1234.5, "unit": "Mt"}}) == [
        "hotelling (worst violation 0.123 relative)", "market_balance (worst violation 1.23e+03 Mt)"]
