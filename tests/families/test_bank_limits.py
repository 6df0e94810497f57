"""bank_limits on the toy with banking (power trades 2025-27, steel 2026-27, discount 10%).

Unlimited, 5 Mt are banked from 2026 to 2027 at 40 and 44 CNY/t (test_bank). The cases by
hand, with trading BAU 150 Mt a year, trading caps 107.5 (2026) and 90 (2027), steps power
A 20 Mt at 10 and B 30 at 40, steel A 5 at 20 and B 10 at 60 each year:

- banks limited to 2 (power) + 1 (steel): 3 Mt banked; 2027 needs 150 - 90 - 3 = 57 Mt of
  abatement: power A+B 50, steel A 5 and 2 of steel B, so the 2027 price is 60; 2026 abates
  150 - 107.5 + 3 = 45.5: power A 20, steel A 5, 20.5 of power B at 40. Least cost (M CNY):
  2025 490 + (1120 + 150) / 1.1 + (1620 + 150) / 1.21 = 3107.355.
- power's bank at most 0.2 x its net sales, steel (a net buyer) its base of 1: steel buys
  35.833 - 45 - 1 = -10.1667, so power sells 10.1667 and banks 2.0333. Power abates on to 40
  though the 2026 price p is below: a tonne it abates is sold (p) and earns 0.2 t of bank
  worth 60 / 1.1, split 1:0.2, so (p + 0.2 x 54.545) / 1.2 = 40 and p = 37.0909.
- an initial bank of 30 Mt with the caps fixed (125, 107.5, 90): in 2025 power holds
  78 + 30 = 108 against BAU 100 at a zero price, may bank 2: 6 Mt are cancelled.
- free disposal: with the sales limits and the caps fixed at 200 (national cap 300), 145 and
  90, power trades alone in 2025 and holds 200 - 47 (steel's rule cap, 0.94 x 50) = 153
  against BAU 100: 53 Mt spare. It sells x to entities that cancel them, banking 0.2 x:
  1.2 x = 53, x = 44.1667, bank 8.8333, at a price of 0 (a seller with nobody to sell to
  had a price of -0.2 x 10 / 1.1 = -1.8182 before). In 2026 power holds 2/3 x 145 + 8.8333
  - 100 = 5.5 spare, steel 1/3 x 145 - 50 = -1.6667 and buys 2.6667 (banking its base of
  1); power sells n with 1.2 n = 5.5, n = 4.5833 (of which 1.9167 for cancellation) and
  banks 0.9167: the bank is 1.9167 at a zero price (a tonne abated at 10 banks 1/1.2 x 0.2
  = 1/6 t, worth 60 / 1.1 / 6 = 9.09 < 10). 2027 abates 150 - 90 - 1.9167 = 58.0833: power
  A+B 50, steel A 5 and 3.0833 of steel B at 60.
- sales between power's entities of 5 Mt a year (intra_sector_sales_mt) under the sales
  limits: power's limit is 0.2 x (5 + 10.1667) = 3.0333, steel banks its base of 1: the
  bank is 4.0333 (3.0333 without them), the prices as with the sales limits alone (40,
  37.0909, 60: 2027 abates 150 - 90 - 4.0333 = 55.9667, steel B at 60 at the margin).
"""

import numpy as np
import pytest

from model import build_model, solve
from model.data.inputs import load_dataset
from model.data.overrides import apply_overrides
from model.results.checks import run_checks
from model.families import bank_limits
from tests.conftest import TOY
from tests.families.helpers import toy_parameters, toy_results

BANKING = {"market.banking": "true"}
BASES = {**BANKING, "sectors.power.bank_limit_base_mt": 2, "sectors.steel.bank_limit_base_mt": 1}
SALES = {**BANKING, "sectors.power.bank_limit_base_mt": 0, "sectors.power.bank_limit_sales_factor": 0.2,
         "sectors.steel.bank_limit_base_mt": 1, "sectors.steel.bank_limit_sales_factor": 1.5}
DISPOSAL = {**SALES, "targets.2025.ets_cap_mt": 200, "targets.2025.national_cap_mt": 300,
            "targets.2027.ets_cap_mt": 90}
