"""The input side of a study's scenario: what a scenario shares with its base is found again,
and only where it is the same."""

import numpy as np

from model import load_dataset
from model.data.overrides import apply_overrides
from model.data.inputs import interpolated
from model.parameters.derive import derive_parameters


def test_a_target_sweep_shares_the_grid_rows_and_interpolates_the_new_cap(china_path):
    """targets.2035.national_cap_mt set to 9,900 Mt: the phases are the base's, so the rows by
    phase are the same objects; the cap of 2035 is the one set and 2034 lies between its rows
    (interpolated as inputs.interpolated does, element for element)."""
    base = load_dataset(china_path)
    scenario = apply_overrides(base, {"targets.2035.national_cap_mt": 9900.0})
    p, q = derive_parameters(base), derive_parameters(scenario)
    assert q.covered_index is p.covered_index and q.phase is p.phase and q.market_years is p.market_years
    assert q.targets.loc[2035, "absolute_target_mt"] == 9900.0
    expected = interpolated(scenario.targets, "national_cap_mt", q.years)
    assert np.array_equal(q.targets["absolute_target_mt"].to_numpy(), expected, equal_nan=True)


def test_the_grid_rows_follow_the_sectors_names_not_only_the_phases(toy_path, tmp_path):
    """Two datasets whose phases are equal but whose sectors are named differently: each
    covered index names its own sectors (the rows by phase are not taken from the other)."""
    import shutil

    shutil.copytree(toy_path, tmp_path / "toy")
    sectors = tmp_path / "toy" / "sectors.csv"
    first = load_dataset(toy_path)
    names = sorted(set(first.sectors["sector"]))
    text = sectors.read_text()
    for position, name in enumerate(names):
        text = text.replace(name, f"renamed{position}")
    sectors.write_text(text)
    for table in ("mac.csv", "bau.csv", "allocation.csv", "cap_rules.csv"):
        path = tmp_path / "toy" / table
        if path.exists():
            body = path.read_text()
            for position, name in enumerate(names):
                body = body.replace(name, f"renamed{position}")
            path.write_text(body)
    second = load_dataset(tmp_path / "toy")
    p, q = derive_parameters(first), derive_parameters(second)
    assert np.array_equal(p.phase, q.phase)
    assert set(p.covered_index.get_level_values("sector")) <= set(names)
    assert set(q.covered_index.get_level_values("sector")) <= {f"renamed{i}" for i in range(len(names))}
    assert len(q.covered_index) == len(p.covered_index) > 0
