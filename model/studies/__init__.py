"""Many solves: sweeps and Monte Carlo on Dask, designs planned then realised, comparisons,
what sets the price at the margin, and the back-test against observed prices.

``from model.studies import NAME`` (the path before ``studies.py`` became ``model.studies.study``)
still works: a name that is no submodule is looked up in ``study`` on first use, so importing
the package stays light."""

from __future__ import annotations

from ..lazy import forwarded_names

__getattr__ = forwarded_names(__name__, __file__, "study")
