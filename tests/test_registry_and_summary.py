"""The synthetic registry's spread of intensities, and the run summary's timings (each test
here caught a mutant that the rest of the suite let survive: see benchmarks/mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model import load_dataset, solve
from model.data.registry import INTENSITY_SIGMA, make_registry
from tests.conftest import CHINA, TOY


def test_installations_of_one_unit_type_differ_in_intensity():
    """Emissions per unit of output scatter around the unit type's benchmark, lognormal with
    sigma INTENSITY_SIGMA = 0.08: in every unit type of at least 80 installations the
    standard deviation of log intensity is 0.08 +- 0.015 (about 2.5 standard errors at 80)."""
    registry = make_registry(load_dataset(CHINA), seed=7).dropna(subset=["output"])
    log_intensity = np.log(registry["emissions_mt"] / registry["output"])
    spread = log_intensity.groupby([registry["sector"], registry["unit_type"]]).agg(["std", "count"])
    spread = spread[spread["count"] >= 80]
    assert len(spread) == 7 and INTENSITY_SIGMA == 0.08
    assert spread["std"].to_numpy() == pytest.approx(np.full(7, 0.08), abs=0.015)


def test_solve_seconds_add_up_the_solver_stages():
    summary = solve(TOY).summary
    stages = {k: v for k, v in summary["seconds"].items() if k != "build"}
    assert summary["solve_seconds"] == pytest.approx(sum(stages.values()), abs=5e-4)
    assert summary["build_seconds"] == summary["seconds"]["build"]


def test_installation_sizes_are_lognormal_with_sigma_one_within_a_unit_type():
    """Within a unit type output shares follow size, lognormal with sigma SIZE_SIGMA = 1.0 (a
    few large installations, many small): the standard deviation of log output about each
    (sector, unit type)'s mean, pooled over the 3,697 installations with an output (7 unit
    types), is 1.0 +- 0.05 (about four standard errors)."""
    from model.data.registry import SIZE_SIGMA

    registry = make_registry(load_dataset(CHINA), seed=7).dropna(subset=["output"])
    log_output = np.log(registry["output"])
    groups = [registry["sector"], registry["unit_type"]]
    deviations = log_output - log_output.groupby(groups).transform("mean")
    pooled = float(np.sqrt((deviations ** 2).sum() / (len(registry) - registry.groupby(groups).ngroups)))
    assert SIZE_SIGMA == 1.0 and len(registry) == 3697
    assert pooled == pytest.approx(1.0, abs=0.05)


def test_registry_cost_classes_regions_and_names():
    """Each installation's cost_factor is one of the five classes, each about as common as
    declared (0.15, 0.25, 0.30, 0.20, 0.10 of 6,837: +- 0.02, over three standard errors); its
    region one of the 30 provinces, Shandong the most common (weight 10 of 106: 0.094 +- 0.02);
    installations are named SECTOR-00001 on, in sectors.csv's order, and say their seed."""
    from model.data.registry import COST_CLASSES, REGIONS

    china = load_dataset(CHINA)
    registry = make_registry(china, seed=7)
    shares = registry["cost_factor"].value_counts(normalize=True).sort_index()
    assert shares.index.tolist() == [0.8, 0.9, 1.0, 1.15, 1.3]
    assert shares.to_numpy() == pytest.approx([0.15, 0.25, 0.30, 0.20, 0.10], abs=0.02)
    assert list(COST_CLASSES.values()) == [0.15, 0.25, 0.30, 0.20, 0.10]
    regions = registry["region"].value_counts(normalize=True)
    assert set(regions.index) <= set(REGIONS) and len(REGIONS) == 30 and sum(REGIONS.values()) == 106
    assert regions.index[0] == "Shandong" and regions["Shandong"] == pytest.approx(10 / 106, abs=0.02)
    covered = china.sectors.dropna(subset=["covered_from", "entities"])["sector"].tolist()
    assert list(dict.fromkeys(registry["sector"])) == covered
    power = registry[registry["sector"] == "power"]["facility_id"]
    assert power.iloc[:2].tolist() == ["power-00001", "power-00002"] and power.iloc[-1] == "power-02162"
    assert registry["source"].unique().tolist() == [
        "synthetic (make_registry seed 7), calibrated to sectors.csv totals"]
