"""A synthetic registry of installations, calibrated to a dataset's sector totals.

No public facility-level registry of China's ETS exists, so ``make_registry`` draws one:
for every covered sector with ``entities`` in sectors.csv, that many installations whose
sizes are lognormal, whose unit types follow ``output_share`` in benchmarks.csv, whose
emission intensities scatter around their unit type's benchmark, and whose abatement
costs fall in a few classes (``cost_factor`` times the sector's step costs). Output and emissions
are then scaled so that they add up exactly to the sector's base-year totals. The result
is labelled synthetic in every row; the same seed always gives the same registry.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import schema
from ..errors import InputError, Problem
from .inputs import MAX_REGISTRY_BYTES, Dataset

SIZE_SIGMA = 1.0  # spread of installation sizes (lognormal sigma): a few large, many small
INTENSITY_SIGMA = 0.08  # spread of intensities around the unit type's benchmark
# Abatement cost classes (cost_factor on the sector's step costs) and how common each is:
# installations of one technology vintage share costs, so costs come in classes
COST_CLASSES = {0.8: 0.15, 0.9: 0.25, 1.0: 0.30, 1.15: 0.20, 1.3: 0.10}
# Provinces and rough weights for where installations are (synthetic: for reporting only)
REGIONS = {
    "Shandong": 10, "Hebei": 8, "Jiangsu": 8, "Inner Mongolia": 7, "Shanxi": 6, "Guangdong": 6,
    "Henan": 5, "Liaoning": 5, "Xinjiang": 5, "Zhejiang": 5, "Anhui": 4, "Hubei": 4, "Sichuan": 3,
    "Shaanxi": 3, "Hunan": 3, "Jiangxi": 2, "Guangxi": 2, "Yunnan": 2, "Guizhou": 2, "Fujian": 2,
    "Heilongjiang": 2, "Jilin": 2, "Ningxia": 2, "Gansu": 2, "Chongqing": 1, "Tianjin": 1,
    "Shanghai": 1, "Beijing": 1, "Qinghai": 1, "Hainan": 1,
}


def make_registry(dataset: Dataset, seed: int = 2025, scale: float = 1.0) -> pd.DataFrame:
    """Installations for every covered sector: ``entities x scale`` of them (at least one),
    in the columns of facilities.csv, adding up to the sectors' base-year totals.

    Refused up front (InputError) if no covered sector gives ``entities``, if ``scale`` is
    not a positive finite number, or if the registry would have more rows than facilities.csv
    (or facilities.parquet) may have (so that ``solve`` can read every registry made here)."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise InputError(Problem(f"--scale {scale}", None, None, None, "a finite number above 0"))
    rng = np.random.default_rng(seed)
    sectors = dataset.sectors
    chosen = sectors[sectors["covered_from"].notna().to_numpy() & sectors["entities"].notna().to_numpy()]
    if chosen.empty:
        raise InputError(Problem(schema.SECTORS.file, None, "entities", None,
                                 "the number of installations of at least one covered sector: the dataset has "
                                 "none for make-registry to draw and calibrate to"))
    entities = chosen["entities"].to_numpy(dtype=float)
    total = int(np.maximum(1, np.round(entities * scale)).sum())
    limit = schema.FACILITIES.max_rows
    if total > limit:
        raise InputError(Problem(f"--scale {scale:g}", None, None, f"{total:,} installations",
                                 f"at most {limit:,} (the rows facilities.csv may have): --scale "
                                 f"{_floor(limit / entities.sum())} or less for this dataset"))
    tables = [_sector_registry(row, dataset.benchmarks, rng, scale, seed) for _, row in chosen.iterrows()]
    return pd.concat(tables, ignore_index=True)


def registry_csv(registry: pd.DataFrame, scale: float = 1.0) -> bytes:
    """facilities.csv's bytes; an InputError if they are more than a registry file may have."""
    data = registry.to_csv(index=False, float_format="%.9g", lineterminator="\n").encode()
    if len(data) > MAX_REGISTRY_BYTES:
        raise InputError(Problem(f"--scale {scale:g}", None, None, f"a registry of {len(data):,} bytes",
                                 f"at most {MAX_REGISTRY_BYTES:,} bytes (the size of a registry file): --scale "
                                 f"{_floor(scale * MAX_REGISTRY_BYTES / len(data))} or less for this dataset"))
    return data


def _floor(scale: float) -> str:
    """A scale rounded down to two significant digits (a limit the user can type)."""
    digits = 1 - math.floor(math.log10(scale))
    return f"{math.floor(scale * 10 ** digits) / 10 ** digits:g}"


def _sector_registry(sector: pd.Series, benchmarks: pd.DataFrame, rng: np.random.Generator,
                     scale: float, seed: int) -> pd.DataFrame:
    count = max(1, int(round(float(sector["entities"]) * scale)))
    size = rng.lognormal(0.0, SIZE_SIGMA, count)
    unit_type, benchmark, type_share = _unit_types(sector["sector"], benchmarks, count, rng)
    intensity = benchmark * rng.lognormal(0.0, INTENSITY_SIGMA, count)
    has_output = pd.notna(sector["base_output"])
    # within each unit type, output shares follow size; across types, the declared output shares
    type_total = pd.Series(size).groupby(unit_type).transform("sum").to_numpy()
    output_share = size / type_total * type_share
    output_share /= output_share.sum()
    emissions = output_share * intensity
    emissions *= float(sector["base_emissions_mt"]) / emissions.sum()
    regions = rng.choice(list(REGIONS), size=count, p=np.array(list(REGIONS.values())) / sum(REGIONS.values()))
    cost_factor = rng.choice(list(COST_CLASSES), size=count, p=list(COST_CLASSES.values()))
    name = sector["sector"]
    return pd.DataFrame({
        "facility_id": [f"{name}-{i:05d}" for i in range(1, count + 1)],
        "sector": name,
        "output": output_share * float(sector["base_output"]) if has_output else np.nan,
        "emissions_mt": emissions,
        "region": regions,
        "unit_type": unit_type,
        "cost_factor": cost_factor,
        "source": f"synthetic (make_registry seed {seed}), calibrated to sectors.csv totals",
    })


def _unit_types(sector: str, benchmarks: pd.DataFrame, count: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each installation's unit type, its benchmark (1 where none) and its type's output share."""
    types = benchmarks[benchmarks["sector"] == sector]
    if types.empty:
        return np.full(count, ""), np.ones(count), np.ones(count)
    declared = types["output_share"].to_numpy(dtype=float, na_value=np.nan)
    share = np.where(np.isnan(declared), 1.0, declared)
    share = share / share.sum()
    chosen = rng.choice(len(types), size=count, p=share)
    chosen[: len(types)] = np.arange(min(len(types), count))  # every type present if there is room
    present = np.bincount(chosen, minlength=len(types)) > 0
    used_share = np.where(present, share, 0.0) / share[present].sum()
    return (types["unit_type"].to_numpy()[chosen], types["benchmark_t_per_unit"].to_numpy(dtype=float)[chosen],
            used_share[chosen])
