"""The facility-resolution path's joins and checksums on integer codes (issue 17): the same
answers as the text they stand for, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import load_dataset
from model.families.checktools import rows_of


def _sector_years() -> pd.DataFrame:
    # rows 0-3: (power, 2025), (power, 2026), (steel, 2025), (steel, 2026)
    return pd.DataFrame({"sector": ["power", "power", "steel", "steel"], "year": [2025, 2026, 2025, 2026]})


@pytest.mark.parametrize("categorical", [False, True])
def test_rows_of_joins_text_or_codes_alike(categorical):
    """steel 2026 is row 3, power 2025 row 0; cement (not in the table), 2030 (no such year)
    and a missing name find nothing (-1)."""
    keys = pd.DataFrame({"sector": ["steel", "power", "cement", "steel", None, "power"],
                         "year": [2026, 2025, 2025, 2030, 2025, 2026]})
    if categorical:  # categories in an order of their own: the codes differ from the table's positions
        keys["sector"] = pd.Categorical(keys["sector"], categories=["steel", "cement", "power"])
    assert rows_of(_sector_years(), keys, "sector").tolist() == [3, 0, -1, -1, -1, 1]


def test_rows_of_a_categorical_table_and_text_keys():
    """The table's names as a categorical (installations' rows), the keys as text (steps)."""
    table = pd.DataFrame({"facility_id": pd.Categorical(["b", "a", "b"]), "year": [2030, 2030, 2031]})
    keys = pd.DataFrame({"facility_id": np.array(["a", "b", "b", "c"], dtype=object), "year": [2030, 2031, 2030, 2030]})
    assert rows_of(table, keys, "facility_id").tolist() == [1, 2, 0, -1]


def test_rows_of_refuses_a_repeated_key_as_a_join_does():
    table = pd.DataFrame({"sector": ["power", "power"], "year": [2025, 2025]})
    with pytest.raises(Exception, match="unique"):
        rows_of(table, pd.DataFrame({"sector": ["power"], "year": [2025]}), "sector")


def test_checksum_of_a_registry_follows_its_cells_not_its_category_order(toy_path):
    """A registry large enough to be hashed column by column (more than 2,000 cells): the
    same names in another category order hash the same; one changed name or number does not."""
    dataset = load_dataset(toy_path)
    n = 3000  # 3,000 installations x 8 columns = 24,000 cells
    registry = pd.DataFrame({
        "facility_id": pd.Categorical([f"f{i:05d}" for i in range(n)]),
        "sector": pd.Categorical(["power", "steel"] * (n // 2)),
        "output": np.linspace(1.0, 2.0, n), "emissions_mt": np.linspace(0.1, 0.2, n),
        "region": pd.Categorical(["north", "south", "east"] * (n // 3)),
        "unit_type": pd.Categorical(["a"] * n), "cost_factor": np.ones(n), "spare": np.zeros(n),
    }, index=pd.RangeIndex(2, n + 2, name="row"))
    assert registry.size > 2_000

    def checksum(table: pd.DataFrame) -> str:
        return _sha(dataset, table)

    reordered = registry.assign(region=registry["region"].cat.reorder_categories(["south", "east", "north"]))
    renamed = registry.assign(region=registry["region"].cat.rename_categories({"east": "west"}))
    changed = registry.assign(output=registry["output"].where(registry.index != 50, 9.0))
    assert checksum(reordered) == checksum(registry)
    assert checksum(renamed) != checksum(registry)
    assert checksum(changed) != checksum(registry)
    assert checksum(registry.iloc[:-1]) != checksum(registry)


def _sha(dataset, facilities: pd.DataFrame) -> str:
    """The checksum of ``dataset`` with ``facilities`` as its registry (not validated: only the hash is read)."""
    import dataclasses

    return dataclasses.replace(dataset, facilities=facilities).sha256


def test_benchmark_rows_join_the_registry_on_codes():
    """benchmarks.csv rows: 0 (power, coal), 1 (power, gas), 2 (steel, bof). Installations:
    gas -> 1, coal -> 0, steel's eaf (no benchmark) -> -1, bof -> 2; the registry's categories
    are in an order of their own. By row, the benchmarks 0.8 / 0.4 / 1.9 t per unit, NaN for eaf."""
    from model.parameters.installations import benchmark_rows, by_benchmark_row

    benchmarks = pd.DataFrame({"sector": ["power", "power", "steel"], "unit_type": ["coal", "gas", "bof"],
                               "benchmark_t_per_unit": [0.8, 0.4, 1.9]})
    facilities = pd.DataFrame({
        "sector": pd.Categorical(["power", "power", "steel", "steel"], categories=["steel", "power"]),
        "unit_type": pd.Categorical(["gas", "coal", "eaf", "bof"], categories=["gas", "eaf", "coal", "bof"])})
    row = benchmark_rows(facilities, benchmarks)
    assert row.tolist() == [1, 0, -1, 2]
    assert by_benchmark_row(benchmarks["benchmark_t_per_unit"], row).tolist() == pytest.approx(
        [0.4, 0.8, np.nan, 1.9], nan_ok=True)
    # text instead of categoricals: the same rows
    assert benchmark_rows(facilities.astype(object), benchmarks).tolist() == [1, 0, -1, 2]
    # a repeated (sector, unit type) or a missing name: left to pandas' join (None)
    assert benchmark_rows(facilities, pd.concat([benchmarks, benchmarks.iloc[:1]])) is None
    assert benchmark_rows(facilities.assign(unit_type=[None, "coal", "eaf", "bof"]), benchmarks) is None
