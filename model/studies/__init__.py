"""Many solves: sweeps and Monte Carlo on Dask, designs planned then realised, comparisons,
what sets the price at the margin, and the back-test against observed prices.

``from model.studies import NAME`` (the path before ``studies.py`` became ``model.studies.study``)
still works: a name that is no submodule is looked up in ``study`` on first use, so importing
the package stays light."""

from __future__ import annotations

import importlib
import os
from typing import Any


def __getattr__(name: str) -> Any:
    here = os.path.dirname(__file__)
    if name.startswith("__") or os.path.exists(os.path.join(here, name + ".py")) or \
            os.path.isdir(os.path.join(here, name)):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # a submodule: imported
    return getattr(importlib.import_module(".study", __name__), name)
