"""Modules imported on first use, so that ``--help``, reading results and plotting do not
pay for Pyomo or HiGHS (together about half a second) when they never touch them."""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class LazyModule(types.ModuleType):
    """Stands for the module ``name`` and imports it on the first attribute access."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy_module(name: str) -> Any:
    """The module ``name`` if it is imported already, else a stand-in that imports it when used."""
    return sys.modules.get(name) or LazyModule(name)


def is_pyomo_model(value: Any) -> bool:
    """Whether ``value`` is a Pyomo ConcreteModel, without importing Pyomo (if Pyomo was never
    imported, no Pyomo model can exist)."""
    environ = sys.modules.get("pyomo.environ")
    return environ is not None and isinstance(value, environ.ConcreteModel)