INTRA = {**SALES, "sectors.power.intra_sector_sales_mt": 5}
CANCEL = {**BANKING, "market.initial_bank_mt": 30, "targets.2025.ets_cap_mt": 125, "targets.2027.ets_cap_mt": 90,
          "sectors.power.bank_limit_base_mt": 2}


def _by_sector(results, column):
    table = results.sector_years
    trading = table[table["phase"] == "trading"]
    return {(s, int(y)): v for s, y, v in zip(trading["sector"], trading["year"], trading[column])}


def test_sector_bases_hold_the_bank_to_3_mt():
    results = toy_results(**BASES)
    years = results.years
    assert years["bank_mt"].tolist() == pytest.approx([0.0, 3.0, 0.0])
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 40.0, 60.0])
    assert results.summary["objective_bn_cny"] == pytest.approx(3.107355372, abs=1e-9)
    bank = _by_sector(results, "bank_mt")
    assert (bank[("power", 2026)], bank[("steel", 2026)]) == pytest.approx((2.0, 1.0))
    assert years["cancelled_mt"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_a_market_limit_of_3_mt_gives_the_same_market():
    results = toy_results(**BANKING, **{"market.bank_limit_mt": 3})
    assert results.years["bank_mt"].tolist() == pytest.approx([0.0, 3.0, 0.0])
    assert results.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 40.0, 60.0])
    assert results.summary["objective_bn_cny"] == pytest.approx(3.107355372, abs=1e-9)


def test_a_limit_on_net_sales_lets_the_seller_bank_a_fifth_of_its_sales():
    results = toy_results(**SALES)
    sales, bank = _by_sector(results, "net_sales_mt"), _by_sector(results, "bank_mt")
    assert sales[("steel", 2026)] == pytest.approx(-10.1666667) and sales[("power", 2026)] == pytest.approx(10.1666667)
    assert bank[("power", 2026)] == pytest.approx(0.2 * 10.1666667)
    assert bank[("steel", 2026)] == pytest.approx(1.0)  # a net buyer banks its base
    assert results.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 48 - 0.2 * 60 / 1.1, 60.0])
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_what_cannot_be_banked_is_cancelled():
    results = toy_results(**CANCEL)
    years = results.years
    assert years["cancelled_mt"].tolist() == pytest.approx([6.0, 0.0, 0.0])
    assert years["allowance_price_cny_per_t"].iloc[0] == pytest.approx(0.0)
    assert _by_sector(results, "cancelled_mt")[("power", 2025)] == pytest.approx(6.0)
    assert years["bank_mt"].iloc[0] == pytest.approx(2.0)


