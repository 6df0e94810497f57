"""What people read: plots, the HTML report and workbook (a Results' notebook views are in
``model.results.notebook``).

``from model.report import NAME`` (the path before ``report.py`` became ``model.report.plots``)
still works: a name that is no submodule is looked up in ``plots`` on first use, so importing
the package stays light."""

from __future__ import annotations

from ..lazy import forwarded_names

__getattr__ = forwarded_names(__name__, __file__, "plots")
