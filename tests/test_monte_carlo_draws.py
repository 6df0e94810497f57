"""Monte Carlo draws: one generator, default_rng(seed), drawn key by key in the order given,
so uncertain inputs are independent of each other and reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest

from model import InputError, load_dataset
from model.studies.study import monte_carlo_inputs
from tests.conftest import TOY

TWO_KEYS = {"sectors.steel.base_emissions_mt*": {"kind": "uniform", "low": 0.95, "high": 1.05},
            "mac.power.*.cost_cny_per_t*": {"kind": "uniform", "low": 0.9, "high": 1.1}}


@pytest.fixture(scope="module")
def draws():
    return monte_carlo_inputs(load_dataset(TOY), 1_000, TWO_KEYS, seed=42)


def test_second_key_continues_the_first_keys_generator(draws):
    """The second key's 1,000 draws are the next 1,000 of default_rng(42) after the first key's."""
    rng = np.random.default_rng(42)
    np.testing.assert_array_equal(draws["sectors.steel.base_emissions_mt*"], rng.uniform(0.95, 1.05, 1_000))
    np.testing.assert_array_equal(draws["mac.power.*.cost_cny_per_t*"], rng.uniform(0.9, 1.1, 1_000))


def test_keys_are_independent(draws):
    """Two independent uniform inputs over 1,000 draws: sample correlation within +-0.1 (its
    standard error is 1/sqrt(1000) = 0.03); a generator re-seeded for every key gives 1.0."""
    correlation = np.corrcoef(draws["sectors.steel.base_emissions_mt*"], draws["mac.power.*.cost_cny_per_t*"])[0, 1]
    assert abs(correlation) <= 0.1


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_number_of_draws_is_a_whole_number_of_at_least_one(n):
    with pytest.raises(InputError) as caught:
        monte_carlo_inputs(load_dataset(TOY), n, TWO_KEYS, seed=1)
    assert str(caught.value) == (f"monte_carlo distributions, n: found '{n}', "
                                 "expected a whole number of draws of at least 1")