def test_free_disposal_keeps_the_price_from_going_negative():
    """Power alone in 2025 sells 44.1667 Mt to entities that cancel them at a price of 0."""
    results = toy_results(**DISPOSAL)
    years = results.years
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([0.0, 0.0, 60.0], abs=1e-9)
    assert years["sold_for_cancellation_mt"].tolist() == pytest.approx([53 / 1.2, 5.5 / 1.2 - 8 / 3, 0.0])
    assert years["cancelled_mt"].tolist() == pytest.approx([53 / 1.2, 5.5 / 1.2 - 8 / 3, 0.0])
    assert years["bank_mt"].tolist() == pytest.approx([0.2 * 53 / 1.2, 1 + 0.2 * 5.5 / 1.2, 0.0])
    sales = _by_sector(results, "net_sales_mt")
    assert (sales[("power", 2025)], sales[("power", 2026)], sales[("steel", 2026)]) == pytest.approx(
        (53 / 1.2, 5.5 / 1.2, -8 / 3))
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_sales_between_a_sectors_entities_earn_bank_room():
    """5 Mt sold between power's entities: 0.2 x 5 = 1 Mt more bank than the sales limits alone."""
    results, without = toy_results(**INTRA), toy_results(**SALES)
    bank = _by_sector(results, "bank_mt")
    assert (bank[("power", 2026)], bank[("steel", 2026)]) == pytest.approx((0.2 * (5 + 10.1666667), 1.0))
    assert results.years["bank_mt"].tolist() == pytest.approx([0.0, 4.0333333, 0.0])
    assert without.years["bank_mt"].tolist() == pytest.approx([0.0, 3.0333333, 0.0])
    assert results.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 48 - 0.2 * 60 / 1.1, 60.0])
    assert results.years["cancelled_mt"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert results.summary["market"]["sector_bank_limits"]["power"]["intra_sector_sales_mt"] == 5.0
    assert all(check["passed"] for check in results.summary["checks"].values())


def test_the_check_refuses_a_negative_price_and_a_sale_for_cancellation_at_a_price():
    """The 2025 price of the free-disposal case reported at -1.8182 (what the equality gave
    without free disposal), then 2026's 1.9167 Mt sold for cancellation at a price of 10."""
    results = toy_results(**DISPOSAL)
    years, sector_years, steps = _tables(results)
    years.loc[years["year"] == 2025, "allowance_price_cny_per_t"] = -0.2 * 10 / 1.1
    assert _failed(results, years, sector_years, steps)["bank_limits"] == pytest.approx(0.2 * 10 / 1.1)
    years, sector_years, steps = _tables(results)
    years.loc[years["year"] == 2026, "allowance_price_cny_per_t"] = 10.0
    assert _failed(results, years, sector_years, steps)["bank_limits"] == pytest.approx(5.5 / 1.2 - 8 / 3)


def test_the_check_refuses_a_bank_above_the_room_sales_between_entities_give():
    """Power's 2026 bank reported 0.5 Mt higher and its sales 0.5 lower: 3.5333 against a limit
    of 0.2 x (5 + 9.6667) = 2.9333, 0.6 Mt over."""
    results = toy_results(**INTRA)
    years, sector_years, steps = _tables(results)
    at = (sector_years["sector"] == "power") & (sector_years["year"] == 2026)
    sector_years.loc[at, "bank_mt"] += 0.5
    sector_years.loc[at, "net_sales_mt"] -= 0.5
    years.loc[years["year"] == 2026, "bank_mt"] += 0.5
    assert _failed(results, years, sector_years, steps)["bank_limits"] == pytest.approx(0.6)


def test_the_sales_limit_is_a_mip_with_one_regime_per_limited_sector_year():
    p = toy_parameters(SALES)
    blocks = {block.name: block for block in bank_limits.limit_variables(p)}
    assert blocks["net_seller"].integer and len(blocks["net_seller"].keys) == 5
    assert blocks["sold_for_cancellation_mt"].keys == [2025, 2026, 2027]
    assert not bank_limits.with_regimes(toy_parameters(BASES))
    assert bank_limits.limit_variables(toy_parameters(BANKING)) == []
    assert "sold_for_cancellation_mt" not in {block.name for block in bank_limits.limit_variables(toy_parameters(BASES))}


def test_the_rule_is_read_from_each_scenarios_own_parameters():
    """The rule a scenario's parameters give (made once a scenario) is that scenario's: the toy
    with power's base 2 Mt then 0 Mt and a 0.2 sales factor, then the first again, read in turn;
    each gives its own bases by trading row (power's 3 years, then steel's 2: 1 Mt) and factors."""
    first, second = toy_parameters(BASES), toy_parameters(SALES)
    assert bank_limits.limits(first)[0].tolist() == [2.0, 2.0, 2.0, 1.0, 1.0]
    assert bank_limits.limits(second)[0].tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert bank_limits.limits(second)[1].tolist() == [0.2, 0.2, 0.2, 1.5, 1.5]
    assert bank_limits.limits(first)[1].tolist() == [0.0] * 5
    assert not bank_limits.with_regimes(first) and bank_limits.with_regimes(second)
    assert bank_limits.summary(second)["sector_bank_limits"]["power"] == {
        "base_mt": 0.0, "sales_factor": 0.2, "intra_sector_sales_mt": 0.0}
    assert bank_limits.summary(first)["sector_bank_limits"]["power"]["base_mt"] == 2.0


def test_the_regime_found_is_the_rule_in_every_year():
    """A net seller's bank within base + 0.2 x its sales, a buyer's within its base."""
    results = toy_results(**SALES)
    table = results.sector_years
    trading = table[table["phase"] == "trading"]
    limit = np.where(trading["sector"] == "power", 0.2 * np.maximum(trading["net_sales_mt"], 0), 1.0)
    assert (trading["bank_mt"].to_numpy() <= limit + 1e-9).all()


def _tables(results):
    return results.years.copy(), results.sector_years.copy(), results.abatement_steps.copy()


def _failed(results, years, sector_years, steps):
    report = run_checks(years, sector_years, steps, results.summary["market"])
    return {name: round(r["worst_violation"], 6) for name, r in report.items() if not r["passed"]}


def test_the_check_refuses_a_bank_above_its_limit():
    """Power's 2026 bank moved 0.5 Mt to steel: steel holds 1.5 against its base of 1, and
    power, with room to bank 0.5 more, would have held the price to 40 x 1.1 = 44, not 60."""
    results = toy_results(**BASES)
    years, sector_years, steps = _tables(results)
    at = lambda s, y: (sector_years["sector"] == s) & (sector_years["year"] == y)  # noqa: E731
    sector_years.loc[at("steel", 2026), "bank_mt"] = 1.5
    sector_years.loc[at("power", 2026), "bank_mt"] = 1.5
    sector_years.loc[at("steel", 2026), "net_sales_mt"] -= 0.5
    sector_years.loc[at("power", 2026), "net_sales_mt"] += 0.5
    assert _failed(results, years, sector_years, steps) == {"bank_limits": 0.5, "hotelling": round(16 / 44, 6)}


def test_the_check_refuses_a_cancellation_that_could_have_been_banked():
    """1 Mt of power's 2026 bank reported cancelled instead: it had room to bank it (and the
    2027 price is 60), and the market's bank no longer adds up."""
    results = toy_results(**BASES)
    years, sector_years, steps = _tables(results)
    at = (sector_years["sector"] == "power") & (sector_years["year"] == 2026)
    sector_years.loc[at, "bank_mt"] = 1.0
    sector_years.loc[at, "cancelled_mt"] = 1.0
    years.loc[years["year"] == 2026, "cancelled_mt"] = 1.0
    failed = _failed(results, years, sector_years, steps)
    assert failed["bank_limits"] == pytest.approx(1.0)


SURPLUS = {**BASES, "targets.2025.ets_cap_mt": 200, "targets.2025.national_cap_mt": 300,
           "targets.2027.ets_cap_mt": 200, "targets.2027.national_cap_mt": 300}


def test_without_a_sales_factor_a_net_buyer_may_cancel_at_a_zero_price():
    """Bases only (power 2, steel 1) and caps of 200 in every year: the trading sectors hold
    200 against BAU 100 (2025, power alone) and 150 (2026-27), so 53 and 50 Mt a year are
    spare (power holds 2/3 x 200 = 133.33 against 100, steel 66.67 against 50 plus the
    rule cap's 3 in 2025), at a zero price: nothing is worth banking. Who cancels the spare is
    not determined; the solve has power buy 16.67 from steel and cancel 50, a sector's own
    free disposal without a sales factor (the check refused it as "a net buyer cancels",
    the regime rule of a sales factor). At a positive price it is still refused."""
    results = toy_results(**SURPLUS)
    years = results.years
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert years["cancelled_mt"].tolist() == pytest.approx([53.0, 50.0, 50.0])
    assert years["bank_mt"].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert all(check["passed"] for check in results.summary["checks"].values())
    years, sector_years, steps = _tables(results)
    buyer = (sector_years["net_sales_mt"] < -1e-6) & (sector_years["cancelled_mt"] > 1e-6)
    assert buyer.any()
    years["allowance_price_cny_per_t"] = [10.0, 11.0, 12.1]  # the same cancellations at a price
    assert _failed(results, years, sector_years, steps)["bank_limits"] == pytest.approx(50.0)


def test_hotelling_is_not_required_while_a_limit_binds():
    """3 Mt banked at 40 and 60: Hotelling would say 44, but no one may bank more."""
    results = toy_results(**BASES)
    assert results.summary["checks"]["hotelling"]["passed"]
    years, sector_years, steps = _tables(results)
    years.loc[years["year"] == 2027, "allowance_price_cny_per_t"] = 40.0  # slower than the discount rate
    assert _failed(results, years, sector_years, steps)["hotelling"] == pytest.approx((44 - 40) / 44)


def test_the_report_draws_the_bank_and_what_was_cancelled():
    """The 6 Mt cancelled in 2025 and the bank, as bars side by side (none without a rule)."""
    from model.report.plots import results_figures

    figures = results_figures(toy_results(**CANCEL))
    (ax,) = figures["bank_rules"].axes
    heights = {bars.get_label(): [bar.get_height() for bar in bars] for bars in ax.containers}
    assert heights["Cancelled (not bankable)"] == pytest.approx([6.0, 0.0, 0.0])
    assert heights["Bank at year end"] == pytest.approx([2.0, 5.0, 0.0])
    assert "bank_rules" not in results_figures(toy_results(**BASES))


def test_no_row_of_the_limits_is_compiled_twice():
    """A one-sided row (lower bound -inf) is one row of the Pyomo model's LP, not a range."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from model import build_model
    from model.data.inputs import load_dataset
    from model.data.overrides import apply_overrides
    from tests.conftest import TOY

    m = build_model(apply_overrides(load_dataset(TOY), SALES))
    compiled = LinearStandardFormCompiler().write(m, mixed_form=True)
    names = [row.constraint.name for row in compiled.rows if row.constraint.name.startswith("bank_limits")]
    assert len(names) == len(set(names)) == len(m.bank_limits)


@pytest.mark.parametrize("route", ["blocks", "pyomo"])
@pytest.mark.parametrize("tolerance", [0.01, 0.05])
def test_stage2_with_a_cost_tolerance_keeps_stage_1s_banks(route, tolerance):
    """Sales limits with 5 Mt sold between power's entities (INTRA, by hand above): stage 1
    banks power 0.2 x (5 + 10.1667) = 3.0333 and steel its base of 1 in 2026 at 40, 37.0909
    and 60 CNY/t, the limits binding. Stage 2 keeps stage 1's prices; with a cost tolerance it
    used to move the banks (at 1% to leave power room to bank while the price rose 62% a year,
    which the hotelling check refused by 0.471; at 5% to empty the bank, a market stage 1's
    prices do not price). Held (``values_held_in_stage2``), the banks, net sales (10.1667 by
    power to steel) and cancellations (none) are stage 1's on both routes."""
    dataset = apply_overrides(load_dataset(TOY), {**INTRA, "allocation.cost_tolerance": tolerance})
    results = solve(build_model(dataset) if route == "pyomo" else dataset)
    years = results.years
    assert years["bank_mt"].tolist() == pytest.approx([0.0, 0.2 * (5 + 10.1666667) + 1, 0.0])
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 48 - 0.2 * 60 / 1.1, 60.0])
    bank, sales = _by_sector(results, "bank_mt"), _by_sector(results, "net_sales_mt")
    assert (bank[("power", 2026)], bank[("steel", 2026)]) == pytest.approx((0.2 * (5 + 10.1666667), 1.0))
    assert (sales[("power", 2026)], sales[("steel", 2026)]) == pytest.approx((10.1666667, -10.1666667))
    assert years["cancelled_mt"].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert all(check["passed"] for check in results.summary["checks"].values())


@pytest.mark.parametrize("method, used", [("ipm", "ipm"), ("simplex", "simplex")])
def test_the_lp_after_the_regime_mip_is_solved_by_the_method_asked_for(method, used):
    """The regimes are found by HiGHS's MIP solver ("choose"); the LP with them fixed, whose
    duals are the prices, is then solved by solver.method: an interior-point run reports
    interior-point iterations, a simplex run none. Either way the same prices."""
    results = toy_results(**SALES, **{"solver.method": method})
    iterations = results.summary["iterations"]
    assert iterations[used] > 0
    if used == "simplex":
        assert iterations["ipm"] == 0
    reference = toy_results(**SALES)
    np.testing.assert_allclose(results.years["allowance_price_cny_per_t"],
                               reference.years["allowance_price_cny_per_t"], rtol=1e-7, atol=1e-7)
