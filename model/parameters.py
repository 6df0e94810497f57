"""The LP's numbers by sector, step and year, derived in bulk from a validated dataset.

Business-as-usual (BAU) emissions grow with output and intensity from the base year;
each cost step offers a share of BAU at a cost that changes yearly (learning); each
sector is outside the ETS, in its simulation phase, or trading in a given year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema
from .errors import InputError, Problem
from .inputs import Dataset, interpolate_by_year

OUTSIDE, SIMULATION, TRADING = "outside", "simulation", "trading"
PHASES = (OUTSIDE, SIMULATION, TRADING)


@dataclass(frozen=True)
class Parameters:
    """Everything the formulation needs, as tidy tables keyed by sector, step and year."""

    dataset: Dataset
    years: np.ndarray  # int, first_year .. last_year
    discount_factor: pd.Series  # by year: (1 + r)^-(t - first_year)
    sector_years: pd.DataFrame  # index (sector, year): phase, bau_mt, rule_cap_mt
    steps: pd.DataFrame  # index (sector, step, year): potential_mt, cost_cny_per_t
    targets: pd.DataFrame  # index year: national_cap_mt, ets_cap_mt (NaN: chosen), min_auction_share
    banking: bool
    initial_bank_mt: float
    absolute_cap_from: int | None  # from this year caps of trading sectors may not rise

    @property
    def first_year(self) -> int:
        return int(self.years[0])

    @property
    def market_years(self) -> np.ndarray:
        """Years with an allowance market: any sector trading, or every year with banking."""
        if self.banking:
            return self.years
        return self.years[np.isin(self.years, self.trading_years())]

    def covered_index(self) -> pd.MultiIndex:
        """(sector, year) pairs the ETS covers, sector by sector: the order of sector caps."""
        return self.sector_years.index[self.sector_years["phase"].to_numpy() != OUTSIDE]

    def simulation_index(self) -> pd.MultiIndex:
        """(sector, year) pairs in the simulation phase."""
        return self.sector_years.index[self.sector_years["phase"].to_numpy() == SIMULATION]

    def trading_years(self) -> np.ndarray:
        """Years in which at least one sector trades."""
        phase = self.sector_years["phase"]
        return np.unique(phase.index[phase.to_numpy() == TRADING].get_level_values("year")).astype(int)

    def step_years(self) -> np.ndarray:
        return self.steps.index.get_level_values("year").to_numpy()

    def step_sector_years(self) -> pd.MultiIndex:
        """The (sector, year) of every step row."""
        return pd.MultiIndex.from_arrays(
            [self.steps.index.get_level_values("sector"), self.steps.index.get_level_values("year")],
            names=["sector", "year"],
        )

    def step_phase(self) -> np.ndarray:
        """The phase of each step's sector in the step's year."""
        return self.sector_years["phase"].reindex(self.step_sector_years()).to_numpy()



def derive_parameters(dataset: Dataset) -> Parameters:
    """BAU, phases, step potentials and costs, and yearly targets for every model year."""
    settings = dataset.settings
    years = np.arange(settings["first_year"], settings["last_year"] + 1)
    rate = settings["discount_rate"]
    discount_factor = pd.Series(
        (1.0 + rate) ** -(years - years[0]).astype(float), index=pd.Index(years, name="year")
    )
    sector_years = _sector_years(dataset, years)
    return Parameters(
        dataset=dataset,
        years=years,
        discount_factor=discount_factor,
        sector_years=sector_years,
        steps=_steps(dataset, years, sector_years["bau_mt"]),
        targets=_targets(dataset, years),
        banking=bool(settings["market.banking"]),
        initial_bank_mt=float(settings["market.initial_bank_mt"]),
        absolute_cap_from=settings["allocation.absolute_cap_from"],
    )


def _sector_years(dataset: Dataset, years: np.ndarray) -> pd.DataFrame:
    sectors = dataset.sectors.set_index("sector")
    base_year = dataset.settings["base_year"]
    index = pd.MultiIndex.from_product([sectors.index, years], names=["sector", "year"])
    table = sectors.reindex(index.get_level_values("sector"))
    table.index = index
    elapsed = index.get_level_values("year").to_numpy() - base_year
    yearly_factor = (1.0 + table["output_growth"]) * (1.0 + table["intensity_change"])
    bau = table["base_emissions_mt"] * yearly_factor.pow(elapsed)
    year = index.get_level_values("year").to_numpy()
    covered_from = table["covered_from"].to_numpy(dtype=float, na_value=np.inf)
    trading_from = table["trading_from"].to_numpy(dtype=float, na_value=np.nan)
    trading_from = np.where(np.isnan(trading_from), covered_from, trading_from)
    phase = np.where(year < covered_from, OUTSIDE, np.where(year < trading_from, SIMULATION, TRADING))
    rule_cap = np.where(phase == SIMULATION, (1.0 - table["simulation_reduction"]) * bau, np.nan)
    output = table["base_output"].astype(float) * (1.0 + table["output_growth"]).pow(elapsed)
    free_share_min, free_share_max = _free_share_bounds(dataset, table)
    table = pd.DataFrame(
        {
            "phase": phase,
            "bau_mt": bau.to_numpy(dtype=float),
            "rule_cap_mt": rule_cap,
            "output": output.to_numpy(dtype=float),
            "value_added_bn_cny": table["value_added_bn_cny"].to_numpy(dtype=float),
            "free_share_min": free_share_min,
            "free_share_max": free_share_max,
        },
        index=index,
    )
    table["cap_share"] = _cap_shares(table, trading_from, dataset.settings["allocation.absolute_cap_from"])
    return table


def _cap_shares(table: pd.DataFrame, trading_from: np.ndarray, absolute_cap_from: int | None) -> np.ndarray:
    """Each trading sector's share of the trading sectors' caps: in proportion to BAU
    emissions of the year (intensity x output, one stringency for all) before absolute
    caps; from absolute_cap_from, in proportion to BAU of the year the sector's absolute
    cap starts (shares frozen, so no cap rises while the total does not)."""
    year = table.index.get_level_values("year").to_numpy()
    sector = table.index.get_level_values("sector")
    start = np.inf if absolute_cap_from is None else absolute_cap_from
    entry = np.where(np.isfinite(trading_from), np.maximum(start, trading_from), year)
    reference_year = np.where(year < start, year, entry)
    reference_year = np.maximum(reference_year, year.min()).astype(int)  # horizon may start later
    reference_bau = table["bau_mt"].reindex(pd.MultiIndex.from_arrays([sector, reference_year])).to_numpy()
    trading = table["phase"].to_numpy() == TRADING
    weight = pd.Series(np.where(trading, reference_bau, 0.0), index=table.index)
    by_year = weight.groupby(level="year")
    total = by_year.transform("sum").to_numpy()
    share = np.divide(weight.to_numpy(), total, out=np.zeros(len(weight)), where=total > 0)
    # zero BAU everywhere in a year: split equally rather than divide by zero
    trading_count = pd.Series(trading, index=table.index).groupby(level="year").transform("sum").to_numpy()
    share = np.where(total > 0, share, 1.0 / np.maximum(trading_count, 1))
    return np.where(trading, share, np.nan)


def _free_share_bounds(dataset: Dataset, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Free-share bounds by sector-year: sectors.csv, replaced by allocation.csv's schedule
    from its first year on (interpolated, then held); leakage-exposed sectors keep their floor."""
    bounds = table[["free_share_min", "free_share_max"]].astype(float).copy()
    years = table.index.get_level_values("year").to_numpy()
    for sector, schedule in dataset.allocation.groupby("sector", sort=False):
        rows = (table.index.get_level_values("sector") == sector) & (years >= schedule["year"].min())
        held = np.minimum(years[rows], schedule["year"].max())
        for column in ("free_share_min", "free_share_max"):
            bounds.loc[rows, column] = interpolate_by_year(schedule, column, held).to_numpy()
    floor = np.where(table["leakage_exposed"].to_numpy(dtype=bool), table["free_share_min"].to_numpy(float), 0.0)
    free_share_min = np.maximum(bounds["free_share_min"].to_numpy(), floor)
    below_floor = bounds["free_share_max"].to_numpy() < free_share_min - 1e-12
    if below_floor.any():
        sector, year = table.index[below_floor][0]
        raise InputError(Problem(
            schema.ALLOCATION.file, None, "free_share_max",
            f"{bounds['free_share_max'].to_numpy()[below_floor][0]:g} for {sector} in {year}",
            f"at least the leakage floor {free_share_min[below_floor][0]:g} (sectors.csv free_share_min "
            f"of a leakage-exposed sector), or leakage_exposed = false",
        ))
    return free_share_min, bounds["free_share_max"].to_numpy()


