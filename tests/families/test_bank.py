"""bank on the toy with banking: the bank carried out adds to a year's demand, the bank
brought in (and the initial bank, in the first year) to its supply; no rows of its own."""

import pytest

from tests.families.helpers import rows_of, toy_parameters, toy_results


def test_adds_to_the_market_rows():
    """3 Mt initial bank: 2025's constant is 100 - 3; bank[t] is demand, bank[t-1] supply."""
    rows = rows_of(toy_parameters({"market.banking": "true", "market.initial_bank_mt": 3}), "market_balance")
    assert [r["constant"] for r in rows.values()] == [97.0, 150.0, 150.0]
    assert rows[2025]["coefs"]["bank_mt[2025]"] == 1.0 and "bank_mt[2024]" not in rows[2025]["coefs"]
    assert (rows[2026]["coefs"]["bank_mt[2026]"], rows[2026]["coefs"]["bank_mt[2025]"]) == (1.0, -1.0)


def test_without_banking_no_bank_terms():
    rows = rows_of(toy_parameters(), "market_balance")
    assert not any(name.startswith("bank_mt") for r in rows.values() for name in r["coefs"])


def test_banked_allowances_carry_the_price_at_the_discount_rate():
    """5 Mt banked from 2026 to 2027: the 2027 price is 2026's 40 x 1.1 = 44 (Hotelling)."""
    years = toy_results(**{"market.banking": "true"}).years
    assert years["bank_mt"].tolist() == pytest.approx([0.0, 5.0, 0.0])
    assert years["allowance_price_cny_per_t"].tolist() == pytest.approx([40.0, 40.0, 44.0])


def test_declares_the_bank_variable():
    """bank_mt by year, from 0 to unbounded, 0 after the last year; none without banking."""
    from model.families import bank

    (block,) = bank.FAMILY.variables(toy_parameters({"market.banking": "true"}))
    assert (block.name, list(block.keys), block.lower.tolist(), block.upper.tolist()) == (
        "bank_mt", [2025, 2026, 2027], [0.0, 0.0, 0.0], [float("inf"), float("inf"), 0.0])
    assert bank.FAMILY.variables(toy_parameters()) == []


def test_initial_bank_problems_refuses_what_first_year_cannot_use():
    """Without banking the initial bank is spent in 2025 by the sectors trading then: power
    alone (steel trades from 2026), BAU 100 Mt. 100 passes, 100.5 is refused; with banking
    it is carried on, so 1,000 passes."""
    import dataclasses

    from model.data.inputs import load_dataset
    from model.families.bank import initial_bank_problems
    from tests.conftest import TOY

    dataset = load_dataset(TOY)

    def problems(bank: float, banking: bool = False):
        settings = {**dataset.settings, "market.initial_bank_mt": bank, "market.banking": banking}
        return initial_bank_problems(dataclasses.replace(dataset, settings=settings))

    assert problems(100.0) == [] and problems(1000.0, banking=True) == []
    [problem] = problems(100.5)
    assert (problem.file, problem.row, problem.column, problem.found) == (
        "scenario.toml", None, "market.initial_bank_mt", "100.5")
    assert problem.expected.startswith("at most 100, the BAU emissions of the sectors trading in first_year (2025)")
