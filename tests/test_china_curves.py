"""The default dataset's abatement curves and deployment limits, as an analyst reads the
answer: every headline price is explained in the README by the steps at its margin, and the
limits hold (CCUS within the roadmap, inert anodes not before 2035)."""

import re

import pytest

from model import solve
from model.studies.margin import marginal_steps
from tests.conftest import CHINA, ROOT

HEADLINE = (2025, 2030, 2035, 2040, 2050, 2060)


@pytest.fixture(scope="module")
def china():
    return solve(CHINA, allocation=False, installations=False)


def default_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("### Default dataset"):readme.index("### Start a dataset")]


def test_every_headline_price_is_explained_in_the_readme_by_its_margin(china):
    """For each headline year the README's Default dataset section gives the price (to 0.1
    CNY/t) and names the steps that set it: the step at the margin, or the dearest used and
    cheapest unused steps the price lies between. A year at 0 is said to bind no target."""
    section = default_section()
    prices = china.years.set_index("year")["allowance_price_cny_per_t"]
    table = marginal_steps(china, HEADLINE)
    for year in HEADLINE:
        bullet = re.search(rf"^- \*\*[^*]*\b{year}\b[^*]*\*\*.*?(?=^- \*\*|^\n)", section, re.M | re.S)
        assert bullet, f"no bullet for {year}"
        text = " ".join(bullet.group(0).split())
        if prices[year] == 0:
            assert "0." in text.split("**")[1] and "No national target binds" in text
            continue
        assert f"{prices[year]:,.1f}" in text
        rows = table[(table["year"] == year) & (table["role"] != "held back by a limit")]
        assert len(rows) >= 1
        for row in rows.itertuples():
            name = row.step.rsplit("_", 1)[0] if row.step[-2:] in ("_a", "_b", "_c") else row.step
            assert f"`{name}`" in text, (year, row.step)
            if row.step[-2:] in ("_a", "_b", "_c"):
                assert f"tranche {row.step[-1]}" in text, (year, row.step)


def test_the_deployment_limits_hold_and_inert_anodes_wait_for_2035(china):
    """The check passes with the limits in force; inert anodes abate nothing before 2035;
    CCUS in 2060 is within the roadmap's 1,820 Mt (S31)."""
    assert china.summary["checks"]["deployment_limits"]["passed"]
    steps = china.abatement_steps
    anodes = steps[steps["step"].str.startswith("A3_inert_anode")]
    assert anodes["year"].min() == 2035
    groups = {tuple(pair) for group in china.summary["market"]["deployment_limits"]["max_mt"]
              for pair in group["steps"]}
    ccus = steps[[(s, t) in groups for s, t in zip(steps["sector"], steps["step"])]]
    assert 0 < ccus.loc[ccus["year"] == 2060, "abatement_mt"].sum() <= 1820 + 1e-6
