"""What people read: plots, the HTML report and workbook, and the notebook views of results.

``from model.report import NAME`` (the path before ``report.py`` became ``model.report.plots``)
still works: a name that is no submodule is looked up in ``plots`` on first use, so importing
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
    return getattr(importlib.import_module(".plots", __name__), name)