def _steps(dataset: Dataset, years: np.ndarray, bau_mt: pd.Series) -> pd.DataFrame:
    """Every (sector, step, year) whose step is available; zero-potential steps are kept
    so that a change of a number never changes the LP's columns."""
    mac = dataset.mac
    base_year = dataset.settings["base_year"]
    grid = mac.loc[mac.index.repeat(len(years))].reset_index(drop=True)
    grid["year"] = np.tile(years, len(mac))
    available = grid["available_from"].to_numpy(dtype=float, na_value=-np.inf)
    grid = grid[grid["year"].to_numpy() >= available]
    bau = bau_mt.reindex(pd.MultiIndex.from_arrays([grid["sector"], grid["year"]])).to_numpy()
    elapsed = (grid["year"] - base_year).to_numpy(dtype=float)
    steps = pd.DataFrame(
        {
            "potential_mt": grid["potential_share"].to_numpy() * bau,
            "cost_cny_per_t": grid["cost_cny_per_t"].to_numpy()
            * (1.0 + grid["cost_change"].to_numpy()) ** elapsed,
        },
        index=pd.MultiIndex.from_arrays(
            [grid["sector"], grid["step"], grid["year"]], names=["sector", "step", "year"]
        ),
    )
    return steps


def _targets(dataset: Dataset, years: np.ndarray) -> pd.DataFrame:
    targets = dataset.targets
    return pd.DataFrame(
        {
            "national_cap_mt": interpolate_by_year(targets, "national_cap_mt", years),
            "ets_cap_mt": interpolate_by_year(targets, "ets_cap_mt", years),
            "min_auction_share": interpolate_by_year(targets, "min_auction_share", years),
        }
    )
