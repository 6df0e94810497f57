"""What a solve tells its user (model/solving/pipeline.py): the log lines ``-v`` shows, one per
stage, with the numbers they name, on both routes (numpy blocks and a Pyomo model)."""

from __future__ import annotations

import logging
import re

import pytest

from model import build_model, load_dataset, solve
from model.solving.pipeline import iteration_counts
from tests.conftest import TOY

def _lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "model.solving.pipeline"]


def _shape(lines: list[str]) -> list[str]:
    """The lines with each time (``0.12 s``) as ``T s``."""
    return [re.sub(r"\b\d+\.\d\d s\b", "T s", line) for line in lines]


@pytest.mark.parametrize("route", ["dataset", "pyomo model"])
def test_a_solve_logs_its_build_least_cost_and_allocation(caplog, route):
    """The toy (18 abatement columns: 3 sectors x 2 steps x 3 years) solved with its allocation
    stage: what was built, HiGHS's version and iterations for the least cost, the allocation's
    objective; all at INFO, each time a plausible number of seconds."""
    with caplog.at_level(logging.INFO, logger="model.solving.pipeline"):
        results = solve(TOY) if route == "dataset" else solve(build_model(load_dataset(TOY)))
    built = "built the LP" if route == "dataset" else "built the model"
    version = results.summary["solver_version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert _shape(_lines(caplog)) == [f"{built} in T s: 18 abatement columns",
                                      f"least cost found in T s (HiGHS {version}, "
                                      f"{iteration_counts(results.summary['iterations'])})",
                                      "allocation (min_max_burden) in T s"]
    assert all(record.levelno == logging.INFO for record in caplog.records if record.name == "model.solving.pipeline")
    build, least_cost, allocation = (float(re.search(r"in (\d+\.\d\d) s", line).group(1)) for line in _lines(caplog))
    seconds = results.summary["seconds"]
    assert build == pytest.approx(seconds["build"], abs=0.006)  # the same times, rounded
    assert least_cost == pytest.approx(seconds["compile"] + seconds["solve"], abs=0.006)
    assert allocation == pytest.approx(seconds["allocation_compile"] + seconds["allocation_solve"], abs=0.006)


def test_without_allocation_no_allocation_line(caplog):
    with caplog.at_level(logging.INFO, logger="model.solving.pipeline"):
        solve(TOY, allocation=False)
    assert [line.split(" in ")[0] for line in _lines(caplog)] == ["built the LP", "least cost found"]


def test_iteration_counts_name_each_method_that_ran_in_order():
    assert iteration_counts({}) == "0 iterations"
    assert iteration_counts({"simplex": 0, "ipm": 0}) == "0 iterations"
    assert iteration_counts({"simplex": 1234, "pdlp": 0, "ipm": 12}) == (
        "12 interior-point iterations, 1,234 simplex iterations")
    assert iteration_counts({"qp": 2, "pdlp": 5, "simplex": 3}) == (
        "3 simplex iterations, 5 PDLP iterations, 2 qp iterations")


def test_a_script_s_model_that_breaks_a_check_is_solved_with_a_warning(caplog):
    """A script forces 5 Mt of rest's B (80 CNY/t) in 2027: the ETS then cuts 5 Mt less (steel B
    unused), the price falls to power B's 40, and a used step dearer than the value it faces
    by (80 - 40) / 40 = 1 breaks equal marginal cost: the results come back, with one warning."""
    import pyomo.environ as pyo

    model = build_model(load_dataset(TOY))
    model.forced = pyo.Constraint(expr=model.abatement_mt["rest", "B", 2027] >= 5)
    with caplog.at_level(logging.INFO, logger="model.solving.pipeline"):
        results = solve(model)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "check failed on a model changed by a script: equal_marginal_cost (worst violation 1 relative)"]
    assert {k for k, v in results.summary["checks"].items() if not v["passed"]} == {"equal_marginal_cost"}
    assert results.years["allowance_price_cny_per_t"].tolist() == pytest.approx([40, 40, 40])


def test_solve_refuses_what_is_no_dataset_or_fresh_model():
    import pyomo.environ as pyo

    from model.errors import EtscapError

    model = build_model(load_dataset(TOY))
    for call, message in (
            (lambda: solve(model, overrides={"discount_rate": 0.05}),
             "overrides apply to a dataset: pass them to build_model's dataset instead"),
            (lambda: solve(pyo.ConcreteModel()), "solve() needs a model made by model.build_model()"),
            (lambda: solve(object()), "solve() needs a dataset folder or workbook (a path), a Dataset or a model "
                                      "made by model.build_model(), not object"),
            (lambda: solve(None), "solve() needs a dataset folder or workbook (a path), a Dataset or a model "
                                  "made by model.build_model(), not NoneType")):
        with pytest.raises(EtscapError) as refused:
            call()
        assert str(refused.value) == message
    solve(model)
    with pytest.raises(EtscapError) as refused:
        solve(model)
    assert str(refused.value) == ("this model has been solved with its allocation stage already: build a new one "
                                  "with model.build_model()")


def test_an_infeasible_dataset_logs_the_route_to_its_explanation(caplog):
    """A national cap of 50 Mt a year: the numpy blocks are infeasible, so the Pyomo model is built
    to explain it (its elastic copy); the user sees both builds, then what is being looked for."""
    from model import InfeasibleError

    with caplog.at_level(logging.INFO, logger="model.solving.pipeline"), pytest.raises(InfeasibleError) as refused:
        solve(TOY, overrides={"targets.*.national_cap_mt": 50})
    assert _shape(_lines(caplog)) == ["built the LP in T s: 18 abatement columns",
                                      "built the model in T s: 18 abatement columns",
                                      "infeasible: finding the smallest relaxation of the targets"]
    assert refused.value.exit_code == 3 and str(refused.value).startswith(
        "model 'toy' is infeasible: the targets cannot all be met with the abatement potential given.")
